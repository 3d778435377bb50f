"""The site layer's shortcuts agree with the long way round."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

from crawler.extract.html import element_text, parse_html
from crawler.extract.profile import _holds_text

ROOT = Path(__file__).resolve().parent.parent
PIECES = ["a", "ệ", " ", "\u2003", "\u00a0", "\n", "\t", "<br>", "<p>", "</p>", "<b>", "</b>",
          "<div>", "</div>", "<span hidden>x</span>", "<script>var x</script>", "<!-- c -->",
          "tiếng Việt ", "x" * 40, " " * 30]


def test_holds_text_answers_as_element_text_does():
    rng = random.Random(11)
    for _ in range(3_000):
        body = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 60)))
        root = parse_html(f"<html><body><div id='c'>{body}</div></body></html>")
        container = root.find(".//div[@id='c']")
        if container is None:
            continue
        full = len(element_text(container))
        for chars in (1, 5, 20, 60, 200):
            assert _holds_text(container, chars) == (full >= chars), (body, chars)


def test_holds_text_on_the_divs_of_real_pages():
    for path in sorted((ROOT / "bench/realpages/html").glob("*.html.gz"))[:60]:
        root = parse_html(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
        for el in list(root.iter("div"))[:40]:
            full = len(element_text(el))
            assert _holds_text(el, 200) == (full >= 200), path.name


def test_extraction_leaves_no_cycle_that_keeps_the_page_alive():
    # A recursive closure (a walk that called itself) made a reference cycle on every page:
    # each page's lxml tree then lived until the garbage collector ran, not until its record
    # was made. With the collector off, nothing extraction made may be left for it (other
    # threads of the test process may leave their own garbage: only extraction's is looked at).
    import gc
    import json

    from crawler.extract.article import extract_article

    pages = []
    for case in ["old-cms-2022", "new-cms-2024", "docbao-2019", "unfamiliar-markup"]:
        folder = ROOT / "tests/fixtures/articles" / case
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        pages.append((case, (folder / "page.html").read_text("utf-8"), meta))
    for _case, html, meta in pages:  # first imports and caches made before the collector stops
        extract_article(html, meta["url"], fetched_at=meta["fetched_at"])

    def ours(obj: object) -> bool:
        module = getattr(obj, "__module__", "") or ""
        return type(obj).__name__ == "_Element" or (
            callable(obj) and module.startswith(("crawler", "pipelines")))

    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for case, html, meta in pages:
            extract_article(html, meta["url"], fetched_at=meta["fetched_at"])
            gc.collect()
            left = [obj for obj in gc.garbage if ours(obj)]
            gc.garbage.clear()
            assert not left, (case, left[:5])
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
