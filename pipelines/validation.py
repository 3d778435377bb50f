"""ValidationPipeline: only a record that meets the JSON Schema and the text rules goes on to the archive."""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from crawler.items import ArticleItem, RejectItem
from crawler.schema import article_validator

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("title", "kicker", "lead", "body", "byline", "source")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z]{2,8});", re.IGNORECASE)
REQUIRED_CONTENT = ("title", "body", "published_date")


def problems(record: dict[str, Any]) -> list[str]:
    """Return every reason a record may not be archived; empty when it is valid."""
    found = [f"missing {name}" for name in REQUIRED_CONTENT if not record.get(name)]
    for error in sorted(article_validator().iter_errors(record), key=lambda e: list(e.path)):
        where = "/".join(map(str, error.path)) or "record"
        found.append(f"schema: {where}: {error.message}")
    texts = [(name, record.get(name)) for name in TEXT_FIELDS]
    texts += [(f"images/{i}/caption", img.get("caption")) for i, img in
              enumerate(record.get("images") or [])]
    texts += [(f"authors/{i}", a) for i, a in enumerate(record.get("authors") or [])]
    for name, value in texts:
        if not isinstance(value, str):
            continue
        if value != value.strip():
            found.append(f"text: {name} is not trimmed")
        if not unicodedata.is_normalized("NFC", value):
            found.append(f"text: {name} is not NFC")
        if ENTITY.search(value):
            found.append(f"text: {name} holds an HTML entity")
    return found


class ValidationPipeline:
    """Turn an article that fails the schema or the text rules into a reject with the reasons."""

    def __init__(self, stats: Any):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ValidationPipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        """Pass valid articles and rejects through; replace an invalid article by its reject."""
        if not isinstance(item, ArticleItem):
            return item
        found = problems(item.to_record())
        if not found:
            self.stats.inc_value("archive/validation/ok")
            return item
        self.stats.inc_value("archive/validation/failed")
        for reason in found:
            self.stats.inc_value(f"archive/validation/problem/{reason.split(':')[0]}")
        logger.warning("record %s (%s) is invalid: %s", item.id, item.url, "; ".join(found))
        return RejectItem.from_article(item, reason="; ".join(found), stage="validation")
