"""CrawlStats: Scrapy's in-memory stats collector without its per-access deprecation hook.

Scrapy 2.19's ``StatsCollector.__getattribute__`` wraps every method of the collector, on every
attribute access (its own ``self._stats`` included), to warn about a ``spider`` argument that is
deprecated: 2.8 µs a call against 0.15 µs here. A crawl makes some thirty stats calls an
article in its own process (the downloader's, the WARC capture's, the replayed figures of the
worker processes, the archive's), where the engine's core is the crawl's narrowest part. The
collector is otherwise Scrapy's ``MemoryStatsCollector``, methods and figures alike; a
``spider`` argument is still accepted, only not warned about (this project passes none).
"""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector


class CrawlStats(MemoryStatsCollector):
    """Scrapy's ``MemoryStatsCollector``, with plain attribute access (``STATS_CLASS``)."""

    __getattribute__ = object.__getattribute__
