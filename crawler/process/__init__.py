"""Processing pages outside Scrapy's engine: the pipelines' runners and their helper processes.

``guard`` (an exception in a pipeline becomes a reject; the crawl's ITEM_PROCESSOR),
``processing`` (ITEM_PIPELINES run outside the engine, for the command line and re-extraction),
``forked`` (helper processes beside the engine, reading and answering over socket pairs),
``workers`` (extraction and pipelines 100-600 in worker processes, the archive in the crawl's
own), ``reextract`` (rebuilding records from WARC captures, offline) with ``captures`` (what the
WARC files hold: responses, revisits, requests' referers, listings).
"""
