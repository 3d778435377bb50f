"""The site's vocabulary as data: crawler/data/boilerplate.json, compiled once per process.

Footer and masthead anchors, residue lines and title residue (for crawler/normalise/boilerplate.py),
and the names that are not names, pseudonyms and agencies (for crawler/normalise/bylines.py).
Patterns are matched against text with one tone-mark placement (`normalise_tone`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from crawler.normalise.keys import loose_key, normalise_tone

# --- Boilerplate data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Anchor:
    name: str
    kind: str  # "strong" | "masthead" | "contact"
    pattern: re.Pattern[str]
    value: str | None = None


@dataclass(frozen=True)
class Boilerplate:
    """Compiled crawler/data/boilerplate.json."""

    anchors: tuple[_Anchor, ...]
    residue: tuple[tuple[str, re.Pattern[str]], ...]
    title_residue: tuple[re.Pattern[str], ...]
    window: int
    min_anchors: int
    max_gap: int
    pseudonyms: dict[str, str]
    agencies: dict[str, str]
    not_names: frozenset[str]
    # One pattern that fullmatches a line exactly when one of the anchors' (the residue's)
    # does: most lines are prose that none matches, told in one call instead of one a pattern.
    # None when the patterns cannot be joined (a back-reference).
    any_anchor: re.Pattern[str] | None = None
    any_residue: re.Pattern[str] | None = None


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(normalise_tone(pattern), re.IGNORECASE)


def _any_of(patterns: list[re.Pattern[str]]) -> re.Pattern[str] | None:
    """Return the alternation of compiled patterns (their group names dropped), or None."""
    sources = [p.pattern for p in patterns]
    if not sources or any("(?P=" in s or re.search(r"\\\d", s) for s in sources):
        return None
    joined = "|".join(f"(?:{re.sub(r'[(][?]P<[^>]+>', '(?:', s)})" for s in sources)
    return re.compile(joined, re.IGNORECASE)


@cache
def load_boilerplate() -> Boilerplate:
    """Load and compile crawler/data/boilerplate.json once per process."""
    raw: dict[str, Any] = json.loads(
        resources.files("crawler").joinpath("data/boilerplate.json").read_text(encoding="utf-8")
    )
    footer = raw["footer"]
    anchors = tuple(_Anchor(a["name"], a["kind"], _compile(a["pattern"]), a.get("value"))
                    for a in footer["anchors"])
    residue = tuple((r["name"], _compile(r["pattern"])) for r in raw["residue"])
    return Boilerplate(
        anchors=anchors,
        residue=residue,
        any_anchor=_any_of([a.pattern for a in anchors]),
        any_residue=_any_of([p for _, p in residue]),
        title_residue=tuple(_compile(p) for p in raw.get("title_residue", [])),
        window=int(footer["window"]),
        min_anchors=int(footer["min_anchors"]),
        max_gap=int(footer["max_gap"]),
        pseudonyms={loose_key(k): v for k, v in raw.get("pseudonyms", {}).items()},
        agencies={loose_key(a): a for a in raw.get("agencies", [])},
        not_names=frozenset(loose_key(n) for n in raw.get("not_names", [])),
    )
