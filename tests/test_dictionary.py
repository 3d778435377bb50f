"""The data dictionary is generated from the JSON Schema and cannot drift from it."""

from __future__ import annotations

import json
import re

from jsonschema import Draft202012Validator

from crawler.analysis.dictionary import COMMAND, PATH, render
from crawler.schema import article_schema
from tests.crawling import REPO


def test_the_dictionary_file_is_what_the_schema_makes():
    assert PATH.read_text("utf-8") == render(), f"docs/data-dictionary.md is stale: run {COMMAND}"


def test_every_field_has_a_meaning_and_an_example_that_the_schema_accepts():
    for name, prop in article_schema()["properties"].items():
        assert prop.get("description"), f"{name}: no description"
        assert prop.get("examples"), f"{name}: no example"
        for example in prop["examples"]:
            assert not list(Draft202012Validator(prop).iter_errors(example)), \
                f"{name}: the example {example!r} does not fit the field's own schema"


def test_every_field_and_member_has_a_row():
    text = render()
    names = re.findall(r"^\| `([^`]+)` \|", text, re.MULTILINE)
    schema = article_schema()
    expected = []
    for name, prop in schema["properties"].items():
        expected.append(name)
        nested = prop.get("items", prop)
        prefix = f"{name}[]" if "items" in prop else name
        expected += [f"{prefix}.{member}" for member in nested.get("properties", {})]
    assert names == expected


def test_a_field_added_to_the_schema_gets_its_row():
    schema = json.loads(json.dumps(article_schema()))
    schema["properties"]["section_name"] = {
        "type": "string", "description": "Name of the section.", "examples": ["Chính trị"]}
    assert "| `section_name` | string | string | no | Name of the section. | `\"Chính trị\"` |" \
        in render(schema)


def test_the_docs_link_the_dictionary_and_map_every_field_to_its_code():
    readme = (REPO / "README.md").read_text("utf-8")
    assert "(docs/data-dictionary.md)" in readme
    archive = (REPO / "docs" / "archive.md").read_text("utf-8")
    assert "(data-dictionary.md)" in archive
    table = archive[archive.index("| field | meaning | made by |"):]
    table = table[:table.index("\n\n")]
    named = set(re.findall(r"`([a-z_]+)`", "\n".join(line.split(" | ")[0]
                                                    for line in table.splitlines())))
    missing = set(article_schema()["properties"]) - named
    assert not missing, f"docs/archive.md's field table lacks {sorted(missing)}"
