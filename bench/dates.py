"""Date benchmark: our parse_published against dateparser.parse alone on the site's date forms."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import dateparser

from bench.stats import summary
from crawler.normalise.dates import (
    DATEPARSER_LANGUAGES,
    DATEPARSER_SETTINGS,
    VN_TZ,
    DateError,
    parse_published,
)


def date_strings(truth: list[dict[str, Any]], count: int) -> list[tuple[str, str, str]]:
    """Return (text, cms, true date) for article date lines and listing lines, alternating."""
    step = max(1, len(truth) // max(1, count // 2))
    samples = []
    for line in truth[::step][: count // 2]:
        samples.append((line["date_line"], line["cms"], line["published_date"]))
        at = dt.datetime.fromisoformat(line["published_at"]).astimezone(VN_TZ)
        listing = f"Cập nhật lúc: {at:%H:%M} |{at:%d/%m/%Y}"
        samples.append((listing, line["cms"], line["published_date"]))
    return samples


def run(samples: list[tuple[str, str, str]], *, now: dt.datetime) -> dict[str, Any]:
    """Time one call per string for each parser; also count the dates each gets right."""
    settings = dict(DATEPARSER_SETTINGS, RELATIVE_BASE=now.astimezone(VN_TZ).replace(tzinfo=None))
    ours_times: list[float] = []
    ref_times: list[float] = []
    ours_right = ref_right = 0
    for text, cms, _want in samples[:20]:  # warm-up: dateparser loads its language data lazily
        dateparser.parse(text, languages=DATEPARSER_LANGUAGES, settings=settings)
        try:
            parse_published(text, now=now, cms=cms)
        except DateError:
            pass
    for text, cms, want in samples:
        started = time.perf_counter()
        try:
            ours = parse_published(text, now=now, cms=cms).published_date
        except DateError:
            ours = None
        ours_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        ref = dateparser.parse(text, languages=DATEPARSER_LANGUAGES, settings=settings)
        ref_times.append(time.perf_counter() - started)
        ours_right += ours == want
        ref_right += ref is not None and ref.astimezone(VN_TZ).date().isoformat() == want
    n = len(samples) or 1
    return {
        "strings": len(samples),
        "ours_us": summary(ours_times, 1e6),
        "ref_us": summary(ref_times, 1e6),
        "ours_date_right": ours_right / n,
        "ref_date_right": ref_right / n,
    }
