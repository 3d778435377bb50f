"""The site layer's shortcuts agree with the long way round, and so does the page's parse."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import lxml.html
from lxml import etree

from crawler.extract.html import element_text, parse_html
from crawler.extract.profile import _holds_text, _non_space

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


def test_non_space_counts_as_split_does():
    rng = random.Random(5)
    spaces = " \n\t\r\x0b\x0c\x1c\x85\xa0\u1680\u2003\u200b\u2028\u202f\u3000\ufeff"
    alphabet = spaces + "aệĐ.\x00\x7f"
    for _ in range(50_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert _non_space(text) == sum(map(len, text.split())), repr(text)
    # The texts element_text gives: the count without a split.
    for path in sorted((ROOT / "bench/realpages/html").glob("*.html.gz"))[:20]:
        root = parse_html(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
        for el in list(root.iter("div"))[:40]:
            text = element_text(el, limit=400)
            assert _non_space(text) == sum(map(len, text.split())), path.name


def _str_parse(html: str) -> etree._Element:
    """The page parsed as a str, as parse_html did before it handed lxml UTF-8 bytes."""
    return lxml.html.fromstring(html.replace("\x00", ""), parser=etree.HTMLParser())


def test_the_page_parsed_as_utf8_bytes_is_the_page_parsed_as_text():
    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace")
             for p in sorted((ROOT / "bench/realpages/html").glob("*.html.gz"))]
    pages += [p.read_text("utf-8") for p in sorted((ROOT / "tests/fixtures").rglob("*.html"))]
    # A declaration of another encoding is not obeyed on bytes either: the text is decoded.
    for charset in ("windows-1252", "windows-1258", "shift_jis", "utf-16", "bogus"):
        pages += [f'<html><head><meta charset="{charset}"></head><body><p>Đà Nẵng “x” é 中'
                  f"</p></body></html>",
                  f'<html><head><meta http-equiv="Content-Type" content="text/html; '
                  f'charset={charset}"></head><body><p>Tỉnh ủy € ñ</p></body></html>']
    pages += ["\ufeff<p>BOM ệ</p>", "<p>\x85\x9f\ufffe \U0001f600 a\x00b</p>", "chỉ chữ"]
    assert len(pages) > 200
    for html in pages:
        assert etree.tostring(parse_html(html)) == etree.tostring(_str_parse(html)), html[:200]


def test_a_lone_surrogate_is_an_undecodable_character_not_a_parse_error():
    # No encoding holds it (lxml 6.0.0 refuses it in a str, later releases drop what follows).
    root = parse_html("<html><body><p>x\ud800y \udfffz</p></body></html>")
    assert element_text(next(root.iter("p"))) == "x\ufffdy \ufffdz"


def test_an_xml_declaration_naming_an_encoding_is_no_obstacle():
    root = parse_html('<?xml version="1.0" encoding="iso-8859-1"?><html><body><p>Nam Định</p>'
                      "</body></html>")
    assert element_text(next(root.iter("p"))) == "Nam Định"


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
