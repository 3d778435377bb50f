"""ArchiveItemExporter: how an archive record is written, as a Scrapy item exporter.

One record a line, UTF-8, Vietnamese as is (never ``\\uXXXX``), compact separators, an article's
fields in the schema's order (``crawler.items.RECORD_FIELDS``, as ``to_record`` gives them). The
archive (crawler/store/archive.py) serialises every article and reject line through it, and decides
where the line goes and when it counts as written; registered in FEED_EXPORTERS as ``archive``,
it gives the same lines to a plain feed: ``scrapy crawl baonamdinh -O out.jsonl:archive``.
A feed holds articles only (new and changed ones, as the archive writes them); rejects stay in
the archive's rejects/ folder.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from scrapy.exporters import BaseItemExporter

from crawler.items import ArticleItem, RejectItem

__all__ = ["ArchiveItemExporter"]


class ArchiveItemExporter(BaseItemExporter):
    """Serialise archive records as JSON Lines; write articles to ``file`` when exporting a feed."""

    def __init__(self, file: BinaryIO | None = None, **kwargs: Any):
        super().__init__(dont_fail=True, **kwargs)
        self.file = file
        self._encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def _fields(self, item: Any) -> dict[str, Any]:
        if isinstance(item, (ArticleItem, RejectItem)):
            record = item.to_record()
        else:
            record = dict(item)
        if self.fields_to_export is None or isinstance(item, RejectItem):
            return record
        # A feed's FEED_EXPORT_FIELDS: a list of names, or a dict of name -> output name.
        fields = self.fields_to_export
        pairs = fields.items() if isinstance(fields, dict) else ((f, f) for f in fields)
        return {out: record.get(name) for name, out in pairs}

    def serialize_item(self, item: Any) -> bytes:
        """Return the archive line of an item or record dict: JSON, UTF-8, newline-terminated."""
        return (self._encoder.encode(self._fields(item)) + "\n").encode("utf-8")

    def export_item(self, item: Any) -> None:
        """Write an article's line to the feed file; rejects are not part of a feed."""
        if isinstance(item, RejectItem):
            return
        assert self.file is not None, "a feed exporter needs a file"
        self.file.write(self.serialize_item(item))

