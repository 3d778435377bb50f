"""Record validation: the ValidationPipeline's job (pipelines/validation.py).

A record may be archived only when it meets the JSON Schema (article.schema.json, beside this
module) and the text rules the schema cannot say: required content present, text trimmed, NFC,
and free of HTML entities.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Any

from crawler.schema import article_check, article_validator

TEXT_FIELDS = ("title", "kicker", "lead", "body", "byline", "source", "section_name")
ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z]{2,8});", re.IGNORECASE)
REQUIRED_CONTENT = ("title", "body", "published_month")


def _holds_entity(text: str) -> bool:
    """True when a text holds an HTML entity left undecoded: one that decodes to something else
    ("&amp;", "&#233;"). A misspelt one ("&emdash;") is text the reader sees as written."""
    return any(html.unescape(m.group(0)) != m.group(0) for m in ENTITY.finditer(text))


def problems(record: dict[str, Any]) -> list[str]:
    """Return every reason a record may not be archived; empty when it is valid."""
    found = [f"missing {name}" for name in REQUIRED_CONTENT if not record.get(name)]
    # The compiled check passes nearly every record; jsonschema explains the others.
    errors = [] if article_check()(record) else article_validator().iter_errors(record)
    for error in sorted(errors, key=lambda e: list(e.path)):
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
        if _holds_entity(value):
            found.append(f"text: {name} holds an HTML entity")
    return found
