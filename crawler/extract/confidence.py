"""How sure an article's extraction is: a confidence in [0, 1] and who agreed on the body.

A body given by a site template is as sure as extraction gets (the selectors are the site's own
markup). A body the generic layers found is judged by what else on the page agrees with it: the
site's own JSON-LD ``articleBody`` or its description holding the same words, the body's length
(a few sentences are easily the wrong block), and whether the page had a headline of its own. A
record below ``UNCERTAIN_BELOW`` is flagged ``uncertain``, never dropped: the run report counts
those records and the coverage alarm watches the count.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

UNCERTAIN_BELOW = 0.5
# Starting points by the layer that gave the body.
# A text dump holds the article's own text only, in a known order of blocks.
BASE = {"site": 1.0, "text-dump": 0.8, "metadata": 0.55, "heuristic": 0.45,
        "readability": 0.45, "trafilatura": 0.45}
# What each agreeing signal adds, and what a body this long is worth at most.
AGREES_BODY, AGREES_DESCRIPTION, LENGTH_WEIGHT, FULL_LENGTH_CHARS = 0.35, 0.2, 0.2, 2000
NO_HEADLINE = 0.15
# What each voter holding the body's text adds (crawler/extract/voters.py).
AGREES_VOTER = 0.15
# The best container held too little and an ancestor was taken instead.
WIDENED = 0.1
# Share of a text's words the body must hold for that text to agree with it.
BODY_SHARE, DESCRIPTION_SHARE = 0.6, 0.8
_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(unicodedata.normalize("NFC", text).casefold()))


def _holds(body: set[str], text: str | None, share: float) -> bool:
    words = _words(text or "")
    return bool(words) and len(words & body) >= share * len(words)


def assess(body_layer: str, paragraphs: list[str], *, meta_body: str | None = None,
           description: str | None = None, headline: bool = True, widened: bool = False,
           voters: list[str] | None = None,
           confirming: list[str] | None = None, alone: bool = False) -> dict[str, Any]:
    """Return the record's ``extraction``: confidence, uncertain, and the layers that agreed.

    ``voters`` are named in ``agreed`` (those that hold the body or gave a line of it);
    ``confirming``, when given, are the ones among them that hold enough of it to raise the
    confidence (by default all of ``voters``). ``alone``: one voter's body that nothing else
    held (the last resort before no body): uncertain whatever else it has."""
    if body_layer == "site":
        return {"confidence": 1.0, "uncertain": False, "agreed": ["site"]}
    agreed = [body_layer, *(voters or [])]
    confirmed = voters if confirming is None else [v for v in confirming if v in (voters or [])]
    score = BASE.get(body_layer, BASE["heuristic"]) + AGREES_VOTER * len(confirmed or [])
    body = _words(" ".join(paragraphs))
    if "metadata" in agreed:
        pass  # a body from the metadata cannot also be confirmed by the metadata
    elif meta_body and _holds(body, meta_body, BODY_SHARE):
        agreed.append("metadata")
        score += AGREES_BODY
    elif description and _holds(body, description, DESCRIPTION_SHARE):
        agreed.append("metadata")
        score += AGREES_DESCRIPTION
    score += LENGTH_WEIGHT * min(sum(map(len, paragraphs)) / FULL_LENGTH_CHARS, 1.0)
    if not headline:
        score -= NO_HEADLINE
    if widened:
        score -= WIDENED
    if alone:
        score = min(score, UNCERTAIN_BELOW - 0.1)
    score = round(min(max(score, 0.0), 1.0), 2)
    return {"confidence": score, "uncertain": score < UNCERTAIN_BELOW, "agreed": agreed}
