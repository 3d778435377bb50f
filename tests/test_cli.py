"""``python -m crawler extract / import-text``: a record as JSON on stdout, or exit 1 with the reason and nothing printed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crawler.extract.response import looks_like_html
from tests.crawling import REPO
from tests.test_fixtures import FIXTURES

OLD = FIXTURES / "articles" / "old-cms-2022"
SEED = FIXTURES / "dumps" / "seed-2022-01-14" / "dump.txt"
URL = "https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-2548123/"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def test_extract_prints_the_record():
    done = cli("extract", str(OLD / "page.html"), "--url", URL,
               "--fetched-at", "2022-01-15T09:30:00+07:00")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert (record["id"], record["published_date"], record["authors"]) == (
        "2548123", "2022-01-14", ["Văn Trọng"])
    assert "Trọng" in done.stdout  # UTF-8 as is, no \\u escapes


def test_import_text_gives_the_same_content_as_the_page():
    page = json.loads(cli("extract", str(OLD / "page.html"), "--url", URL,
                          "--fetched-at", "2022-01-15T09:30:00+07:00").stdout)
    done = cli("import-text", str(SEED), "--url", URL, "--fetched-at",
               "2022-01-15T09:30:00+07:00")
    assert done.returncode == 0, done.stderr
    dump = json.loads(done.stdout)
    for field in ("id", "url", "title", "body", "authors", "published_date", "published_at"):
        assert dump[field] == page[field], field


@pytest.mark.parametrize("args, reason", [
    (["extract", "{listing}", "--url", "https://baonamdinh.vn/channel/5083/"],
     "not an article URL"),
    (["extract", "{listing}", "--url", URL], "no article body found"),
    (["import-text", "{listing}"], "not an article dump"),
    (["extract", str(REPO / "README.md"), "--url", URL],
     "not an HTML page: " + str(REPO / "README.md") + " does not start with HTML markup"),
    (["extract", str(SEED), "--url", URL], "not an HTML page"),
])
def test_not_an_article_exits_1_with_the_reason_and_prints_nothing(tmp_path, args, reason):
    listing = tmp_path / "listing.html"
    listing.write_text("<html><body><ul class='menu'><li><a href='/channel/5083/'>Chính trị"
                       "</a></li></ul></body></html>", "utf-8")
    done = cli(*[a.format(listing=listing) for a in args])
    assert done.returncode == 1
    assert reason in done.stderr
    assert done.stdout == ""


def test_archive_dir_writes_the_record_once(tmp_path):
    args = ["extract", str(OLD / "page.html"), "--url", URL, "--archive-dir", str(tmp_path),
            "--fetched-at", "2022-01-15T09:30:00+07:00"]
    assert cli(*args).returncode == 0
    again = cli(*args)
    assert again.returncode == 0 and "unchanged" in again.stderr
    lines = (tmp_path / "articles" / "2022-01.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["version"] == 1


@pytest.mark.parametrize("head, html", [
    (b"<!DOCTYPE html>\n<html>", True),
    (b"\xef\xbb\xbf  \n<html lang='vi'>", True),
    (b"<?xml version='1.0' encoding='windows-1258'?><html>", True),
    (b"<!-- saved from url=(0043)https://baonamdinh.vn/ -->\n<html>", True),
    ("<p>Chỉ một đoạn</p>".encode(), True),
    (b"<body>", True),
    (b"# Heading\n\nMarkdown", False),
    (b"%PDF-1.7", False),
    (b"Plain text with <html> later", False),
    (b"<bogus>", False),
    (b"", False),
])
def test_looks_like_html(head, html):
    assert looks_like_html(head) is html


def test_missing_file_is_a_usage_error(tmp_path):
    done = cli("extract", str(tmp_path / "nope.html"), "--url", URL)
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_writing_into_an_archive_another_process_holds_is_refused(tmp_path):
    from tests.test_archive import hold

    holder = hold(tmp_path, 60)
    try:
        done = cli("import-text", str(SEED), "--url", URL, "--archive-dir", str(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 8 and done.stdout == ""
    assert f"archive {tmp_path.resolve()} is in use by pid {holder.pid}" in done.stderr
    assert cli("import-text", str(SEED), "--url", URL, "--archive-dir",
               str(tmp_path)).returncode == 0  # the kernel let go of the killed holder's lock


def test_version_names_the_package_and_scrapy():
    done = cli("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("baonamdinh-archiver 0.1.0 (Scrapy ")


def test_extract_reads_standard_input():
    page = (OLD / "page.html").read_bytes()
    done = subprocess.run([sys.executable, "-m", "crawler", "extract", "-", "--url", URL,
                           "--fetched-at", "2022-01-15T09:30:00+07:00"], cwd=REPO, input=page,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    from_file = cli("extract", str(OLD / "page.html"), "--url", URL,
                    "--fetched-at", "2022-01-15T09:30:00+07:00")
    assert json.loads(done.stdout) == json.loads(from_file.stdout)


def test_extract_takes_several_pages_one_record_a_line(tmp_path):
    other = FIXTURES / "articles" / "new-cms-2024"
    other_url = json.loads((other / "meta.json").read_text("utf-8"))["url"]
    listing = tmp_path / "listing.html"
    listing.write_text("<html><body><ul class='menu'></ul></body></html>", "utf-8")
    done = cli("extract", str(OLD / "page.html"), str(listing), str(other / "page.html"),
               "--url", URL, "--url", URL, "--url", other_url,
               "--fetched-at", "2025-01-15T09:30:00+07:00")
    assert done.returncode == 1  # one page of three is no article
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["url"] for r in records] == [URL, other_url]
    rejected = [line for line in done.stderr.splitlines() if "rejected" in line]
    assert len(rejected) == 1 and rejected[0].startswith(f"{listing}: rejected (extract)")


@pytest.mark.parametrize("args, message", [
    (["{page}", "{page}", "--url", URL], "give --url once per page"),
    (["{page}", "--url", URL, "--listing-time", "a", "--listing-time", "b"],
     "give --listing-time once per page"),
    (["-", "-", "--url", URL, "--url", URL], "standard input (-) can be read once"),
])
def test_extract_pages_and_urls_must_pair(args, message):
    done = cli("extract", *[a.format(page=OLD / "page.html") for a in args])
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""


@pytest.mark.parametrize("command", [
    ["extract", str(OLD / "page.html"), "--url", URL],
    ["import-text", str(SEED), "--url", URL],
])
def test_writing_into_a_folder_that_is_no_archive_is_refused(tmp_path, command):
    (tmp_path / "notes.txt").write_text("not an archive")
    done = cli(*command, "--archive-dir", str(tmp_path))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"error: --archive-dir: {tmp_path} is not an archive (no articles/ folder) and not "
        "empty (notes.txt): give an archive or a new folder"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    # A new folder, or an empty one, becomes an archive.
    assert cli(*command, "--archive-dir", str(tmp_path / "new")).returncode == 0
