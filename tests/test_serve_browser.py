"""serve in a real browser: a search typed without tones, an article with its photos, the chart.

The archive is a crawl of the replica whose images are mirrored by a second replica on loopback
(``IMAGE_MIRRORS``), as the paper's are by its successor; the site is stopped before serving, as
the paper's host is gone, so the photos can only come from the mirror. ``python -m crawler
serve`` runs as a person would start it; headless Chromium (Debian's, driven by Playwright, as in
tests/test_report.py) refuses every request that is not to 127.0.0.1 and the test checks none was
made. Screenshots go to the test's tmp_path; with SERVE_SCREENSHOTS=DIR set they are written
there too (docs/ holds the README's, taken so).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.analysis.search import months_between
from tests.crawling import REPO, run_crawl
from tests.replica import Replica
from tests.search_oracle import expected_matches, latest_records
from tests.test_report import CHROMIUM, CHROMIUM_ARGS, unavailable
from tests.test_serve import serve_url

pytestmark = pytest.mark.slow

CANDIDATES = ("le hoi phu day", "cho vieng", "khai an den tran", "lang hoa vi khe", "den tran")
LOOPBACK = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Crawl, stop the site, start ``serve``; yield (archive, base URL)."""
    root = tmp_path_factory.mktemp("browse") / "archive"
    with Replica(articles=120, seed=5, crawl_delay=0) as mirror:
        with Replica(articles=120, seed=5, crawl_delay=0) as site:
            run_crawl(site.url, root, settings={
                "IMAGE_MIRRORS": json.dumps({"/file/": f"{mirror.url}/file/"})})
        process = subprocess.Popen([sys.executable, "-m", "crawler", "serve", "--archive-dir",
                                    str(root), "--port", "0"], cwd=REPO,
                                   stderr=subprocess.PIPE, text=True)
        try:
            said = serve_url(process)
            found = re.match(r"serve: (http://127\.0\.0\.1:\d+)/archive/articles ", said)
            assert found, said
            base = found[1]
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{base}/archive.json", timeout=5).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "serve did not answer"
                    time.sleep(0.3)
            yield root, base
        finally:
            process.terminate()
            process.wait(timeout=30)
            process.stderr.close()


@pytest.fixture(scope="module")
def browser(served: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Yield (page, refused requests, requested URLs, screenshot folder)."""
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (make install installs the test extra)")
    out = tmp_path_factory.mktemp("browser")
    refused: list[str] = []
    requested: list[str] = []

    def route(route: Any) -> None:
        url = route.request.url
        requested.append(url)
        if urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(out / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            context.route("**/*", route)
            yield page, refused, requested, out
        finally:
            context.close()


def _keep(out: Path, name: str) -> None:
    target = os.environ.get("SERVE_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / name, Path(target) / name)


def test_a_search_without_tones_an_article_with_photos_and_the_chart(served, browser):
    root, base = served
    page, refused, requested, out = browser
    query, expected = next((q, e) for q in CANDIDATES
                           if 1 <= len(e := expected_matches(root, q)) <= 20)

    page.goto(f"{base}/")
    page.fill("#_search", query)  # typed as people do: no tones, d for đ
    page.press("#_search", "Enter")
    page.wait_for_selector("#matches-per-month")
    shown = page.eval_on_selector_all("li.archive-result", "els => els.map(e => e.dataset.id)")
    assert sorted(shown) == sorted(expected)
    titles = page.eval_on_selector_all("li.archive-result .result-title",
                                       "els => els.map(e => e.textContent)")
    assert sorted(titles) == sorted(r["title"] for r in expected.values())
    marks = page.eval_on_selector_all("li.archive-result mark", "els => els.length")
    assert marks >= len(expected)

    bars = page.eval_on_selector_all(
        "#matches-per-month rect.bar",
        "els => els.map(e => [e.dataset.month, +e.dataset.count, e.getBoundingClientRect().height])")
    months = sorted({r["published_month"] for r in expected.values()})
    assert [m for m, _n, _h in bars] == months_between(months[0], months[-1])
    assert {m: n for m, n, _h in bars if n} == \
        {m: sum(r["published_month"] == m for r in expected.values()) for m in months}
    assert all(h > 0 for _m, n, h in bars if n) and all(h == 0 for _m, n, h in bars if not n)
    page.set_viewport_size({"width": 1280, "height": 1500})
    page.screenshot(path=str(out / "serve-search.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    _keep(out, "serve-search.png")

    with_photos = [i for i in shown if expected[i]["images"]]
    assert with_photos, "the query should find an article with photos"
    record = expected[with_photos[0]]
    page.click(f"li.archive-result[data-id='{record['id']}'] .result-title")
    page.wait_for_selector("article.article")
    assert page.inner_text("h2.headline") == record["title"]
    paragraphs = page.eval_on_selector_all("article.article > p:not(.meta):not(.links)"
                                           ":not(.kicker):not(.byline)",
                                           "els => els.map(e => e.textContent)")
    assert paragraphs == record["body"].split("\n\n")
    page.wait_for_function("Array.from(document.querySelectorAll('figure.photo img'))"
                           ".every(i => i.complete)", timeout=20_000)
    images = page.eval_on_selector_all("figure.photo img",
                                       "els => els.map(e => [e.currentSrc, e.naturalWidth])")
    assert [src for src, _w in images] == [i["mirror_url"] for i in record["images"]]
    assert all(width > 0 for _src, width in images), images
    page.screenshot(path=str(out / "serve-article.png"))
    _keep(out, "serve-article.png")

    page.click("a.raw-capture")
    page.wait_for_selector("iframe.capture-frame")
    assert page.get_attribute("iframe.capture-frame", "sandbox") == ""
    frame = page.frame_locator("iframe.capture-frame")
    assert record["title"].split()[0] in frame.locator("body").inner_text(timeout=10_000)

    assert refused == [], f"requests that would have left the machine: {refused[:5]}"
    assert any("/file/" in url for url in requested), "the photos came from the mirror"
    assert len(latest_records(root)) > 50
