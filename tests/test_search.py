"""The SQLite export, its full-text index and the search command: tones optional, đ or d.

The expected matches are computed here from the JSON Lines files with a fold of our own
(unicodedata: marks dropped, đ to d, lower case, runs of letters and digits), not with
crawler.normalise.text.search_key, so the index, the query parser and the snippet are checked
against something they do not share.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from crawler.analysis import search as finder
from crawler.analysis.database import default_database, is_fresh, refresh
from crawler.items import article_key
from crawler.normalise.keys import search_key, search_key_reference
from crawler.store.archive import Archive, content_hash
from tests.analysis_archive import archive_copy, shared_archive
from tests.crawling import REPO
from tests.search_oracle import (
    expected_matches,
    holds,
    latest_records,
    oracle_terms,
    plain_tokens,
)

QUERIES = ("le hoi phu day", "Lễ hội Phủ Dày", "LE HOI PHU DAY", "den tran", "Đền Trần",
           "dền trân", "cho vieng", '"le hoi phu day"', '"khai mac" "nam dinh"', "hội viên")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = archive_copy(shared_archive(tmp_path_factory),
                        tmp_path_factory.mktemp("search") / "archive")
    refresh(root)
    return root


def crawler(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


# --- the key -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, key", [
    ("Trần Hưng Đạo", "tran hung dao"),
    ("TRẦN HƯNG ĐẠO", "tran hung dao"),
    ("tran hung dao", "tran hung dao"),
    ("Ðền Trần", "den tran"),  # Icelandic eth, which looks like Đ
    ("hoà bình, Thuỷ", "hoa binh thuy"),  # either tone placement
    ("hòa bình – thủy", "hoa binh thuy"),
    ("Lễ hội “Phủ Dày” (2025)!", "le hoi phu day 2025"),
    ("ươ ƯƠ ă â ê ô ơ ư", "uo uo a a e o o u"),
    ("Trần-Hưng-Đạo", "tran hung dao"),
    ("", ""),
])
def test_search_key_folds_tones_marks_case_and_d(text, key):
    assert search_key(text) == key


def test_the_fast_search_key_is_the_reference_on_real_text_and_odd_characters(archive):
    texts = [record.get(name) or "" for record in latest_records(archive).values()
             for name in ("title", "lead", "body", "byline")]
    rng = random.Random(7)
    alphabet = "aăâđeêioôơuưyĐÐðß İ" + "\u0300\u0301\u0303\u0309\u0323\u0306\u0302\u031b" + \
        "-.,“”\"'()!?\n\t\u200b\u00a0" + "ǅﬁ가각ÅΣσς"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40)))
              for _ in range(3000)]
    texts += [unicodedata.normalize("NFD", t) for t in texts[:200]]
    bad = [t for t in texts if search_key(t) != search_key_reference(t)]
    assert not bad, [(t, search_key(t), search_key_reference(t)) for t in bad[:5]]


@pytest.mark.parametrize("text, match", [
    ("tran hung dao", '"tran" "hung" "dao"'),
    ("Trần Hưng Đạo", '"tran" "hung" "dao"'),
    ('"Trần Hưng Đạo" lễ hội', '"tran hung dao" "le" "hoi"'),
    ("Trần-Hưng", '"tran hung"'),
    ('"lễ hội', '"le hoi"'),  # an unclosed quote runs to the end
    ("a a", '"a"'),
    ('"" ! -', '""'),  # nothing to search for: matches nothing
    ("", '""'),
])
def test_a_query_is_words_and_phrases_folded(text, match):
    assert finder.fts_query(text) == match


def test_the_snippet_marks_the_words_as_printed():
    query = finder.parse("tran hung dao")
    text = "Mở đầu. " + "Câu khác. " * 40 + "Tượng đài Trần Hưng Đạo ở TP Nam Định. " + "Hết. " * 40
    cut = finder.snippet(text, query)
    assert "**Trần Hưng Đạo**" in cut and cut.startswith("…") and cut.endswith("…")
    assert len(cut) < finder.SNIPPET_CHARS + 30
    phrase = finder.snippet("Đền Trần và trần nhà; đền thờ Trần", finder.parse('"den tran"'))
    assert phrase == "**Đền Trần** và trần nhà; đền thờ Trần"
    assert finder.snippet("Không có gì", query) == "Không có gì"


# --- the database ------------------------------------------------------------------------------


def rows(db_path: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(db_path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_the_database_holds_every_article_field_version_and_image(archive):
    db_path = default_database(archive)
    latest = latest_records(archive)
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    stored = {row["id"]: dict(row) for row in db.execute("SELECT * FROM articles")}
    assert set(stored) == set(latest)
    for article_id, record in latest.items():
        row = stored[article_id]
        for name, value in record.items():
            got = row[name]
            if isinstance(value, (list, dict)):
                got = json.loads(got)
            assert got == value, f"{article_id}.{name}"
        assert row["published_year"] == int(record["published_month"][:4])
    lines = [json.loads(line) for path in sorted((archive / "articles").glob("*.jsonl"))
             for line in path.read_text("utf-8").splitlines()]
    versions = db.execute("SELECT id, version, latest, file, offset, length FROM versions").fetchall()
    assert Counter((v["id"], v["version"]) for v in versions) == \
        Counter((r["id"], r["version"]) for r in lines)
    assert any(v["version"] == 2 for v in versions), "the shared archive has edited articles"
    for v in versions:
        assert v["latest"] == (v["version"] == latest[v["id"]]["version"])
        with (archive / v["file"]).open("rb") as fh:
            fh.seek(v["offset"])
            line = json.loads(fh.read(v["length"]))
        assert (line["id"], line["version"]) == (v["id"], v["version"])
    images = Counter(r["article_id"] for r in db.execute("SELECT article_id FROM images"))
    assert images == Counter({i: len(r["images"]) for i, r in latest.items() if r["images"]})
    # One row per section key where records carry one (one key for both CMS generations).
    sections = {r["section"]: r["articles"] for r in db.execute("SELECT * FROM sections")}
    assert sections == Counter(r.get("section_key") or r["section"] for r in latest.values()
                               if r["section"])
    db.close()


def test_a_second_export_reads_only_what_is_new_and_ends_as_a_fresh_build(archive, tmp_path):
    root = archive_copy(archive, tmp_path / "archive")
    output = tmp_path / "search.sqlite"
    first = refresh(root, output)
    assert first.built and first.added == len(latest_records(root))
    again = refresh(root, output)
    assert not again.built and (again.lines, again.added, again.updated) == (0, 0, 0)
    assert is_fresh(root, output)

    record = sorted(latest_records(root).values(), key=lambda r: r["id"])[5]
    edited = dict(record, title=record["title"] + " Trần Hưng Đạo")
    edited["content_hash"] = content_hash(edited)
    new = dict(record, id="9999977", key=article_key(record["cms"], "9999977"),
               url=record["url"].replace(record["id"], "9999977"),
               title="Bài mới về lễ hội Phủ Dày", version=1)
    new["content_hash"] = content_hash(new)
    with Archive(root, fsync=False) as store:
        for rec in (edited, new):
            _status, rec["version"] = store.classify(rec)
            store.put_article(rec)
    assert not is_fresh(root, output)
    update = refresh(root, output)
    assert not update.built and (update.lines, update.added, update.updated) == (2, 1, 1)

    scratch = refresh(root, tmp_path / "scratch.sqlite")
    for table in ("articles", "versions", "images", "sections"):
        order = "ORDER BY 1, 2"
        assert rows(output, f"SELECT * FROM {table} {order}") == \
            rows(tmp_path / "scratch.sqlite", f"SELECT * FROM {table} {order}"), table
    db = finder.connect(str(output))
    for query in ("tran hung dao", '"le hoi phu day"', record["title"]):
        parsed = finder.parse(query)
        assert {m.id for m in finder.search(db, parsed, limit=None)} == \
            set(expected_matches(root, query)), query
    assert finder.search(db, finder.parse("tran hung dao"), limit=1)[0].id == record["id"]
    db.close()
    assert scratch.built


def test_a_line_committed_after_the_export_is_seen_though_the_file_did_not_change(archive,
                                                                                 tmp_path):
    root = archive_copy(archive, tmp_path / "archive")
    record = dict(next(iter(latest_records(root).values())), id="9999966", version=1,
                  title="Bài viết về đàn xylophon đang ghi dở")
    month = root / "articles" / f"{record['published_month']}.jsonl"
    committed = month.stat().st_size
    with month.open("ab") as fh:  # written by a crawl, not yet committed in the state
        fh.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
    refresh(root)
    db_path = default_database(root)
    assert not rows(db_path, "SELECT id FROM articles WHERE id = '9999966'")
    assert is_fresh(root, db_path)
    state = sqlite3.connect(root / "state.sqlite3")
    state.execute("UPDATE files SET committed_size = ? WHERE path = ?",
                  (month.stat().st_size, f"articles/{month.name}"))
    state.commit()
    state.close()
    assert committed < month.stat().st_size and not is_fresh(root, db_path)
    done = crawler("search", "--archive-dir", str(root), "Xylôphon", "--format", "jsonl")
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ["9999966"]
    assert is_fresh(root, db_path)


def test_worker_processes_build_the_same_database(archive, tmp_path, monkeypatch):
    from crawler.analysis import database

    serial = refresh(archive, tmp_path / "serial.sqlite")
    monkeypatch.setattr(database, "PARALLEL_FROM", 0)
    monkeypatch.setattr(database, "BATCH", 7)  # many batches, an edit split across two
    monkeypatch.setattr(database, "usable_cores", lambda: 2)
    parallel = refresh(archive, tmp_path / "parallel.sqlite")
    assert (parallel.lines, parallel.added) == (serial.lines, serial.added)
    for table in ("articles", "versions", "images", "sections"):
        assert rows(tmp_path / "serial.sqlite", f"SELECT * FROM {table} ORDER BY 1, 2") == \
            rows(tmp_path / "parallel.sqlite", f"SELECT * FROM {table} ORDER BY 1, 2"), table
    db = finder.connect(str(tmp_path / "parallel.sqlite"))
    assert {m.id for m in finder.search(db, finder.parse("le hoi"), limit=None)} == \
        set(expected_matches(archive, "le hoi"))
    db.close()


def test_a_month_file_rewritten_under_the_cursor_rebuilds_from_scratch(archive, tmp_path):
    root = archive_copy(archive, tmp_path / "archive")
    output = tmp_path / "search.sqlite"
    refresh(root, output)
    month = max((root / "articles").glob("*.jsonl"), key=lambda p: p.stat().st_size)
    lines = month.read_bytes().splitlines(keepends=True)
    month.write_bytes(b"".join(lines[1:]))  # as a repair would, state and all
    db = sqlite3.connect(root / "state.sqlite3")
    db.execute("UPDATE files SET committed_size = ? WHERE path = ?",
               (month.stat().st_size, f"articles/{month.name}"))
    db.commit()
    db.close()
    result = refresh(root, output)
    assert result.built and any("rebuilt from scratch" in w for w in result.warnings)
    gone = json.loads(lines[0])["id"]
    assert not rows(output, f"SELECT id FROM versions WHERE id = '{gone}' AND "
                            f"version = {json.loads(lines[0])['version']}")


# --- searching -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", QUERIES)
def test_search_finds_what_the_oracle_finds(archive, query):
    expected = expected_matches(archive, query)
    db = finder.connect(str(default_database(archive)))
    found = finder.search(db, finder.parse(query), limit=None)
    db.close()
    assert {m.id for m in found} == set(expected)
    assert expected, "the query should match something in the archive"


def test_with_or_without_tones_the_same_articles(archive):
    db = finder.connect(str(default_database(archive)))
    answers = [[m.id for m in finder.search(db, finder.parse(q), limit=None)]
               for q in ("le hoi phu day", "Lễ hội Phủ Dày", "LỄ HỘI PHỦ DÀY", "Le Hoi Phu Day")]
    db.close()
    assert answers[0] and all(a == answers[0] for a in answers)


def test_title_matches_come_first_then_bm25(archive):
    query = finder.parse("le hoi")
    db = finder.connect(str(default_database(archive)))
    found = finder.search(db, query, limit=None)
    db.close()
    in_title = [all(holds(plain_tokens(m.title), t) for t in oracle_terms("le hoi")) for m in found]
    assert any(in_title) and not all(in_title)
    assert in_title == sorted(in_title, reverse=True), "a body-only match ranked above a title one"


def test_words_are_anded_and_quotes_make_a_phrase(archive):
    words = set(expected_matches(archive, "khai mac nam dinh"))
    phrase = set(expected_matches(archive, '"khai mac nam dinh"'))
    db = finder.connect(str(default_database(archive)))
    assert {m.id for m in finder.search(db, finder.parse("khai mac nam dinh"), limit=None)} == words
    assert {m.id for m in finder.search(db, finder.parse('"khai mac nam dinh"'),
                                        limit=None)} == phrase
    db.close()
    assert phrase < words


def test_the_command_prints_matches_jsonl_and_months(archive):
    query = "le hoi"
    expected = expected_matches(archive, query)
    done = crawler("search", "--archive-dir", str(archive), query, "--format", "jsonl",
                   "--limit", "0")
    assert done.returncode == 0, done.stderr
    matches = [json.loads(line) for line in done.stdout.splitlines()]
    assert {m["id"] for m in matches} == set(expected)
    for match in matches:
        record = expected[match["id"]]
        for name in ("title", "url", "published_date", "published_month"):
            assert match[name] == record[name]
        # The section as the site names it, where the record knows the name.
        assert "**" in match["snippet"] and \
            match["section"] == (record.get("section_name") or record["section"])
    assert f"search: {len(expected)} of {len(expected)} matching articles" in done.stderr

    table = crawler("search", "--archive-dir", str(archive), "Lễ", "Hội", "--limit", "3")
    blocks = [b for b in table.stdout.split("\n\n") if b.strip()]
    assert len(blocks) == 3 and all(b.splitlines()[2].strip().startswith("http") for b in blocks)
    first = matches[0]
    assert blocks[0].splitlines()[0] == \
        f"{first['published_date'] or first['published_month']}  {first['section']}  " \
        f"{first['title']}"

    by_month = crawler("search", "--archive-dir", str(archive), query, "--by", "month")
    counted = dict(line.split("\t") for line in by_month.stdout.splitlines())
    months = Counter(r["published_month"] for r in expected.values())
    assert {m: int(n) for m, n in counted.items() if int(n)} == months
    assert list(counted) == finder.months_between(min(months), max(months))


def test_since_until_and_section_narrow_the_matches(archive):
    query = "le hoi"
    expected = expected_matches(archive, query)
    section = Counter(r["section"] for r in expected.values()).most_common(1)[0][0]
    done = crawler("search", "--archive-dir", str(archive), query, "--format", "jsonl",
                   "--limit", "0", "--since", "2015-03", "--until", "2020", "--section", section)
    got = {json.loads(line)["id"] for line in done.stdout.splitlines()}

    def within(r: dict) -> bool:
        when = r["published_date"] or r["published_month"]
        return "2015-03" <= when[:len("2015-03-01")] and when[:4] <= "2020"
    assert got == {i for i, r in expected.items() if r["section"] == section and within(r)}
    assert got, "the filters should leave something"
    bad = crawler("search", "--archive-dir", str(archive), query, "--since", "2015-13")
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_an_empty_query_or_a_folder_that_is_no_archive_is_a_usage_error(tmp_path, archive):
    empty = crawler("search", "--archive-dir", str(archive), '""')
    assert empty.returncode == 2 and "no word" in empty.stderr
    none = crawler("search", "--archive-dir", str(tmp_path / "nothing"), "x")
    assert none.returncode == 2 and "is not an archive" in none.stderr
    assert not (tmp_path / "nothing").exists()


def test_export_sqlite_says_what_it_did_and_refuses_all_versions(archive, tmp_path):
    root = archive_copy(archive, tmp_path / "archive")
    done = crawler("export", "--archive-dir", str(root), "--format", "sqlite")
    assert done.returncode == 0 and "(sqlite, built:" in done.stderr
    assert (root / "exports" / "articles.sqlite").is_file()
    again = crawler("export", "--archive-dir", str(root), "--format", "sqlite")
    assert "(sqlite, updated: 0 new lines read" in again.stderr
    refused = crawler("export", "--archive-dir", str(root), "--format", "sqlite", "--all-versions")
    assert refused.returncode == 2 and "versions table" in refused.stderr
