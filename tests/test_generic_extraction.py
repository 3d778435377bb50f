"""Issue 20's generic layers: truncation, voters, confidence, the uncertain alarm, and the
development sets' scorer and split (the fixture pairs generic-* hold the page-level cases)."""

from __future__ import annotations

import collections
import random

import pytest

from bench.devsets.rouge import rouge_lsum, sentences, tokens
from bench.devsets.sets import DEV, cleaneval_truth, load, missing_message, part_of
from crawler.extract.article import extract_article
from crawler.extract.confidence import assess
from crawler.extract.heuristic import main_content
from crawler.extract.html import parse_html
from crawler.extract.related import without_related
from crawler.extract.truncation import looks_truncated
from crawler.extract.voters import MIN_AGREED_CHARS, elect
from crawler.run.report import coverage_alarms

PROSE = ("Người dân xã Hải Minh đã thu hoạch xong lúa mùa sớm, năng suất đạt khá, giá bán ổn "
         "định, và chuẩn bị gieo cấy vụ đông theo kế hoạch của huyện. ")
PAGE = (f"<html><head><title>T</title></head><body><div><div><div><p>{PROSE * 20}</p>"
        "</div></div></div><footer>Tòa soạn</footer></body></html>")


@pytest.mark.parametrize("html, truncated", [
    (PAGE, False),
    # Complete pages without </html>: a closing script, a comment, </body> alone.
    (PAGE.replace("</body></html>", "<script>var a = 1;</script>"), False),
    (PAGE.replace("</body></html>", "<!-- end -->"), False),
    (PAGE.replace("</html>", ""), False),
    # An old page that ends in text after its last table closed (CleanEval holds several).
    ("<html><body><table><tr><td><p>" + PROSE * 20 + "</p></td></tr></table>\n<br>&nbsp;",
     False),
    ("<html><body><div><p>" + PROSE * 20 + "</p></div>\n<p>Main page.", False),
    # Cut mid-text, mid-tag, and right after a tag with containers open.
    (PAGE[:200], True),
    (PAGE[:PAGE.index("<footer>") + 4], True),
    (PAGE[:PAGE.index("</p>") + 4], True),
    # Cut in the text of an old page, its table still open.
    ("<html><body><table><tr><td><p>" + PROSE * 3, True),
])
def test_truncated_means_stopping_mid_document(html, truncated):
    assert looks_truncated(html) is truncated


def test_a_cut_anywhere_in_a_real_page_is_almost_always_seen():
    page = PAGE * 1  # one page of nested blocks
    rng = random.Random(5)
    cuts = [rng.randint(len(page) // 10, len(page) * 9 // 10) for _ in range(200)]
    missed = sum(not looks_truncated(page[:cut]) for cut in cuts)
    assert missed <= 10


@pytest.mark.parametrize("paragraphs, kept", [
    # A teaser box after a "Bạn có thể quan tâm" heading in the second half goes.
    ([PROSE, PROSE, "Bạn có thể quan tâm", "Giao Thủy được mùa.", "Xuân Trường chuẩn bị."], 2),
    ([PROSE, PROSE, "Related articles:", "Another story"], 2),
    ([PROSE, PROSE, "Cùng chuyên mục", "Giao Thủy được mùa."], 2),
    ([PROSE, PROSE, "Các tin đã đưa:", "Giao Thủy được mùa.", "Xuân Trường chuẩn bị."], 2),
    ([PROSE, PROSE, "Tin bài khác", "Giao Thủy được mùa."], 2),
    ([PROSE, PROSE, "Most read in world news", "Another story"], 2),
    # A one-line pointer goes wherever it is.
    ([PROSE, "Xem thêm: Hải Hậu đẩy mạnh cơ giới hóa", PROSE], 2),
    # So does a prompt to subscribe to a newsletter; a sentence about signing up is text.
    ([PROSE, "Get the latest updates right in your inbox. Subscribe to NJ.com’s newsletters.",
      PROSE], 2),
    ([PROSE, PROSE, "Đăng ký nhận bản tin hằng tuần của Báo Nam Định tại đây."], 2),
    ([PROSE, PROSE, "FREE Newsletter. Sign Up Now!"], 2),
    ([PROSE, "If you just want Disney+, you can sign up for a free 7-day trial.", PROSE], 3),
    # Such a heading early in the body, before most of the text, is not the box.
    (["Tin liên quan", PROSE, PROSE], 3),
    # An ordinary short line is kept.
    ([PROSE, PROSE, "Xuân Thu"], 3),
])
def test_related_boxes_leave_the_body(paragraphs, kept):
    assert len(without_related(paragraphs)) == kept


def test_the_signature_under_a_related_box_stays_the_bodys_end():
    box = ["Tin liên quan", "Bộ Giáo dục công bố dự thảo quy chế thi tốt nghiệp năm 2013",
           "Hà Nội tuyển sinh lớp 10 theo phương án mới"]
    assert without_related([PROSE, PROSE, *box, "Minh Anh"]) == [PROSE, PROSE, "Minh Anh"]
    assert without_related([PROSE, PROSE, *box, "Bài và ảnh: Thu Hà"]) == \
        [PROSE, PROSE, "Bài và ảnh: Thu Hà"]
    # the box's own last item is no signature
    assert without_related([PROSE, PROSE, *box]) == [PROSE, PROSE]
    assert without_related([PROSE, PROSE, "Related articles", "Another story", "Top Stories"]) \
        == [PROSE, PROSE]


def test_the_heading_of_a_box_whose_links_are_gone_leaves_the_text_under_it():
    # a "Tin liên quan" box in the middle of the text: its link paragraphs were left out as
    # links, its heading is left, and the text goes on under it
    text = PROSE.strip()
    assert without_related([text, text, "Tin liên quan:", text, text]) == [text] * 4
    # one paragraph under it is the box's (an author's biography under "Read more:")
    assert without_related([text, text, text, "Read more:", text]) == [text] * 3


def test_pointers_to_other_articles_leave_the_body_wherever_they_are():
    link = "Khánh thành cầu mới nối hai huyện Giao Thủy và Hải Hậu"
    root = parse_html(f'<html><body><p>{PROSE}</p><p>&gt;&gt; <a href="/x/">{link}</a></p>'
                      f"<p>{PROSE}</p></body></html>")
    pointers = [f">> {link}", f"» {link}", f">> Xem thêm: {link}", f"» Đọc thêm: {link}",
                "Mời bạn đọc xem thêm video:", "Mời quý vị theo dõi video"]
    for pointer in pointers:
        assert without_related([PROSE, pointer, PROSE], root) == [PROSE, PROSE], pointer
    # ">>" before what is no link of the page is a quote (a forum's, a mail's): kept; and
    # without the page, ">> <text>" is never taken for a pointer.
    quoted = [">> My therapist says it is because of the magnet in my hand set.. <<",
              f">> {link} đã được khánh thành"]
    for line in quoted:
        assert without_related([PROSE, line, PROSE], root) == [PROSE, line, PROSE], line
    assert without_related([PROSE, f">> {link}", PROSE]) == [PROSE, f">> {link}", PROSE]


@pytest.mark.parametrize("heading", ["Ý kiến bạn đọc (12)", "Bình luận", "Gửi bình luận của bạn:",
                                     "Ý kiến của bạn"])
def test_readers_comments_leave_the_body_however_long(heading):
    comments = [f"Bạn đọc {i}: tôi đồng ý, ngành giáo dục cần đổi mới mạnh mẽ hơn nữa." for i in
                range(20)]
    assert without_related([PROSE, PROSE, heading, *comments]) == [PROSE, PROSE]
    # Not before the body has begun: a line so named at the top is the page's, not comments.
    assert without_related([heading, PROSE, PROSE]) == [heading, PROSE, PROSE]


ARTICLE = ["Chiều 20/12, Bộ Giáo dục và Đào tạo tổ chức hội nghị tổng kết năm học, với đại diện "
           "của 63 sở giáo dục trên cả nước.",
           "Bộ trưởng cho biết ngành đã hoàn thành cơ bản các chỉ tiêu, tỷ lệ huy động trẻ đến "
           "trường đạt cao nhất từ trước tới nay.",
           "Tuy nhiên, Bộ trưởng cũng chỉ ra những hạn chế như tình trạng dạy thêm, học thêm tràn "
           "lan, chất lượng giáo dục giữa các vùng miền còn chênh lệch lớn.",
           "Năm tới, ngành tập trung đổi mới phương pháp dạy học, kiểm tra đánh giá, nâng cao chất "
           "lượng đội ngũ giáo viên và cán bộ quản lý giáo dục."]


def _teasers(count: int) -> str:
    return "".join(
        f'<div class="item"><h3><a href="/giao-duc/201212/t{i}-a1b2c{i:02d}/">Tin giáo dục số '
        f"{i}: học sinh nghèo vượt khó vươn lên học giỏi</a></h3><p>Dù hoàn cảnh gia đình vô "
        "cùng khó khăn, em vẫn nỗ lực học tập, đạt nhiều thành tích trong các kỳ thi học sinh "
        f"giỏi cấp tỉnh, cấp quốc gia năm học vừa qua {i}.</p></div>" for i in range(count))


@pytest.mark.parametrize("layout", ["beside", "below"])
def test_a_list_of_teasers_longer_than_the_article_is_not_the_article(layout):
    article = ("<h1>Ngành giáo dục tổng kết năm học</h1><div class='content'>"
               + "".join(f"<p>{p}</p>" for p in ARTICLE) + "</div>")
    teasers = f"<div class='list-news'>{_teasers(20)}</div>"
    inner = (f"<div class='l'>{article}</div><div class='r'>{teasers}</div>" if layout == "beside"
             else f"<div class='detail'>{article}<h3>Các tin khác</h3>{teasers}</div>")
    html = (f"<html><head><title>Ngành giáo dục tổng kết năm học</title></head><body>{inner}"
            "</body></html>")
    assert [c.get("class") for c in main_content(parse_html(html))] == ["content"]
    if layout == "beside":
        item = extract_article(html, "https://baonamdinh.vn/giao-duc/201212/nganh-a1b2c3d/",
                               fetched_at="2013-01-01T00:00:00+07:00")
        assert item.body.split("\n\n") == ARTICLE


@pytest.mark.parametrize(("header", "taken"), [
    # The headline's own block, with the date line and the author: the article's header.
    ("<h1>Ngành giáo dục tổng kết năm học</h1><p>Thứ Năm, 20/12/2012 10:18</p>"
     "<p>Minh Anh</p>", False),
    # The headline above the story's first paragraph, the rest split off by an advertisement.
    (f"<h1>Ngành giáo dục tổng kết năm học</h1><p>{ARTICLE[0]}</p>", True),
])
def test_the_block_of_the_headline_is_body_only_when_it_holds_prose(header, taken):
    html = ("<html><head><title>Ngành giáo dục tổng kết năm học</title></head><body>"
            f"<div class='main'><div class='article-header'>{header}</div>"
            "<div class='article-body'>" + "".join(f"<p>{p}</p>" for p in ARTICLE[1:])
            + "</div></div></body></html>")
    found = [c.get("class") for c in main_content(parse_html(html))]
    assert found == (["article-header", "article-body"] if taken else ["article-body"])


def _article_with(block: str):
    """Return the record of a page printing ARTICLE with ``block`` after its second paragraph."""
    html = ("<html><head><title>Ngành giáo dục tổng kết năm học</title></head><body>"
            "<h1>Ngành giáo dục tổng kết năm học</h1><div class='content'>"
            + "".join(f"<p>{p}</p>" for p in ARTICLE[:2]) + block
            + "".join(f"<p>{p}</p>" for p in ARTICLE[2:]) + "</div></body></html>")
    return extract_article(html, "https://baonamdinh.vn/giao-duc/201212/nganh-a1b2c3d/",
                           fetched_at="2013-01-01T00:00:00+07:00")


def test_a_block_that_is_nothing_but_a_link_is_no_part_of_the_body():
    # an advertisement's link in a <div> of its own between two paragraphs
    ad = "<div class='adv'><a href='http://ads.example/'>Quảng cáo: Mua căn hộ giá rẻ</a></div>"
    assert _article_with(ad).body.split("\n\n") == ARTICLE


CAPTION = "Bộ trưởng phát biểu tại hội nghị tổng kết. Ảnh: Minh Anh"
PHOTO = '<p style="text-align:center"><img src="/uploads/2012/12/hoi-nghi.jpg" alt=""></p>'


@pytest.mark.parametrize("photo", [
    # the caption in a line of its own under the photo's paragraph: italic, centred, credited
    PHOTO + f'<p style="text-align:center"><em>{CAPTION}</em></p>',
    PHOTO + "<p><em>Bộ trưởng phát biểu tại hội nghị tổng kết năm học 2012.</em></p>",
    PHOTO + '<div style="text-align: center;">Toàn cảnh hội nghị tổng kết năm học.</div>',
    PHOTO + f'<p class="image-desc">{CAPTION}</p>',
    # ... or in the photo's own paragraph, under a <br>
    f'<p style="text-align:center"><img src="/uploads/2012/12/hoi-nghi.jpg"><br><em>{CAPTION}'
    "</em></p>",
])
def test_the_line_printed_under_a_photo_is_its_caption(photo):
    item = _article_with(photo)
    assert item.body.split("\n\n") == ARTICLE
    assert [image["url"] for image in item.images] == [
        "https://baonamdinh.vn/uploads/2012/12/hoi-nghi.jpg"]
    assert item.images[0]["caption"]


@pytest.mark.parametrize("line", [
    # a quotation, a foreign page's italic line, a paragraph of text: no caption
    "<p><em>“Chúng tôi sẽ tiếp tục đổi mới,” Bộ trưởng nói.</em></p>",
    "<p><em>The show was really great, we enjoyed every minute of it.</em></p>",
    "<p>Hội nghị diễn ra trong hai ngày với sự tham gia của đại diện các sở giáo dục.</p>",
])
def test_a_line_under_a_photo_that_is_not_printed_as_a_caption_stays_text(line):
    from crawler.extract.html import body_blocks
    from crawler.extract.typography import prints_caption

    root = parse_html(f"<html><body><div class='c'>{PHOTO}{line}</div></body></html>")
    paragraphs, images = body_blocks([root.find(".//div")], "https://baonamdinh.vn/",
                                     caption=prints_caption)
    assert len(paragraphs) == 1 and len(images) == 1 and not images[0]["caption"]


def test_a_caption_line_taken_for_a_block_of_text_is_no_body():
    from crawler.extract.html import body_blocks
    from crawler.extract.typography import prints_caption

    root = parse_html(f"<html><body><div>{PHOTO}<p><em>Toàn cảnh hội nghị tổng kết năm học.</em>"
                      f"</p><div class='c'><p>{ARTICLE[0]}</p></div></div></body></html>")
    caption_line = root.find(".//div").findall("p")[1]
    paragraphs, _images = body_blocks([caption_line, root.find(".//div[@class='c']")],
                                      "https://baonamdinh.vn/", caption=prints_caption)
    assert paragraphs == [ARTICLE[0]]


def test_a_paragraph_of_a_photo_is_no_junk_a_link_beside_an_icon_is():
    from crawler.extract.heuristic import is_junk

    photo = parse_html(f"<html><body>{PHOTO}</body></html>").find(".//p")
    icon = parse_html('<html><body><p><img src="/up.gif"> <a href="#top">Back to Top</a></p>'
                      "</body></html>").find(".//p")
    assert not is_junk(photo)
    assert is_junk(icon)


def test_a_line_break_in_the_html_source_is_a_space():
    # as a browser shows it: only <br> and blocks break lines, and <pre> keeps its own
    from crawler.extract.html import body_blocks

    root = parse_html("<html><body><div class='c'><p>Sáng 20/12, Bộ Giáo dục\n   tổ chức <b>hội\n"
                      "nghị</b> tổng kết.<br>Dòng sau.</p><pre>a = 1\nb = 2</pre></div></body></html>")
    paragraphs, _images = body_blocks([root.find(".//div")], "https://baonamdinh.vn/")
    assert paragraphs == ["Sáng 20/12, Bộ Giáo dục tổ chức hội nghị tổng kết.", "Dòng sau.",
                          "a = 1", "b = 2"]


def test_an_authors_biography_is_no_part_of_the_body():
    bio = ("<div class='author-bio'><img src='/a.jpg'><p>Minh Anh là phóng viên mảng giáo dục "
           "từ năm 2010. Trước khi về tòa soạn, chị từng công tác mười năm tại nhiều cơ quan báo "
           "chí trung ương và địa phương, đoạt nhiều giải thưởng báo chí về đề tài tài chính, "
           "giáo dục, y tế, và là tác giả của hai cuốn sách về nghề báo.</p></div>")
    html = ("<html><head><title>Ngành giáo dục tổng kết năm học</title></head><body><article>"
            "<h1>Ngành giáo dục tổng kết năm học</h1><div class='content'>"
            + "".join(f"<p>{p}</p>" for p in ARTICLE) + f"</div>{bio}</article></body></html>")
    item = extract_article(html, "https://baonamdinh.vn/giao-duc/201212/nganh-a1b2c3d/",
                           fetched_at="2013-01-01T00:00:00+07:00")
    assert item.body.split("\n\n") == ARTICLE


@pytest.mark.parametrize("box", ["grid next-prev", "rail rail--trending"])
def test_the_previous_and_next_articles_and_a_trending_rail_are_no_part_of_the_body(box):
    # Their headlines are links (gone anyway); their summaries and author/date lines are not.
    teaser = ("<div class='{0}'><a href='/xa-hoi/201212/{0}-a1b2c3e/'><h5>Bài {0}</h5></a>"
              "<p>Huyện Hải Hậu khởi công cầu mới qua sông Ninh Cơ, tổng vốn đầu tư hơn 200 tỷ "
              "đồng, dự kiến hoàn thành vào cuối năm sau.</p><label>Minh Anh 2012-12-20 "
              "17:27:46</label></div>")
    html = ("<html><head><title>Ngành giáo dục tổng kết năm học</title></head><body><article>"
            "<h1>Ngành giáo dục tổng kết năm học</h1><div class='content'>"
            + "".join(f"<p>{p}</p>" for p in ARTICLE)
            + f"<div class='{box}'>" + teaser.format("next") + teaser.format("prev")
            + "</div></div></article></body></html>")
    item = extract_article(html, "https://baonamdinh.vn/giao-duc/201212/nganh-a1b2c3d/",
                           fetched_at="2013-01-01T00:00:00+07:00")
    assert item.body.split("\n\n") == ARTICLE


def test_a_page_that_is_nothing_but_such_a_list_keeps_it():
    # A listicle: the items are the page's text.
    html = (f"<html><head><title>Mười gương học sinh vượt khó</title></head><body><h1>Mười gương "
            f"học sinh vượt khó</h1><div class='list'>{_teasers(10)}</div></body></html>")
    assert [c.get("class") for c in main_content(parse_html(html))] == ["list"]
    item = extract_article(html, "https://baonamdinh.vn/giao-duc/201212/muoi-a1b2c3d/",
                           fetched_at="2013-01-01T00:00:00+07:00")
    assert item.body.count("Dù hoàn cảnh gia đình") == 10


def test_two_voters_agreeing_replace_a_short_body():
    ours = ["Đăng ký nhận bản tin"]
    story = "\n".join([PROSE.strip()] * 4)
    winner, lines, agreed = elect(ours, {"readability": story, "trafilatura": story})
    assert winner in ("readability", "trafilatura") and "\n".join(lines) == story
    assert agreed == sorted({"readability", "trafilatura"} - {winner})


def test_one_voter_alone_never_gives_the_body():
    ours = [PROSE.strip()]
    teasers = "\n".join(f"Tin {i}: một bài khác của chuyên mục nông nghiệp" for i in range(30))
    winner, lines, _agreed = elect(ours, {"readability": teasers, "trafilatura": ""})
    assert winner == "heuristic" and lines == ours


def test_voters_agreeing_on_too_little_leave_ours():
    short = "Một câu ngắn hai bên cùng có."
    assert len(short) < MIN_AGREED_CHARS
    winner, _lines, _agreed = elect([], {"readability": short, "trafilatura": short})
    assert winner == "heuristic"


@pytest.mark.parametrize("layer, kwargs, uncertain", [
    ("site", {}, False),
    ("heuristic", {"meta_body": PROSE * 10}, False),
    ("heuristic", {"description": PROSE}, False),
    ("heuristic", {}, False),
    ("heuristic", {"headline": False}, True),
    ("heuristic", {"widened": True, "headline": False}, True),
    ("readability", {"voters": ["trafilatura"]}, False),
])
def test_confidence(layer, kwargs, uncertain):
    found = assess(layer, [PROSE * 8], **kwargs)
    assert 0 <= found["confidence"] <= 1 and found["uncertain"] is uncertain
    assert found["agreed"][0] == layer
    if layer == "site":
        assert found == {"confidence": 1.0, "uncertain": False, "agreed": ["site"]}


def _coverage(uncertain: float) -> dict:
    return {"records": 100, "fields": {}, "site_layer": {}, "templates_matched": 1.0,
            "by_template": {}, "uncertain_share": uncertain}


@pytest.mark.parametrize("now, alarms", [(0.05, 0), (0.2, 0), (0.5, 1)])
def test_the_coverage_alarm_watches_uncertain_records(now, alarms):
    previous = [{"coverage": _coverage(0.05)}] * 3
    found = coverage_alarms(_coverage(now), previous, drop=0.3, min_records=10)
    assert len(found) == alarms
    assert all("uncertain" in alarm and "rose" in alarm for alarm in found)


def _reference_rouge(target: str, prediction: str) -> tuple[float, float]:
    """rouge-score's summary-level LCS written plainly (small inputs only)."""
    def table(ref, can):
        t = [[0] * (len(can) + 1) for _ in range(len(ref) + 1)]
        for i in range(1, len(ref) + 1):
            for j in range(1, len(can) + 1):
                t[i][j] = t[i - 1][j - 1] + 1 if ref[i - 1] == can[j - 1] else \
                    max(t[i - 1][j], t[i][j - 1])
        return t

    def backtrack(t, ref, can):
        i, j, found = len(ref), len(can), []
        while i > 0 and j > 0:
            if ref[i - 1] == can[j - 1]:
                found.append(i - 1)
                i, j = i - 1, j - 1
            elif t[i][j - 1] > t[i - 1][j]:
                j -= 1
            else:
                i -= 1
        return found

    refs = [t for t in (tokens(s) for s in sentences(target)) if t]
    cands = [t for t in (tokens(s) for s in sentences(prediction)) if t]
    ref_counts = collections.Counter(t for s in refs for t in s)
    cand_counts = collections.Counter(t for s in cands for t in s)
    hits = 0
    for ref in refs:
        for pos in sorted(set().union(*[backtrack(table(ref, c), ref, c) for c in cands])):
            if ref_counts[ref[pos]] > 0 and cand_counts[ref[pos]] > 0:
                hits += 1
                ref_counts[ref[pos]] -= 1
                cand_counts[ref[pos]] -= 1
    return hits / sum(map(len, cands)), hits / sum(map(len, refs))


def test_rouge_lsum_is_rouge_scores_summary_level_lcs():
    rng = random.Random(1)
    words = "a b c d e f g".split()

    def text() -> str:
        return " ".join(rng.choice(words) + ("." if rng.random() < 0.15 else "")
                        + (" X" if rng.random() < 0.1 else "") for _ in range(rng.randint(1, 40)))

    for _ in range(200):
        target, prediction = text(), text()
        got = rouge_lsum(target, prediction)
        assert (got.precision, got.recall) == pytest.approx(_reference_rouge(target, prediction))


@pytest.mark.parametrize("target, prediction, f1", [
    ("", "", 1.0), ("", "x", 0.0), ("One sentence here.", "", 0.0),
    ("One sentence here. Another one.", "One sentence here. Another one.", 1.0),
])
def test_rouge_lsum_edge_cases(target, prediction, f1):
    assert rouge_lsum(target, prediction).f1 == f1


def test_the_split_is_fixed_and_about_seventy_thirty():
    parts = [part_of("cleaneval", str(n)) for n in range(2000)]
    assert parts == [part_of("cleaneval", str(n)) for n in range(2000)]
    assert 0.66 < parts.count(DEV) / len(parts) < 0.74


def test_cleaneval_truth_loses_marks_url_and_bom():
    raw = "\ufeffURL: http://x.org/a\n\n <h>  Title &amp; more\n   <p>  Body text\n"
    assert cleaneval_truth(raw) == "Title & more\nBody text"


def test_sets_are_read_from_the_folder_and_absent_ones_named(tmp_path):
    case = tmp_path / "readability" / "test-pages" / "one"
    case.mkdir(parents=True)
    (case / "source.html").write_text("<html><body><p>Hello world.</p></body></html>")
    (case / "expected.html").write_text("<div><p>Hello world.</p></div>")
    (tmp_path / "cleaneval" / "orig").mkdir(parents=True)
    (tmp_path / "cleaneval" / "clean").mkdir(parents=True)
    (tmp_path / "cleaneval" / "orig" / "7.html").write_text(
        '<text id="http://x/" title="t" encoding="unset">\n<p>Hi there.</p>\n</text>')
    (tmp_path / "cleaneval" / "clean" / "7.txt").write_text("URL: http://x/\n<p> Hi there.\n")
    pages = load("readability", folder=tmp_path) + load("cleaneval", folder=tmp_path)
    assert [(p.set, p.key, p.truth) for p in pages] == [
        ("readability", "one", "Hello world."), ("cleaneval", "7", "Hi there.")]
    assert b"<text" not in pages[1].html and pages[1].url == "http://x/"
    message = missing_message(tmp_path)
    assert message is not None and "cetd, google-trends-2017" in message
    assert "\n" not in message


@pytest.mark.parametrize("text, entity", [
    ("Tom &amp; Jerry", True), ("caf&#233;", True), ("a &nbsp; b", True),
    # A misspelt entity is text the reader sees as written: no reason to lose the page.
    ("1990 &emdash; 2000", False), ("R&D; costs", False), ("no entity", False),
])
def test_only_entities_that_decode_are_left_over_entities(text, entity):
    from crawler.schema.validation import _holds_entity

    assert _holds_entity(text) is entity


def test_a_body_the_voters_agree_on_names_the_voter_in_provenance():
    """An article written as list items: our heuristic finds no paragraph, both voters read it."""
    from crawler.extract.article import extract_article

    items = "".join(f"<li>{PROSE * 2}</li>" for _ in range(5))
    html = (f"<html><head><title>Tin nông nghiệp</title></head><body><h1>Nông dân thu hoạch "
            f"lúa</h1><ul>{items}</ul></body></html>")
    item = extract_article(html, "https://baonamdinh.vn/xa-hoi/202012/tin-abcdef1/",
                           fetched_at="2020-12-31T12:00:00+07:00")
    voter = item.provenance["body"]
    assert voter in ("readability", "trafilatura") and item.provenance["lead"] == voter
    assert item.extraction["agreed"][0] == voter and len(item.extraction["agreed"]) == 2
    assert PROSE.strip()[:40] in item.body


def test_a_body_from_the_metadata_is_not_confirmed_by_the_metadata_again():
    """The page's description agreeing with a body that came from the metadata is the metadata
    agreeing with itself: no second "metadata" among those who agreed, and no bonus for it."""
    body = ["Hội nghị tổng kết công tác năm 2022 của tỉnh Nam Định diễn ra sáng nay tại hội trường."]
    description = "Hội nghị tổng kết công tác năm 2022 của tỉnh Nam Định"
    alone = assess("metadata", body)
    with_description = assess("metadata", body, description=description, meta_body=body[0])
    assert with_description["agreed"] == ["metadata"]
    assert with_description["confidence"] == alone["confidence"]
    heuristic = assess("heuristic", body, description=description)
    assert heuristic["agreed"] == ["heuristic", "metadata"]
    assert heuristic["confidence"] > assess("heuristic", body)["confidence"]
