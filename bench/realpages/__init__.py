"""Extraction on 181 real news pages that nobody here wrote, ours beside trafilatura.

The pages, their ground truth, the scorer (``evaluate.py``) and its licence are vendored from
scrapinghub/article-extraction-benchmark (see README.md here). ``python -m bench.realpages``
runs it on its own in about a minute; ``make bench`` includes it.
"""

from __future__ import annotations

from bench.realpages.run import RealPage, load_pages, measure

__all__ = ["RealPage", "load_pages", "measure"]
