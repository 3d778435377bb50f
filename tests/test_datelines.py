"""The article's own date line (crawler/extract/datelines.py, issue 20): near the headline, a
short line of its own; never the body's prose, a teaser's date or a related box's."""

from __future__ import annotations

import pytest

from crawler.extract.datelines import article_date_line, date_at_end, teaser_boxes
from crawler.extract.html import parse_html

PROSE = ("<p>Công trình được khởi công ngày 15/3/2012, các hạng mục chính gồm trụ cầu, dầm thép và "
         "hệ thống thoát nước được nhà thầu thi công liên tục ba ca mỗi ngày.</p>")
TEASERS = ('<div class="box_category"><div class="title_box"><h3>Bạn có thể quan tâm</h3></div>'
           '<div class="item"><h4><a href="/a">Hà Nội mở rộng đường vành đai 2 đoạn phía nam</a></h4>'
           '<span class="time">21/12/2012 08:30</span></div></div>')
UNLABELLED_TEASER = ('<div class="other"><div class="it"><a href="/b">Phân luồng giao thông dịp Tết '
                     'Dương lịch năm nay</a> <span>22/12/2012 09:05</span></div></div>')


def page(before: str, after: str) -> str:
    return (f"<html><body><div class='main'>{before}<h1>Thông xe cầu vượt thép nút giao</h1>"
            f"{after}</div></body></html>")


def date_of(html: str) -> str | None:
    root = parse_html(html)
    return article_date_line(root, root.find(".//h1"))


@pytest.mark.parametrize(("before", "after", "expected"), [
    # under the headline, in the forms papers print
    ("", '<div class="date-time">15:20 PM | 21/12/2012</div>' + PROSE, "15:20 PM | 21/12/2012"),
    ("", '<div class="time-post">ngày 24/12/12 11:05 tối</div>', "ngày 24/12/12 11:05 tối"),
    ("", '<ul class="meta"><li class="date">Đăng lúc 10:18 ngày 20/12/2012</li></ul>',
     "Đăng lúc 10:18 ngày 20/12/2012"),
    ("", '<p><a href="/permalink"><time>20/12/2012 10:18</time></a></p>', "20/12/2012 10:18"),
    # above the headline, beside the breadcrumb, when nothing under it is a date line
    ('<div class="crumbs"><a href="/thoi-su/">Thời sự</a> <span class="date">Thứ năm, '
     '20/12/2012, 10:18 GMT+7</span></div>', PROSE + TEASERS, "Thứ năm, 20/12/2012, 10:18 GMT+7"),
    # above it in a bar that also holds the share buttons: the element is named as the date
    ('<div class="block_timer_share"><div class="block_timer left">Thứ năm, 20/12/2012 | 10:18 '
     'GMT+7</div><div class="block_share right"><a href="#">Chia sẻ</a></div></div>', PROSE,
     "Thứ năm, 20/12/2012 | 10:18 GMT+7"),
    # but a date named so in a box of other stories, or in a share bar without the name, is not
    ("", PROSE + '<div class="related-share"><span class="date">21/12/2012 08:30</span></div>',
     None),
    ('<div class="social-share"><span>20/12/2012 10:18</span> <a href="#">Facebook</a></div>',
     PROSE, None),
    # a share bar under the headline printing the date in a <time> of its own (a provincial
    # paper: "//*[@class='share']/time"), or in an element named as the date
    ("", '<div class="share"><time>14/01/2022 08:45</time> <a href="#">Chia sẻ</a></div>' + PROSE,
     "14/01/2022 08:45"),
    ("", '<div class="share-bar"><span class="post-date">14/01/2022</span> <a href="#">Zalo</a>'
     "</div>" + PROSE, "14/01/2022"),
    # a related box's share bar is chrome for more than sharing: its <time> is no date line
    ("", PROSE + '<div class="related-share"><time>21/12/2012 08:30</time></div>', None),
    # a relative time the page prints: the <time> element's datetime says when
    ("", '<div class="meta"><time datetime="2012-12-20T10:18:00+07:00">3 giờ trước</time></div>',
     "2012-12-20T10:18:00+07:00"),
    ("", PROSE + '<div class="box"><h3>Tin liên quan</h3><p><a href="/x">Hà Nội mở rộng đường '
     'vành đai 2 đoạn phía nam</a> <time datetime="2012-12-19T08:00:00+07:00">Hôm qua</time>'
     "</p></div>", None),
    # ... or the title of the element that prints it (VCCorp's papers: Genk, Kênh14, Soha)
    ("", '<div class="kbwcm-meta"><span class="kbwcm-time" title="2012-12-20T10:18:00">Hôm qua '
     "lúc 10:18</span></div>", "2012-12-20T10:18:00"),
    # a title that is no date (a link's) gives none
    ("", '<div class="meta"><a href="/x" title="Giáo dục">Hôm qua</a></div>', None),
    # neither prose nor teasers give the date
    ("", PROSE + TEASERS + UNLABELLED_TEASER, None),
    ("", '<div class="sidebar"><p>Cập nhật 20/12/2012</p></div>', None),
    # a box headed in the words that end a body's text ("Tin bài khác", "Các tin đã đưa")
    ("", PROSE + '<div class="box"><h3>Tin bài khác</h3><p>Hội nghị tổng kết năm học '
     "<span>21/12/2012 08:30</span></p></div>", None),
])
def test_article_date_line(before, after, expected):
    assert date_of(page(before, after)) == expected


def test_without_a_headline_the_first_date_line_outside_teasers():
    html = ("<html><body>" + TEASERS + "<div class='x'><span>Cập nhật: 10:18 | 20/12/2012</span>"
            + PROSE + "</div></body></html>")
    assert article_date_line(parse_html(html), None) == "Cập nhật: 10:18 | 20/12/2012"


def test_a_labelled_box_is_the_block_around_its_label():
    root = parse_html(page("", TEASERS))
    assert [box.get("class") for box in teaser_boxes(root)] == ["box_category"]


LONG = [f"<p>{PROSE[3:-4]} Đoạn {i}.</p>" for i in range(20)]  # past the search after the headline


@pytest.mark.parametrize(("inside", "after", "expected"), [
    # the body's last line, labelled: it leaves the body
    ('<p>Ngày đăng: 20/12/2012</p>', "", "Ngày đăng: 20/12/2012"),
    # a line right after the body's container
    ("", '<div class="date">Cập nhật: 20/12/2012 10:18</div>', "Cập nhật: 20/12/2012 10:18"),
    # not a letter's sign-off, a sentence that starts like a label, nor a teaser's date
    ('<p>Hà Nội, ngày 14/01/2024</p>', "", None),
    ('<p>Đăng ký dự thi trước ngày 30/12/2012.</p>', "", None),
    ("", TEASERS, None),
])
def test_a_labelled_date_line_at_the_articles_end(inside, after, expected):
    html = (f"<html><body><h1>Thông xe cầu vượt thép nút giao</h1><div class='content'>"
            f"{''.join(LONG)}{inside}</div>{after}</body></html>")
    root = parse_html(html)
    assert article_date_line(root, root.find(".//h1")) is None
    content = root.find(".//div[@class='content']")
    paragraphs = [p.text for p in content.iter("p")]
    kept, line = date_at_end(paragraphs, [content])
    assert line == expected
    assert kept == (paragraphs[:-1] if expected and inside else paragraphs)


def test_the_record_takes_the_date_line_at_the_end_and_the_body_leaves_it_out():
    from crawler.extract.article import extract_article

    html = (f"<html><head><title>Thông xe cầu vượt thép nút giao</title></head><body>{TEASERS}"
            f"<h1>Thông xe cầu vượt thép nút giao</h1><div class='content'>{''.join(LONG)}"
            "<p>Ngày đăng: 20/12/2012</p></div></body></html>")
    item = extract_article(html, "https://baonamdinh.vn/giao-thong/201212/thong-xe-a1b2c3d/",
                           fetched_at="2013-01-01T00:00:00+07:00")
    assert (item.published_raw, item.provenance["published_raw"]) == ("Ngày đăng: 20/12/2012",
                                                                      "heuristic")
    assert "Ngày đăng" not in item.body
