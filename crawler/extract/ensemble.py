"""A block-level ensemble of the generic layers: ours and the voters vote on each paragraph.

Bevendorff et al. (SIGIR 2023, "An Empirical Comparison of Web Content Extraction Algorithms")
found that a majority vote of extractors over the page's text beats every single extractor on
eight data sets. Here the vote is over paragraphs: each candidate body (ours, the heuristic's
paragraphs; each voter's text, a line per block) is split into lines, and a line counts as held
by an extractor when most of its words stand in that extractor's text in the same order (word
n-grams, so that extractors that cut the text into lines differently still agree). A line is
kept when the weighted votes of the extractors holding it reach ``Rules.threshold``: ours weighs
``Rules.ours_weight`` (our precision is the best measured), each voter one. Lines only voters
hold are put in the voters' order, after the line they follow there; a line the page prints as
a photo's caption never enters the body (captions are the record's ``images``), nor as the rules
say one of the page's chrome (``chrome_texts``) or its links. Where our body
is short (``Rules.elect_below``), the election of crawler/extract/voters.py is held first: a
voter's whole body wins when two of the three agree on enough of it (there ours holds too little
to anchor a vote, and a voter's short lines, headings, would be refused one by one).
The rules were chosen among variants measured on the development sets
(``python -m bench.devsets.variants``, bench/README.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from crawler.extract.html import BULK_SHARE, NEVER_TEXT, element_text, is_chrome, text_size
from crawler.extract.voters import ASK_BELOW_CHARS
from crawler.normalise.keys import fold

HEURISTIC = "heuristic"


@dataclass(frozen=True)
class Rules:
    """The ensemble's settings (measured on the development sets: bench/README.md)."""

    # Word n-grams a line is matched by (a line shorter than this is matched whole).
    ngram: int = 4
    # Share of a line's words an extractor's text must hold, in order, to hold the line.
    hold: float = 0.5
    # Votes a line needs to be kept, what ours weighs, what each voter weighs.
    threshold: float = 2.0
    ours_weight: float = 2.0
    # With this set, ours weighs ``ours_weight`` only when our body's own confidence (before the
    # vote: crawler/extract/confidence.py) is at least this much, and one vote below it.
    confident_above: float | None = None
    # A voter with less text than this abstains: it holds nothing, and ours' lines are not
    # judged (a failed voter must not strip a body).
    min_voter_chars: int = 1
    # Keep a line only one voter holds when the lines before and after it in that voter's text
    # are both kept (a paragraph the others split oddly); never a caption.
    between: bool = False
    # When the voters are asked: "always" (every page no template matched), "short" (our body
    # under ``short_chars``), "uncertain" (our body's confidence under ``uncertain_below``).
    when: str = "always"
    short_chars: int = ASK_BELOW_CHARS
    uncertain_below: float = 0.7
    # "vote" (this module), or "elect" (crawler/extract/voters.py: one whole body wins).
    method: str = "vote"
    # With this set, when our body is under this many characters the election is held first
    # (a voter's whole body that two of three agree on is taken), and the vote only when ours
    # wins it.
    elect_below: int | None = ASK_BELOW_CHARS
    # A line only voters hold is refused when this share of its words is link text on the page
    # (a teaser, a "click here"), or (``veto_chrome``) page chrome's text; None: no such veto.
    veto_links: float | None = 0.9
    veto_chrome: bool = False
    # With this set, ours' lines after the last line a voter holds (a gallery, teasers, a shop
    # box after the article) leave the body when every voter gave a text and they are at most
    # this share of the body's characters.
    trim_tail: float | None = None


RULES = Rules()


@dataclass
class Voted:
    """The ensemble's body: its lines, and what each extractor did for it."""

    lines: list[str]
    # Kept lines each extractor held.
    held: Counter = field(default_factory=Counter)
    # Lines the voters added (ours did not hold them) and lines of ours the vote dropped.
    added: int = 0
    dropped: int = 0
    # The voters that hold a line added to ours.
    adders: set[str] = field(default_factory=set)

    def agreed(self, min_share: float = 0.5) -> list[str]:
        """Return the voters that agreed with the body, by name: those holding at least
        ``min_share`` of its lines, and those that gave a line of it."""
        if not self.lines:
            return []
        return sorted(name for name, n in self.held.items() if name != HEURISTIC and (
            n >= min_share * len(self.lines) or name in self.adders))

    def confirming(self, min_share: float = 0.5) -> list[str]:
        """Return the voters that hold at least ``min_share`` of the body's lines: only these
        confirm it (a voter that gave one line of its own and holds little else does not)."""
        return sorted(name for name, n in self.held.items()
                      if name != HEURISTIC and self.lines and n >= min_share * len(self.lines))


class _Text:
    """Extractor text as word n-grams, to ask whether it holds a line (lines may be added)."""

    def __init__(self, lines: Iterable[list[str]], n: int, *, span: bool = True) -> None:
        self.n = n
        self.span = span
        self.size = 0
        self.grams: set[tuple[str, ...]] = set()
        self.joined = " "
        self.tail: list[str] = []
        for line in lines:
            self.add(line)

    def add(self, words: list[str]) -> None:
        """Add a line's words after the text's (n-grams span the join when ``span``: a table
        row one extractor prints as a line, another as a line per cell)."""
        if not words:
            return
        n = self.n
        run = [*self.tail, *words] if self.span else words
        self.size += len(words)
        self.grams.update(tuple(run[i:i + n]) for i in range(len(run) - n + 1))
        self.joined += " ".join(words) + " "
        self.tail = run[-(n - 1):] if self.span and n > 1 else []

    def share(self, words: list[str]) -> float:
        """Return the share of ``words`` that this text holds in the same order."""
        if not words or not self.size:
            return 0.0
        n = self.n
        if len(words) < n:
            return 1.0 if f" {' '.join(words)} " in self.joined else 0.0
        covered = [False] * len(words)
        for i in range(len(words) - n + 1):
            if tuple(words[i:i + n]) in self.grams:
                covered[i:i + n] = [True] * n
        return sum(covered) / len(words)


class _Entry:
    """A line of the merged body, kept or not (a voter's line the vote refused still places
    the lines after it), with its place: ours' lines by index, a voter's line after the line it
    follows in that voter's text (a key that sorts right after that line's)."""

    __slots__ = ("holders", "kept", "line", "place", "words")

    def __init__(self, line: str, words: list[str], holders: set[str], kept: bool,
                 place: tuple[int, ...]) -> None:
        self.line, self.words, self.holders, self.kept = line, words, holders, kept
        self.place = place


def _clean_voter_line(line: str) -> str:
    """Return a voter's line without the marks of its plain-text rendering (list bullets, the
    bars around table cells)."""
    line = line.strip()
    if line.startswith(("- ", "* ", "• ")):
        line = line[2:].strip()
    if "|" in line and (line.startswith("|") or line.endswith("|")):
        line = " ".join(cell.strip() for cell in line.strip("| ").split("|") if cell.strip())
    return line


def vote(ours: list[str], bodies: dict[str, str], *, captions: Iterable[str] = (),
         links: Iterable[str] = (), chrome: Iterable[str] = (), confidence: float = 1.0,
         rules: Rules | None = None) -> Voted:
    """Return the paragraphs ours and the voters' ``bodies`` agree on, in the page's order.

    Ours' lines keep their order; a line only voters hold goes after the line it follows in
    the voter's text (voters in name order). ``captions``: texts the page prints as photo
    captions, never taken from a voter; ``links``, ``chrome``: the texts of the page's links and
    of its chrome (menus, related boxes), which veto a voter's line as ``rules`` say."""
    rules = rules or RULES
    n = rules.ngram
    voter_lines = {name: [cleaned for line in text.split("\n")
                          if (cleaned := _clean_voter_line(line))]
                   for name, text in sorted(bodies.items())}
    present = [name for name, text in sorted(bodies.items())
               if len(text.strip()) >= rules.min_voter_chars]
    keys = {HEURISTIC: [fold(line).split() for line in ours]}
    keys.update({name: [fold(line).split() for line in lines]
                 for name, lines in voter_lines.items()})
    texts = {name: _Text(keys[name], n) for name in [HEURISTIC, *present]}
    caption_text = _Text([fold(c).split() for c in captions if c], n, span=False)
    link_text = _Text([fold(t).split() for t in links if t], n, span=False) \
        if rules.veto_links is not None else None
    chrome_text = _Text([fold(t).split() for t in chrome if t], n, span=False) \
        if rules.veto_chrome else None

    def vetoed(words: list[str]) -> bool:
        # Never body: a photo's caption; as the rules say, link text and page chrome.
        return caption_text.share(words) >= rules.hold or (
            link_text is not None and link_text.share(words) >= rules.veto_links) or (
            chrome_text is not None and chrome_text.share(words) >= rules.hold)

    def holders(words: list[str], source: str) -> set[str]:
        return {source} | {name for name, text in texts.items()
                           if name != source and text.share(words) >= rules.hold}

    ours_weight = rules.ours_weight if rules.confident_above is None or \
        confidence >= rules.confident_above else 1.0

    def weight(names: set[str]) -> float:
        return sum(ours_weight if name == HEURISTIC else 1.0 for name in names)

    # Ours' lines are judged only when every voter gave a text.
    judged = bool(bodies) and len(present) == len(bodies)
    voted = Voted([])
    merged: list[_Entry] = []
    kept_text = _Text([], n)
    # Each n-gram of a merged line (kept or not): the first line it came from.
    grams: dict[tuple[str, ...], _Entry] = {}

    def remember(entry: _Entry) -> None:
        merged.append(entry)
        if entry.kept:
            kept_text.add(entry.words)
        words = entry.words
        for i in range(max(len(words) - n + 1, 1)):
            grams.setdefault(tuple(words[i:i + n]), entry)

    for index, (line, words) in enumerate(zip(ours, keys[HEURISTIC], strict=True)):
        names = holders(words, HEURISTIC)
        entry = _Entry(line, words, names, not judged or weight(names) >= rules.threshold,
                       (index,))
        voted.dropped += not entry.kept
        remember(entry)
    sequence = 0
    for rank, name in enumerate(present, start=1):
        after: tuple[int, ...] = (-1,)  # the place the voter's next new line goes after
        states: list[bool] = []  # each of the voter's lines: in the body (kept or a copy)
        pending: list[tuple[int, _Entry]] = []
        for line, words in zip(voter_lines[name], keys[name], strict=True):
            if not words:
                states.append(False)
                continue
            anchor = _anchor_of(words, grams, n)
            if anchor is not None:
                after = anchor.place
            if kept_text.share(words) >= rules.hold:
                states.append(True)  # a copy of a line in the body
                continue
            names = holders(words, name)
            refused = vetoed(words)
            sequence += 1
            entry = _Entry(line, words, names, not refused and weight(names) >= rules.threshold,
                           (*after, rank, sequence))
            remember(entry)
            states.append(entry.kept)
            if entry.kept:
                voted.added += 1
                voted.adders |= names
            elif rules.between and not refused:
                pending.append((len(states) - 1, entry))
        for position, entry in pending:
            if 0 < position < len(states) - 1 and states[position - 1] and \
                    states[position + 1]:
                entry.kept = True
                kept_text.add(entry.words)
                voted.added += 1
                voted.adders |= entry.holders
    merged.sort(key=lambda entry: entry.place)
    if judged and rules.trim_tail is not None:
        _trim_tail(merged, voted, rules.trim_tail)
    voted.lines = [entry.line for entry in merged if entry.kept]
    for entry in merged:
        if entry.kept:
            voted.held.update(entry.holders)
    return voted


def _trim_tail(merged: list[_Entry], voted: Voted, share: float) -> None:
    """Drop the kept lines only ours holds after the last kept line a voter holds, when they
    are at most ``share`` of the kept text."""
    kept = [entry for entry in merged if entry.kept]
    tail: list[_Entry] = []
    for entry in reversed(kept):
        if entry.holders != {HEURISTIC}:
            break
        tail.append(entry)
    if not tail or len(tail) == len(kept):
        return
    total = sum(len(entry.line) for entry in kept)
    if sum(len(entry.line) for entry in tail) <= share * total:
        for entry in tail:
            entry.kept = False
        voted.dropped += len(tail)


def _anchor_of(words: list[str], grams: dict[tuple[str, ...], _Entry], n: int) -> _Entry | None:
    """Return the merged line most of ``words``' n-grams come from, when that is half of them
    at least, or None."""
    found: dict[int, list] = {}
    total = max(len(words) - n + 1, 1)
    for i in range(total):
        entry = grams.get(tuple(words[i:i + n]))
        if entry is not None:
            found.setdefault(id(entry), [0, entry])[0] += 1
    if not found:
        return None
    count, entry = max(found.values(), key=lambda item: item[0])
    # A new line sharing a phrase with another ("ngành giáo dục") is not that line's copy: it
    # keeps the place after the voter's line before it.
    return entry if 2 * count >= total else None


def chrome_texts(root: etree._Element) -> list[str]:
    """Return the text of the page's chrome: each outermost element named as chrome (its own
    class or id) or a ``nav``, ``aside``, ``header`` or ``footer``, unless it holds half the
    page's text or more (then the name is a layout word and it holds the article)."""
    body = root.find("body")
    top = body if body is not None else root
    total = text_size(top)
    found: list[str] = []
    stack = [top]
    while stack:
        el = stack.pop()
        for child in el:
            if not isinstance(child.tag, str) or child.tag in NEVER_TEXT:
                continue
            if (child.tag in ("nav", "aside", "header", "footer") or is_chrome(child)) and \
                    text_size(child) < BULK_SHARE * total:
                if text := element_text(child):
                    found.append(text)
            else:
                stack.append(child)
    return found
