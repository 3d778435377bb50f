"""Sections across both CMS generations (issue 22, point 8): the name as printed, one key.

Layers of ``section_name`` (site breadcrumb, metadata, heuristic breadcrumb or menu link), the
page's links to section listings, the pairing of old channels with new slugs by the names the
site prints, what the archive's state keeps of it, the section pipeline, and the analysts' side
(export and report key old records by what the archive knows now).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawler.analysis.readonly import open_state
from crawler.analysis.sections import ArchiveSections, section_table
from crawler.extract.article import extract_article
from crawler.extract.html import parse_html
from crawler.extract.listings import parse_listing
from crawler.extract.sections import section_links
from crawler.items import ArticleItem
from crawler.normalise.sections import pair_channels, section_key, slug_of
from crawler.store.archive import Archive, content_hash
from crawler.store.sections import LINK, PAGE, TITLE, SectionBook
from crawler.store.state import CrawlState
from crawler.store.statedb import STATE_NAME, connect
from pipelines.sections import SectionPipeline

FETCHED = "2026-12-07T10:00:00+07:00"
OLD_URL = "https://baonamdinh.vn/channel/5093/202101/toa-an-xet-xu-2540001/"
NEW_URL = "https://baonamdinh.vn/phap-luat/202401/toa-an-xet-xu-1a2b3c4/"
BODY = "".join(f"<p>Đoạn {i}: phiên tòa xét xử vụ án kinh tế thu hút sự quan tâm của dư luận "
               "trong tỉnh, với nhiều bị cáo và nhân chứng được triệu tập.</p>" for i in range(4))
MENU = ('<ul class="menu"><li><a href="/">Trang chủ</a></li>'
        '<li><a href="/channel/5083/">Thời sự</a></li>'
        '<li><a href="/channel/5093/">Pháp luật</a></li></ul>')


def page(head: str = "", top: str = "", chrome: str = MENU) -> str:
    return (f"<html><head><title>Tòa án xét xử vụ án - Báo Nam Định</title>{head}</head><body>"
            f"<div class='header'>{chrome}</div><div class='main'>{top}"
            f"<h1>Tòa án xét xử vụ án kinh tế lớn</h1><div class='story'>{BODY}</div></div>"
            "</body></html>")


def extracted(html: str, url: str = OLD_URL) -> ArticleItem:
    return extract_article(html, url, fetched_at=FETCHED)


# --- the name as printed, layer by layer ------------------------------------------------------

OLD_CMS = ('<div class="col-content"><div class="breadcrumb"><a href="/">Trang chủ</a> » '
           '<a href="/channel/5093/">Pháp luật</a></div><h2 id="title">Tòa án xét xử vụ án kinh tế'
           f' lớn</h2><div class="detail-content">{BODY}</div></div>')
LD_SECTION = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Tòa án",'
              ' "articleSection": "Pháp luật"}</script>')
LD_CRUMBS = ('<script type="application/ld+json">{"@graph": [{"@type": "BreadcrumbList", '
             '"itemListElement": [{"@type": "ListItem", "position": 2, "name": "An ninh"}, '
             '{"@type": "ListItem", "position": 1, "item": {"name": "Trang chủ"}}]}]}</script>')


@pytest.mark.parametrize(("html", "name", "layer"), [
    # the old-CMS template's breadcrumb (the site layer), home left out
    (f"<html><body>{MENU}{OLD_CMS}</body></html>", "Pháp luật", "site"),
    # metadata: the JSON-LD article's section, article:section, a JSON-LD BreadcrumbList's last
    (page(head=LD_SECTION, chrome=""), "Pháp luật", "metadata"),
    (page(head='<meta property="article:section" content="Pháp luật">', chrome=""),
     "Pháp luật", "metadata"),
    (page(head=LD_CRUMBS, chrome=""), "An ninh", "metadata"),
    # heuristic: markup that says breadcrumb (ARIA, class, microdata), its last link that is
    # neither home nor the article itself
    (page(top='<nav aria-label="Breadcrumb"><a href="/">Home</a> / <a href="/channel/5093/">'
              'Pháp luật</a> / <a href="/channel/5093/202101/toa-an-xet-xu-2540001/">Tòa án</a>'
              '</nav>', chrome=""), "Pháp luật", "heuristic"),
    (page(top='<ol class="Breadcrumbs"><li><a href="/">Trang chủ</a></li><li><a href='
              '"/phap-luat/">Pháp luật</a></li><li><a href="/phap-luat/an-ninh/">An ninh</a>'
              '</li></ol>', chrome=""), "An ninh", "heuristic"),
    (page(top='<div itemscope itemtype="https://schema.org/BreadcrumbList"><a href="/">Trang '
              'chủ</a><a href="/channel/5093/">Pháp luật</a></div>', chrome=""),
     "Pháp luật", "heuristic"),
    # heuristic: no breadcrumb, the menu's link to the article's own channel (2019 pages)
    (page(), "Pháp luật", "heuristic"),
    # nothing names it: a menu without the article's channel, a body link to it
    (page(chrome=MENU.replace("5093", "5095"),
          top='<p>Xem thêm tin <a href="/channel/5093/">Pháp luật</a></p>'), None, None),
])
def test_section_name_layers(html, name, layer):
    item = extracted(html)
    assert (item.section_name, item.provenance.get("section_name")) == (name, layer)


def test_a_template_breadcrumb_comes_before_metadata():
    html = f"<html><head>{LD_SECTION.replace('Pháp luật', 'Tin tức')}</head><body>{OLD_CMS}"
    item = extracted(html + "</body></html>")
    assert (item.section_name, item.provenance["section_name"]) == ("Pháp luật", "site")


def test_the_record_keys_its_section_from_what_the_page_prints():
    old = extracted(page())
    assert (old.section, old.section_key, old.provenance["section_key"]) == \
        ("5093", "phap-luat", "derived")
    unnamed = extracted(page(chrome=""))
    assert (unnamed.section_key, unnamed.provenance["section_key"]) == ("5093", "url")
    new = extracted(page(head=LD_SECTION.replace("Pháp luật", "An ninh - Trật tự"), chrome=""),
                    NEW_URL)
    assert (new.section_name, new.section_key, new.provenance["section_key"]) == \
        ("An ninh - Trật tự", "phap-luat", "url")


def test_section_links_are_the_navigations_links_to_listings():
    html = (f"<html><body><div class='header'>{MENU}</div><nav><a href='/phap-luat/'>Pháp luật"
            "</a><a href='https://baonamdinh.com.vn/kinh-te/'>Kinh tế</a>"
            "<a href='https://facebook.com/baonamdinh/'>Facebook</a>"
            "<a href='/channel/5093/?trang=2'>2</a><a href='/phap-luat/?trang=2'>Trang sau</a>"
            "<a href='/file/abc/'>Ảnh</a><a href='/kinh-te/202401/x-1a2b3c4/'>Một bài</a></nav>"
            "<div class='paging'><a href='/channel/5093/'>1</a></div>"
            "<p>Trong bài: <a href='/channel/5084/'>Kinh tế</a></p></body></html>")
    links = section_links(parse_html(html), OLD_URL,
                          frozenset({"baonamdinh.vn", "baonamdinh.com.vn"}))
    assert links == (("5083", "Thời sự"), ("5093", "Pháp luật"), ("phap-luat", "Pháp luật"),
                     ("kinh-te", "Kinh tế"))


def test_the_href_filter_is_the_one_regex_it_replaces():
    import random
    import re

    from crawler.extract.sections import _not_listing_href

    one_regex = re.compile(r"[?#]|^\s*(?:javascript|mailto):|/\d{6}/")
    rng = random.Random(3)
    pieces = ["/", "?", "#", " ", "\t", "javascript:", "mailto:", "JavaScript:", "202401", "2024",
              "١٢٣٤٥٦", "channel", "a", "-", ":", "\u00a0"]
    for _ in range(30_000):
        href = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        assert _not_listing_href(href) == bool(one_regex.search(href)), repr(href)


def test_a_menu_link_with_markup_inside_reads_as_its_text():
    html = ("<html><body><ul class='menu'><li><a href='/channel/5093/'> <b>Pháp</b>\n luật </a>"
            "</li><li><a href='/channel/5084/'><!-- x -->Kinh <i>tế</i></a></li></ul></body></html>")
    assert section_links(parse_html(html), OLD_URL, frozenset({"baonamdinh.vn"})) == \
        (("5093", "Pháp luật"), ("5084", "Kinh tế"))


def test_a_listing_page_gives_its_title_and_its_links():
    html = (f"<html><body><div class='header'>{MENU}</div><h1 class='cate-title'>Pháp luật</h1>"
            "<ul class='items-next'><li><a href='/channel/5093/202101/toa-an-2540001/'>Tòa án"
            "</a></li></ul></body></html>")
    page_ = parse_listing(html, "https://baonamdinh.vn/channel/5093/?trang=3",
                          frozenset({"baonamdinh.vn"}))
    assert (page_.section, page_.title) == ("5093", "Pháp luật")
    assert page_.section_links == (("5083", "Thời sự"), ("5093", "Pháp luật"))
    home = parse_listing(html.replace("<h1", "<h2"), "https://baonamdinh.vn/",
                         frozenset({"baonamdinh.vn"}))
    assert (home.section, home.title) == (None, None)


# --- keys: pure rules -------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "slug"), [
    ("Pháp luật", "phap-luat"), ("Văn hóa - Nghệ thuật", "van-hoa-nghe-thuat"),
    ("Văn hoá - Nghệ thuật", "van-hoa-nghe-thuat"), ("Nông nghiệp - Nông thôn",
                                                     "nong-nghiep-nong-thon"),
    ("ĐỜI SỐNG", "doi-song"), ("eMagazine", "emagazine"), (" Thể  thao ", "the-thao"),
    ("Pha\u0301p luâ\u0323t", "phap-luat"),  # decomposed
])
def test_slug_of_a_name(name, slug):
    assert slug_of(name) == slug


@pytest.mark.parametrize(("names", "categories", "pairs"), [
    # the same name, one tone placement or case aside, makes a pair
    ({"5093": {"Pháp luật": 3}, "phap-luat": {"PHÁP LUẬT": 1}}, (), {"5093": "phap-luat"}),
    ({"5090": {"Văn hoá": 1}, "van-hoa-nghe-thuat": {"Văn hóa": 2}}, (),
     {"5090": "van-hoa-nghe-thuat"}),
    # a slug that is not the slug of the name: the name decides, not the spelling of the slug
    ({"5083": {"Thời sự": 5}, "chinh-tri": {"Thời sự": 2}}, (), {"5083": "chinh-tri"}),
    # no shared name, no pair; channels never pair with each other
    ({"5083": {"Thời sự": 5}, "5084": {"Thời sự": 1}, "kinh-te": {"Kinh tế": 2}}, (), {}),
    # a tag page printing the name loses to a category that holds articles, then to counts
    ({"5093": {"Pháp luật": 1}, "tag/phap-luat": {"Pháp luật": 9}, "phap-luat": {"Pháp luật": 1}},
     ("phap-luat",), {"5093": "phap-luat"}),
    ({"5093": {"Pháp luật": 1}, "b": {"Pháp luật": 1}, "a": {"Pháp luật": 1}}, (), {"5093": "a"}),
    ({"5093": {"Pháp luật": 1}, "b": {"Pháp luật": 3}, "a": {"Pháp luật": 1}}, (), {"5093": "b"}),
])
def test_pair_channels(names, categories, pairs):
    assert pair_channels({c: Counter(n) for c, n in names.items()}, categories) == pairs


@pytest.mark.parametrize(("section", "cms", "name", "channels", "key"), [
    ("the-thao", "new", "Thể thao", {}, ("the-thao", "url")),
    ("multimedia/Emagazine", "new", "eMagazine", {}, ("multimedia/emagazine", "url")),
    ("5083", "old", "Thời sự", {"5083": "chinh-tri"}, ("chinh-tri", "links")),
    ("5083", "old", "Thời sự", {}, ("thoi-su", "derived")),
    ("5083", "old", None, {}, ("5083", "url")),
    ("5083", "old", "!!!", {}, ("5083", "url")),
    (None, None, "Pháp luật", {}, ("phap-luat", "derived")),
    (None, None, None, {}, (None, None)),
])
def test_section_key(section, cms, name, channels, key):
    assert section_key(section, cms, name, channels) == key


# --- what the archive's state keeps -----------------------------------------------------------

def test_the_book_keeps_names_and_counts_in_the_state(tmp_path):
    db = connect(tmp_path / STATE_NAME)
    book = SectionBook(db)
    assert book.note([("5093", "Pháp  luật"), ("5093", "Pháp luật"), ("x", "")], LINK, FETCHED) == 1
    book.note([("phap-luat", "Pháp luật")], PAGE, FETCHED)
    book.note([("5093", "Tin pháp luật")], TITLE, FETCHED)
    assert book.channels() == {"5093": "phap-luat"}
    assert book.name_of("5093") == ("Tin pháp luật", TITLE)
    assert book.name_of("phap-luat") == ("Pháp luật", LINK)
    assert book.name_of("5083") is None
    book.flush()
    rows = db.execute("SELECT code, name, kind, seen, first_seen FROM section_names ORDER BY 1, 3")
    assert rows.fetchall() == [("5093", "Pháp luật", LINK, 2, FETCHED),
                               ("5093", "Tin pháp luật", TITLE, 1, FETCHED),
                               ("phap-luat", "Pháp luật", PAGE, 1, FETCHED)]
    # another connection (the spider's) sees the rows, and notes it adds are seen on reload
    other = SectionBook(connect(tmp_path / STATE_NAME))
    assert other.seen == book.seen and other.categories() == {"phap-luat"}
    other.note([("5084", "Kinh tế"), ("kinh-te", "Kinh tế")], LINK, FETCHED)
    other.flush()
    assert book.reload() and book.channels() == {"5093": "phap-luat", "5084": "kinh-te"}
    assert not book.reload()
    book.note([("5093", "Pháp luật")], LINK)
    book.reload()
    assert book.seen[("5093", "Pháp luật", LINK)] == 3  # 2 written, 1 not yet


def test_a_snapshot_writes_nothing(tmp_path):
    SectionBook(connect(tmp_path / STATE_NAME)).note([("5093", "Pháp luật")], LINK)
    db = open_state(tmp_path)
    book = SectionBook.snapshot(db)
    book.note([("phap-luat", "Pháp luật")], PAGE)
    book.flush()
    assert book.channels() == {"5093": "phap-luat"}
    assert db.execute("SELECT count(*) FROM section_names").fetchone() == (1,)


def test_a_state_from_before_the_table_reads_as_empty(tmp_path):
    sqlite3.connect(tmp_path / STATE_NAME).execute("CREATE TABLE runs (x)").connection.close()
    assert SectionBook.snapshot(open_state(tmp_path)).seen == Counter()


def test_the_spiders_state_notes_home_and_listing_pages(tmp_path):
    with CrawlState(tmp_path) as state:
        state.note_sections((("5093", "Pháp luật"), ("phap-luat", "Pháp luật")), "5093",
                            "Pháp luật", FETCHED)
    book = SectionBook.snapshot(open_state(tmp_path))
    assert book.channels() == {"5093": "phap-luat"}
    assert book.name_of("5093") == ("Pháp luật", TITLE)


# --- the pipeline -----------------------------------------------------------------------------

def pipeline(archive: Path) -> SectionPipeline:
    crawler = get_crawler(settings_dict={"ARCHIVE_DIR": str(archive), "ARCHIVE_ENABLED": True})
    crawler.stats.open_spider()
    return SectionPipeline.from_crawler(crawler)


def old_item(name: str | None = "Thời sự", links=(("5083", "Thời sự"),)) -> ArticleItem:
    key, how = section_key("5083", "old", name)
    return ArticleItem(url=OLD_URL.replace("5093", "5083"), fetched_at=FETCHED, id="2540001",
                       cms="old", section="5083", section_name=name, section_key=key,
                       provenance={"section_key": how} | ({"section_name": "site"} if name else {}),
                       section_links=links)


def test_the_pipeline_keys_old_records_by_what_it_has_learnt(tmp_path, caplog):
    stage = pipeline(tmp_path)
    first = stage.process_item(old_item())
    assert (first.section_key, first.provenance["section_key"]) == ("thoi-su", "derived")
    # a new-CMS page names its category "Thời sự" under the slug chinh-tri
    new = ArticleItem(url=NEW_URL, fetched_at=FETCHED, id="1a2b3c4", cms="new",
                      section="chinh-tri", section_name="Thời sự",
                      section_links=(("chinh-tri", "Thời sự"), ("kinh-te", "Kinh tế")))
    assert stage.process_item(new).section_key == "chinh-tri"
    later = stage.process_item(old_item())
    assert (later.section_key, later.provenance["section_key"]) == ("chinh-tri", "links")
    # a page that prints no name gets the one the site prints elsewhere
    unnamed = stage.process_item(old_item(name=None, links=()))
    assert (unnamed.section_name, unnamed.provenance["section_name"]) == ("Thời sự", "links")
    assert unnamed.section_key == "chinh-tri"
    with caplog.at_level("INFO"):
        stage.close_spider()
    assert "5083=chinh-tri" in caplog.text
    assert SectionBook.snapshot(open_state(tmp_path)).channels() == {"5083": "chinh-tri"}


def test_the_pipeline_learns_from_the_spiders_notes_during_the_run(tmp_path):
    stage = pipeline(tmp_path)
    stage.process_item(old_item())  # opens the book
    with CrawlState(tmp_path) as state:  # the spider reads the home page
        state.note_sections((("5083", "Thời sự"), ("chinh-tri", "Thời sự")), at=FETCHED)
        state.note_sections((), "5083", "Tin thời sự", FETCHED)
    item = stage.process_item(old_item(name=None, links=()))
    assert (item.section_key, item.section_name, item.provenance["section_name"]) == \
        ("chinh-tri", "Tin thời sự", "listing")
    stage.close_spider()


def test_the_pipeline_keys_from_the_page_when_the_state_cannot_be_used(tmp_path, caplog):
    (tmp_path / "archive").write_text("a file where the archive folder should be")
    stage = pipeline(tmp_path / "archive")
    with caplog.at_level("WARNING"):
        item = stage.process_item(old_item())
        again = stage.process_item(old_item())
    assert (item.section_key, again.section_key) == ("thoi-su", "thoi-su")
    assert caplog.text.count("cannot use the archive's state") == 1


# --- the analysts' side -----------------------------------------------------------------------

def record(id_: str, section: str, cms: str, name: str | None, key: str | None,
           how: str | None, **more) -> dict:
    out = {"id": id_, "section": section, "cms": cms, "section_name": name,
           "published_month": "2021-01", "provenance": {"section_key": how} if how else {}}
    if key is not None:
        out["section_key"] = key
    return {**out, **more}


def write_lines(root: Path, lines: list[dict]) -> None:
    (root / "articles").mkdir()
    (root / "articles" / "2021-01.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))


def test_old_records_are_keyed_by_what_the_archive_knows_now(tmp_path):
    SectionBook(connect(tmp_path / STATE_NAME)).note(
        [("5083", "Thời sự"), ("chinh-tri", "Thời sự")], LINK)
    early = record("1", "5083", "old", "Thời sự", "thoi-su", "derived")
    older = {k: v for k, v in record("2", "5083", "old", None, None, None).items()
             if k != "section_name"}  # schema 1.1.0: neither field
    unmapped = record("3", "5090", "old", "Văn hóa", "van-hoa", "derived")
    unnamed = record("5", "5090", "old", None, "5090", "url")  # its page printed no name
    new = record("4", "chinh-tri", "new", "Thời sự", "chinh-tri", "url")
    lines = [early, older, unmapped, unnamed, new]
    write_lines(tmp_path, lines)
    known = ArchiveSections.of(tmp_path)
    assert known.channels == {"5083": "chinh-tri"}
    out = [known.rekeyed(r) for r in lines]
    assert [(r["section_key"], r["provenance"]["section_key"]) for r in out] == [
        ("chinh-tri", "links"), ("chinh-tri", "links"), ("van-hoa", "derived"),
        ("van-hoa", "derived"), ("chinh-tri", "url")]
    assert out[2] is unmapped and out[4] is new and early["section_key"] == "thoi-su"
    assert out[3]["section_name"] is None  # the line keeps what its page printed
    rows = section_table(lines, known)
    assert [(r.key, r.name, sorted(r.channels), sorted(r.slugs), dict(r.articles))
            for r in rows] == [("chinh-tri", "Thời sự", ["5083"], ["chinh-tri"],
                                {"old": 2, "new": 1}),
                               ("van-hoa", "Văn hóa", ["5090"], [], {"old": 2})]


def test_the_names_records_print_pair_channels_without_the_state(tmp_path):
    write_lines(tmp_path, [record("1", "5093", "old", "Pháp luật", "phap-luat", "derived"),
                           record("2", "Phap-Luat", "new", "Pháp luật", "phap-luat", "url")])
    assert ArchiveSections.of(tmp_path).channels == {"5093": "phap-luat"}
    assert not (tmp_path / STATE_NAME).exists()


def test_the_export_writes_the_key_the_archive_knows_now(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from crawler.analysis.export import export

    SectionBook(connect(tmp_path / STATE_NAME)).note(
        [("5083", "Thời sự"), ("chinh-tri", "Thời sự")], LINK)
    line = extracted(page(chrome=MENU.replace("Pháp luật", "Thời sự"),
                          top="").replace("5093", "5083"), OLD_URL.replace("5093", "5083"))
    line.published_date, line.published_month, line.published_precision = \
        "2021-01-05", "2021-01", "day"
    record_ = line.to_record()
    assert (record_["section_key"], record_["provenance"]["section_key"]) == \
        ("thoi-su", "derived")
    write_lines(tmp_path, [record_])
    for fmt in ("parquet", "csv"):
        result = export(tmp_path, fmt, output=tmp_path / f"out.{fmt}")
        if fmt == "parquet":
            row = pq.read_table(result.path).to_pylist()[0]
            assert (row["section_key"], row["section_name"], row["provenance"]["section_key"]) \
                == ("chinh-tri", "Thời sự", "links")
        else:
            assert ",chinh-tri," in result.path.read_text("utf-8")


def test_the_sqlite_export_keys_old_rows_by_what_the_archive_knows_now(tmp_path):
    from crawler.analysis.database import refresh

    SectionBook(connect(tmp_path / STATE_NAME)).note(
        [("5083", "Thời sự"), ("chinh-tri", "Thời sự")], LINK)
    common = {"url": "https://baonamdinh.vn/x/", "title": "T", "body": "B", "authors": [],
              "images": [], "published_date": "2021-01-05", "published_precision": "day",
              "version": 1}
    with Archive(tmp_path, fsync=False) as archive:  # as the archive pipeline writes them
        for line in (record("1", "5083", "old", "Thời sự", "thoi-su", "derived", **common),
                     record("2", "5090", "old", "Văn hóa", "van-hoa", "derived", **common),
                     record("3", "chinh-tri", "new", "Thời sự", "chinh-tri", "url", **common)):
            line["content_hash"] = content_hash(line)
            archive.store_article(line)
    result = refresh(tmp_path, tmp_path / "a.sqlite")
    db = sqlite3.connect(result.path)
    rows = db.execute("SELECT id, section_key, json_extract(provenance, '$.section_key') "
                      "FROM articles ORDER BY id").fetchall()
    assert rows == [("1", "chinh-tri", "links"), ("2", "van-hoa", "derived"),
                    ("3", "chinh-tri", "url")]
    assert db.execute("SELECT section, articles FROM sections ORDER BY 1").fetchall() == \
        [("chinh-tri", 2), ("van-hoa", 1)]
