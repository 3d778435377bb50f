"""Every URL variant of an article maps to one id and one canonical URL; other URLs map to none."""

from __future__ import annotations

import pickle
import random
from urllib.parse import urljoin, urlsplit

import pytest

from crawler.site.urls import (
    absolute_url,
    ascii_digits,
    canonical_site_url,
    is_site_url,
    parse_article_url,
    site_hosts,
)

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


# --- ids are ASCII digits (issue 21) ----------------------------------------------------------
ARABIC_INDIC = "\u0662\u0665\u0664\u0668\u0661\u0662\u0663"  # 2548123 in Arabic-Indic digits
FULLWIDTH = "\uff12\uff15\uff14\uff18\uff11\uff12\uff13"  # 2548123 in fullwidth digits


@pytest.mark.parametrize("url", [
    f"https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-{ARABIC_INDIC}/",
    f"https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-{FULLWIDTH}/",
    "https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-254812\u00b3/",  # superscript 3
    "https://baonamdinh.vn/channel/\uff15\uff10\uff18\uff13/202201/dang-uy-khoi-2548123/",
    "https://baonamdinh.vn/channel/5083/\u0662\u0660\u0662\u0662\u0660\u0661/dang-2548123/",
    "https://baonamdinh.vn/van-hoa-nghe-thuat/\uff12\uff10\uff12\uff15\uff10\uff13/le-8fb6d67/",
    # Under IGNORECASE [a-z] takes the Kelvin sign and the long s: not a category either.
    "https://baonamdinh.vn/\u017fport/202503/le-hoi-8fb6d67/",
    "https://baonamdinh.vn/van-hoa-\u212aich/202503/le-hoi-8fb6d67/",
    "https://baonamdinh.vn/channel/5083/202201/dang-uy-khoi-%D9%A2%D9%A5%D9%A4%D9%A8%D9%A1%D9%A2%D9%A3/",
])
def test_ids_months_and_sections_are_ascii(url):
    assert parse_article_url(url) is None


@pytest.mark.parametrize("text, digits", [
    ("2548123", True), ("0", True), ("", False), (ARABIC_INDIC, False), (FULLWIDTH, False),
    ("\u00b3", False), ("12a", False), (" 12", False),
])
def test_ascii_digits(text, digits):
    assert ascii_digits(text) is digits


# --- the site is an origin: scheme, host and port (RFC 6454) ------------------------------------
REPLICA = site_hosts("http://127.0.0.1:8088", ["localhost"])


@pytest.mark.parametrize("url, on_site", [
    ("http://127.0.0.1:8088/channel/5083/", True),
    ("http://localhost:8088/channel/5083/", True),  # an alias at SITE_URL's port
    ("http://127.0.0.1/channel/5083/", True),  # http's own port
    ("https://localhost/channel/5083/", True),  # https's own port
    ("http://127.0.0.1:8089/channel/5083/", False),  # another port: another site
    ("https://127.0.0.1:8088/channel/5083/", False),  # SITE_URL's port is http's here
    ("http://127.0.0.1:99999/x", False),  # no port at all
    ("http://example.org:8088/x", False),
])
def test_the_site_is_its_origins(url, on_site):
    assert is_site_url(url, REPLICA) is on_site


def test_a_plain_set_of_hosts_is_at_the_default_ports():
    hosts = frozenset({"baonamdinh.vn"})
    assert is_site_url("https://baonamdinh.vn:443/x", hosts)
    assert is_site_url("http://baonamdinh.vn:80/x", hosts)
    assert not is_site_url("https://baonamdinh.vn:8443/x", hosts)


def test_the_origins_go_with_the_hosts_to_worker_processes():
    copy = pickle.loads(pickle.dumps(REPLICA))
    assert copy == REPLICA and copy.origins == REPLICA.origins
    assert is_site_url("http://localhost:8088/x", copy)


def test_an_image_on_another_port_of_the_sites_host_is_not_made_the_sites():
    site = "http://127.0.0.1:8088"
    assert canonical_site_url("http://localhost:8088/file/a.jpg", site, REPLICA) == \
        "http://127.0.0.1:8088/file/a.jpg"
    assert canonical_site_url("http://127.0.0.1:9/file/a.jpg", site, REPLICA) == \
        "http://127.0.0.1:9/file/a.jpg"


def test_absolute_url_is_urljoin():
    # The fast path for a plain path from the site's root must give what urljoin gives, for
    # paths it takes and paths it leaves to urljoin (dot segments, queries, fragments, ";",
    # white space, "//", characters outside RFC 3986), on bases of every shape.
    rng = random.Random(5)
    pieces = list("/ab.%:@!$&'()*+,=;?#~_-") + ["..", "/.", "//", "A", "9", " ", "\t", "é", "\n"]
    bases = ["http://127.0.0.1:34759/channel/5087/201101/x-2082686/",
             "https://baonamdinh.vn/a/b?c=d#e", "HTTP://Example.COM:80/x", "http://u:p@h.vn/",
             "https://h.vn", "http://h.vn/a/b/c/d.html", "ftp://h.vn/a/", "//h.vn/a", "/a/b"]
    for _ in range(60_000):
        ref = rng.choice(["/", "", "x", "//"]) + "".join(
            rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        base = rng.choice(bases)
        assert absolute_url(base, ref) == urljoin(base, ref), (base, ref)


def _canonical_the_full_way(url, site_url, hosts):
    from crawler.site.urls import _same_origin

    parts = urlsplit(url)
    if not (is_site_url(url, hosts) or _same_origin(parts, urlsplit(site_url))):
        return url
    base = urlsplit(site_url)
    return parts._replace(scheme=base.scheme, netloc=base.netloc).geturl()


def test_canonical_site_url_shortcut_agrees_with_the_full_way():
    # A URL already on SITE_URL's origin as a plain path is returned as it is; every other URL
    # (queries, fragments, white space, other ports and aliases, SITE_URLs not an origin) goes
    # the full way. Both must give the same.
    rng = random.Random(7)
    sites = ["https://baonamdinh.vn", "http://127.0.0.1:8088", "https://baonamdinh.vn/",
             "HTTPS://BaoNamDinh.vn", "http://127.0.0.1:80", "ftp://baonamdinh.vn"]
    hosts = [frozenset({"baonamdinh.vn", "baonamdinh.com.vn"}), REPLICA]
    pieces = list("/ab.%:@!$&'()*+,=;?#~_-") + ["..", "//", "A", "9", " ", "\t", "é", "\n", "\x01"]
    for _ in range(40_000):
        site = rng.choice(sites)
        head = rng.choice([site, site + "8", "https://baonamdinh.com.vn", "http://localhost:8088",
                           site.lower(), site.rstrip("/")])
        url = head + rng.choice(["/", "", "x", "//", "?"]) + "".join(
            rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        aliases = rng.choice(hosts)
        assert canonical_site_url(url, site, aliases) == \
            _canonical_the_full_way(url, site, aliases), (url, site)
