"""The sapo printed in its own element between the headline and the body (crawler/extract/sapo.py,
issue 20): the shapes Vietnamese papers use, as the public docbao crawl configurations name them,
reach ``lead`` and the body's front; what only looks like one does not."""

from __future__ import annotations

import pytest

from crawler.extract.article import extract_article
from crawler.extract.html import name_words, parse_html
from crawler.extract.sapo import find_sapo

URL = "https://baonamdinh.vn/xa-hoi/202401/le-hoi-8fb6d67/"
FETCHED_AT = "2024-01-20T10:00:00+07:00"
TITLE = "Lễ hội làng nghề truyền thống thu hút du khách"
SAPO = ("Lễ hội làng nghề Hải Minh năm nay có quy mô lớn nhất từ trước đến nay, với 120 gian hàng "
        "và hàng nghìn lượt khách mỗi ngày.")
PARAGRAPHS = [
    "Sáng 14-1, xã Hải Minh khai mạc lễ hội làng nghề truyền thống năm 2024, thu hút hàng "
    "nghìn du khách trong và ngoài tỉnh về tham quan, mua sắm.",
    "Lễ hội diễn ra trong ba ngày với nhiều hoạt động đặc sắc: trưng bày sản phẩm thủ công, "
    "thi tay nghề thợ giỏi, biểu diễn văn nghệ dân gian và các trò chơi truyền thống.",
    "Theo Ban tổ chức, năm nay có 120 gian hàng của các hộ sản xuất, hợp tác xã tham gia, "
    "tăng 30 gian so với năm trước; doanh thu dự kiến đạt trên 5 tỷ đồng.",
]
BODY = "<div class='detail-body'>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</div>"
DATE = "<div class='date'>Thứ hai, 15/01/2024, 08:00 GMT+7</div>"


def page(between: str, head: str = "", before: str = "") -> str:
    return (f"<html><head><title>{TITLE}</title>{head}</head><body>{before}<div class='main'>"
            f"<h1>{TITLE}</h1>{DATE}{between}{BODY}</div></body></html>")


@pytest.mark.parametrize("between", [
    f'<h2 class="sapo">{SAPO}</h2>',  # VTV, Dân trí, Tin tức
    f'<div class="sapo_detail">{SAPO}</div>',  # Thanh Hóa, Hà Tĩnh, Dân sinh
    f'<div class="article__sapo">{SAPO}</div>',  # VOV, Mặt trận
    f'<p class="description">{SAPO}</p>',  # VnExpress
    f'<div class="bold ArticleLead">{SAPO}</div>',  # Vietnamnet
    f'<div class="details__summary cms-desc">{SAPO}</div>',  # Vietnamplus, Giáo dục Việt Nam
    f'<div id="articleSapo"><p>{SAPO}</p></div>',
    f'<div class="sabo">{SAPO}</div>',  # Lao động thủ đô (sic)
    f'<p class="chapeau">{SAPO}</p>',
    f'<div class="chappeau"><p>{SAPO}</p></div>',  # Lao Động (sic)
    f'<div class="box-sapo"><div class="intro">{SAPO}</div></div>',
    f"<div><b>{SAPO}</b></div>",  # no name: printed bold, as papers print the sapo
    f'<p style="font-weight: bold">{SAPO}</p>',
    f"<h2>{SAPO}</h2>",
    f'<div style="font-style: italic">{SAPO}</div>',  # in italics, as some papers print it
    f"<p><em>{SAPO}</em></p>",
])
def test_the_sapo_reaches_lead_and_opens_the_body(between):
    item = extract_article(page(between), URL, fetched_at=FETCHED_AT)
    assert item.lead == SAPO
    assert item.body.split("\n\n") == [SAPO, *PARAGRAPHS]
    assert item.provenance["lead"] == "heuristic"


def test_a_cut_description_gives_way_to_the_printed_sapo():
    head = f'<meta property="og:description" content="{SAPO[:90]}...">'
    item = extract_article(page(f'<div class="summary">{SAPO}</div>', head=head), URL,
                           fetched_at=FETCHED_AT)
    assert item.lead == SAPO and item.body.startswith(SAPO + "\n\n")


def test_the_same_description_uncut_is_the_metadata_lead():
    head = f'<meta property="og:description" content="{SAPO}">'
    item = extract_article(page(f'<div class="sapo">{SAPO}</div>', head=head), URL,
                           fetched_at=FETCHED_AT)
    assert item.lead == SAPO and item.provenance["lead"] == "metadata"


@pytest.mark.parametrize("between", [
    # plain type between the headline and the body is no sapo (a disclosure, a promo)
    "<p>This post may contain affiliate links. Please see my disclosure page for details.</p>",
    # ... nor in italics when it is not Vietnamese (a note on a foreign page)
    "<p><em>This post may contain affiliate links. Please see my disclosure page for details."
    "</em></p>",
    # a caption, a photo, a teaser with its own summary, a date line
    '<figure><img src="/a.jpg"><figcaption class="desc">Du khách tham quan gian hàng gốm sứ '
    "tại lễ hội làng nghề Hải Minh năm nay.</figcaption></figure>",
    '<div class="item"><h3><a href="/x">Hội chợ xuân thu hút hàng nghìn lượt khách tham quan</a>'
    f'</h3><p class="sapo">{SAPO}</p></div>',
    '<div class="sapo">Cập nhật: 10:18 | 15/01/2024</div>',
])
def test_what_is_not_a_sapo(between):
    root = parse_html(page(between))
    body = root.find(".//div[@class='detail-body']")
    assert find_sapo([body], root.find(".//h1"), TITLE) is None


def test_without_a_headline_only_a_named_sapo_right_before_the_body():
    html = (f"<html><body><div class='top'><b>{SAPO}</b></div><div class='sapo'>{SAPO}</div>"
            f"{BODY}</body></html>")
    root = parse_html(html)
    assert find_sapo([root.find(".//div[@class='detail-body']")], None, TITLE) == SAPO
    html = f"<html><body><div class='top'><b>{SAPO}</b></div>{BODY}</body></html>"
    root = parse_html(html)
    assert find_sapo([root.find(".//div[@class='detail-body']")], None, TITLE) is None


def test_a_headline_inside_the_body_leaves_the_first_paragraph():
    root = parse_html(f"<html><body><div class='c'><h1>{TITLE}</h1><p class='sapo'>{SAPO}</p>"
                      "</div></body></html>")
    assert find_sapo([root.find(".//div")], root.find(".//h1"), TITLE) is None


def test_a_sapo_cell_of_the_layout_table_that_holds_the_headline():
    # Pages of table layouts print headline, date line, sapo and body in rows of one table.
    rows = "".join(f"<tr><td class='{cls}'>{text}</td></tr>" for cls, text in (
        ("title", TITLE), ("date", "Thứ hai, 15/01/2024 - 08:00"), ("sapo", f"<b>{SAPO}</b>")))
    body = "<tr><td class='content'>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</td></tr>"
    html = f"<html><body><table><tr><td><table>{rows}{body}</table></td></tr></table></body></html>"
    root = parse_html(html)
    content = root.find(".//td[@class='content']")
    assert find_sapo([content], root.find(".//td[@class='title']"), TITLE) == SAPO
    # A table the headline is not in is another thing (a data table, a box of teasers).
    html = (f"<html><body><h1>{TITLE}</h1><table><tr><td class='sapo'>{SAPO}</td></tr></table>"
            f"{BODY}</body></html>")
    root = parse_html(html)
    assert find_sapo([root.find(".//div[@class='detail-body']")], root.find(".//h1"),
                     TITLE) is None


def test_a_headline_in_its_articles_header_has_no_sapo_from_the_header():
    # The header's standfirst (a dek) is kept apart from the text; a sapo printed after the
    # header is one of the body's containers (tests/fixtures/articles/vn-html5-article-header).
    root = parse_html(f"<html><body><article><header><h1>{TITLE}</h1><p class='dek'><b>{SAPO}"
                      f"</b></p></header>{BODY}</article></body></html>")
    body = root.find(".//div[@class='detail-body']")
    assert find_sapo([body], root.find(".//h1"), TITLE) is None


@pytest.mark.parametrize(("cls", "words"), [
    ("bold ArticleLead", {"bold", "article", "lead"}),
    ("article__sapo cms-desc", {"article", "sapo", "cms", "desc"}),
    ("sapo_detail", {"sapo", "detail"}),
])
def test_name_words(cls, words):
    assert name_words(parse_html(f'<html><body><div class="{cls}">x</div></body></html>')
                      .find(".//div")) == words
