"""Command line of the archiver: ``python -m crawler {extract,import-text,reextract} ...``.

Every command runs the same item pipelines as a crawl (crawler/run/processing.py). A page or
dump that cannot become a record exits with status 1 and the reason on stderr; stdout then stays
empty.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any

from crawler.extract.article import ExtractionError
from crawler.extract.response import (
    item_from_response,
    looks_like_html,
    now_iso,
    response_from_file,
)
from crawler.extract.textdump import parse_text_dump
from crawler.items import ArticleItem, RejectItem
from crawler.normalise.dates import VN_TZ
from crawler.run.guard import crash_reason, log_crash
from crawler.run.processing import ItemProcessor, project_settings

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def _iso(value: str) -> str:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crawler",
        description="Command line of the Báo Nam Định archiver: one page, one dump or WARC files "
                    "through the crawl's own pipelines.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--fetched-at", type=_iso, help="when the page was fetched (ISO 8601; "
                       "default: the file's modification time); relative dates resolve against it")
        p.add_argument("--archive-dir", help="also write the record into this archive")
        p.add_argument("-s", "--set", dest="settings", type=_setting, action="append",
                       default=[], metavar="KEY=VALUE", help="override a Scrapy setting")

    extract = sub.add_parser("extract", help="print the record of one saved article page")
    extract.add_argument("page", type=Path, help="the saved HTML page")
    extract.add_argument("--url", required=True, help="the URL the page was fetched from")
    extract.add_argument("--listing-time", help="the time a listing printed for the article")
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
    return parser


def _reextract(args: argparse.Namespace) -> int:
    """Run ``reextract``: print a one-line summary to stderr; exit 0 even for damaged files."""
    from crawler.store.reextract import default_archive_dir, reextract

    missing = [str(path) for path in args.warcs if not path.is_file()]
    if missing:
        print(f"error: no such WARC file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    overrides: dict[str, Any] = dict(args.settings)
    overrides["ARCHIVE_ENABLED"] = True
    overrides["ARCHIVE_DIR"] = args.archive_dir or default_archive_dir()
    summary = reextract(list(args.warcs), project_settings(overrides))
    print(f"{summary.line()}; archive {overrides['ARCHIVE_DIR']}", file=sys.stderr)
    return EXIT_OK


def _fetched_at(args: argparse.Namespace, path: Path) -> str:
    if args.fetched_at:
        return args.fetched_at
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, VN_TZ)
    return mtime.replace(microsecond=0).isoformat()


def _emit(item: Any, processor: ItemProcessor) -> int:
    result, dropped = processor.process(item)
    if dropped is not None:
        # Only the archive drops an article, and only one it already holds unchanged.
        print(f"note: {dropped}", file=sys.stderr)
        result = item
    if isinstance(result, RejectItem):
        print(f"rejected ({result.stage}): {result.reason}", file=sys.stderr)
        return EXIT_REJECTED
    assert isinstance(result, ArticleItem)
    json.dump(result.to_record(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "reextract":
        return _reextract(args)
    overrides: dict[str, Any] = dict(args.settings)
    overrides["ARCHIVE_ENABLED"] = bool(args.archive_dir)
    if args.archive_dir:
        overrides["ARCHIVE_DIR"] = args.archive_dir
    source = args.page if args.command == "extract" else args.dump
    try:
        data = source.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {source}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    fetched_at = _fetched_at(args, source)

    with ItemProcessor(project_settings(overrides)) as processor:
        if args.command == "extract":
            if not looks_like_html(data):
                start = data[:40].decode("utf-8", "replace").strip().split("\n")[0]
                print(f"rejected (extract): not an HTML page: {source} does not start with HTML "
                      f"markup (it starts {start!r})", file=sys.stderr)
                return EXIT_REJECTED
            response = response_from_file(data, args.url)
            item = item_from_response(response, fetched_at=fetched_at,
                                      listing_raw=args.listing_time)
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                print(f"rejected (extract): the dump is not UTF-8 text: {exc}", file=sys.stderr)
                return EXIT_REJECTED
            try:
                item = parse_text_dump(text, url=args.url, fetched_at=fetched_at)
            except Exception as exc:  # noqa: BLE001 - a dump that breaks the reader is a reject
                reason = str(exc) if isinstance(exc, ExtractionError) else crash_reason("extract",
                                                                                        exc)
                if not isinstance(exc, ExtractionError):
                    log_crash(source, "extract", exc, None)
                item = RejectItem(url=args.url or str(source), reason=reason, stage="extract",
                                  fetched_at=fetched_at or now_iso())
        return _emit(item, processor)
