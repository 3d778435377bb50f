"""Spiders decide what to fetch: ``baonamdinh`` (the one spider), with its arguments
(``options``), the live site's sitemaps (``sitemaps``) and web-archive backfills (``webarchive``).
Extraction lives in crawler/extract/."""
