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


# Issue 20's Vietnamese conventions, each fixture built on the markup of real papers (see its
# meta.json), stated independently of expected.json.
CONVENTIONS = [
    # the sapo in its own element goes to lead and opens the body
    ("vn-description-sapo", "lead", "Cầu vượt thép dài 520 m tại nút giao Ngã Tư Vọng được thông "
     "xe sáng nay, sớm hơn kế hoạch 15 ngày, giúp giảm ùn tắc cho cửa ngõ phía nam thủ đô vào dịp "
     "cuối năm."),
    ("vn-h2-sapo-section-title", "lead", "UBND tỉnh vừa công bố quy hoạch vùng sản xuất lúa chất "
     "lượng cao đến năm 2020, với tổng diện tích hơn 40.000 ha tập trung ở các huyện ven biển và "
     "vùng đồng bằng phía nam."),
    ("old-cms-summary-sapo", "lead", "Đến hết tháng 12-2021, huyện Xuân Trường đã hoàn thành dồn "
     "điền đổi thửa trên 2.350 ha đất nông nghiệp ở 12 xã, giảm số thửa bình quân mỗi hộ từ 4,2 "
     "thửa xuống còn 1,6 thửa, tạo điều kiện đưa cơ giới hóa vào sản xuất ngay từ vụ xuân năm "
     "2022."),
    ("old-cms-plain-sapo-div", "lead", "Chiều 4-9, UBND huyện Trực Ninh tổ chức lễ khánh thành cầu "
     "Cổ Chất bắc qua sông Ninh Cơ, nối xã Phương Định với thị trấn Cổ Lễ. Công trình có tổng mức "
     "đầu tư 68 tỷ đồng từ ngân sách tỉnh và huyện."),
    ("metadata-sapo-section", "lead", "Sáng 2-10, tuyến xe buýt số 05 Nam Định - Giao Thủy chính "
     "thức đi vào hoạt động, với 12 xe chạy từ 5 giờ 30 đến 19 giờ hằng ngày, giá vé 25.000 "
     "đồng/lượt."),
    # titles without the publisher's or the section's name
    ("vn-description-sapo", "title", "Thông xe cầu vượt thép nút giao Ngã Tư Vọng"),
    ("vn-h2-sapo-section-title", "title",
     "Tỉnh công bố quy hoạch vùng trồng lúa chất lượng cao đến năm 2020"),
    ("vn-evening-date-teasers", "title", "Đêm nhạc gây quỹ vì người nghèo đón Giáng sinh"),
    ("metadata-sapo-section", "title", "Khai trương tuyến xe buýt Nam Định - Giao Thủy"),
    ("vn-byline-right-aligned", "title", "Giữ đất lúa để bảo đảm an ninh lương thực"),
    # dates as printed, from the article's own date line
    ("vn-description-sapo", "published_at", "2012-12-20T10:18:00+07:00"),
    ("vn-h2-sapo-section-title", "published_at", "2012-12-21T15:20:00+07:00"),
    ("vn-evening-date-teasers", "published_at", "2012-12-24T23:05:00+07:00"),
    ("vn-byline-right-aligned", "published_at", "2012-12-20T15:20:15+07:00"),
    ("old-cms-summary-sapo", "published_at", None),  # the hh:MM trap: the date only
    ("old-cms-summary-sapo", "published_date", "2021-12-28"),
    # bylines at the start or the end of the body; "Theo …" is a source
    ("vn-description-sapo", "authors", ["Đoàn Loan"]),
    ("vn-evening-date-teasers", "authors", ["Ngọc Ánh"]),
    ("vn-byline-right-aligned", "authors", ["Lê Văn Thịnh"]),
    ("vn-h2-sapo-section-title", "authors", []),
    ("vn-h2-sapo-section-title", "source", "TTXVN"),
]


@pytest.mark.parametrize(("case", "field", "value"), CONVENTIONS)
def test_vietnamese_conventions(case, field, value, records):
    record = records[case]
    assert record[field] == value
    if field == "lead":
        assert record["body"].startswith(value + "\n\n") and record["body"].count(value) == 1
    if field == "authors" or field == "source":
        assert record["byline"] and record["byline"] not in record["body"]
