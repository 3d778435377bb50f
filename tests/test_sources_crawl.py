"""Whole crawls from the other sources: the replica's web archives, and the live replica's sitemaps."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler import settings as defaults
from crawler.items import article_key, record_key
from crawler.run.outcome import ExitStatus
from crawler.site.urls import parse_article_url
from crawler.sources import timestamp_time
from crawler.store.archive import iter_records, latest_records
from tests.crawling import REPO, archive_lines, last_report, run_crawl
from tests.replica import Replica
from tests.replica.archives import ArchiveReplica
from tests.replica.captures import COMMONCRAWL, WAYBACK
from tests.scoring import score, score_archive

pytestmark = pytest.mark.slow

SITE = "https://baonamdinh.vn"
ALIASES = ",".join(defaults.SITE_HOST_ALIASES)
ARTICLES, SEED = 200, 3
UTC = dt.timezone.utc


def tkey(truth: dict) -> str:
    """The archive's key of a truth line (or a schedule entry) of the replica."""
    return article_key(truth["cms"], truth["id"])


def archive_settings(archives: ArchiveReplica, **extra: str) -> dict[str, str]:
    """Settings for a backfill from the replica's archives: their addresses, no waiting."""
    return {**archives.settings(), "SITE_HOST_ALIASES": ALIASES, "WAYBACK_RATE": "1000",
            "COMMONCRAWL_RATE": "1000", "WAYBACK_PAGE_SIZE": "40",
            "SOURCES_BACKOFF_BASE": "0.1", **extra}


def backfill(archives: ArchiveReplica, archive_dir: Path, source: str, *args: str,
             site_url: str = SITE, check: bool = True, **settings: str):
    return run_crawl(site_url, archive_dir, "mode=backfill", f"source={source}", *args,
                     settings=archive_settings(archives, **settings), check=check)


def replayed_ids(archives: ArchiveReplica) -> list[str]:
    """The article id of every capture fetched from the archives, in order."""
    ids = []
    for _, target, _ in archives.requests.log:
        if "/web/" in target:
            ids.append(parse_article_url(target.split("id_/", 1)[1]).id)
    return ids


@pytest.fixture(scope="module")
def archives():
    with ArchiveReplica(ARTICLES, SEED) as running:
        yield running


@pytest.mark.parametrize("source", [WAYBACK, COMMONCRAWL])
def test_a_backfill_from_an_archive_holds_what_the_archive_holds(source, archives, tmp_path):
    archives.requests.reset()
    done = backfill(archives, tmp_path, source)
    truth = archives.truth(source)
    result = score_archive(tmp_path, truth)
    assert result.perfect, result.summary()
    assert any(t["deleted"] for t in truth) or source == COMMONCRAWL
    records = latest_records(tmp_path)
    for record in records.values():
        origin = record["origin"]
        assert origin["source"] == source
        assert parse_article_url(origin["original_url"]).key == record["key"]
        # fetched_at is when the archive fetched the page, not when we fetched the archive.
        assert record["fetched_at"] == timestamp_time(origin["timestamp"]).isoformat()
        assert record["capture"] and (tmp_path / record["capture"]["warc_file"]).exists()
    # Nothing lost: every article the index showed is archived or a reject saying why.
    rejects = list(iter_records(tmp_path, "rejects"))
    report = last_report(tmp_path)
    found = sum(row["found"].get(source, 0) for row in report["by_month"].values())
    assert found == len(truth) + len({r["id"] for r in rejects})
    assert all(r["origin"]["source"] == source and r["reason"].startswith("no article body")
               for r in rejects)  # the parked domain's pages at article URLs
    # Parked-domain pages: one shared by several articles' URLs is never fetched; one of its
    # own is fetched, found to be no article, and the next capture is tried.
    counts = report["sources"][source]
    assert counts["captures_shared_digest"] > 0 and counts["next_capture"] > 0, counts
    archived_by_month = Counter(t["published_date"][:7] for t in truth)
    assert {m: row["archived"] for m, row in report["by_month"].items() if row["archived"]} == \
        dict(archived_by_month)
    kinds = archives.requests.snapshot()
    if source == WAYBACK:
        # Three bare hosts (www. shares its key); more pages than that: resumption keys followed.
        assert kinds["cdx"] > 3 and report["sources"]["wayback"]["index_requests"] == kinds["cdx"]
        assert len(set(replayed_ids(archives))) == len(truth) + len({r["id"] for r in rejects})
    else:
        assert kinds["collinfo"] == 1 and kinds["index"] > 14 and kinds["record"] >= len(truth)
    assert "ERROR" not in done.stderr, done.stderr[-3000:]


def test_warc_capture_keeps_each_archive_response_and_says_where_it_came_from(archives, tmp_path):
    backfill(archives, tmp_path, COMMONCRAWL)
    record = next(iter(latest_records(tmp_path).values()))
    capture, origin = record["capture"], record["origin"]
    with (tmp_path / capture["warc_file"]).open("rb") as fh:
        fh.seek(capture["offset"])
        records = iter(ArchiveIterator(fh))
        response = next(records)
        assert response.rec_headers.get_header("WARC-Target-URI") == origin["archive_url"]
        inner = response.content_stream().read()
        request = next(records)
    assert request.rec_type == "request"
    wanted = f"bytes={origin['offset']}-{origin['offset'] + origin['length'] - 1}"
    assert request.http_headers.get_header("Range") == wanted
    # The captured body is Common Crawl's record itself: the original page at its address.
    page = next(iter(ArchiveIterator(io.BytesIO(inner))))
    assert page.rec_headers.get_header("WARC-Target-URI") == origin["original_url"]


@pytest.mark.parametrize("source", [WAYBACK, COMMONCRAWL])
def test_since_until_and_channels_bound_the_index_queries(source, archives, tmp_path):
    archives.requests.reset()
    backfill(archives, tmp_path, source, "since=2019-01-01", "until=2021-12-31",
             "channels=5083,5087")
    since = dt.datetime(2019, 1, 1, tzinfo=UTC)
    wanted = [t for t in archives.truth(source, since=since)
              if "2019-01" <= t["published_date"][:7] <= "2021-12"
              and t["section"] in ("5083", "5087")]
    assert wanted, "nothing in range: pick another range"
    result = score_archive(tmp_path, wanted)
    assert result.perfect, result.summary()
    queries = [target for _, target, _ in archives.requests.log
               if "/cdx/" in target or "-index?" in target]
    assert queries and all("from=20190101" in q for q in queries)
    assert all("channel%2F5083%2F" in q or "channel%2F5087%2F" in q for q in queries)
    if source == COMMONCRAWL:  # crawls that ended before since are not asked
        asked = {q.split("/cc-index/", 1)[1].split("-index", 1)[0] for q in queries}
        assert asked and min(asked) >= "CC-MAIN-2019"


@pytest.mark.parametrize("source", [WAYBACK, COMMONCRAWL])
def test_after_a_live_crawl_an_archive_adds_only_what_was_missing(source, tmp_path):
    with Replica(articles=ARTICLES, seed=SEED, crawl_delay=0) as site, \
            ArchiveReplica(dataset=site.dataset) as archives:
        run_crawl(site.url, tmp_path, "mode=backfill", "since=2020-01-01")
        live = latest_records(tmp_path)
        held = archives.truth(source, base_url=site.url)
        missing = {tkey(t) for t in held} - set(live)
        assert missing and any(t["published_date"] >= "2020" for t in held if tkey(t) in live)
        backfill(archives, tmp_path, source, site_url=site.url,
                 SITE_HOST_ALIASES=f"localhost,{ALIASES}")
        fetched = {parse_article_url(t.split("id_/", 1)[1]).key
                   for _, t, _ in archives.requests.log if "/web/" in t}
    after = latest_records(tmp_path)
    assert set(after) - set(live) <= missing
    new = {tkey(t): t for t in held if tkey(t) in set(after) - set(live)}
    # The parked domain's pages are no article: the rest of what was missing is archived.
    rejected = {parse_article_url(r["url"]).key for r in iter_records(tmp_path, "rejects")
                if r.get("origin")}
    assert set(new) | rejected == missing
    assert all(after[i] == live[i] for i in live)  # what the live crawl archived stays as it was
    assert max(Counter((record_key(line), line["version"]) for line in archive_lines(tmp_path))
               .values()) == 1
    result = score({i: after[i] for i in new}, list(new.values()))
    assert result.perfect, result.summary()
    report = last_report(tmp_path)
    assert report["counts"]["new"] == len(new) and report["counts"]["updated"] == 0
    assert report["sources"][source]["already_archived"] == len({tkey(t) for t in held} & set(live))
    if source == WAYBACK:
        assert fetched <= missing  # no capture of an article already archived was fetched
        deleted = {tkey(s) for s in site.schedule() if s["deleted_at"]}
        assert deleted & set(new), "the archive gave back no article the site deleted"


def test_archives_that_refuse_are_retried_after_a_rest(tmp_path):
    with ArchiveReplica(60, 2, fault_rate=0.15) as archives:
        done = backfill(archives, tmp_path, WAYBACK, SOURCES_BACKOFF_BASE="0.2")
        truth = archives.truth(WAYBACK)
        log = list(archives.requests.log)
    result = score_archive(tmp_path, truth)
    assert result.perfect, result.summary()
    refusals = [i for i, (_, _, status) in enumerate(log) if status in (429, 503)]
    assert refusals, "no fault was served: raise fault_rate"
    assert last_report(tmp_path)["sources"]["wayback"]["backoff"] == len(refusals)
    for i in refusals:
        if i + 1 < len(log) and log[i][2] == 429:  # Retry-After: 1 was honoured
            assert log[i + 1][0] - log[i][0] >= 0.9, (log[i], log[i + 1])
    assert "Gave up retrying" not in done.stderr


# --- sitemaps and feeds of the live site ----------------------------------------------------------


def test_a_sitemap_reaches_what_listings_no_longer_show(tmp_path):
    found = {}
    for sitemap in (False, True):
        out = tmp_path / f"sitemap-{sitemap}"
        with Replica(articles=ARTICLES, seed=7, crawl_delay=0, sitemap=sitemap,
                     listing_pages=1) as site:
            truth = site.truth()
            done = run_crawl(site.url, out, "mode=backfill")
            requests = site.requests.snapshot()
        records = latest_records(out)
        # An article only a sitemap lists has no listing to give the time its page hides.
        truth = [dict(t, published_at=t["page_published_at"])
                 if tkey(t) in records and not records[tkey(t)]["listing_raw"] else t
                 for t in truth]
        found[sitemap] = score(records, truth)
        report = last_report(out)
        noisy = [line for line in done.stderr.splitlines()
                 if (" WARNING:" in line or " ERROR:" in line)
                 and any(w in line.lower() for w in ("sitemap", "/rss", "/feed"))]
        assert noisy == []
        if sitemap:
            assert report["sources"]["sitemaps"]["read/sitemapindex"] == 1
            assert report["sources"]["sitemaps"]["read/rss"] == 1
        else:  # probed at the usual locations, found nothing, said so quietly
            assert report["sources"]["sitemaps"] == {"absent": 4}
            assert requests["sitemap"] == 4
    assert found[False].missed, "the listings showed everything: lower listing_pages"
    assert found[True].perfect, found[True].summary()


def test_a_nightly_run_refetches_an_old_article_whose_lastmod_moved(tmp_path):
    with Replica(articles=ARTICLES, seed=7, crawl_delay=0, sitemap=True) as site:
        late = [s for s in site.schedule() if s["edited_at"]
                and dt.datetime.fromisoformat(s["edited_at"])
                - dt.datetime.fromisoformat(s["published_at"]) > dt.timedelta(days=4)]
        assert late, "no edit of an old article in this replica: pick another seed"
        event = max(late, key=lambda s: s["edited_at"])
        edited = dt.datetime.fromisoformat(event["edited_at"])
        site.set_now((edited - dt.timedelta(minutes=1)).isoformat())
        run_crawl(site.url, tmp_path)
        site.set_now((edited + dt.timedelta(hours=1)).isoformat())
        site.requests.reset()
        run_crawl(site.url, tmp_path)
        truth = {tkey(t): t for t in site.truth()}
        requests = site.requests.snapshot()
    # Older than the nightly re-check window, so only the sitemap's lastmod could tell.
    latest = latest_records(tmp_path)[tkey(event)]
    assert latest["version"] == 2
    assert score({tkey(event): latest}, [truth[tkey(event)]]).perfect
    report = last_report(tmp_path)
    assert report["sources"]["sitemaps"]["changed_since_archived"] == 1
    assert report["sources"]["sitemaps"]["skipped/unchanged"] > 0  # old months not read again
    assert requests["sitemap"] <= 6, requests


def test_the_coverage_table_is_in_the_report_file(tmp_path, archives):
    backfill(archives, tmp_path, WAYBACK, "since=2015-01-01", "until=2015-12-31")
    report = json.loads(sorted((tmp_path / "runs").glob("*.json"))[-1].read_text("utf-8"))
    assert list(report["by_month"]) == [f"2015-{m:02d}" for m in range(1, 13)]
    assert report["source"] == WAYBACK and report["mode"] == "backfill"


@pytest.mark.parametrize("source", [WAYBACK, COMMONCRAWL])
def test_reextraction_of_an_archive_backfills_warc_gives_the_same_records(source, archives,
                                                                          tmp_path):
    crawled, again = tmp_path / "crawl", tmp_path / "again"
    backfill(archives, crawled, source)
    command = [sys.executable, "-m", "crawler", "reextract",
               *map(str, sorted((crawled / "raw").glob("*.warc.gz"))),
               "--archive-dir", str(again), "-s", f"SITE_URL={SITE}"]
    for name, value in archive_settings(archives).items():
        command += ["-s", f"{name}={value}"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "archive-index" in done.stderr  # the index answers are not pages
    first, second = latest_records(crawled), latest_records(again)
    assert first and first == second
    assert [r["id"] for r in iter_records(crawled, "rejects")] == \
        [r["id"] for r in iter_records(again, "rejects")]


@pytest.mark.parametrize("source", [WAYBACK, COMMONCRAWL])
def test_an_index_that_keeps_failing_ends_the_run_with_errors_said(source, tmp_path):
    with ArchiveReplica(20, 1, fault_rate=1.0) as archives:
        done = backfill(archives, tmp_path, source, RETRY_TIMES="1", SOURCES_BACKOFF_BASE="0.05",
                        SOURCES_BACKOFF_MAX="0.2", check=False)
    report = last_report(tmp_path)
    # Nothing answered: the archive is as unreachable as a dead site, and the exit says so.
    assert done.returncode == report["exit_code"] == ExitStatus.SITE_UNREACHABLE, done.stderr[-3000:]
    assert "index queries failed" in report["exit_reason"]
    failed = report["sources"][source]["index_failed"]
    assert failed == (3 if source == WAYBACK else 1)  # three hosts; or collinfo.json
    assert f"{source} index query" in done.stderr and "failed" in done.stderr
    assert report["counts"]["new"] == 0 and report["stop_reason"] == "finished"


@pytest.mark.parametrize("source", [WAYBACK, COMMONCRAWL])
def test_captures_after_a_day_can_be_left_out(source, archives, tmp_path):
    archives.requests.reset()
    backfill(archives, tmp_path, source, SOURCES_CAPTURED_UNTIL="2025-06-30")
    result = score_archive(tmp_path, archives.truth(source))
    assert result.perfect, result.summary()
    targets = [target for _, target, _ in archives.requests.log]
    queries = [t for t in targets if "/cdx/" in t or "-index?" in t]
    assert queries and all("to=20250630" in q for q in queries)
    assert not any("CC-MAIN-2025-38" in t for t in targets)  # the crawl after the paper's end
    report = last_report(tmp_path)["sources"][source]
    # Nothing the parked domain served was even listed, so nothing had to be tried twice.
    assert "next_capture" not in report and "captures_shared_digest" not in report
