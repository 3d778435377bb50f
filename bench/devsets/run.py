"""Scores ours, trafilatura and readability-lxml on the development sets, in one run.

Each page goes through each extractor, in turn (the order rotating page by page), timed:
- ours: exactly what ``python -m crawler extract`` does (a response from the bytes at a site
  article URL, ``item_from_response``, every ITEM_PIPELINES stage, archive off), its ``body``;
- trafilatura: ``trafilatura.extract(html, url=..., include_comments=False)``, as the
  web-content-extraction benchmark runs it (comments off);
- readability-lxml: ``Document(html).summary(html_partial=True)``, then its text, a line per
  block (the benchmark takes html_text's; ours is the same rule).
The two references get the page as Scrapy decodes it. Each set is scored by its own method: the
real pages by their benchmark's ``evaluate()`` (shingle F1 of the micro-averaged precision and
recall, its own bootstrap), the others as the web-content-extraction benchmark scores them
(mean ROUGE-LSum F1 over pages, bench/devsets/rouge.py), with a bootstrap over pages for the ±.
A page an extractor gives nothing for (ours: a reject or a crash) predicts an empty text.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.devsets.rouge import Score, rouge_lsum
from bench.devsets.sets import DevPage
from bench.realpages.evaluate import evaluate
from bench.realpages.run import FETCHED_AT as REALPAGES_FETCHED_AT
from bench.realpages.run import SITE_URL, reason_group
from crawler.extract.html import element_text, parse_html
from crawler.extract.response import item_from_response, response_from_file
from crawler.items import ArticleItem, RejectItem
from crawler.process.processing import ItemProcessor, project_settings

# Page scores already computed (ROUGE-LSum of a long page takes seconds, and the references give
# the same text every run): keyed by a hash of the true and the extracted text.
SCORE_CACHE = Path(__file__).resolve().parent.parent / "work" / "devsets-scores.json"
# After every page of the other sets was published.
FETCHED_AT = "2026-01-01T12:00:00+07:00"
EXTRACTORS = ("ours", "trafilatura", "readability")
WARMUP_PAGES = 3


@dataclass
class Outcome:
    """What an extractor made of a page: a text, or why it gave none, and what it cost."""

    text: str
    seconds: float = 0.0
    reason: str | None = None
    crash: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def site_url_of(page: DevPage) -> str:
    """Return the site article URL a page is extracted at (new-CMS form, a hash of its key)."""
    fetched = REALPAGES_FETCHED_AT if page.set == "realpages" else FETCHED_AT
    month = fetched[:7].replace("-", "")
    if page.set == "realpages":
        tag = page.key[:7]
    else:
        tag = hashlib.sha256(f"{page.set}/{page.key}".encode()).hexdigest()[:7]
    return f"{SITE_URL}/xa-hoi/{month}/benchmark-page-{tag}/"


def ours(processor: ItemProcessor, page: DevPage) -> Outcome:
    """Return our record's body for a page, or the reject's stage and reason."""
    fetched = REALPAGES_FETCHED_AT if page.set == "realpages" else FETCHED_AT
    try:
        response = response_from_file(page.html, site_url_of(page))
        item = item_from_response(response, fetched_at=fetched, site_url=SITE_URL)
        if isinstance(item, ArticleItem):
            item, _dropped = processor.process(item)
    except Exception as exc:  # noqa: BLE001 - counted as a crash, which the benchmark reports
        return Outcome("", reason=f"crash: {type(exc).__name__}",
                       crash=f"{type(exc).__name__}: {exc}")
    if isinstance(item, RejectItem):
        return Outcome("", reason=f"{item.stage}: {item.reason}")
    extra = {"confidence": getattr(item, "extraction", None)}
    return Outcome(item.body or "", extra=extra)


def _decoded(page: DevPage) -> str:
    return response_from_file(page.html, page.url or site_url_of(page)).text


def trafilatura_text(page: DevPage) -> Outcome:
    """Return trafilatura's text for a page (comments off), or "empty"."""
    import trafilatura

    text = trafilatura.extract(_decoded(page), url=page.url, include_comments=False) or ""
    return Outcome(text, reason=None if text.strip() else "empty")


def readability_text(page: DevPage) -> Outcome:
    """Return readability-lxml's article text for a page, or "empty"."""
    from readability import Document

    summary = Document(_decoded(page)).summary(html_partial=True)
    text = element_text(parse_html(summary)) if summary.strip() else ""
    return Outcome(text, reason=None if text.strip() else "empty")


def _run_one(fn: Callable[[], Outcome]) -> Outcome:
    started = time.perf_counter()
    try:
        out = fn()
    except Exception as exc:  # noqa: BLE001 - a reference that raises gives nothing
        out = Outcome("", reason=f"crash: {type(exc).__name__}",
                      crash=f"{type(exc).__name__}: {exc}")
    out.seconds = time.perf_counter() - started
    return out


def bootstrap_std(values: list[float], n: int, seed: int = 20) -> float:
    """Return the standard deviation of the mean of ``values`` over ``n`` bootstrap samples."""
    if len(values) < 2 or n < 2:
        return 0.0
    rng = random.Random(seed)
    means = [statistics.fmean(rng.choices(values, k=len(values))) for _ in range(n)]
    return statistics.pstdev(means)


def _pair_key(truth: str, text: str) -> str:
    return hashlib.sha256(f"{truth}\0{text}".encode()).hexdigest()[:32]


def _rouge(pair: tuple[str, str]) -> tuple[float, float, float]:
    s = rouge_lsum(*pair)
    return s.precision, s.recall, s.f1


def rouge_scores(pairs: list[tuple[str, str]]) -> list[Score]:
    """Return ROUGE-LSum of each (true text, extracted text): from the cache where known, the
    rest computed on every core and added to the cache."""
    cache: dict[str, list[float]] = {}
    if SCORE_CACHE.is_file():
        try:
            cache = json.loads(SCORE_CACHE.read_text("utf-8"))
        except ValueError:
            cache = {}
    keys = [_pair_key(*pair) for pair in pairs]
    todo = {key: pair for key, pair in zip(keys, pairs, strict=True) if key not in cache}
    if todo:
        workers = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                      else os.cpu_count() or 1)
        # Longest first, so that one huge page does not end the run alone.
        order = sorted(todo, key=lambda k: -(len(todo[k][0]) * len(todo[k][1])))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for key, figures in zip(order, pool.map(_rouge, [todo[k] for k in order]),
                                    strict=True):
                cache[key] = list(figures)
        SCORE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        SCORE_CACHE.write_text(json.dumps(cache), "utf-8")
    return [Score(*cache[key]) for key in keys]


def _page_f1(tp: float, fp: float, fn: float) -> float:
    """Return one page's shingle F1 from its (normalised) true and false counts."""
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def score(pages: list[DevPage], outcomes: list[Outcome], n_bootstrap: int) -> dict[str, Any]:
    """Return one extractor's figures on one set part, by the set's own method."""
    if pages and pages[0].set == "realpages":
        truth = {p.key: {"articleBody": p.truth} for p in pages}
        pred = {p.key: {"articleBody": o.text} for p, o in zip(pages, outcomes, strict=True)}
        metrics = evaluate(truth, pred, n_bootstrap)
        figures = {"f1": metrics["f1"], "f1_std": metrics["f1_std"],
                   "precision": metrics["precision"], "recall": metrics["recall"],
                   "method": "shingle F1 (the set's evaluate.py)",
                   "per_page_f1": {p.key: round(_page_f1(*counts), 4)
                                   for p, counts in zip(pages, metrics["tp_fp_fns"],
                                                        strict=True)}}
    else:
        per_page = rouge_scores([(p.truth, o.text) for p, o in zip(pages, outcomes,
                                                                     strict=True)])
        f1s = [s.f1 for s in per_page]
        figures = {"f1": statistics.fmean(f1s) if f1s else 0.0,
                   "f1_std": bootstrap_std(f1s, n_bootstrap),
                   "precision": statistics.fmean(s.precision for s in per_page) if f1s else 0.0,
                   "recall": statistics.fmean(s.recall for s in per_page) if f1s else 0.0,
                   "method": "mean ROUGE-LSum F1",
                   "per_page_f1": {p.key: round(s.f1, 4)
                                   for p, s in zip(pages, per_page, strict=True)}}
    empty = [o for o in outcomes if o.reason]
    times = [o.seconds for o in outcomes]
    figures.update({
        "pages": len(pages),
        "empty": len(empty),
        "empty_by_reason": dict(Counter(reason_group(o.reason) for o in empty).most_common()),
        "crashes": sum(o.crash is not None for o in outcomes),
        "ms_mean": 1e3 * statistics.fmean(times) if times else 0.0,
        "ms_median": 1e3 * statistics.median(times) if times else 0.0,
    })
    return figures


def measure(pages: list[DevPage], *, extractors: tuple[str, ...] = EXTRACTORS,
            n_bootstrap: int = 1000, progress: Callable[[str], None] | None = None
            ) -> dict[str, Any]:
    """Run every extractor on every page (order rotating page by page); score per set part."""
    if "trafilatura" in extractors:
        import trafilatura  # noqa: F401 - imported before timing starts
    if "readability" in extractors:
        import readability  # noqa: F401
    settings = project_settings({"ARCHIVE_ENABLED": False, "LOG_LEVEL": "ERROR"})
    outcomes: dict[str, list[Outcome]] = {name: [] for name in extractors}
    with ItemProcessor(settings) as processor:
        runners: dict[str, Callable[[DevPage], Outcome]] = {
            "ours": lambda page: ours(processor, page),
            "trafilatura": trafilatura_text, "readability": readability_text}
        for page in pages[:WARMUP_PAGES]:
            for name in extractors:
                _run_one(lambda name=name, page=page: runners[name](page))
        for index, page in enumerate(pages):
            if progress and index % 100 == 0:
                progress(f"{index} of {len(pages)} pages")
            order = extractors[index % len(extractors):] + extractors[:index % len(extractors)]
            for name in order:
                outcomes[name].append(_run_one(lambda name=name, page=page: runners[name](page)))
    groups: dict[tuple[str, str], list[int]] = {}
    for index, page in enumerate(pages):
        groups.setdefault((page.set, page.part), []).append(index)
    result: dict[str, Any] = {"fetched_at": FETCHED_AT, "parts": {}}
    for (set_name, part), indices in groups.items():
        chosen = [pages[i] for i in indices]
        result["parts"][f"{set_name}/{part}"] = {
            name: score(chosen, [outcomes[name][i] for i in indices], n_bootstrap)
            for name in extractors}
    return result
