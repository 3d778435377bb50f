"""Listing paths: which section a link to a listing names, in either CMS generation.

A listing's root is ``/channel/5083/`` (old CMS) or ``/van-hoa-nghe-thuat/``,
``/multimedia/emagazine/`` (new); the code of its section is the channel id or the slug, as an
article URL's ``section`` gives it (crawler/site/urls.py), the slug in lower case.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

from crawler.site.urls import parse_article_url

# ASCII only: a channel in fullwidth digits, or a category with a Kelvin sign, is no listing.
LISTING_PATH = re.compile(r"^/(channel/[0-9]{4}|[a-z0-9-]+(/[a-z0-9-]+)?)/?$",
                          re.IGNORECASE | re.ASCII)
NOT_LISTINGS = re.compile(r"^/(file|files|search|tim-kiem|rss|api|static|assets)(/|$)",
                          re.IGNORECASE)


def listing_path(url: str) -> str | None:
    """Return the listing a URL belongs to (its path without query, lower case, with a trailing
    slash), or None for other pages (articles, files, search, the home page's ``/``)."""
    path = urlsplit(url).path or "/"
    if NOT_LISTINGS.match(path) or not LISTING_PATH.match(path) or parse_article_url(url):
        return None
    return path.rstrip("/").lower() + "/"


# Every article page links the same menu: a page's links are mostly ones the last pages had.
@lru_cache(maxsize=4096)
def listing_section(url: str) -> str | None:
    """Return the section code a listing URL names: its channel id or its category slug."""
    path = listing_path(url)
    return path.strip("/").removeprefix("channel/") if path else None
