"""Work a run leaves undone, and when that makes its exit status 9 (crawler/run/outcome.py).

A run may end with work left for the next one: a walk cut short (a listing still linking a next
page after LISTING_MAX_PAGES pages; a sitemap index nested deeper than SITEMAP_MAX_DEPTH; the
run's SITEMAP_MAX_FILES or SITEMAP_MAX_BYTES spent), listing pages that failed after every retry
(their listings stay open, so the next nightly walks them to their end), article pages left for
the next run (retryable rejects: a fetch that failed, 5xx, a timeout, a truncated or empty page,
a date ahead of our clock, a Retry-After beyond SITE_RETRY_AFTER_MAX), and article pages
rejected for good. The run report (crawler/run/report.py) puts these under ``undone`` and, through
``undone_problems``, makes a problem of each that passes its threshold: a cut walk, a run whose
every listing failed, or a site that asked us to wait longer than we do, always; failed listing
pages and article pages by their share, with a threshold per mode (REPORT_*_MAX settings: a
nightly tolerates what the next night repairs, a backfill is run to be complete).
"""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger(__name__)

WALKS_CUT_KEY = "archive/walks/cut"
WALKS_CUT_COUNT_KEY = "archive/walks/cut_count"
# Cut walks named in the report (and in its problem); the rest are counted.
WALKS_NAMED = 20
MODES = ("nightly", "backfill")
# Threshold settings -> what each bounds (a share of listing pages, or of article pages).
THRESHOLDS = {
    "REPORT_LISTINGS_FAILED_MAX": "listing_pages_failed",
    "REPORT_ARTICLES_LEFT_MAX": "articles_left",
    "REPORT_ARTICLES_REJECTED_MAX": "articles_rejected",
}
RETRY_AFTER_PREFIX = "archive/politeness/retry_after/"


def cut_walk(stats: Any, walk: str, why: str) -> None:
    """Record a walk cut short (``listing /channel/5083/``, ``sitemap URL``) and say why, once
    at WARNING; the caller cuts each walk once."""
    stats.inc_value(WALKS_CUT_COUNT_KEY)
    cut = list(stats.get_value(WALKS_CUT_KEY) or [])
    if len(cut) < WALKS_NAMED:
        stats.set_value(WALKS_CUT_KEY, [*cut, {"walk": walk, "why": why}])
    logger.warning("walk cut short: %s: %s; it is left for the next run", walk, why)


def threshold(settings: Any, name: str, mode: str | None) -> float:
    """Return a REPORT_*_MAX setting for a run's mode: a share (0..1), given as one number for
    both modes or as ``{"nightly": x, "backfill": y}`` (JSON on the command line); raise
    ValueError for anything else."""
    value = settings.get(name)
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("{") else float(text)
    if isinstance(value, dict):
        if sorted(value) != sorted(MODES):
            raise ValueError(f"{name}={value}: give one share, or one for each of "
                             f"{', '.join(MODES)}")
        value = value[mode or "nightly"]
    share = float(value)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"{name}={share}: a share of pages, from 0 to 1")
    return share


def undone(stats: Any, counts: dict[str, int]) -> dict[str, Any]:
    """Return the report's ``undone``: walks cut, listing pages failed, article pages left for
    the next run and rejected for good, and what the site asked of our pace."""
    get = lambda key: int(stats.get_value(key, 0) or 0)  # noqa: E731
    listings = get("archive/listings/rejected")  # a listing redirected off the site
    articles = sum(counts[name] for name in ("new", "updated", "unchanged", "failed",
                                             "rejected")) - listings
    left = get("archive/rejected/retryable")
    read, failed = get("archive/requests/listing_pages"), get("archive/listings/failed")
    return {
        "walks_cut": {"count": get(WALKS_CUT_COUNT_KEY),
                      "walks": list(stats.get_value(WALKS_CUT_KEY) or [])},
        "listing_pages": read + failed,
        "listing_pages_failed": failed,
        "every_listing_failed": bool(get("archive/listings/every_failed")),
        "articles": articles,
        "articles_left": left,
        "articles_rejected": counts["failed"] + counts["rejected"] - left - listings,
        "retry_after": {key.removeprefix(RETRY_AFTER_PREFIX): value
                        for key, value in sorted(stats.get_stats().items())
                        if key.startswith(RETRY_AFTER_PREFIX)},
    }


def undone_problems(report: dict[str, Any], limits: dict[str, float], *, cap: float
                    ) -> list[str]:
    """Return what is left for the next run, one message per problem (exit status 9)."""
    done = report["undone"]
    problems = []
    cut = done["walks_cut"]
    if cut["count"]:
        named = "; ".join(f"{walk['walk']} ({walk['why']})" for walk in cut["walks"])
        more = cut["count"] - len(cut["walks"])
        problems.append(f"{cut['count']} walk(s) cut short: {named}"
                        f"{f' and {more} more' if more > 0 else ''}; the next run walks them "
                        "again (raise the bound named if the site is really that deep)")
    if done["every_listing_failed"]:
        problems.append(f"every listing failed ({done['listing_pages_failed']} listing pages "
                        "after every retry): nothing was walked, so the run does not count as "
                        "finished and the next run walks every listing to its end")
    refused = done["retry_after"].get("refused", 0)
    if refused:
        problems.append(f"the site asked us to slow down: Retry-After up to "
                        f"{done['retry_after'].get('longest', 0):g} s, more than "
                        f"SITE_RETRY_AFTER_MAX={cap:g} s, on {refused} page(s): they are left "
                        "for the next run (retryable rejects)")
    mode = report.get("mode") or "nightly"
    for name, what in THRESHOLDS.items():
        total = done["listing_pages" if what == "listing_pages_failed" else "articles"]
        count = done[what]
        if not total or count / total <= limits[what] or done["every_listing_failed"] and \
                what == "listing_pages_failed":
            continue
        share = f"{count} of {total} ({count / total:.0%}, above {name}={limits[what]:g} " \
                f"for a {mode})"
        problems.append({
            "listing_pages_failed": f"{share} listing pages failed after every retry: their "
                                    "listings stay open, and the next run walks them to their "
                                    "end",
            "articles_left": f"{share} article pages are left for the next run (fetches that "
                             "failed, 5xx, timeouts, truncated or empty pages; retryable "
                             "rejects): the next run fetches them again",
            "articles_rejected": f"{share} article pages were rejected for good (not "
                                 "articles, 404, unreadable dates...): see rejects/; a backfill "
                                 "tries them again",
        }[what])
    return problems
