"""The generic layers on markup no template knows: what the body and the lead may and may not hold.

Issue 11's failure modes on real pages, each as a small page through ``extract_article``: chrome
words on an ancestor hid the article; a cookie notice or a page wrapper won; a description the
reader never sees became the lead and the body's first paragraph.
"""

from __future__ import annotations

import pytest

from crawler.extract.article import extract_article
from crawler.extract.html import is_chrome, parse_html

URL = "https://baonamdinh.vn/xa-hoi/202401/le-hoi-8fb6d67/"
FETCHED_AT = "2024-01-20T10:00:00+07:00"
TITLE = "Lễ hội làng nghề truyền thống thu hút du khách"
PARAGRAPHS = [
    "Sáng 14-1, xã Hải Minh khai mạc lễ hội làng nghề truyền thống năm 2024, thu hút hàng "
    "nghìn du khách trong và ngoài tỉnh về tham quan, mua sắm.",
    "Lễ hội diễn ra trong ba ngày với nhiều hoạt động đặc sắc: trưng bày sản phẩm thủ công, "
    "thi tay nghề thợ giỏi, biểu diễn văn nghệ dân gian và các trò chơi truyền thống.",
    "Theo Ban tổ chức, năm nay có 120 gian hàng của các hộ sản xuất, hợp tác xã tham gia, "
    "tăng 30 gian so với năm trước; doanh thu dự kiến đạt trên 5 tỷ đồng.",
    "Dịp này, UBND xã trao giấy khen cho 15 nghệ nhân, thợ giỏi có nhiều đóng góp trong việc "
    "giữ gìn, phát triển nghề truyền thống của địa phương.",
]
ARTICLE = "".join(f"<p>{p}</p>\n" for p in PARAGRAPHS)
SIDEBAR = ('<div class="sidebar"><div class="widget"><p>Tin mới: Hội nghị tổng kết công tác năm '
           "2023 của ngành giáo dục, với nhiều kết quả nổi bật, được đánh giá cao.</p></div>"
           "</div>")


def page(body: str, head: str = "", body_attrs: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{TITLE} - Báo Nam Định"
            f"</title>{head}</head><body{body_attrs}><h1>{TITLE}</h1>{body}"
            "<div class='footer'><p>BÁO NAM ĐỊNH ĐIỆN TỬ</p></div></body></html>")


def extract(html: str):
    return extract_article(html, URL, fetched_at=FETCHED_AT)


def paragraphs_of(item) -> list[str]:
    return item.body.split("\n\n")


@pytest.mark.parametrize("wrap, body_attrs", [
    ('<div class="sidebar-1"><div class="main-col"><div class="post">{}</div></div></div>', ""),
    ('<div class="layout"><div class="entry">{}</div></div>', ' class="one-sidebar"'),
    ('<form id="aspnetForm" action="/"><input type="hidden" name="__VIEWSTATE" value="x">'
     '<div class="col"><div class="text">{}</div></div></form>', ""),
    # A chrome word on the article's own wrapper, which holds most of the page's prose.
    ('<article class="article__content url-breadcrumb"><div class="body">{}</div></article>', ""),
])
def test_chrome_words_on_an_ancestor_do_not_hide_the_article(wrap, body_attrs):
    item = extract(page(wrap.format(ARTICLE) + SIDEBAR, body_attrs=body_attrs))
    assert paragraphs_of(item) == PARAGRAPHS
    assert item.provenance["body"] == "heuristic"


def test_a_real_sidebar_stays_out():
    item = extract(page(f'<div class="content">{ARTICLE}</div>{SIDEBAR}'))
    assert "Tin mới" not in item.body


def test_a_cookie_notice_is_not_the_body():
    cookie = ('<div class="cookie-banner"><p>We use cookies and other tracking technologies to '
              "improve your browsing experience, show personalized content, analyze traffic, and "
              "understand where our audience is coming from. By choosing I Accept, you consent."
              "</p></div>")
    item = extract(page(cookie + f"<div class='story'>{ARTICLE}</div>"))
    assert paragraphs_of(item) == PARAGRAPHS


@pytest.mark.parametrize("description", [
    "Báo Nam Định điện tử",  # the site's name (also printed in the footer)
    "Cơ quan của Đảng bộ Đảng Cộng sản Việt Nam tỉnh Nam Định, tiếng nói của chính quyền và "
    "nhân dân tỉnh Nam Định.",  # a site-wide blurb the page never shows
])
def test_a_description_the_reader_never_sees_is_no_lead(description):
    head = (f'<meta name="description" content="{description}">'
            '<meta property="og:site_name" content="Báo Nam Định điện tử">')
    item = extract(page(f"<div class='detail'>{ARTICLE}</div>", head=head))
    assert item.lead == PARAGRAPHS[0]
    assert paragraphs_of(item) == PARAGRAPHS
    assert item.provenance["lead"] == "heuristic"


def test_a_description_shown_above_the_body_is_the_lead_and_opens_it():
    sapo = "Lễ hội làng nghề Hải Minh năm nay quy mô lớn nhất từ trước đến nay."
    head = f'<meta property="og:description" content="{sapo}">'
    item = extract(page(f"<p class='sapo-x'><b>{sapo}</b></p><div class='detail'>{ARTICLE}"
                        "</div>", head=head))
    assert item.lead == sapo and paragraphs_of(item) == [sapo, *PARAGRAPHS]
    assert item.provenance["lead"] == "metadata"


@pytest.mark.parametrize("description", [
    PARAGRAPHS[0],
    PARAGRAPHS[0][:60] + "...",  # cut down by the CMS
])
def test_a_lead_that_repeats_the_first_paragraph_is_kept_once(description):
    head = f'<meta property="og:description" content="{description}">'
    item = extract(page(f"<div class='detail'>{ARTICLE}</div>", head=head))
    assert paragraphs_of(item) == PARAGRAPHS
    assert item.lead == PARAGRAPHS[0]


def test_a_description_found_further_down_the_body_is_not_put_in_front():
    head = f'<meta property="og:description" content="{PARAGRAPHS[2]}">'
    item = extract(page(f"<div class='detail'>{ARTICLE}</div>", head=head))
    assert paragraphs_of(item) == PARAGRAPHS


def test_link_lists_credits_and_title_copies_inside_the_container_are_left_out():
    related = ('<div class="more"><h3>Xem thêm</h3><ul>' + "".join(
        f'<li><a href="/xa-hoi/202401/tin-{i}-8fb6d6{i}/">Tin liên quan số {i} về lễ hội</a></li>'
        for i in range(5)) + "</ul></div>")
    credits = "<p>Minh Anh</p><p>Cập nhật: 09:30, 14/01/2024</p>"
    item = extract(page(f"<div class='detail'>{credits}<h2>{TITLE}</h2>{ARTICLE}{related}</div>",
                        head='<meta name="author" content="Minh Anh">'))
    assert paragraphs_of(item) == PARAGRAPHS


@pytest.mark.parametrize(("cls", "chrome"), [
    ("sidebar-1", True), ("one-sidebar", True), ("sharebar", True), ("comments", True),
    ("canvas", False), ("unrelated-thing", False), ("content", False), ("navigation", True),
])
def test_chrome_words_match_at_the_start_of_a_word(cls, chrome):
    root = parse_html(f'<html><body><div class="{cls}">x</div></body></html>')
    assert is_chrome(root.find(".//div")) is chrome


def test_an_article_cut_into_cards_is_taken_whole():
    # Each paragraph in its own positively named card: every card scores nearly as well as the
    # best, so their common ancestor is the article. With more cards than candidates weighed,
    # that ancestor is not among them (this once raised KeyError).
    texts = [f"{p} Phần {i}." for i in range(3) for p in PARAGRAPHS]
    cards = "".join(f'<div class="card"><div class="card-content story-text"><p>{p}</p></div>'
                    "</div>" for p in texts)
    item = extract(page(f'<div class="collection">{cards}</div>{SIDEBAR}'))
    assert paragraphs_of(item) == texts


def test_a_short_block_at_the_end_of_the_container_is_kept_for_the_byline():
    item = extract(page(f"<div class='detail'>{ARTICLE}<div class='sign'><p>Văn Trọng</p></div>"
                        "</div>"))
    assert paragraphs_of(item) == [*PARAGRAPHS, "Văn Trọng"]


