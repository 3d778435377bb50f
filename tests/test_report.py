"""The report page, rendered in headless Chromium: its charts hold the archive's own numbers.

Every expected number is computed here from the archive's files (JSON Lines, rejects, run
reports, the WARC index and listing pages, the state), by other means than crawler.analysis, and
the missing articles are checked against the replica's truth. The page is opened from disk with
every network request refused. A screenshot is saved under the test's tmp_path.

Chromium is Debian's (/usr/bin/chromium), driven by Playwright (never a browser it downloads). In
CI (``CI`` set) a missing Chromium or Playwright fails the test; elsewhere it is skipped, saying why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.analysis.report import write_report
from tests.analysis_archive import NIGHTS, shared_archive
from tests.replica import Replica
from tests.replica.dataset import CATEGORIES, CHANNELS, SECTION_KEYS

pytestmark = pytest.mark.slow

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTICLE = re.compile(r"/(?P<month>\d{6})/[^\"'?#\s]*-(?P<id>\d+|[0-9a-f]{7})(?:/index\.html?|/)?$")
HREF = re.compile(rb"""href=["']([^"']+)["']""")


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must have it (.ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_archive(tmp_path_factory)


# --- the numbers, computed from the files --------------------------------------------------


def article_of(url: str) -> tuple[str, str] | None:
    """(id, YYYY-MM) of an article URL, by its shape."""
    match = ARTICLE.search(url.split("?")[0])
    if not match:
        return None
    month = match["month"]
    return match["id"], f"{month[:4]}-{month[4:]}"


def expected_numbers(root: Path) -> dict[str, Any]:
    latest: dict[str, tuple[int, str]] = {}
    sections: dict[str, str] = {}
    for path in sorted((root / "articles").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line)
            if record["id"] not in latest or record["version"] > latest[record["id"]][0]:
                latest[record["id"]] = (record["version"], record["published_month"])
                sections[record["id"]] = record["section"]
    archived = Counter(month for _v, month in latest.values())
    # By section: the replica's own key for the URL's section, names as its pages print them.
    by_section = Counter(SECTION_KEYS[section] for section in sections.values())

    promised: dict[str, str] = {}  # id -> month, for articles some source names
    rejects = [json.loads(line) for path in sorted((root / "rejects").glob("*.jsonl"))
               for line in path.read_text("utf-8").splitlines()]
    for reject in rejects:
        if (found := article_of(reject["url"])):
            promised[found[0]] = found[1]
    captures = [json.loads(line.split(" ", 2)[2]) for line in
                (root / "raw" / "index.cdxj").read_text("utf-8").splitlines()]
    listings = set()
    for capture in captures:
        found = article_of(capture["url"])
        if found:
            promised[found[0]] = found[1]
        elif capture["status"] == "200" and "html" in capture["mime"]:
            listings.add((capture["filename"], int(capture["offset"])))
    for filename in {f for f, _ in listings}:
        with (root / "raw" / filename).open("rb") as fh:
            iterator = ArchiveIterator(fh)
            for record in iterator:
                body = record.content_stream().read()
                if (filename, iterator.get_record_offset()) in listings:
                    for href in HREF.findall(body):
                        if (found := article_of(href.decode("utf-8", "replace"))):
                            promised[found[0]] = found[1]
    db = sqlite3.connect(root / "state.sqlite3")
    for article_id, published in db.execute("SELECT id, published_date FROM articles"):
        # A month-precision record has no date in the state: its month is the record's.
        promised[article_id] = published[:7] if published else latest[article_id][1]
    db.close()
    missing = {i: month for i, month in promised.items() if i not in latest}
    months = sorted(set(archived) | set(missing.values()))
    every = []
    year, mon = map(int, months[0].split("-"))
    while f"{year:04d}-{mon:02d}" <= months[-1]:
        every.append(f"{year:04d}-{mon:02d}")
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    runs = [json.loads(p.read_text("utf-8")) for p in sorted((root / "runs").glob("*.json"))]
    return {"months": every, "archived": [archived.get(m, 0) for m in every],
            "missing": [sum(1 for v in missing.values() if v == m) for m in every],
            "missing_ids": missing, "rejects": [r["reason"] for r in rejects], "runs": runs,
            "by_section": by_section}


def test_the_archive_has_holes_of_several_kinds_and_each_is_a_real_article(archive):
    """Precondition for the page test, and a check of the holes against the replica's truth."""
    numbers = expected_numbers(archive)
    assert sum(numbers["missing"]) >= 3 and len(numbers["rejects"]) >= 3
    with Replica(articles=200, seed=1, now=NIGHTS[1]) as site:
        truth = {t["id"]: t for t in site.truth()}
    for article_id, month in numbers["missing_ids"].items():
        assert article_id in truth, f"{article_id} is promised but the site never published it"
        assert truth[article_id]["published_date"][:7] == month


# --- the page in Chromium ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def rendered(archive, tmp_path_factory):
    """Open the report page in headless Chromium; yield (page, its data, the screenshot path)."""
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (make install installs the test extra)")
    out = tmp_path_factory.mktemp("report")
    page_path = write_report(archive, out / "report.html")
    refused: list[str] = []

    def route(route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(out / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1300, "height": 900})
        try:
            page = context.new_page()
            page.route("**/*", route)
            page.goto(page_path.as_uri())
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 5",
                timeout=60_000)
            charts = {name: page.evaluate(
                """id => document.getElementById(id).data.map(t => ({
                    name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || []),
                    text: t.text ? Array.from(t.text) : null}))""", f"chart-{name}")
                for name in ("months", "coverage", "layers", "rejects", "runs")}
            dom = page.evaluate("""() => ({
                bars: document.querySelectorAll('#chart-months .barlayer .point').length,
                rejectTexts: Array.from(document.querySelectorAll('#chart-rejects .bartext'))
                    .map(e => e.textContent),
                rejectLabels: Array.from(document.querySelectorAll('#chart-rejects .ytick text'))
                    .map(e => e.textContent),
                runTexts: Array.from(document.querySelectorAll('#chart-runs .bartext'))
                    .map(e => e.textContent),
                holes: Array.from(document.querySelectorAll('#holes tbody tr'))
                    .map(tr => Array.from(tr.cells).map(td => td.textContent)),
                sections: Array.from(document.querySelectorAll('#sections tbody tr'))
                    .map(tr => Array.from(tr.cells).map(td => td.textContent)),
                cards: document.getElementById('cards').innerText})""")
            screenshot = out / "report.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            context.close()
    yield {"charts": charts, "dom": dom, "refused": refused, "screenshot": screenshot}


def trace(chart: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(t for t in chart if t["name"] == name)


def test_the_page_needs_no_network_and_draws_every_chart(rendered):
    assert rendered["refused"] == []
    assert rendered["screenshot"].stat().st_size > 50_000
    assert rendered["screenshot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_articles_per_month_and_the_holes(rendered, archive):
    numbers = expected_numbers(archive)
    chart = rendered["charts"]["months"]
    archived, missing = trace(chart, "archived"), trace(chart, "promised, missing (hole)")
    assert archived["x"] == numbers["months"] == missing["x"]
    assert archived["y"] == numbers["archived"]
    assert missing["y"] == numbers["missing"]
    assert rendered["dom"]["bars"] == 2 * len(numbers["months"])  # every month drawn, both traces
    holes = [(m, a, n) for m, a, n in zip(numbers["months"], numbers["archived"],
                                          numbers["missing"], strict=True) if n]
    table = [(row[0], int(row[1]), int(row[2])) for row in rendered["dom"]["holes"]]
    assert table == [(m, a, a + n) for m, a, n in holes]
    assert f"{len(holes)}\nholes" in rendered["dom"]["cards"]


def test_articles_by_section(rendered, archive):
    """One row per section across both CMS generations: old channels counted with the new slug
    the site prints the same name for, every other channel under its name's slug."""
    expected = expected_numbers(archive)["by_section"]
    rows = rendered["dom"]["sections"]
    assert {row[0]: int(row[6]) for row in rows} == dict(expected)
    assert [int(row[6]) for row in rows] == sorted((int(row[6]) for row in rows), reverse=True)
    names = {**{SECTION_KEYS[c]: n for c, n in CHANNELS.items()}, **CATEGORIES}
    by_key = {row[0]: row for row in rows}
    for key, row in by_key.items():
        assert row[1] == names[key], key
        assert int(row[4]) + int(row[5]) == int(row[6])
    law = by_key["phap-luat"]
    assert (law[2], law[3]) == ("5093", "phap-luat") and int(law[4]) and int(law[5])


def test_rejects_by_reason(rendered, archive):
    reasons = expected_numbers(archive)["rejects"]
    chart = trace(rendered["charts"]["rejects"], "rejects")
    labels, counts = chart["y"], chart["x"]
    assert sum(counts) == len(reasons)
    for label, count in zip(labels, counts, strict=True):
        longer = [other for other in labels if other != label and other.startswith(label)]
        assert count == sum(1 for r in reasons if r.startswith(label) and
                            not any(r.startswith(o) for o in longer)), label
    assert rendered["dom"]["rejectTexts"] == [str(c) for c in counts]
    assert sorted(rendered["dom"]["rejectLabels"]) == sorted(labels)


def test_coverage_and_layers_run_by_run(rendered, archive):
    runs = expected_numbers(archive)["runs"]
    coverage = rendered["charts"]["coverage"]
    assert len(set(coverage[0]["x"])) == len(runs), "runs share a place on the axis"
    for name in runs[0]["coverage"]["fields"]:
        assert trace(coverage, name)["y"] == [r["coverage"]["fields"][name] for r in runs], name
    layers = rendered["charts"]["layers"]
    site = [t for t in layers if t["name"] == "site"]
    fields = list(runs[0]["coverage"]["layers"])
    assert len(site) == len(fields)
    for field, series in zip(fields, site, strict=True):
        expected = [r["coverage"]["layers"][field].get("site", 0) / r["coverage"]["records"]
                    for r in runs]
        assert series["y"] == pytest.approx(expected), field


def test_run_history(rendered, archive):
    runs = expected_numbers(archive)["runs"]
    chart = rendered["charts"]["runs"]
    assert len(set(trace(chart, "new")["x"])) == len(runs), "runs share a place on the axis"
    assert trace(chart, "new")["y"] == [r["counts"]["new"] for r in runs]
    assert trace(chart, "updated")["y"] == [r["counts"]["updated"] for r in runs]
    assert trace(chart, "requests")["y"] == [r["requests"]["total"] for r in runs]
    shown = rendered["dom"]["runTexts"]
    assert [str(r["counts"]["new"]) for r in runs] == shown[:len(runs)]
