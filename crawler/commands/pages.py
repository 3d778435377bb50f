"""``python -m crawler extract`` and ``import-text`` (crawler/cli.py parses their arguments):
saved pages, or an old text dump, through the crawl's own pipelines, the record on stdout.

One page prints its record as indented JSON; several pages (``extract PAGE PAGE ...``, one
``--url`` each, in order) print one record a line, a page that is no article saying so on stderr
under its name; ``-`` reads the page from standard input. Any rejected page makes the exit
status 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.process.processing import ItemProcessor

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


def run(args: argparse.Namespace) -> int:
    """Run ``extract`` or ``import-text``; return the exit status."""
    from crawler.analysis.manifest import write_manifest
    from crawler.process.processing import ItemProcessor, project_settings

    overrides: dict[str, Any] = dict(args.settings)
    overrides["ARCHIVE_ENABLED"] = bool(args.archive_dir)
    if args.archive_dir:
        overrides["ARCHIVE_DIR"] = args.archive_dir
    if args.command == "import-text":
        data, _ = _read(args.dump)
        if data is None:
            return EXIT_USAGE
        fetched_at = _fetched_at(args, args.dump)
    with ItemProcessor(project_settings(overrides)) as processor:
        if args.command == "extract":
            status = extract_pages(args, processor)
        else:
            status = import_text(args, processor, data, fetched_at)
    if args.archive_dir:
        write_manifest(args.archive_dir)
    return status


def _fetched_at(args: argparse.Namespace, path: Path | None) -> str:
    from crawler.normalise.dates import VN_TZ

    if args.fetched_at:
        return args.fetched_at
    moment = dt.datetime.now(VN_TZ) if path is None else \
        dt.datetime.fromtimestamp(path.stat().st_mtime, VN_TZ)
    return moment.replace(microsecond=0).isoformat()


def _emit(item: Any, processor: ItemProcessor, *, lines: bool = False, name: str = "") -> int:
    from crawler.items import ArticleItem, RejectItem

    result, dropped = processor.process(item)
    if dropped is not None:
        # Only the archive drops an article, and only one it already holds unchanged.
        print(f"note: {name}{dropped}", file=sys.stderr)
        result = item
    if isinstance(result, RejectItem):
        print(f"{name}rejected ({result.stage}): {result.reason}", file=sys.stderr)
        return EXIT_REJECTED
    assert isinstance(result, ArticleItem)
    if lines:
        sys.stdout.write(json.dumps(result.to_record(), ensure_ascii=False) + "\n")
    else:
        json.dump(result.to_record(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    return EXIT_OK


def _read(source: str | Path) -> tuple[bytes | None, Path | None]:
    """Return a page's bytes (``-``: standard input) and its path; None after saying why."""
    if str(source) == "-":
        return sys.stdin.buffer.read(), None
    path = Path(source)
    try:
        return path.read_bytes(), path
    except OSError as exc:
        print(f"error: cannot read {source}: {exc.strerror}", file=sys.stderr)
        return None, path


def extract_pages(args: argparse.Namespace, processor: ItemProcessor) -> int:
    """Run ``extract`` over its pages; the worst status (1 when any page was rejected)."""
    from crawler.extract.response import item_from_response, looks_like_html, response_from_file

    many = len(args.pages) > 1
    times = args.listing_times or [None] * len(args.pages)
    status = EXIT_OK
    for page, url, listing_time in zip(args.pages, args.urls, times, strict=True):
        data, path = _read(page)
        if data is None:
            return EXIT_USAGE
        name = f"{page}: " if many else ""
        if not looks_like_html(data):
            start = data[:40].decode("utf-8", "replace").strip().split("\n")[0]
            where = "standard input" if path is None else str(path)
            print(f"{name}rejected (extract): not an HTML page: {where} does not start with "
                  f"HTML markup (it starts {start!r})", file=sys.stderr)
            status = EXIT_REJECTED
            continue
        item = item_from_response(response_from_file(data, url),
                                  fetched_at=_fetched_at(args, path), listing_raw=listing_time)
        status = max(status, _emit(item, processor, lines=many, name=name))
    return status


def extract_usage(args: argparse.Namespace) -> str | None:
    """Return what is wrong with extract's pages and their --url / --listing-time, or None."""
    pages = len(args.pages)
    if len(args.urls) != pages:
        return (f"give --url once per page, in the same order: {pages} page(s), "
                f"{len(args.urls)} --url")
    if args.listing_times and len(args.listing_times) != pages:
        return (f"give --listing-time once per page or not at all: {pages} page(s), "
                f"{len(args.listing_times)} --listing-time")
    if args.pages.count("-") > 1:
        return "standard input (-) can be read once"
    return None


def import_text(args: argparse.Namespace, processor: ItemProcessor, data: bytes,
                 fetched_at: str) -> int:
    """Run ``import-text`` on a dump's bytes: the record, or the reject saying why."""
    from crawler.extract.article import ExtractionError
    from crawler.extract.crash import crash_reason, log_crash
    from crawler.extract.response import now_iso
    from crawler.extract.textdump import parse_text_dump
    from crawler.items import RejectItem

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        print(f"rejected (extract): the dump is not UTF-8 text: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    try:
        item = parse_text_dump(text, url=args.url, fetched_at=fetched_at)
    except Exception as exc:  # noqa: BLE001 - a dump that breaks the reader is a reject
        reason = str(exc) if isinstance(exc, ExtractionError) else crash_reason("extract", exc)
        if not isinstance(exc, ExtractionError):
            log_crash(args.dump, "extract", exc, None)
        item = RejectItem(url=args.url or str(args.dump), reason=reason, stage="extract",
                          fetched_at=fetched_at or now_iso())
    return _emit(item, processor)
