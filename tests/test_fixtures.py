"""Fixture pairs: each saved page or text dump, run through extraction and every pipeline, gives its expected record.

Cases live in tests/fixtures/articles/<case>/ (page.html) and tests/fixtures/dumps/<case>/
(dump.txt), each with meta.json (url, fetched_at, listing_raw) and expected.json. After a deliberate
extraction change, rewrite the expected files with ``UPDATE_FIXTURES=1 pytest tests/test_fixtures.py``
and review the diff: it is the change's effect on real output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from crawler.extract.response import item_from_response, response_from_file
from crawler.extract.textdump import parse_text_dump
from crawler.items import RECORD_FIELDS, ArticleItem
from crawler.process.processing import ItemProcessor, project_settings
from crawler.store.archive import CONTENT_FIELDS

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p for kind in ("articles", "dumps") for p in (FIXTURES / kind).iterdir()
               if p.is_dir())


def run_case(case: Path) -> ArticleItem:
    meta = json.loads((case / "meta.json").read_text("utf-8"))
    if (case / "page.html").exists():
        response = response_from_file((case / "page.html").read_bytes(), meta["url"])
        item = item_from_response(response, fetched_at=meta["fetched_at"],
                                  listing_raw=meta.get("listing_raw"))
    else:
        item = parse_text_dump((case / "dump.txt").read_text("utf-8"), url=meta["url"],
                               fetched_at=meta["fetched_at"])
    with ItemProcessor(project_settings({"ARCHIVE_ENABLED": False})) as processor:
        result, dropped = processor.process(item)
    assert dropped is None
    assert isinstance(result, ArticleItem), f"rejected: {getattr(result, 'reason', result)}"
    return result


@pytest.fixture(scope="module")
def records() -> dict[str, dict]:
    return {case.name: run_case(case).to_record() for case in CASES}


def expected_of(case: Path, record: dict) -> dict:
    path = case / "expected.json"
    if os.environ.get("UPDATE_FIXTURES") == "1":
        path.write_text(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                        "utf-8")
    return json.loads(path.read_text("utf-8"))


@pytest.mark.parametrize("field", RECORD_FIELDS)
@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_fixture_field(case, field, records):
    expected = expected_of(case, records[case.name])
    assert records[case.name][field] == expected[field]


def test_every_case_has_an_expected_record():
    assert len(CASES) >= 5
    assert all((case / "expected.json").exists() for case in CASES)


# The seed dump's facts, stated independently of expected.json.
SEED_TITLE = "Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh triển khai nhiệm vụ năm 2022"


def test_seed_dump_record(records):
    record = records["seed-2022-01-14"]
    assert record["title"] == SEED_TITLE
    assert (record["published_date"], record["published_precision"]) == ("2022-01-14", "day")
    assert record["published_at"] is None
    assert record["authors"] == ["Văn Trọng"]
    captions = [image["caption"] for image in record["images"]]
    assert len(captions) == 2 and len(set(captions)) == 2
    assert captions[1].startswith("Đồng chí Vũ Hữu Thi")
    body = record["body"]
    assert body.startswith("Sáng 14-1, Đảng ủy Khối")
    for line in ("BÁO NAM ĐỊNH ĐIỆN TỬ", "Tổng biên tập", "Tòa soạn", "toasoanbnd@gmail.com",
                 "Văn Trọng", "./.", "phát biểu chỉ đạo hội nghị.\n", "Vũ Hữu Thi"):
        assert line not in body, line
    assert not any(p in captions for p in body.split("\n\n"))


def test_old_cms_page_and_seed_dump_agree_on_content(records):
    page, dump = records["old-cms-2022"], records["seed-2022-01-14"]
    for field in ("title", "lead", "body", "authors", "published_date"):
        assert page[field] == dump[field], field
    assert [i["caption"] for i in page["images"]] == [i["caption"] for i in dump["images"]]


def test_unfamiliar_markup_comes_from_the_lower_layers(records):
    provenance = records["unfamiliar-markup"]["provenance"]
    assert {provenance["title"], provenance["published_raw"], provenance["body"]} == {"heuristic"}
    assert records["metadata-only"]["provenance"]["body"] == "metadata"


def test_content_fields_are_record_fields():
    assert set(CONTENT_FIELDS) <= set(RECORD_FIELDS)


def test_the_2019_template_is_read_by_the_site_profile():
    # The live site's real 2019 markup (docs/site-notes.md), stated independently of expected.json.
    item = run_case(FIXTURES / "articles" / "docbao-2019")
    assert item.site_template == "docbao-2019"
    assert (item.published_date, item.published_at, item.published_precision) == (
        "2019-12-01", None, "day")  # "06:12, 01/12/2019": 12-hour hour, then the month
    assert item.lead.startswith("Sáng 30-11") and item.body.startswith(item.lead)
    assert item.body.count(item.lead) == 1
    assert item.images[0]["caption"] == "Cán bộ, nhân dân xã Nam Thanh nạo vét kênh Cổ Gà."
    assert item.images[0]["caption"] not in item.body
    assert {k: item.provenance[k] for k in ("body", "lead", "published_raw", "images")} == {
        "body": "site", "lead": "site", "published_raw": "site", "images": "site"}
    assert item.authors == ["Minh Tuấn"] and "Tổng biên tập" not in item.body
