"""Helpers of the fault-injection suite (tests/test_faults.py): outcomes scored against the truth.

``outcome()`` reads an archive without trusting it (a torn or garbage line is counted, not
raised) and compares it with the replica's truth: articles lost, articles written twice with the
same content, torn lines. ``MiniSite`` is a loopback server whose every answer a test scripts,
for the probes the replica cannot stage (a site clock ahead of ours, two host-alias redirects in
a row). ``popen_crawl`` starts a crawl without waiting; ``closed_port`` is a port nothing
listens on (a dead site, without touching the internet). ``enospc_command`` runs a crawl whose
writes to the article files fail with ENOSPC after a number of lines (half the line written
first, as a disk that fills mid-write does); ``tmpfs_command`` runs one on a real, small tmpfs
in a private mount namespace (``unshare``, where the kernel allows it) and copies the archive out.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.crawling import REPO, crawl_command

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What a probe left in the archive, against the truth."""

    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    torn: int = 0
    lines: int = 0

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.torn)

    def __str__(self) -> str:
        return (f"{len(self.lost)} lost {self.lost[:5]}, {len(self.duplicated)} duplicated "
                f"{self.duplicated[:5]}, {self.torn} torn, {self.lines} lines")


def raw_lines(archive_dir: Path) -> tuple[list[dict[str, Any]], int]:
    """Return the article lines that parse, and how many are torn or garbage."""
    records, torn = [], 0
    for path in sorted((archive_dir / "articles").glob("*.jsonl")):
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            torn += 1
            data = data[: data.rfind(b"\n") + 1]
        for line in data.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                torn += 1
                continue
            if isinstance(record, dict) and "id" in record:
                records.append(record)
            else:
                torn += 1
    return records, torn


def outcome(archive_dir: Path, truth: list[dict[str, Any]]) -> Outcome:
    """Score an archive: truth articles with no line, lines repeating an (id, content), torn lines."""
    records, torn = raw_lines(archive_dir)
    have = {record["id"] for record in records}
    copies = Counter((record["id"], record.get("content_hash")) for record in records)
    return Outcome(
        lost=sorted({t["id"] for t in truth} - have),
        duplicated=sorted(article_id for (article_id, _), n in copies.items() if n > 1),
        torn=torn,
        lines=len(records),
    )


def popen_crawl(site_url: str, archive_dir: Path, *spider_args: str,
                settings: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
                ) -> subprocess.Popen[str]:
    """Start a crawl without waiting for it (its log is on stderr)."""
    command = [*prefix, *crawl_command(site_url, archive_dir, *spider_args, settings=settings)]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def lines_written(archive_dir: Path) -> int:
    """Return how many article lines are on disk now (whole or not)."""
    return sum(p.read_bytes().count(b"\n") for p in (archive_dir / "articles").glob("*.jsonl"))


def closed_port() -> int:
    """Return a loopback port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Answer:
    """One scripted HTTP answer."""

    status: int = 200
    body: str = ""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)


Route = Callable[[str, int], Answer]  # (Host header's host, how many times asked before)
# For the paths no route names (endless listings, chains): (path with its query, host, times
# asked before) -> the answer, or None for a 404.
Fallback = Callable[[str, str, int], "Answer | None"]


class MiniSite:
    """A loopback HTTP server answering each path by a scripted route, else by ``fallback``;
    404 for the rest."""

    def __init__(self, routes: dict[str, Route], fallback: Fallback | None = None):
        self.routes = routes
        self.fallback = fallback
        self.hits: Counter[str] = Counter()
        self.log: list[tuple[float, str]] = []  # (time.monotonic(), path) of every request
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _mini_handler(self))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.alias_url = f"http://localhost:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str, host: str) -> Answer:
        with self._lock:
            seen = self.hits[path]
            self.hits[path] += 1
            self.log.append((time.monotonic(), path))
        route = self.routes.get(path)
        if route is not None:
            return route(host, seen)
        answer = self.fallback(path, host, seen) if self.fallback is not None else None
        return answer or Answer(404, "<html><body>404</body></html>")

    def __enter__(self) -> MiniSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _mini_handler(site: MiniSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            answer = site.answer(self.path, host)
            body = answer.body.encode("utf-8")
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            logger.debug("minisite: " + format, *args)

    return Handler


# Runs `scrapy` with os.write failing like a full disk on ARCHIVE_DIR/articles/ after N lines.
ENOSPC_WRAPPER = """
import errno, os, sys
budget, root = int(os.environ["FAULT_ENOSPC_AFTER"]), os.environ["FAULT_ENOSPC_DIR"]
real_write, written = os.write, [0]
def write(fd, data):
    try:
        path = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        path = ""
    if path.startswith(root) and "/articles/" in path:
        written[0] += 1
        if written[0] > budget:
            real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, "No space left on device (injected)")
    return real_write(fd, data)
os.write = write
sys.argv[0] = "scrapy"
from scrapy.cmdline import execute
execute()
"""


def enospc_command(command: list[str]) -> list[str]:
    """Return a crawl command (``python -m scrapy ...``) run under ENOSPC_WRAPPER."""
    assert command[1:3] == ["-m", "scrapy"], command
    return [command[0], "-c", ENOSPC_WRAPPER, *command[3:]]


def unshare_works() -> bool:
    """True when this machine lets us mount a tmpfs in a private user and mount namespace."""
    if not shutil.which("unshare"):
        return False
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
                           "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
    return done.returncode == 0


def tmpfs_command(command: list[str], mount: str, size: str, copy_to: Path) -> list[str]:
    """Return ``command`` run with a fresh tmpfs of ``size`` at ``mount`` (its ARCHIVE_DIR),
    copying what it holds to ``copy_to`` afterwards (the namespace, and the tmpfs, then go)."""
    quoted = " ".join("'" + part.replace("'", "'\\''") + "'" for part in command)
    script = (f"mkdir -p {mount} && mount -t tmpfs -o size={size} tmpfs {mount} && "
              f"{{ {quoted}; rc=$?; cp -a {mount}/. '{copy_to}'/; exit $rc; }}")
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script]

