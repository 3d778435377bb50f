"""The section's name as the page prints it, and the page's links to section listings.

``section_name`` tries, in order:
1. ``site``: the matched template's breadcrumb selectors (crawler/extract/profile.py);
2. ``metadata``: ``articleSection`` of the JSON-LD article or ``article:section``, then the last
   item of a JSON-LD ``BreadcrumbList``;
3. ``heuristic``: an element the markup calls a breadcrumb (class or id ``breadcrumb``, an ARIA
   label, microdata ``BreadcrumbList``), else a link of the page's navigation to the article's
   own section listing, as the menu names it.
A breadcrumb's name is its last link that is neither the home page nor an article. The name of
a section printed only by its listing's title or by other pages' links is the crawl's to add
from what it has learnt (pipelines/sections.py).

``section_links`` are the page's navigation links to section listings with their names: what the
crawl learns the mapping of old channel ids to new slugs from (crawler/normalise/sections.py).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin

from lxml import etree

from crawler.extract.html import element_text, is_chrome
from crawler.extract.profile import TemplateMatch
from crawler.normalise.sections import name_key
from crawler.site.sections import listing_section
from crawler.site.urls import ArticleRef, absolute_url, host_of, is_site_url, parse_article_url

SITE, METADATA, HEURISTIC = "site", "metadata", "heuristic"
# A section's name is short; a longer link text is a headline or a sentence.
MAX_NAME_CHARS = 60
HOME_NAMES = frozenset(name_key(n) for n in ("Trang chủ", "Trang nhất", "Home", "Homepage"))
# Tags a navigation link sits in, up to this many levels above it (titles.py does the same).
_NAV_TAGS = frozenset({"nav", "header", "footer", "ul", "ol"})
NAV_DEPTH = 4
# Found from the attributes, the union in document order: a test of four attributes on every
# element cost three times as much.
_BREADCRUMBS = etree.XPath(
    "(//@class | //@id | //@aria-label)"
    "[contains(translate(., 'BREADCUM', 'breadcum'), 'breadcrumb')]/.."
    " | //@itemtype[contains(., 'BreadcrumbList')]/..")


def section_name(root: etree._Element, url: str, ref: ArticleRef, *,
                 match: TemplateMatch | None, meta_section: str | None,
                 ld_breadcrumb: tuple[str, ...] = (),
                 links: tuple[tuple[str, str], ...] | None = None) -> tuple[str | None, str | None]:
    """Return (the section's name as the page prints it, the layer that gave it), or
    (None, None). ``ld_breadcrumb``: the names of the page's JSON-LD BreadcrumbList
    (``Metadata.breadcrumb``); ``links``: its ``section_links``, when already known."""
    if match is not None and match.template.section:
        found = _crumb(match.element(root, "section"), url)
        if found:
            return found, SITE
    crumbs = [name for name in ld_breadcrumb if _is_name(name)]
    for name in (meta_section, crumbs[-1] if crumbs else None):
        if name and name.strip() and len(name.strip()) <= MAX_NAME_CHARS:
            return name.strip(), METADATA
    for element in _BREADCRUMBS(root):
        found = _crumb(element, url)
        if found:
            return found, HEURISTIC
    own = ref.section.lower()
    for code, name in links if links is not None else section_links(root, url):
        if code == own:
            return name, HEURISTIC
    return None, None


def _crumb(element: etree._Element | None, url: str) -> str | None:
    """Return the name a breadcrumb ends with: its last link to neither the home page nor an
    article (the element itself when it is that link)."""
    if element is None:
        return None
    links = [element] if element.tag == "a" else list(element.iter("a"))
    for link in reversed(links):
        href = (link.get("href") or "").strip()
        text = element_text(link)
        if not _is_name(text):
            continue
        target = absolute_url(url, href) if href else ""
        if target and (parse_article_url(target) or target.rstrip("/").count("/") < 3):
            continue  # an article (the page itself), or the site's root
        return text
    return None


# An href that cannot lead to a section listing: with a query or fragment, a script or mail
# address, or an article's (whose path holds a /YYYYMM/ segment). Tested before anything else:
# a page has a hundred links, its menu a dozen. One regex of the three alternatives would try
# each at every position; apart, the month's pattern is searched for from its "/" only.
_SCRIPT_HREF = re.compile(r"\s*(?:javascript|mailto):")
_MONTH_DIR = re.compile(r"/\d{6}/")


def _not_listing_href(href: str) -> bool:
    return "?" in href or "#" in href or _SCRIPT_HREF.match(href) is not None \
        or _MONTH_DIR.search(href) is not None


def section_links(root: etree._Element, url: str,
                  hosts: frozenset[str] | None = None) -> tuple[tuple[str, str], ...]:
    """Return (section code, name) of each navigation link to a section listing on the site
    (``hosts``, default the page's host), once each, in page order: a link inside a menu,
    header, list or breadcrumb, printing a short name. A link to a page of a listing
    (``?trang=2``) prints a number or "next", not a name: it is left out."""
    hosts = hosts or frozenset({host_of(url)})
    found: dict[tuple[str, str], None] = {}
    for link in root.iter("a"):
        href = link.get("href")
        if not href or _not_listing_href(href):
            continue
        href = href.strip()
        if not (href.startswith("/") and not href.startswith("//")):
            href = urljoin(url, href)
            if not is_site_url(href, hosts):
                continue
        code = listing_section(href)
        if not code:
            continue
        # A link of nothing but its text (a menu's) is read without itertext's generator.
        text = " ".join((link.text or "").split() if not len(link) else
                        "".join(link.itertext()).split())
        if _is_name(text) and _in_navigation(link):
            found[(code, text)] = None
    return tuple(found)


def _is_name(text: str | None) -> bool:
    """True when a link's text can be a section's name: short, with a letter, not "home"."""
    return bool(text) and len(text) <= MAX_NAME_CHARS and _is_short_name(text)


@lru_cache(maxsize=4096)
def _is_short_name(text: str) -> bool:
    # Every page prints the same menu: its names' answers are remembered (texts of at most
    # MAX_NAME_CHARS only).
    return any(ch.isalpha() for ch in text) and name_key(text) not in HOME_NAMES


def _in_navigation(link: etree._Element) -> bool:
    for depth, ancestor in enumerate(link.iterancestors()):
        if depth >= NAV_DEPTH:
            return False
        if ancestor.tag in _NAV_TAGS or is_chrome(ancestor):
            return True
    return False


def listing_title(root: etree._Element) -> str | None:
    """Return a listing page's title as printed: its first ``h1``, when short enough to be a
    section's name."""
    for heading in root.iter("h1"):
        text = element_text(heading)
        if text and len(text) <= MAX_NAME_CHARS:
            return text
        break
    return None
