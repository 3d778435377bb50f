"""``export --format sqlite``: the archive as one SQLite database with a full-text index.

Tables (every column typed; lists and structs as JSON text):

- ``articles``: the latest version of each article, one column per field of the record's JSON
  Schema (crawler/analysis/export.py derives them, as for the other formats), plus
  ``published_year`` (derived from ``published_month``, for facets);
- ``versions``: every line of the archive, one row per (key, version), with the article's id:
  its content hash, fetch time, title, and where the line is (``file``, ``offset``, ``length``),
  ``latest`` 1 for the one in ``articles``;
- ``images``: one row per image of each article (``article_id``, ``position``, ``url``,
  ``caption``, ``mirror_url``, ``article_key``);
- ``sections``: one row per section with its article count and first and last month, and its name
  when the records carry one (``section_name``/``section_key``, else the ``section`` itself);
- ``articles_fts``: an FTS5 index over title, lead and body, holding ``search_key`` of each
  (crawler/normalise/keys.py: tones, marks and "đ" folded), so that a search typed with or
  without tones finds the same articles. It is contentless (``content=''``): the text is kept once,
  in ``articles``; its rowid is the article's rowid;
- ``export_meta``: the changes cursor (crawler/analysis/changes.py) the database is up to and the
  columns it was built with.

Running the export again on the same output applies only what the changes feed gives after the
stored cursor: new articles are added, an edited article's row, images and index entry replaced.
The database is rebuilt from scratch (into a temporary file, renamed at the end) when it is not
ours, was built from another archive or with other columns (the schema grew), or a month file was
rewritten under the cursor, or the fold itself changed (a contentless index forgets a row only
when told the very keys it indexed). ``is_fresh`` tells search and serve, from the state's
committed sizes alone, whether there is anything to read.
An update runs in one transaction: a reader sees the database before or after it, never half.
Articles are keyed on their ``key`` (crawler/items.py: the CMS generation and the id), as in
the archive: two articles of the two CMS generations that share an id are two rows, and serve's
row URLs name the key (``/archive/articles/old:2548123``). ``id`` is an indexed column.
Lines are parsed and folded in worker processes when there is much to read (PARALLEL_FROM); the
articles are written in the archive's order either way.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.analysis.changes import Cursor, CursorError, pull_located
from crawler.analysis.export import Column, ExportError, RowConverter, columns
from crawler.analysis.readonly import committed_sizes, open_state
from crawler.analysis.sections import rekey_rows
from crawler.items import record_key
from crawler.normalise.keys import search_key

FORMAT = "baonamdinh-archive-sqlite/2"  # 2: keyed on key, not id
FTS = "articles_fts"
SEARCHED = ("title", "lead", "body")
WEIGHTS = (10.0, 4.0, 1.0)  # bm25's column weights, FTS5's rank: title matches count most
SQL_TYPES = {"string": "TEXT", "int": "INTEGER", "float": "REAL", "bool": "INTEGER",
             "date": "TEXT", "timestamp": "TEXT", "list": "TEXT", "struct": "TEXT"}
DERIVED = (("published_year", "INTEGER"),)
# Stored last in each row: SQLite reads a row's columns in order, so the dates, section and ids
# that filters, facets and counts read stay in the row's first page, before the long text.
LAST = ("lead", "body")


def table_columns(cols: list[Column]) -> list[tuple[str, str]]:
    """Return the articles table's (column, SQL type), in the order they are stored."""
    first = [(c.name, SQL_TYPES[c.kind]) for c in cols if c.name not in LAST]
    last = [(c.name, SQL_TYPES[c.kind]) for c in cols if c.name in LAST]
    return first + list(DERIVED) + last
BATCH = 2000
# Below this many bytes to read, worker processes would cost more than they save.
PARALLEL_FROM = 32 << 20


def usable_cores() -> int:
    """Return the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class _Rebuild(Exception):
    """The stored cursor no longer holds: start again from scratch."""


@dataclass
class Refresh:
    """What one export or refresh of the database did."""

    path: Path
    built: bool  # from scratch (else updated in place)
    lines: int = 0  # archive lines read
    added: int = 0  # articles new to the database
    updated: int = 0  # articles replaced by a newer version
    articles: int = 0  # articles in the database afterwards
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def line(self) -> str:
        """Return the one-line summary the CLI prints."""
        how = "built" if self.built else "updated"
        size = self.path.stat().st_size
        return (f"export: {self.articles} articles (latest version of each) in {self.path} "
                f"(sqlite, {how}: {self.lines} new lines read, {self.added} articles added, "
                f"{self.updated} updated; {size / 1e6:.1f} MB, {self.seconds:.1f} s)")


def default_database(root: str | os.PathLike[str]) -> Path:
    """Return the default database of an archive: ``ARCHIVE_DIR/exports/articles.sqlite``."""
    return Path(root) / "exports" / "articles.sqlite"


# What search_key makes of these tells whether the index was folded as it folds now: an update
# must tell a contentless index the very keys it indexed, so another fold means a rebuild.
KEY_PROBE = "Trần Hưng Đạo, hoà/hòa THUỶ Ðà “Nẵng” ươ ă â ê ô ơ ư ß İ 1,5% ǅ ﬁ 가"


def _signature(cols: list[Column]) -> str:
    return json.dumps([list(c) for c in table_columns(cols)]
                      + [search_key(KEY_PROBE)], ensure_ascii=False)


def _readable(root: Path) -> dict[str, int]:
    """Return how far each month file may be read now, as the changes feed reads it: its
    committed size in the state database, or (without one) its size."""
    files = {f"articles/{p.name}": p.stat().st_size for p in (root / "articles").glob("*.jsonl")}
    db = open_state(root)
    if db is None:
        return files
    try:
        return {rel: size for rel, size in committed_sizes(db).items() if rel in files}
    finally:
        db.close()


def _nothing_new(root: Path, since: Cursor) -> bool:
    """True when the changes feed would send nothing after ``since`` (its fingerprints aside)."""
    ends = _readable(root)
    return set(ends) == set(since.positions) and \
        all(since.positions[rel][0] == end for rel, end in ends.items())


def _meta(db: sqlite3.Connection) -> dict[str, str]:
    try:
        return dict(db.execute("SELECT key, value FROM export_meta"))
    except sqlite3.DatabaseError:
        return {}


def read_meta(path: str | os.PathLike[str]) -> dict[str, str]:
    """Return the database's export_meta (empty when it is absent or not ours)."""
    if not Path(path).is_file():
        return {}
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        return _meta(db)
    finally:
        db.close()


def is_fresh(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> bool:
    """True when the database exists, is ours, and the archive has committed no line since it
    was brought up to date (a quick look at the state, for search and serve; export reads)."""
    meta = read_meta(path)
    if not (meta.get("format") == FORMAT and meta.get("columns") == _signature(columns())
            and meta.get("archive") == str(Path(root).resolve())):
        return False
    try:
        return _nothing_new(Path(root), Cursor.decode(meta.get("cursor", "")))
    except CursorError:
        return False


def _create(db: sqlite3.Connection, cols: list[Column]) -> None:
    defs = [f'"{name}" {kind}' + (" PRIMARY KEY" if name == "key" else "")
            for name, kind in table_columns(cols)]
    db.executescript(f"""
        CREATE TABLE articles ({", ".join(defs)});
        CREATE TABLE versions (
            id TEXT NOT NULL, version INTEGER NOT NULL,
            content_hash TEXT, fetched_at TEXT, extractor_version TEXT, title TEXT,
            file TEXT NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
            latest INTEGER NOT NULL DEFAULT 0,
            "key" TEXT NOT NULL REFERENCES articles("key"), PRIMARY KEY ("key", version));
        CREATE TABLE images (
            article_id TEXT NOT NULL, position INTEGER NOT NULL,
            url TEXT, caption TEXT, mirror_url TEXT,
            article_key TEXT NOT NULL REFERENCES articles("key"),
            PRIMARY KEY (article_key, position));
        CREATE TABLE sections (
            section TEXT PRIMARY KEY, name TEXT, articles INTEGER, first_month TEXT,
            last_month TEXT);
        CREATE VIRTUAL TABLE {FTS} USING fts5({", ".join(SEARCHED)}, content='',
            tokenize='unicode61 remove_diacritics 0');
        INSERT INTO {FTS} ({FTS}, rank) VALUES ('rank', 'bm25({", ".join(map(str, WEIGHTS))})');
        CREATE TABLE export_meta (key TEXT PRIMARY KEY, value TEXT);
    """)


def _create_indexes(db: sqlite3.Connection, names: set[str]) -> None:
    db.execute("CREATE INDEX IF NOT EXISTS articles_id ON articles (id)")
    db.execute("CREATE INDEX IF NOT EXISTS articles_month ON articles (published_month)")
    db.execute("CREATE INDEX IF NOT EXISTS articles_date ON articles (published_date, "
               "published_month)")
    # The served page's facets by year and author read these instead of 250,000 rows.
    db.execute("CREATE INDEX IF NOT EXISTS articles_year ON articles (published_year)")
    db.execute("CREATE INDEX IF NOT EXISTS articles_authors ON articles (authors)")
    for name in ("section", "section_key"):
        if name in names:
            db.execute(f'CREATE INDEX IF NOT EXISTS articles_{name} ON articles ("{name}")')


def _json(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return int(value)
    return value


@dataclass
class _Line:
    """One archive line made ready to write (in a worker process when the export is large)."""

    article_id: str
    key: str  # the article's key (crawler/items.py record_key): CMS generation and id
    version: int
    version_row: tuple[Any, ...]
    values: list[Any]  # the articles row: every column, then the derived ones
    keys: tuple[str, ...]  # search_key of title, lead, body
    images: list[tuple[Any, ...]]


_CONVERTER: list[RowConverter] = []
_STORED: list[list[str]] = []


def _stored_names() -> list[str]:
    if not _STORED:
        _STORED.append([name for name, _kind in table_columns(columns())])
    return _STORED[0]


def _prepare(batch: list[tuple[str, int, bytes]]) -> list[_Line]:
    """Parse, check and fold one batch of located lines: all the export's work but SQLite's."""
    if not _CONVERTER:
        _CONVERTER.append(RowConverter())
    converter = _CONVERTER[0]
    out = []
    for rel, offset, raw in batch:
        where = f"{rel}@{offset}"
        try:
            record = json.loads(raw)
        except ValueError as exc:
            raise ExportError(f"{where}: not a JSON record ({exc}); run python -m crawler "
                              f"verify") from None
        converter.row(record, where)  # every field and member known to the schema
        article_id, version = record["id"], record.get("version") or 1
        key = record_key(record)
        if "key" not in record:  # written before schema 1.4.0: the key its cms and id give
            record["key"] = key
        month = record.get("published_month") or ""
        derived = {"published_year": int(month[:4]) if month[:4].isdigit() else None}
        values = [derived[n] if n in derived else _json(record.get(n)) for n in _stored_names()]
        out.append(_Line(
            article_id, key, version,
            (article_id, version, record.get("content_hash"), record.get("fetched_at"),
             record.get("extractor_version"), record.get("title"), rel, offset, len(raw), key),
            values, tuple(search_key(record.get(n) or "") for n in SEARCHED),
            [(article_id, i, image.get("url"), image.get("caption"), image.get("mirror_url"), key)
             for i, image in enumerate(record.get("images") or [])]))
    return out


class _Writer:
    """Applies prepared lines to an open database, each article's latest version winning."""

    def __init__(self, db: sqlite3.Connection, cols: list[Column]):
        self.db = db
        self.names = [name for name, _kind in table_columns(cols)]
        # key -> (rowid, version)
        self.known: dict[str, tuple[int, int]] = {
            k: (rowid, v)
            for k, rowid, v in db.execute('SELECT "key", rowid, version FROM articles')}
        self.added = self.updated = 0
        self.touched: set[str] = set()  # keys
        quoted = ", ".join(f'"{n}"' for n in self.names)
        marks = ", ".join("?" * len(self.names))
        self.insert_sql = f"INSERT INTO articles ({quoted}) VALUES ({marks})"
        sets = ", ".join(f'"{n}" = ?' for n in self.names)
        self.update_sql = f"UPDATE articles SET {sets} WHERE rowid = ?"

    def apply(self, batch: list[_Line]) -> None:
        """Write one batch of prepared lines."""
        gone_images = []
        images: dict[str, list[tuple[Any, ...]]] = {}  # article key -> its image rows
        fts: dict[int, tuple[str, ...]] = {}  # rowid -> what to index, once the batch is read
        versions = []
        for line in batch:
            known = self.known.get(line.key)
            versions.append(line.version_row)
            self.touched.add(line.key)
            if known is not None and line.version < known[1]:
                continue
            if known is None:
                rowid = self.db.execute(self.insert_sql, line.values).lastrowid
                self.added += 1
            else:
                rowid = known[0]
                if rowid not in fts:  # indexed by an earlier batch (else: replaced below)
                    self._unindex(rowid)
                self.db.execute(self.update_sql, [*line.values, rowid])
                if line.key not in images:  # written by an earlier batch
                    gone_images.append((line.key,))
                self.updated += 1
            self.known[line.key] = (rowid, line.version)
            fts[rowid] = line.keys
            images[line.key] = line.images
        db = self.db
        db.executemany("DELETE FROM images WHERE article_key = ?", gone_images)
        db.executemany("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)",
                       [row for rows in images.values() for row in rows])
        db.executemany(f"INSERT INTO {FTS} (rowid, {', '.join(SEARCHED)}) VALUES (?, ?, ?, ?)",
                       [(rowid, *keys) for rowid, keys in fts.items()])
        db.executemany("INSERT OR REPLACE INTO versions (id, version, content_hash, fetched_at, "
                       'extractor_version, title, file, offset, length, "key") '
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", versions)

    def _unindex(self, rowid: int) -> None:
        # A contentless FTS5 table forgets a row only when told the values it indexed.
        row = self.db.execute(f"SELECT {', '.join(SEARCHED)} FROM articles WHERE rowid = ?",
                              (rowid,)).fetchone()
        self.db.execute(f"INSERT INTO {FTS} ({FTS}, rowid, {', '.join(SEARCHED)}) "
                        f"VALUES ('delete', ?, ?, ?, ?)",
                        (rowid, *(search_key(v or "") for v in row)))


def _finish(db: sqlite3.Connection, names: set[str], touched: set[str] | None) -> None:
    """Recompute what depends on more than one line: latest flags (of the articles touched, or
    all), sections."""
    latest = ("UPDATE versions SET latest = (version = (SELECT a.version FROM articles a "
              'WHERE a."key" = versions."key"))')
    if touched is None:
        db.execute(latest)
    else:
        db.executemany(latest + ' WHERE "key" = ?', [(k,) for k in touched])
    key = "coalesce(section_key, section)" if "section_key" in names else "section"
    name = "max(section_name)" if "section_name" in names else "NULL"
    db.execute("DELETE FROM sections")
    db.execute(f"INSERT INTO sections SELECT {key}, {name}, count(*), min(published_month), "
               f"max(published_month) FROM articles WHERE {key} IS NOT NULL GROUP BY {key}")


def _located(lines: Iterator[tuple[str, int, bytes]],
             since: Cursor | None) -> Iterator[tuple[str, int, bytes]]:
    """Pass the lines on; _Rebuild when a file is sent again from before the cursor."""
    positions = since.positions if since else {}
    for rel, offset, raw in lines:
        if offset < positions.get(rel, (0, ""))[0]:
            raise _Rebuild(f"{rel} changed before the cursor")
        yield rel, offset, raw


def _batches(lines: Iterator[tuple[str, int, bytes]], result: Refresh
             ) -> Iterator[list[tuple[str, int, bytes]]]:
    batch: list[tuple[str, int, bytes]] = []
    for item in lines:
        batch.append(item)
        result.lines += 1
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _to_read(root: Path, since: Cursor | None) -> int:
    """Return about how many bytes of month files lie past the cursor."""
    positions = since.positions if since else {}
    return sum(end - positions.get(rel, (0, ""))[0] for rel, end in _readable(root).items())


def _apply(db: sqlite3.Connection, root: Path, since: Cursor | None, cols: list[Column],
           result: Refresh) -> None:
    workers = min(usable_cores(), 4) if _to_read(root, since) >= PARALLEL_FROM else 0
    lines, outcome = pull_located(root, since)
    writer = _Writer(db, cols)
    batches = _batches(_located(lines, since), result)
    if workers < 2:
        for batch in batches:
            writer.apply(_prepare(batch))
    else:
        # Parsing and folding (three quarters of the work) in worker processes, in order, while
        # this one writes: the export keeps every core busy.
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for prepared in pool.imap(_prepare, batches):
                writer.apply(prepared)
    names = {c.name for c in cols}
    if result.lines:
        _create_indexes(db, names)
        if {"section", "cms", "section_name", "section_key", "provenance"} <= names:
            # Old records keyed by what the archive knows now (crawler/analysis/sections.py).
            rekey_rows(db, "articles", root)
        _finish(db, names, None if since is None else writer.touched)
    result.added, result.updated = writer.added, writer.updated
    result.warnings += [w for w in outcome.warnings if "no state.sqlite3" not in w]
    meta = {"format": FORMAT, "columns": _signature(cols), "cursor": outcome.cursor.encode(),
            "archive": str(root.resolve()), "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    db.executemany("INSERT OR REPLACE INTO export_meta VALUES (?, ?)", meta.items())


def _build(root: Path, path: Path, cols: list[Column], result: Refresh) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.unlink(missing_ok=True)
    try:
        db = sqlite3.connect(temporary, isolation_level=None)
        try:
            # A temporary file, renamed only once complete: no journal needed to stay whole.
            db.execute("PRAGMA journal_mode = OFF")
            db.execute("PRAGMA synchronous = OFF")
            db.execute("PRAGMA cache_size = -200000")
            _create(db, cols)
            db.execute("BEGIN")
            _apply(db, root, None, cols, result)
            db.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('optimize')")
            db.execute("COMMIT")
            db.execute("PRAGMA journal_mode = DELETE")
        finally:
            db.close()
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def refresh(root: str | os.PathLike[str], output: str | os.PathLike[str] | None = None, *,
            rebuild: bool = False) -> Refresh:
    """Bring the SQLite database of an archive up to date (building it when needed)."""
    base = Path(root)
    if not (base / "articles").is_dir():
        raise ExportError(f"{base} is not an archive: it has no articles/ folder")
    started = time.monotonic()
    path = Path(output) if output else default_database(base)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = columns()
    meta = read_meta(path) if path.exists() and not rebuild else {}
    usable = (meta.get("format") == FORMAT and meta.get("columns") == _signature(cols)
              and meta.get("archive") == str(base.resolve()))
    result = Refresh(path, built=not usable)
    if usable:
        try:
            since = Cursor.decode(meta.get("cursor", ""))
        except CursorError:
            since, usable = None, False
    if usable:
        db = sqlite3.connect(path, isolation_level=None, timeout=60)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                _apply(db, base, since, cols, result)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except _Rebuild as exc:
            result = Refresh(path, built=True, warnings=[f"{exc}: rebuilt from scratch"])
            usable = False
        finally:
            db.close()
    if not usable:
        _build(base, path, cols, result)
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        result.articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        db.close()
    result.seconds = time.monotonic() - started
    return result
