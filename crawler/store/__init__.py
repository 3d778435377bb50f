"""Storing: the archive on disk and what keeps it exactly-once.

``archive`` (month-partitioned JSON Lines, rejects, the SQLite state of what is archived),
``exporter`` (the record's serialisation, a Scrapy item exporter), ``state`` (what the spider
keeps: listings walked, run history), ``statedb`` (the state database), ``reconcile`` (the state
follows the files), ``lock`` (one writer per archive), ``warc`` (raw captures written to WARC
files, and their CDXJ index).
"""
