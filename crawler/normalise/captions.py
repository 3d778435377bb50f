"""Captions: the CaptionPipeline's job (pipelines/captions.py).

Each photo's caption appears twice in a page's text (the image's alt/title and the visible
caption), and the CMS sometimes reuses one image's alt on the next: one caption per photo is
kept, and copies of any caption are removed from the body.
"""

from __future__ import annotations

from typing import Any

from crawler.normalise.keys import fold, longest_similar, similar, similar_keys
from crawler.normalise.text import clean_line, join_paragraphs, split_paragraphs

__all__ = ["dedupe_captions"]

# --- Captions -----------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    value = clean_line(value) if isinstance(value, str) else None
    return value or None


def dedupe_captions(
    images: list[dict[str, Any]], body: str, *, lead: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Give each image one caption and remove caption copies from `body`.

    The visible caption wins over the alt; an alt repeating the previous image's caption or alt
    is the CMS reusing it and is ignored. Images with the same URL are merged; images with
    neither URL nor caption are dropped. Every body paragraph or line similar to any caption or
    alt is removed, except paragraphs similar to `lead` (the body starts with the lead).
    Returns ([{"url", "caption"}, ...], body)."""
    merged: list[dict[str, Any]] = []
    by_url: dict[str, dict[str, Any]] = {}
    for image in images or []:
        url = image.get("url") or None
        entry = {"url": url, "caption": _text(image.get("caption")), "alt": _text(image.get("alt"))}
        if url is not None and url in by_url:
            kept = by_url[url]
            kept["caption"] = kept["caption"] or entry["caption"]
            kept["alt"] = kept["alt"] or entry["alt"]
            continue
        if url is not None:
            by_url[url] = entry
        merged.append(entry)

    copies: list[str] = []
    out: list[dict[str, Any]] = []
    previous: list[str] = []
    for entry in merged:
        caption, alt = entry["caption"], entry["alt"]
        copies += [t for t in (caption, alt) if t]
        if alt and any(similar(alt, p) for p in previous):
            alt = None
        previous = [t for t in (entry["caption"], entry["alt"]) if t]
        final = caption or alt
        if entry["url"] is None and final is None:
            continue
        out.append({"url": entry["url"], "caption": final})

    return out, _remove_copies(body, copies, lead)


def _remove_copies(body: str, copies: list[str], lead: str | None) -> str:
    if not body or not copies:
        return body
    keys = list(dict.fromkeys(k for k in map(fold, copies) if k))
    longest = max(map(longest_similar, copies))

    def is_copy(text: str) -> bool:
        if len(text) > longest:  # longer than any caption's copy can be: not folded
            return False
        key = fold(text)
        return any(similar_keys(key, k) for k in keys)

    paragraphs = split_paragraphs(body)
    kept: list[list[str]] = []
    for pi, paragraph in enumerate(paragraphs):
        if lead and pi == 0 and similar(" ".join(paragraph), lead):
            kept.append(paragraph)
            continue
        if is_copy(" ".join(paragraph)):
            continue
        # A paragraph of one line was that line: not asked twice.
        kept.append(paragraph if len(paragraph) == 1 else
                    [line for line in paragraph if not is_copy(line)])
    return join_paragraphs(kept)
