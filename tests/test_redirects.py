"""Redirects of the site's pages stay on its origins (crawler/run/redirects.py), in Scrapy's own
redirect middlewares: a listing or a sitemap that 301s to another port of the site's host, or to
another host, is refused with the whole chain named; chains on the site are followed."""

from __future__ import annotations

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.run.redirects import OffsiteRedirect, SiteMetaRefreshMiddleware, SiteRedirectMiddleware

SETTINGS = {"SITE_URL": "http://127.0.0.1:8088", "SITE_HOST_ALIASES": ["localhost"]}


def redirect(url: str, location: str, meta: dict | None = None) -> tuple[Request, Response]:
    request = Request(url, meta=meta or {})
    return request, Response(url, status=301, headers={"Location": location}, request=request)


def middleware():
    crawler = get_crawler(settings_dict=SETTINGS)
    return build_from_crawler(SiteRedirectMiddleware, crawler), crawler


@pytest.mark.parametrize("url, location", [
    ("http://127.0.0.1:8088/channel/5084/", "http://localhost:8088/channel/5084/"),  # alias
    ("http://127.0.0.1:8088/channel/5084/", "/channel/5084/?trang=1"),
    ("http://127.0.0.1:8088/channel/5084/", "https://127.0.0.1/channel/5084/"),  # https's port
    # Not the site's request: a web archive's redirects are its own business.
    ("http://127.0.0.1:9000/web/2019/http://baonamdinh.vn/", "http://127.0.0.1:9001/x"),
    # robots.txt may redirect across authorities (RFC 9309).
    ("http://127.0.0.1:8088/robots.txt", "http://127.0.0.1:8089/robots.txt"),
])
def test_a_redirect_on_the_site_is_followed(url, location):
    mw, _ = middleware()
    request, response = redirect(url, location)
    followed = mw.process_response(request, response)
    assert isinstance(followed, Request) and followed.meta["redirect_urls"] == [url]


@pytest.mark.parametrize("location", [
    "http://127.0.0.1:8089/channel/5084/",  # the same host at another port: another origin
    "https://127.0.0.1:8088/channel/5084/",  # another scheme at SITE_URL's port
    "http://elsewhere.example/channel/5084/",
])
def test_a_redirect_off_the_sites_origins_is_refused_naming_the_chain(location):
    mw, crawler = middleware()
    request, response = redirect("http://localhost:8088/channel/5084/", location,
                                 meta={"redirect_urls": ["http://127.0.0.1:8088/channel/5084/"]})
    with pytest.raises(OffsiteRedirect) as refused:
        mw.process_response(request, response)
    assert isinstance(refused.value, IgnoreRequest)  # the request's errback gets it
    assert str(refused.value) == ("redirected off the site: http://127.0.0.1:8088/channel/5084/"
                                  f" -> http://localhost:8088/channel/5084/ -> {location}")
    assert crawler.stats.get_value("archive/redirects/offsite") == 1


def test_a_chain_on_the_site_is_followed_to_redirect_max_times():
    mw, _ = middleware()
    request = Request("http://127.0.0.1:8088/r/0")
    for hop in range(1, 21):
        request, response = redirect(request.url, f"/r/{hop}", meta=dict(request.meta))
        request = mw.process_response(request, response)
        assert isinstance(request, Request)
    with pytest.raises(IgnoreRequest, match="max redirections"):
        mw.process_response(*redirect(request.url, "/r/21", meta=dict(request.meta)))


def test_a_meta_refresh_off_the_site_is_refused():
    crawler = get_crawler(settings_dict=SETTINGS)
    mw = build_from_crawler(SiteMetaRefreshMiddleware, crawler)
    url = "http://127.0.0.1:8088/channel/5084/"
    body = b'<html><head><meta http-equiv="refresh" content="0;url=http://127.0.0.1:8089/x">'
    request = Request(url)
    with pytest.raises(OffsiteRedirect):
        mw.process_response(request, HtmlResponse(url, body=body, request=request))
