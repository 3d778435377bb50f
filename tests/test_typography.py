"""How a block is printed (crawler/extract/typography.py): bold or in italics by its tag, its
style, a CSS utility class, or the inline elements nearly all of its text sits in; and whether a
short line is printed as a photo's caption."""

from __future__ import annotations

import pytest

from crawler.extract.html import parse_html
from crawler.extract.typography import is_bold, is_italic, prints_caption


def element(html: str):
    return parse_html(f"<html><body>{html}</body></html>").find(".//body")[0]


@pytest.mark.parametrize(("html", "bold"), [
    ("<h2>Sapo</h2>", True),
    ('<div style="font-weight: 700">Sapo của bài</div>', True),
    ("<p><strong>Sapo của bài</strong> </p>", True),
    # a utility class says so (a paper's "bold top-10", Bootstrap's "fw-bold")
    ('<div class="bold top-10">Sapo của bài</div>', True),
    ('<div class="fw-bold">Sapo của bài</div>', True),
    ('<div class="textBold">Sapo của bài</div>', True),
    # a class that only holds the letters is no such word
    ('<div class="semibold">Sapo của bài</div>', False),
    ('<div class="bolder-box">Sapo của bài</div>', False),
    ("<p>Đoạn văn có <b>một chữ</b> đậm giữa những chữ thường.</p>", False),
])
def test_is_bold(html, bold):
    assert is_bold(element(html)) is bold


@pytest.mark.parametrize(("html", "italic"), [
    ("<p><em>Sapo của bài</em></p>", True),
    ('<div class="fst-italic">Sapo của bài</div>', True),
    ('<div style="font-style: italic">Sapo của bài</div>', True),
    ('<div class="italics-off">Sapo của bài</div>', False),
])
def test_is_italic(html, italic):
    assert is_italic(element(html)) is italic


@pytest.mark.parametrize(("html", "caption"), [
    # a photo's credit ends it, in any language
    ("<p>Toàn cảnh hội nghị. Ảnh: Minh Anh</p>", True),
    ("<p>Delegates at the conference (Photo: Reuters)</p>", True),
    ("<p><em>Ảnh minh họa</em></p>", True),
    # italic or centred, in a Vietnamese text
    ('<p style="text-align: center">Toàn cảnh hội nghị tổng kết năm học.</p>', True),
    ('<p align="center"><i>Toàn cảnh hội nghị tổng kết năm học.</i></p>', True),
    # not a foreign page's italic line, a quotation, plain text or a long block
    ("<p><em>The conference was a great success for everyone.</em></p>", False),
    ("<p><em>“Chúng tôi sẽ tiếp tục đổi mới,” Bộ trưởng nói.</em></p>", False),
    ("<p>Toàn cảnh hội nghị tổng kết năm học.</p>", False),
    ("<p><em>" + "Hội nghị tổng kết năm học diễn ra tại Hà Nội. " * 8 + "</em></p>", False),
])
def test_prints_caption(html, caption):
    assert prints_caption(element(html)) is caption
