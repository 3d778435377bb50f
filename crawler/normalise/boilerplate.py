"""Boilerplate stripping: the BoilerplatePipeline's job (pipelines/boilerplate.py).

Cuts the masthead/footer run near the end of a text and drops strong label lines and residue
anywhere. What counts as boilerplate is data (crawler/data/boilerplate.json, compiled by
crawler/normalise/lexicon.py), anchored on the structure of the lines, never on editors' names.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.normalise.bylines import is_name_list
from crawler.normalise.keys import normalise_tone
from crawler.normalise.lexicon import Boilerplate, _Anchor, load_boilerplate
from crawler.normalise.text import flat_lines, join_paragraphs

__all__ = ["Stripped", "strip_boilerplate", "strip_boilerplate_detailed"]

# --- Boilerplate stripping ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stripped:
    """What strip_boilerplate_detailed did: the text left, every line removed, the footer cut."""

    text: str
    removed: list[str]
    footer: list[str]


def _anchor(line: str, bp: Boilerplate) -> _Anchor | None:
    key = normalise_tone(line.strip())
    if bp.any_anchor is not None and bp.any_anchor.fullmatch(key) is None:
        return None
    for anchor in bp.anchors:
        m = anchor.pattern.fullmatch(key)
        if m is None:
            continue
        if anchor.value == "names" and not is_name_list(m["value"]):
            continue
        return anchor
    return None


def _is_residue(line: str, bp: Boilerplate) -> bool:
    key = normalise_tone(line.strip())
    if bp.any_residue is not None:
        return bp.any_residue.fullmatch(key) is not None
    return any(p.fullmatch(key) for _, p in bp.residue)


def _footer_start(anchors: list[_Anchor | None], bp: Boilerplate) -> int | None:
    """Index of the first line of the footer run, or None."""
    n = len(anchors)
    runs: list[list[int]] = []
    for i, a in enumerate(anchors):
        if a is None:
            continue
        if runs and i - runs[-1][-1] - 1 <= bp.max_gap:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        if run[0] < n - bp.window or len(run) < bp.min_anchors:
            continue
        if all(anchors[i].kind == "contact" for i in run):  # type: ignore[union-attr]
            continue
        return run[0]
    return None


def strip_boilerplate_detailed(text: str) -> Stripped:
    """Cut the masthead/footer run near the end, drop strong label lines and residue anywhere."""
    bp = load_boilerplate()
    paragraphs, flat = flat_lines(text)
    anchors = [_anchor(paragraphs[pi][li], bp) for pi, li in flat]
    start = _footer_start(anchors, bp)
    removed: list[str] = []
    footer: list[str] = []
    for k, (pi, li) in enumerate(flat):
        line = paragraphs[pi][li]
        if start is not None and k >= start:
            footer.append(line)
        elif (anchors[k] is not None and anchors[k].kind == "strong") or _is_residue(line, bp):
            removed.append(line)
        else:
            continue
        paragraphs[pi][li] = ""
    # Footer lines are listed where they stood: after any residue removed above them.
    return Stripped(join_paragraphs(paragraphs), removed + footer, footer)


def strip_boilerplate(text: str) -> tuple[str, list[str]]:
    """Return (text without masthead/footer and residue lines, the lines removed)."""
    result = strip_boilerplate_detailed(text)
    return result.text, result.removed
