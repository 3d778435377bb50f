"""Scores our page-to-record path and trafilatura on the vendored real pages, in the same run.

Each page goes through exactly what ``python -m crawler extract`` does with it: a response from
the saved bytes, ``item_from_response``, then every ITEM_PIPELINES stage (archive off). The page
is given a site article URL (new-CMS form, the month of the fetch, the page's key as its id)
because the crawler only ever extracts pages at its own article URLs; the real URL is kept for
trafilatura. Bodies are scored with the benchmark's own ``evaluate()`` (shingle F1, micro-averaged
precision and recall over pages, bootstrap errors), on the record's ``body`` for ours and on
``text`` for trafilatura. A rejected page, or one that raises, predicts an empty body.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.realpages.evaluate import evaluate
from bench.stats import summary
from crawler.extract.response import item_from_response, response_from_file
from crawler.items import ArticleItem, RejectItem
from crawler.process.processing import ItemProcessor, project_settings

HERE = Path(__file__).resolve().parent
# After every page of the benchmark was published (the latest it holds are of early 2020).
FETCHED_AT = "2020-12-31T12:00:00+07:00"
SITE_URL = "https://baonamdinh.vn"
WARMUP_PAGES = 5


@dataclass(frozen=True)
class RealPage:
    """One vendored page: its key, its real URL, the site URL we extract it at, bytes, truth."""

    key: str
    url: str
    site_url: str
    html: bytes
    truth: str


def load_pages(limit: int | None = None) -> list[RealPage]:
    """Return the vendored pages (sorted by key), each with its ground-truth body."""
    truth = json.loads((HERE / "ground-truth.json").read_text("utf-8"))
    month = FETCHED_AT[:7].replace("-", "")
    pages = []
    for key in sorted(truth)[:limit]:
        html = gzip.decompress((HERE / "html" / f"{key}.html.gz").read_bytes())
        site_url = f"{SITE_URL}/xa-hoi/{month}/benchmark-page-{key[:7]}/"
        pages.append(RealPage(key=key, url=truth[key]["url"], site_url=site_url, html=html,
                              truth=truth[key].get("articleBody", "")))
    return pages


@dataclass
class Outcome:
    """What an extractor made of a page: a body, or the reason it gave none."""

    body: str
    reason: str | None = None  # reject reason (ours) or "empty" (trafilatura)
    crash: str | None = None  # an exception that escaped, as "Type: message"


def ours(processor: ItemProcessor, page: RealPage) -> Outcome:
    """Return our record's body for a page, or the reject's stage and reason."""
    try:
        response = response_from_file(page.html, page.site_url)
        item = item_from_response(response, fetched_at=FETCHED_AT, site_url=SITE_URL)
        if isinstance(item, ArticleItem):
            item, _dropped = processor.process(item)
    except Exception as exc:  # noqa: BLE001 - counted as a crash, which the benchmark reports
        return Outcome("", reason=f"crash: {type(exc).__name__}", crash=f"{type(exc).__name__}: "
                       f"{exc}")
    if isinstance(item, RejectItem):
        return Outcome("", reason=f"{item.stage}: {item.reason}")
    return Outcome(item.body or "")


def reference(page: RealPage) -> Outcome:
    """Return trafilatura's text for a page (bytes and real URL in, as a new user would)."""
    import trafilatura

    out = trafilatura.extract(page.html, url=page.url, output_format="json", with_metadata=True)
    text = json.loads(out).get("text") if out else None
    return Outcome(text or "", reason=None if text else "empty")


def reason_group(reason: str) -> str:
    """Return a reject reason with its page-specific parts (quoted text, numbers) blanked."""
    reason = re.sub(r"'[^']*'", "'…'", reason)
    return re.sub(r"\d+", "N", reason)[:100]


def _score(pages: list[RealPage], outcomes: list[Outcome], times: list[float],
           n_bootstrap: int) -> dict[str, Any]:
    truth = {page.key: {"articleBody": page.truth} for page in pages}
    prediction = {page.key: {"articleBody": out.body}
                  for page, out in zip(pages, outcomes, strict=True)}
    metrics = evaluate(truth, prediction, n_bootstrap)
    rejected = [out for out in outcomes if out.reason]
    return {
        "f1": metrics["f1"], "f1_std": metrics["f1_std"], "precision": metrics["precision"],
        "recall": metrics["recall"], "accuracy": metrics["accuracy"],
        "rejected": len(rejected), "rejected_share": len(rejected) / len(pages),
        "rejects_by_reason": dict(Counter(reason_group(o.reason) for o in rejected)
                                  .most_common()),
        "crashes": sum(out.crash is not None for out in outcomes),
        "ms": summary(times, 1e3), "ms_mean": 1e3 * sum(times) / len(times),
        "per_page": {page.key: {"reason": out.reason, "crash": out.crash,
                                "tp_fp_fn": tp_fp_fn}
                     for page, out, tp_fp_fn in zip(pages, outcomes,
                                                     metrics["tp_fp_fns"], strict=True)},
    }


def measure(pages: list[RealPage], *, with_reference: bool = True,
            n_bootstrap: int = 1000) -> dict[str, Any]:
    """Run ours (and trafilatura) on every page, interleaved page by page; score both."""
    if with_reference:
        import trafilatura  # noqa: F401 - imported before timing starts
    settings = project_settings({"ARCHIVE_ENABLED": False, "LOG_LEVEL": "ERROR"})
    ours_out: list[Outcome] = []
    ref_out: list[Outcome] = []
    ours_t: list[float] = []
    ref_t: list[float] = []
    with ItemProcessor(settings) as processor:
        for page in pages[:WARMUP_PAGES]:
            ours(processor, page)
            if with_reference:
                reference(page)
        for index, page in enumerate(pages):
            order = ("ours", "ref") if index % 2 == 0 else ("ref", "ours")
            for who in order:
                if who == "ref" and not with_reference:
                    continue
                started = time.perf_counter()
                if who == "ours":
                    ours_out.append(ours(processor, page))
                    ours_t.append(time.perf_counter() - started)
                else:
                    ref_out.append(reference(page))
                    ref_t.append(time.perf_counter() - started)
    result = {"pages": len(pages), "fetched_at": FETCHED_AT,
              "ours": _score(pages, ours_out, ours_t, n_bootstrap)}
    if with_reference:
        result["reference"] = _score(pages, ref_out, ref_t, n_bootstrap)
    return result
