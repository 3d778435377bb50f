"""Vietnamese date lines to dates: exact site formats first, pinned dateparser for the rest.

The one trap (see docs/site-notes.md): the old CMS prints ``hh:MM, dd/MM/yyyy`` where ``hh`` is a
12-hour clock and ``MM`` after the colon is the *month*, not the minutes. From that form only the
date is true, so it yields day precision and no time. Everything here is pure: the fetch time
``now`` is always passed in, never read from the wall clock. The exact patterns themselves are
in crawler/normalise/datepatterns.py.
"""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import dateparser

from crawler.normalise.datepatterns import _AT, _GMT7, _UPDATED, _WEEKDAY, _best_match

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# "month": only the month is known (from the URL's YYYYMM); no day is invented.
PRECISIONS = ("month", "day", "hour", "minute", "second")
PRECISION_RANK = {name: rank for rank, name in enumerate(PRECISIONS)}
ERROR_KINDS = ("empty", "unparseable", "impossible", "future")

# Machine metadata dates before this are defaults, not publication dates (0001-01-01, 1900-01-01,
# the Unix epoch 1970-01-01): no web page was published before 1990.
EARLIEST_METADATA_DATE = datetime.date(1990, 1, 1)
# The site's clock may run ahead of ours: a date up to this far after the fetch is taken as
# printed; only later ones are "future" (the crawl's setting DATES_CLOCK_SKEW overrides it).
FUTURE_TOLERANCE = datetime.timedelta(hours=1)
# A date line is short; longer text sent to dateparser only invites a guess.
DATEPARSER_MAX_CHARS = 120

DATEPARSER_LANGUAGES = ["vi"]
DATEPARSER_SETTINGS = {
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "RETURN_AS_TIMEZONE_AWARE": True,
    "DATE_ORDER": "DMY",
    "PREFER_DATES_FROM": "past",
    # Without this dateparser fills a missing day or month from RELATIVE_BASE
    # ("96,6%" becomes 1996-02-06, "Tháng 1, 2022" becomes the 6th of January).
    "REQUIRE_PARTS": ["day", "month", "year"],
}


# A zone marker, "[GMT+7]", "(GMT+7)", " GMT+7": "[\[(]?\s*GMT\s*[\])]?" with its white space
# read once. A match starts at a bracket or where white space starts, never inside a run of it
# (tried at every space of a long run, "\s*" read the rest of the run each time: quadratic).
_GMT_FORM = rf"(?:[\[(]\s*|(?<!\s)\s+)?{_GMT7}\s*[\])]?"
# What may surround a date line and still leave it "a date line" (labels, weekday, zone marker).
_DATE_LINE_NOISE = re.compile(
    rf"{_UPDATED}|c[aậ]p\s*nh[aậ]t|ng[aà]y\s*đăng|đăng\s*l[uú]c|đăng\s*ng[aà]y|đăng|"
    rf"th[oờ]i\s*gian|ng[aà]y|{_AT}|{_WEEKDAY}|{_GMT_FORM}|[\s,.;:|()\[\]\-–—/]",
    re.IGNORECASE,
)
# Labels stripped before dateparser sees the text ("Cập nhật: 2 giờ trước" defeats it otherwise).
_LABELS = re.compile(
    rf"^(?:{_UPDATED}|c[aậ]p\s*nh[aậ]t|ng[aà]y\s*đăng|đăng\s*l[uú]c|đăng\s*ng[aà]y|đăng"
    rf"|th[oờ]i\s*gian)\s*:?\s*",
    re.IGNORECASE,
)
_GMT_MARKER = re.compile(_GMT_FORM, re.IGNORECASE)
# Labels of an update's date and of the publication's, in a line that prints both.
_UPDATE_LABEL = re.compile(r"c[aậ]p\s*nh[aậ]t|updated", re.IGNORECASE)
_PUBLISH_LABEL = re.compile(r"(?:ng[aà]y\s*)?đăng(?:\s*t[aả]i)?|xu[aấ]t\s*b[aả]n|published|posted",
                            re.IGNORECASE)
# Cheap screen: without a digit or one of these words there is nothing for dateparser to find.
_DATEPARSER_HINT = re.compile(r"\d|hôm|qua|nay|trước|tháng|mai", re.IGNORECASE)
_COARSE_RELATIVE = re.compile(r"\b(?:tuần|tháng|năm)\s+trước\b", re.IGNORECASE)
_TIME_OF_DAY = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?P<s>:\d{2})?(?![\d:])")
_MINUTES_AGO = re.compile(r"\b(?:phút|giây)\s+trước\b", re.IGNORECASE)
_HOURS_AGO = re.compile(r"\b(?:giờ|tiếng)\s+trước\b", re.IGNORECASE)
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


@dataclass(frozen=True)
class ParsedDate:
    """A publication date as far as the text tells it truthfully."""

    date: datetime.date
    at: datetime.datetime | None  # tz-aware, +07:00; None when the text gives no true time
    precision: str  # one of PRECISIONS
    method: str  # name of the exact pattern that matched, or "dateparser"

    @property
    def published_date(self) -> str:
        """Return the date as ``YYYY-MM-DD`` (Vietnam calendar date)."""
        return self.date.isoformat()

    @property
    def published_month(self) -> str:
        """Return the month as ``YYYY-MM``."""
        return self.date.isoformat()[:7]

    @property
    def published_at(self) -> str | None:
        """Return the time as ISO 8601 with ``+07:00``, or None when only the date is known."""
        return None if self.at is None else self.at.isoformat(timespec="seconds")

    @property
    def is_exact(self) -> bool:
        """Return True when an exact pattern (not dateparser) produced this date."""
        return self.method != "dateparser"

    def as_fields(self) -> dict[str, str | None]:
        """Return the record fields published_date, _month, _at and published_precision."""
        return {
            "published_date": self.published_date,
            "published_month": self.published_month,
            "published_at": self.published_at,
            "published_precision": self.precision,
        }


class DateError(ValueError):
    """A date line that cannot give a publication date; ``kind`` says why (see ERROR_KINDS)."""

    def __init__(self, kind: str, text: str, detail: str) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown DateError kind {kind!r}")
        self.kind = kind
        self.text = text
        self.detail = detail
        super().__init__(f"{kind} date {text!r}: {detail}")

    def __reduce__(self):  # keep it picklable despite the keyword-free custom signature
        return (type(self), (self.kind, self.text, self.detail))


def normalise_text(text: str) -> str:
    """Return ``text`` NFC-normalised, without zero-width characters, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    return " ".join(text.split())


def _published_match(text: str) -> tuple[str, re.Match[str]] | None:
    """Return _best_match(text), but in a line that prints an update's date and then the
    publication's ("Cập nhật: 18/09/2026 10:00 | Đăng: 17/09/2026 07:31") the publication's
    (its match is on the text after its label)."""
    found = _best_match(text)
    if found is not None and _UPDATE_LABEL.search(text, 0, found[1].end()) and \
            (label := _PUBLISH_LABEL.search(text, found[1].end())) and \
            (published := _best_match(text[label.end():])):
        return published
    return found




def _impossible(text: str, detail: str) -> DateError:
    return DateError("impossible", text, detail)


def _make_date(text: str, day: int, month: int, year: int) -> datetime.date:
    if not 1 <= month <= 12:
        raise _impossible(text, f"month {month} is not 1..12")
    if year < 1:
        raise _impossible(text, f"year {year} does not exist")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise _impossible(text, f"day {day} is not 1..{last} in {month:02d}/{year}")
    return datetime.date(year, month, day)


def _check_time(text: str, hour: int, minute: int, second: int) -> None:
    if not 0 <= hour <= 23:
        raise _impossible(text, f"hour {hour} is not 0..23")
    if not 0 <= minute <= 59:
        raise _impossible(text, f"minute {minute} is not 0..59")
    if not 0 <= second <= 59:
        raise _impossible(text, f"second {second} is not 0..59")


# A part of the day printed after a clock, folded: what it does to the hour read.
_MORNING = frozenset({"am", "sa", "sang", "sáng"})
_AFTERNOON = frozenset({"pm", "ch", "chieu", "chiều", "toi", "tối"})
_NOON = frozenset({"trua", "trưa"})
_NIGHT = frozenset({"dem", "đem", "đêm"})


def _with_period(hour: int, period: str | None) -> int:
    """Return the 24-hour hour of a clock printed with AM/PM, SA/CH or a part of the day.

    An hour above 12 is a 24-hour clock already ("15:20 PM"): the marker is redundant."""
    if not period or hour > 12:
        return hour
    key = period.lower().replace(".", "").replace(" ", "")
    if key in _MORNING:
        return 0 if hour == 12 else hour
    if key in _AFTERNOON:
        return hour if hour == 12 else hour + 12
    if key in _NOON:  # "11:30 trưa", "12:15 trưa", "1:30 trưa"
        return hour + 12 if hour < 6 else hour
    if key in _NIGHT:  # "11 giờ đêm" is 23:00, "2 giờ đêm" 02:00
        return 0 if hour == 12 else hour + 12 if hour >= 6 else hour
    return hour


def _full_year(year: str, now: datetime.datetime) -> int:
    """Return a printed year; two digits are this century's unless that is more than a year
    after the fetch ("24/12/12" is 2012, "01/05/98" 1998)."""
    if len(year) != 2:
        return int(year)
    full = 2000 + int(year)
    return full if full <= now.astimezone(VN_TZ).year + 1 else full - 100


def _from_match(text: str, name: str, match: re.Match[str], cms: str | None,
                now: datetime.datetime) -> ParsedDate:
    """Validate an exact match and turn it into a ParsedDate (raises DateError 'impossible')."""
    groups = match.groupdict()
    day, month, year = int(groups["d"]), int(groups["m"]), _full_year(groups["y"], now)
    date = _make_date(text, day, month, year)
    if groups.get("h") is None:
        return ParsedDate(date=date, at=None, precision="day", method=name)
    hour, minute = int(groups["h"]), int(groups["mi"])
    second = int(groups["s"]) if groups.get("s") is not None else 0
    method = name
    if name == "cms":
        if cms != "new" and minute == month and 1 <= hour <= 12:
            # The old template's "minutes" are the month and its hour is on a 12-hour clock:
            # only the date is true.
            return ParsedDate(date=date, at=None, precision="day", method="cms_12h_month")
        method = "cms_24h"
    _check_time(text, hour, minute, second)
    hour = _with_period(hour, groups.get("p"))
    precision = "second" if groups.get("s") is not None else "minute"
    if name == "iso":
        return _from_iso(text, date, hour, minute, second, groups.get("tz"), precision)
    at = datetime.datetime(year, month, day, hour, minute, second, tzinfo=VN_TZ)
    return ParsedDate(date=date, at=at, precision=precision, method=method)


def _from_iso(
    text: str,
    date: datetime.date,
    hour: int,
    minute: int,
    second: int,
    tz: str | None,
    precision: str,
) -> ParsedDate:
    """Convert an ISO 8601 time to Vietnam time; a time without an offset is Vietnam time."""
    if tz is None:
        zone: datetime.tzinfo = VN_TZ
    elif tz.upper() == "Z":
        zone = datetime.timezone.utc
    else:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        off_h, off_m = int(digits[:2]), int(digits[2:])
        if off_h > 23 or off_m > 59:
            raise _impossible(text, f"UTC offset {tz} does not exist")
        zone = datetime.timezone(sign * datetime.timedelta(hours=off_h, minutes=off_m))
    at = datetime.datetime.combine(date, datetime.time(hour, minute, second), zone)
    at = at.astimezone(VN_TZ)
    return ParsedDate(date=at.date(), at=at, precision=precision, method="iso")


def _relative_base(now: datetime.datetime) -> datetime.datetime:
    return now.astimezone(VN_TZ).replace(tzinfo=None)


def _dateparser_precision(text: str) -> str:
    """Return how much of the time a text handed to dateparser really tells."""
    clock = _TIME_OF_DAY.search(text)
    if clock is not None:
        return "second" if clock["s"] else "minute"
    if _MINUTES_AGO.search(text):
        return "minute"
    if _HOURS_AGO.search(text):
        return "hour"
    return "day"


def _via_dateparser(text: str, now: datetime.datetime) -> ParsedDate:
    """Resolve what the exact patterns miss (mostly relative forms) with pinned dateparser."""
    cleaned = _GMT_MARKER.sub(" ", _LABELS.sub("", text)).strip(" ,.;:|-")
    cleaned = " ".join(cleaned.split())
    if not cleaned or len(cleaned) > DATEPARSER_MAX_CHARS or not _DATEPARSER_HINT.search(cleaned):
        raise DateError("unparseable", text, "no known date form")
    if _COARSE_RELATIVE.search(cleaned):
        raise DateError("unparseable", text, "a relative date in weeks, months or years is no date")
    settings = dict(DATEPARSER_SETTINGS, RELATIVE_BASE=_relative_base(now))
    result = dateparser.parse(cleaned, languages=DATEPARSER_LANGUAGES, settings=settings)
    if result is None:
        raise DateError("unparseable", text, "no known date form")
    at = result.astimezone(VN_TZ) if result.tzinfo else result.replace(tzinfo=VN_TZ)
    precision = _dateparser_precision(cleaned)
    if precision == "day":
        return ParsedDate(date=at.date(), at=None, precision="day", method="dateparser")
    at = at.replace(second=at.second if precision == "second" else 0, microsecond=0)
    return ParsedDate(date=at.date(), at=at, precision=precision, method="dateparser")


def _check_not_future(text: str, parsed: ParsedDate, now: datetime.datetime,
                      tolerance: datetime.timedelta) -> None:
    # A date alone is future only when it is after the day the fetch time plus the skew falls on.
    today = (now + tolerance).astimezone(VN_TZ).date()
    if parsed.at is None:
        if parsed.date > today:
            raise DateError("future", text, f"{parsed.date} is after the fetch date {today}")
    elif parsed.at > now + tolerance:
        raise DateError(
            "future",
            text,
            f"{parsed.published_at} is after the fetch time "
            f"{now.astimezone(VN_TZ).isoformat(timespec='seconds')}",
        )


def parse_published(
    raw: str | None, *, now: datetime.datetime, cms: str | None = None,
    future_tolerance: datetime.timedelta = FUTURE_TOLERANCE,
) -> ParsedDate:
    """Return the publication date a date line tells, resolved against fetch time ``now``.

    Raises DateError (kind "empty", "unparseable", "impossible" or "future": more than
    ``future_tolerance`` after ``now``). ``cms`` is "old", "new" or None; only "new" trusts an
    ``hh:MM, dd/MM/yyyy`` line whose MM equals the month.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    text = normalise_text(raw or "")
    if not text:
        raise DateError("empty", raw or "", "nothing to parse")
    found = _published_match(text)
    if found is not None:
        parsed = _from_match(text, found[0], found[1], cms, now)
    else:
        parsed = _via_dateparser(text, now)
    _check_not_future(text, parsed, now, future_tolerance)
    return parsed


def is_placeholder(parsed: ParsedDate) -> bool:
    """True when a metadata date is a default value rather than a date (0001-01-01, 1970-01-01)."""
    return parsed.date < EARLIEST_METADATA_DATE


def parse_url_month(yyyymm: str | None, *, now: datetime.datetime,
                    future_tolerance: datetime.timedelta = FUTURE_TOLERANCE) -> str:
    """Return ``YYYY-MM`` from a URL's ``YYYYMM``; raise DateError if absent, impossible, future.

    As for printed dates, the site's clock may run ``future_tolerance`` ahead of ours."""
    text = (yyyymm or "").strip()
    if not re.fullmatch(r"\d{6}", text):
        raise DateError("empty" if not text else "unparseable", text, "no YYYYMM month")
    year, month = int(text[:4]), int(text[4:])
    if not 1 <= month <= 12:
        raise _impossible(text, f"month {month} is not 1..12")
    if year < 1:
        raise _impossible(text, f"year {year} does not exist")
    fetched = (now + future_tolerance).astimezone(VN_TZ).date()
    if (year, month) > (fetched.year, fetched.month):
        raise DateError("future", text, f"{year:04d}-{month:02d} is after the fetch month "
                        f"{fetched.isoformat()[:7]}")
    return f"{year:04d}-{month:02d}"


def find_date_text(text: str) -> str | None:
    """Return the first date line an exact pattern finds in free text, as printed, or None.

    The substring is taken from the text as given; only when the text is not in NFC (decomposed
    Vietnamese) is it taken from its NFC form.
    """
    if not text:
        return None
    nfc = unicodedata.normalize("NFC", text)
    found = _published_match(nfc)
    return None if found is None else found[1].group(0)


def find_date_line(text: str) -> str | None:
    """Return the first date in free text as printed: its whole line when that line is a date
    line and nothing else ("Thứ năm, 20/12/2012, 10:18 GMT+7"), else what find_date_text finds."""
    for line in (text or "").split("\n"):
        found = find_date_text(line)
        if found:
            return line.strip() if looks_like_date_line(line) else found
    return None


def looks_like_date_line(line: str) -> bool:
    """Return True when a short line (<= 80 chars) is essentially a date line and nothing else."""
    text = normalise_text(line or "")
    if not text or len(text) > 80:
        return False
    found = _best_match(text)
    if found is None:
        return False
    match = found[1]
    rest = text[: match.start()] + " " + text[match.end() :]
    return not _DATE_LINE_NOISE.sub("", rest)


def month_range(first: str, last: str) -> list[str]:
    """Return every ``YYYY-MM`` from ``first`` to ``last``, both included (none if last < first)."""
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
