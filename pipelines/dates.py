"""DateNormalisationPipeline: the printed date line becomes published_date/_at/_precision.

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
    parse_published,
)

logger = logging.getLogger(__name__)

STATS_PREFIX = "archive/dates"


class DateNormalisationPipeline:
    """Normalise an article's date line, let a listing's time fill in what the page hides."""

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

        page = self._parse_page(item, now)
        listing = self._parse_listing(item, now)
        if isinstance(page, DateError):
            if listing is None:
                return self._reject(item, page)
            # A page that hides its date is expected; one whose date line fails is worth a look.
            log = logger.info if page.kind == "empty" else logger.warning
            log(
                "article %s (%s): date taken from the listing %r because the page's failed: %s",
                item.id, item.url, item.listing_raw, page,
            )
            self._inc(f"page_error/{page.kind}")
            self._inc("listing_date")
            self._apply(item, listing, date_from="listing", at_from="listing")
            return item

        self._inc("exact" if page.is_exact else "dateparser")
        provenance_raw = item.provenance.get("published_raw")
        at_from = provenance_raw
        chosen = page
        if listing is not None:
            if listing.date != page.date:
                logger.warning(
                    "article %s (%s): listing date %s (%r) disagrees with the page's %s (%r); "
                    "keeping the page's",
                    item.id, item.url, listing.published_date, item.listing_raw,
                    page.published_date, item.published_raw,
                )
                self._inc("listing_mismatch")
            elif PRECISION_RANK[listing.precision] > PRECISION_RANK[page.precision]:
                chosen = ParsedDate(
                    date=page.date, at=listing.at, precision=listing.precision, method=page.method
                )
                at_from = "listing"
                self._inc("listing_time")
        self._apply(item, chosen, date_from=provenance_raw, at_from=at_from)
        return item

    def _parse_page(self, item: ArticleItem, now: datetime.datetime) -> ParsedDate | DateError:
        if item.published_raw is None or not item.published_raw.strip():
            return DateError("empty", item.published_raw or "", "no date on the page")
        try:
            return parse_published(item.published_raw, now=now, cms=item.cms,
                                   future_tolerance=self.clock_skew)
        except DateError as err:
            return err

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
        item.published_at = parsed.published_at
        item.published_precision = parsed.precision
        # The extractor's word on where the date came from stands; the listing overrides it
        # only for what the listing supplied.
        for field_name, source in (("published_date", date_from), ("published_at", at_from)):
            if source == "listing":
                item.provenance[field_name] = "listing"
            elif source is not None:
                item.provenance.setdefault(field_name, source)
        self._inc(f"precision/{parsed.precision}")

    def _reject(self, item: ArticleItem, err: DateError) -> RejectItem:
        self._inc(f"rejected/{err.kind}")
        if item.published_raw is None or not item.published_raw.strip():
            reason = "date: no date on the page"
        else:
            reason = f"date: {err}"
        logger.warning("article %s (%s) rejected: %s", item.id, item.url, reason)
        # A date ahead of our clock (beyond the skew) may be right by the next run: retryable.
        return RejectItem.from_article(item, reason=reason, stage="dates",
                                       retryable=err.kind == "future")
