"""Runs a command and writes its peak RSS in KiB, then the CPU seconds it and every process it
waited for used, to a file, a line each: ``python bench/maxrss.py OUT CMD...``.

A child forked from a large process starts with that process's RSS high-water mark (Linux
carries it over fork and exec), so ``ru_maxrss`` read in the benchmark itself would report the
benchmark's own size. This small parent forks the command instead; its exit status is passed on.
"""

from __future__ import annotations

import resource
import subprocess
import sys


def main(argv: list[str]) -> int:
    """Run ``argv[1:]``, write its peak RSS (KiB) and CPU seconds (user + system, its own and
    its waited-for children's: a crawl's worker processes) to ``argv[0]``; return its exit
    status."""
    out, cmd = argv[0], argv[1:]
    code = subprocess.call(cmd)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w", encoding="utf-8") as file:
        file.write(f"{usage.ru_maxrss}\n{usage.ru_utime + usage.ru_stime:.3f}\n")
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
