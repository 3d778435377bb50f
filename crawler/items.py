"""Items that flow through the pipelines: ArticleItem per article, RejectItem per failure, and
PageItem, an article page the item processor has yet to extract."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from crawler import EXTRACTOR_VERSION

SCHEMA_VERSION = "1.4.0"
# Versions of the schema whose records an archive may hold (each one adds to the one before).
SCHEMA_VERSIONS = ("1.1.0", "1.2.0", "1.3.0", "1.4.0")

# Fields of the archived record, in the order they are written. Everything else on an item is
# working state of the pipelines and never reaches the archive.
RECORD_FIELDS = (
    "id",
    "url",
    "cms",
    "key",
    "kicker",
    "title",
    "lead",
    "body",
    "authors",
    "byline",
    "source",
    "images",
    "section",
    "section_name",
    "section_key",
    "published_date",
    "published_month",
    "published_at",
    "published_precision",
    "published_raw",
    "listing_raw",
    "fetched_at",
    "http_status",
    "capture",
    "origin",
    "legacy_encoding",
    "provenance",
    "extraction",
    "content_hash",
    "version",
    "extractor_version",
    "schema_version",
)


def article_key(cms: str | None, article_id: str) -> str:
    """Return the archive's key of an article: ``old:<id>`` or ``new:<id>`` by its CMS generation.

    The two generations number their articles independently, and an old-CMS number can be the
    same string as a new-CMS 7-hex id that happens to be all digits ("2548123"): the id alone
    is no key. An id without a generation (a text dump's ``text:<hash>``) is its own key."""
    return f"{cms}:{article_id}" if cms in ("old", "new") else article_id


def record_key(record: dict[str, Any]) -> str:
    """Return the key of an archived record: its ``key``, or for a record written before schema
    1.4.0 (which has none) the same key made from its ``cms`` and ``id``."""
    return record.get("key") or article_key(record.get("cms"), record["id"])


@dataclass
class ArticleItem:
    """One article as extracted; pipelines clean, normalise, validate and archive it in place."""

    url: str
    fetched_at: str
    id: str | None = None
    cms: str | None = None
    # The archive's key of the article: its CMS generation and id (article_key); set from them
    # when the record is made.
    key: str | None = None
    kicker: str | None = None
    title: str | None = None
    lead: str | None = None
    body: str | None = None
    authors: list[str] = field(default_factory=list)
    byline: str | None = None
    source: str | None = None
    images: list[dict[str, Any]] = field(default_factory=list)
    section: str | None = None
    # The section's name as the page prints it, and one key for the section in both CMS
    # generations (crawler/normalise/sections.py).
    section_name: str | None = None
    section_key: str | None = None
    published_date: str | None = None
    published_month: str | None = None
    published_at: str | None = None
    published_precision: str | None = None
    published_raw: str | None = None
    listing_raw: str | None = None
    http_status: int | None = None
    capture: dict[str, Any] | None = None
    # Where the page came from when not from the site itself: a web archive's capture
    # (crawler/sources/__init__.py origin_of); None for a page fetched from the live site.
    origin: dict[str, Any] | None = None
    # The legacy font encoding (tcvn3, vni) the page's text was converted from, "unknown" when
    # it reads like one that could not be told (crawler/normalise/legacy.py); None: Unicode.
    legacy_encoding: str | None = None
    provenance: dict[str, str] = field(default_factory=dict)
    # How sure the body's extraction is: {"confidence", "uncertain", "agreed"}
    # (crawler/extract/confidence.py); None in records of schema 1.1.0 and before.
    extraction: dict[str, Any] | None = None
    content_hash: str | None = None
    version: int | None = None
    extractor_version: str = EXTRACTOR_VERSION
    schema_version: str = SCHEMA_VERSION
    # Working state, never archived: every date text the page offers as (layer, text), in the
    # order tried (crawler/extract/article.py), so that the date pipeline can pass over one
    # it cannot read; and the site template whose body selector matched, for the run report.
    date_candidates: list[tuple[str, str]] = field(default_factory=list)
    site_template: str | None = None
    # The page's navigation links to section listings, (code, name): what the crawl learns
    # which old channel is which new slug from (pipelines/sections.py).
    section_links: tuple[tuple[str, str], ...] = ()

    def to_record(self) -> dict[str, Any]:
        """Return the archive record: the schema's fields only, in a stable order.

        Shallow: lists and dicts are the item's own (asdict's deep copy cost more than the
        extraction of a page); callers serialise the record, they do not change it."""
        if self.key is None and self.id:
            self.key = article_key(self.cms, self.id)
        return {name: getattr(self, name) for name in RECORD_FIELDS}


@dataclass
class RejectItem:
    """A page that could not become a valid record, kept with the reason so nothing is lost."""

    url: str
    reason: str
    stage: str
    fetched_at: str
    id: str | None = None
    retryable: bool = False
    http_status: int | None = None
    capture: dict[str, Any] | None = None
    origin: dict[str, Any] | None = None
    record: dict[str, Any] | None = None
    schema_version: str = SCHEMA_VERSION
    # The time a listing printed for the article: a retry of the reject is fetched with it.
    listing_raw: str | None = None

    def to_record(self) -> dict[str, Any]:
        """Return the reject as written to ARCHIVE_DIR/rejects/."""
        return asdict(self)

    @classmethod
    def from_article(
        cls, item: ArticleItem, *, reason: str, stage: str, retryable: bool = False
    ) -> RejectItem:
        """Turn an article that failed a pipeline stage into a reject with its partial record."""
        return cls(
            url=item.url,
            reason=reason,
            stage=stage,
            fetched_at=item.fetched_at,
            id=item.id,
            retryable=retryable,
            http_status=item.http_status,
            capture=item.capture,
            origin=item.origin,
            record=item.to_record(),
            listing_raw=item.listing_raw,
        )


@dataclass
class PageItem:
    """An article page fetched and decoded but not yet extracted (``read_page``'s result).

    What the spider yields for an article page: the item processor turns it into an
    ArticleItem or a RejectItem (``item_from_page``) before the pipelines, in a worker process
    when the crawl has some (crawler/process/workers.py), and sets ``outcome`` to what it became."""

    url: str
    html: str = field(repr=False)
    fetched_at: str
    site_url: str | None = None
    listing_raw: str | None = None
    http_status: int = 200
    capture: dict[str, Any] | None = None
    # The encoding the response declares, and how the page was read when that was wrong.
    encoding: str = "utf-8"
    decoding: str | None = None
    # The site's host aliases (image URLs on them are made canonical), and where a page from a
    # web archive came from (None: the live site).
    hosts: frozenset[str] | None = None
    origin: dict[str, Any] | None = None
    # The legacy font encoding its text was converted from, or "unknown" (ArticleItem's).
    legacy_encoding: str | None = None
    outcome: Any = field(default=None, repr=False, compare=False)
