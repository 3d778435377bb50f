"""The text functions' shortcuts return what the full computation returns."""

from __future__ import annotations

import sys
import unicodedata

from crawler.normalise import text
from crawler.normalise.text import _CHARS, _TONE_MOVE, _ZERO_WIDTH, _move_tone, normalise_tone


def _full_normalise_tone(s: str) -> str:
    nfd = unicodedata.normalize("NFD", s)
    return unicodedata.normalize("NFC", _TONE_MOVE.sub(_move_tone, nfd))


def test_printable_characters_are_never_changed_by_the_character_tables():
    # _normalise_chars returns printable text as it is: that holds when no printable character
    # is touched by the tables or by the line-break replacements.
    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        if ch.isprintable():
            assert ch.translate(_ZERO_WIDTH).translate(_CHARS) == ch, hex(code)
            assert ch not in "\r\u2028\u2029\x85", hex(code)


def test_unprintable_text_still_goes_through_the_tables():
    assert text._normalise_chars("a\u200bb\tc\r\nd\u00a0e\u2028f") == "ab c\nd e\nf"


def test_normalise_tone_shortcut_agrees_with_the_full_round_trip():
    latin = [chr(c) for c in range(0x00C0, 0x0250)] + [chr(c) for c in range(0x1E00, 0x1F00)]
    vowels = "oOuUaAeEyYqQ"
    samples = []
    for first in vowels + "đn ":
        for second in latin + list(vowels):
            for after in ("", "n", " ", "\u0301"):
                samples.append(first + second + after)
                samples.append("q" + first + second + after)
    samples += [unicodedata.normalize("NFD", s) for s in samples[:2000]]
    for s in samples:
        assert normalise_tone(s) == _full_normalise_tone(s), repr(s)
    assert normalise_tone("Đảng uỷ khối hoà") == "Đảng ủy khối hòa"
