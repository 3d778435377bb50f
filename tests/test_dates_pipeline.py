"""DateNormalisationPipeline with in-memory Scrapy objects: fields, listing recovery, rejects, stats."""

from __future__ import annotations

import asyncio
import logging

import pytest
from scrapy.pipelines import ItemPipelineManager
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, RejectItem
from pipelines.dates import DateNormalisationPipeline

FETCHED_AT = "2024-02-06T15:07:33+07:00"


@pytest.fixture
def crawler():
    return get_crawler()


@pytest.fixture
def pipeline(crawler):
    return build_from_crawler(DateNormalisationPipeline, crawler)


def stats(crawler) -> dict:
    return {k: v for k, v in crawler.stats.get_stats().items() if k.startswith("archive/dates/")}


def article(**fields) -> ArticleItem:
    fields.setdefault("url", "https://baonamdinh.vn/channel/5083/202201/ky-niem-2548123/")
    fields.setdefault("id", "2548123")
    fields.setdefault("fetched_at", FETCHED_AT)
    fields.setdefault("cms", "old")
    fields.setdefault("title", "Kỷ niệm")
    fields.setdefault("body", "Sáng 14-1, ...")
    return ArticleItem(**fields)


def test_old_cms_line_gives_the_date_only(pipeline, crawler):
    item = article(published_raw="03:01, 14/01/2022", provenance={"published_raw": "site"})
    out = pipeline.process_item(item)
    assert out is item
    assert out.published_date == "2022-01-14"
    assert out.published_at is None
    assert out.published_precision == "day"
    assert out.published_month == "2022-01"
    assert out.published_raw == "03:01, 14/01/2022"
    assert out.provenance == {"published_raw": "site", "published_date": "site",
                              "published_month": "site", "published_at": "site"}
    assert stats(crawler) == {"archive/dates/exact": 1, "archive/dates/precision/day": 1}


def test_true_clock_is_kept(pipeline):
    item = article(cms="new", published_raw="14:16, 06/02/2024")
    out = pipeline.process_item(item)
    assert (out.published_date, out.published_at, out.published_precision) == (
        "2024-02-06",
        "2024-02-06T14:16:00+07:00",
        "minute",
    )


def test_extractor_provenance_is_left_alone(pipeline):
    item = article(
        published_raw="2024-02-06T14:16:00+07:00",
        provenance={"published_raw": "metadata", "published_date": "metadata"},
    )
    out = pipeline.process_item(item)
    assert out.provenance["published_date"] == "metadata"
    assert out.provenance["published_at"] == "metadata"


def test_listing_time_fills_in_what_the_page_hides(pipeline, crawler):
    item = article(
        published_raw="06:03, 31/03/2020",
        listing_raw="Cập nhật lúc: 18:18 |31/03/2020",
        provenance={"published_raw": "site"},
    )
    out = pipeline.process_item(item)
    assert out.published_date == "2020-03-31"
    assert out.published_at == "2020-03-31T18:18:00+07:00"
    assert out.published_precision == "minute"
    assert out.provenance["published_date"] == "site"
    assert out.provenance["published_at"] == "listing"
    assert out.published_raw == "06:03, 31/03/2020"
    assert out.listing_raw == "Cập nhật lúc: 18:18 |31/03/2020"
    assert stats(crawler) == {
        "archive/dates/exact": 1,
        "archive/dates/listing_time": 1,
        "archive/dates/precision/minute": 1,
    }


def test_listing_does_not_replace_an_equally_precise_page_time(pipeline, crawler):
    item = article(
        cms="new",
        published_raw="14:16, 06/02/2024",
        listing_raw="Cập nhật lúc: 14:20 |06/02/2024",
        provenance={"published_raw": "site"},
    )
    out = pipeline.process_item(item)
    assert out.published_at == "2024-02-06T14:16:00+07:00"
    assert out.provenance["published_at"] == "site"
    assert "archive/dates/listing_time" not in stats(crawler)


def test_listing_on_another_date_is_ignored_with_a_warning(pipeline, crawler, caplog):
    item = article(
        published_raw="06:03, 31/03/2020",
        listing_raw="Cập nhật lúc: 18:18 |01/04/2020",
        provenance={"published_raw": "site"},
    )
    with caplog.at_level(logging.WARNING, logger="pipelines.dates"):
        out = pipeline.process_item(item)
    assert (out.published_date, out.published_at, out.published_precision) == (
        "2020-03-31",
        None,
        "day",
    )
    assert out.provenance["published_at"] == "site"
    assert stats(crawler)["archive/dates/listing_mismatch"] == 1
    assert "disagrees" in caplog.text


def test_listing_gives_the_date_when_the_page_has_none(pipeline, crawler):
    item = article(published_raw=None, listing_raw="Cập nhật lúc: 18:18 |31/03/2020")
    out = pipeline.process_item(item)
    assert isinstance(out, ArticleItem)
    assert out.published_date == "2020-03-31"
    assert out.published_at == "2020-03-31T18:18:00+07:00"
    assert out.provenance == {"published_date": "listing", "published_month": "listing",
                              "published_at": "listing"}
    assert stats(crawler)["archive/dates/listing_date"] == 1
    assert stats(crawler)["archive/dates/page_error/empty"] == 1


def test_listing_gives_the_date_when_the_page_date_is_impossible(pipeline, crawler):
    item = article(published_raw="31/02/2020", listing_raw="Cập nhật lúc: 18:18 |31/03/2020")
    out = pipeline.process_item(item)
    assert isinstance(out, ArticleItem)
    assert out.published_date == "2020-03-31"
    assert out.published_raw == "31/02/2020"
    assert stats(crawler)["archive/dates/page_error/impossible"] == 1


def test_impossible_date_is_rejected_with_the_reason(pipeline, crawler):
    item = article(published_raw="31/02/2020")
    out = pipeline.process_item(item)
    assert isinstance(out, RejectItem)
    assert out.stage == "dates"
    assert out.retryable is False
    assert out.reason.startswith("date: impossible date '31/02/2020'")
    assert out.id == "2548123"
    assert out.record["published_raw"] == "31/02/2020"
    assert stats(crawler) == {"archive/dates/rejected/impossible": 1}


# Issue 11: a page with a body is never thrown away for want of a date. (These pages used to be
# rejected "date: no date on the page" / "date: unparseable date".)
@pytest.mark.parametrize("raw", [None, "", "  ", "Xuân Thu"])
def test_page_without_a_readable_date_gets_the_month_of_its_url(pipeline, crawler, raw):
    out = pipeline.process_item(article(published_raw=raw, provenance={"published_raw": "site"}
                                        if raw else {}))
    assert isinstance(out, ArticleItem)
    assert (out.published_date, out.published_month, out.published_at,
            out.published_precision) == (None, "2022-01", None, "month")
    assert out.published_raw == raw  # as printed, even when unreadable
    assert out.provenance["published_month"] == "url"
    assert "published_date" not in out.provenance
    expected = {"archive/dates/month_from_url": 1, "archive/dates/precision/month": 1}
    if raw and raw.strip():
        expected["archive/dates/ignored/site/unparseable"] = 1
    assert stats(crawler) == expected


def test_new_cms_url_gives_its_month_too(pipeline):
    out = pipeline.process_item(article(
        url="https://baonamdinh.vn/van-hoa-nghe-thuat/202312/le-hoi-8fb6d67/", cms="new"))
    assert (out.published_month, out.published_precision) == ("2023-12", "month")


@pytest.mark.parametrize("url", [None, "text:3f2a"])
def test_no_date_and_no_url_month_is_rejected(pipeline, crawler, url):
    out = pipeline.process_item(article(published_raw=None, url=url))
    assert isinstance(out, RejectItem)
    assert out.reason == "date: no date on the page"
    assert stats(crawler) == {"archive/dates/rejected/empty": 1}


def test_a_future_url_month_is_rejected(pipeline, crawler):
    out = pipeline.process_item(article(
        published_raw=None, url="https://baonamdinh.vn/channel/5083/202403/ky-niem-2548123/"))
    assert isinstance(out, RejectItem)
    assert out.reason.startswith("date: future date '202403': 2024-03 is after the fetch month")


def test_a_future_date_is_still_rejected(pipeline, crawler):
    out = pipeline.process_item(article(published_raw="07/02/2024"))
    assert isinstance(out, RejectItem)
    assert out.reason.startswith("date: future date ")
    assert stats(crawler) == {"archive/dates/rejected/future": 1}


def candidates(*pairs: tuple[str, str]) -> dict:
    """The fields extraction sets for a page offering these (layer, text) dates."""
    return {"date_candidates": list(pairs), "published_raw": pairs[0][1],
            "provenance": {"published_raw": pairs[0][0]}}


@pytest.mark.parametrize("placeholder", ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00+00:00",
                                         "1900-01-01", "1969-12-31T17:00:00-07:00"])
def test_a_placeholder_metadata_date_is_passed_over_and_counted(pipeline, crawler, placeholder):
    out = pipeline.process_item(article(**candidates(
        ("metadata", placeholder), ("metadata", "2022-01-14T10:20:00+07:00"))))
    assert (out.published_date, out.published_at) == ("2022-01-14", "2022-01-14T10:20:00+07:00")
    assert out.published_raw == "2022-01-14T10:20:00+07:00"
    assert out.provenance["published_date"] == "metadata"
    assert stats(crawler)["archive/dates/ignored/metadata/placeholder"] == 1


def test_only_a_placeholder_gives_the_url_month(pipeline, crawler):
    out = pipeline.process_item(article(**candidates(("metadata", "0001-01-01T00:00:00Z"))))
    assert (out.published_date, out.published_month, out.published_precision) == (
        None, "2022-01", "month")
    assert stats(crawler)["archive/dates/ignored/metadata/placeholder"] == 1


@pytest.mark.parametrize("layer", ["metadata", "heuristic"])
def test_an_impossible_date_outside_the_date_line_is_passed_over(pipeline, crawler, layer):
    out = pipeline.process_item(article(**candidates(
        (layer, "2022-13-45"), ("heuristic", "03:01, 14/01/2022"))))
    assert out.published_date == "2022-01-14"
    assert out.provenance["published_raw"] == "heuristic"
    assert stats(crawler)[f"archive/dates/ignored/{layer}/impossible"] == 1


def test_an_impossible_date_line_still_rejects_whatever_follows(pipeline, crawler):
    out = pipeline.process_item(article(**candidates(
        ("site", "31/02/2022"), ("metadata", "2022-01-14T10:20:00+07:00"))))
    assert isinstance(out, RejectItem)
    assert out.reason.startswith("date: impossible date '31/02/2022'")


def test_an_unreadable_date_line_falls_back_to_metadata(pipeline, crawler):
    out = pipeline.process_item(article(**candidates(
        ("site", "Thứ Hai, tuần trước"), ("metadata", "2022-01-14T10:20:00+07:00"))))
    assert out.published_at == "2022-01-14T10:20:00+07:00"
    assert out.provenance["published_raw"] == "metadata"


def test_a_future_metadata_date_still_rejects(pipeline, crawler):
    out = pipeline.process_item(article(**candidates(("metadata", "2030-01-01T00:00:00Z"))))
    assert isinstance(out, RejectItem)
    assert out.reason.startswith("date: future date")


def test_bad_listing_line_is_ignored_and_counted(pipeline, crawler):
    item = article(published_raw="03:01, 14/01/2022", listing_raw="Cập nhật lúc: 18:18 |31/02/2022")
    out = pipeline.process_item(item)
    assert (out.published_date, out.published_at) == ("2022-01-14", None)
    assert stats(crawler)["archive/dates/listing_error/impossible"] == 1


def test_relative_date_is_resolved_against_fetched_at_and_counted(pipeline, crawler):
    out = pipeline.process_item(article(published_raw="2 giờ trước"))
    assert out.published_at == "2024-02-06T13:07:00+07:00"
    assert out.published_precision == "hour"
    assert stats(crawler) == {"archive/dates/dateparser": 1, "archive/dates/precision/hour": 1}


@pytest.mark.parametrize("fetched_at", ["2024-02-06T15:07:33", "yesterday"])
def test_fetch_time_without_a_zone_is_rejected(pipeline, crawler, fetched_at):
    out = pipeline.process_item(article(published_raw="03:01, 14/01/2022", fetched_at=fetched_at))
    assert isinstance(out, RejectItem)
    assert "fetched_at" in out.reason
    assert stats(crawler) == {"archive/dates/rejected/fetched_at": 1}


def test_reject_items_pass_through_unchanged(pipeline, crawler):
    reject = RejectItem(url="https://baonamdinh.vn/x", reason="http 404", stage="fetch",
                        fetched_at=FETCHED_AT)
    assert pipeline.process_item(reject) is reject
    assert stats(crawler) == {}


def test_stats_add_up_over_several_items(pipeline, crawler):
    for raw in ["03:01, 14/01/2022", "14:16, 06/02/2024", "hôm qua", "31/02/2020"]:
        pipeline.process_item(article(published_raw=raw))
    assert stats(crawler) == {
        "archive/dates/exact": 2,
        "archive/dates/dateparser": 1,
        "archive/dates/precision/day": 2,
        "archive/dates/precision/minute": 1,
        "archive/dates/rejected/impossible": 1,
    }


@pytest.mark.filterwarnings("error::scrapy.exceptions.ScrapyDeprecationWarning")
def test_scrapy_calls_process_item_without_a_spider():
    crawler = get_crawler(
        settings_dict={"ITEM_PIPELINES": {"pipelines.dates.DateNormalisationPipeline": 500}}
    )
    manager = ItemPipelineManager.from_crawler(crawler)
    out = asyncio.run(manager.process_item_async(article(published_raw="03:01, 14/01/2022")))
    assert (out.published_date, out.published_at) == ("2022-01-14", None)
    assert crawler.stats.get_value("archive/dates/exact") == 1
