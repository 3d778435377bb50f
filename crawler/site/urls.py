"""Article URL parsing: every URL variant of an article maps to one id and one canonical URL.

Ids, months and channels are ASCII digits: ``\\d`` would match Arabic-Indic (``٢٥٤٨``) and
fullwidth (``２５４８``) digits too, and such a URL would become a second id of an article. The
site is an origin (RFC 6454: scheme, host and port): its host aliases, at SITE_URL's scheme and
port and at http's and https's own ports; the same host at another port is another site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from crawler.items import article_key

# Old CMS (2010-2022), shared with sister papers: /channel/5083/202201/some-slug-2548123/
# answered with or without the trailing slash, with /index.htm, and with Title-Cased slugs.
OLD_ARTICLE_PATH = re.compile(
    r"^/channel/(?P<channel>[0-9]{4})/(?P<month>[0-9]{6})/(?P<slug>[^/\\\s]+?)-(?P<id>[0-9]{5,9})"
    r"(?:/(?:index\.html?)?)?$",
    re.IGNORECASE,
)
# A slug never holds a backslash or white space (decoded): "..%5C..%5C" and "%0A" are not slugs.
# New CMS (2023 on): /van-hoa-nghe-thuat/202503/some-slug-8fb6d67/ and
# /multimedia/Emagazine/202402/some-slug-afb1164/ (one or two category segments). Categories are
# ASCII: under IGNORECASE, [a-z] would also take the Kelvin sign and the long s.
NEW_ARTICLE_PATH = re.compile(
    r"^/(?P<category>(?-i:[a-zA-Z0-9-])+(?:/(?-i:[a-zA-Z0-9-])+)?)/(?P<month>[0-9]{6})/"
    r"(?P<slug>[^/\\\s]+?)-(?P<id>[0-9a-f]{7})(?:/(?:index\.html?)?)?$",
    re.IGNORECASE,
)
CHANNEL_PATH = re.compile(r"^/channel/(?P<channel>[0-9]{4})(?:/.*)?$")
# The port each scheme has when a URL names none.
DEFAULT_PORTS = {"http": 80, "https": 443}


def ascii_digits(text: str) -> bool:
    """True when ``text`` is one or more ASCII digits (``str.isdigit`` also takes ``٢``, ``２``
    and ``²``, which ``int`` reads, or fails on)."""
    return text.isascii() and text.isdigit()


@dataclass(frozen=True)
class ArticleRef:
    """What an article URL tells before the page is fetched."""

    id: str
    cms: str  # "old" or "new"
    month: str  # YYYYMM from the URL: the month of publication
    section: str  # channel id (old CMS) or category slug (new CMS)
    path: str  # canonical path, always with a trailing slash

    @property
    def key(self) -> str:
        """The archive's key of the article: ``old:<id>`` or ``new:<id>`` (ids of the two
        generations can be the same string)."""
        return article_key(self.cms, self.id)

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


# A path from the site's root with nothing urljoin would change: no dot segment, query, fragment,
# parameters, white space or character outside RFC 3986's.
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,=:@%/-]*")


@lru_cache(maxsize=1024)
def split_url(url: str) -> SplitResult:
    """``urlsplit(url)``, remembered: a page's own URL and its photos' are split several times
    over (host, site, origin, canonical form, mirror). The result is an immutable tuple."""
    return urlsplit(url)


@lru_cache(maxsize=64)
def _origin(url: str) -> str:
    parts = split_url(url)
    return f"{parts.scheme}://{parts.netloc}"


def absolute_url(base: str, ref: str) -> str:
    """Return ``urljoin(base, ref)``; a plain path from the root of an http(s) page's site (a
    photo's ``/file/...``) is put after the page's origin without urljoin's parsing, a tenth of
    its cost (tests/test_urls.py checks the two agree)."""
    if base.startswith(("http://", "https://")) and not ref.startswith("//") and \
            "/." not in ref and _PLAIN_PATH.fullmatch(ref):
        return _origin(base) + ref
    return urljoin(base, ref)


@lru_cache(maxsize=1024)
def host_of(url: str) -> str:
    """Return the lower-cased host of a URL without a leading ``www.``."""
    host = (split_url(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


class SiteHosts(frozenset[str]):
    """The site's host names (without ``www.``), and the (scheme, port) pairs at which each of
    them is the site: a set of host names that also knows the site's origins (RFC 6454).

    A plain set of host names stands for those hosts at http's and https's own ports."""

    origins: frozenset[tuple[str, int]]

    def __new__(cls, hosts: frozenset[str] | set[str] | tuple[str, ...] = (),
                origins: frozenset[tuple[str, int]] | None = None) -> SiteHosts:
        made = super().__new__(cls, hosts)
        made.origins = frozenset(DEFAULT_PORTS.items()) if origins is None else frozenset(origins)
        return made

    def __reduce__(self) -> tuple:
        # Pages carry the site's hosts to worker processes: the origins go with them.
        return (SiteHosts, (frozenset(self), self.origins))


def site_hosts(site_url: str, aliases: list[str] | tuple[str, ...] = ()) -> SiteHosts:
    """Return the site's host names (SITE_URL's host and SITE_HOST_ALIASES, without ``www.``)
    with its origins: each of them at SITE_URL's scheme and port, and at 80 (http) and 443."""
    base = urlsplit(site_url)
    origins = set(DEFAULT_PORTS.items())
    scheme = (base.scheme or "").lower()
    if scheme in DEFAULT_PORTS:
        origins.add((scheme, _port(base, scheme)))
    return SiteHosts({host_of(site_url)} | {a.strip().lower().removeprefix("www.")
                                           for a in aliases if a.strip()}, frozenset(origins))


def _port(parts: SplitResult, scheme: str) -> int | None:
    try:
        return parts.port or DEFAULT_PORTS[scheme]
    except ValueError:  # a port that is no number, or out of range
        return None


def is_site_url(url: str, hosts: frozenset[str] | set[str]) -> bool:
    """True when ``url`` is on the site: http(s), on one of its host aliases, at one of its
    origins (a plain set of hosts: at http's or https's own port)."""
    parts = split_url(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or host_of(url) not in hosts:
        return False
    origins = getattr(hosts, "origins", None) or DEFAULT_PORTS.items()
    return (scheme, _port(parts, scheme)) in origins


def canonical_site_url(url: str, site_url: str, hosts: frozenset[str] | set[str]) -> str:
    """Return ``url`` on SITE_URL's scheme and host when it is on any of the site's aliases.

    So a record does not depend on which alias served the page (image URLs included); a URL on
    another host, or another origin of the same host, is returned as it is."""
    # Already on SITE_URL's origin, as a plain path (a photo of the page's own site): as it is,
    # with no look at its parts (tests/test_urls.py checks this against the full way).
    rest = url[len(site_url):] if url.startswith(site_url) else ""
    if rest.startswith("/") and _PLAIN_PATH.fullmatch(rest) and _origin(site_url) == site_url:
        return url
    parts = split_url(url)
    if not (is_site_url(url, hosts) or _same_origin(parts, split_url(site_url))):
        return url
    base = split_url(site_url)
    return parts._replace(scheme=base.scheme, netloc=base.netloc).geturl()


def _same_origin(parts: SplitResult, base: SplitResult) -> bool:
    scheme = parts.scheme.lower()
    return scheme in DEFAULT_PORTS and scheme == base.scheme.lower() \
        and (parts.hostname or "") == (base.hostname or "") and \
        _port(parts, scheme) == _port(base, scheme)
