"""crawler.normalise.dates: every date form the site notes list, the old-CMS trap, relative and bad dates."""

from __future__ import annotations

import datetime
import pickle
import unicodedata

import pytest

from crawler.normalise import dates
from crawler.normalise.dates import (
    VN_TZ,
    DateError,
    ParsedDate,
    find_date_line,
    find_date_text,
    is_placeholder,
    looks_like_date_line,
    normalise_text,
    parse_published,
    parse_url_month,
)

# Fetch time of every case: Tuesday 6 February 2024, 15:07:33 in Vietnam.
NOW = datetime.datetime(2024, 2, 6, 15, 7, 33, tzinfo=VN_TZ)
NOW_UTC = NOW.astimezone(datetime.timezone.utc)


@pytest.fixture
def no_dateparser(monkeypatch):
    """Make any call to dateparser fail the test: exact forms must never need it."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"dateparser.parse called with {args!r}")

    monkeypatch.setattr(dates.dateparser, "parse", refuse)


@pytest.fixture
def dateparser_calls(monkeypatch):
    """Record the texts handed to dateparser while still letting it answer."""
    calls: list[str] = []
    real = dates.dateparser.parse

    def spy(text, *args, **kwargs):
        calls.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(dates.dateparser, "parse", spy)
    return calls


# --- The old-CMS trap: hh(12-hour):MM(month), dd/MM/yyyy -> the date only -----------------------
BUGGY_SAMPLES = [
    ("03:01, 14/01/2022", "2022-01-14"),
    ("05:12, 24/12/2021", "2021-12-24"),
    ("12:10, 09/10/2021", "2021-10-09"),
    ("06:04, 02/04/2020", "2020-04-02"),
    ("06:12, 01/12/2019", "2019-12-01"),
    ("09:02, 06/02/2022", "2022-02-06"),
    ("08:02, 10/02/2017", "2017-02-10"),
    ("08:09, 04/09/2015", "2015-09-04"),
    ("07:12, 09/12/2013", "2013-12-09"),
    ("05:09, 17/09/2013", "2013-09-17"),
]


@pytest.mark.parametrize("cms", ["old", None])
@pytest.mark.parametrize(("raw", "expected_date"), BUGGY_SAMPLES)
def test_old_cms_date_line_gives_only_the_date(raw, expected_date, cms, no_dateparser):
    parsed = parse_published(raw, now=NOW, cms=cms)
    assert parsed.published_date == expected_date
    assert parsed.at is None
    assert parsed.published_at is None
    assert parsed.precision == "day"
    assert parsed.method == "cms_12h_month"


# --- Forms that print a true 24-hour clock keep their time --------------------------------------
TRUE_CLOCKS = [
    # older article template, with and without the space after "lúc", any weekday
    ("Cập nhật lúc18:46, Thứ Ba, 08/09/2020 (GMT+7)", "2020-09-08T18:46:00+07:00", "updated_weekday"),
    ("Cập nhật lúc 18:46, Thứ Ba, 08/09/2020 (GMT+7)", "2020-09-08T18:46:00+07:00", "updated_weekday"),
    ("Cập nhật lúc 07:09, Chủ Nhật, 06/09/2020", "2020-09-06T07:09:00+07:00", "updated_weekday"),
    ("Cập nhật lúc07:05, Chủ nhật, 10/05/2020 (GMT+7)", "2020-05-10T07:05:00+07:00", "updated_weekday"),
    ("Cập nhật lúc10:03, Thứ Hai, 09/03/2020", "2020-03-09T10:03:00+07:00", "updated_weekday"),
    ("Cập nhật lúc 21:00, Thứ Bảy, 14/11/2020 (GMT+7)", "2020-11-14T21:00:00+07:00", "updated_weekday"),
    ("Cập nhật lúc 09:30, Thứ Tư, 15/01/2020 (GMT+7)", "2020-01-15T09:30:00+07:00", "updated_weekday"),
    ("Cập nhật lúc 09:30, 15/01/2020", "2020-01-15T09:30:00+07:00", "updated_weekday"),
    # listing items, spaces around "|" optional
    ("Cập nhật lúc: 18:18 |31/03/2020", "2020-03-31T18:18:00+07:00", "listing_updated"),
    ("Cập nhật lúc: 18:18 | 31/03/2020", "2020-03-31T18:18:00+07:00", "listing_updated"),
    ("Cập nhật lúc:18:18|31/03/2020", "2020-03-31T18:18:00+07:00", "listing_updated"),
    ("Cập nhật lúc: 08:03 |31/03/2020", "2020-03-31T08:03:00+07:00", "listing_updated"),
    # sister paper: [GMT+7] marks a real clock even when the minutes equal the month
    ("09:14, 17/01/2022 [GMT+7]", "2022-01-17T09:14:00+07:00", "clock_gmt"),
    ("03:01, 14/01/2022 [GMT+7]", "2022-01-14T03:01:00+07:00", "clock_gmt"),
    # hh:mm, dd/mm/yyyy that cannot be the buggy template
    ("14:16, 06/02/2024", "2024-02-06T14:16:00+07:00", "cms_24h"),
    ("17:12, 24/12/2021", "2021-12-24T17:12:00+07:00", "cms_24h"),  # hour > 12
    ("09:14, 17/01/2022", "2022-01-17T09:14:00+07:00", "cms_24h"),  # minutes != month
    ("00:01, 14/01/2022", "2022-01-14T00:01:00+07:00", "cms_24h"),  # a 12-hour clock has no 00
    # generic date + time, either order, space, "|" or "-" between
    ("06/02/2024 14:16", "2024-02-06T14:16:00+07:00", "date_time"),
    ("06/02/2024 | 14:16", "2024-02-06T14:16:00+07:00", "date_time"),
    ("06/02/2024 - 14:16", "2024-02-06T14:16:00+07:00", "date_time"),
    ("6-2-2024 14:16", "2024-02-06T14:16:00+07:00", "date_time"),
    ("14:16 06/02/2024", "2024-02-06T14:16:00+07:00", "time_date"),
    ("14:16 | 06/02/2024", "2024-02-06T14:16:00+07:00", "time_date"),
    ("14:16 - 06/02/2024", "2024-02-06T14:16:00+07:00", "time_date"),
]


@pytest.mark.parametrize(("raw", "expected_at", "method"), TRUE_CLOCKS)
def test_true_clock_keeps_its_time(raw, expected_at, method, no_dateparser):
    parsed = parse_published(raw, now=NOW, cms="old")
    assert parsed.published_at == expected_at
    assert parsed.published_date == expected_at[:10]
    assert parsed.precision == "minute"
    assert parsed.method == method


@pytest.mark.parametrize(
    "raw", ["02:02, 06/02/2024", "03:01, 14/01/2022", "12:12, 01/12/2023"]
)
def test_new_cms_trusts_minutes_equal_to_the_month(raw, no_dateparser):
    parsed = parse_published(raw, now=NOW, cms="new")
    assert parsed.precision == "minute"
    assert parsed.method == "cms_24h"
    hh, mm = raw[:2], raw[3:5]
    assert parsed.published_at[11:16] == f"{hh}:{mm}"


@pytest.mark.parametrize("cms", ["old", None])
def test_a_weekday_between_does_not_hide_the_hh_mm_trap(cms, no_dateparser):
    parsed = parse_published("03:01, Thứ Sáu, 14/01/2022", now=NOW, cms=cms)
    assert (parsed.published_date, parsed.published_at) == ("2022-01-14", None)
    assert parsed.method == "cms_12h_month"
    assert parse_published("03:01, Thứ Sáu, 14/01/2022", now=NOW, cms="new").published_at == \
        "2022-01-14T03:01:00+07:00"


def test_same_line_is_a_date_only_on_the_old_cms_and_a_time_on_the_new():
    old = parse_published("02:02, 06/02/2024", now=NOW, cms="old")
    new = parse_published("02:02, 06/02/2024", now=NOW, cms="new")
    assert (old.published_date, old.published_at) == ("2024-02-06", None)
    assert (new.published_date, new.published_at) == ("2024-02-06", "2024-02-06T02:02:00+07:00")


# --- Forms other Vietnamese papers print (issue 20) ----------------------------------------------
# Weekday names, GMT+7, AM/PM and the Vietnamese culture's SA/CH, parts of the day (sáng, trưa,
# chiều, tối, đêm), two-digit years, "ngày … lúc …", "Cập nhật", "Đăng": all exact patterns.
PAPER_FORMS = [
    ("Thứ năm, 20/12/2012, 10:18 GMT+7", "2012-12-20T10:18:00+07:00", "minute"),
    ("Thứ Năm, 20/12/2012 10:18 (GMT+7)", "2012-12-20T10:18:00+07:00", "minute"),
    ("20/12/2012 10:18 (GMT+07:00)", "2012-12-20T10:18:00+07:00", "minute"),
    ("Thứ năm, 10:18, 20/12/2012", "2012-12-20T10:18:00+07:00", "minute"),
    # the time first, then the weekday
    ("10:18, Thứ Năm, 20/12/2012", "2012-12-20T10:18:00+07:00", "minute"),
    ("10:18 - Thứ Năm, 20/12/2012", "2012-12-20T10:18:00+07:00", "minute"),
    ("10:18 | T5, 20/12/2012", "2012-12-20T10:18:00+07:00", "minute"),
    ("T5, 20/12/2012 | 10:18", "2012-12-20T10:18:00+07:00", "minute"),
    ("Chủ nhật, 23/12/2012 - 08:15 AM", "2012-12-23T08:15:00+07:00", "minute"),
    # AM/PM after a 24-hour time is redundant; after a 12-hour time it moves the hour
    ("15:20 PM | 21/12/2012", "2012-12-21T15:20:00+07:00", "minute"),
    ("03:20 PM, 20/12/2012", "2012-12-20T15:20:00+07:00", "minute"),
    ("12:05 AM, 20/12/2012", "2012-12-20T00:05:00+07:00", "minute"),
    ("12:40 PM - 20/12/2012", "2012-12-20T12:40:00+07:00", "minute"),
    ("20/12/2012 10:18:00 SA", "2012-12-20T10:18:00+07:00", "second"),
    ("20/12/2012 03:20:15 CH", "2012-12-20T15:20:15+07:00", "second"),
    # parts of the day; two-digit years
    ("ngày 24/12/12 11:05 tối", "2012-12-24T23:05:00+07:00", "minute"),
    ("24/12/12 11:05", "2012-12-24T11:05:00+07:00", "minute"),
    ("20/12/2012 - 10:18 sáng", "2012-12-20T10:18:00+07:00", "minute"),
    ("1:30 trưa 20/12/2012", "2012-12-20T13:30:00+07:00", "minute"),
    ("11:40 đêm, ngày 20/12/2012", "2012-12-20T23:40:00+07:00", "minute"),
    ("2:10 đêm, ngày 20/12/2012", "2012-12-20T02:10:00+07:00", "minute"),
    ("04:45 chiều 20/12/2012", "2012-12-20T16:45:00+07:00", "minute"),
    # labels: "ngày … lúc …", "Cập nhật", "Đăng"; "10h18" is 10:18
    ("Ngày 20/12/2012 lúc 10:18", "2012-12-20T10:18:00+07:00", "minute"),
    ("ngày 20/12/2012 vào lúc 10:18", "2012-12-20T10:18:00+07:00", "minute"),
    ("Đăng lúc 10:18 ngày 20/12/2012", "2012-12-20T10:18:00+07:00", "minute"),
    ("Cập nhật lúc 10:18 sáng ngày 20/12/2012", "2012-12-20T10:18:00+07:00", "minute"),
    ("Cập nhật: 10:18 | 20/12/2012", "2012-12-20T10:18:00+07:00", "minute"),
    ("Đăng: 20/12/2012 10h18", "2012-12-20T10:18:00+07:00", "minute"),
    # the clock spelt out: "10 giờ 18 phút"
    ("Ngày 20/12/2012 lúc 10 giờ 18 phút", "2012-12-20T10:18:00+07:00", "minute"),
    ("Đăng lúc 22 giờ 05 phút, 20/12/2012", "2012-12-20T22:05:00+07:00", "minute"),
    # ... and "g" for giờ: "10g18"
    ("20/12/2012 10g18", "2012-12-20T10:18:00+07:00", "minute"),
    ("Cập nhật lúc 22g05, 20/12/2012", "2012-12-20T22:05:00+07:00", "minute"),
    ("20.12.2012 10:18", "2012-12-20T10:18:00+07:00", "minute"),
    # the month written out as "tháng": "20 tháng 12 năm 2012", "20 tháng 12, 2012"
    ("20 tháng 12, 2012 - 10:18", "2012-12-20T10:18:00+07:00", "minute"),
    ("Thứ năm, 20 Tháng 12 2012 10:18", "2012-12-20T10:18:00+07:00", "minute"),
    ("Cập nhật lúc 10:18 ngày 20 tháng 12 năm 2012", "2012-12-20T10:18:00+07:00", "minute"),
]


@pytest.mark.parametrize(("raw", "expected_at", "precision"), PAPER_FORMS)
def test_forms_other_papers_print(raw, expected_at, precision, no_dateparser):
    parsed = parse_published(raw, now=NOW)
    assert (parsed.published_at, parsed.precision) == (expected_at, precision)
    assert parsed.published_date == expected_at[:10]
    assert looks_like_date_line(raw)


@pytest.mark.parametrize(
    ("raw", "expected_date"),
    [
        ("Đăng ngày: 20/12/2012", "2012-12-20"),
        ("Thứ hai, 24/12/12", "2012-12-24"),
        ("ngày 01/05/98", "1998-05-01"),  # two digits after the fetch year + 1: last century
        ("Cập nhật ngày 20.12.2012", "2012-12-20"),
        ("Thứ Năm, ngày 20 tháng 12 năm 2012", "2012-12-20"),
        ("ngày 14 tháng 1 năm 2022", "2022-01-14"),
    ],
)
def test_paper_forms_without_a_time(raw, expected_date, no_dateparser):
    parsed = parse_published(raw, now=NOW)
    assert (parsed.published_date, parsed.at, parsed.precision) == (expected_date, None, "day")


@pytest.mark.parametrize(
    ("line", "printed"),
    [
        # a line printing an update's date, then the publication's: the publication's
        ("Cập nhật: 21/12/2012 09:00 | Đăng: 20/12/2012 10:18", "20/12/2012 10:18"),
        ("Updated 21/12/2012 09:00, published 20/12/2012 10:18", "20/12/2012 10:18"),
        ("Cập nhật lúc 09:00 21/12/2012, đăng lúc 10:18 20/12/2012", "10:18 20/12/2012"),
        ("Đăng: 20/12/2012 10:18 | Cập nhật: 21/12/2012 09:00", "20/12/2012 10:18"),
        # "Đăng ký" (sign up) with no date after it is no publication date
        ("Cập nhật 20/12/2012 10:18 - Đăng ký nhận tin", "20/12/2012 10:18"),
    ],
)
def test_the_publication_date_not_the_update(line, printed, no_dateparser):
    assert find_date_text(line) == printed
    parsed = parse_published(line, now=NOW)
    assert parsed.published_at == "2012-12-20T10:18:00+07:00"


@pytest.mark.parametrize("raw", ["03:01 CH, 14/01/2022", "03:01 SA, 14/01/2022", "05h12, 24/12/2021"])
def test_the_old_cms_trap_holds_whatever_follows_the_clock(raw, no_dateparser):
    # A marker after the clock does not make "hh:MM, dd/MM/yyyy" trustworthy where MM is the month.
    parsed = parse_published(raw, now=NOW, cms="old")
    assert (parsed.at, parsed.precision, parsed.method) == (None, "day", "cms_12h_month")


# --- Bare dates and ISO 8601 --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected_date", "method"),
    [
        ("06/02/2024", "2024-02-06", "date"),
        ("6/2/2024", "2024-02-06", "date"),
        ("6-2-2024", "2024-02-06", "date"),
        ("06-02-2024", "2024-02-06", "date"),
        ("Thứ Sáu, 14/01/2022", "2022-01-14", "date"),
        ("Ngày 14/01/2022 (GMT+7)", "2022-01-14", "date"),
        ("2024-02-06", "2024-02-06", "iso"),
    ],
)
def test_date_without_time_has_day_precision(raw, expected_date, method, no_dateparser):
    parsed = parse_published(raw, now=NOW)
    assert parsed == ParsedDate(
        date=datetime.date.fromisoformat(expected_date), at=None, precision="day", method=method
    )


@pytest.mark.parametrize(
    ("raw", "expected_at", "precision"),
    [
        ("2024-02-06T14:16:00+07:00", "2024-02-06T14:16:00+07:00", "second"),
        ("2024-02-06T07:16:00Z", "2024-02-06T14:16:00+07:00", "second"),
        ("2024-02-06T07:16:00+00:00", "2024-02-06T14:16:00+07:00", "second"),
        ("2024-02-06T09:16:05+0200", "2024-02-06T14:16:05+07:00", "second"),
        ("2024-02-06T14:16:05.123456+07:00", "2024-02-06T14:16:05+07:00", "second"),
        ("2024-02-06T14:16:00", "2024-02-06T14:16:00+07:00", "second"),  # naive = Vietnam time
        ("2024-02-06T14:16", "2024-02-06T14:16:00+07:00", "minute"),
        ("2024-02-06 14:16", "2024-02-06T14:16:00+07:00", "minute"),
        ("2024-02-06T07:16Z", "2024-02-06T14:16:00+07:00", "minute"),
        # 20:30 UTC on the 5th is already the 6th in Vietnam
        ("2024-02-05T20:30:00Z", "2024-02-06T03:30:00+07:00", "second"),
    ],
)
def test_iso_8601_is_converted_to_vietnam_time(raw, expected_at, precision, no_dateparser):
    parsed = parse_published(raw, now=NOW)
    assert parsed.published_at == expected_at
    assert parsed.published_date == expected_at[:10]
    assert parsed.precision == precision
    assert parsed.method == "iso"
    assert parsed.at.utcoffset() == datetime.timedelta(hours=7)


# --- Text clean-up ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw",
    [
        "Cập nhật lúc\u00a018:46,\u00a0Thứ Ba,\u00a008/09/2020 (GMT+7)",  # NBSP
        "  Cập nhật   lúc18:46,\n Thứ Ba, 08/09/2020\t(GMT+7) ",  # runs of whitespace
        unicodedata.normalize("NFD", "Cập nhật lúc18:46, Thứ Ba, 08/09/2020 (GMT+7)"),
        "Cập nhật lúc18:46, Thứ Ba, 08/09/2020\u200b (GMT+7)",  # zero-width space
        "CẬP NHẬT LÚC18:46, THỨ BA, 08/09/2020 (GMT+7)",
    ],
)
def test_unicode_and_whitespace_are_normalised_first(raw, no_dateparser):
    parsed = parse_published(raw, now=NOW)
    assert (parsed.published_at, parsed.method) == ("2020-09-08T18:46:00+07:00", "updated_weekday")


# --- Relative forms: dateparser's job, resolved against the fetch time --------------------------
RELATIVE = [
    ("5 phút trước", "2024-02-06", "2024-02-06T15:02:00+07:00", "minute"),
    ("45 phút trước", "2024-02-06", "2024-02-06T14:22:00+07:00", "minute"),
    ("2 giờ trước", "2024-02-06", "2024-02-06T13:07:00+07:00", "hour"),
    ("16 giờ trước", "2024-02-05", "2024-02-05T23:07:00+07:00", "hour"),
    ("hôm qua", "2024-02-05", None, "day"),
    ("Hôm qua", "2024-02-05", None, "day"),
    ("3 ngày trước", "2024-02-03", None, "day"),
    ("hôm nay", "2024-02-06", None, "day"),
    ("Cập nhật: 2 giờ trước", "2024-02-06", "2024-02-06T13:07:00+07:00", "hour"),
    ("hôm qua lúc 9:15", "2024-02-05", "2024-02-05T09:15:00+07:00", "minute"),
    ("14 Tháng Một 2022", "2022-01-14", None, "day"),
]


@pytest.mark.parametrize(("raw", "expected_date", "expected_at", "precision"), RELATIVE)
def test_relative_and_worded_forms_go_to_dateparser(
    raw, expected_date, expected_at, precision, dateparser_calls
):
    parsed = parse_published(raw, now=NOW)
    assert parsed.published_date == expected_date
    assert parsed.published_at == expected_at
    assert parsed.precision == precision
    assert parsed.method == "dateparser"
    assert len(dateparser_calls) == 1


def test_relative_forms_use_now_not_the_wall_clock():
    a_year_earlier = NOW.replace(year=2023)
    assert parse_published("hôm qua", now=a_year_earlier).published_date == "2023-02-05"


def test_relative_forms_resolve_in_vietnam_time_whatever_zone_now_is_in():
    # 20:00 UTC on the 5th is 03:00 on the 6th in Vietnam: "hôm qua" is the 5th.
    now = datetime.datetime(2024, 2, 5, 20, 0, tzinfo=datetime.timezone.utc)
    assert parse_published("hôm qua", now=now).published_date == "2024-02-05"
    assert parse_published("1 giờ trước", now=now).published_at == "2024-02-06T02:00:00+07:00"


def test_now_must_be_timezone_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_published("06/02/2024", now=NOW.replace(tzinfo=None))


# --- Failures -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("31/02/2020", "day 31"),
        ("29/02/2023", "day 29"),
        ("00/01/2020", "day 0"),
        ("14/13/2020", "month 13"),
        ("14/00/2020", "month 0"),
        ("03:13, 14/13/2022", "month 13"),  # the buggy form is validated too
        ("25:10, 06/02/2024", "hour 25"),
        ("14:61, 06/02/2024", "minute 61"),
        ("Cập nhật lúc 24:05, Thứ Ba, 08/09/2020", "hour 24"),
        ("Cập nhật lúc: 18:60 |31/03/2020", "minute 60"),
        ("06/02/2024 14:16:61", "second 61"),
        ("2024-02-30", "day 30"),
        ("2024-13-01T10:00:00+07:00", "month 13"),
        ("2024-02-06T10:00:00+25:00", "offset"),
    ],
)
def test_impossible_dates_are_rejected_not_guessed(raw, detail, no_dateparser):
    with pytest.raises(DateError) as caught:
        parse_published(raw, now=NOW)
    assert caught.value.kind == "impossible"
    assert detail in str(caught.value)
    assert repr(raw) in str(caught.value)


@pytest.mark.parametrize(
    "raw",
    [
        "07/02/2024",  # tomorrow
        "2024-02-07",
        "03:02, 07/02/2024",  # buggy form: judged by its date
        "06/02/2024 16:30",  # 83 minutes ahead: more than the clock skew allowed
        "2024-02-06T09:30:00Z",  # 16:30 in Vietnam
        "01/01/2025",
    ],
)
def test_dates_after_the_fetch_are_future(raw, no_dateparser):
    with pytest.raises(DateError) as caught:
        parse_published(raw, now=NOW)
    assert caught.value.kind == "future"


def test_tomorrow_in_words_is_future():
    with pytest.raises(DateError) as caught:
        parse_published("ngày mai", now=NOW)
    assert caught.value.kind == "future"


@pytest.mark.parametrize(
    "raw",
    [
        "06/02/2024",  # today, day precision
        "06/02/2024 15:20",  # 13 minutes ahead: clock skew
        "06/02/2024 15:37",  # 30 minutes ahead: the site's clock runs ahead of ours
        "2024-02-06T08:37:00Z",  # the same in UTC
        "06/02/2024 16:07",  # exactly the hour of skew allowed
        "03:02, 06/02/2024",  # buggy form on the fetch day, whatever the "hour"
    ],
)
def test_fetch_day_and_clock_skew_are_not_future(raw):
    parse_published(raw, now=NOW)


def test_clock_skew_is_a_parameter():
    with pytest.raises(DateError) as caught:
        parse_published("06/02/2024 15:37", now=NOW, future_tolerance=datetime.timedelta(minutes=15))
    assert caught.value.kind == "future"
    late = NOW.replace(hour=23, minute=30)
    # Near midnight the skew reaches into the next day for a date printed without a time.
    assert parse_published("07/02/2024", now=late).published_date == "2024-02-07"


@pytest.mark.parametrize("raw", ["", "   ", "\u00a0\n\t", "\u200b", None])
def test_empty(raw, no_dateparser):
    with pytest.raises(DateError) as caught:
        parse_published(raw, now=NOW)
    assert caught.value.kind == "empty"


@pytest.mark.parametrize(
    "raw",
    [
        "Xuân Thu",
        "96,6%",
        "0228.3849386",
        "Sáng 14-1",  # day and month without a year
        "Tháng 1, 2022",  # no day: dateparser would take the 6th from the fetch date
        "2024",
        "Thứ Hai",
        "1 tuần trước",  # weeks, months and years ago are not a publication date
        "2 tháng trước",
        "x" * 300,
    ],
)
def test_unparseable(raw):
    with pytest.raises(DateError) as caught:
        parse_published(raw, now=NOW)
    assert caught.value.kind == "unparseable"
    assert "date" in str(caught.value)


def test_date_error_is_a_value_error_and_pickles():
    err = DateError("future", "07/02/2024", "after the fetch")
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert (again.kind, again.text, str(again)) == (err.kind, err.text, str(err))


def test_date_error_kind_is_checked():
    with pytest.raises(ValueError):
        DateError("weird", "x", "y")


def test_parsed_date_fields():
    parsed = parse_published("14:16, 06/02/2024", now=NOW, cms="new")
    assert parsed.as_fields() == {
        "published_date": "2024-02-06",
        "published_month": "2024-02",
        "published_at": "2024-02-06T14:16:00+07:00",
        "published_precision": "minute",
    }
    assert parsed.is_exact


# --- Finding a date line in free text -----------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đồng chí ... \n03:01, 14/01/2022\nSáng 14-1, tại ...", "03:01, 14/01/2022"),
        (
            "Tiêu đề\nCập nhật lúc18:46, Thứ Ba, 08/09/2020 (GMT+7)\nNội dung",
            "Cập nhật lúc18:46, Thứ Ba, 08/09/2020 (GMT+7)",
        ),
        ("Tin mới Cập nhật lúc: 18:18 |31/03/2020 xem", "Cập nhật lúc: 18:18 |31/03/2020"),
        ("Bản tin 09:14, 17/01/2022 [GMT+7] hôm nay", "09:14, 17/01/2022 [GMT+7]"),
        ("Sáng 14-1, ... ngày 14/01/2022 ...", "14/01/2022"),
        ("Giấy phép số: 136/GP-BTTTT cấp ngày 17/3/2022.", "17/3/2022"),  # a plain date is fine
        ("published 2024-02-06T14:16:00+07:00.", "2024-02-06T14:16:00+07:00"),
        ("Lúc\u00a014:16,\u00a006/02/2024 ...", "14:16,\u00a006/02/2024"),  # as printed (NBSP)
        ("Tỷ lệ tiêm chủng đạt 96,6%.", None),
        ("Điện thoại: 0228.3849386; Email: toasoanbnd@gmail.com", None),
        ("Sáng 14-1, Tỉnh ủy tổ chức hội nghị", None),
        ("Giấy phép số: 136/GP-BTTTT", None),
        ("giai đoạn 2021-2025, tăng 12,5%", None),
        ("2 giờ trước", None),  # relative forms are dateparser's, not an exact pattern's
        ("Quyết định số 12/3/15 của UBND", None),  # a two-digit year needs a time or a label
        ("tỷ số 3-1-12 trận", None),
        ("Bạn đọc gọi 0228.3849386", None),
        ("", None),
    ],
)
def test_find_date_text(text, expected, no_dateparser):
    assert find_date_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the whole line as printed when it is a date line and nothing else
        ("Thời sự\nThứ năm, 20/12/2012, 10:18 GMT+7\nCầu vượt ...",
         "Thứ năm, 20/12/2012, 10:18 GMT+7"),
        ("ngày 24/12/12 11:05 tối", "ngày 24/12/12 11:05 tối"),
        # else the date alone
        ("Minh Anh | 20/12/2012 10:18 | Chia sẻ", "20/12/2012 10:18"),
        ("Công trình khởi công ngày 15/3/2012, các hạng mục", "15/3/2012"),
        ("Không có ngày", None),
    ],
)
def test_find_date_line(text, expected, no_dateparser):
    assert find_date_line(text) == expected


def test_find_date_text_in_decomposed_text_returns_nfc():
    text = unicodedata.normalize("NFD", "Tiêu đề Cập nhật lúc18:46, Thứ Ba, 08/09/2020 (GMT+7)")
    assert find_date_text(text) == "Cập nhật lúc18:46, Thứ Ba, 08/09/2020 (GMT+7)"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        *[(raw, True) for raw, _ in BUGGY_SAMPLES],
        *[(raw, True) for raw, _, _ in TRUE_CLOCKS],
        ("06/02/2024", True),
        ("Thứ Sáu, 14/01/2022", True),
        ("Ngày đăng: 14/01/2022", True),
        ("2024-02-06T14:16:00+07:00", True),
        (" 03:01, 14/01/2022 \u00a0", True),
        ("Sáng 14-1, Tỉnh ủy tổ chức hội nghị tổng kết năm 2021", False),
        ("Hội nghị ngày 14/01/2022", False),
        ("Giấy phép số: 136/GP-BTTTT do Bộ TTTT cấp ngày 17/3/2022.", False),
        ("Tin ảnh: Văn Trọng", False),
        ("Tỷ lệ đạt 96,6%", False),
        ("2 giờ trước", False),
        ("", False),
        ("Ngày 14/01/2022 " + "." * 80, False),  # longer than a date line
    ],
)
def test_looks_like_date_line(line, expected, no_dateparser):
    assert looks_like_date_line(line) is expected


@pytest.mark.parametrize(("raw", "placeholder"), [
    ("0001-01-01T00:00:00Z", True),
    ("1970-01-01T00:00:00+00:00", True),
    ("1900-01-01", True),
    ("1989-12-31", True),
    ("1990-01-01", False),
    ("2022-01-14T10:20:00+07:00", False),
])
def test_placeholder_metadata_dates(raw, placeholder, no_dateparser):
    assert is_placeholder(parse_published(raw, now=NOW)) is placeholder


@pytest.mark.parametrize(("yyyymm", "result"), [
    ("202402", "2024-02"),
    ("201101", "2011-01"),
    ("202413", "impossible"),
    ("202400", "impossible"),
    ("202403", "future"),
    ("", "empty"),
    (None, "empty"),
    ("2024-2", "unparseable"),
])
def test_url_month(yyyymm, result):
    if "-" in result:
        assert parse_url_month(yyyymm, now=NOW) == result
    else:
        with pytest.raises(DateError) as caught:
            parse_url_month(yyyymm, now=NOW)
        assert caught.value.kind == result


def test_month_range_crosses_years_and_includes_both_ends() -> None:
    from crawler.normalise.dates import month_range
    assert month_range("2021-11", "2022-02") == ["2021-11", "2021-12", "2022-01", "2022-02"]
    assert month_range("2022-01", "2022-01") == ["2022-01"]
    assert month_range("2022-02", "2022-01") == []


def test_the_written_out_forms_are_spared_only_where_they_cannot_match():
    from crawler.normalise import datepatterns

    def unguarded(text):
        best = None
        for name, pattern in datepatterns._PATTERNS:
            match = pattern.search(text)
            if match is not None:
                key = (match.start(), -(match.end() - match.start()),
                       datepatterns._PRIORITY[name])
                if best is None or key < best[0]:
                    best = (key, name, match)
        return None if best is None else (best[1], best[2].group(0))

    texts = [raw for raw, *_ in PAPER_FORMS + RELATIVE + TRUE_CLOCKS] + [
        "17 THÁNG 9 NĂM 2026", "17 Tháng 9, 2026 07:31", "ngay 17 thang 9 nam 2026 07:31",
        "07:31 17 tHáNg 9 năm 2026", "17 tháng 9"]
    for text in texts:
        text = normalise_text(text)
        found = datepatterns._match_patterns(text)
        assert (None if found is None else (found[0], found[1].group(0))) == unguarded(text), text
