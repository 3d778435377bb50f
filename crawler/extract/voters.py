"""Voters of the generic layers: readability-lxml and trafilatura, and a whole-body election.

``ask`` gives each voter's text for a page no site template matched; crawler/extract/ensemble.py
votes on it paragraph by paragraph (the extractor's generic path). ``elect`` is the rule that
came before, kept as the ensemble's measured alternative (``Rules.method = "elect"``, asked
when ours is under ``ASK_BELOW_CHARS``): each candidate body (ours and each voter's) is split
into lines; a line counts as agreed when at least two of the three hold its words in order. The
candidate with the most agreed text (less half its unagreed text) wins, ours on a tie; a
voter's body is taken only when at least ``MIN_AGREED_CHARS`` of it is agreed, so that one
extractor's boilerplate (a listing's teasers, a gallery's captions) never becomes a body alone.
Measured on the development sets (bench/README.md, "Development sets"): docs/design.md,
"Dependencies".
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable

from crawler.extract.html import element_text, parse_html

logger = logging.getLogger(__name__)

# Below this many characters of body the election asks the voters (Rules.when = "short").
ASK_BELOW_CHARS = 500
# A voter's body must share this much text with another candidate to be taken.
MIN_AGREED_CHARS = 200
# Unagreed text counts against a candidate at this weight.
LONE_WEIGHT = 0.5
READABILITY, TRAFILATURA = "readability", "trafilatura"
# A line this long, or ending a sentence, is prose, not a credit or label line (the extractor's
# rules); a line both this long and ending a sentence is a voter's prose.
PROSE_CHARS = 80
SENTENCE_END = re.compile(r"[.!?。]['\"”’»)]*\s*$")
# A voter alone (ours found too little, and no two agreed) gives the body only when this much of
# its text is prose: lines (a table's cells) of ``PROSE_CHARS`` or more that end a sentence.
LONE_PROSE_CHARS = 400
_WORD = re.compile(r"\w+")


def words_of(text: str) -> str:
    """Return the words of a text, case-folded and single-spaced: a key for containment."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFC", text).casefold()))


def readability_body(html: str) -> str:
    """Return readability-lxml's article text, a line per block ("" when it finds none)."""
    from readability import Document

    summary = Document(html).summary(html_partial=True)
    return element_text(parse_html(summary)) if summary.strip() else ""


def trafilatura_body(html: str, url: str | None = None) -> str:
    """Return trafilatura's main text, comments off ("" when it finds none)."""
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False) or ""


VOTERS: dict[str, Callable[[str, str | None], str]] = {
    READABILITY: lambda html, url: readability_body(html),
    TRAFILATURA: trafilatura_body,
}


def ask(html: str, url: str | None = None) -> dict[str, str]:
    """Return each voter's body for a page; a voter that fails gives "" (and is logged)."""
    bodies = {}
    for name, voter in VOTERS.items():
        try:
            bodies[name] = voter(html, url)
        except Exception as exc:  # noqa: BLE001 - a voter's failure only loses its vote
            logger.debug("voter %s failed on %s: %s: %s", name, url, type(exc).__name__, exc)
            bodies[name] = ""
    return bodies


def elect(ours: list[str], bodies: dict[str, str]) -> tuple[str, list[str], list[str]]:
    """Return (who won, its paragraphs, who agreed with it) among ours ("heuristic") and the
    voters' bodies, by agreed text; ours when no voter's body has enough agreed text."""
    candidates = {"heuristic": ours}
    candidates.update({name: [line.strip() for line in text.split("\n") if line.strip()]
                       for name, text in bodies.items()})
    joined = {name: words_of(" ".join(lines)) for name, lines in candidates.items()}

    def holders(line: str) -> list[str]:
        key = words_of(line)
        return [name for name, text in joined.items() if key and key in text]

    tallies = {}
    for name, lines in candidates.items():
        agreed = lone = 0
        for line in lines:
            if len(holders(line)) >= 2:
                agreed += len(line)
            else:
                lone += len(line)
        tallies[name] = (agreed, agreed - LONE_WEIGHT * lone + (1 if name == "heuristic" else 0))
    winner = max(tallies, key=lambda name: tallies[name][1])
    if winner != "heuristic" and tallies[winner][0] < MIN_AGREED_CHARS:
        winner = "heuristic"
    lines = candidates[winner]
    agreed_with = sorted({who for line in lines for who in holders(line)} - {winner})
    return winner, lines, agreed_with


def lone_body(bodies: dict[str, str]) -> tuple[str, list[str]] | None:
    """Return (voter, its lines) for the voter with the most prose, from its first prose line to
    its last, when that is ``LONE_PROSE_CHARS`` or more; else None.

    The last resort of a page whose text ours could not find and the voters did not agree on (a
    page of plain paragraphs one voter reads whole): a few hundred characters of sentences are an
    article's, where a voter's menus, tables of links and one-line notices are not."""
    best: tuple[int, str, list[str]] | None = None
    for name, text in sorted(bodies.items()):
        # A table's row is a line of cells between bars: each cell is a line here.
        lines = [" ".join(cell.split()) for line in text.split("\n")
                 for cell in line.split("|") if cell.strip()]
        prose = [i for i, line in enumerate(lines) if len(line) >= PROSE_CHARS
                 and SENTENCE_END.search(line)]
        chars = sum(len(lines[i]) for i in prose)
        if chars >= LONE_PROSE_CHARS and (best is None or chars > best[0]):
            best = (chars, name, lines[prose[0]:prose[-1] + 1])
    return (best[1], best[2]) if best else None
