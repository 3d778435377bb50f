"""``python -m crawler export``: the archive as one typed dataset (Parquet, CSV or a DuckDB file).

The column types come from the record's JSON Schema (crawler/schema/article.schema.json), never from
a list kept here, so a field added to the schema is exported with it:

- ``"format": "date"`` is a date (Arrow date32), ``"format": "date-time"`` a timestamp in
  Vietnam time (Arrow ``timestamp[us, tz=Asia/Ho_Chi_Minh]``: the instant is kept and every reader
  that honours the zone shows +07:00);
- strings, integers, numbers and booleans are themselves; ``enum``/``const`` take their values'
  type;
- an array is a list of its items' type; an object with ``properties`` is a struct of them;
- an object that only has ``additionalProperties`` (``provenance``: field name -> layer) is a
  struct with one member per top-level field of the record, null where the record has no entry.

A value the schema does not know (a field, a struct member, a provenance key) stops the export with
the file and line: nothing is dropped silently. By default each article's latest version is
written (the line with its highest ``version``, by the article's ``key``); ``all_versions`` keeps
every line. A record written before schema 1.4.0 gets its ``key`` as that version makes it (its
``cms`` and ``id``). Rows keep the archive's order: month file by month file, as written.
``section_key`` is the archive's key at export time (crawler/analysis/sections.py): an old-CMS
record archived before its channel's slug was learnt is written with the slug. The output is
written to a temporary file (``.NAME.tmp-PID``) and renamed, so a reader never sees half an
export; an export removes the temporary files that killed exports left beside its output (their
process is gone). A disk that fills or refuses the write is an ``ExportStorageError``, never a
half-written output.

Memory stays within ``memory_mb`` (the ``EXPORT_MEMORY_MB`` setting) whatever the archive's size:
which line is each article's latest is remembered in a scratch database on disk
(crawler/store/scratch.py), rows go out in batches of a bounded size, and DuckDB writes its
table in one streamed statement under ``memory_limit`` (so its file holds no blocks freed by
earlier inserts).

CSV is safe to open in a spreadsheet: a text cell that begins with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return, which a spreadsheet would take for a formula, is written with a ``'``
before it (OWASP, "CSV Injection"); ``csv_raw`` writes every cell as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from crawler.analysis.sections import ArchiveSections
from crawler.analysis.selection import ExportError, iter_selected, select
from crawler.schema import article_schema, current_version

TIMEZONE = "Asia/Ho_Chi_Minh"
FORMATS = ("parquet", "csv", "duckdb")
EXTENSIONS = {"parquet": ".parquet", "csv": ".csv", "duckdb": ".duckdb"}
TABLE = "articles"
BATCH_ROWS = 10_000
# EXPORT_MEMORY_MB's default; a batch of rows holds at most a sixteenth of it as text.
MEMORY_MB = 256
SCALARS = {"string": "string", "integer": "int", "number": "float", "boolean": "bool"}


class ExportStorageError(Exception):
    """The output could not be written: a full disk, a read-only or missing place, an I/O error."""


@dataclass
class Column:
    """One column (or struct member, or list item) as the schema describes it."""

    name: str
    kind: str  # string, int, float, bool, date, timestamp, list, struct
    description: str = ""
    item: Column | None = None  # for a list
    members: list[Column] = field(default_factory=list)  # for a struct
    keyed_by_field: bool = False  # a struct whose keys are the record's field names


def _json_types(prop: dict[str, Any]) -> list[str]:
    if "type" in prop:
        types = prop["type"]
        return [types] if isinstance(types, str) else list(types)
    values = prop.get("enum", [prop["const"]] if "const" in prop else [])
    found = {type(v) for v in values if v is not None}
    if found <= {str}:
        return ["string"]
    if found <= {int}:
        return ["integer"]
    raise ExportError(f"cannot tell the type of enum values {values!r}")


def _column(name: str, prop: dict[str, Any], field_names: list[str]) -> Column:
    types = [t for t in _json_types(prop) if t != "null"]
    if len(types) != 1:
        raise ExportError(f"{name}: a column needs one JSON type besides null, got {types}")
    kind = types[0]
    description = prop.get("description", "")
    if kind == "string":
        fmt = {"date": "date", "date-time": "timestamp"}.get(prop.get("format", ""), "string")
        return Column(name, fmt, description)
    if kind in SCALARS:
        return Column(name, SCALARS[kind], description)
    if kind == "array":
        return Column(name, "list", description, item=_column("item", prop["items"], field_names))
    if kind == "object":
        if "properties" in prop:
            members = [_column(n, p, field_names) for n, p in prop["properties"].items()]
            return Column(name, "struct", description, members=members)
        value = prop.get("additionalProperties")
        if isinstance(value, dict):
            members = [_column(n, value, field_names) for n in field_names]
            return Column(name, "struct", description, members=members, keyed_by_field=True)
    raise ExportError(f"{name}: no column type for JSON type {kind!r}")


def columns(schema: dict[str, Any] | None = None) -> list[Column]:
    """Return the export's columns, in the schema's order, from the record's JSON Schema."""
    schema = schema or article_schema()
    names = list(schema["properties"])
    return [_column(name, prop, names) for name, prop in schema["properties"].items()]


# --- Arrow ----------------------------------------------------------------------------------


def arrow_type(column: Column) -> Any:
    """Return the Arrow type of a column."""
    import pyarrow as pa

    simple = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(),
              "bool": pa.bool_(), "date": pa.date32(), "timestamp": pa.timestamp("us", TIMEZONE)}
    if column.kind in simple:
        return simple[column.kind]
    if column.kind == "list":
        assert column.item is not None
        return pa.list_(arrow_type(column.item))
    return pa.struct([arrow_field(m) for m in column.members])


def arrow_field(column: Column) -> Any:
    """Return the Arrow field of a column, its description kept as field metadata."""
    import pyarrow as pa

    metadata = {"description": column.description} if column.description else None
    return pa.field(column.name, arrow_type(column), nullable=True, metadata=metadata)


def arrow_schema(schema: dict[str, Any] | None = None) -> Any:
    """Return the Arrow schema of the export, derived from the record's JSON Schema."""
    import pyarrow as pa

    record_schema = schema or article_schema()
    return pa.schema([arrow_field(c) for c in columns(record_schema)], metadata={
        "schema_version": current_version(record_schema),
        "source": "baonamdinh-archiver export (crawler/analysis/export.py)",
    })


def _converter(column: Column, where: str) -> Callable[[Any], Any]:
    """Return a function turning a JSON value of the column into what Arrow takes for its type."""
    if column.kind == "date":
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    if column.kind == "timestamp":
        def timestamp(value: Any) -> Any:
            if value is None:
                return None
            moment = dt.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ExportError(f"{where}: {value!r} has no UTC offset")
            return moment
        return timestamp
    if column.kind == "list":
        assert column.item is not None
        item = _converter(column.item, f"{where}[]")
        return lambda v: None if v is None else [item(x) for x in v]
    if column.kind == "struct":
        members = {m.name: _converter(m, f"{where}.{m.name}") for m in column.members}

        def struct(value: Any) -> Any:
            if value is None:
                return None
            unknown = set(value) - set(members)
            if unknown:
                what = "keys" if column.keyed_by_field else "members"
                raise ExportError(f"{where}: {what} not in the schema: {sorted(unknown)}")
            return {name: convert(value.get(name)) for name, convert in members.items()}
        return struct
    return lambda v: v


class RowConverter:
    """Turns archive records into Arrow-ready rows, refusing any field the schema does not know."""

    def __init__(self, schema: dict[str, Any] | None = None):
        self.columns = columns(schema)
        self.names = [c.name for c in self.columns]
        self._convert = {c.name: _converter(c, c.name) for c in self.columns}

    def row(self, record: dict[str, Any], where: str) -> dict[str, Any]:
        """Return the record as a row; ExportError naming ``where`` if it cannot be faithful."""
        unknown = set(record) - set(self._convert)
        if unknown:
            raise ExportError(f"{where}: fields not in the schema: {sorted(unknown)}")
        try:
            return {name: convert(record.get(name)) for name, convert in self._convert.items()}
        except ExportError as exc:
            raise ExportError(f"{where}: {exc}") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise ExportError(f"{where}: {exc}") from None


# --- Writing --------------------------------------------------------------------------------


@dataclass
class ExportResult:
    """What an export wrote."""

    path: Path
    format: str
    rows: int
    lines_read: int
    files: int
    all_versions: bool
    seconds: float

    def line(self) -> str:
        """Return the one-line summary the CLI prints."""
        what = "article versions" if self.all_versions else "articles (latest version of each)"
        size = self.path.stat().st_size
        return (f"export: {self.rows} {what} from {self.lines_read} lines in {self.files} files "
                f"-> {self.path} ({self.format}, {size / 1e6:.1f} MB, {self.seconds:.1f} s)")


def default_output(root: str | os.PathLike[str], fmt: str, *, all_versions: bool) -> Path:
    """Return the default output: ``ARCHIVE_DIR/exports/articles[-all-versions].EXT``."""
    name = "articles-all-versions" if all_versions else "articles"
    return Path(root) / "exports" / f"{name}{EXTENSIONS[fmt]}"


def _batches(rows: Iterator[tuple[str, dict[str, Any]]], converter: RowConverter,
             schema: Any, memory_mb: int = MEMORY_MB) -> Iterator[Any]:
    """Yield Arrow record batches of the rows, each of at most BATCH_ROWS rows and about a
    sixteenth of ``memory_mb`` of text (as Python rows, then Arrow, they take a few times that)."""
    import pyarrow as pa

    budget = max(1, memory_mb) * (1 << 20) // 16
    batch: list[dict[str, Any]] = []
    held = 0
    for where, record in rows:
        batch.append(converter.row(record, where))
        held += sum(len(v) for v in (record.get("body"), record.get("lead")) if v) + 2048
        if len(batch) >= BATCH_ROWS or held >= budget:
            yield pa.RecordBatch.from_pylist(batch, schema=schema)
            batch, held = [], 0
    if batch:
        yield pa.RecordBatch.from_pylist(batch, schema=schema)


def _write_parquet(rows: Iterator[tuple[str, dict[str, Any]]], path: Path,
                   memory_mb: int = MEMORY_MB) -> int:
    import pyarrow.parquet as pq

    schema = arrow_schema()
    count = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in _batches(rows, RowConverter(), schema, memory_mb):
            writer.write_batch(batch)
            count += batch.num_rows
        if count == 0:
            writer.write_table(schema.empty_table())
    return count


def _write_duckdb(rows: Iterator[tuple[str, dict[str, Any]]], path: Path,
                  memory_mb: int = MEMORY_MB) -> int:
    import duckdb
    import pyarrow as pa

    schema = arrow_schema()
    counted = [0]

    def counting() -> Iterator[Any]:
        for batch in _batches(rows, RowConverter(), schema, memory_mb):
            counted[0] += batch.num_rows
            yield batch

    # Its own memory within the budget (spilling to a temporary folder beside the output), and
    # one thread, so the rows keep the archive's order as they stream in.
    spill = path.with_name(f"{path.name}.spill")
    con = duckdb.connect(str(path), config={
        "memory_limit": f"{max(64, memory_mb // 2)}MB", "threads": 1,
        "temp_directory": str(spill)})
    try:
        con.register("batch", schema.empty_table())
        con.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM batch")
        con.unregister("batch")
        # COMMENT takes no parameters: the texts are ours (the schema's), quoted as SQL strings.
        for column in columns():
            if column.description:
                con.execute(f'COMMENT ON COLUMN {TABLE}."{column.name}" IS '
                            f"{_sql_string(column.description)}")
        con.execute(f"COMMENT ON TABLE {TABLE} IS " + _sql_string(
            "Báo Nam Định archive records; timestamps are TIMESTAMPTZ: "
            "SET TimeZone = 'Asia/Ho_Chi_Minh' to see them at +07:00"))
        # One statement over a stream of batches: the rows are written once, with no blocks
        # left free by inserts that grew the table batch by batch.
        con.register("batches", pa.RecordBatchReader.from_batches(schema, counting()))
        con.execute(f"INSERT INTO {TABLE} SELECT * FROM batches")
        con.unregister("batches")
        con.execute("CHECKPOINT")
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return counted[0]


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(text: str) -> str:
    """Return a CSV cell's text with ``'`` before it when a spreadsheet would read a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_value(value: Any, raw: bool = False) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        # JSON text begins with [ or {: never a formula.
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str) and not raw:
        return defuse(value)
    return value


def _write_csv(rows: Iterator[tuple[str, dict[str, Any]]], path: Path, raw: bool = False, *,
               excel: bool = False) -> int:
    converter = RowConverter()  # checks every field against the schema, as the other formats
    count = 0
    # Excel reads a CSV as the machine's legacy code page unless it starts with a UTF-8 BOM.
    with path.open("w", encoding="utf-8-sig" if excel else "utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(converter.names)
        for where, record in rows:
            converter.row(record, where)
            writer.writerow([_csv_value(record.get(name), raw) for name in converter.names])
            count += 1
    return count


WRITERS = {"parquet": _write_parquet, "csv": _write_csv, "duckdb": _write_duckdb}
# A temporary output of this module: ``.NAME.tmp-PID``, and what DuckDB adds to its name (.wal).
_TEMPORARY = re.compile(r"\..+\.tmp-(?P<pid>[0-9]+)(?:\.[a-z]+)?")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporary files that exports killed before their rename left in ``folder``
    (``.NAME.tmp-PID`` whose process is gone); return them."""
    removed = []
    for path in folder.glob(".*.tmp-*"):
        match = _TEMPORARY.fullmatch(path.name)
        if match and int(match["pid"]) != os.getpid() and not _alive(int(match["pid"])):
            try:
                if path.is_dir():  # DuckDB's spill folder (_write_duckdb)
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except FileNotFoundError:  # another export removed it first
                continue
            removed.append(path)
    return removed


def _storage_error(exc: BaseException, path: Path) -> ExportStorageError:
    """Return the one-line error of an output that could not be written."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return ExportStorageError(f"cannot write {path}: {' '.join(str(reason).split())}")


def export(root: str | os.PathLike[str], fmt: str = "parquet", *, output: str | os.PathLike[str]
           | None = None, all_versions: bool = False, csv_raw: bool = False,
           excel: bool = False, memory_mb: int = MEMORY_MB) -> ExportResult:
    """Write the archive's articles (latest versions, or all) to ``output`` in ``fmt`` within
    ``memory_mb``; CSV cells that would be formulas get a ``'`` unless ``csv_raw``; ``excel``
    starts a CSV with a UTF-8 BOM, so that Excel shows Vietnamese as written. ExportError when
    the archive cannot be written faithfully, ExportStorageError when the output cannot be
    written."""
    if fmt not in WRITERS:
        raise ExportError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if excel and fmt != "csv":
        raise ExportError(f"excel applies to the csv format, not {fmt}")
    base = Path(root)
    if not (base / "articles").is_dir():
        raise ExportError(f"{base} is not an archive: it has no articles/ folder")
    started = time.monotonic()
    path = Path(output) if output else default_output(base, fmt, all_versions=all_versions)
    selection = select(base, all_versions=all_versions)
    # Old-CMS records keyed by the sections the archive knows now, not when each was archived.
    known = ArchiveSections.of(base, None if all_versions else selection.section_names)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if fmt == "csv":
        writer = partial(_write_csv, raw=csv_raw, excel=excel)
    else:
        writer = partial(WRITERS[fmt], memory_mb=memory_mb)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path.parent)
        temporary.unlink(missing_ok=True)
        try:
            rows = writer(((where, known.rekeyed(record))
                           for where, record in iter_selected(base, selection)), temporary)
            os.replace(temporary, path)
        finally:
            for leftover in path.parent.glob(f"{temporary.name}*"):
                leftover.unlink(missing_ok=True)
            if selection.chosen is not None:
                selection.chosen.close()
    except OSError as exc:
        if exc.filename is not None and not str(exc.filename).startswith(str(path.parent)):
            raise  # not the output's: reading the archive failed
        raise _storage_error(exc, path) from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("duckdb", "_duckdb")) and "IO" in type(exc).__name__:
            raise _storage_error(exc, path) from exc
        raise
    return ExportResult(path, fmt, rows, selection.lines_read, len(selection.files), all_versions,
                        time.monotonic() - started)
