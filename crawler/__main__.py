"""Entry point of ``python -m crawler``: see crawler/cli.py."""

from __future__ import annotations

import os
import sys

from crawler.cli import main

try:
    sys.exit(main())
except BrokenPipeError:  # the reader went away (``| head``): not an error of ours
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(1)
except Exception as exc:
    # Imported only here, so that the analysts' commands start without loading Scrapy.
    from scrapy.exceptions import CloseSpider

    from crawler.run.outcome import ExitStatus
    from crawler.store.lock import ArchiveBusy

    if not isinstance(exc, CloseSpider):
        raise
    # --archive-dir: the archive could not be opened for writing
    cause = exc.__cause__ or exc
    print(f"error: {cause}", file=sys.stderr)
    sys.exit(int(ExitStatus.ARCHIVE_BUSY if isinstance(cause, ArchiveBusy)
                 else ExitStatus.STORAGE_FAILURE))
