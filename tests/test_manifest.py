"""The manifest describes every file after a run; verify finds each kind of damage, changing nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from crawler.analysis.manifest import MANIFEST, read_manifest, write_manifest
from crawler.analysis.verify import verify
from crawler.items import SCHEMA_VERSION
from tests.analysis_archive import archive_copy, shared_archive
from tests.crawling import REPO, run_crawl
from tests.replica import Replica

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_archive(tmp_path_factory)


def files_of(root: Path) -> list[Path]:
    return sorted(p for folder in ("articles", "rejects", "runs", "raw")
                  for p in (root / folder).rglob("*") if p.is_file())


def test_the_manifest_describes_every_file_of_the_archive(archive):
    manifest = read_manifest(archive)
    assert manifest is not None
    entries = {e["path"]: e for e in manifest["files"]}
    paths = files_of(archive)
    assert sorted(entries) == sorted(p.relative_to(archive).as_posix() for p in paths)
    ids, lines = set(), 0
    for path in paths:
        entry = entries[path.relative_to(archive).as_posix()]
        data = path.read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        if path.suffix in (".jsonl", ".json", ".cdxj"):
            assert entry["lines"] == data.count(b"\n")
        if path.parent.name == "articles":
            records = [json.loads(x) for x in data.splitlines()]
            assert entry["months"] == sorted({r["published_month"] for r in records})
            assert entry["ids"] == sorted({r["id"] for r in records})
            ids |= {r["id"] for r in records}
            lines += len(records)
    totals = manifest["totals"]
    assert totals["articles"] == len(ids) and totals["article_lines"] == lines
    assert totals["runs"] == 2 and totals["files"] == len(paths)
    assert manifest["schema_version"] == SCHEMA_VERSION


def test_a_crawl_writes_the_manifest_once_everything_is_closed(tmp_path):
    with Replica(articles=40, seed=4, crawl_delay=0) as site:
        run_crawl(site.url, tmp_path)
    manifest = read_manifest(tmp_path)
    assert manifest is not None, "the crawl left no manifest"
    listed = {e["path"] for e in manifest["files"]}
    # The run report and the sorted WARC index are written when the spider closes: both in.
    assert {p.relative_to(tmp_path).as_posix() for p in files_of(tmp_path)} == listed
    assert any(p.startswith("runs/") for p in listed) and "raw/index.cdxj" in listed
    report = verify(tmp_path)
    assert report.ok, [str(p) for p in report.problems]
    assert not list(tmp_path.glob(".manifest.json.tmp-*"))


def test_a_sound_archive_and_a_copy_of_it_elsewhere_verify(archive, tmp_path):
    assert verify(archive).ok, [str(p) for p in verify(archive).problems]
    moved = archive_copy(archive, tmp_path / "elsewhere" / "copy")
    done = subprocess.run([sys.executable, "-m", "crawler", "verify", "--archive-dir",
                           str(moved)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr.startswith("verify: OK:")


# --- damage, one kind at a time ---------------------------------------------------------------


def month_files(root: Path) -> list[Path]:
    return sorted((root / "articles").glob("*.jsonl"))


def first_line(path: Path) -> dict:
    return json.loads(path.read_text("utf-8").splitlines()[0])


def rewrite_line(path: Path, number: int, change: Callable[[dict], None]) -> dict:
    lines = path.read_text("utf-8").splitlines()
    record = json.loads(lines[number - 1])
    change(record)
    lines[number - 1] = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return record


def edit_title(root: Path) -> list[str]:
    path = month_files(root)[3]
    record = rewrite_line(path, 1, lambda r: r.update(title=r["title"] + "!"))
    rel = f"articles/{path.name}"
    return [f"{rel}:1: content_hash does not match the record's content (id {record['id']}",
            f"{rel}: sha256: ", f"{rel}: bytes: ", f"{rel}: 1 byte past the committed size"]


def break_the_schema(root: Path) -> list[str]:
    path = month_files(root)[0]
    rewrite_line(path, 1, lambda r: r.update(published_precision="week"))
    return [f"articles/{path.name}:1: schema: published_precision: 'week' is not one of"]


def garbage_line(root: Path) -> list[str]:
    path = month_files(root)[1]
    count = len(path.read_bytes().splitlines())
    with path.open("ab") as fh:
        fh.write(b"not json at all\n")
    return [f"articles/{path.name}:{count + 1}: not JSON"]


def torn_last_line(root: Path) -> list[str]:
    path = month_files(root)[2]
    count = len(path.read_bytes().splitlines())
    with path.open("ab") as fh:
        fh.write(b'{"id": "999", "title": "cut')
    return [f"articles/{path.name}:{count + 1}: ends without a newline"]


def duplicate_line(root: Path) -> list[str]:
    path = month_files(root)[4]
    data = path.read_bytes()
    path.write_bytes(data + data.splitlines(keepends=True)[0])
    record = first_line(path)
    count = len(data.splitlines())
    return [f"articles/{path.name}:{count + 1}: id {record['id']} version {record['version']} "
            f"is also at articles/{path.name}:1"]


def wrong_month(root: Path) -> list[str]:
    source, target = month_files(root)[5], month_files(root)[6]
    line = source.read_bytes().splitlines(keepends=True)[0]
    source.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[1:]))
    target.write_bytes(target.read_bytes() + line)
    record = json.loads(line)
    count = len(target.read_bytes().splitlines())
    return [f"articles/{target.name}:{count}: id {record['id']} is published in "
            f"{record['published_date'][:7]} but filed here",
            f"articles/{target.name}:{count}: id {record['id']}: the state files it in "
            f"articles/{source.name}"]


def delete_a_file(root: Path) -> list[str]:
    path = month_files(root)[7]
    ids = sorted({json.loads(x)["id"] for x in path.read_bytes().splitlines()})
    path.unlink()
    rel = f"articles/{path.name}"
    return [f"{rel}: listed in the manifest but missing",
            f"{rel}: in the state's files table",
            f"state.sqlite3: id {ids[0]}: archived as version"]


def state_disagrees(root: Path) -> list[str]:
    path = month_files(root)[8]
    record = first_line(path)
    db = sqlite3.connect(root / "state.sqlite3")
    db.execute("UPDATE articles SET version = 7 WHERE id = ?", (record["id"],))
    db.execute("DELETE FROM articles WHERE id = (SELECT id FROM articles WHERE id != ? "
               "ORDER BY id LIMIT 1)", (record["id"],))
    db.commit()
    db.close()
    return [f"articles/{path.name}:1: id {record['id']}: latest line is version "
            f"{record['version']}, the state says 7", "is not in the state (not counted as "
            "archived)"]


def stray_file(root: Path) -> list[str]:
    (root / "articles" / "notes.txt").write_text("hello\n")
    return ["articles/notes.txt: not in the manifest"]


def no_manifest(root: Path) -> list[str]:
    (root / MANIFEST).unlink()
    return ["manifest.json: missing"]


DAMAGE = [edit_title, break_the_schema, garbage_line, torn_last_line, duplicate_line,
          wrong_month, delete_a_file, state_disagrees, stray_file, no_manifest]


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and not p.name.endswith(("-shm", "-wal"))}


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
def test_verify_names_the_damage_precisely_and_changes_nothing(archive, tmp_path, damage):
    root = archive_copy(archive, tmp_path / "copy")
    expected = damage(root)
    before = snapshot(root)
    report = verify(root)
    found = [str(p) for p in report.problems]
    assert not report.ok
    for text in expected:
        assert any(text in line for line in found), f"{text!r} not in {found}"
    assert snapshot(root) == before, "verify changed the archive"


def test_the_command_lists_the_problems_and_exits_non_zero(archive, tmp_path):
    root = archive_copy(archive, tmp_path / "copy")
    expected = garbage_line(root) + stray_file(root)
    done = subprocess.run([sys.executable, "-m", "crawler", "verify", "--archive-dir", str(root)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    for text in expected:
        assert any(line.startswith(text) for line in done.stdout.splitlines()), done.stdout
    assert done.stderr.startswith(f"verify: {len(done.stdout.splitlines())} problem(s)")


def test_the_manifest_is_rewritten_in_place_without_leftovers(archive, tmp_path):
    root = archive_copy(archive, tmp_path / "copy")
    stray_file(root)
    assert not verify(root).ok
    write_manifest(root)  # what the next run does: the new file is part of the archive now
    assert verify(root).ok
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []


def test_the_manifest_is_written_and_read_an_entry_at_a_time(tmp_path, monkeypatch):
    from crawler.analysis import manifest as module
    from crawler.store.archive import Archive, content_hash

    with Archive(tmp_path, fsync=False) as store:
        for n, (month, url) in enumerate((("2022-01", "channel/5083/202201/a-2548123"),
                                          ("2024-03", "chinh-tri/202403/b-2548123"),
                                          ("2024-03", "chinh-tri/202403/c-c9408c0"))):
            record = {"id": url.rsplit("-", 1)[1], "cms": "old" if "channel" in url else "new",
                      "url": f"https://baonamdinh.vn/{url}/", "title": f"Bài {n}", "body": "B.",
                      "published_date": f"{month}-14", "published_month": month,
                      "fetched_at": "2025-06-30T08:00:00+07:00"}
            record["content_hash"] = content_hash(record)
            store.store_article(record)
    write_manifest(tmp_path)
    manifest = read_manifest(tmp_path)
    assert manifest is not None
    assert list(module.iter_entries(tmp_path)) == manifest["files"]
    assert manifest["totals"]["articles"] == 3  # two of them share the id 2548123
    assert [e.get("keys") for e in manifest["files"]] == [
        ["old:2548123"], ["new:2548123", "new:c9408c0"]]
    text = (tmp_path / MANIFEST).read_text("utf-8").splitlines()
    assert len(text) == len(manifest) + 1 + len(manifest["files"]) + 2  # an entry a line
    described = []
    monkeypatch.setattr(module, "describe_file",
                        lambda root, rel: described.append(rel) or {})  # nothing to describe
    write_manifest(tmp_path)  # nothing changed: every entry comes from the previous manifest
    assert described == [] and read_manifest(tmp_path)["files"] == manifest["files"]
    legacy = dict(manifest, files=[{k: v for k, v in e.items() if k != "keys"}
                                   for e in manifest["files"]])
    (tmp_path / MANIFEST).write_text(json.dumps(legacy, ensure_ascii=False, indent=1))
    assert list(module.iter_entries(tmp_path)) == legacy["files"]  # the layout before
    monkeypatch.undo()
    write_manifest(tmp_path)  # entries without keys are described again, once
    assert read_manifest(tmp_path)["files"] == manifest["files"]
