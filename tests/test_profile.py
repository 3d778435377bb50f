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
