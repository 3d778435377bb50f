"""The text functions' shortcuts return what the full computation returns."""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from pathlib import Path

from crawler.extract.html import squash
from crawler.normalise import keys, text
from crawler.normalise.keys import _TONE_MOVE, _move_tone, normalise_tone
from crawler.normalise.text import _CHARS, _ZERO_WIDTH


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


# --- the str-method paths against the regexes they replace (issue 13) ---------------------------

_ALPHABET = [" ", "  ", "\t", "\r", "\f", "\v", "\u00a0", "\n", "\n\n\n", "a", "ệ", "B", "7",
             "\u2003", "\u3000", "\x85", "\u2028", "\x1c", "q", "o", "u", "à", "ỷ", "\u0301",
             "\u0323", "ô", ".", "!", "«", "₫", "🙂", "_", "ß", "\u1dc4", "한"]


def _samples(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 14)))
            for _ in range(count)]


def test_squash_collapses_as_the_regex_did():
    spaces = re.compile(r"[ \t\r\f\v\u00a0]+")

    def reference(s: str) -> str:
        lines = (line.strip() for line in spaces.sub(" ", s).split("\n"))
        return "\n".join(line for line in lines if line)

    for s in _samples(1, 50_000):
        assert squash(s) == reference(s), repr(s)


def test_clean_text_collapses_spaces_as_the_regex_did():
    spaces, blank_run = re.compile(r"[^\S\n]+"), re.compile(r"\n{3,}")

    def reference(s: str) -> str | None:
        s = unicodedata.normalize("NFC", text._normalise_chars(text._fix_mojibake(
            text._unescape(s))))
        lines = [line.strip() for line in spaces.sub(" ", s).split("\n")]
        return blank_run.sub("\n\n", "\n".join(lines)).strip("\n") or None

    # Also text whose only white space is spaces and line breaks (the shortcut's case).
    rng = random.Random(6)
    plain = ["".join(rng.choice(["a", "ệ", " ", "  ", "\n", "\n\n\n", ".", "\u0301", "&amp;"])
                     for _ in range(rng.randint(0, 14))) for _ in range(50_000)]
    for s in _samples(2, 50_000) + plain:
        assert text._clean_text.__wrapped__(s) == reference(s), repr(s)


def test_normalise_tone_on_nfc_text_agrees_with_the_round_trip():
    for s in _samples(3, 50_000):
        for form in (s, unicodedata.normalize("NFC", s)):
            assert normalise_tone.__wrapped__(form) == _full_normalise_tone(form), repr(form)


def test_fold_maps_punctuation_as_the_table_did():
    rng = random.Random(4)
    samples = _samples(5, 20_000) + ["".join(chr(rng.randrange(0x20, 0x30000)) for _ in range(8))
                                     for _ in range(20_000)]
    for s in samples:
        expected = " ".join(keys.loose_key(s).translate(keys._PUNCT_TO_SPACE).split())
        assert keys.fold.__wrapped__(s) == expected, repr(s)


def test_quick_ratio_is_difflibs():
    from difflib import SequenceMatcher

    samples = [s for s in _samples(8, 4_000) if s]
    for a, b in zip(samples, samples[1:] + samples[:1], strict=True):
        expected = SequenceMatcher(None, a, b, autojunk=False).quick_ratio()
        assert keys._quick_ratio(a, b) == expected, (a, b)
        assert keys._quick_ratio(a, a) == 1.0


def test_the_joined_boilerplate_patterns_match_as_the_patterns_do():
    from crawler.normalise.lexicon import load_boilerplate

    bp = load_boilerplate()
    assert bp.any_anchor is not None and bp.any_residue is not None
    here = Path(__file__).parent
    texts = [p.read_text("utf-8") for p in sorted((here / "fixtures").rglob("*"))
             if p.suffix in (".txt", ".html", ".json") and p.is_file()]
    lines = {line.strip() for t in texts for line in t.splitlines()}
    # Lines cut to pieces, so the patterns' edges are met too.
    lines |= {line[:n] for line in list(lines) for n in (5, 12, 30, 80)}
    lines |= {"", " ", "...", "—", "[links()]", "Xem thêm", "Tin liên quan:", "Đóng",
              "Tổng biên tập: Nguyễn Văn A", "Phó Tổng biên tập: Trần B, Lê C",
              "Giấy phép số 123/GP-BTTTT cấp ngày 1/1/2020", "Điện thoại: 0228 3849 999",
              "Email: toasoan@baonamdinh.vn", "© Báo Nam Định điện tử", "Bản quyền thuộc Báo X",
              "Cơ quan chủ quản: Tỉnh ủy Nam Định", "Ghi rõ nguồn Báo Nam Định khi phát hành lại",
              "Tòa soạn: 1 Trần Hưng Đạo", "Hotline: 0912", "BÁO NAM ĐỊNH ĐIỆN TỬ"}
    matched = 0
    for line in lines:
        key = keys.normalise_tone(line)
        anchor = any(a.pattern.fullmatch(key) for a in bp.anchors)
        residue = any(p.fullmatch(key) for _, p in bp.residue)
        assert (bp.any_anchor.fullmatch(key) is not None) == anchor, line
        assert (bp.any_residue.fullmatch(key) is not None) == residue, line
        matched += anchor + residue
    assert len(lines) > 500
    assert matched > 20
