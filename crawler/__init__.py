"""Báo Nam Định archiver: extraction, normalisation and archiving of baonamdinh.vn articles."""

from __future__ import annotations

__version__ = "0.1.0"
# Bump when extraction output for the same page can change: re-extraction compares on it.
EXTRACTOR_VERSION = "1"
