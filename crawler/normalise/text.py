"""Text cleaning and comparison keys: the TextCleanupPipeline's job (pipelines/text.py).

Pure functions only, no Scrapy. This is the one module that uses BeautifulSoup (always with the
"lxml" parser named). Output text keeps Vietnamese as printed (NFC, either tone-mark placement);
`fold`, `loose_key` and `similar` exist only to compare. The paragraph helpers at the end are
shared by the boilerplate, caption and byline modules beside this one.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from difflib import SequenceMatcher
from functools import lru_cache

import ftfy
from bs4 import BeautifulSoup, Comment

from crawler.normalise.mojibake import looks_bad

__all__ = [
    "clean_line",
    "clean_text",
    "clean_title",
    "flat_lines",
    "fold",
    "join_paragraphs",
    "loose_key",
    "normalise_tone",
    "similar",
    "similar_keys",
    "split_paragraphs",
]

# --- Cleaning -----------------------------------------------------------------------------------

# Only something shaped like a whole tag or comment counts as markup: "x <y" stays text.
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?\s*>|<!--", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_DROP_TAGS = ("script", "style", "noscript", "template", "head", "iframe", "object")
_BLOCK_TAGS = (
    "p", "div", "section", "article", "header", "footer", "aside", "figure", "figcaption",
    "blockquote", "pre", "ul", "ol", "li", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
)  # fmt: skip
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_BLANK_RUN = re.compile(r"\n{3,}")


def _unescape(s: str) -> str:
    # Twice at most: CMS exports often double-escape ("&amp;#7871;"); more would eat literal text.
    for _ in range(2):
        if not _ENTITY.search(s):
            break
        s = html.unescape(s)
    return s


def _strip_markup(s: str) -> str:
    soup = BeautifulSoup(s, "lxml")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda t: isinstance(t, Comment)):
        comment.extract()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    return soup.get_text()


class _CharTable(dict):
    """str.translate table built lazily, one unicodedata lookup per distinct character."""

    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def __missing__(self, code: int) -> str | None:
        value = self.rule(chr(code))
        self[code] = value
        return value


def _char_rule(ch: str) -> str | None:
    if ch == "\n":
        return ch
    cat = unicodedata.category(ch)
    if cat == "Zs" or ch == "\t":
        return " "
    if cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
        return None
    return ch


# Spaces to " ", control/format/unassigned characters dropped, newlines kept.
_CHARS = _CharTable(_char_rule)


def _normalise_chars(s: str) -> str:
    # Everything below changes only what Python calls unprintable (Unicode "Other" and
    # "Separator" but the space): text of printable lines is returned as it is.
    if s.replace("\n", " ").isprintable():
        return s
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = s.replace("\u2029", "\n\n").replace("\u2028", "\n").replace("\x85", "\n")
    return s.translate(_ZERO_WIDTH).translate(_CHARS)


def _fix_mojibake(s: str) -> str:
    """Undo UTF-8 text that was decoded in a Western code page ("Ä‘Æ°á»£c" -> "được").

    ftfy only changes text that its badness heuristic flags and whose repair round-trips, so
    Vietnamese that merely holds Ã or Â ("Ãm") is left alone. Unrepairable text stays as is.
    Text the heuristic does not flag is returned by ftfy unchanged: ``looks_bad`` is the same
    heuristic, faster, so ftfy only sees the text it may change."""
    return ftfy.fix_encoding(s) if not s.isascii() and looks_bad(s) else s


def clean_text(s: str | None) -> str | None:
    """Return `s` as NFC plain text: entities decoded, markup and control characters gone,
    mojibake repaired, spaces collapsed, lines trimmed, paragraphs separated by one blank line;
    None when empty."""
    if s is None:
        return None
    return _clean_text(str(s))


# Captions, authors and bylines come back to cleaning from later stages, already clean.
@lru_cache(maxsize=2048)
def _clean_text(s: str) -> str | None:
    s = _unescape(s)
    if _MARKUP.search(s):
        s = _strip_markup(s)
        s = _unescape(s)
    s = unicodedata.normalize("NFC", _normalise_chars(_fix_mojibake(s)))
    # Each line's spaces collapsed and trimmed: what _SPACES.sub(" ", ...) then strip() did,
    # in a third of the time (tests/test_text_fast_paths.py checks they agree). Not needed when
    # the only white space is single spaces inside lines and line breaks (printable text holds
    # no other): the common case, extracted text comes squashed.
    if not _spaced_as_collapsed(s):
        s = "\n".join([" ".join(line.split()) for line in s.split("\n")])
    if "\n\n\n" in s:
        s = _BLANK_RUN.sub("\n\n", s)
    return s.strip("\n") or None


def _spaced_as_collapsed(s: str) -> bool:
    """True when collapsing each line's spaces would leave ``s`` as it is."""
    return (s.replace("\n", " ").isprintable() and "  " not in s and " \n" not in s
            and "\n " not in s and not s.startswith(" ") and not s.endswith(" "))


def clean_line(s: str | None) -> str | None:
    """Return clean_text(s) on one line (line breaks become spaces); None when empty."""
    s = clean_text(s)
    if s is None:
        return None
    return " ".join(s.split()) or None


def clean_title(s: str | None) -> str | None:
    """Return a title on one line, cleaned, without residue ("[links()]", a site-name suffix)."""
    s = clean_line(s)
    if s is None:
        return None
    from crawler.normalise.lexicon import load_boilerplate  # lexicon imports this module

    for pattern in load_boilerplate().title_residue:
        s = pattern.sub(" ", s)
    return " ".join(s.split()) or None


# --- Comparison keys ----------------------------------------------------------------------------

_TONES = "\u0300\u0301\u0303\u0309\u0323"
# oa/oe/uy closing a syllable, tone on the second vowel ("hoà", "khoẻ", "thuỷ", "uỷ"): move it to
# the first ("hòa", "khỏe", "thủy", "ủy"). "qu" is a consonant, so "quý" is left alone. Works on
# NFD text whose vowels carry no other mark (the lookahead refuses "oă", "uyê", "uya", ...).
_TONE_MOVE = re.compile(
    rf"(?<![qQ])(?P<v1>[oOuU])(?P<v2>[aAeEyY])(?P<t>[{_TONES}])(?![\u0300-\u036f])(?![^\W\d_])"
)
_PAIRS = {("o", "a"), ("o", "e"), ("u", "y")}


def _move_tone(m: re.Match[str]) -> str:
    if (m["v1"].lower(), m["v2"].lower()) not in _PAIRS:
        return m[0]
    return m["v1"] + m["t"] + m["v2"]


# In NFC text, what _TONE_MOVE can act on: o/u before a, e or y carrying one tone mark and no
# other mark (those compose to these characters). The same rule read on NFC text, without the
# NFD round trip (most Vietnamese lines hold such a pair, and the round trip was most of a key's
# cost): each matched pair "oà" has its replacement "òa" ready, or itself where the pair is not
# oa/oe/uy. The pattern starts with the vowel and looks back for "q" after it: a pattern that
# starts with a look-behind cannot use the regex engine's first-character scan (3x slower).
_TONED_AEY = "àáãảạèéẽẻẹỳýỹỷỵ"
_TONE_MOVE_NFC = re.compile(
    rf"[oOuU](?<![qQ].)[{_TONED_AEY}{_TONED_AEY.upper()}](?![\u0300-\u036f])(?![^\W\d_])"
)


def _moved_pair(pair: str) -> str:
    v1, (v2, tone) = pair[0], unicodedata.normalize("NFD", pair[1])
    if (v1.lower(), v2.lower()) not in _PAIRS:
        return pair
    return unicodedata.normalize("NFC", v1 + tone) + v2


_MOVED_PAIRS = {v1 + v2: _moved_pair(v1 + v2) for v1 in "oOuU"
                for v2 in _TONED_AEY + _TONED_AEY.upper()}
# Keys are asked for again and again on the same few strings (each stage compares the same
# lines, titles and captions): remember the latest ones.
KEY_CACHE_SIZE = 8192


@lru_cache(maxsize=KEY_CACHE_SIZE)
def normalise_tone(s: str) -> str:
    """Return `s` (NFC) with oa/oe/uy tone marks in one placement: "hoà"->"hòa", "uỷ"->"ủy"."""
    if unicodedata.is_normalized("NFC", s):
        # Equal to the NFD round trip below, which tests/test_text_fast_paths.py checks.
        moved, count = _TONE_MOVE_NFC.subn(_moved, s)
        return unicodedata.normalize("NFC", moved) if count else s
    nfd = unicodedata.normalize("NFD", s)
    return unicodedata.normalize("NFC", _TONE_MOVE.sub(_move_tone, nfd))


def _moved(m: re.Match[str]) -> str:
    return _MOVED_PAIRS[m[0]]


def _casefolded(s: str) -> str:
    return normalise_tone(unicodedata.normalize("NFC", s)).casefold().replace("ð", "đ")


@lru_cache(maxsize=KEY_CACHE_SIZE)
def loose_key(s: str) -> str:
    """Return `s` NFC, casefolded, with one tone placement and single spaces; punctuation kept."""
    return " ".join(_casefolded(s).split())


# Punctuation and symbols to " ", everything else kept.
_PUNCT_TO_SPACE = _CharTable(lambda ch: " " if unicodedata.category(ch)[0] in "PS" else ch)


def _punct_class(last: int) -> str:
    """Return a regex character class body of every punctuation or symbol up to ``last``."""
    ranges: list[list[int]] = []
    for code in range(last + 1):
        if unicodedata.category(chr(code))[0] in "PS":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "")
                   for a, b in ranges)


# The same mapping as one regex over the Basic Multilingual Plane (a fifth of translate's time
# on Vietnamese text, which str.translate looks up character by character); built in about 8 ms.
_PUNCT_BMP = re.compile(f"[{_punct_class(0xFFFF)}]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _punct_to_space(s: str) -> str:
    if _ASTRAL.search(s):  # emoji and the like: the table knows every plane
        return s.translate(_PUNCT_TO_SPACE)
    return _PUNCT_BMP.sub(" ", s)


@lru_cache(maxsize=KEY_CACHE_SIZE)
def fold(s: str) -> str:
    """Return a comparison key: casefolded, one tone placement, no punctuation, single spaces."""
    # loose_key(s) with punctuation to spaces, collapsed once: a split of a long paragraph is
    # a fifth of its key's cost, and loose_key's own would be undone by this one.
    return " ".join(_punct_to_space(_casefolded(s)).split())


_CREDIT_TAIL = re.compile(
    r"(?:ảnh|tin ảnh|bài và ảnh|bài ảnh|nguồn|theo|video|clip|đồ họa)(?: \w+){0,6}"
)


def similar(a: str, b: str, threshold: float = 0.85) -> bool:
    """True when `a` and `b` are the same text up to case, tone placement, punctuation, small
    edits (difflib ratio >= threshold) or a credit tail such as "(Ảnh: X)" on one of them."""
    return similar_keys(fold(a or ""), fold(b or ""), threshold)


def similar_keys(fa: str, fb: str, threshold: float = 0.85) -> bool:
    """Return similar() of two texts given as their fold() keys."""
    if not fa or not fb:
        return False
    if fa == fb:
        return True
    short, long_ = sorted((fa, fb), key=len)
    if long_.startswith(short) or long_.endswith(short):
        rest = (long_[len(short) :] if long_.startswith(short) else long_[: -len(short)]).strip()
        if _CREDIT_TAIL.fullmatch(rest) or len(short) >= threshold * len(long_):
            return True
    # The ratio cannot reach the threshold when the lengths are too far apart: skip the O(n*m).
    if 2 * len(short) / (len(short) + len(long_)) < threshold:
        return False
    # quick_ratio() bounds ratio() from above at a fraction of its cost: most pairs stop there.
    return _quick_ratio(fa, fb) >= threshold and \
        SequenceMatcher(None, fa, fb, autojunk=False).ratio() >= threshold


def _quick_ratio(fa: str, fb: str) -> float:
    """Return difflib's ``SequenceMatcher(None, fa, fb).quick_ratio()`` of two non-empty
    strings: the characters they share as multisets, counted in C instead of a Python loop."""
    ca, cb = Counter(fa), Counter(fb)
    if len(ca) > len(cb):
        ca, cb = cb, ca
    matches = sum(min(n, cb[ch]) for ch, n in ca.items())
    return 2.0 * matches / (len(fa) + len(fb))



# --- Paragraphs ---------------------------------------------------------------------------------


def split_paragraphs(text: str) -> list[list[str]]:
    """Return the paragraphs of `text` (split at blank lines), each as its list of lines."""
    return [p.split("\n") for p in text.split("\n\n")]


def flat_lines(body: str) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """Return (paragraphs, (paragraph, line) index of every non-empty line, in order)."""
    paragraphs = split_paragraphs(body or "")
    flat = [
        (pi, li) for pi, p in enumerate(paragraphs) for li, line in enumerate(p) if line.strip()
    ]
    return paragraphs, flat


def join_paragraphs(paragraphs: list[list[str]]) -> str:
    """Join paragraphs back into text, dropping emptied lines and paragraphs."""
    kept = ["\n".join(line for line in p if line.strip()) for p in paragraphs]
    return "\n\n".join(p for p in kept if p.strip())
