"""Redirects of the site's pages stay on the site: an origin is scheme, host and port (RFC 6454).

Scrapy's RedirectMiddleware and MetaRefreshMiddleware follow a redirect to any host that
``allowed_domains`` names, whatever its port, so a listing (or a sitemap) that 301s to another
port of the site's host had its foreign pages archived under the site's own URL. These subclasses
refuse a redirect from one of the site's origins (crawler/site/urls.py ``is_site_url``) to any
other: the request fails with ``OffsiteRedirect``, which names the whole chain, and the spider
makes it a reject (spiders/baonamdinh.py ``listing_failed``). Chains on the site are followed up
to Scrapy's ``REDIRECT_MAX_TIMES`` (20, as browsers and wget allow). robots.txt keeps Scrapy's
behaviour: RFC 9309 lets it redirect across authorities. Article requests follow their redirects
themselves, by the same rule (the spider's ``_follow_redirect``).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request

from crawler.site.urls import SiteHosts, is_site_url, site_hosts

logger = logging.getLogger(__name__)


class OffsiteRedirect(IgnoreRequest):
    """A redirect from the site to an origin that is not one of the site's: not followed."""


def redirect_chain(request: Request, target: str) -> str:
    """Return ``first -> ... -> target`` for a request and the URL it is redirected to."""
    return " -> ".join([*request.meta.get("redirect_urls", []), request.url, target])


class _StaysOnSite:
    """What both redirect middlewares add: the site's origins, and the refusal."""

    crawler: Any
    hosts: SiteHosts

    def _site_hosts(self) -> SiteHosts:
        if getattr(self, "hosts", None) is None:
            settings = self.crawler.settings
            self.hosts = site_hosts(settings.get("SITE_URL"), settings.getlist("SITE_HOST_ALIASES"))
        return self.hosts

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        hosts = self._site_hosts()
        if is_site_url(request.url, hosts) and not is_site_url(redirected.url, hosts) \
                and urlsplit(request.url).path != "/robots.txt":
            chain = redirect_chain(request, redirected.url)
            self.crawler.stats.inc_value("archive/redirects/offsite")
            logger.warning("%s: redirected off the site (another origin), not followed: %s",
                           request.meta.get("redirect_urls", [request.url])[0], chain)
            raise OffsiteRedirect(f"redirected off the site: {chain}")
        return super()._redirect(redirected, request, reason)  # type: ignore[misc]


class SiteRedirectMiddleware(_StaysOnSite, RedirectMiddleware):
    """Scrapy's RedirectMiddleware, refusing a redirect from the site to another origin."""


class SiteMetaRefreshMiddleware(_StaysOnSite, MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware, refusing a refresh from the site to another origin."""
