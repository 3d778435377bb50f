"""Where article pages are found besides the live site's listings: sitemaps and feeds, and the
public web archives that still hold the paper after it was merged away in July 2025.

``sitemaps`` (robots.txt ``Sitemap:`` lines, sitemap XML, RSS and Atom feeds), ``wayback`` (the
Internet Archive's CDX server and its raw ``id_`` replay), ``commoncrawl`` (collinfo.json, the
pywb CDX index of each crawl, WARC records by byte range), ``pages`` (an archive's answer to the
page the site sent), ``warc_reader`` (WARC files, ours or another tool's, read record by
record). Pure functions that build request URLs and read responses into article candidates,
testable without the engine; the spider decides which requests to make. This module holds what
the archive sources share: the capture of an article as an index lists it, the choice of one
capture per article id, and the ``origin`` a record from an archive carries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from crawler.normalise.dates import VN_TZ
from crawler.site.urls import ArticleRef, ascii_digits, host_of, is_site_url, parse_article_url

LIVE, WAYBACK, COMMONCRAWL = "live", "wayback", "commoncrawl"
SOURCES = (LIVE, WAYBACK, COMMONCRAWL)
ARCHIVE_SOURCES = (WAYBACK, COMMONCRAWL)
PICKS = ("newest", "oldest")
# Media types of an article page in an archive's index (anything else is an image, a script...).
HTML_MEDIA_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass(frozen=True)
class Capture:
    """One archived copy of an article URL, as an archive's index lists it."""

    source: str
    timestamp: str  # 14 digits, UTC, as the archive writes it
    original_url: str  # the URL as archived (any host alias, scheme or slug variant)
    ref: ArticleRef
    digest: str | None = None
    # Common Crawl: the WARC file (relative to the data URL) and the record's byte range in it.
    filename: str | None = None
    offset: int | None = None
    length: int | None = None

    @property
    def month(self) -> str:
        """YYYY-MM of publication, from the article URL."""
        return f"{self.ref.month[:4]}-{self.ref.month[4:]}"


def query_prefixes(hosts: frozenset[str] | set[str], channels: frozenset[str] | None
                   ) -> list[str]:
    """Return the URL prefixes to list in an archive's index: each host, or each chosen section.

    An index key drops the scheme and a leading ``www.`` (SURT), so one prefix per bare host
    covers http, https and the ``www.`` form. With channels chosen, one prefix per host and
    channel (``/channel/5083/``) or category (``/van-hoa-nghe-thuat/``) lists only those."""
    bare = sorted({host_of(f"http://{h}/") for h in hosts if h})
    if not channels:
        return [f"{host}/" for host in bare]
    sections = sorted(f"channel/{c}/" if ascii_digits(c) else f"{c}/" for c in channels)
    return [f"{host}/{section}" for host in bare for section in sections]


def article_of(original_url: str, hosts: frozenset[str] | set[str]) -> ArticleRef | None:
    """Return the article an archived URL is, or None for other pages and other hosts."""
    if not is_site_url(original_url, hosts):
        return None
    return parse_article_url(original_url)


def timestamp_time(timestamp: str) -> dt.datetime:
    """Return an archive's 14-digit UTC timestamp as an aware datetime in Vietnam time."""
    digits = (timestamp or "").strip()
    if not ascii_digits(digits) or not 4 <= len(digits) <= 14:
        raise ValueError(f"not an archive timestamp: {timestamp!r}")
    digits = digits + "0101000000"[len(digits) - 4:] if len(digits) < 14 else digits
    moment = dt.datetime.strptime(digits, "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(VN_TZ)


def fetched_at_of(capture: Capture) -> str:
    """Return a record's ``fetched_at`` for a capture: when the archive fetched the page.

    Relative dates on the page ("2 giờ trước") meant that moment, and a date after it is a
    future date; our own fetch from the archive, years later, would make neither check right."""
    return timestamp_time(capture.timestamp).replace(microsecond=0).isoformat()


def origin_of(capture: Capture, archive_url: str) -> dict[str, Any]:
    """Return the ``origin`` of a record made from a capture (the record says where it came from).

    ``archive_url`` is what was fetched: the Wayback replay URL, or Common Crawl's WARC file
    (with ``offset`` and ``length`` of the record in it)."""
    return {
        "source": capture.source,
        "timestamp": capture.timestamp,
        "original_url": capture.original_url,
        "archive_url": archive_url,
        "offset": capture.offset,
        "length": capture.length,
    }


class CapturePicker:
    """Keeps, per article (by key), the best few captures: newest first (or oldest first).

    The first is fetched; the others stand by in case it turns out not to be the article (a
    parked domain's page, an error page archived with status 200). A capture whose content
    digest the index also shows under another article's URL is no article page (two articles
    never have the same page) and is never fetched."""

    def __init__(self, prefer: str = "newest", keep: int = 3):
        if prefer not in PICKS:
            raise ValueError(f"capture choice {prefer!r}: expected one of {', '.join(PICKS)}")
        self.newest = prefer == "newest"
        self.keep = max(1, keep)
        self.by_id: dict[str, list[Capture]] = {}
        self._digest_owner: dict[str, str] = {}
        self.shared: set[str] = set()

    def add(self, capture: Capture) -> bool:
        """Offer a capture; return True when its article was not seen before."""
        if capture.digest:
            owner = self._digest_owner.setdefault(capture.digest, capture.ref.key)
            if owner != capture.ref.key:
                self.shared.add(capture.digest)
        ranked = self.by_id.get(capture.ref.key)
        if ranked is None:
            self.by_id[capture.ref.key] = [capture]
            return True
        if any(c.timestamp == capture.timestamp and c.original_url == capture.original_url
               for c in ranked):
            return False
        ranked.append(capture)
        # Two stable sorts: by time (latest first when the newest is wanted), ties by URL, so
        # that runs over the same index agree.
        ranked.sort(key=lambda c: c.original_url)
        ranked.sort(key=lambda c: c.timestamp.ljust(14, "0"), reverse=self.newest)
        del ranked[self.keep:]
        return False

    def ranked(self, key: str) -> list[Capture]:
        """Return the kept captures of an article (by key) that may hold it, best first."""
        return [c for c in self.by_id.get(key, ()) if c.digest not in self.shared]

    @property
    def skipped(self) -> int:
        """How many kept captures are left out as pages shared by several articles' URLs."""
        return sum(1 for ranked in self.by_id.values() for c in ranked if c.digest in self.shared)

    def __len__(self) -> int:
        return len(self.ids())

    def ids(self) -> list[str]:
        """Return the key of every article with a capture that may hold it, in a stable order
        (by URL month, then key)."""
        return sorted((i for i in self.by_id if self.ranked(i)),
                      key=lambda i: (self.by_id[i][0].ref.month, i))
