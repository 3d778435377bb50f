"""DateNormalisationPipeline: the page's date becomes published_date/_month/_at/_precision.

The date comes from the page (the first of its date texts that can be read: site date line,
metadata, heuristic), then the listing, then the month in the URL (precision ``month``, no day
invented). A future date, or an impossible one on the site's own date line, rejects the article;
placeholder and impossible metadata dates are passed over and counted.

The logic is in crawler/normalise/dates.py;
this class wires it into Scrapy (settings, stats, drops). A date up to DATES_CLOCK_SKEW seconds
after the fetch is taken as printed; a later one is a "future date" reject that is retryable
(the next run, with our clock past it, archives the article).
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from crawler.items import ArticleItem, RejectItem
from crawler.normalise.dates import (
    FUTURE_TOLERANCE,
    PRECISION_RANK,
    DateError,
    ParsedDate,
    is_placeholder,
    parse_published,
    parse_url_month,
)
from crawler.site.urls import parse_article_url

logger = logging.getLogger(__name__)

STATS_PREFIX = "archive/dates"
# Layers whose date is a guess at which text is the date: an impossible one there is passed
# over, not taken as a broken date line.
GUESSES = frozenset({"metadata", "heuristic"})


class DateNormalisationPipeline:
    """Normalise an article's date line, let a listing's time fill in what the page hides."""

    # Needs nothing but the item: a crawl may run it in a worker process
    # (crawler/process/workers.py).
    worker_safe = True

    def __init__(self, stats: Any, clock_skew: datetime.timedelta = FUTURE_TOLERANCE):
        self.stats = stats
        self.clock_skew = clock_skew

    @classmethod
    def from_crawler(cls, crawler: Any) -> DateNormalisationPipeline:
        skew = crawler.settings.getfloat("DATES_CLOCK_SKEW", FUTURE_TOLERANCE.total_seconds())
        return cls(crawler.stats, datetime.timedelta(seconds=skew))

    def _inc(self, key: str) -> None:
        self.stats.inc_value(f"{STATS_PREFIX}/{key}")

    def process_item(self, item: Any) -> Any:
        """Return the article with normalised dates, or its RejectItem; pass anything else on."""
        if not isinstance(item, ArticleItem):
            return item
        try:
            now = datetime.datetime.fromisoformat(item.fetched_at)
        except (TypeError, ValueError):
            now = None
        if now is None or now.tzinfo is None:
            # Without a true fetch time neither relative forms nor the future check can work.
            self._inc("rejected/fetched_at")
            return RejectItem.from_article(
                item,
                reason=f"date: fetched_at {item.fetched_at!r} is not a timezone-aware ISO time",
                stage="dates",
                retryable=False,
            )

        page, unread = self._page_date(item, now)
        listing = self._parse_listing(item, now)
        if page is None or isinstance(page, DateError):
            failed = page or unread
            if listing is not None:
                # A page that hides its date is expected; one whose date fails is worth a look.
                log = logger.warning if failed else logger.info
                log("article %s (%s): date taken from the listing %r (the page's: %s)",
                    item.id, item.url, item.listing_raw, failed or "none")
                self._inc(f"page_error/{failed.kind if failed else 'empty'}")
                self._inc("listing_date")
                self._apply(item, listing, date_from="listing", at_from="listing")
                return item
            if isinstance(page, DateError):
                return self._reject(item, page)
            return self._month_from_url(item, now, unread)

        parsed, layer, raw = page
        if raw != item.published_raw:
            # An earlier candidate could not be read: the record shows the text that gave the date.
            item.published_raw = raw
            if layer:
                item.provenance["published_raw"] = layer
        self._inc("exact" if parsed.is_exact else "dateparser")
        at_from = layer
        chosen = parsed
        if listing is not None:
            if listing.date != parsed.date:
                logger.warning(
                    "article %s (%s): listing date %s (%r) disagrees with the page's %s (%r); "
                    "keeping the page's",
                    item.id, item.url, listing.published_date, item.listing_raw,
                    parsed.published_date, raw,
                )
                self._inc("listing_mismatch")
            elif PRECISION_RANK[listing.precision] > PRECISION_RANK[parsed.precision]:
                chosen = ParsedDate(
                    date=parsed.date, at=listing.at, precision=listing.precision,
                    method=parsed.method,
                )
                at_from = "listing"
                self._inc("listing_time")
        self._apply(item, chosen, date_from=layer, at_from=at_from)
        return item

    def _page_date(
        self, item: ArticleItem, now: datetime.datetime
    ) -> tuple[tuple[ParsedDate, str | None, str] | DateError | None, DateError | None]:
        """Return (the first readable page date as (date, layer, text), or a DateError that must
        reject the article, or None when the page gives no date that can be read; the first
        error passed over).

        A future date rejects, whatever layer gave it, and so does an impossible date on the
        site's own date line or a text dump. A form no parser knows, and an impossible or
        placeholder date in metadata or in a heuristic guess, are passed over and counted."""
        candidates = list(item.date_candidates)
        if not candidates and item.published_raw and item.published_raw.strip():
            candidates = [(item.provenance.get("published_raw"), item.published_raw)]
        unread: DateError | None = None
        for layer, raw in candidates:
            try:
                parsed = parse_published(raw, now=now, cms=item.cms,
                                         future_tolerance=self.clock_skew)
            except DateError as err:
                if err.kind == "future" or (err.kind == "impossible" and layer not in GUESSES):
                    return err, unread
                self._inc(f"ignored/{layer or 'page'}/{err.kind}")
                logger.info("article %s (%s): %s date passed over: %s", item.id, item.url, layer,
                            err)
                unread = unread or err
                continue
            if layer == "metadata" and is_placeholder(parsed):
                self._inc("ignored/metadata/placeholder")
                logger.info("article %s (%s): placeholder metadata date %r passed over",
                            item.id, item.url, raw)
                continue
            return (parsed, layer, raw), unread
        return None, unread

    def _month_from_url(self, item: ArticleItem, now: datetime.datetime,
                        unread: DateError | None) -> Any:
        """Give the article the month of its URL (precision month), or reject it for no date."""
        ref = parse_article_url(item.url or "")
        try:
            month = parse_url_month(ref.month if ref else None, now=now,
                                    future_tolerance=self.clock_skew)
        except DateError as err:
            if err.kind == "future":
                return self._reject(item, err)
            return self._reject(item, unread or DateError("empty", "", "no date"))
        logger.info("article %s (%s): no readable date on the page; month %s from the URL",
                    item.id, item.url, month)
        self._inc("month_from_url")
        self._inc("precision/month")
        item.published_date = None
        item.published_at = None
        item.published_month = month
        item.published_precision = "month"
        item.provenance["published_month"] = "url"
        return item

    def _parse_listing(self, item: ArticleItem, now: datetime.datetime) -> ParsedDate | None:
        if item.listing_raw is None or not item.listing_raw.strip():
            return None
        try:
            return parse_published(item.listing_raw, now=now, cms=item.cms,
                                   future_tolerance=self.clock_skew)
        except DateError as err:
            logger.warning("article %s (%s): listing date ignored: %s", item.id, item.url, err)
            self._inc(f"listing_error/{err.kind}")
            return None

    def _apply(
        self, item: ArticleItem, parsed: ParsedDate, *, date_from: str | None, at_from: str | None
    ) -> None:
        item.published_date = parsed.published_date
        item.published_month = parsed.published_month
        item.published_at = parsed.published_at
        item.published_precision = parsed.precision
        # The extractor's word on where the date came from stands; the listing overrides it
        # only for what the listing supplied.
        for field_name, source in (("published_date", date_from),
                                   ("published_month", date_from), ("published_at", at_from)):
            if source == "listing":
                item.provenance[field_name] = "listing"
            elif source is not None:
                item.provenance.setdefault(field_name, source)
        self._inc(f"precision/{parsed.precision}")

    def _reject(self, item: ArticleItem, err: DateError) -> RejectItem:
        self._inc(f"rejected/{err.kind}")
        if err.kind == "empty":
            reason = "date: no date on the page"
        else:
            reason = f"date: {err}"
        logger.warning("article %s (%s) rejected: %s", item.id, item.url, reason)
        # A date ahead of our clock (beyond the skew) may be right by the next run: retryable.
        return RejectItem.from_article(item, reason=reason, stage="dates",
                                       retryable=err.kind == "future")
