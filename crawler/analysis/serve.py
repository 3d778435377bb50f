"""``python -m crawler serve``: the archive's SQLite database browsed and searched in Datasette.

The database (crawler/analysis/database.py) is served as ``archive``, read only (SQLite
``mode=ro`` connections), on 127.0.0.1 unless told otherwise. This module is also the Datasette
plugin that makes the served pages the archive's:

- ``escape_fts``, the SQL function Datasette's ``?_search=`` runs the typed text through, becomes
  ``fts_query`` (crawler/analysis/search.py), so the search box folds tones and "đ" exactly as the
  ``search`` command does, over the same index;
- the articles table faces by section, year and author, and above its rows draws the matches per
  month of the current search and filters (server-side SVG, no script);
- an article's page reads as an article: title, date, section, authors, lead, body, its images
  (``mirror_url`` when known: the paper's own host is gone, docs/site-notes.md) with captions, and
  a link to its raw capture;
- a raw capture is shown with its HTTP headers, its page in a sandboxed frame (``sandbox`` with no
  permissions, served with ``Content-Security-Policy: sandbox; default-src 'none'``: no script
  runs, nothing is fetched) and the WARC record to download.

Every page carries a Content-Security-Policy that lets the browser fetch nothing but this server,
except the article photos from the hosts the images table names: no CDN script or style, no
request to anyone else.
"""

from __future__ import annotations

import gzip
import html
import io
import json
import os
import re
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from datasette import hookimpl
from datasette.app import Datasette
from datasette.database import Database
from datasette.facets import ArrayFacet
from datasette.filters import Filters
from datasette.plugins import pm
from datasette.utils import await_me_maybe, urlsafe_components
from datasette.utils.asgi import Response
from markupsafe import Markup

from crawler.analysis.search import (
    Query,
    fts_query,
    months_between,
    parse,
    passage_source,
    prepare,
    snippet,
)

NAME = "archive"
TABLE = "articles"
TEMPLATES = Path(__file__).resolve().parent / "templates"
PLUGIN = "baonamdinh-archive"
SETTINGS = {
    "default_page_size": 20,
    "truncate_cells_html": 160,
    "suggest_facets": False,  # at 250,000 rows suggesting facets costs seconds per page
    "facet_time_limit_ms": 3000,
    "sql_time_limit_ms": 5000,
    "default_facet_size": 15,
    "allow_download": False,
}


def section_column(columns: set[str]) -> str:
    """Return the column sections are shown and faceted by: section_name when the records have
    it (the section work), else section."""
    return "section_name" if "section_name" in columns else "section"


def metadata(columns: set[str]) -> dict[str, Any]:
    """Return the Datasette metadata of the served database."""
    return {
        "title": "Báo Nam Định archive",
        "description": "Articles of Báo Nam Định as the archiver holds them. Search with or "
                       "without tones; facets by section, year and author.",
        "databases": {NAME: {"tables": {
            TABLE: {
                "fts_table": "articles_fts", "fts_pk": "rowid",
                "facets": [section_column(columns), "published_year", {"list": "authors"}],
                "sort_desc": "published_date", "label_column": "title", "size": 20,
            },
            "articles_fts": {"hidden": True},
            "export_meta": {"hidden": True},
        }}},
    }


# --- Plugin hooks ------------------------------------------------------------------------------


class ListFacet(ArrayFacet):
    """Datasette's array facet (one count per value of a JSON list column), made to read only
    the row id and the list: Datasette's own takes the DISTINCT of whole rows, the text of every
    article included (3 s on 250,000 articles, against 0.7 s)."""

    type = "list"

    async def facet_results(self) -> Any:
        """Count the list's values among the rows the table view selects."""
        original = self.sql
        narrowed = re.sub(r"^\s*select\s.*?\sfrom\s", "select rowid, * from ", original,
                          count=1, flags=re.IGNORECASE | re.DOTALL)
        configs = self.get_configs()
        columns = [c["config"].get("column") or c["config"]["simple"] for c in configs]
        if columns and narrowed != original:
            keep = ", ".join(f'"{c}"' for c in columns)
            self.sql = narrowed.replace("select rowid, * from ", f"select rowid, {keep} from ", 1)
        try:
            return await super().facet_results()
        finally:
            self.sql = original


@hookimpl
def register_facet_classes() -> list[type]:
    """Add the list facet (authors)."""
    return [ListFacet]



@hookimpl(trylast=True)
def prepare_connection(conn: Any, database: str, datasette: Any) -> None:
    """Make ``?_search=`` fold as the ``search`` command does (called after Datasette's own)."""
    if database != NAME:
        return
    prepare(conn)
    conn.create_function("escape_fts", 1, fts_query)


@hookimpl
def extra_template_vars(template: str, database: str, table: str, view_name: str,
                        request: Any, datasette: Any) -> Any:
    """Give the articles table its chart and an article's page its record."""
    if database != NAME or table != TABLE:
        return None

    async def inner() -> dict[str, Any]:
        if view_name == "table":
            query = parse(request.args.get("_search") or "")
            # ?_archive_table=1: Datasette's own table, every column, instead of the list.
            return {"chart": await _chart(datasette, request),
                    "archive_list": not request.args.get("_archive_table"),
                    "archive_snippet": lambda *texts: snippet_html(
                        passage_source(query, *texts), query)}
        if view_name == "row":
            return {"article": await _article(datasette, request)}
        return {}
    return inner


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    """Add the raw capture pages, and send / to the articles table."""
    return [
        (r"^/$", _home),
        (r"^/-/capture/(?P<key>[^/]+)\.warc\.gz$", _capture_warc),
        (r"^/-/capture/(?P<key>[^/]+)/page$", _capture_page),
        (r"^/-/capture/(?P<key>[^/]+)$", _capture_view),
    ]


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """Send every response with the archive's Content-Security-Policy; a blank search is none."""
    def wrap(app: Any) -> Any:
        async def with_policy(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            scope = _without_empty_search(scope)

            async def sending(event: dict[str, Any]) -> None:
                if event["type"] == "http.response.start":
                    headers = [(k, v) for k, v in event.get("headers", [])
                               if k.lower() != b"content-security-policy"]
                    policy = _policy(datasette, scope["path"])
                    headers.append((b"content-security-policy", policy.encode()))
                    event = {**event, "headers": headers}
                await send(event)
            await app(scope, receive, sending)
        return with_policy
    return wrap


def _without_empty_search(scope: dict[str, Any]) -> dict[str, Any]:
    """Drop an empty ``_search=`` (the search box submitted blank): every row, not none."""
    query = scope.get("query_string", b"")
    if b"_search=" not in query:
        return scope
    kept = [part for part in query.split(b"&") if part not in (b"_search=", b"_search")]
    return {**scope, "query_string": b"&".join(kept)}


def _policy(datasette: Any, path: str) -> str:
    if path.startswith("/-/capture/") and path.endswith("/page"):
        # A foreign page: no script, no request at all, not even to us.
        return ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "form-action 'none'; base-uri 'none'")
    hosts = " ".join(datasette._archive_image_origins)  # noqa: SLF001 - set by make_datasette
    return (f"default-src 'self'; img-src 'self' data: {hosts}; script-src 'self' "
            f"'unsafe-inline'; style-src 'self' 'unsafe-inline'; frame-src 'self'; "
            f"object-src 'none'; base-uri 'self'; form-action 'self'")


# --- The chart -------------------------------------------------------------------------------


async def _where(datasette: Any, request: Any) -> tuple[list[str], dict[str, Any]]:
    """Return the table view's where clauses and parameters for this request (its filters and
    search), built by the same code the table view uses."""
    pairs = [(key, value) for key in request.args if not (key.startswith("_") and "__" not in key)
             for value in request.args.getlist(key)]
    where, params = Filters(sorted(pairs)).build_where_clauses(TABLE)
    for hook in pm.hook.filters_from_request(request=request, table=TABLE, database=NAME,
                                             datasette=datasette):
        made = await await_me_maybe(hook)
        if made:
            where += made.where_clauses
            params.update(made.params)
    return where, params


async def _chart(datasette: Any, request: Any) -> dict[str, Any]:
    """Return the bars of the matches per month of the current search and filters."""
    where, params = await _where(datasette, request)
    sql = (f"SELECT published_month, count(*) FROM {TABLE} "
           f"{'WHERE ' + ' AND '.join(where) if where else ''} GROUP BY published_month")
    rows = await datasette.get_database(NAME).execute(sql, params)
    counts = {month: number for month, number in rows.rows if month}
    search = request.args.get("_search") or ""
    if not counts:
        return {"months": [], "search": search, "total": 0}
    months = months_between(min(counts), max(counts))
    top = max(counts.values())
    width, height = 1000, 150
    step = width / len(months)
    args = [(k, v) for k in request.args for v in request.args.getlist(k)
            if k not in ("published_month", "_next")]
    bars = []
    for i, month in enumerate(months):
        number = counts.get(month, 0)
        h = round(height * number / top, 1)
        bars.append({"month": month, "count": number, "x": round(i * step, 2),
                     "width": round(max(step - 1, 0.6), 2), "y": round(height - h, 1),
                     "height": h,
                     "href": "?" + urlencode([*args, ("published_month", month)])})
    years = [{"x": round(i * step, 2), "year": m[:4]} for i, m in enumerate(months)
             if m.endswith("-01") or i == 0]
    if len(years) > 1 and years[1]["x"] - years[0]["x"] < 40:
        years = years[1:]  # the first month's year label would overlap the next one
    if len(years) > 20:
        years = [y for i, y in enumerate(years) if i % ((len(years) + 19) // 20) == 0]
    return {"months": bars, "years": years, "top": top, "search": search,
            "total": sum(counts.values()), "width": width, "height": height}


def snippet_html(text: str, query: Query) -> Markup:
    """Return the search snippet of ``text`` as HTML, the matches in <mark>."""
    cut = html.escape(snippet(text, query, marks=("\x00", "\x01")))
    return Markup(cut.replace("\x00", "<mark>").replace("\x01", "</mark>"))


# --- An article's page -------------------------------------------------------------------------


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def _article(datasette: Any, request: Any) -> dict[str, Any] | None:
    """Return the article of a row page, its JSON columns decoded and images ready to show."""
    pks = request.url_vars.get("pks", "")
    key = urlsafe_components(pks)[0] if pks else None  # the article's key (CMS and id)
    db = datasette.get_database(NAME)
    rows = await db.execute(f'SELECT * FROM {TABLE} WHERE "key" = ?', [key])
    row = rows.first()
    if row is None:
        return None
    article = {key: _decoded(row[key]) for key in row.keys()}
    article["fields"] = [(key, value if not isinstance(value, (list, dict)) else
                          json.dumps(value, ensure_ascii=False, indent=1))
                         for key, value in article.items()]
    images = await db.execute("SELECT url, caption, mirror_url FROM images WHERE article_key = ? "
                              "ORDER BY position", [key])
    article["shown_images"] = [{"src": r["mirror_url"] or r["url"], "url": r["url"],
                                "mirror_url": r["mirror_url"], "caption": r["caption"]}
                               for r in images.rows]
    article["paragraphs"] = [p for p in (article.get("body") or "").split("\n\n") if p.strip()]
    versions = await db.execute('SELECT count(*) FROM versions WHERE "key" = ?', [key])
    article["version_count"] = versions.single_value()
    article["section_shown"] = article.get("section_name") or article.get("section")
    return article


# --- Raw captures ------------------------------------------------------------------------------


class CaptureError(Exception):
    """No readable raw capture for that article."""


def _key(request: Any) -> str:
    """The article key a capture URL names, as its links write it (``old%3A2548123``) or not."""
    return unquote(request.url_vars["key"])


async def _capture_of(datasette: Any, key: str) -> dict[str, Any]:
    rows = await datasette.get_database(NAME).execute(
        f'SELECT capture, url, title FROM {TABLE} WHERE "key" = ?', [key])
    row = rows.first()
    if row is None:
        raise CaptureError(f"no article {key!r}")
    capture = _decoded(row["capture"]) or {}
    if not capture.get("warc_file"):
        raise CaptureError(f"article {key} has no raw capture")
    return {**capture, "article_url": row["url"], "title": row["title"]}


def _warc_bytes(root: Path, capture: dict[str, Any]) -> bytes:
    """Return the capture's WARC record (its gzip member) as stored; CaptureError when absent."""
    raw = (root / "raw").resolve()
    path = (root / capture["warc_file"]).resolve()
    if raw not in path.parents or not path.is_file():
        raise CaptureError(f"{capture['warc_file']} is not a WARC file of this archive")
    with path.open("rb") as fh:
        fh.seek(int(capture.get("offset") or 0))
        data = fh.read(int(capture.get("length") or 0) or 64 << 20)
    return data


def read_capture(root: Path, capture: dict[str, Any]) -> dict[str, Any]:
    """Return a capture's URL, status, headers and body (content coding undone)."""
    from warcio.archiveiterator import ArchiveIterator

    data = _warc_bytes(root, capture)
    for record in ArchiveIterator(io.BytesIO(data)):
        if record.rec_type != "response":
            continue
        headers = list(record.http_headers.headers) if record.http_headers else []
        status = record.http_headers.get_statuscode() if record.http_headers else None
        body = record.content_stream().read()
        return {"url": record.rec_headers.get_header("WARC-Target-URI"), "status": status,
                "date": record.rec_headers.get_header("WARC-Date"), "headers": headers,
                "body": body}
    raise CaptureError("the capture holds no response record")


def _charset(headers: list[tuple[str, str]]) -> str:
    for key, value in headers:
        if key.lower() == "content-type" and "charset=" in value.lower():
            return value.lower().split("charset=", 1)[1].split(";")[0].strip() or "utf-8"
    return "utf-8"


async def _home(request: Any, datasette: Any) -> Response:
    return Response.redirect(datasette.urls.table(NAME, TABLE))


async def _capture_view(request: Any, datasette: Any) -> Response:
    key = _key(request)
    try:
        capture = await _capture_of(datasette, key)
        found = read_capture(datasette._archive_root, capture)  # noqa: SLF001
    except (CaptureError, OSError, ValueError) as exc:
        return Response.html(f"<p>{html.escape(str(exc))}</p>", status=404)
    context = {"capture": capture, "found": found, "article_key": key,
               "row_url": datasette.urls.row(NAME, TABLE, key), "size": len(found["body"])}
    return Response.html(await datasette.render_template("archive-capture.html", context,
                                                         request=request))


async def _capture_page(request: Any, datasette: Any) -> Response:
    try:
        capture = await _capture_of(datasette, _key(request))
        found = read_capture(datasette._archive_root, capture)  # noqa: SLF001
    except (CaptureError, OSError, ValueError) as exc:
        return Response.text(str(exc), status=404)
    charset = _charset(found["headers"])
    return Response(found["body"], content_type=f"text/html; charset={charset}",
                    headers={"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"})


async def _capture_warc(request: Any, datasette: Any) -> Response:
    try:
        capture = await _capture_of(datasette, _key(request))
        data = _warc_bytes(datasette._archive_root, capture)  # noqa: SLF001
    except (CaptureError, OSError) as exc:
        return Response.text(str(exc), status=404)
    if data[:2] != b"\x1f\x8b":
        data = gzip.compress(data)
    name = f"{_key(request).replace(':', '-')}.warc.gz"
    return Response(data, content_type="application/warc",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- Serving ----------------------------------------------------------------------------------


def _image_origins(path: Path) -> list[str]:
    """Return the origins the article pages show images from (mirror, else original)."""
    import sqlite3

    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        shown = db.execute("SELECT DISTINCT substr(u, 1, instr(substr(u, 9), '/') + 7) FROM "
                           "(SELECT coalesce(mirror_url, url) AS u FROM images)")
        origins = set()
        for (prefix,) in shown:
            parts = urlsplit(prefix or "")
            if parts.scheme in ("http", "https") and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
        return sorted(origins)
    finally:
        db.close()


def _columns(path: Path) -> set[str]:
    import sqlite3

    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return {row[1] for row in db.execute(f"PRAGMA table_info({TABLE})")}
    finally:
        db.close()


def make_datasette(root: str | os.PathLike[str], database: str | os.PathLike[str]) -> Datasette:
    """Return a Datasette serving ``database`` as ``archive``, read only, with this plugin."""
    if not pm.has_plugin(PLUGIN):
        pm.register(sys.modules[__name__], name=PLUGIN)
    path = Path(database)
    ds = Datasette(metadata=metadata(_columns(path)), settings=SETTINGS,
                   template_dir=str(TEMPLATES))
    if "_memory" in ds.databases:
        ds.remove_database("_memory")
    ds.add_database(Database(ds, path=str(path.resolve()), is_mutable=True), name=NAME)
    ds._archive_root = Path(root).resolve()  # noqa: SLF001 - where the raw captures are
    ds._archive_image_origins = _image_origins(path)  # noqa: SLF001
    return ds


def serve(root: str | os.PathLike[str], database: str | os.PathLike[str], *,
          host: str = "127.0.0.1", port: int = 8001) -> int:
    """Serve the database until interrupted; return the exit status."""
    import uvicorn

    ds = make_datasette(root, database)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 2
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    url = f"http://{shown}:{sock.getsockname()[1]}/{NAME}/{TABLE}"
    print(f"serve: {url} (read-only; Ctrl-C stops)", file=sys.stderr, flush=True)
    config = uvicorn.Config(ds.app(), log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
    return 0
