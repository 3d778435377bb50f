"""ImageMirrorPipeline: each image gets the URL that still serves it, if a mirror is known (350).

The logic is in crawler/normalise/images.py;
this class wires it into Scrapy (settings, stats, drops).
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from crawler.items import ArticleItem
from crawler.normalise.images import with_mirrors
from crawler.site.urls import site_hosts


class ImageMirrorPipeline:
    """Add ``mirror_url`` to every image of an article (None where no mirror is known)."""

    # Needs nothing but the item: a crawl may run it in a worker process
    # (crawler/process/workers.py).
    worker_safe = True

    def __init__(self, mirrors: dict[str, str], hosts: frozenset[str], stats: Any) -> None:
        self.mirrors = mirrors
        self.hosts = hosts
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ImageMirrorPipeline:
        settings = crawler.settings
        hosts = site_hosts(settings.get("SITE_URL"), settings.getlist("SITE_HOST_ALIASES"))
        mirrors = {str(k): str(v) for k, v in settings.getdict("IMAGE_MIRRORS").items()}
        return cls(mirrors, hosts, crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Give an ArticleItem's images their mirror_url; pass anything else through untouched."""
        if not isinstance(item, ArticleItem):
            return item
        item.images = with_mirrors(item.images or [], self.mirrors, self.hosts)
        self.stats.inc_value("archive/images/mirrored",
                             sum(1 for image in item.images if image["mirror_url"]))
        return item
