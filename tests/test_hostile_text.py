"""No page can hold a worker: the cost of every text stage grows about linearly with hostile text.

Issue 21: a photo caption holding "<a" and 300,000 spaces took 167 s (a regular expression whose
attributes part gave back what the rest took again: quadratic). Each case below is a page (or a
text dump) with one hostile shape at N and at 10 N characters; every stage a page goes through
(reading, extraction, each pipeline before the archive; a dump's reader) is timed on both, and
its cost at 10 N must stay under GROWTH times its cost at N: about 10 when linear, about 100 when
quadratic.

How the measure is kept from flaking on a loaded, shared 2-core machine:
- CPU time of this process (``time.process_time``), not wall time: time other processes take
  from us does not count;
- the garbage collector off while a stage runs, and the text cleaning cache emptied before each
  run, so every run does the whole work;
- the cost at N is the median of three runs (a run at N that came out cheap by chance would
  make the bound tight); the cost at 10 N is the least of up to three runs (noise only ever adds
  time), and one run under the bound is enough;
- the bound, 30, is three times what a linear stage gives and a third of what a quadratic one
  gives; a stage whose cost at 10 N stays under FLOOR (20 ms of CPU) passes whatever the ratio,
  since ratios of a few hundred microseconds are noise;
- a run at 10 N is stopped by a CPU-time alarm (SIGPROF) once it has used the bound's worth: on
  quadratic code the test fails in seconds instead of running for minutes.
"""

from __future__ import annotations

import gc
import math
import signal
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from scrapy.http import HtmlResponse

from crawler.extract.response import item_from_page, read_page
from crawler.extract.textdump import parse_text_dump
from crawler.normalise import text as text_module
from crawler.process.guard import stage_of
from crawler.process.processing import ItemProcessor, project_settings
from tests.badsite import article_html

URL = "https://baonamdinh.vn/channel/5083/202201/bai-viet-2548123/"
FETCHED_AT = "2022-01-15T09:30:00+07:00"
N = 10_000  # and 100,000: a quadratic stage grows 100x, far past GROWTH
GROWTH = 30.0
FLOOR = 0.020  # seconds of CPU
REPEATS = 3
# What a stage may take at N at all (a few milliseconds when linear): beyond it, quadratic code
# would take minutes to show its growth.
AT_N = 5.0  # seconds of CPU


def caption_lt_a_spaces(n: int) -> str:
    """The issue's case: a photo caption (and its alt text) holding "<a" then n spaces."""
    spaces = " " * n
    return article_html(2548123, caption=f"&lt;a{spaces}Ảnh") \
        .replace('alt="', f'alt="&lt;a{spaces}', 1)


def title_padded(n: int) -> str:
    """A <title> and an og:title padded with n spaces, no site name after them."""
    spaces = " " * n
    return article_html(2548123).replace("<title>", f"<title>Tin{spaces}x").replace(
        "<meta http-equiv", f'<meta property="og:title" content="Tin{spaces}x"><meta http-equiv')


def dates_padded(n: int) -> str:
    """Date texts padded with n spaces around zone markers, none readable: the date line (one
    line of the page: its spaces are squashed) and a metadata date (not squashed), so that every
    date parser, dateparser's screen included, sees them."""
    meta = f'<meta property="article:published_time" content="hôm GMT{" " * n}+7 [{" " * n}x">'
    return article_html(2548123, date_line="Cập nhật" + "\u3000" * n + "GMT+7 hôm") \
        .replace("</head>", meta + "</head>")


def body_of_tags(n: int) -> str:
    """A paragraph of n/4 "<a " that never close, as text."""
    return article_html(2548123).replace("<p>Hội nghị kết thúc",
                                         "<p>" + "&lt;a " * (n // 5) + "</p><p>Hội nghị kết thúc")


def byline_word(n: int) -> str:
    """A byline "Theo" and one n-letter word (no dot: not a domain)."""
    return article_html(2548123).replace("<strong>Văn Trọng</strong>",
                                         f"<strong>Theo {'a' * n}</strong>")


def top_author_long(n: int) -> str:
    """An author block at the top holding n characters of names."""
    return article_html(2548123).replace(
        '<div class="sapo">',
        '<div class="author-top">Đồng chí ' + "Nguyễn Văn " * (n // 11) + '</div>'
        '<div class="sapo">')


PAGES = [caption_lt_a_spaces, title_padded, dates_padded, body_of_tags, byline_word,
         top_author_long]


def dump_of(n: int) -> str:
    """A text dump whose title line holds "<a" then n spaces, and whose byline a long word."""
    return (f"Tiêu đề <a{' ' * n}x\n\n03:01, 14/01/2022\n\nSapo của bài.\n\n"
            + "Đoạn văn bản của bài viết. " * 20 + f"\n\nTheo {'a' * n}\n")


class TooSlow(BaseException):
    """A stage used more CPU than it may: raised by the SIGPROF alarm (not an Exception, so
    that no guard of the code under test turns it into a reject)."""


def _alarm(signum: int, frame: Any) -> None:
    raise TooSlow


def cpu(run: Callable[[], Any], limit: float | None = None) -> tuple[float, Any]:
    """Return (CPU seconds, result) of ``run()``; (inf, None) when it passed ``limit``."""
    text_module._clean_text.cache_clear()
    gc.collect()
    gc.disable()
    previous = signal.signal(signal.SIGPROF, _alarm)
    if limit is not None:
        signal.setitimer(signal.ITIMER_PROF, limit)
    started = time.process_time()
    try:
        result = run()
    except TooSlow:
        return math.inf, None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
        gc.enable()
    return time.process_time() - started, result


@pytest.fixture(scope="module")
def worker_pipelines() -> Iterator[list[Any]]:
    processor = ItemProcessor(project_settings({"ARCHIVE_ENABLED": False}), worker_part=True)
    processor.open()
    yield processor.pipelines
    processor.close()


def stages(html: str, pipelines: list[Any]) -> list[tuple[str, Callable[[Any], Any]]]:
    """The stages of a page, in order: each takes what the one before gave."""
    def read(_: Any) -> Any:
        response = HtmlResponse(url=URL, body=html.encode("utf-8"), status=200,
                                headers={"Content-Type": "text/html; charset=utf-8"})
        return read_page(response, fetched_at=FETCHED_AT)

    return [("read", read), ("extract", item_from_page),
            *((stage_of(p), p.process_item) for p in pipelines)]


def stage_costs(html: str, pipelines: list[Any], limits: dict[str, float] | None = None
                ) -> dict[str, float]:
    """Return each stage's CPU seconds on a page (inf for a stage stopped at its limit)."""
    costs: dict[str, float] = {}
    item: Any = None
    for name, run in stages(html, pipelines):
        costs[name], item = cpu(lambda run=run, item=item: run(item),
                                AT_N if limits is None else limits[name])
        if item is None:
            break
    return costs


def assert_linear(small: dict[str, float], measure_large: Callable[[dict[str, float]],
                                                                  dict[str, float]]) -> None:
    """Assert every stage's cost at 10 N is under GROWTH x its cost at N (or under FLOOR)."""
    limits = {name: max(GROWTH * cost, FLOOR) for name, cost in small.items()}
    best: dict[str, float] = {}
    for _ in range(REPEATS):
        for name, cost in measure_large(limits).items():
            best[name] = min(best.get(name, math.inf), cost)
        if all(best.get(name, math.inf) <= limit for name, limit in limits.items()):
            return
    slow = {name: f"{small[name] * 1e3:.1f} ms -> "
                  + ("stopped" if best.get(name, math.inf) == math.inf
                     else f"{best[name] * 1e3:.1f} ms")
            for name, limit in limits.items() if best.get(name, math.inf) > limit}
    raise AssertionError(f"stages whose cost grew more than {GROWTH}x for 10x the text: {slow}")


@pytest.mark.parametrize("page", PAGES, ids=[p.__name__ for p in PAGES])
def test_every_stage_of_a_hostile_page_costs_about_linear_time(page, worker_pipelines):
    runs = [stage_costs(page(N), worker_pipelines) for _ in range(REPEATS)]
    small = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    over = [name for name, cost in small.items() if cost > AT_N]
    assert not over, f"stages over {AT_N} s of CPU for {N} characters: {over}"
    assert len(small) == 2 + len(worker_pipelines)  # every stage ran: the page made a record
    assert_linear(small, lambda limits: stage_costs(page(10 * N), worker_pipelines, limits))


def test_a_hostile_text_dump_costs_about_linear_time():
    def reader(n: int) -> Callable[[], Any]:
        return lambda: parse_text_dump(dump_of(n), url=URL, fetched_at=FETCHED_AT)

    small = {"import-text": statistics.median(cpu(reader(N), AT_N)[0] for _ in range(REPEATS))}
    assert small["import-text"] <= AT_N
    assert_linear(small, lambda limits: {"import-text": cpu(reader(10 * N),
                                                            limits["import-text"])[0]})
