"""Startup time and pages/second of the replica CLI, measured with a bounded loopback load loop."""

from __future__ import annotations

import argparse
import http.client
import logging
import random
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from tests.replica.dataset import Dataset
from tests.replica.render import section_path

logger = logging.getLogger(__name__)


def start_cli(
    articles: int, seed: int, timeout: float = 60.0
) -> tuple[subprocess.Popen[str], str, float]:
    """Start ``python -m tests.replica`` on a free port; return it, its URL and seconds to ready."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.replica",
            "--port",
            "0",
            "--articles",
            str(articles),
            "--seed",
            str(seed),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        line = proc.stdout.readline() if proc.stdout else ""
    finally:
        killer.cancel()
    if not line.startswith("replica: serving"):
        proc.kill()
        raise RuntimeError(f"replica did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[-1].strip().rstrip("/"), time.monotonic() - started


def targets(articles: int, seed: int, count: int) -> list[str]:
    """Return ``count`` request paths: mostly distinct articles, some listings, the home page."""
    ds = Dataset(articles, seed)
    rng = random.Random(seed)
    metas = rng.sample(ds.metas, min(len(ds.metas), count))
    paths = [ds.path(m) for m in metas]
    sections = list(ds.by_section)
    while len(paths) < count:
        paths.append(section_path(rng.choice(sections)) + f"?trang={rng.randrange(1, 4)}")
    for i in range(0, count, 20):
        paths[i] = section_path(rng.choice(sections))
    paths[0] = "/"
    return paths


def load(base_url: str, paths: list[str], threads: int) -> tuple[float, dict[int, int]]:
    """Fetch each path once over ``threads`` keep-alive connections; return seconds, statuses."""
    parts = urlsplit(base_url)
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    chunks = [paths[i::threads] for i in range(threads)]

    def worker(chunk: list[str]) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            for path in chunk:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
        finally:
            conn.close()

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, chunks))
    return time.monotonic() - started, statuses


def main(argv: list[str] | None = None) -> int:
    """Measure and print startup seconds and pages/second (cold, then cached)."""
    parser = argparse.ArgumentParser(prog="python -m tests.replica.loadcheck")
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    proc, url, ready = start_cli(args.articles, args.seed)
    try:
        print(f"startup: {ready:.2f} s to the serving line for {args.articles} articles")
        paths = targets(args.articles, args.seed, args.requests)
        for label in ("cold (first render)", "warm (cached)"):
            seconds, statuses = load(url, paths, args.threads)
            rate = len(paths) / seconds
            print(
                f"{label}: {len(paths)} requests, {args.threads} threads, {seconds:.2f} s, "
                f"{rate:.0f} pages/s, statuses {statuses}"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
