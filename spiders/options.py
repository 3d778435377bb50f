"""The spider's arguments (``-a NAME=VALUE``), parsed and validated once, with clear messages.

Every ``-a`` value is a string: each is parsed here, and an unknown name is an error (a typo must
not run a crawl). Names that begin with ``_`` are the runner's own, not ours: Scrapyd passes
``-a _job=<id>`` to every job and ``-a _version=<version>`` when one is asked for; they are
accepted and left alone. ``crawler/commands/crawl.py`` calls ``CrawlOptions.parse`` before the crawl
starts, so a bad argument is a usage error (exit 2) and nothing runs.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from typing import ClassVar

from crawler.sources import LIVE, SOURCES

MODES = ("nightly", "backfill")


@dataclass(frozen=True)
class CrawlOptions:
    """The spider arguments, parsed and validated once."""

    # Every -a name the spider knows; any other is a usage error (a typo must not run a crawl).
    ARGUMENTS: ClassVar[tuple[str, ...]] = ("mode", "since", "until", "channels", "source")

    mode: str = "nightly"
    since: dt.date | None = None
    until: dt.date | None = None
    channels: frozenset[str] | None = None
    source: str = LIVE

    @classmethod
    def parse(cls, **args: str | None) -> CrawlOptions:
        """Return options from ``-a`` strings; raise ValueError with a clear message when bad."""
        args = {name: value for name, value in args.items() if not name.startswith("_")}
        unknown = sorted(set(args) - set(cls.ARGUMENTS))
        if unknown:
            name = unknown[0]
            close = difflib.get_close_matches(name, cls.ARGUMENTS, n=1)
            hint = f" (did you mean -a {close[0]}=?)" if close else ""
            raise ValueError(f"-a {name}={args[name]}: unknown argument{hint}; known: "
                             f"{', '.join(cls.ARGUMENTS)}")
        mode, since, until, channels, source = (args.get(name) for name in cls.ARGUMENTS)
        mode = (mode or "nightly").strip().lower()
        if mode not in MODES:
            raise ValueError(f"-a mode={mode!r}: expected one of {', '.join(MODES)}")
        source = (source or LIVE).strip().lower()
        if source not in SOURCES:
            raise ValueError(f"-a source={source!r}: expected one of {', '.join(SOURCES)}")
        if source != LIVE and mode != "backfill":
            raise ValueError(f"-a source={source} reads a web archive, which is a backfill: "
                             "give -a mode=backfill too")
        start, end = _date_arg("since", since), _date_arg("until", until)
        if start and end and start > end:
            raise ValueError(f"-a since={since} is after -a until={until}")
        chosen = None
        if channels is not None:
            chosen = frozenset(c.strip().strip("/").lower() for c in channels.split(",")
                               if c.strip())
            if not chosen:
                raise ValueError("-a channels= is empty: give channel ids or category slugs, "
                                 "comma-separated")
        return cls(mode=mode, since=start, until=end, channels=chosen, source=source)

    def month_in_range(self, month: str) -> bool:
        """True when a YYYYMM month overlaps since..until."""
        if self.since and month < self.since.strftime("%Y%m"):
            return False
        return not (self.until and month > self.until.strftime("%Y%m"))

    def date_in_range(self, day: dt.date) -> bool:
        """True when a date lies in since..until."""
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    def wants_section(self, section: str) -> bool:
        """True when a channel id or category slug is among the chosen ones (or none was chosen)."""
        return self.channels is None or section.lower() in self.channels


def _date_arg(name: str, value: str | None) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"-a {name}={value!r}: expected a date as YYYY-MM-DD") from None
