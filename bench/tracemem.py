"""Where a process's memory goes: ``python -m bench.tracemem OUT_DIR -- -m MODULE ARGS...``.

Runs ``python -m MODULE ARGS`` in this process under tracemalloc (8 frames), and every
``--every`` seconds, whenever the traced memory is a tenth above its last snapshot's, writes one
more to ``OUT_DIR/<pid>-<name>-<n>.snapshot``. Forked children (a crawl's worker and WARC capture
processes) keep tracing and write their own snapshots the same way, named by the name they give
themselves.
``python -m bench.tracemem --compare FIRST LAST`` then prints the lines whose memory grew most
from one snapshot to the other: what grows as the crawl goes on. Tracing makes the run several
times slower; the figures are Python allocations, not RSS.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import threading
import tracemalloc
from pathlib import Path

FRAMES = 8


def _name() -> str:
    try:
        return Path(f"/proc/{os.getpid()}/comm").read_text().strip() or "python"
    except OSError:
        return "python"


def _watch(out: Path, every: float) -> None:
    """Snapshot this process whenever its traced memory is a tenth above the last snapshot's,
    keeping each one (``<pid>-<name>-<n>.snapshot``): the first and the last show what grew."""
    best, n = 0, 0
    while True:
        threading.Event().wait(every)
        current, _peak = tracemalloc.get_traced_memory()
        if current > best * 1.1:
            best, n = current, n + 1
            path = out / f"{os.getpid()}-{_name()}-{n:03d}.snapshot"
            tracemalloc.take_snapshot().dump(str(path) + ".tmp")
            os.replace(str(path) + ".tmp", path)


def _start_watch(out: Path, every: float) -> None:
    threading.Thread(target=_watch, args=(out, every), daemon=True).start()


def compare(small: str, large: str, top: int) -> None:
    """Print the allocation sites that grew most from ``small`` to ``large``."""
    first = tracemalloc.Snapshot.load(small)
    second = tracemalloc.Snapshot.load(large)
    for title, snapshot in (("small", first), ("large", second)):
        total = sum(stat.size for stat in snapshot.statistics("filename"))
        print(f"{title}: {total / 1e6:.1f} MB traced")
    for stat in second.compare_to(first, "traceback")[:top]:
        print(f"{stat.size_diff / 1e6:+8.2f} MB {stat.count_diff:+9d} blocks "
              f"(now {stat.size / 1e6:.2f} MB)")
        for line in stat.traceback.format()[-8:]:
            print("    " + line)


def main(argv: list[str] | None = None) -> int:
    """Run a module under tracemalloc, or compare two snapshots."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--compare":
        parser = argparse.ArgumentParser(prog="python -m bench.tracemem --compare")
        parser.add_argument("small")
        parser.add_argument("large")
        parser.add_argument("--top", type=int, default=15)
        args = parser.parse_args(argv[1:])
        compare(args.small, args.large, args.top)
        return 0
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="python -m bench.tracemem")
    parser.add_argument("out", type=Path)
    parser.add_argument("--every", type=float, default=5.0)
    args = parser.parse_args(argv[:split])
    rest = argv[split + 1:]
    if len(rest) < 2 or rest[0] != "-m":
        parser.error("give the command as: -- -m MODULE ARGS...")
    args.out.mkdir(parents=True, exist_ok=True)
    tracemalloc.start(FRAMES)
    os.register_at_fork(after_in_child=lambda: _start_watch(args.out, args.every))
    _start_watch(args.out, args.every)
    sys.argv = [rest[1], *rest[2:]]
    runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
