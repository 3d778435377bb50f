"""The data dictionary (docs/data-dictionary.md), generated from the record's JSON Schema.

One row per field and per member of a nested field (``images[].url``, ``capture.offset``): its
JSON type, its type in the export (crawler/analysis/export.py derives both from the same schema),
whether every record has it, its meaning (the schema's ``description``) and an example (the
schema's first ``examples`` value). tests/test_dictionary.py fails when the file differs from what
this module makes of the schema, so the two cannot drift apart:

    .venv/bin/python -m crawler.analysis.dictionary --write
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from crawler.analysis.export import TIMEZONE, Column, columns
from crawler.schema import article_schema, current_version

PATH = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"
COMMAND = ".venv/bin/python -m crawler.analysis.dictionary --write"


def type_name(column: Column) -> str:
    """Return a column's export type as Arrow (and so Parquet, pandas, polars) names it."""
    simple = {"string": "string", "int": "int64", "float": "float64", "bool": "bool",
              "date": "date32", "timestamp": f"timestamp[us, tz={TIMEZONE}]"}
    if column.kind in simple:
        return simple[column.kind]
    if column.kind == "list":
        assert column.item is not None
        return f"list<{type_name(column.item)}>"
    if column.keyed_by_field:
        return f"struct<one {type_name(column.members[0])} member per field of the record>"
    return "struct<" + ", ".join(m.name for m in column.members) + ">"


def json_type(prop: dict[str, Any]) -> str:
    """Return a property's JSON type as the schema states it (enum and const spelled out)."""
    if "const" in prop:
        return f"const {json.dumps(prop['const'])}"
    if "enum" in prop:
        return "one of " + ", ".join(json.dumps(v) for v in prop["enum"])
    types = prop.get("type", "any")
    text = " or ".join(types) if isinstance(types, list) else types
    if text == "array" and "items" in prop:
        text = f"array of {json_type(prop['items'])}"
    if prop.get("format"):
        text += f" ({prop['format']})"
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _example(prop: dict[str, Any]) -> str:
    if not prop.get("examples"):
        return ""
    return "`" + _cell(json.dumps(prop["examples"][0], ensure_ascii=False)) + "`"


def _rows(name: str, prop: dict[str, Any], column: Column, required: bool) -> list[str]:
    rows = [f"| `{name}` | {_cell(json_type(prop))} | {type_name(column)} | "
            f"{'yes' if required else 'no'} | {_cell(prop.get('description', ''))} | "
            f"{_example(prop)} |"]
    nested, members = prop, column
    if column.kind == "list" and column.item is not None and "items" in prop:
        nested, members, name = prop["items"], column.item, f"{name}[]"
    if members.kind == "struct" and "properties" in nested:
        needed = set(nested.get("required", []))
        for member, sub in zip(members.members, nested["properties"].values(), strict=True):
            rows += _rows(f"{name}.{member.name}", sub, member, member.name in needed)
    return rows


def render(schema: dict[str, Any] | None = None) -> str:
    """Return the data dictionary as Markdown."""
    schema = schema or article_schema()
    required = set(schema.get("required", []))
    lines = [
        "# Data dictionary",
        "",
        f"Generated from `crawler/schema/article.schema.json` (schema version "
        f"{current_version(schema)}) by `{COMMAND}`;",
        "do not edit by hand. One line of `ARCHIVE_DIR/articles/YYYY-MM.jsonl` is one record; "
        "`python -m crawler export` writes the same fields with the export types below "
        "(Parquet, DuckDB; CSV holds lists and structs as JSON text). *required*: the key is in "
        "every record (its value may still be null where the JSON type allows).",
        "",
        _cell(schema.get("description", "")),
        "",
        "| field | JSON type | export type | required | meaning | example |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for column, (name, prop) in zip(columns(schema), schema["properties"].items(), strict=True):
        lines += _rows(name, prop, column, name in required)
    lines += [
        "",
        f"Timestamps are exported as instants in the `{TIMEZONE}` zone (+07:00): pandas and "
        "polars show them at +07:00 as they are; DuckDB shows them in its session time zone, so "
        f"`SET TimeZone = '{TIMEZONE}'` first. Dates are calendar dates. `provenance` has one "
        "member per field of the record, null where no layer is recorded.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the dictionary, write it (--write) or check the file is current (--check)."""
    parser = argparse.ArgumentParser(prog="python -m crawler.analysis.dictionary")
    parser.add_argument("--write", action="store_true", help=f"write {PATH.name}")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        PATH.write_text(text, "utf-8")
        return 0
    if args.check:
        current = PATH.read_text("utf-8") if PATH.exists() else ""
        if current != text:
            print(f"{PATH} is stale: run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
