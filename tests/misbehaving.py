"""Stand-in sites that misbehave the way real ones do (issue 21), for tests/test_faults.py.

Each builder returns the routes (and the fallback, for paths without a route of their own) of a
``tests.faults.MiniSite`` on loopback: a listing whose "next page" never ends, a sitemap index
that lists another index forever, redirects to another port of the site's host, long redirect
chains, an article that redirects to another article's id, a 429 with a long Retry-After.
Everything endless is bounded (``ENDLESS``), so that a crawler that never stops still ends and
the test can count how far it went.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.badsite import article_html
from tests.faults import Answer, Fallback, Route

CHANNEL = "5083"
LISTING = f"/channel/{CHANNEL}/"
# Where an endless listing or sitemap index really ends: far beyond any bound a test sets.
ENDLESS = 60
PAGE_SIZE = 10
FIRST_ID = 2549000
_ARTICLE = re.compile(r"^/channel/[0-9]{4}/202201/bai-viet-so-(?P<id>[0-9]+)/(?:index\.htm)?$")


def article_path(article_id: int, channel: str = CHANNEL) -> str:
    """Return the old-CMS path of a stand-in article (January 2022)."""
    return f"/channel/{channel}/202201/bai-viet-so-{article_id}/"


def page(article_id: int) -> Route:
    """Return the route of a good article page."""
    return lambda host, seen: Answer(body=article_html(article_id))


def redirect(location: str, status: int = 301) -> Route:
    """Return the route of a redirect to ``location``."""
    return lambda host, seen: Answer(status, "", (("Location", location),))


def home(*listings: str) -> Route:
    """Return the route of a home page linking these listings."""
    links = "".join(f'<a href="{path}">Mục {n}</a> ' for n, path in enumerate(listings))
    return lambda host, seen: Answer(body=f"<html><body>{links}</body></html>")


def listing_html(paths: list[str], next_href: str | None = None) -> str:
    """Return a listing page linking these articles, with a "next page" link when given."""
    items = "".join(f'<li class="item"><h3 class="title"><a href="{path}">Bài {n}</a></h3></li>'
                    for n, path in enumerate(paths))
    more = (f'<div class="pagination"><a rel="next" href="{next_href}">Trang sau</a></div>'
            if next_href else "")
    return f"<html><body><ul>{items}</ul>{more}</body></html>"


def listing(*paths: str) -> Route:
    """Return the route of a one-page listing of these articles."""
    return lambda host, seen: Answer(body=listing_html(list(paths)))


def articles(path: str, host: str, seen: int) -> Answer | None:
    """Fallback: any stand-in article path is a good page of its id."""
    match = _ARTICLE.match(path)
    return Answer(body=article_html(int(match["id"]))) if match else None


def endless_listing(*, new_ids: bool) -> tuple[dict[str, Route], Fallback]:
    """A listing whose "next page" link never ends (until ENDLESS): each page shows PAGE_SIZE
    new articles, or the same PAGE_SIZE on every page."""

    def listing_page(number: int) -> Answer:
        first = FIRST_ID + (number - 1) * PAGE_SIZE if new_ids else FIRST_ID
        paths = [article_path(first + i) for i in range(PAGE_SIZE)]
        more = f"{LISTING}?page={number + 1}" if number < ENDLESS else None
        return Answer(body=listing_html(paths, more))

    def fallback(path: str, host: str, seen: int) -> Answer | None:
        if path.startswith(f"{LISTING}?page="):
            number = int(path.rsplit("=", 1)[1])
            return listing_page(number) if number <= ENDLESS else None
        return articles(path, host, seen)

    return {"/": home(LISTING), LISTING: lambda host, seen: listing_page(1)}, fallback


def urlset(*paths: str, base: str = "") -> str:
    """Return a sitemap listing these article paths."""
    urls = "".join(f"<url><loc>{base}{path}</loc></url>" for path in paths)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns='
            f'"http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')


def sitemap_index(*locations: str) -> str:
    """Return a sitemap index listing these sitemaps."""
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locations)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns='
            f'"http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>')


XML = (("Content-Type", "application/xml"),)


def endless_sitemaps() -> tuple[dict[str, Route], Fallback]:
    """/sitemap.xml is an index listing the index ``?n=1`` and a sitemap of two articles; the
    index ``?n=N`` lists ``?n=N+1`` and two more articles' sitemap, and so on (until ENDLESS)."""

    def index(number: int) -> Answer:
        children = [f"/sitemap-bai.xml?n={number}"]
        if number < ENDLESS:
            children.insert(0, f"/sitemap.xml?n={number + 1}")
        return Answer(body=sitemap_index(*children), headers=XML)

    def fallback(path: str, host: str, seen: int) -> Answer | None:
        if path.startswith("/sitemap.xml?n="):
            number = int(path.rsplit("=", 1)[1])
            return index(number) if number <= ENDLESS else None
        if path.startswith("/sitemap-bai.xml?n="):
            number = int(path.rsplit("=", 1)[1])
            ids = (FIRST_ID + 2 * number, FIRST_ID + 2 * number + 1)
            return Answer(body=urlset(*map(article_path, ids)), headers=XML)
        return articles(path, host, seen)

    return {"/": home(), "/sitemap.xml": lambda host, seen: index(0)}, fallback


def wide_sitemaps(count: int) -> tuple[dict[str, Route], Fallback]:
    """/sitemap.xml is an index of ``count`` sitemaps of one article each (a legal, flat one)."""
    children = [f"/sitemap-bai.xml?n={n}" for n in range(count)]

    def fallback(path: str, host: str, seen: int) -> Answer | None:
        if path.startswith("/sitemap-bai.xml?n="):
            number = int(path.rsplit("=", 1)[1])
            return Answer(body=urlset(article_path(FIRST_ID + number)), headers=XML)
        return articles(path, host, seen)

    return ({"/": home(), "/sitemap.xml": lambda host, seen: Answer(
        body=sitemap_index(*children), headers=XML)}, fallback)


def chain(name: str, hops: int, end: str) -> Callable[[str, str, int], Answer | None]:
    """Fallback part: ``/r/NAME/1`` -> ``/r/NAME/2`` -> ... -> ``/r/NAME/HOPS`` -> ``end``."""
    prefix = f"/r/{name}/"

    def fallback(path: str, host: str, seen: int) -> Answer | None:
        if not path.startswith(prefix):
            return None
        number = int(path.removeprefix(prefix))
        location = f"{prefix}{number + 1}" if number < hops else end
        return Answer(301, "", (("Location", location),))

    return fallback
