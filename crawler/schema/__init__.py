"""The archive record's JSON Schema, shipped with the package and loaded once."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator


@lru_cache(maxsize=1)
def article_schema() -> dict[str, Any]:
    """Return the JSON Schema of an archive record (article.schema.json)."""
    return json.loads(files(__package__).joinpath("article.schema.json").read_text("utf-8"))


@lru_cache(maxsize=1)
def article_validator() -> Draft202012Validator:
    """Return a validator for archive records."""
    return Draft202012Validator(article_schema())
