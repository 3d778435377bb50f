"""CPU time of each process of a crawl: ``python -m bench.processes [--articles N] [--bare]``.

Crawls a local replica (politeness off, WARC capture on, as ``make bench``'s full crawl) and
reads every process's CPU time (user + system) from /proc while it runs, then prints it per
article: the crawl's own process (engine, WARC capture, spider, archive), each worker process
(extraction and the pipelines before the archive), and the replica's server (this process's
threads). ``--bare`` does the same for the bare spider. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import threading
import time
from pathlib import Path

from bench import crawls
from tests.replica import Replica

NOW = "2025-06-28T23:59:00+07:00"
WORK = Path(__file__).with_name("work")


def _descendants() -> list[int]:
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            parents[int(name)] = int(stat.rsplit(")", 1)[1].split()[1])
    me, found = os.getpid(), []
    for pid in parents:
        up = pid
        while up in parents and up not in (me, 1):
            up = parents[up]
        if up == me and pid != me:
            found.append(pid)
    return found


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _name(pid: int) -> str:
    """The process's name (the crawl's helpers name themselves: crawler/process/forked.py)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


ROLES = {"item-worker": "worker process", "warc-capture": "WARC capture process"}


def main(argv: list[str] | None = None) -> int:
    """Run the crawl, print each process's CPU time per article."""
    parser = argparse.ArgumentParser(prog="python -m bench.processes", description=__doc__)
    parser.add_argument("--articles", type=int, default=5000, help="replica size")
    parser.add_argument("--bare", action="store_true", help="the bare spider instead")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting of the crawl, e.g. WARC_CAPTURE_PROCESS=False")
    args = parser.parse_args(argv)
    with Replica(articles=args.articles, seed=1, now=NOW, fault_rate=0.0) as site:
        archive = WORK / "processes-archive"
        shutil.rmtree(archive, ignore_errors=True)
        seen: dict[int, float] = {}
        commands: dict[int, str] = {}
        names: dict[int, str] = {}
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                for pid in _descendants():
                    cpu = _cpu_seconds(pid)
                    if cpu is not None:
                        seen[pid] = max(seen.get(pid, 0.0), cpu)
                        commands.setdefault(pid, _command(pid))
                        # Read each time: a helper names itself after it is forked.
                        names[pid] = _name(pid) or names.get(pid, "")
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        before = resource.getrusage(resource.RUSAGE_SELF)
        site.requests.reset()
        log = WORK / "processes.log"
        if args.bare:
            run = crawls.bare(site.url, log, timeout=1800)
        else:
            extra = dict(item.split("=", 1) for item in args.set)
            run = crawls.crawl(site.url, archive, log, timeout=1800,
                               extra={"WARC_ENABLED": "True", **extra})
        after = resource.getrusage(resource.RUSAGE_SELF)
        done.set()
        sampler.join()
        articles = site.requests.snapshot()["article"] or 1
    server = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(f"{'bare spider' if args.bare else 'crawl'}: {articles} articles in {run.seconds:.1f} s "
          f"({articles / run.seconds:.0f}/s), exit {run.returncode}; CPU ms per article "
          "(read every 0.2 s: the last fifth of a second of each process may be missed)")
    print(f"  {server / articles * 1e3:6.2f}  replica server (this process; sampler included)")
    total = server
    # The maxrss.py wrapper starts the crawl, which forks its workers: the lowest other pid.
    crawling = sorted(pid for pid in seen if "maxrss.py" not in commands[pid])
    for pid in crawling:
        cpu = seen[pid]
        if cpu == 0:
            continue
        role = "crawl's own process" if pid == crawling[0] else \
            ROLES.get(names.get(pid, ""), "helper process")
        print(f"  {cpu / articles * 1e3:6.2f}  {role} (pid {pid})")
        total += cpu
    print(f"  {total / articles * 1e3:6.2f}  in all")
    shutil.rmtree(archive, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
