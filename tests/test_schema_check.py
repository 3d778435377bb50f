"""The compiled schema check (fastjsonschema) accepts exactly the records jsonschema accepts."""

from __future__ import annotations

import copy
import random

from crawler.schema import article_check, article_schema, article_validator
from crawler.schema.validation import problems

VALID = {
    "id": "2548123", "url": "https://baonamdinh.vn/channel/5083/202201/dang-uy-2548123/",
    "cms": "old", "kicker": None, "title": "Đảng ủy Khối", "lead": "Sáng 14-1.",
    "body": "Sáng 14-1.\n\nHội nghị.", "authors": ["Văn Trọng"], "byline": "Văn Trọng",
    "source": None, "images": [{"url": "https://baonamdinh.vn/a.jpg", "caption": "Ảnh"}],
    "section": "5083", "section_name": "Pháp luật", "section_key": "phap-luat",
    "published_date": "2022-01-14", "published_month": "2022-01",
    "published_at": None, "published_precision": "day", "published_raw": "03:01, 14/01/2022",
    "listing_raw": None, "fetched_at": "2022-01-15T08:00:00+07:00", "http_status": 200,
    "capture": {"warc_file": "raw/a.warc.gz", "record_id": "urn:uuid:1", "offset": 0,
                "length": 10, "status": 200, "fetched_at": "2022-01-15T08:00:00+07:00"},
    "provenance": {"title": "site", "body": "site"},
    "content_hash": "sha256:" + "0" * 64, "version": 1, "extractor_version": "0.1.0",
    "schema_version": "1.3.0",
    "extraction": {"confidence": 1.0, "uncertain": False, "agreed": ["site"]},
}
# Values of every JSON type, and strings near each pattern and enum of the schema.
VALUES = [None, True, False, 0, 1, -1, 1.0, 1.5, "", " ", "x", "1", "old", "new", "month", "day",
          "minute", "site", "listing", "links", "nonsense", "1.3.0", "1.2.0", "1.1.0", "1.0.0",
          "tcvn3", "vni", "unknown", "phap-luat", "multimedia/emagazine", "Phap-luat", "a/b/c",
          "pháp luật", "2022-01-14", "2022-1-14",
          "2022-01", "2022-13", "2022-00", "2022-01-14T03:01+07:00", "2022-01-14T03:01:05+07:00",
          "2022-01-14T03:01+00:00", "https://x/", "ftp://x", "sha256:" + "a" * 64,
          "sha256:" + "A" * 64, [], [""], ["a"], [1], [None], {}, {"a": 1},
          [{"url": None, "caption": None}], [{"url": "x"}], [{"url": 1, "caption": None}],
          [{"url": None, "caption": None, "alt": None}], {"title": "nonsense"},
          {"warc_file": 1}, {"offset": "0"},
          {"confidence": 0.4, "uncertain": True, "agreed": ["heuristic"]},
          {"confidence": 1.5, "uncertain": False, "agreed": []}, {"confidence": 0.5}]


def _mutations(rnd: random.Random) -> dict:
    record = copy.deepcopy(VALID)
    for _ in range(rnd.randint(1, 3)):
        action = rnd.random()
        name = rnd.choice(sorted(record) + ["extra"])
        if action < 0.1:
            record.pop(name, None)
        elif action < 0.2 and isinstance(record.get("capture"), dict):
            record["capture"][rnd.choice(sorted(VALID["capture"]) + ["x"])] = rnd.choice(VALUES)
        elif action < 0.3 and isinstance(record.get("provenance"), dict):
            record["provenance"][rnd.choice(["title", "body", "x"])] = rnd.choice(VALUES)
        else:
            record[name] = copy.deepcopy(rnd.choice(VALUES))
    return record


def test_the_schema_is_the_one_both_validators_hold():
    assert "$schema" in article_schema() and article_check()(VALID)
    assert not list(article_validator().iter_errors(VALID))


def test_same_verdict_as_jsonschema_on_mutated_records():
    rnd = random.Random(5)
    verdicts = set()
    for _ in range(6_000):
        record = _mutations(rnd)
        expected = not any(True for _ in article_validator().iter_errors(record))
        assert article_check()(record) == expected, record
        verdicts.add(expected)
    assert verdicts == {True, False}


def test_the_month_rule_if_then_else():
    month = dict(VALID, published_precision="month", published_date=None, published_at=None)
    assert article_check()(month)
    assert not article_check()(dict(month, published_date="2022-01-14"))
    assert not article_check()(dict(VALID, published_date=None))


def test_problems_still_explain_a_refused_record():
    found = problems(dict(VALID, published_month="2022-13", extra=1))
    assert any(p.startswith("schema: published_month:") for p in found), found
    assert any("extra" in p for p in found), found
