"""Báo Nam Định archiver: extraction, normalisation and archiving of baonamdinh.vn articles.

Subpackages by job: ``extract`` (reading pages), ``normalise`` (the pipelines' logic), ``store``
(the archive, its state, raw captures), ``run`` (the components around a crawl), ``analysis``
(the analysts' side: export, changes feed, manifest and verify, report, data dictionary).
``settings``, ``items`` and ``cli`` sit here, where Scrapy and users look for them.
"""

from __future__ import annotations

__version__ = "0.1.0"
# Bump when extraction output for the same page can change: re-extraction compares on it.
EXTRACTOR_VERSION = "2"
