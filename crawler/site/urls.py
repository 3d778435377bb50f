"""Article URL parsing: every URL variant of an article maps to one id and one canonical URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

# Old CMS (2010-2022), shared with sister papers: /channel/5083/202201/some-slug-2548123/
# answered with or without the trailing slash, with /index.htm, and with Title-Cased slugs.
OLD_ARTICLE_PATH = re.compile(
    r"^/channel/(?P<channel>\d{4})/(?P<month>\d{6})/(?P<slug>[^/\\\s]+?)-(?P<id>\d{5,9})"
    r"(?:/(?:index\.html?)?)?$",
    re.IGNORECASE,
)
# A slug never holds a backslash or white space (decoded): "..%5C..%5C" and "%0A" are not slugs.
# New CMS (2023 on): /van-hoa-nghe-thuat/202503/some-slug-8fb6d67/ and
# /multimedia/Emagazine/202402/some-slug-afb1164/ (one or two category segments).
NEW_ARTICLE_PATH = re.compile(
    r"^/(?P<category>[a-z0-9-]+(?:/[a-z0-9-]+)?)/(?P<month>\d{6})/(?P<slug>[^/\\\s]+?)-(?P<id>[0-9a-f]{7})"
    r"(?:/(?:index\.html?)?)?$",
    re.IGNORECASE,
)
CHANNEL_PATH = re.compile(r"^/channel/(?P<channel>\d{4})(?:/.*)?$")


@dataclass(frozen=True)
class ArticleRef:
    """What an article URL tells before the page is fetched."""

    id: str
    cms: str  # "old" or "new"
    month: str  # YYYYMM from the URL: the month of publication
    section: str  # channel id (old CMS) or category slug (new CMS)
    path: str  # canonical path, always with a trailing slash

    def canonical_url(self, site_url: str) -> str:
        """Return the canonical URL of the article on the site at ``site_url``."""
        return site_url.rstrip("/") + self.path


def _clean_path(url: str) -> str:
    path = urlsplit(url).path or "/"
    # Decode once so that %2F tricks cannot smuggle a slash past the patterns; a decoded
    # path that still holds a dot segment is not an article path.
    path = unquote(path)
    if "/../" in path or "/./" in path or path.endswith("/.."):
        return ""
    return re.sub(r"/{2,}", "/", path)


# A page's URL is parsed when it is read and again when it is extracted, a listing's links when
# the spider considers them and again when it asks for them: the latest are remembered.
@lru_cache(maxsize=1024)
def parse_article_url(url: str) -> ArticleRef | None:
    """Return the article a URL points to, or None when it is not an article URL of either CMS."""
    path = _clean_path(url)
    match = OLD_ARTICLE_PATH.match(path)
    if match:
        slug = match["slug"].lower()
        month = match["month"]
        return ArticleRef(
            id=match["id"],
            cms="old",
            month=month,
            section=match["channel"],
            path=f"/channel/{match['channel']}/{month}/{slug}-{match['id']}/",
        )
    match = NEW_ARTICLE_PATH.match(path)
    if match and not path.lower().startswith("/channel/"):
        article_id = match["id"].lower()
        month = match["month"]
        return ArticleRef(
            id=article_id,
            cms="new",
            month=month,
            section=match["category"],
            path=f"/{match['category']}/{month}/{match['slug'].lower()}-{article_id}/",
        )
    return None


def host_of(url: str) -> str:
    """Return the lower-cased host of a URL without a leading ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def site_hosts(site_url: str, aliases: list[str] | tuple[str, ...] = ()) -> frozenset[str]:
    """Return the site's host names: SITE_URL's host and SITE_HOST_ALIASES, without ``www.``."""
    return frozenset({host_of(site_url)} | {a.strip().lower().removeprefix("www.")
                                             for a in aliases if a.strip()})


def canonical_site_url(url: str, site_url: str, hosts: frozenset[str] | set[str]) -> str:
    """Return ``url`` on SITE_URL's scheme and host when it is on any of the site's aliases.

    So a record does not depend on which alias served the page (image URLs included); a URL on
    another host is returned as it is."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or host_of(url) not in hosts:
        return url
    base = urlsplit(site_url)
    return parts._replace(scheme=base.scheme, netloc=base.netloc).geturl()


def is_site_url(url: str, hosts: frozenset[str] | set[str]) -> bool:
    """True when ``url`` is http(s) on one of the site's host aliases."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and host_of(url) in hosts
