"""The generic layers' block-level ensemble (crawler/extract/ensemble.py): made-up candidate
bodies of ours and the two voters, and what the vote keeps, refuses and where it puts it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import crawler.extract.article as article
from crawler.extract import ensemble
from crawler.extract.article import ExtractionError, extract_article
from crawler.extract.ensemble import RULES, vote
from crawler.extract.voters import lone_body

# Paragraphs of a made-up story, each distinct in its words.
A = "Hội đồng nhân dân huyện Hải Hậu họp phiên bất thường bàn về cây cầu mới qua sông Ninh Cơ."
B = "Các kỹ sư cho biết việc xây dựng có thể bắt đầu trong vòng hai năm tới nếu đủ vốn."
C = "Nguồn vốn dự kiến lấy từ chương trình hỗ trợ giao thông của vùng đồng bằng sông Hồng."
D = "Người dân sẽ góp ý kiến về phương án vào tháng Ba năm sau tại nhà văn hóa các xã."
E = "Chủ tịch huyện gọi đây là ngày đáng nhớ của cả vùng ven biển sau nhiều năm chờ đợi."
F = ("Theo kế hoạch, cây cầu dài gần một cây số, có bốn làn xe và lối đi bộ riêng cho người dân "
     "hai bên bờ, nối thị trấn Thịnh Long với các xã phía bắc của huyện Nghĩa Hưng.")
G = ("Trước đó, bà con vẫn phải qua sông bằng phà, mỗi chuyến mất gần nửa giờ và phải dừng lại "
     "mỗi khi nước lớn hay gió mạnh, nhất là trong mùa mưa bão hằng năm ở vùng ven biển.")
TEASER = "Đọc thêm: giá lúa mùa tăng mạnh ở các huyện phía nam tỉnh trong tuần qua"
MENU = "Trang chủ Thời sự Kinh tế Văn hóa Thể thao Pháp luật Bạn đọc Ảnh Video"
CAPTION = "Ảnh: cây cầu cũ qua sông Ninh Cơ nhìn từ phía thị trấn Thịnh Long buổi sáng"
MAJORITY = dataclasses.replace(RULES, ours_weight=1.0)


def lines(*paragraphs: str) -> str:
    return "\n".join(paragraphs)


@pytest.mark.parametrize("ours, readability, trafilatura, expected", [
    # A paragraph both voters hold that ours missed is added where the voters print it.
    ([A, C, D], lines(A, B, C, D), lines(A, B, C, D), [A, B, C, D]),
    # ... at the start and at the end too.
    ([B, C], lines(A, B, C, D), lines(A, B, C, D), [A, B, C, D]),
    # One voter alone adds nothing.
    ([A, C], lines(A, B, C), lines(A, C), [A, C]),
    # Ours' paragraphs stay even when no voter holds them (ours weighs two votes).
    ([A, B, E], lines(A, B), lines(A, B), [A, B, E]),
    # The voters' own boilerplate, which only one holds, stays out.
    ([A, B], lines(MENU, A, B), lines(A, B, "Bản quyền thuộc về báo điện tử"), [A, B]),
    # A voter that cut a paragraph in two lines, or joined two, agrees all the same: nothing
    # is added twice.
    ([A, B, C], lines(A, B[:40], B[40:], C), lines(A, f"{B} {C}"), [A, B, C]),
    # A voter's plain-text marks (list bullets, table bars) are not text.
    ([A], lines(A, B), lines(A, f"- {B}"), [A, B]),
    ([A], lines(A, "Hạng 1 Nam Định 45 điểm 14 trận thắng"),
     lines(A, "| Hạng 1 | Nam Định | 45 điểm | 14 trận thắng |"),
     [A, "Hạng 1 Nam Định 45 điểm 14 trận thắng"]),
    # A voter that gave nothing abstains: ours stands.
    ([A, C], lines(A, B, C), "", [A, C]),
    # A paragraph only the voters hold that shares a phrase with a later one of ours (the sapo
    # and the text both say "cây cầu mới qua sông Ninh Cơ") goes where the voters print it.
    ([B, C, f"{D} Dự án cây cầu mới qua sông Ninh Cơ được chờ đợi."], lines(A, B, C, D),
     lines(A, B, C, D), [A, B, C, f"{D} Dự án cây cầu mới qua sông Ninh Cơ được chờ đợi."]),
    # Our heuristic found nothing: what both voters hold is the body, in their order.
    ([], lines(MENU, A, B, C), lines(A, B, C, "Bản quyền thuộc về báo"), [A, B, C]),
])
def test_a_paragraph_is_kept_when_two_of_three_hold_it(ours, readability, trafilatura, expected):
    voted = vote(ours, {"readability": readability, "trafilatura": trafilatura})
    assert voted.lines == expected


def test_a_table_row_one_voter_prints_as_cells_is_no_new_line():
    cells = ["Hạng", "Đội", "Điểm", "1", "Nam Định", "45", "2", "Hà Nội", "41"]
    row = "| Hạng | Đội | Điểm |\n| 1 | Nam Định | 45 |\n| 2 | Hà Nội | 41 |"
    voted = vote([A, *cells], {"readability": lines(A, *cells), "trafilatura": lines(A, row)})
    assert voted.lines == [A, *cells] and voted.added == 0


@pytest.mark.parametrize("kwargs", [
    {"captions": [CAPTION]},  # a photo's caption is the record's images[], never body
    {"links": [TEASER]},  # a line that is all link text is a pointer elsewhere
])
def test_what_our_rules_refuse_both_voters_cannot_add(kwargs):
    refused = CAPTION if "captions" in kwargs else TEASER
    bodies = {"readability": lines(A, refused, B), "trafilatura": lines(A, refused, B)}
    assert vote([A, B], bodies).lines == [A, refused, B]
    assert vote([A, B], bodies, **kwargs).lines == [A, B]


def test_a_link_inside_a_paragraph_does_not_refuse_it():
    bodies = {"readability": lines(A, B), "trafilatura": lines(A, B)}
    assert vote([A], bodies, links=["hai năm tới"]).lines == [A, B]


def test_chrome_vetoes_only_when_the_rules_say_so():
    bodies = {"readability": lines(A, MENU, B), "trafilatura": lines(A, MENU, B)}
    assert vote([A, B], bodies, chrome=[MENU]).lines == [A, MENU, B]
    rules = dataclasses.replace(RULES, veto_chrome=True)
    assert vote([A, B], bodies, chrome=[MENU], rules=rules).lines == [A, B]


def test_plain_majority_drops_what_no_voter_holds():
    bodies = {"readability": lines(A, B), "trafilatura": lines(A, B, C)}
    voted = vote([A, E, B], bodies, rules=MAJORITY)
    assert voted.lines == [A, B] and voted.dropped == 1
    # ... unless a voter gave nothing: then nothing of ours is judged.
    assert vote([A, E, B], {"readability": lines(A, B), "trafilatura": ""},
                rules=MAJORITY).lines == [A, E, B]


def test_ours_weighs_one_vote_below_the_confidence_it_needs():
    rules = dataclasses.replace(RULES, confident_above=0.7)
    bodies = {"readability": lines(A, B), "trafilatura": lines(A, B)}
    assert vote([A, E, B], bodies, confidence=0.9, rules=rules).lines == [A, E, B]
    assert vote([A, E, B], bodies, confidence=0.5, rules=rules).lines == [A, B]


def test_between_keeps_a_line_one_voter_holds_between_two_kept_lines():
    bodies = {"readability": lines(A, B, C), "trafilatura": lines(A, C)}
    assert vote([A, C], bodies).lines == [A, C]
    rules = dataclasses.replace(RULES, between=True)
    assert vote([A, C], bodies, rules=rules).lines == [A, B, C]
    # Not at either end: nothing kept surrounds it there.
    assert vote([A, C], {"readability": lines(A, C, D), "trafilatura": lines(A, C)},
                rules=rules).lines == [A, C]


def test_the_voters_that_agreed_are_named():
    voted = vote([A, B, C], {"readability": lines(A, B, C), "trafilatura": lines(A)})
    assert voted.agreed() == ["readability"]
    # A voter that gave a line of the body agreed with it, however little else it holds.
    voted = vote([A, C, D, E], {"readability": lines(A, B, C, D, E), "trafilatura": lines(B)})
    assert voted.lines == [A, B, C, D, E] and voted.agreed() == ["readability", "trafilatura"]
    # ... but only a voter holding half the body confirms it (raises the record's confidence).
    assert voted.confirming() == ["readability"]


def test_a_voter_that_gave_one_line_does_not_raise_the_confidence():
    from crawler.extract.confidence import assess

    body = [A, B, C, D, E]
    named = assess("heuristic", body, voters=["readability", "trafilatura"])
    confirmed = assess("heuristic", body, voters=["readability", "trafilatura"],
                       confirming=["readability"])
    assert named["agreed"] == confirmed["agreed"] == ["heuristic", "readability", "trafilatura"]
    assert confirmed["confidence"] == pytest.approx(named["confidence"] - 0.15)


# A page whose second paragraph stands in an <aside> (a pull quote, say), which our heuristic
# never reads; the voters' texts are stated (both hold it, and the photo's caption).
PAGE = ("<html><head><title>Cầu mới qua sông Ninh Cơ</title></head><body>"
        f"<h1>Cầu mới qua sông Ninh Cơ</h1><div class='content'><p>{A}</p>"
        f"<aside><p>{B}</p></aside><p>{C}</p><p>{D}</p><p>{E}</p><p>{F}</p><p>{G}</p>"
        f"<figure><img src='/a.jpg'><figcaption>{CAPTION}</figcaption></figure></div>"
        "</body></html>")
URL = "https://baonamdinh.vn/xa-hoi/202012/cau-moi-abcdef1/"


def test_the_ensemble_adds_the_voters_paragraph_to_the_record(monkeypatch):
    bodies = {"readability": lines(A, B, C, D, E, F, G, CAPTION),
              "trafilatura": lines(A, B, C, D, E, F, G, CAPTION)}
    monkeypatch.setattr(article, "ask", lambda html, url=None: bodies)
    item = extract_article(PAGE, URL, fetched_at="2020-12-31T12:00:00+07:00")
    assert item.body.split("\n\n") == [A, B, C, D, E, F, G]
    assert item.provenance["body"] == "heuristic"
    assert item.extraction["agreed"][:3] == ["heuristic", "readability", "trafilatura"]
    # The caption stays the photo's.
    assert [image["caption"] for image in item.images] == [CAPTION]


# A page whose story our heuristic reads one paragraph of (the rest is in an <aside>).
SHORT_PAGE = ("<html><head><title>Cầu mới qua sông Ninh Cơ</title></head><body>"
              f"<h1>Cầu mới qua sông Ninh Cơ</h1><div class='content'><p>{A} {E}</p></div>"
              f"<aside><p>{B}</p><p>{C}</p><p>{D}</p></aside></body></html>")


def test_where_ours_is_short_a_voters_whole_body_two_agree_on_is_taken_first(monkeypatch):
    bodies = {"readability": lines(f"{A} {E}", B, C, D), "trafilatura": lines(f"{A} {E}", B, C, D)}
    monkeypatch.setattr(article, "ask", lambda html, url=None: bodies)
    item = extract_article(SHORT_PAGE, URL, fetched_at="2020-12-31T12:00:00+07:00")
    # The election: a voter's body, whole, and that voter named for it.
    assert item.body.split("\n\n") == [f"{A} {E}", B, C, D]
    assert item.provenance["body"] == "readability"
    assert item.extraction["agreed"] == ["readability", "heuristic", "trafilatura"]
    # The vote alone keeps ours and adds what both voters hold: the same text, ours named.
    monkeypatch.setattr(ensemble, "RULES", dataclasses.replace(RULES, elect_below=None))
    item = extract_article(SHORT_PAGE, URL, fetched_at="2020-12-31T12:00:00+07:00")
    assert item.body.split("\n\n") == [f"{A} {E}", B, C, D]
    assert item.provenance["body"] == "heuristic"


def test_the_site_templates_never_ask_the_voters(monkeypatch):
    def refuse(html, url=None):
        raise AssertionError("a voter was asked on a page a template matched")

    monkeypatch.setattr(article, "ask", refuse)
    case = Path(__file__).parent / "fixtures" / "articles" / "new-cms-2024"
    meta = json.loads((case / "meta.json").read_text("utf-8"))
    item = extract_article((case / "page.html").read_text("utf-8"), meta["url"],
                           fetched_at=meta["fetched_at"])
    assert item.site_template and item.provenance["body"] == "site"


# A page whose story our heuristic cannot find (one short paragraph), and that one voter alone
# reads as prose: the last resort before "no article body".
LONE_PAGE = ("<html><head><title>Cầu mới qua sông Ninh Cơ</title></head><body>"
             f"<h1>Cầu mới qua sông Ninh Cơ</h1><div class='content'><p>{A}</p></div>"
             "</body></html>")


def test_a_voter_alone_that_reads_prose_gives_an_uncertain_record(monkeypatch):
    bodies = {"readability": "", "trafilatura": lines(MENU, B, C, D, F, G)}
    monkeypatch.setattr(article, "ask", lambda html, url=None: bodies)
    item = extract_article(LONE_PAGE, URL, fetched_at="2020-12-31T12:00:00+07:00")
    # From its first line of prose to its last: the menu before them stays out.
    assert item.body.split("\n\n") == [B, C, D, F, G]
    assert item.provenance["body"] == "trafilatura"
    assert item.extraction["uncertain"] and item.extraction["confidence"] < 0.5
    assert item.extraction["agreed"] == ["trafilatura"]


@pytest.mark.parametrize("text", [
    # Menus, a table of links, a one-line notice: no prose, no record.
    lines(MENU, "Trang chủ", "Liên hệ", "| Thời sự | Kinh tế | Văn hóa | Thể thao |"),
    lines(TEASER, "Xin lỗi, trang này hiện chưa có bài viết nào."),
    # Prose, but too little of it to be an article.
    lines(B, C),
])
def test_a_voter_alone_without_enough_prose_gives_no_body(monkeypatch, text):
    monkeypatch.setattr(article, "ask", lambda html, url=None: {"readability": "",
                                                                "trafilatura": text})
    with pytest.raises(ExtractionError, match="no article body found"):
        extract_article(LONE_PAGE, URL, fetched_at="2020-12-31T12:00:00+07:00")


def test_lone_body_reads_table_cells_and_takes_the_voter_with_most_prose():
    row = f"| {F} | {G} |"
    found = lone_body({"readability": lines(B, C, D, E), "trafilatura": lines(MENU, row, B)})
    assert found == ("trafilatura", [F, G, B])
    assert lone_body({"readability": lines(B, C), "trafilatura": MENU}) is None
