"""The exact date patterns of Vietnamese papers' date lines, and the first match in a text.

Pure regular expressions and the search over them, for crawler/normalise/dates.py (which turns
a match into a date, and keeps dateparser for what no pattern reads). Each pattern's name is what
``ParsedDate.method`` reports.
"""

from __future__ import annotations

import re
from functools import lru_cache

# --- Exact patterns -----------------------------------------------------------------------------
# Digit groups are matched loosely (\d{1,2}) and validated afterwards, so that "31/02/2020" or
# "25:10" is recognised as an impossible date instead of falling through to dateparser's guesses.
# Separators "/" and "-", and "." with a four-digit year ("20.12.2012"); the same one twice.
_DATE = (r"(?<![\d/.-])(?P<d>\d{1,2})(?P<sep>[/-]|\.(?=\d{1,2}\.\d{4}))(?P<m>\d{1,2})(?P=sep)"
         r"(?P<y>\d{4})(?![\d/]|[-.]\d)")
# A two-digit year ("24/12/12") only where the text says it is a date: a time beside it, or a
# label ("ngày", a weekday) in front; alone, "12/3/15" may be anything.
_DATE_YY = (r"(?<![\d/.-])(?P<d>\d{1,2})(?P<sep>[/-]|\.(?=\d{1,2}\.\d{4}))(?P<m>\d{1,2})(?P=sep)"
            r"(?P<y>\d{4}|\d{2})(?![\d/]|[-.]\d)")
# The written-out form: "ngày 17 tháng 9 năm 2026", "17 tháng 9, 2026", "17 Tháng 9 2026"
# (month as a number).
_LONG_DATE = (r"(?:ng[aà]y\s+)?(?<!\d)(?P<d>\d{1,2})\s+th[aá]ng\s+(?P<m>\d{1,2})"
              r"(?:\s*,\s*|\s+n[aă]m\s+|\s+)(?P<y>\d{4})(?!\d)")
# What may follow a clock: AM/PM (also after a 24-hour time: "15:20 PM"), the Vietnamese
# culture's SA/CH (sáng/chiều), or a part of the day: sáng, trưa, chiều, tối, đêm.
_PERIOD = (r"(?:\s*(?P<p>[ap]\.?\s?m\.?|sa|ch|s[aá]ng|tr[uư]a|chi[eề]u|t[oố]i|đ[eê]m)"
           r"(?![\w.]))?")
# The guard before a time is separate: after "Cập nhật lúc:" a colon may touch the hour.
# "10h18", "10g18" (g: giờ) and "10 giờ 18 phút" are the same clock as "10:18".
_TIME = (r"(?P<h>\d{1,2})(?:[:hHg]|\s*giờ\s*)(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?:\s*phút)?"
         r"(?![\d:])" + _PERIOD)
_TIME_ALONE = r"(?<![\d:])" + _TIME
_WEEKDAY = (
    r"(?:th[uứ]\s*(?:hai|ba|t[uư]|n[aă]m|s[aá]u|b[aả]y|bẩy|[2-7])|ch[uủ]\s*nh[aậ]t|cn"
    r"|t[2-7](?!\w))"
)
_UPDATED = r"c[aậ]p\s*nh[aậ]t\s*l[uú]c"
_GMT7 = r"(?:gmt|utc)\s*\+\s*0?7(?::?00)?"
_AT = r"(?:v[aà]o\s+)?l[uú]c"

# Ordered by specificity: when two patterns match at the same place the longer match wins, then
# the earlier pattern. Each name is what ParsedDate.method reports.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        # Older article template: "Cập nhật lúc18:46, Thứ Ba, 08/09/2020 (GMT+7)".
        (
            "updated_weekday",
            rf"{_UPDATED}\s*:?\s*{_TIME}\s*,\s*(?:{_WEEKDAY}\s*,?\s*)?{_DATE}(?:\s*\(\s*{_GMT7}\s*\))?",
        ),
        # Listing items: "Cập nhật lúc: 18:18 |31/03/2020".
        ("listing_updated", rf"{_UPDATED}\s*:?\s*{_TIME}\s*\|\s*{_DATE}"),
        # Sister paper: "09:14, 17/01/2022 [GMT+7]"; the marker says it is a real clock.
        ("clock_gmt", rf"{_TIME_ALONE}\s*,\s*{_DATE}\s*\[\s*{_GMT7}\s*\]"),
        # Old CMS (buggy, 12-hour clock + month) and new CMS (24-hour clock): "14:16, 06/02/2024".
        # A weekday may stand between ("07:31, Thứ Năm, 17/09/2026"): the same hh:MM rule holds.
        ("cms", rf"{_TIME_ALONE}\s*,\s*(?:{_WEEKDAY}\s*,?\s*)?{_DATE}"),
        # "14:16 06/02/2024", "15:20 PM | 21/12/2012", "10:18 sáng ngày 20/12/2012",
        # "07:31 - Thứ Năm, 17/09/2026".
        (
            "time_date",
            rf"{_TIME_ALONE}(?:\s*[|–-]\s*|\s*,\s*(?=ng[aà]y)|\s+)(?:{_WEEKDAY}\s*,?\s*)?"
            rf"(?:ng[aà]y\s+)?{_DATE_YY}",
        ),
        # "06/02/2024 14:16", "20/12/2012 03:20:15 CH", "24/12/12 11:05 tối", "... lúc 10:18".
        ("date_time", rf"{_DATE_YY}(?:\s*[|,–-]\s*|\s+)(?:{_AT}\s*:?\s*)?{_TIME}"),
        # "ngày 17 tháng 9 năm 2026", with a time before or after it.
        ("long_date_time", rf"{_LONG_DATE}(?:\s*[|,–-]\s*|\s+)(?:{_AT}\s*:?\s*)?{_TIME}"),
        (
            "time_long_date",
            rf"{_TIME_ALONE}(?:\s*[|,–-]\s*|\s+)(?:{_WEEKDAY}\s*,?\s*)?{_LONG_DATE}",
        ),
        (
            "iso",
            r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
            r"(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?"
            r"(?P<tz>Z|[+-]\d{2}:?\d{2})?)?(?![\d:])",
        ),
        # A two-digit year after a label, with or without a time: "ngày 24/12/12 11:05 tối".
        (
            "short_year",
            rf"(?:ng[aà]y|{_WEEKDAY}\s*,?)\s*(?=\d{{1,2}}[/-]\d{{1,2}}[/-]\d{{2}}(?!\d)){_DATE_YY}"
            rf"(?:(?:\s*[|,–-]\s*|\s+)(?:{_AT}\s*:?\s*)?{_TIME})?",
        ),
        ("date", _DATE),
        ("long_date", _LONG_DATE),
    )
)
_PRIORITY = {name: rank for rank, (name, _) in enumerate(_PATTERNS)}


# The written-out patterns are tried only on a text that holds their word for the month.
_MONTH_WORD = re.compile(r"th[aá]ng", re.IGNORECASE)
_LONG_FORMS = frozenset({"long_date_time", "time_long_date", "long_date"})


def _match_patterns(text: str) -> tuple[str, re.Match[str]] | None:
    best: tuple[tuple[int, int, int], str, re.Match[str]] | None = None
    worded = _MONTH_WORD.search(text) is not None
    for name, pattern in _PATTERNS:
        if not worded and name in _LONG_FORMS:
            continue
        match = pattern.search(text)
        if match is None:
            continue
        key = (match.start(), -(match.end() - match.start()), _PRIORITY[name])
        if best is None or key < best[0]:
            best = (key, name, match)
    return None if best is None else (best[1], best[2])


_best_match_of_line = lru_cache(maxsize=256)(_match_patterns)


# Texts up to this long (a date line) have their answers kept.
CACHED_CHARS = 200


def _best_match(text: str) -> tuple[str, re.Match[str]] | None:
    """Return the exact-pattern match that starts first (then longest, then most specific)."""
    # Extraction asks about the template's date line, and the date pipeline again (the nine
    # patterns are a pass each): the last short texts' answers are kept, not long ones'.
    return _best_match_of_line(text) if len(text) <= CACHED_CHARS else _match_patterns(text)
