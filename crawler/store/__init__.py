"""Storing: the archive on disk and what keeps it exactly-once.

``archive`` (month-partitioned JSON Lines, rejects, the SQLite state of what is archived),
``exporter`` (the record's serialisation, a Scrapy item exporter), ``state`` (what the spider
keeps: listings walked, run history), ``warc`` (raw captures in WARC files), ``reextract``
(rebuilding records from WARC captures, offline).
"""
