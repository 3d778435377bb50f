"""One writer per archive: an exclusive lock on ARCHIVE_DIR/lock, held for the whole run.

The lock is ``flock(2)`` on the file, so the kernel releases it when its process ends, however it
ends: a lock left by a killed run is never in the way. The file also holds its holder's pid, host,
start time and command line, for the message a refused run prints, and is emptied on a clean
release; a run that finds the lock free but the file not empty knows the last holder was killed
and says so. Within one process the lock is re-entrant (the crawl command, the spider's state and
the archive pipeline all take it), counted, and released when the last holder lets go.

flock is advisory and local: it protects an archive from runs on the same machine, and on NFS
only where the server supports it. Keep ARCHIVE_DIR on a local file system.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from crawler.normalise.dates import VN_TZ

logger = logging.getLogger(__name__)

LOCK_NAME = "lock"
POLL_SECONDS = 0.5

_held: dict[Path, tuple[IO[str], int]] = {}
_held_lock = threading.Lock()


class ArchiveBusy(RuntimeError):
    """Another run holds the archive's lock; the message names it."""

    def __init__(self, root: Path, holder: dict[str, Any] | None, waited: float):
        self.root = root
        self.holder = holder or {}
        self.waited = waited
        who = describe(self.holder) if self.holder else "another process (no details in the file)"
        after = f" after waiting {waited:g} s" if waited else ""
        super().__init__(f"archive {root} is in use by {who}; refusing to run{after} "
                         f"(one run at a time writes an archive; set ARCHIVE_LOCK_WAIT to wait)")


def describe(holder: dict[str, Any]) -> str:
    """Return a holder's details as a short phrase: pid, host, start time, command."""
    parts = [f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"]
    if holder.get("started_at"):
        parts.append(f"since {holder['started_at']}")
    if holder.get("command"):
        parts.append(f"({holder['command']})")
    return " ".join(parts)


def _read_holder(fh: IO[str]) -> dict[str, Any] | None:
    fh.seek(0)
    text = fh.read().strip()
    if not text:
        return None
    try:
        holder = json.loads(text)
    except ValueError:
        return {"pid": "?", "host": "?", "command": text[:80]}
    return holder if isinstance(holder, dict) else None


def acquire(root: str | os.PathLike[str], *, wait: float = 0.0) -> Path:
    """Take the archive's lock (re-entrant in a process); raise ArchiveBusy when another run holds
    it after ``wait`` seconds. Return the resolved archive directory, the key for ``release``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    key = root.resolve()
    with _held_lock:
        if key in _held:
            fh, count = _held[key]
            _held[key] = (fh, count + 1)
            return key
        fh = (key / LOCK_NAME).open("a+", encoding="utf-8")
        deadline = time.monotonic() + max(wait, 0.0)
        announced = False
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _read_holder(fh)
                if time.monotonic() >= deadline:
                    fh.close()
                    raise ArchiveBusy(key, holder, wait) from None
                if not announced:
                    logger.warning("archive %s is in use by %s; waiting up to %g s", key,
                                   describe(holder) if holder else "another process", wait)
                    announced = True
                time.sleep(POLL_SECONDS)
        previous = _read_holder(fh)
        if previous:
            logger.warning("archive %s: the run that held its lock (%s) ended without releasing "
                           "it (killed?); the stale lock is taken over", key, describe(previous))
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": dt.datetime.now(VN_TZ).isoformat(timespec="seconds"),
            "command": command_line()[:300],
        }) + "\n")
        fh.flush()
        _held[key] = (fh, 1)
        return key


def command_line() -> str:
    """Return this process's command line as it was started: Scrapy takes the command's name
    (``crawl``) out of ``sys.argv``, so the kernel's copy is read where there is one."""
    try:
        args = [a.decode("utf-8", "replace")
                for a in Path("/proc/self/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        args = []
    if not args:
        return " ".join(sys.argv)
    if len(args) > 1 and sys.argv and args[1] == sys.argv[0]:
        args = args[1:]  # a script run by its interpreter: the script's name says it
    return " ".join(args)


def release(key: Path) -> None:
    """Let go of one hold on the lock; the last one empties the file and unlocks it."""
    with _held_lock:
        entry = _held.get(key)
        if entry is None:
            return
        fh, count = entry
        if count > 1:
            _held[key] = (fh, count - 1)
            return
        del _held[key]
        try:
            fh.seek(0)
            fh.truncate()
            fh.flush()
        except OSError:
            pass  # a full disk cannot stop the unlock; the next run then calls the lock stale
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()


def holder_of(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return who holds an archive's lock now, or None when it is free (read-only)."""
    path = Path(root) / LOCK_NAME
    if not path.exists():
        return None
    with path.open("r", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fh) or {}
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return None
