"""Bylines the markup sets apart at the start or the end of the body (crawler/extract/credits.py,
issue 20): a bold or right-aligned last paragraph is the byline; "Theo …"/"Nguồn: …" stay
sources; a bold sentence or a series marker stays in the body."""

from __future__ import annotations

import pytest

from crawler.extract.article import extract_article
from crawler.extract.credits import is_marked, marked_lines
from crawler.extract.html import parse_html
from crawler.normalise.bylines import parse_byline

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
]


def page(first: str = "", last: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f"<html><head><title>{TITLE}</title></head><body><h1>{TITLE}</h1>"
            f"<div class='detail'>{first}{body}{last}</div></body></html>")


def extract(html: str):
    return extract_article(html, URL, fetched_at=FETCHED_AT)


@pytest.mark.parametrize(("last", "byline"), [
    ('<p style="text-align: right;"><strong>Lê Văn Thịnh, Trường Đại học Nông nghiệp</strong></p>',
     "Lê Văn Thịnh, Trường Đại học Nông nghiệp"),
    ('<p align="right"><b>Thu Hà (tổng hợp)</b></p>', "Thu Hà (tổng hợp)"),
    ('<p class="text-right">Hoàng Long/VOV-Tây Bắc</p>', "Hoàng Long/VOV-Tây Bắc"),
    ('<div class="author">Nguyễn Văn Minh Tuấn Anh Hoàng</div>',
     "Nguyễn Văn Minh Tuấn Anh Hoàng"),  # six words: no name the parser takes
    ('<div style="text-align:right"><p><em>Theo TTXVN</em></p></div>', "Theo TTXVN"),
    ('<p style="text-align:right"><strong>Bài: Hồng Minh</strong></p>'
     '<p style="text-align:right"><strong>Ảnh: Văn Trọng</strong></p>',
     "Bài: Hồng Minh\nẢnh: Văn Trọng"),
    # the affiliation on a line of its own under the name
    ('<p style="text-align:right"><b>Lê Văn Thịnh</b><br>(Viện Kinh tế nông nghiệp)</p>',
     "Lê Văn Thịnh\n(Viện Kinh tế nông nghiệp)"),
    ('<p style="text-align:right"><strong>Nguyễn Văn Minh</strong><br><em>Phòng Văn hóa - Thông '
     "tin huyện</em></p>", "Nguyễn Văn Minh\nPhòng Văn hóa - Thông tin huyện"),
    # ... or after a dash
    ('<p style="text-align:right"><strong>Minh Anh - Trung tâm Truyền thông tỉnh</strong></p>',
     "Minh Anh - Trung tâm Truyền thông tỉnh"),
])
def test_a_last_paragraph_set_apart_is_the_byline(last, byline):
    item = extract(page(last=last))
    assert item.byline == byline
    assert item.body.split("\n\n") == PARAGRAPHS
    assert item.provenance["byline"] == "heuristic"


@pytest.mark.parametrize("note", [
    "<p><em>(*) Tiêu đề do Tòa soạn đặt</em></p>",
    "<p>Mọi ý kiến đóng góp xin gửi về địa chỉ email: toasoan@baox.vn</p>",
])
def test_the_byline_above_a_short_note_is_the_byline(note):
    item = extract(page(last='<p style="text-align:right"><strong>Minh Anh</strong></p>' + note))
    assert item.byline == "Minh Anh" and item.provenance["byline"] == "heuristic"
    assert "Minh Anh" not in item.body.split("\n\n")


def test_a_bold_line_above_a_short_note_that_names_no_vietnamese_is_no_byline():
    # a foreign page's bold "TOP STORIES" above a last line: no author however it parses
    item = extract(page(last="<p><b>Top Stories</b></p><p>Return to the front page</p>"))
    assert item.byline is None and "Top Stories" in item.body.split("\n\n")


def test_a_list_of_short_lines_with_figures_above_the_text_is_no_credit():
    # a calendar opening the body: short lines with figures, as a date line or a time is, but
    # too many to be the credits above the text
    rounds = [f"Vòng {n}: ngày {n + 9}/3 tại sân vận động Thiên Trường" for n in range(1, 7)]
    item = extract(page(first="".join(f"<p>{r}</p>" for r in rounds)))
    assert item.body.split("\n\n") == [*rounds, *PARAGRAPHS]


def test_a_date_line_under_the_first_paragraph_is_no_part_of_the_body():
    # the sapo as the container's first paragraph, then the page's meta line, then the text
    sapo = ("Giữa lúc nhiều làng nghề mai một, các nghệ nhân vẫn kiên trì giữ những bí quyết "
            "được truyền lại qua nhiều thế hệ.")
    item = extract(page(first=f'<p>{sapo}</p><div class="meta"><i class="fa fa-calendar"></i> '
                              "20/12/2012</div>"))
    assert item.body.split("\n\n") == [sapo, *PARAGRAPHS]
    # a date with more to say is a line of the text
    said = "Ngày 20/12/2012, hội nghị bế mạc."
    item = extract(page(first=f"<p>{sapo}</p><p>{said}</p>"))
    assert item.body.split("\n\n") == [sapo, said, *PARAGRAPHS]


def test_a_dated_meta_line_above_the_text_is_a_credit_line_however_long():
    meta = ("05/10/2018 - Đăng bởi: Minh Anh - Chuyên mục: Giáo dục - Từ khóa: giáo dục, tổng kết "
            "năm học")
    item = extract(page(first=f"<p>{meta}</p>"))
    assert item.body.split("\n\n") == PARAGRAPHS


def test_theo_and_nguon_stay_sources():
    assert parse_byline("Theo TTXVN").source == "TTXVN"
    assert parse_byline("Theo TTXVN").authors == []
    assert parse_byline("Nguồn: Báo Nhân Dân").authors == []


@pytest.mark.parametrize("last", [
    "<p><strong>Xin trân trọng cảm ơn ông về cuộc trò chuyện này!</strong></p>",  # a question's end
    '<p style="text-align:right"><em>(Còn nữa)</em></p>',  # a series marker
    '<p style="text-align:right">Hà Nội, ngày 14/01/2024</p>',  # a place and a date
    "<p><b>Home</b></p>",  # one word: a label
    "<p>Văn Trọng</p>",  # plain type: the pipeline's text rules judge it (an end mark, a name)
])
def test_what_stays_in_the_body(last):
    item = extract(page(last=last))
    assert item.byline is None


def test_a_credit_line_above_the_body_is_the_byline_not_the_lead():
    item = extract(page(first="<p><strong>Bài và ảnh: Ngọc Ánh</strong></p>"))
    assert item.byline == "Bài và ảnh: Ngọc Ánh"
    assert item.lead == PARAGRAPHS[0] and item.body.split("\n\n") == PARAGRAPHS


def test_a_bold_sapo_opening_the_body_is_no_credit():
    item = extract(page(first=f"<p><b>{TITLE} năm nay đông vui hơn mọi năm.</b></p>"))
    assert item.byline is None and item.lead == f"{TITLE} năm nay đông vui hơn mọi năm."


def test_marks():
    root = parse_html(page(last='<div style="text-align:right"><p>Minh Anh</p></div><p>x y</p>'))
    container = root.find(".//div[@class='detail']")
    right = container.find("div/p")
    assert is_marked(right, container) and not is_marked(container.findall("p")[0], container)
    assert "Minh Anh" in marked_lines([container])


@pytest.mark.parametrize(("meta", "authors"), [
    ('<meta name="author" content="Minh Anh">', ["Minh Anh"]),
    ('<meta property="article:author" content="Thu Hà">', ["Thu Hà"]),
    # a profile's URL, the paper itself or a masthead are no author
    ('<meta property="article:author" content="https://www.facebook.com/minhanh">', []),
    ('<meta name="author" content="Tuổi Trẻ Online">', []),
    ('<meta name="author" content="Báo Hà Tĩnh">', []),
    ('<meta name="author" content="Báo Nam Định">', []),
    # JSON-LD's author comes first
    ('<script type="application/ld+json">{"@type": "NewsArticle", "author": '
     '{"@type": "Person", "name": "Ngọc Lan"}}</script><meta name="author" content="Minh Anh">',
     ["Ngọc Lan"]),
])
def test_the_metadata_author_is_a_person_not_the_paper(meta, authors):
    html = page().replace("</title>", f"</title>{meta}")
    item = extract(html)
    assert item.authors == authors
    assert item.provenance.get("authors") == ("metadata" if authors else None)


def test_the_author_marked_with_microdata_in_the_body_is_the_metadatas():
    # <span itemprop="author"><span itemprop="name">…</span></span> in a meta line of its own
    # above the body, with a relative time: the author, and the line no part of the body.
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    html = (f"<html><head><title>{TITLE}</title></head><body><article itemscope itemtype="
            f"'http://schema.org/NewsArticle'><h1 itemprop='headline'>{TITLE}</h1><div class="
            "'meta'><span itemprop='author' itemscope><span itemprop='name'>Minh Anh</span>"
            "</span><span class='time'>Hôm qua</span></div>"
            f"<div itemprop='articleBody'>{body}</div></article></body></html>")
    item = extract(html)
    assert item.authors == ["Minh Anh"] and item.provenance["authors"] == "metadata"
    assert item.body.split("\n\n") == PARAGRAPHS


def _named_page(before: str = "", after: str = "", last: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f"<html><head><title>{TITLE}</title></head><body><div class='head'><h1>{TITLE}</h1>"
            f"</div>{before}<div class='detail'>{body}{last}</div>{after}</body></html>")


@pytest.mark.parametrize(("html", "byline"), [
    # an element the page names as the author's, between the headline and the body or after it
    (_named_page(before='<div class="author">Minh Anh - Thu Hà</div>'), "Minh Anh - Thu Hà"),
    (_named_page(before='<div class="meta"><span class="author-name">Ngọc Lan</span> | '
                        '20/01/2024 08:00</div>'), "Ngọc Lan"),
    (_named_page(after='<div class="tac-gia"><a href="/tac-gia/minh-anh">Minh Anh</a></div>'),
     "Minh Anh"),
    (_named_page(last='<p class="author"><a href="/tac-gia/minh-anh">Minh Anh</a></p>'),
     "Minh Anh"),
    # not another story's author in a related box, not a label that names no one
    (_named_page(after='<div class="related"><a href="/x/">Tin khác</a>'
                       '<span class="author">Trần Bình</span></div>'), None),
    (_named_page(before='<div class="author">Tác giả</div>'), None),
    # a link the markup calls the author's (rel, microdata), not only by its class
    (_named_page(before='<p class="meta"><a rel="author" href="/author/minh-anh">'
                        '<span itemprop="name">Minh Anh</span></a> - 20/01/2024</p>'), "Minh Anh"),
    # not the author of a biography box after the article
    (_named_page(after='<div class="author-bio"><a class="author-name" href="/a/tran-binh">'
                       "Trần Bình</a> Trần Bình viết về nông nghiệp từ năm 2012.</div>"), None),
    # nor the place the story is filed from, printed in the credit block
    (_named_page(before='<div class="c-signature"><strong class="c-signature__location">'
                        'São Paulo</strong></div>'), None),
])
def test_an_element_named_as_the_author_gives_the_byline(html, byline):
    item = extract(html)
    assert item.byline == byline
    assert item.body.split("\n\n")[-1] == PARAGRAPHS[-1]


def test_on_a_templates_page_without_its_byline_the_element_named_as_the_author_gives_it():
    # a page a site template reads (its body .detail-content) whose byline selectors find
    # nothing: the byline falls to this layer, with the source line ending the body
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    html = (f"<html><head><title>{TITLE}</title></head><body><h1>{TITLE}</h1>"
            '<div class="meta"><span class="author-name">Ngọc Lan</span> | 20/01/2024 08:00</div>'
            f'<div class="detail-content">{body}<p>Theo Báo Giáo dục</p></div></body></html>')
    item = extract(html)
    assert item.provenance["body"] == "site"
    assert item.byline == "Ngọc Lan\nTheo Báo Giáo dục"


def test_a_credit_in_the_body_comes_before_an_element_named_as_the_author():
    html = _named_page(before='<div class="author">Trần Bình</div>',
                       last='<p style="text-align:right"><strong>Minh Anh</strong></p>')
    assert extract(html).byline == "Minh Anh"
