"""Every URL variant of an article maps to one id and one canonical URL; other URLs map to none."""

from __future__ import annotations

import pytest

from crawler.site.urls import canonical_site_url, is_site_url, parse_article_url, site_hosts

SITE = "https://baonamdinh.vn"
OLD_CANONICAL = "https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-trien-khai-2548123/"


@pytest.mark.parametrize("url", [
    "https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-trien-khai-2548123/",
    "https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-trien-khai-2548123",
    "http://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-trien-khai-2548123/",
    "https://baonamdinh.com.vn/channel/5083/202201/dang-uy-khoi-trien-khai-2548123/index.htm",
    "https://www.baonamdinh.vn/channel/5083/202201/Dang-Uy-Khoi-Trien-Khai-2548123/",
    "https://baonamdinh.vn//channel/5083/202201/dang-uy-khoi-trien-khai-2548123/?utm=x#top",
])
def test_old_cms_variants_are_one_article(url):
    ref = parse_article_url(url)
    assert ref is not None
    assert (ref.id, ref.cms, ref.month, ref.section) == ("2548123", "old", "202201", "5083")
    assert ref.canonical_url(SITE) == OLD_CANONICAL


@pytest.mark.parametrize("url, article_id, section", [
    ("https://baonamdinh.vn/van-hoa-nghe-thuat/202503/le-hoi-den-tran-8fb6d67/",
     "8fb6d67", "van-hoa-nghe-thuat"),
    ("http://baonamdinh.vn/van-hoa-nghe-thuat/202503/Le-Hoi-Den-Tran-8FB6D67",
     "8fb6d67", "van-hoa-nghe-thuat"),
    ("https://baonamdinh.vn/multimedia/Emagazine/202402/xuan-que-huong-afb1164/",
     "afb1164", "multimedia/Emagazine"),
])
def test_new_cms_variants(url, article_id, section):
    ref = parse_article_url(url)
    assert ref is not None and ref.cms == "new"
    assert (ref.id, ref.section) == (article_id, section)
    assert ref.canonical_url(SITE).endswith(f"-{article_id}/")


@pytest.mark.parametrize("url", [
    "https://baonamdinh.vn/",
    "https://baonamdinh.vn/channel/5083/",
    "https://baonamdinh.vn/channel/5083/?trang=2",
    "https://baonamdinh.vn/van-hoa-nghe-thuat/",
    "https://baonamdinh.vn/file/e7837c02816d130b0181a995d7ad7e96/dataimages/202201/original/images1_1.jpg",
    "https://baonamdinh.vn/channel/5083/202201/../../etc/passwd-2548123/",
    "https://baonamdinh.vn/channel/5083/202201/x%2F..%2F..-2548123/",
    "https://baonamdinh.vn/channel/5083/202201/a/b-2548123/",
])
def test_not_article_urls(url):
    assert parse_article_url(url) is None


def test_site_hosts():
    hosts = frozenset({"baonamdinh.vn", "baonamdinh.com.vn"})
    assert is_site_url("http://www.baonamdinh.com.vn/x", hosts)
    assert not is_site_url("https://baoninhbinh.org.vn/x", hosts)
    assert not is_site_url("ftp://baonamdinh.vn/x", hosts)


HOSTS = site_hosts(SITE, ["baonamdinh.vn", "www.baonamdinh.com.vn"])


@pytest.mark.parametrize("url, canonical", [
    ("http://baonamdinh.com.vn/file/x/a.jpg", "https://baonamdinh.vn/file/x/a.jpg"),
    ("https://www.baonamdinh.com.vn/file/x/a.jpg?v=2", "https://baonamdinh.vn/file/x/a.jpg?v=2"),
    ("https://baonamdinh.vn/file/x/a.jpg", "https://baonamdinh.vn/file/x/a.jpg"),
    ("https://cdn.example.org/file/x/a.jpg", "https://cdn.example.org/file/x/a.jpg"),
    ("data:image/png;base64,AAAA", "data:image/png;base64,AAAA"),
])
def test_urls_on_any_alias_are_canonical(url, canonical):
    assert canonical_site_url(url, SITE, HOSTS) == canonical


def test_site_hosts_drop_www_and_keep_site_urls_host():
    assert HOSTS == {"baonamdinh.vn", "baonamdinh.com.vn"}
    assert site_hosts("http://127.0.0.1:8088", []) == {"127.0.0.1"}
