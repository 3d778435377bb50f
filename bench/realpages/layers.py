"""Would trafilatura do better as a layer or a voter? ``python -m bench.realpages.layers``.

The measurement behind keeping trafilatura out of the crawl (docs/design.md, "Dependencies").
Each variant runs the real pages through our whole path (``item_from_response`` and every
pipeline) with the heuristic layer's paragraphs replaced in-process, for this measurement only:
- ``ours``: our heuristic, as the crawl runs it;
- ``trafilatura``: trafilatura's text (``include_comments=False``, fast mode) as the body;
- ``trafilatura-default``: the same without fast mode;
- ``intersection``: our paragraphs that trafilatura's text also holds (a voter for precision);
- ``union``: ours, then trafilatura's paragraphs we lack (a voter for recall);
- ``fallback``: trafilatura's text where ours is less than half as long.
Prints body F1, precision, recall and the mean time per page of each variant.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from typing import Any

import crawler.extract.article as article
from bench.realpages import run as realpages

_WORD = re.compile(r"\w+")
VARIANTS = ("ours", "trafilatura", "trafilatura-default", "intersection", "union", "fallback")


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _combine(variant: str, ours: list[str], theirs: str) -> list[str]:
    paragraphs = [p for p in theirs.split("\n") if p.strip()]
    if variant.startswith("trafilatura"):
        return paragraphs
    if variant == "intersection":
        words = _words(theirs)
        return [p for p in ours if _words(p) in words]
    if variant == "union":
        words = _words(" ".join(ours))
        return ours + [p for p in paragraphs if _words(p) not in words]
    if variant == "fallback":
        return paragraphs if sum(map(len, ours)) < 0.5 * len(theirs) else ours
    return ours


def measure_variant(variant: str, pages: list[realpages.RealPage]) -> dict[str, Any]:
    """Score one variant on the pages (our path, the heuristic's paragraphs replaced)."""
    import trafilatura

    original_blocks: Callable = article.body_blocks
    current: dict[str, realpages.RealPage] = {}

    def body_blocks(containers: Any, url: str, junk: Any = None) -> tuple[list, list]:
        paragraphs, images = original_blocks(containers, url, junk)
        if junk is None or variant == "ours":  # a site template, or our own heuristic
            return paragraphs, images
        page = current["page"]
        theirs = trafilatura.extract(page.html, url=page.url, include_comments=False,
                                     fast=variant != "trafilatura-default") or ""
        return _combine(variant, paragraphs, theirs), images

    original_ours = realpages.ours

    def ours(processor: Any, page: realpages.RealPage) -> realpages.Outcome:
        current["page"] = page
        return original_ours(processor, page)

    article.body_blocks, realpages.ours = body_blocks, ours
    try:
        result = realpages.measure(pages, with_reference=False, n_bootstrap=100)["ours"]
    finally:
        article.body_blocks, realpages.ours = original_blocks, original_ours
    return result


def main() -> int:
    """Print each variant's figures."""
    logging.basicConfig(level=logging.ERROR)
    pages = realpages.load_pages()
    print("| variant | body F1 | precision | recall | ms/page mean |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for variant in VARIANTS:
        r = measure_variant(variant, pages)
        print(f"| {variant} | {r['f1']:.4f} | {r['precision']:.3f} | {r['recall']:.3f} | "
              f"{r['ms_mean']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
