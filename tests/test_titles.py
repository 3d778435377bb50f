"""Titles without the publisher's or the section's name (crawler/extract/titles.py, issue 20).

The rules compare a title's segments with what the page itself says: the headline it prints,
og:site_name and the host's name, its sections' names; and with a masthead's shape. No paper is
named in the code; the cases are the shapes Vietnamese papers print.
"""

from __future__ import annotations

import pytest

from crawler.extract.heuristic import heuristic_title_element
from crawler.extract.html import element_text, parse_html
from crawler.extract.titles import (
    ascii_key,
    clean_title,
    find_headline,
    headline_text,
    host_name,
    in_title_case,
    section_names,
    segments,
)

HEADLINE = "Tỉnh công bố quy hoạch vùng trồng lúa chất lượng cao"


@pytest.mark.parametrize(
    ("title", "kwargs", "expected"),
    [
        # the headline printed in the page settles it
        (f"{HEADLINE} - Chính trị - Xã hội - Tuổi Trẻ Online", {"heading": HEADLINE}, HEADLINE),
        (f"Báo Nam Định - {HEADLINE}", {"heading": HEADLINE}, HEADLINE),
        (f"Opinion | {HEADLINE}", {"heading": HEADLINE}, HEADLINE),
        # ... also between a section and the masthead
        (f"Tin tức - {HEADLINE} - Báo Hà Nam", {"heading": HEADLINE}, HEADLINE),
        # the publisher's names: og:site_name (any case, with or without tone marks), the host
        (f"{HEADLINE} - Chính trị - Xã hội - Tuổi Trẻ Online",
         {"publishers": ["TUOI TRE ONLINE"], "sections": ["Chính trị - Xã hội"]}, HEADLINE),
        (f"{HEADLINE} | VnExpress", {"publishers": ["vnexpress"]}, HEADLINE),
        (f"{HEADLINE} - Tuổi Trẻ Online", {"publishers": ["tuoitre"]}, HEADLINE),  # + "online"
        (f"{HEADLINE} | Báo Dân trí", {"publishers": ["dantri"]}, HEADLINE),  # "báo" + name
        (f"Báo Nam Định - {HEADLINE}", {"publishers": ["baonamdinh"]}, HEADLINE),
        (f"{HEADLINE} - Thời sự - Báo Nam Định", {"publishers": ["Báo Nam Định"],
                                                 "sections": ["Thời sự"]}, HEADLINE),
        # a separator inside the headline stays when nothing says it is a name
        ("Khai trương tuyến xe buýt Nam Định - Giao Thủy - Thời sự",
         {"sections": ["Thời sự"]}, "Khai trương tuyến xe buýt Nam Định - Giao Thủy"),
        ("Hà Nội - Hải Phòng: cao tốc thông xe", {"publishers": ["vnexpress"]},
         "Hà Nội - Hải Phòng: cao tốc thông xe"),
        ("VnExpress ra mắt ứng dụng đọc báo mới", {"publishers": ["vnexpress"]},
         "VnExpress ra mắt ứng dụng đọc báo mới"),
        # a masthead by its shape alone, whatever the paper: "Báo"/"Tạp chí" + a name, a name +
        # "Online" or "điện tử", a host name
        (f"{HEADLINE} - Báo Người Lao Động Online", {}, HEADLINE),
        (f"{HEADLINE} | Báo Chính phủ", {}, HEADLINE),
        (f"Báo Thanh Niên - {HEADLINE}", {}, HEADLINE),
        (f"{HEADLINE} - Báo điện tử Đảng Cộng sản Việt Nam", {}, HEADLINE),
        (f"{HEADLINE} - Nhân Dân điện tử", {}, HEADLINE),
        (f"{HEADLINE} | VOV.VN", {}, HEADLINE),
        (f"{HEADLINE} - Tạp chí Cộng sản", {}, HEADLINE),
        (f"{HEADLINE} - Thời sự - Báo Hà Tĩnh", {"sections": ["Thời sự"]}, HEADLINE),
        # a government portal's or a broadcaster's name, whatever the province
        (f"Cổng thông tin điện tử tỉnh Lào Cai | {HEADLINE}", {}, HEADLINE),
        (f"{HEADLINE} - Cổng TTĐT tỉnh Hà Nam", {}, HEADLINE),
        (f"{HEADLINE} - CTTĐT Bắc Ninh", {}, HEADLINE),
        (f"{HEADLINE} - Đài Phát thanh và Truyền hình Nam Định", {}, HEADLINE),
        (f"{HEADLINE} - Đài PT-TH Thái Bình", {}, HEADLINE),
        (f"{HEADLINE} - Đài Tiếng nói Việt Nam", {}, HEADLINE),
        # ... not a headline that opens with those words
        ("Cổng thông tin điện tử tỉnh ra mắt giao diện mới - Thời sự",
         {"sections": ["Thời sự"]}, "Cổng thông tin điện tử tỉnh ra mắt giao diện mới"),
        # ... and not what only looks like one: "báo động" (an alarm), "báo cáo" (a report)
        (f"{HEADLINE} - Báo động đỏ", {}, f"{HEADLINE} - Báo động đỏ"),
        (f"{HEADLINE} - Báo cáo năm 2024", {}, f"{HEADLINE} - Báo cáo năm 2024"),
        (f"{HEADLINE} - Chính phủ điện tử", {}, f"{HEADLINE} - Chính phủ điện tử"),
        (f"{HEADLINE} - Học online", {}, f"{HEADLINE} - Học online"),
        # no evidence, no cut; a logo's heading naming the publisher is no headline
        (f"{HEADLINE} - Thời sự", {}, f"{HEADLINE} - Thời sự"),
        (f"{HEADLINE} - The Blog", {"heading": "The Blog", "publishers": ["The Blog"]},
         HEADLINE),
        # never down to a headline shorter than a headline
        ("Thời sự - Tuổi Trẻ Online", {"publishers": ["tuoitre"], "sections": ["Thời sự"]},
         "Thời sự - Tuổi Trẻ Online"),
    ],
)
def test_clean_title(title, kwargs, expected):
    assert clean_title(title, **kwargs) == expected


def test_segments_keep_their_separators():
    assert segments("A b c | D - E") == [("A b c", " | "), ("D", " - "), ("E", "")]
    assert segments("Không có dấu phân cách") == [("Không có dấu phân cách", "")]


@pytest.mark.parametrize(("text", "key"), [("Tuổi Trẻ Online", "tuoitreonline"),
                                           ("Báo Đắk Lắk", "baodaklak"), ("VnExpress.net", "vnexpressnet")])
def test_ascii_key(text, key):
    assert ascii_key(text) == key


@pytest.mark.parametrize(("url", "name"), [
    ("https://vnexpress.net/thoi-su/x.html", "vnexpress"), ("https://tuoitre.vn/a", "tuoitre"),
    ("http://www.baonamdinh.com.vn/channel/5083/", "baonamdinh"), ("https://m.dantri.com.vn/", "dantri"),
    (None, None),
])
def test_host_name(url, name):
    assert host_name(url) == name


PAGE = f"""<html><head><title>Báo Nam Định - {HEADLINE}</title></head><body>
<header><div class="logo">Báo Nam Định</div></header>
<ul class="menu"><li><a href="/thoi-su/">Thời sự</a></li><li><a href="/xa-hoi/">Chính trị - Xã hội</a></li></ul>
<div class="box"><h2>Bạn có thể quan tâm</h2><ul><li><a href="/x">{HEADLINE}</a></li></ul></div>
<div class="main"><div class="news-title"><span>{HEADLINE}</span></div><p>Nội dung.</p></div>
</body></html>"""


def test_the_headline_is_the_element_repeating_the_title():
    root = parse_html(PAGE)
    found = find_headline(root, [f"Báo Nam Định - {HEADLINE}"], publishers=["baonamdinh"])
    # The div prints it (through its <span>); the teaser's link in a list item does not count.
    assert found is not None and found.get("class") == "news-title"


def test_the_headline_between_a_section_and_the_masthead_is_found():
    root = parse_html(PAGE)
    found = find_headline(root, [f"Tin tức - {HEADLINE} - Báo Hà Nam"])
    assert found is not None and found.get("class") == "news-title"


def test_an_articles_own_header_holds_its_headline_the_pages_does_not():
    html = (f"<html><body><header class='site'><h1><a href='/'>Báo Mẫu</a></h1></header><main>"
            f"<article><header class='the-article-header'><h1>{HEADLINE}</h1></header>"
            "<p>Nội dung.</p></article></main></body></html>")
    root = parse_html(html)
    found = find_headline(root, [f"{HEADLINE} - Báo Mẫu"])
    assert found is not None and found.getparent().get("class") == "the-article-header"
    assert heuristic_title_element(root) is found
    # The page's own header (not inside an article or main) is chrome, whatever it prints.
    root = parse_html(f"<html><body><header><h1>{HEADLINE}</h1></header><p>Nội dung.</p>"
                      "</body></html>")
    assert find_headline(root, [f"{HEADLINE} - Báo Mẫu"]) is None
    assert heuristic_title_element(root) is None


@pytest.mark.parametrize("label", [
    '<span class="icon-video">Video</span>',  # an icon's label inside the h1
    '<span class="kicker">Giáo dục:</span>',  # a kicker
])
def test_a_label_the_headline_prints_before_it_that_no_title_holds_is_left_out(label):
    heading = parse_html(f"<html><body><h1>{label} {HEADLINE}</h1></body></html>").find(".//h1")
    printed = element_text(heading)
    assert headline_text(heading, [f"{HEADLINE} - Báo X"]) == HEADLINE
    # ... but what the title holds stays, and so does a headline no title settles
    assert headline_text(heading, [f"{printed} - Báo X"]) == printed
    assert headline_text(heading, [None]) == printed


def test_words_before_the_headline_outside_an_element_of_their_own_stay():
    heading = parse_html(f"<html><body><h1>Kermit - {HEADLINE}</h1></body></html>").find(".//h1")
    assert headline_text(heading, [f"{HEADLINE} - Báo X"]) == f"Kermit - {HEADLINE}"


def test_a_headline_in_capitals_takes_the_titles_case():
    titles = (None, f"{HEADLINE} - Báo Nam Định")
    assert in_title_case(HEADLINE.upper(), titles) == HEADLINE
    # a title in capitals too, or none that repeats it, leaves the headline as printed
    assert in_title_case(HEADLINE.upper(), (HEADLINE.upper(),)) == HEADLINE.upper()
    assert in_title_case("PHÓNG SỰ ẢNH", titles) == "PHÓNG SỰ ẢNH"
    assert in_title_case(HEADLINE, (HEADLINE.upper(),)) == HEADLINE


def test_no_headline_without_a_title_or_a_match():
    root = parse_html(PAGE)
    assert find_headline(root, [None]) is None
    assert find_headline(root, ["Một tiêu đề khác hẳn - Báo Nam Định"]) is None


def test_section_names_are_the_menu_links():
    assert {"Thời sự", "Chính trị - Xã hội"} <= section_names(parse_html(PAGE))


def test_the_record_of_a_page_printing_its_headline_in_capitals_has_the_titles_case():
    from crawler.extract.article import extract_article

    paragraph = ("Hội nghị đã thảo luận, thống nhất các chỉ tiêu, nhiệm vụ trọng tâm năm tới; toàn "
                 "Đảng bộ đã kết nạp nhiều đảng viên mới và thành lập mới các tổ chức cơ sở Đảng.")
    html = (f"<html><head><title>{HEADLINE} - Báo Nam Định</title></head><body><h1>"
            f"{HEADLINE.upper()}</h1><div class='content'>{f'<p>{paragraph}</p>' * 3}</div>"
            "</body></html>")
    item = extract_article(html, "https://baonamdinh.vn/xa-hoi/202401/hoi-nghi-8fb6d67/",
                           fetched_at="2024-01-20T10:00:00+07:00")
    assert item.title == HEADLINE
