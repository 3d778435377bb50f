"""An exception while making a record becomes a reject record that names the stage and the error.

Used wherever a page is turned into a record: extraction itself
(``crawler.extract.response.item_from_page``), the pipelines in the crawl
(crawler/process/guard.py) and outside it (crawler/process/processing.py, the command line).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from crawler.items import ArticleItem, RejectItem

logger = logging.getLogger(__name__)

STATS_PREFIX = "archive/crashes"
# A reason stays one readable line however long the exception's message is.
MAX_MESSAGE_CHARS = 300


def crash_reason(stage: str, exc: BaseException) -> str:
    """Return the reject reason for an exception raised at ``stage``: stage, type and message."""
    message = " ".join(str(exc).split())[:MAX_MESSAGE_CHARS]
    return f"crash in {stage}: {type(exc).__name__}" + (f": {message}" if message else "")


def _partial_record(item: ArticleItem) -> dict[str, Any] | None:
    """Return the item's record when it can be written as JSON (a crash may leave it odd)."""
    try:
        record = item.to_record()
        json.dumps(record, ensure_ascii=False)
    except Exception:  # noqa: BLE001 - the reject must be writable whatever the item holds
        return None
    return record


def reject_for_crash(item: Any, stage: str, exc: BaseException) -> RejectItem:
    """Return the reject record of an item whose processing raised ``exc`` at ``stage``."""
    reason = crash_reason(stage, exc)
    if isinstance(item, RejectItem):
        # A reject that a stage could not handle keeps its own reason, and says what failed.
        item.reason = f"{item.reason}; then {reason}"
        return item
    url = getattr(item, "url", None) or ""
    return RejectItem(url=url, reason=reason, stage=stage,
                      fetched_at=getattr(item, "fetched_at", None) or "",
                      id=getattr(item, "id", None), retryable=False,
                      http_status=getattr(item, "http_status", None),
                      capture=getattr(item, "capture", None),
                      record=_partial_record(item) if isinstance(item, ArticleItem) else None)


def log_crash(item: Any, stage: str, exc: BaseException, stats: Any | None) -> None:
    """Log a crash with its traceback (a bug to fix) and count it by stage."""
    logger.error("crash in %s on %s: %s: %s", stage, getattr(item, "url", item),
                 type(exc).__name__, exc, exc_info=exc)
    if stats is not None:
        stats.inc_value(f"{STATS_PREFIX}/{stage}")
