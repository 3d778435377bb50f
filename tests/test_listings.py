"""Listing pages: links joined to the page's URL as urllib's urljoin joins them (a plain path
from the root is answered without it), and whole pages read as they are with urljoin."""

from __future__ import annotations

import random
import urllib.request
from urllib.parse import urljoin

import pytest

from crawler.extract import listings
from crawler.extract.listings import _Links, parse_listing
from crawler.site.urls import is_site_url, site_hosts
from tests.replica import Replica

HOSTS = frozenset({"baonamdinh.vn", "localhost", "127.0.0.1"})
BASES = [
    "https://baonamdinh.vn/channel/5083/",
    "https://baonamdinh.vn/channel/5083/?page=2#top",
    "http://127.0.0.1:8089/kinh-te/",
    "http://user@LOCALHOST:8089/a;p?q",
    "https://example.com/thoi-su/",
    "ftp://baonamdinh.vn/x/",
    "/relative/base/",
]
PIECES = ["/", "//", ".", "..", "a", "kinh-te", "202506", "x-4033ad1", "?", "#", ";", "=", "&",
          "\\", "\t", "\n", " ", "%2F", "ư", ":", "http:", "@", "[", "]"]


def _reference(base: str, href: str) -> tuple[str, bool]:
    absolute = urljoin(base, href)
    return absolute, is_site_url(absolute, HOSTS)


@pytest.mark.parametrize("base", BASES)
def test_links_join_as_urljoin_does(base):
    rng = random.Random(base)
    links = _Links(base, HOSTS)
    hrefs = ["/", "/kinh-te/202506/x-4033ad1/", "/channel/5083/201101/a-2082355/", "/a/./b",
             "/a/../b", "/a//b", "/a?", "/a#", "/a?b=/./c", "/.well-known", "//evil.com/a",
             "/a\tb", "/a b/c", "/ư/đ", "/a;b", "/a\\b"]
    hrefs += ["/" + "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 8)))
              for _ in range(3000)]
    fast = 0
    for href in hrefs:
        try:
            expected = _reference(base, href)
        except ValueError:  # urljoin refuses it: so must the join
            with pytest.raises(ValueError):
                links.join(href)
            continue
        assert links.join(href) == expected, href
        fast += links.origin is not None and links.join(href)[0] == links.origin + href
    if base.startswith("http"):
        assert fast > 200  # the shortcut is taken, not only the fallback


def test_listing_pages_read_as_with_urljoin(monkeypatch):
    pages = []
    with Replica(articles=400, seed=5, crawl_delay=0) as site:
        for path in ["/", "/channel/5083/", "/channel/5084/", "/kinh-te/", "/van-hoa/"]:
            try:
                with urllib.request.urlopen(site.url + path, timeout=10) as answer:
                    pages.append((site.url + path, answer.read().decode("utf-8")))
            except urllib.error.HTTPError:
                continue
        # The replica's origins: its hosts at its port (a plain set is at ports 80 and 443).
        hosts = site_hosts(site.url, ["localhost"])
    assert len(pages) >= 3
    fast = [parse_listing(html, url, hosts) for url, html in pages]
    monkeypatch.setattr(listings._Links, "join",
                        lambda self, href: (a := urljoin(self.base, href),
                                            is_site_url(a, self.hosts)))
    slow = [parse_listing(html, url, hosts) for url, html in pages]
    assert fast == slow
    assert sum(len(page.entries) for page in fast) > 40
    assert any(page.listing_urls for page in fast) and any(page.next_url for page in fast)


def test_links_with_other_digits_are_no_articles_and_a_page_number_must_be_ascii():
    html = ('<html><body><ul>'
            '<li><a href="/channel/5083/202201/bai-\u0662\u0665\u0664\u0668\u0661\u0662\u0663/">A</a></li>'
            '<li><a href="/channel/5083/202201/bai-\uff12\uff15\uff14\uff18\uff11\uff12\uff13/">B</a></li>'
            '<li><a href="/channel/5083/202201/bai-2548123/">C</a></li>'
            '<li><a href="/channel/\uff15\uff10\uff18\uff14/">D</a></li></ul>'
            '<div class="pagination"><span class="active">\uff12</span>'
            '<a href="?page=2">2</a><a href="?page=3">3</a></div></body></html>')
    page = parse_listing(html, "https://baonamdinh.vn/channel/5083/", HOSTS)
    assert [entry.ref.id for entry in page.entries] == ["2548123"]
    assert page.listing_urls == ["https://baonamdinh.vn/channel/5083/"]  # not D's
    # A fullwidth "２" is no current page number: the next page is the one after page 1.
    assert page.next_url == "https://baonamdinh.vn/channel/5083/?page=2"
