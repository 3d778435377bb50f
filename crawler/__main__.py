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
