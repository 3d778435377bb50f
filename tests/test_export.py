"""export: one row per article (or per version) with the schema's types, checked field by field.

Expected values are read straight from the JSON Lines files here, not through crawler.analysis,
and docs/analysis.md's own examples (pandas, DuckDB, polars, DuckDB over JSON Lines) are run as written
and must give every field of every row right.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.analysis.export import ExportError, arrow_schema, export
from tests.analysis_archive import EDITED, archive_copy, shared_archive
from tests.crawling import REPO
from tests.test_readme import blocks

pytestmark = pytest.mark.slow

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")

DATES = {"published_date"}
TIMESTAMPS = {"published_at", "fetched_at"}
PLUS_SEVEN = dt.timedelta(hours=7)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_archive(tmp_path_factory)


def jsonl_lines(root: Path) -> list[dict[str, Any]]:
    """Every article line of the archive, read directly."""
    return [json.loads(line) for path in sorted((root / "articles").glob("*.jsonl"))
            for line in path.read_text("utf-8").splitlines() if line.strip()]


def latest_by_id(root: Path) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for record in jsonl_lines(root):
        if record["id"] not in latest or record["version"] > latest[record["id"]]["version"]:
            latest[record["id"]] = record
    return latest


def is_null(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def check_timestamp(actual: Any, expected: str | None, where: str) -> None:
    if expected is None:
        assert is_null(actual), f"{where}: expected null, got {actual!r}"
        return
    assert isinstance(actual, dt.datetime), f"{where}: not a timestamp: {actual!r}"
    assert actual.utcoffset() == PLUS_SEVEN, f"{where}: shown at {actual.utcoffset()}, not +07:00"
    assert actual == dt.datetime.fromisoformat(expected), f"{where}: {actual} != {expected}"


def check_row(row: dict[str, Any], record: dict[str, Any], where: str) -> None:
    """Assert a loaded row holds exactly the record, each field with its type."""
    for name, expected in record.items():
        actual = row[name]
        at = f"{where} id {record['id']} {name}"
        if name in DATES and expected is None:
            assert is_null(actual), f"{at}: expected null, got {actual!r}"
        elif name in DATES:
            assert actual == dt.date.fromisoformat(expected), f"{at}: {actual!r}"
            assert not isinstance(actual, dt.datetime), f"{at}: a timestamp, not a date"
        elif name in TIMESTAMPS:
            check_timestamp(actual, expected, at)
        elif name == "capture":
            if expected is None:
                assert is_null(actual), at
                continue
            for member, value in expected.items():
                if member == "fetched_at":
                    check_timestamp(actual[member], value, f"{at}.{member}")
                else:
                    assert actual[member] == value, f"{at}.{member}: {actual[member]!r}"
        elif name == "provenance":
            given = {k: v for k, v in dict(actual).items() if not is_null(v)}
            assert given == expected, f"{at}: {given} != {expected}"
        elif name in ("authors", "images"):
            assert isinstance(actual, list), f"{at}: not a list but {type(actual).__name__}"
            assert [dict(x) if isinstance(x, dict) else x for x in actual] == expected, at
        elif expected is None:
            assert is_null(actual), f"{at}: expected null, got {actual!r}"
        else:
            assert actual == expected and type(actual) is type(expected), \
                f"{at}: {actual!r} != {expected!r}"


def check_rows(rows: list[dict[str, Any]], expected: dict[str, dict[str, Any]],
               where: str) -> None:
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), f"{where}: an article appears twice"
    assert set(ids) == set(expected), f"{where}: ids differ"
    for row in rows:
        check_row(row, expected[row["id"]], where)


def test_the_shared_archive_has_what_the_tests_rely_on(archive):
    """Preconditions: versions to choose from, null times, rejects, several month files."""
    lines = jsonl_lines(archive)
    assert any(r["version"] == 2 and r["body"].endswith(EDITED) for r in lines)
    assert any(r["published_at"] is None for r in lines)
    assert any(r["published_date"] is None and r["published_precision"] == "month" for r in lines)
    assert any(r["kicker"] for r in lines) and any(r["capture"] for r in lines)
    assert list((archive / "rejects").glob("*.jsonl"))


def test_parquet_holds_the_latest_version_of_every_article_with_the_schemas_types(archive,
                                                                                    tmp_path):
    result = export(archive, "parquet", output=tmp_path / "a.parquet")
    table = pq.read_table(result.path)
    schema = table.schema
    assert schema.field("published_date").type == pa.date32()
    assert schema.field("published_at").type == pa.timestamp("us", "Asia/Ho_Chi_Minh")
    assert schema.field("authors").type == pa.list_(pa.string())
    assert schema.field("images").type == pa.list_(pa.struct([("url", pa.string()),
                                                              ("caption", pa.string()),
                                                              ("mirror_url", pa.string())]))
    assert pa.types.is_struct(schema.field("provenance").type)
    assert pa.types.is_struct(schema.field("capture").type)
    latest = latest_by_id(archive)
    assert result.rows == table.num_rows == len(latest)
    check_rows(table.to_pylist(), latest, "parquet")
    edited = [r for r in table.to_pylist() if r["body"].endswith(EDITED)]
    assert len(edited) == 2 and {r["version"] for r in edited} == {2}


def test_all_versions_keeps_every_line(archive, tmp_path):
    result = export(archive, "parquet", output=tmp_path / "all.parquet", all_versions=True)
    rows = pq.read_table(result.path).to_pylist()
    lines = jsonl_lines(archive)
    assert sorted((r["id"], r["version"]) for r in rows) == \
        sorted((r["id"], r["version"]) for r in lines)
    by_key = {(r["id"], r["version"]): r for r in lines}
    for row in rows:
        check_row(row, by_key[(row["id"], row["version"])], "all-versions")


def test_duckdb_file_has_one_table_typed_and_commented(archive, tmp_path):
    result = export(archive, "duckdb", output=tmp_path / "a.duckdb")
    con = duckdb.connect(str(result.path), read_only=True)
    try:
        con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'articles'").fetchall())
        assert types["published_date"] == "DATE"
        assert types["published_at"] == "TIMESTAMP WITH TIME ZONE"
        assert types["authors"] == "VARCHAR[]"
        assert types["images"].startswith("STRUCT(") and types["images"].endswith("[]")
        rel = con.sql("SELECT * FROM articles")
        rows = [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]
        shown = con.execute("SELECT published_at::VARCHAR FROM articles WHERE published_at IS "
                            "NOT NULL LIMIT 1").fetchone()[0]
        comment = con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = "
                              "'articles' AND column_name = 'published_at'").fetchone()[0]
    finally:
        con.close()
    check_rows(rows, latest_by_id(archive), "duckdb")
    assert shown.endswith("+07"), shown
    assert "truthfully" in comment


def test_csv_has_the_archives_text_with_lists_as_json(archive, tmp_path):
    result = export(archive, "csv", output=tmp_path / "a.csv")
    with result.path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    latest = latest_by_id(archive)
    assert len(rows) == len(latest)
    for row in rows:
        record = latest[row["id"]]
        assert row["published_at"] == (record["published_at"] or "")
        assert row["published_date"] == (record["published_date"] or "")
        assert json.loads(row["authors"]) == record["authors"]
        assert json.loads(row["images"]) == record["images"]
        assert json.loads(row["provenance"]) == record["provenance"]
        assert row["body"] == record["body"] and int(row["version"]) == record["version"]


def test_csv_for_excel_starts_with_a_bom_and_holds_the_same_rows(archive, tmp_path):
    plain = export(archive, "csv", output=tmp_path / "plain.csv").path.read_bytes()
    done = subprocess.run([sys.executable, "-m", "crawler", "export", "--archive-dir", str(archive),
                           "--format", "csv", "--excel", "--output", str(tmp_path / "x.csv")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    excel = (tmp_path / "x.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel == b"\xef\xbb\xbf" + plain  # the BOM, then the same UTF-8 text
    wrong = subprocess.run([sys.executable, "-m", "crawler", "export", "--archive-dir",
                            str(archive), "--excel", "--output", str(tmp_path / "x.parquet")],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "--excel applies to --format csv" in wrong.stderr


def test_a_field_the_schema_does_not_know_stops_the_export_with_its_line(archive, tmp_path):
    root = archive_copy(archive, tmp_path / "copy")
    # The first line that is its article's latest version, so the default export reads it.
    latest = latest_by_id(root)
    month, number, lines = next(
        (path, n, lines) for path in sorted((root / "articles").glob("*.jsonl"))
        if (lines := path.read_text("utf-8").splitlines())
        for n, line in enumerate(lines, start=1) if latest[json.loads(line)["id"]] ==
        json.loads(line))
    record = json.loads(lines[number - 1])
    record["provenance"]["mood"] = "site"
    lines[number - 1] = json.dumps(record, ensure_ascii=False)
    month.write_text("\n".join(lines) + "\n", "utf-8")
    with pytest.raises(ExportError, match=rf"articles/{month.name}:{number}: provenance: keys not "
                                          r"in the schema: \['mood'\]"):
        export(root, "parquet", output=tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()
    done = subprocess.run([sys.executable, "-m", "crawler", "export", "--archive-dir", str(root),
                           "--format", "csv", "--output", str(tmp_path / "x.csv")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "mood" in done.stderr
    assert not (tmp_path / "x.csv").exists()


def test_a_field_added_to_the_schema_is_exported_with_it():
    from crawler.schema import article_schema

    schema = json.loads(json.dumps(article_schema()))
    schema["properties"]["section_name"] = {"type": "string", "description": "Name of the section."}
    arrow = arrow_schema(schema)
    assert arrow.field("section_name").type == pa.string()
    assert arrow.field("provenance").type.get_field_index("section_name") >= 0


# --- the README's examples ------------------------------------------------------------------


def readme_examples() -> list[Any]:
    """The runnable blocks of docs/analysis.md (the analysts' side), in order."""
    return [b for b in blocks(REPO / "docs" / "analysis.md") if not b.skip
            and b.info in ("sh", "python")]


def test_the_readme_examples_give_every_field_right(archive, tmp_path, monkeypatch, capsys):
    """Run the README's examples as written in a folder whose demo-archive is our archive."""
    archive_copy(archive, tmp_path / "demo-archive")
    os.symlink(REPO / ".venv", tmp_path / ".venv")
    monkeypatch.chdir(tmp_path)
    found: dict[str, Any] = {}
    examples = readme_examples()
    assert [b.info for b in examples].count("python") >= 4
    for block in examples:
        if block.info == "sh":
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.body], cwd=tmp_path,
                                  capture_output=True, text=True, timeout=300,
                                  env={**os.environ, "PYTHONPATH": str(REPO)})
            assert done.returncode == 0, f"{block.name}: {done.stderr[-2000:]}"
            continue
        namespace: dict[str, Any] = {"__name__": "__main__"}
        exec(compile(block.body, block.name, "exec"), namespace)
        found.update({k: v for k, v in namespace.items() if not k.startswith("__")})
    latest = latest_by_id(archive)

    articles = found["articles"]  # pandas
    check_rows(articles.to_dict("records"), latest, "README pandas")
    assert str(articles["published_at"].dtype).endswith("tz=Asia/Ho_Chi_Minh][pyarrow]")

    db = found["articles_db"]  # DuckDB over the Parquet file
    check_rows([dict(zip(db.columns, r, strict=True)) for r in db.fetchall()], latest,
               "README duckdb")
    con = found["con"]  # the .duckdb file
    rel = con.sql("SELECT * FROM articles")
    check_rows([dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()], latest,
               "README duckdb file")
    con.close()

    check_rows(found["articles_pl"].to_dicts(), latest, "README polars")

    jsonl = found["latest"]  # DuckDB straight over the JSON Lines
    rows = [dict(zip(jsonl.columns, r, strict=True)) for r in jsonl.fetchall()]
    check_rows(rows, latest, "README read_json_auto")
    output = capsys.readouterr().out
    assert "+07" in output and "2025" in output


@pytest.mark.parametrize(("text", "written"), [
    ("=1+1", "'=1+1"), ("+84", "'+84"), ("-5 độ", "'-5 độ"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Nam Định", "Nam Định"), ("", ""), ("a=b", "a=b"),
])
def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_gets_a_quote(text, written):
    from crawler.analysis.export import defuse

    assert defuse(text) == written
