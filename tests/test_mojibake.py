"""looks_bad gives ftfy's is_bad answer on every text: mojibake, near misses and plain Vietnamese."""

from __future__ import annotations

import random
import re

from ftfy.badness import BADNESS_RE, is_bad

from crawler.normalise import mojibake
from crawler.normalise.mojibake import looks_bad

VIETNAMESE = ("Đảng uỷ khối các cơ quan tỉnh Nam Định tổng kết công tác năm 2021. "
              "Ông Phạm Gia Túc, Bí thư Tỉnh ủy; ẢNH: VĂN TRỌNG – «Theo TTXVN»")


def _alphabet() -> tuple[list[str], list[str]]:
    """Characters BADNESS_RE names (ranges expanded), and plain text characters."""
    pattern = BADNESS_RE.pattern
    special = {c for c in pattern if not c.isspace() and ord(c) > 127}
    for m in re.finditer(r"(.)-(.)", pattern):
        low, high = ord(m[1]), ord(m[2])
        if 0 < high - low < 400:
            special.update(map(chr, range(low, high + 1)))
    special.update(map(chr, range(0x80, 0xA0)))
    special.update("\xa0\xad")
    plain = set(" \t\n.,?!019abcxyzABCXYZ") | set(VIETNAMESE)
    return sorted(special - plain), sorted(plain)


def test_the_fast_pattern_is_in_use_for_the_installed_ftfy():
    assert mojibake._FAST is not None, "ftfy's BADNESS_RE changed: check the rewrite, update " \
                                       "KNOWN_PATTERN_SHA256"


def test_same_answer_as_is_bad_on_random_short_texts():
    special, plain = _alphabet()
    rnd = random.Random(13)
    flagged = 0
    for _ in range(60_000):
        share = rnd.choice((0.2, 0.5, 0.9))
        text = "".join(rnd.choice(special) if rnd.random() < share else rnd.choice(plain)
                       for _ in range(rnd.randint(1, 8)))
        expected = is_bad(text)
        flagged += expected
        assert looks_bad(text) == expected, repr(text)
    assert 1_000 < flagged < 59_000  # both answers were exercised


def test_same_answer_on_mojibake_of_vietnamese_in_every_code_page():
    texts = [VIETNAMESE, VIETNAMESE.upper(), "Â " + VIETNAMESE, "Ã " + VIETNAMESE, ""]
    for text in list(texts):
        data = text.encode("utf-8")
        texts += [data.decode(enc, errors="replace") for enc in
                  ("cp1252", "latin-1", "cp1251", "cp1253", "cp1250", "cp1257", "macroman")]
    assert any(is_bad(t) for t in texts) and not is_bad(VIETNAMESE)
    for text in texts:
        assert looks_bad(text) == is_bad(text), text[:60]


def test_another_ftfy_pattern_is_used_as_it_is(monkeypatch):
    monkeypatch.setattr(mojibake, "_FAST", None)
    assert looks_bad("Ä‘Æ°á»£c") is True and looks_bad(VIETNAMESE) is False
