"""Listing pages: links joined to the page's URL as urllib's urljoin joins them (a plain path
from the root is answered without it), and whole pages read as they are with urljoin."""

from __future__ import annotations

import random
import urllib.request
from urllib.parse import urljoin

import pytest

from crawler.extract import listings
from crawler.extract.listings import _Links, parse_listing
from crawler.site.urls import is_site_url
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
        hosts = frozenset({"127.0.0.1", "localhost"})
    assert len(pages) >= 3
    fast = [parse_listing(html, url, hosts) for url, html in pages]
    monkeypatch.setattr(listings._Links, "join",
                        lambda self, href: (a := urljoin(self.base, href),
                                            is_site_url(a, self.hosts)))
    slow = [parse_listing(html, url, hosts) for url, html in pages]
    assert fast == slow
    assert sum(len(page.entries) for page in fast) > 40
    assert any(page.listing_urls for page in fast) and any(page.next_url for page in fast)
