"""Command line of the archiver: ``python -m crawler COMMAND ...``.

``extract``, ``import-text`` and ``reextract`` run the same item pipelines as a crawl
(crawler/process/processing.py). A page or dump that cannot become a record exits with status 1
and the reason on stderr; stdout then stays empty. They leave a fresh manifest in the archive
they write. ``extract`` takes several pages (one ``--url`` each, in order; then one record a
line) and ``-`` for standard input.

``export``, ``changes``, ``verify``, ``report``, ``search`` and ``serve`` are the analysts' side
(crawler/analysis/): they read an archive (``--archive-dir``, default the ARCHIVE_DIR setting) and
never change it (``export``, ``search`` and ``serve`` write only derived files under its exports/).

A folder that is no archive (crawler/store/folder.py) is a usage error (exit 2) in every
command, with one line saying why; a command that needs an optional extra that is not installed
says which, in one line (exit 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

# Each command imports what it needs when it runs: the analysts' commands never load Scrapy,
# dateparser or the extraction (``search`` starts in a fifth of the time).

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
# As a crawl's storage failure (crawler/run/outcome.py): the output could not be written.
EXIT_STORAGE = 6


def _iso(value: str) -> str:
    from crawler.normalise.dates import VN_TZ

    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ).isoformat()



def _setting(value: str) -> tuple[str, str]:
    name, sep, val = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {value!r}")
    return name, val


def version() -> str:
    """Return the version line: this package's and Python's."""
    try:
        ours = metadata.version("baonamdinh-archiver")
    except metadata.PackageNotFoundError:  # run from a tree that was never installed
        from crawler import __version__ as ours
    try:
        scrapy = f"Scrapy {metadata.version('scrapy')}, "
    except metadata.PackageNotFoundError:
        scrapy = ""
    return f"baonamdinh-archiver {ours} ({scrapy}Python {sys.version.split()[0]})"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crawler",
        description="Command line of the Báo Nam Định archiver: one page, one dump or WARC files "
                    "through the crawl's own pipelines; an archive exported, pulled for changes, "
                    "verified or reported on.")
    parser.add_argument("--version", action="version", version=version())
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--fetched-at", type=_iso, help="when the page was fetched (ISO 8601; "
                       "default: the file's modification time); relative dates resolve against it")
        p.add_argument("--archive-dir", help="also write the record into this archive")
        p.add_argument("-s", "--set", dest="settings", type=_setting, action="append",
                       default=[], metavar="KEY=VALUE", help="override a Scrapy setting")

    extract = sub.add_parser("extract", help="print the record of saved article pages")
    extract.add_argument("pages", nargs="+", metavar="PAGE",
                         help="the saved HTML page; several give one record a line; - reads "
                              "standard input")
    extract.add_argument("--url", required=True, action="append", dest="urls",
                         help="the URL the page was fetched from (once per page, in order)")
    extract.add_argument("--listing-time", action="append", dest="listing_times",
                         help="the time a listing printed for the article (once per page)")
    common(extract)

    dump = sub.add_parser("import-text", help="print the record of an old plain-text dump")
    dump.add_argument("dump", type=Path, help="the text dump")
    dump.add_argument("--url", help="the article's URL, when known (gives the record its id)")
    common(dump)

    rx = sub.add_parser("reextract", help="rebuild the articles of WARC captures into an archive, "
                        "offline, through the crawl's pipelines")
    rx.add_argument("warcs", nargs="+", type=Path, metavar="WARC",
                    help="WARC files (.warc or .warc.gz), read in the order given")
    rx.add_argument("--archive-dir", help="the archive to write into (default: a fresh "
                    "reextract-YYYYmmddTHHMMSS folder here)")
    rx.add_argument("-s", "--set", dest="settings", type=_setting, action="append",
                    default=[], metavar="KEY=VALUE",
                    help="override a Scrapy setting (SITE_URL must be the captured site's)")

    def archive_dir(p: argparse.ArgumentParser) -> None:
        p.add_argument("--archive-dir", help="the archive (default: the ARCHIVE_DIR setting)")

    ex = sub.add_parser("export", help="write the articles as one typed dataset (Parquet, CSV or "
                        "a DuckDB database), the latest version of each by default")
    archive_dir(ex)
    ex.add_argument("--format", choices=("parquet", "csv", "duckdb", "sqlite"),
                    default="parquet", help="output format (default: parquet); sqlite: a "
                    "database with a full-text index, updated in place when run again")
    ex.add_argument("--excel", action="store_true", help="with --format csv: start the file "
                    "with a UTF-8 BOM, so that Excel shows Vietnamese as written")
    ex.add_argument("--all-versions", action="store_true",
                    help="every version of every article, not only the latest")
    ex.add_argument("--output", type=Path, help="where to write (default: ARCHIVE_DIR/exports/"
                    "articles[-all-versions].EXT)")
    ex.add_argument("--csv-raw", action="store_true",
                    help="CSV: write every cell as it is; by default a text cell beginning with "
                         "=, +, -, @, a tab or a carriage return gets a ' before it, so that no "
                         "spreadsheet runs it as a formula")
    ex.add_argument("-s", "--set", dest="settings", type=_setting, action="append",
                    default=[], metavar="KEY=VALUE",
                    help="a setting, e.g. EXPORT_MEMORY_MB=512 (the export's memory budget)")

    ch = sub.add_parser("changes", help="print, as JSON Lines, every record added or updated "
                        "after a cursor; the new cursor is the last line on stderr")
    archive_dir(ch)
    ch.add_argument("--since", metavar="CURSOR", help="the cursor a previous run printed, or "
                    "@FILE to read it from FILE (default: from the beginning)")

    ve = sub.add_parser("verify", help="check the files against the manifest, every line against "
                        "the schema and the state against the files; read-only")
    archive_dir(ve)

    rp = sub.add_parser("report", help="write one self-contained HTML page about the archive")
    archive_dir(rp)
    rp.add_argument("--output", type=Path, help="the page to write (default: report.html in "
                    "the archive)")

    def database(p: argparse.ArgumentParser) -> None:
        p.add_argument("--database", type=Path, help="the SQLite database to search, brought up "
                       "to date first (default: ARCHIVE_DIR/exports/articles.sqlite)")

    se = sub.add_parser("search", help="full-text search of the articles, with or without "
                        "Vietnamese tones; or how many matched, month by month")
    se.add_argument("query", nargs="+", metavar="QUERY", help='words (all must match) and '
                    '"quoted phrases"; tones, case and đ/d do not matter')
    archive_dir(se)
    se.add_argument("--since", metavar="D", help="published on or after D (YYYY, YYYY-MM or "
                    "YYYY-MM-DD)")
    se.add_argument("--until", metavar="D", help="published on or before D (the same forms)")
    se.add_argument("--section", metavar="S", help="only this section (its id, slug or name)")
    se.add_argument("--limit", type=int, default=20, metavar="N",
                    help="at most N matches (default 20; 0: all)")
    se.add_argument("--format", choices=("table", "jsonl"), default="table",
                    help="table (default) or one JSON object a match")
    se.add_argument("--by", choices=("month",), help="print YYYY-MM<TAB>count, one line a "
                    "month, instead of the matches")
    database(se)

    sv = sub.add_parser("serve", help="browse and search the archive in Datasette (read-only, "
                        "on loopback by default)")
    archive_dir(sv)
    sv.add_argument("--port", type=int, default=8001, help="port (default 8001; 0: any free)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                    "127.0.0.1: this machine only)")
    database(sv)
    return parser


def _archive_dir(args: argparse.Namespace) -> Path:
    if args.archive_dir:
        return Path(args.archive_dir)
    from crawler.process.processing import project_settings

    return Path(project_settings().get("ARCHIVE_DIR"))


def extra_of(module: str | None) -> str | None:
    """Return the optional extra (pyproject.toml) that installs a top-level module, or None."""
    if not module:
        return None
    wanted = module.split(".")[0].lower().replace("_", "-")
    try:
        requires = metadata.requires("baonamdinh-archiver") or []
    except metadata.PackageNotFoundError:
        return None
    for line in requires:
        name, _, marker = line.partition(";")
        dist = re.split(r"[<>=!~\[ ]", name.strip(), maxsplit=1)[0].lower().replace("_", "-")
        extra = re.search(r"extra\s*==\s*[\"']([^\"']+)", marker)
        if dist == wanted and extra:
            return extra.group(1)
    return None


def _needs_extra(command: str, exc: ImportError) -> int | None:
    """Say, in one line, which extra a command needs when its import failed for want of one."""
    extra = extra_of(exc.name)
    if extra is None:
        return None
    print(f"error: {command} needs {exc.name}, from the {extra} extra, which is not installed: "
          f"make install-{extra} (or .venv/bin/pip install -e '.[{extra}]')", file=sys.stderr)
    return EXIT_USAGE


def _export(args: argparse.Namespace) -> int:
    """Run ``export``: the dataset file, and a one-line summary on stderr."""
    from crawler.analysis.export import ExportError, ExportStorageError, export

    if args.excel and args.format != "csv":
        print(f"error: --excel applies to --format csv, not {args.format}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "sqlite":
        return _export_sqlite(args)
    from crawler.process.processing import project_settings

    settings = project_settings(dict(args.settings))
    try:
        result = export(Path(args.archive_dir or settings.get("ARCHIVE_DIR")), args.format,
                        output=args.output, all_versions=args.all_versions, csv_raw=args.csv_raw,
                        excel=args.excel, memory_mb=settings.getint("EXPORT_MEMORY_MB"))
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except ExportStorageError as exc:  # a full disk, a read-only output: the crawl's status 6
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    print(result.line(), file=sys.stderr)
    return EXIT_OK


def _export_sqlite(args: argparse.Namespace) -> int:
    """Run ``export --format sqlite``: build the database, or update it from the changes feed."""
    from crawler.analysis.database import refresh
    from crawler.analysis.export import ExportError

    if args.all_versions:
        print("error: --all-versions does not apply to sqlite: its versions table lists every "
              "version", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = refresh(_archive_dir(args), args.output)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(result.line(), file=sys.stderr)
    return EXIT_OK


def _fresh_database(args: argparse.Namespace, command: str) -> Path | None:
    """Return the search database, brought up to date first; None (said why) when it cannot be."""
    from crawler.analysis.database import default_database, is_fresh, refresh
    from crawler.analysis.export import ExportError

    root = _archive_dir(args)
    if not (root / "articles").is_dir():
        print(f"error: {root} is not an archive: it has no articles/ folder", file=sys.stderr)
        return None
    path = args.database or default_database(root)
    if is_fresh(root, path):
        return path
    try:
        result = refresh(root, path)
    except (ExportError, OSError) as exc:
        print(f"error: cannot bring {path} up to date: {exc}", file=sys.stderr)
        return None
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{command}: {result.line().removeprefix('export: ')}", file=sys.stderr)
    return path


def _search(args: argparse.Namespace) -> int:
    """Run ``search``: the matches (or counts by month) on stdout, a summary on stderr."""
    import time

    from crawler.analysis import search as finder

    query = finder.parse(" ".join(args.query))
    if not query.terms:
        print("error: the query has no word to search for", file=sys.stderr)
        return EXIT_USAGE
    if args.limit < 0:
        print("error: --limit must be 0 (all) or more", file=sys.stderr)
        return EXIT_USAGE
    path = _fresh_database(args, "search")
    if path is None:
        return EXIT_USAGE
    options = {"since": args.since, "until": args.until, "section": args.section}
    db = finder.connect(str(path))
    try:
        started = time.monotonic()
        if args.by == "month":
            months = finder.by_month(db, query, **options)
            for month, number in months:
                print(f"{month}\t{number}")
            total = sum(n for _m, n in months)
            print(f"search: {total} matching articles over {len(months)} months "
                  f"({(time.monotonic() - started) * 1000:.0f} ms)", file=sys.stderr)
            return EXIT_OK
        matches = finder.search(db, query, limit=args.limit or None, **options)
        total = finder.count(db, query, **options)
        elapsed = time.monotonic() - started
    except finder.QueryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        db.close()
    if args.format == "jsonl":
        for match in matches:
            print(json.dumps(match.record(), ensure_ascii=False))
    else:
        _print_matches(matches)
    print(f"search: {len(matches)} of {total} matching articles ({elapsed * 1000:.0f} ms)",
          file=sys.stderr)
    return EXIT_OK


def _print_matches(matches: list[Any]) -> None:
    bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("**", "**")
    for match in matches:
        when = match.published_date or match.published_month
        print(f"{when}  {match.section or '-'}  {match.title or '(no title)'}")
        print(f"    {_marked(match, bold)}")
        print(f"    {match.url}")
        print()


def _marked(match: Any, bold: tuple[str, str]) -> str:
    if bold == ("**", "**"):
        return match.snippet
    parts = match.snippet.split("**")
    return "".join(p if i % 2 == 0 else f"{bold[0]}{p}{bold[1]}" for i, p in enumerate(parts))


def _serve(args: argparse.Namespace) -> int:
    """Run ``serve``: bring the database up to date, then serve it with Datasette until stopped."""
    from crawler.analysis.serve import serve

    path = _fresh_database(args, "serve")
    if path is None:
        return EXIT_USAGE
    return serve(_archive_dir(args), path, host=args.host, port=args.port)


def _changes(args: argparse.Namespace) -> int:
    """Run ``changes``: records on stdout; warnings, a summary and the cursor (last) on stderr."""
    from crawler.analysis.changes import Cursor, CursorError, pull

    since = args.since
    try:
        if since and since.startswith("@"):
            since = Path(since[1:]).read_text("utf-8")
        cursor = Cursor.decode(since) if since else None
    except OSError as exc:
        print(f"error: cannot read the cursor file: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CursorError as exc:
        print(f"error: --since: {exc}", file=sys.stderr)
        return EXIT_USAGE
    lines, outcome = pull(_archive_dir(args), cursor)
    out = sys.stdout.buffer
    for line in lines:
        out.write(line)
    out.flush()
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"changes: {outcome.records} record(s) from {outcome.files} file(s)", file=sys.stderr)
    print(outcome.cursor.encode(), file=sys.stderr)
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    """Run ``verify``: one problem a line on stdout, the verdict on stderr; 1 when any."""
    from crawler.analysis.verify import verify

    report = verify(_archive_dir(args))
    for problem in report.problems:
        print(problem)
    print(report.summary(), file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_REJECTED


def _report(args: argparse.Namespace) -> int:
    """Run ``report``: write the HTML page, say where on stderr."""
    from crawler.analysis.report import write_report

    path = write_report(_archive_dir(args), args.output)
    print(f"report: {path}", file=sys.stderr)
    return EXIT_OK


ANALYSIS = {"export": _export, "changes": _changes, "verify": _verify, "report": _report,
            "search": _search, "serve": _serve}


def _analysis(args: argparse.Namespace) -> int:
    """Run an analysts' command on an archive that is one, with the extras it needs."""
    from crawler.store.folder import reading_problem

    problem = reading_problem(_archive_dir(args))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return ANALYSIS[args.command](args)
    except ImportError as exc:
        status = _needs_extra(args.command, exc)
        if status is None:
            raise
        return status


def _writable(archive_dir: str | None) -> bool:
    """True when --archive-dir is absent or can take an archive; else say why (one line)."""
    from crawler.store.folder import writing_problem

    problem = writing_problem(archive_dir) if archive_dir else None
    if problem:
        print(f"error: --archive-dir: {problem}", file=sys.stderr)
    return problem is None


def _reextract(args: argparse.Namespace) -> int:
    """Run ``reextract``: each damaged range, then a one-line summary, on stderr; exit 1 when
    anything was damaged (everything else was re-extracted), 2 for a file that is no WARC."""
    from crawler.analysis.manifest import write_manifest
    from crawler.process.processing import project_settings
    from crawler.process.reextract import default_archive_dir, reextract
    from crawler.site.urls import site_hosts
    from crawler.sources.warc_reader import NotAWarc, captured_site, first_record

    missing = [str(path) for path in args.warcs if not path.is_file()]
    if missing:
        print(f"error: no such WARC file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    for path in args.warcs:
        try:
            first_record(path)
        except NotAWarc as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except OSError as exc:
            print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    if not _writable(args.archive_dir):
        return EXIT_USAGE
    overrides: dict[str, Any] = dict(args.settings)
    if "SITE_URL" not in overrides:
        settings = project_settings(overrides)
        hosts = site_hosts(settings.get("SITE_URL"), settings.getlist("SITE_HOST_ALIASES"))
        site = captured_site(list(args.warcs), hosts)
        if site:
            overrides["SITE_URL"] = site
            print(f"reextract: SITE_URL {site}, the host of the captured articles (give -s "
                  "SITE_URL= to choose another)", file=sys.stderr)
    overrides["ARCHIVE_ENABLED"] = True
    overrides["ARCHIVE_DIR"] = args.archive_dir or default_archive_dir()
    summary = reextract(list(args.warcs), project_settings(overrides))
    write_manifest(overrides["ARCHIVE_DIR"])
    for line in summary.damage_lines():
        print(line, file=sys.stderr)
    print(f"{summary.line()}; archive {overrides['ARCHIVE_DIR']}", file=sys.stderr)
    return EXIT_REJECTED if summary.damaged else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "reextract":
        return _reextract(args)
    if args.command in ANALYSIS:
        return _analysis(args)
    from crawler.commands.pages import extract_usage, run

    if args.command == "extract" and (problem := extract_usage(args)):
        print(f"error: extract: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if not _writable(args.archive_dir):
        return EXIT_USAGE
    return run(args)
