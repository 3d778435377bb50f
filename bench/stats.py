"""Small statistics helpers of the benchmark: percentiles, ratios and token-overlap F1."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

_TOKEN = re.compile(r"\w+")


def percentile(values: Sequence[float], share: float) -> float:
    """Return the ``share`` (0..1) percentile of ``values`` by nearest rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float], scale: float) -> dict[str, float]:
    """Return the median and 95th percentile of ``values``, multiplied by ``scale``."""
    return {"median": percentile(values, 0.5) * scale, "p95": percentile(values, 0.95) * scale}


def ratio(ours: float | None, reference: float | None) -> float | None:
    """Return ours / reference, or None when either is missing or the reference is zero."""
    if ours is None or reference is None or reference == 0 or math.isnan(reference):
        return None
    return ours / reference


def tokens(text: str | None) -> Counter:
    """Return the multiset of lower-cased NFC word tokens of a text."""
    return Counter(_TOKEN.findall(unicodedata.normalize("NFC", text or "").lower()))


def token_f1(got: str | None, want: str | None) -> float:
    """Return the F1 of the token overlap between an extracted text and the true one."""
    got_tokens, want_tokens = tokens(got), tokens(want)
    overlap = sum((got_tokens & want_tokens).values())
    if not overlap:
        return 1.0 if not got_tokens and not want_tokens else 0.0
    precision = overlap / sum(got_tokens.values())
    recall = overlap / sum(want_tokens.values())
    return 2 * precision * recall / (precision + recall)
