"""Command line of the replica: python -m tests.replica --port PORT --articles N [options]."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time

from tests.replica.server import Replica, parse_now

logger = logging.getLogger("tests.replica")


def _fraction(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within 0..1, got {value}")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return number


def _now(value: str) -> str:
    try:
        parse_now(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the replica's command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.replica",
        description="Serve a deterministic replica of baonamdinh.vn.",
    )
    parser.add_argument(
        "--port", type=int, required=True, help="port on 127.0.0.1; 0 picks a free one"
    )
    parser.add_argument("--articles", type=_positive_int, required=True, help="number of articles")
    parser.add_argument("--seed", type=int, default=1, help="dataset seed (default 1)")
    parser.add_argument(
        "--now",
        type=_now,
        default=None,
        help="the replica's clock, ISO 8601 with offset (default 2025-06-30T23:59:00+07:00)",
    )
    parser.add_argument(
        "--fault-rate", type=_fraction, default=0.0, help="share of faulty responses"
    )
    parser.add_argument("--truth", metavar="FILE", help="write the truth as JSON Lines to FILE")
    parser.add_argument(
        "--hang-seconds",
        type=float,
        default=10.0,
        help="how long the timeout fault hangs (default 10)",
    )
    parser.add_argument(
        "--crawl-delay", type=float, default=1.0, help="Crawl-delay in robots.txt (default 1)"
    )
    parser.add_argument(
        "--sitemap",
        action="store_true",
        help="serve a sitemap index (named in robots.txt), monthly sitemaps and an RSS feed",
    )
    parser.add_argument(
        "--listing-pages",
        type=_positive_int,
        default=None,
        help="listings show only this many pages (default: every page)",
    )
    parser.add_argument(
        "--collisions",
        type=int,
        default=0,
        help="new-CMS articles given the id of an old-CMS one (default 0; chance gives 36 "
        "such pairs among 250,000 articles)",
    )
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the replica until SIGINT or SIGTERM; return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    started = time.monotonic()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        replica = Replica(
            args.articles,
            args.seed,
            args.now,
            args.fault_rate,
            port=args.port,
            hang_seconds=args.hang_seconds,
            crawl_delay=args.crawl_delay,
            sitemap=args.sitemap,
            listing_pages=args.listing_pages,
            collisions=args.collisions,
        )
    except OSError as exc:
        logger.error("cannot listen on 127.0.0.1:%s: %s", args.port, exc)
        return 1
    try:
        if args.truth:
            count = replica.write_truth(args.truth)
            logger.info("wrote %d truth records to %s", count, args.truth)
        replica.start()
        logger.info("ready in %.2f s", time.monotonic() - started)
        print(f"replica: serving {args.articles} articles at {replica.url}/", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        replica.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
