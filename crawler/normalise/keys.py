"""Comparison keys for Vietnamese text: one tone placement, case and punctuation folded.

Pure functions only, no Scrapy. Output text elsewhere keeps Vietnamese as printed (either
tone-mark placement); these keys exist only to compare: ``normalise_tone`` (one placement of the
oa/oe/uy tone mark), ``loose_key`` (casefolded, punctuation kept), ``fold`` (casefolded, no
punctuation), ``search_key`` (``fold`` without tones or other marks, "đ" as "d": what full-text
search compares), ``similar`` (the same text up to small edits or a credit tail). Every stage that
compares text (boilerplate, captions, bylines, extraction) compares through this module.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from difflib import SequenceMatcher
from functools import lru_cache

__all__ = ["CharTable", "fold", "longest_similar", "loose_key", "normalise_tone", "search_key",
           "similar", "similar_keys"]


class CharTable(dict):
    """str.translate table built lazily, one unicodedata lookup per distinct character."""

    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def __missing__(self, code: int) -> str | None:
        value = self.rule(chr(code))
        self[code] = value
        return value


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
_PUNCT_TO_SPACE = CharTable(lambda ch: " " if unicodedata.category(ch)[0] in "PS" else ch)


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


# Every combining mark (tones, circumflex, breve, horn, dot below) of NFD text.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _unmarked(key: str) -> str:
    """Return a fold() key without its marks and with "đ" as "d"."""
    return _MARKS.sub("", unicodedata.normalize("NFD", key)).replace("đ", "d")


def search_key_reference(s: str) -> str:
    """Return search_key(s) by its definition: fold(s), then every mark dropped and "đ" to "d"."""
    return " ".join(_unmarked(fold(s)).split())


# search_key one character at a time: what fold() and then _unmarked() make of it. fold()
# composes (NFC) and moves tone marks before casefolding, and _unmarked() drops every mark, so
# for the key it makes no difference whether a character is looked at alone or in its word.
_SEARCH_CHARS = CharTable(lambda ch: _unmarked(_punct_to_space(_casefolded(ch))))


def search_key(s: str) -> str:
    """Return the key full-text search compares: fold(s) without tones or other marks, "đ" as "d".

    "Trần Hưng Đạo", "tran hung dao" and "TRẦN HƯNG ĐẠO" give "tran hung dao". The same as
    ``search_key_reference`` (tests/test_search.py checks they agree), one table look-up per
    character: about twice as fast on whole articles, which the SQLite export folds by the GB."""
    return " ".join(s.translate(_SEARCH_CHARS).split())


_CREDIT_TAIL = re.compile(
    r"(?:ảnh|tin ảnh|bài và ảnh|bài ảnh|nguồn|theo|video|clip|đồ họa)(?: \w+){0,6}"
)


def similar(a: str, b: str, threshold: float = 0.85) -> bool:
    """True when `a` and `b` are the same text up to case, tone placement, punctuation, small
    edits (difflib ratio >= threshold) or a credit tail such as "(Ảnh: X)" on one of them."""
    return similar_keys(fold(a or ""), fold(b or ""), threshold)


def longest_similar(text: str) -> float:
    """Return a length no text similar() to ``text`` exceeds (at the default threshold), in
    characters as printed: its key is at most a third longer than ``text``'s (the ratio), or
    ``text``'s and a credit tail of a few words; half as long again plus 80 characters leaves
    room for the punctuation and spaces fold() drops. Longer texts need not be folded to be told
    apart: a paragraph against a title or a caption."""
    return 1.5 * len(text) + 80


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
    ca, cb = _char_counts(fa), _char_counts(fb)
    if len(ca) > len(cb):
        ca, cb = cb, ca
    matches = sum(min(n, cb[ch]) for ch, n in ca.items())
    return 2.0 * matches / (len(fa) + len(fb))


# A page's lines and captions are compared with one another: each key's counts are made once.
# (Few are kept: a long paragraph's table of counts is a few kB.)
@lru_cache(maxsize=256)
def _char_counts(key: str) -> Counter[str]:
    return Counter(key)
