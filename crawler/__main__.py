"""Entry point of ``python -m crawler``: see crawler/cli.py."""

from __future__ import annotations

import sys

from crawler.cli import main

sys.exit(main())
