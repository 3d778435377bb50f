"""serve: Datasette over the archive's database answers as the search command does, read only.

Most checks go through Datasette's own in-process client (no socket); one starts the real
command on a free loopback port. The browser test is tests/test_serve_browser.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from datasette.utils import tilde_encode
from warcio.archiveiterator import ArchiveIterator

from crawler.analysis import search as finder
from crawler.analysis.database import default_database, refresh
from crawler.analysis.serve import make_datasette
from crawler.items import record_key
from tests.analysis_archive import archive_copy, shared_archive
from tests.crawling import REPO
from tests.search_oracle import expected_matches, latest_records

QUERIES = ("tran hung dao", "Trần Hưng Đạo", "le hoi phu day", "LỄ HỘI", '"den tran"',
           "dền tran", "hoi vien nam dinh")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = archive_copy(shared_archive(tmp_path_factory),
                        tmp_path_factory.mktemp("serve") / "archive")
    refresh(root)
    return root


class Client:
    """Datasette's in-process client, called synchronously."""

    def __init__(self, root: Path):
        self.ds = make_datasette(root, default_database(root))
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.ds.invoke_startup())

    def get(self, path: str) -> Any:
        return self.loop.run_until_complete(self.ds.client.get(path))


@pytest.fixture(scope="module")
def client(archive: Path) -> Client:
    return Client(archive)


def search_ids(archive: Path, query: str) -> list[str]:
    db = finder.connect(str(default_database(archive)))
    try:
        return [m.id for m in finder.search(db, finder.parse(query), limit=None)]
    finally:
        db.close()


@pytest.mark.parametrize("query", QUERIES)
def test_the_search_box_answers_as_the_search_command(archive, client, query):
    response = client.get(f"/archive/articles.json?_search={quote(query)}&_shape=array&_size=max")
    assert response.status_code == 200
    served = [row["id"] for row in response.json()]
    assert sorted(served) == sorted(search_ids(archive, query))
    assert set(served) == set(expected_matches(archive, query))
    assert len(served) == len(set(served))


def test_tones_or_none_the_same_rows(client):
    answers = [sorted(row["id"] for row in client.get(
        f"/archive/articles.json?_search={quote(q)}&_shape=array&_size=max").json())
        for q in ("le hoi phu day", "Lễ hội Phủ Dày", "LE HOI PHU DAY", "Lễ Hội Phu Day")]
    assert answers[0] and all(a == answers[0] for a in answers)


def test_facets_by_section_year_and_author(archive, client):
    data = client.get("/archive/articles.json?_search=le+hoi").json()
    facets = data["facet_results"]
    # Records carry the section's printed name: the facet is by it (serve.section_column).
    assert {"section_name", "published_year", "authors"} <= set(facets)
    expected = expected_matches(archive, "le hoi")
    names = {v["value"]: v["count"] for v in facets["section_name"]["results"]}
    assert names == Counter(r["section_name"] for r in expected.values() if r["section_name"])
    years = {str(v["value"]): v["count"] for v in facets["published_year"]["results"]}
    for year, number in years.items():
        assert number == sum(r["published_month"][:4] == year for r in expected.values())
    authors = {v["value"]: v["count"] for v in facets["authors"]["results"]}
    for author, number in authors.items():
        assert number == sum(author in (r["authors"] or []) for r in expected.values())


def test_the_chart_counts_the_current_search_month_by_month(archive, client):
    page = client.get("/archive/articles?_search=le+hoi").text
    bars = re.findall(r'data-month="([0-9-]+)" data-count="(\d+)"', page)
    expected = expected_matches(archive, "le hoi")
    months = sorted({r["published_month"] for r in expected.values()})
    assert [m for m, _n in bars] == finder.months_between(months[0], months[-1])
    assert {m: int(n) for m, n in bars if int(n)} == \
        {m: sum(r["published_month"] == m for r in expected.values()) for m in months}
    section = next(iter(expected.values()))["section"]
    narrowed = client.get(f"/archive/articles?_search=le+hoi&section={section}").text
    total = sum(int(n) for n in re.findall(r'data-count="(\d+)"', narrowed))
    assert total == sum(r["section"] == section for r in expected.values())


def test_a_blank_search_shows_every_article(archive, client):
    data = client.get("/archive/articles.json?_search=&_size=1").json()
    assert data["filtered_table_rows_count"] == len(latest_records(archive))


def test_an_article_page_reads_as_the_article_with_its_images(archive, client):
    record = next(r for r in latest_records(archive).values()
                  if len(r["images"]) >= 2 and all(i["url"] for i in r["images"]))
    page = client.get(f"/archive/articles/{tilde_encode(record_key(record))}").text
    assert f'<h2 class="headline">{_html(record["title"])}</h2>' in page
    for paragraph in record["body"].split("\n\n"):
        assert f">{_html(paragraph)}</p>" in page
    sources = re.findall(r'<figure class="photo">\s*<img src="([^"]+)"', page)
    assert sources == [i["mirror_url"] or i["url"] for i in record["images"]]
    assert all(i["url"] for i in record["images"])
    assert f'href="/-/capture/{quote(record_key(record), safe="")}"' in page


def _html(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def test_a_raw_capture_is_shown_sandboxed_and_downloadable(archive, client):
    record = next(r for r in latest_records(archive).values()
                  if r.get("capture") and r["capture"].get("warc_file"))
    key = quote(record_key(record), safe="")  # as the article page links it
    view = client.get(f"/-/capture/{key}")
    assert view.status_code == 200
    assert '<iframe class="capture-frame" sandbox="" ' in view.text
    page = client.get(f"/-/capture/{key}/page")
    policy = page.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy
    assert "script-src" not in policy and page.headers["x-content-type-options"] == "nosniff"
    assert record["title"].split()[0].encode() in page.content
    warc = client.get(f"/-/capture/{key}.warc.gz")
    assert warc.headers["content-type"] == "application/warc"
    response = next(r for r in ArchiveIterator(io.BytesIO(warc.content))
                    if r.rec_type == "response")
    assert response.rec_headers.get_header("WARC-Record-ID").strip("<>") == \
        record["capture"]["record_id"]
    assert client.get("/-/capture/no-such-id").status_code == 404


def test_every_page_fetches_nothing_from_elsewhere_but_article_photos(archive, client):
    origins = {re.match(r"https?://[^/]+", i["mirror_url"] or i["url"])[0]
               for r in latest_records(archive).values() for i in r["images"]
               if i["mirror_url"] or i["url"]}
    for path in ("/archive/articles?_search=le+hoi", "/archive",
                 f"/archive/articles/{next(iter(latest_records(archive)))}"):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self' 'unsafe-inline'" in policy
        img = re.search(r"img-src ([^;]+)", policy)[1].split()
        assert set(img) == {"'self'", "data:", *origins}
        for url in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', response.text):
            # Relative, or Datasette's own absolute link to itself (the client's host).
            assert url.startswith(("/", "http://localhost/")), f"{path} loads {url}"


def test_the_database_is_served_read_only(archive, client):
    path = default_database(archive)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    for sql in ("DELETE FROM articles", "UPDATE articles SET title = 'x'",
                "WITH x AS (SELECT 1) DELETE FROM images"):
        response = client.get(f"/archive.json?sql={quote(sql)}")
        assert response.status_code >= 400 or "error" in response.text.lower()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert client.get("/archive/articles.json?_size=1").json()["filtered_table_rows_count"] > 0


def serve_url(process: subprocess.Popen[str]) -> str:
    """Return the line where ``serve`` says its URL (after the database's, when it refreshes)."""
    lines = []
    for _ in range(4):
        lines.append(process.stderr.readline())
        if lines[-1].startswith("serve: http") or not lines[-1]:
            return lines[-1]
    return "".join(lines)


def test_the_command_serves_on_loopback_and_answers_as_search(archive):
    process = subprocess.Popen([sys.executable, "-m", "crawler", "serve", "--archive-dir",
                                str(archive), "--port", "0"], cwd=REPO, stderr=subprocess.PIPE,
                               text=True)
    try:
        line = serve_url(process)
        match = re.match(r"serve: (http://127\.0\.0\.1:\d+)/archive/articles \(read-only", line)
        assert match, line
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{match[1]}/archive/articles.json?_search=tran+hung"
                                            f"+dao&_shape=array&_size=max", timeout=10) as got:
                    served = [row["id"] for row in json.load(got)]
                break
            except OSError:
                assert time.monotonic() < deadline, "serve did not answer"
                time.sleep(0.3)
        assert sorted(served) == sorted(search_ids(archive, "tran hung dao"))
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()


def test_serve_without_datasette_says_which_extra_to_install(tmp_path, archive):
    code = ("import sys; sys.modules['datasette'] = None; from crawler.cli import main; "
            f"sys.exit(main(['serve', '--archive-dir', {str(archive)!r}]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "'.[analysis]'" in done.stderr, done.stderr
