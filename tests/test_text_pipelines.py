"""The text-side pipelines (100-400) on in-memory items, alone and in ITEM_PIPELINES order."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, RejectItem
from crawler.normalise.text import clean_text
from pipelines.boilerplate import BoilerplatePipeline
from pipelines.bylines import BylinePipeline
from pipelines.captions import CaptionPipeline
from pipelines.text import TextCleanupPipeline
from tests.test_text import CAPTION_1, CAPTION_2, LAST, LEAD, PARA, SEED_DUMP, SEED_MASTHEAD

URL = "https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-2547000/"
FETCHED_AT = "2022-01-14T16:00:00+07:00"
PIPELINES = (TextCleanupPipeline, BoilerplatePipeline, CaptionPipeline, BylinePipeline)


def _body(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


def article(**fields: Any) -> ArticleItem:
    return ArticleItem(url=URL, fetched_at=FETCHED_AT, **fields)


@pytest.fixture
def crawler():
    return get_crawler()


def build(cls: type, crawler):
    return build_from_crawler(cls, crawler)


def stats(crawler) -> dict[str, Any]:
    return crawler.stats.get_stats()


@pytest.mark.parametrize("cls", PIPELINES)
def test_reject_passes_through_unchanged(cls: type, crawler) -> None:
    reject = RejectItem(url=URL, reason="http 404", stage="fetch", fetched_at=FETCHED_AT)
    before = dataclasses.replace(reject)
    assert build(cls, crawler).process_item(reject) is reject
    assert reject == before


@pytest.mark.parametrize("cls", PIPELINES)
def test_process_item_takes_no_spider_argument(cls: type, crawler) -> None:
    item = article(title="Tiêu đề", lead=LEAD, body=LEAD)
    assert build(cls, crawler).process_item(item) is item


# --- TextCleanupPipeline ------------------------------------------------------------------------


def test_text_cleanup(crawler) -> None:
    item = article(
        title="<script>x()</script>Đảng ủy&nbsp;Khối\ntriển khai [links()]",
        kicker=" Tin &amp; sự kiện ",
        lead="Sáng 14-1,\u200b hội nghị",
        body="<b>Sáng 14-1,</b> hội nghị\n\n\n\nĐoạn\u00a0hai",
        byline=" Tin ảnh:  Văn Trọng ",
        images=[{"url": "a.jpg", "caption": " Ảnh &amp; chú thích ", "alt": "<i>alt</i>"}],
        authors=[" Văn  Trọng ", "Văn Trọng", ""],
    )
    build(TextCleanupPipeline, crawler).process_item(item)
    assert item.title == "Đảng ủy Khối triển khai"
    assert item.kicker == "Tin & sự kiện"
    assert item.lead == "Sáng 14-1, hội nghị"
    assert item.body == "Sáng 14-1, hội nghị\n\nĐoạn hai"
    assert item.byline == "Tin ảnh: Văn Trọng"
    assert item.images == [{"url": "a.jpg", "caption": "Ảnh & chú thích", "alt": "alt"}]
    assert item.authors == ["Văn Trọng"]
    assert stats(crawler)["archive/text/items"] == 1


# --- BoilerplatePipeline ------------------------------------------------------------------------


def test_boilerplate(crawler) -> None:
    item = article(lead=LEAD, body=_body(LEAD, ",,,", PARA, LAST, SEED_MASTHEAD))
    build(BoilerplatePipeline, crawler).process_item(item)
    assert item.body == _body(LEAD, PARA, LAST)
    assert item.lead == LEAD
    assert stats(crawler)["archive/boilerplate/lines_removed"] == 6
    assert stats(crawler)["archive/boilerplate/footer_cut"] == 1


def test_boilerplate_leaves_clean_text_alone(crawler) -> None:
    item = article(lead=LEAD, body=_body(LEAD, PARA, LAST))
    build(BoilerplatePipeline, crawler).process_item(item)
    assert item.body == _body(LEAD, PARA, LAST)
    assert "archive/boilerplate/lines_removed" not in stats(crawler)
    assert "archive/boilerplate/footer_cut" not in stats(crawler)


# --- CaptionPipeline ----------------------------------------------------------------------------


def test_captions(crawler) -> None:
    item = article(
        lead=LEAD,
        body=_body(LEAD, f"{CAPTION_1}\n{CAPTION_1}", PARA, CAPTION_2, LAST),
        images=[
            {"url": "a.jpg", "caption": CAPTION_1, "alt": CAPTION_1},
            {"url": "b.jpg", "caption": CAPTION_2, "alt": CAPTION_1},
            {"url": "b.jpg", "caption": None, "alt": None},
        ],
    )
    build(CaptionPipeline, crawler).process_item(item)
    assert item.images == [
        {"url": "a.jpg", "caption": CAPTION_1},
        {"url": "b.jpg", "caption": CAPTION_2},
    ]
    assert item.body == _body(LEAD, PARA, LAST)
    assert stats(crawler)["archive/captions/images"] == 2
    assert stats(crawler)["archive/captions/images_merged"] == 1
    assert stats(crawler)["archive/captions/body_copies_removed"] == 3


# --- BylinePipeline -----------------------------------------------------------------------------


def test_byline_from_body(crawler) -> None:
    item = article(lead=LEAD, body=_body(LEAD, LAST + "./.", "Tin ảnh: Văn Trọng"))
    build(BylinePipeline, crawler).process_item(item)
    assert item.body == _body(LEAD, LAST)
    assert item.byline == "Tin ảnh: Văn Trọng"
    assert item.authors == ["Văn Trọng"]
    assert item.source is None
    assert item.provenance["authors"] == "byline"
    assert stats(crawler)["archive/bylines/found"] == 1


def test_byline_from_markup_keeps_top_author(crawler) -> None:
    item = article(
        lead=LEAD,
        body=_body(LEAD, LAST + "./.", "Phạm Gia Túc"),
        byline="Phạm Gia Túc",
        authors=["Phạm Gia Túc"],
        provenance={"authors": "top"},
    )
    build(BylinePipeline, crawler).process_item(item)
    assert item.body == _body(LEAD, LAST)
    assert item.byline == "Phạm Gia Túc"
    assert item.authors == ["Phạm Gia Túc"]
    assert item.provenance["authors"] == "top"


def test_byline_merges_with_top_author(crawler) -> None:
    item = article(
        lead=LEAD,
        body=_body(LEAD, LAST + "./.", "Ảnh: Văn Trọng"),
        authors=["Phạm Gia Túc"],
        provenance={"authors": "top"},
    )
    build(BylinePipeline, crawler).process_item(item)
    assert item.authors == ["Phạm Gia Túc", "Văn Trọng"]
    assert item.provenance["authors"] == "top"


def test_byline_source_only(crawler) -> None:
    item = article(lead=LEAD, body=_body(LEAD, LAST + "./.", "Theo TTXVN"))
    build(BylinePipeline, crawler).process_item(item)
    assert (item.authors, item.source, item.byline) == ([], "TTXVN", "Theo TTXVN")
    assert "authors" not in item.provenance
    assert stats(crawler)["archive/bylines/source_only"] == 1


def test_byline_missing(crawler) -> None:
    item = article(lead=LEAD, body=_body(LEAD, PARA, LAST + "./."))
    build(BylinePipeline, crawler).process_item(item)
    assert item.body == _body(LEAD, PARA, LAST)
    assert (item.byline, item.authors) == (None, [])
    assert stats(crawler)["archive/bylines/missing"] == 1


# --- All four, on the seed dump -----------------------------------------------------------------


def seed_item() -> ArticleItem:
    """An ArticleItem as the extractor would hand over the seed dump."""
    blocks = SEED_DUMP.split("\n\n")
    title, lead = blocks[0], blocks[2]
    # Blocks 3 and 5: the alt copy, then the visible caption, one newline apart.
    captions = [blocks[3].split("\n"), blocks[5].split("\n")]
    assert all(len(c) == 2 and c[0].startswith("Đồng chí") for c in captions)
    return article(
        title=title,
        lead=lead,
        body="\n\n".join(blocks[2:]),
        images=[{"url": None, "caption": c[1], "alt": c[0]} for c in captions],
    )


def test_seed_dump_through_all_four(crawler) -> None:
    item = seed_item()
    for cls in PIPELINES:
        item = build(cls, crawler).process_item(item)
    body = item.body
    paragraphs = body.split("\n\n")
    assert body.startswith("Sáng 14-1, Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh tổ chức")
    assert paragraphs[0] == item.lead
    for masthead_line in clean_text(SEED_MASTHEAD).split("\n\n"):
        assert masthead_line not in body
    for fragment in ("BÁO NAM ĐỊNH", "Tổng biên tập", "Tòa soạn", "Điện thoại", "Email"):
        assert fragment not in body
    assert CAPTION_1 not in body
    assert "Đồng chí Vũ Hữu Thi" not in body
    assert "Tin ảnh" not in body and "Văn Trọng" not in body
    assert "./." not in body and "/." not in body
    assert paragraphs[-1].endswith("tiêu biểu năm 2021.")
    assert len(paragraphs) == 5
    assert item.authors == ["Văn Trọng"]
    assert item.byline == "Tin ảnh: Văn Trọng"
    assert [image["caption"] for image in item.images] == [CAPTION_1, CAPTION_2]
    assert item.provenance == {"authors": "byline", "byline": "body"}
    assert item.title == SEED_DUMP.split("\n", 1)[0]
    recorded = stats(crawler)
    assert recorded["archive/boilerplate/footer_cut"] == 1
    assert recorded["archive/boilerplate/lines_removed"] == 5
    assert recorded["archive/captions/body_copies_removed"] == 4
    assert recorded["archive/bylines/found"] == 1
