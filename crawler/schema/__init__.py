"""The archive record's JSON Schema, shipped with the package and loaded once.

Two validators of the same schema: ``article_validator`` (jsonschema) says what is wrong with a
record, ``article_check`` (fastjsonschema, the schema compiled to Python) only whether anything
is, about fifteen times faster; a record it refuses is then explained by the first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from importlib.resources import files
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator

# fastjsonschema knows drafts 4, 6 and 7. The schema is written for 2020-12 but uses nothing
# that draft 7 does not have with the same meaning (type, enum, const, pattern, minLength,
# minimum, required, properties, additionalProperties, items as one schema, if/then/else; format
# as an annotation only).
COMPILED_DRAFT = "http://json-schema.org/draft-07/schema#"


@lru_cache(maxsize=1)
def article_schema() -> dict[str, Any]:
    """Return the JSON Schema of an archive record (article.schema.json)."""
    return json.loads(files(__package__).joinpath("article.schema.json").read_text("utf-8"))


def current_version(schema: dict[str, Any] | None = None) -> str:
    """Return the schema version records are written with now: ``schema_version``'s ``const``,
    or the last of its ``enum`` (the versions an archive may hold, oldest first)."""
    prop = (schema or article_schema())["properties"]["schema_version"]
    return str(prop["const"]) if "const" in prop else str(prop.get("enum", [""])[-1])


@lru_cache(maxsize=1)
def article_validator() -> Draft202012Validator:
    """Return a validator for archive records."""
    return Draft202012Validator(article_schema())


@lru_cache(maxsize=1)
def article_check() -> Callable[[dict[str, Any]], bool]:
    """Return a fast test of the schema: True when a record is valid, False when it is not."""
    schema = dict(article_schema(), **{"$schema": COMPILED_DRAFT})
    # "format" is an annotation in 2020-12 (jsonschema checks none without a format checker):
    # the compiled check must not enforce it either, or the two would disagree.
    validate = fastjsonschema.compile(schema, use_formats=False)

    def check(record: dict[str, Any]) -> bool:
        try:
            validate(record)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return check
