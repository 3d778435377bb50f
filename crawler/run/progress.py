"""How far a run is: "N of M" where M is known or can be estimated, and a smoothed time left.

What N and M count depends on the run (``measure``):
- a web-archive backfill (``-a source=wayback`` / ``commoncrawl``) first reads the archive's index
  (M: the index queries known so far; Common Crawl's page counts make it exact, a Wayback
  resumption key adds one more), then fetches one capture per article not yet archived (M: the
  articles the index listed and the archive lacks; N: those done, archived or rejected);
- a live backfill walks the listings from the newest article back to ``-a since``: M is the days
  of that range, N the days walked (from the newest listed date down to the oldest reached);
- a nightly run has no M: its progress is the articles archived so far.

The time left is the work left over a smoothed rate (an exponentially weighted average of the
rates between progress lines, so one burst or one stall does not swing it), and it never reads
0:00 while work remains (``format_left``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from crawler.sources import LIVE

# Weight of the newest rate in the smoothed one: about the last five progress lines count.
SMOOTHING = 0.3
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Measure:
    """How far one phase of a run is: ``done`` of ``total`` units (``total`` None: unknown)."""

    done: float
    total: float | None
    unit: str
    final: bool = True  # False: the total may still grow (an index still being read)

    def text(self) -> str:
        """Return "N of M unit" (or "N unit" when M is unknown)."""
        if self.total is None:
            return f"{_n(self.done)} {self.unit}"
        share = f"{100 * self.done / self.total:.1f}%" if self.total else ""
        more = "more may be found" if not self.final else ""
        notes = "; ".join(x for x in (share, more) if x)
        return f"{_n(self.done)} of {_n(self.total)} {self.unit}" + (f" ({notes})" if notes else "")


def _n(value: float) -> str:
    return f"{int(value):,}"


def measure(stats: Any, options: Any) -> Measure | None:
    """Return how far the run is by its stats, or None when it has no such measure (nightly)."""
    if options is None or options.mode != "backfill":
        return None
    source = getattr(options, "source", LIVE)
    if source != LIVE:
        prefix = f"archive/sources/{source}"
        wanted = stats.get_value(f"{prefix}/articles_wanted")
        if wanted is None:  # still reading the index
            return Measure(stats.get_value(f"{prefix}/index_answered", 0),
                           stats.get_value(f"{prefix}/index_requests", 0),
                           f"{source} index queries answered",
                           final=source != "wayback" and bool(stats.get_value(
                               f"{prefix}/index_sized")))
        return Measure(stats.get_value(f"{prefix}/articles_done", 0), wanted,
                       f"articles from {source}")
    newest = stats.get_value("archive/progress/newest_date")
    reached = stats.get_value("archive/progress/reached_date")
    if not (options.since and newest and reached):
        return None
    top = min(dt.date.fromisoformat(newest), options.until or dt.date.max)
    total = (top - options.since).days + 1
    done = min(max((top - dt.date.fromisoformat(reached)).days + 1, 0), total)
    return Measure(done, total, "days of the range walked")


class Eta:
    """The time left of a run's measure, from its rate smoothed over the progress lines."""

    def __init__(self, smoothing: float = SMOOTHING):
        self.smoothing = smoothing
        self.unit: str | None = None
        self.rate: float | None = None  # units a second, smoothed
        self.last: tuple[float, float] | None = None  # (elapsed, done) of this phase's last line
        self.seen = 0.0  # elapsed at the last line, whatever its phase

    def update(self, elapsed: float, current: Measure | None) -> float | None:
        """Take the measure at ``elapsed`` seconds; return the seconds left, or None (unknown)."""
        previous, self.seen = self.seen, elapsed
        if current is None or current.total is None or not current.final:
            self.unit = self.rate = self.last = None
            return None
        if current.unit != self.unit or self.last is None:
            # A phase that began since the last line: its work counts from that line.
            self.unit, self.rate, self.last = current.unit, None, (previous, 0.0)
        then, before = self.last
        if elapsed > then:
            rate = max(current.done - before, 0.0) / (elapsed - then)
            self.rate = rate if self.rate is None else (
                self.smoothing * rate + (1 - self.smoothing) * self.rate)
            self.last = (elapsed, current.done)
        left = max(current.total - current.done, 0.0)
        if left == 0:
            return 0.0
        if not self.rate:
            return None
        return left / self.rate


def format_left(seconds: float | None, work_left: bool) -> str:
    """Return a time left as H:MM, rounded up; never 0:00 while work remains."""
    if seconds is None or math.isinf(seconds) or math.isnan(seconds):
        return UNKNOWN
    minutes = math.ceil(max(seconds, 0.0) / 60)
    if work_left:
        minutes = max(minutes, 1)
    return f"{minutes // 60}:{minutes % 60:02d}"
