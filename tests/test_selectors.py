"""select() answers as lxml's compiled CSS selector does, from the page index or not.

The index (crawler/extract/selectors.py) is a second implementation of a subset of cssselect's
semantics; these tests hold it to the first on every page we have: the fixture pages, the 181
real benchmark pages, and a page written to trip it (white space in class attributes, nested
matches, repeated ids, exact class values, comments), with selectors taken from the site
templates and from the real pages' own class names and structure.
"""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path

import pytest
from lxml import etree

from crawler.extract import selectors
from crawler.extract.html import parse_html
from crawler.extract.profile import SITE_TEMPLATES
from crawler.extract.selectors import css, index_page, required_names, select

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_SELECTORS = sorted({s for t in SITE_TEMPLATES
                             for f in ("body", "title", "kicker", "date", "lead", "byline",
                                       "top_author", "requires")
                             for s in getattr(t, f)})
OTHER_SELECTORS = ["figcaption, .caption", '[class*="caption"]', "img", ":not(.content) p",
                   '[class="date x"]', "figcaption", "td.caption", ".desc"]

TRICKY = """<!DOCTYPE html><html><head><title>t</title></head><body class="top">
<!-- a comment --><div class="a"><div class="a b"><span>1</span><p class="b">x</p></div>
<span>2</span></div>
<div class=" a\tb\n c\r"><span class="b">3</span><p>p</p></div>
<div class="a&#160;b"><span>4</span></div>
<div class="A"><span class="B">5</span></div>
<p id="x" class="a">6</p><p id="x">7</p><p id="X">8</p>
<div class="date"><span>9</span><b><span>10</span></b></div>
<section class="date x"><span>11</span></section>
<div class="outer"><div class="date"><span>12</span></div></div>
<table class="image center"><tr><td>a</td></tr><tr><td><em>cap</em></td></tr></table>
<div class="">empty</div><div class="b a b">dup</div>
</body></html>"""
TRICKY_SELECTORS = [
    ".a", ".b", ".c", ".A", ".B", ".top", ".a.b", ".b.a", "div.a", "span.b", "p.b", "#x", "p#x",
    "#X", "div#x", ".a .b", ".a > .b", ".a span", ".a > span", ".a > p", "div .a > p",
    ".top .a .b", ".top > .a", '[class="a b"]', '[class="a"]', '[class="date"]',
    '[class="date"] > span', '[class="date"] span', ".date > span", ".date span",
    ".outer .date > span", ".a p", "body .b", "html .a", ".image.center", "table.image",
    '[class=""]', ".x", "#nothing", ".nothing span", "p", "div", "span",
]


def _same(a: list[etree._Element], b: list[etree._Element]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _check(root: etree._Element, selector_list: list[str], contexts: int = 5) -> None:
    """Index the page, then ask every selector of its root (the index's answers) and of some
    elements under it (XPath, after the index's look at the page's names)."""
    index_page(root)
    for el in [root, *list(root.iter("div", "table", "section"))[:contexts]]:
        for selector in selector_list:
            assert _same(select(el, selector), css(selector)(el)), (selector, el.tag)


def _fixture_roots() -> list[etree._Element]:
    pages = sorted((ROOT / "tests/fixtures/articles").glob("*/page.html"))
    roots = []
    for path in pages:
        root = parse_html(path.read_text("utf-8"))
        etree.strip_elements(root, "script", "style", with_tail=False)
        roots.append(root)
    return roots


def _selectors_from(root: etree._Element) -> list[str]:
    """Selectors built from a page's own names: each class and id, a tag with it, an ancestor
    and descendant pair, a parent and child pair, a whole class value with its children."""
    out: set[str] = set()
    named = root.xpath("//*[@class or @id]")[:12]
    for el in named:
        tag = el.tag if isinstance(el.tag, str) else "div"
        names = selectors.class_names(el.get("class") or "")
        for name in names[:2]:
            if name and name.isascii() and name.replace("-", "").replace("_", "").isalnum() \
                    and not name[0].isdigit():
                out |= {f".{name}", f"{tag}.{name}", f".{name} p", f".{name} > div"}
                parent = el.getparent()
                if parent is not None:
                    for pname in selectors.class_names(parent.get("class") or "")[:1]:
                        if pname.isascii() and pname.replace("-", "").isalnum() \
                                and not pname[0].isdigit():
                            out |= {f".{pname} > .{name}", f".{pname} .{name}"}
        value = el.get("class")
        if value and re.fullmatch(r"[A-Za-z0-9_ -]+", value):
            out |= {f'[class="{value}"]', f'[class="{value}"] > span', f'[class="{value}"] a'}
        ident = el.get("id")
        if ident and ident.isascii() and ident.replace("-", "").replace("_", "").isalnum() \
                and not ident[0].isdigit():
            out |= {f"#{ident}", f"{tag}#{ident}", f"#{ident} p"}
    return sorted(out)


def test_select_answers_as_css_on_a_page_written_to_trip_it():
    root = parse_html(TRICKY)
    _check(root, TRICKY_SELECTORS + TEMPLATE_SELECTORS + OTHER_SELECTORS)


def test_select_answers_as_css_on_every_fixture_page():
    roots = _fixture_roots()
    assert roots
    # Pages asked about in turn, again and again: no page's index stands in for another's.
    for root in roots + roots[::-1]:
        _check(root, TEMPLATE_SELECTORS + OTHER_SELECTORS + _selectors_from(root))


def test_select_answers_as_css_on_the_real_benchmark_pages():
    pages = sorted((ROOT / "bench/realpages/html").glob("*.html.gz"))
    assert len(pages) == 181
    asked = 0
    for path in pages:
        root = parse_html(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
        own = _selectors_from(root)
        asked += len(own)
        _check(root, TEMPLATE_SELECTORS + own, contexts=2)
    assert asked > 2000  # the pages' own names were really asked about


def test_the_index_answers_simple_selectors_without_xpath(monkeypatch):
    root = parse_html(TRICKY)
    index_page(root)
    expected = {s: css(s)(root) for s in TRICKY_SELECTORS}
    expected_inner = css(".date > span")(root.find(".//div[@class='outer']"))

    def no_xpath(selector: str):
        raise AssertionError(f"XPath asked for {selector!r}")

    monkeypatch.setattr(selectors, "css", no_xpath)
    # A bare tag after a left part that finds more than one element (their children's
    # document order) is XPath's.
    left_to_xpath = {'[class="date"] > span', '[class="date"] span',
                     ".a span", ".a > span", ".a > p", ".a p", ".date > span",
                     ".date span"}
    for selector in TRICKY_SELECTORS:
        if selector in left_to_xpath:
            with pytest.raises(AssertionError, match="XPath asked"):
                select(root, selector)
        else:
            assert _same(select(root, selector), expected[selector]), selector
    assert len(TRICKY_SELECTORS) - len(left_to_xpath) >= 30
    # Under an element too (not the root).
    inner = root.find(".//div[@class='outer']")
    assert _same(select(inner, ".date > span"), expected_inner)


def test_required_names():
    assert required_names(":not(.content) p") is None
    assert required_names('[class="date x"] > span') == (frozenset({"date", "x"}), frozenset())
    assert required_names("h2#title .a.b") == (frozenset({"a", "b"}), frozenset({"title"}))


def test_class_names_split_on_xml_white_space_only():
    rng = random.Random(7)
    alphabet = ["a", "b", "-", " ", "  ", "\t", "\n", "\r", "\u00a0", "\f", "\v", "\u2003", "é"]
    for _ in range(20_000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        expected = re.split(r"[ \t\r\n]+", value.strip(" \t\r\n"))
        assert selectors.class_names(value) == expected, repr(value)


def test_the_metadata_pass_finds_what_the_selectors_find():
    from crawler.extract.metadata import _head_tags

    paths = sorted((ROOT / "bench/realpages/html").glob("*.html.gz"))
    pages = [gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in paths]
    pages += [p.read_text("utf-8") for p in
              sorted((ROOT / "tests/fixtures/articles").glob("*/page.html"))]
    pages.append('<html><head><link rel="canonical" href="a"><link rel="Canonical" href="b">'
                 '<script type="application/ld+json">{}</script></head><body><div>'
                 '<link rel="canonical" href="c"><script type="application/ld+json ">[]</script>'
                 '<script type="application/ld+json">[]</script></div></body></html>')
    found = 0
    for page in pages:
        root = parse_html(page)
        _tags, scripts, canonical = _head_tags(root)
        assert _same(scripts, css('script[type="application/ld+json"]')(root))
        assert _same(canonical, css('link[rel="canonical"]')(root))
        found += len(scripts) + len(canonical)
    assert found > 100


def test_the_caption_walk_finds_what_the_caption_selector_finds():
    from crawler.extract.html import _CAPTIONS, CAPTION_SELECTOR, _captions_in

    found = 0
    for path in sorted((ROOT / "bench/realpages/html").glob("*.html.gz")):
        root = parse_html(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
        for el in [root, *list(root.iter("div", "figure", "table", "p"))[:30]]:
            expected = css(CAPTION_SELECTOR)(el)
            assert _same(_CAPTIONS(el), expected), path.name
            assert _same(_captions_in(el), expected), path.name
            found += len(expected)
    assert found > 100
    tricky = parse_html(PHOTO_BLOCKS)
    for el in tricky.iter(etree.Element):
        assert _same(_captions_in(el), _CAPTIONS(el))


PHOTO_BLOCKS = """<html><body>
<table id="a"><tr><td class="desc">d</td></tr><tr><td class="x mycaption">m</td></tr>
  <tr><td class="image-caption">i</td></tr><tr><td class="caption">c</td></tr></table>
<div id="b"><p class="desc">d</p><p class="photo-caption">p</p><figcaption>f</figcaption></div>
<div id="c" class="caption"><span class="caption">inner</span></div>
<div id="d"><span class="big\tcaption">tab</span><!-- c --><em class="Caption">case</em></div>
<div id="e"><span class="description">not desc</span><span class="desc   x">spaced</span></div>
<div id="f"><span class="image-caption  x">ic</span><span class="captions">s</span></div>
<div id="g"><img src="x.jpg"><p>no caption</p></div>
<div id="h"><span class="x-caption">sub</span><span class="desc">d</span></div>
<div id="i"><span class="desc">d</span><span class="image-caption">ic</span></div>
<div id="j"><div class="PhotoCMS_Caption"><p>vc</p></div><span class="x-caption">lc</span></div>
</body></html>"""


def _first_by_css(el, selectors_in_order):
    for selector in selectors_in_order:
        found = css(selector)(el)
        if found:
            return found[0]
    return None


def test_the_photo_caption_walk_finds_what_the_caption_selectors_find():
    from crawler.extract.html import CAPTION_SELECTORS, _caption_element

    roots = [parse_html(PHOTO_BLOCKS)] + [
        parse_html(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
        for path in sorted((ROOT / "bench/realpages/html").glob("*.html.gz"))]
    found = asked = 0
    for root in roots:
        blocks = [root, *root.iter("div", "figure", "table", "td", "p", "span", "li")]
        for el in blocks[:60]:
            expected = _first_by_css(el, CAPTION_SELECTORS)
            assert _caption_element(el) is expected, etree.tostring(el)[:200]
            asked += 1
            found += expected is not None
    assert asked > 5000 and found > 300


def test_is_chrome_shortcut_agrees_with_the_class_and_id_tokens():
    from crawler.extract.html import class_tokens, is_chrome, is_chrome_name

    tricky = parse_html('<div class="" id="menu"><p class="">x</p><p id="">y</p>'
                        '<p class="related">z</p><p>w</p><span class=" ">v</span></div>')
    roots = [tricky] + [parse_html(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
                        for path in sorted((ROOT / "bench/realpages/html").glob("*.html.gz"))[:60]]
    chrome = asked = 0
    for root in roots:
        for el in root.iter(etree.Element):
            expected = is_chrome_name(class_tokens(el))
            assert is_chrome(el) is expected, etree.tostring(el)[:120]
            asked += 1
            chrome += expected
    assert asked > 10_000 and chrome > 100


def test_an_element_without_attributes_is_neither_hidden_nor_named_chrome():
    # body_blocks looks no further at an element without attributes (el.keys() empty).
    from crawler.extract.html import _NAMELESS_IS_CHROME, is_chrome, is_hidden

    roots = [parse_html(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
             for path in sorted((ROOT / "bench/realpages/html").glob("*.html.gz"))[:60]]
    bare = 0
    for root in roots:
        for el in root.iter(etree.Element):
            if not el.keys():
                bare += 1
                assert not is_hidden(el) and is_chrome(el) is _NAMELESS_IS_CHROME
    assert bare > 5_000


MICRODATA_PAGES = [
    '<html><body><time itemprop="datePublished" datetime="2024-01-02">x</time></body></html>',
    '<html><body><TIME ITEMPROP="datePublished">2024-01-02</TIME></body></html>',
    '<html><body><span itemProp="date&#80;ublished">2024-01-03</span></body></html>',
    '<html><body><span itemprop="&#x64;atePublished">2024-01-04</span></body></html>',
    '<html><body><span itemprop="date\x00Published">2024-01-05</span></body></html>',
    '<html><body><span itemprop="datepublished">not it</span></body></html>',
    '<html><body><p>No microdata &amp; no date</p></body></html>',
]


def test_the_microdata_search_is_spared_only_where_it_finds_nothing():
    from crawler.extract.metadata import read_metadata

    pages = MICRODATA_PAGES + [
        gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        for path in sorted((ROOT / "bench/realpages/html").glob("*.html.gz"))]
    dated = 0
    for html in pages:
        root = parse_html(html)
        full = read_metadata(root)
        assert read_metadata(root, html) == full, html[:200]
        dated += bool(full.date)
    assert [read_metadata(parse_html(h), h).date for h in MICRODATA_PAGES] == [
        "2024-01-02", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", None, None]
    assert dated > 100
