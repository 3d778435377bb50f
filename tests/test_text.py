"""Tables for the pure text helpers of crawler/normalise/text.py."""

from __future__ import annotations

import random
import unicodedata

import pytest

from crawler.normalise.boilerplate import strip_boilerplate, strip_boilerplate_detailed
from crawler.normalise.bylines import (
    Byline,
    is_byline,
    looks_like_credit,
    parse_byline,
    parse_top_author,
    remove_byline_copy,
    split_byline,
)
from crawler.normalise.captions import dedupe_captions
from crawler.normalise.keys import fold, longest_similar, similar
from crawler.normalise.lexicon import load_boilerplate
from crawler.normalise.text import clean_text, clean_title

# The seed dump (tests/fixtures/dumps/seed-2022-01-14/dump.txt) verbatim, NBSP lines and all, so
# these tests read no file.
SEED_DUMP = (
    "Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh triển khai nhiệm vụ năm 2022\n"
    "\n"
    "03:01, 14/01/2022\n"
    "\n"
    "Sáng 14-1, Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh tổ chức tổng kết công"
    " tác năm 2021 và triển khai nhiệm vụ năm 2022. Đồng chí Lê Quốc Chỉnh, Phó Bí"
    " thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh, Trưởng đoàn Đoàn đại biểu Quốc hội"
    " tỉnh tới dự và chỉ đạo hội nghị. Dự hội nghị có đồng chí Nguyễn Văn Va, Ủy viên"
    " Ban TVTU, Trưởng Ban Tổ chức Tỉnh ủy; lãnh đạo các Ban Xây dựng Đảng và Văn"
    " phòng Tỉnh ủy; các đồng chí ủy viên BCH Đảng bộ Khối các Cơ quan và Doanh"
    " nghiệp tỉnh và Thường trực các chi, đảng bộ cơ sở.\n"
    "\n"
    "Đồng chí Lê Quốc Chỉnh, Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh,"
    " Trưởng Đoàn ĐBQH tỉnh phát biểu chỉ đạo hội nghị.\n"
    "Đồng chí Lê Quốc Chỉnh, Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh,"
    " Trưởng Đoàn ĐBQH tỉnh phát biểu chỉ đạo hội nghị.\n"
    "\n"
    "Năm 2021, Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh luôn bám sát sự lãnh"
    " đạo, chỉ đạo của Tỉnh ủy, tập trung lãnh đạo, chỉ đạo, triển khai kịp thời, có"
    " hiệu quả các nhiệm vụ chính trị được giao. Trong đó, đã ban hành 3 nghị quyết"
    " chuyên đề theo Chương trình công tác toàn khóa của BCH Đảng bộ Khối; tỷ lệ tổ"
    " chức cơ sở Đảng hoàn thành tốt nhiệm vụ đạt 94%; tỷ lệ đảng viên xếp loại hoàn"
    " thành tốt nhiệm vụ trở lên đạt 96,6%; thành lập mới 2 tổ chức cơ sở Đảng trong"
    " các đơn vị kinh tế tư nhân; kết nạp 303 đảng viên mới. Các cấp ủy, tổ chức đảng"
    " trong Đảng bộ Khối đã phối hợp chặt chẽ với tập thể lãnh đạo các cơ quan, đơn"
    " vị, doanh nghiệp ban hành nhiều chủ trương, giải pháp quan trọng, quyết liệt"
    " trong phát triển kinh tế - xã hội, phòng chống dịch COVID-19, xây dựng và củng"
    " cố hệ thống chính trị; lãnh đạo, chỉ đạo, tổ chức, động viên cán bộ, đảng viên,"
    " công chức, viên chức, học sinh, sinh viên, người lao động khắc phục khó khăn"
    " trong bối cảnh dịch bệnh diễn biến phức tạp, nỗ lực phấn đấu thực hiện tốt"
    " nhiệm vụ chính trị. Kết quả trên đã góp phần quan trọng để kinh tế - xã hội năm"
    " 2021 của tỉnh tiếp tục chuyển biến tích cực và đạt kết quả quan trọng trên các"
    " lĩnh vực.\n"
    "\n"
    "Đồng chí Lê Quốc Chỉnh, Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh,"
    " Trưởng Đoàn ĐBQH tỉnh phát biểu chỉ đạo hội nghị.\n"
    "Đồng chí Vũ Hữu Thi, TUV, Bí thư Đảng ủy Khối các cơ quan và Doanh nghiệp tỉnh"
    " tặng Giấy khen của Ban Thường vụ Đảng ủy Khối các cơ quan và Doanh nghiệp tỉnh"
    " cho các tổ chức cơ sở Đảng hoàn thành xuất sắc nhiệm vụ tiêu biểu năm 2021.\n"
    "\n"
    "Năm 2022, Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh đề ra 4 chỉ tiêu và 7"
    " nhiệm vụ giải pháp, trong đó phấn đấu tỷ lệ tổ chức cơ sở Đảng hoàn thành tốt"
    " nhiệm vụ trở lên đạt 85%; tỷ lệ đảng viên xếp loại hoàn thành tốt nhiệm vụ trở"
    " lên đạt 90%. Phát triển từ 1 đến 2 tổ chức cơ sở Đảng trở lên trong các đơn vị"
    " kinh tế tư nhân. Kết nạp từ 300 đảng viên mới trở lên. Tỷ lệ tổ chức đoàn thể"
    " vững mạnh đạt 85% trở lên.\n"
    "\n"
    "Phát biểu chỉ đạo hội nghị, đồng chí Phó Bí thư Thường trực Tỉnh ủy Lê Quốc"
    " Chỉnh ghi nhận, đánh giá cao kết quả Đảng ủy Khối các Cơ quan và Doanh nghiệp"
    " tỉnh đã đạt được trong năm 2021, đồng thời đề nghị Đảng ủy Khối các Cơ quan và"
    " Doanh nghiệp tỉnh, các cấp ủy trực thuộc trong năm 2022 tập trung làm tốt công"
    " tác xây dựng đảng, nâng cao năng lực lãnh đạo và sức chiến đấu trong Đảng bộ;"
    " không ngừng chăm lo xây dựng tổ chức đảng trong sạch, vững mạnh cả về tư tưởng,"
    " chính trị, tổ chức, kiểm tra và dân vận. Tiếp tục triển khai thực hiện có hiệu"
    " quả Chỉ thị 05-CT/TW của Bộ Chính trị, đưa nội dung học tập và làm theo Bác"
    " thực sự trở thành ý thức tự giác, nhiệm vụ thường xuyên của các tổ chức đảng,"
    " các đoàn thể và của cán bộ, đảng viên. Tăng cường xây dựng, chỉnh đốn Đảng theo"
    " Nghị quyết Trung ương 4 khoá XII của Đảng. Tiếp tục xác định vai trò quan trọng"
    " của Đảng bộ Khối trong hệ thống tổ chức của Đảng bộ tỉnh để tập trung lãnh đạo,"
    " chỉ đạo các tổ chức cơ sở đảng trong khối tham mưu Tỉnh ủy, HĐND, UBND tỉnh cụ"
    " thể hóa Nghị quyết Đại hội Đảng bộ tỉnh lần thứ XX; đồng thời, bám sát yêu cầu,"
    " nhiệm vụ chính trị của tỉnh, chủ động xây dựng kế hoạch, chương trình hành động"
    " thực hiện các chủ trương, nghị quyết của Đảng phù hợp với đặc điểm, tình hình"
    " của từng cơ quan, đơn vị. Tập trung tham mưu, chỉ đạo thực hiện có hiệu quả các"
    " chương trình, đề án trọng tâm về phát triển kinh tế - xã hội; đẩy mạnh cải cách"
    " hành chính, phòng chống tham nhũng, lãng phí. Chủ động, tích cực hơn nữa trong"
    " xây dựng và thực hiện tốt Quy chế phối hợp giữa Đảng uỷ Khối và các ban cán sự"
    " đảng, đảng đoàn, lãnh đạo các cơ quan để chỉ đạo thực hiện tốt công tác xây"
    " dựng đảng, thực hiện nhiệm vụ chính trị của cơ quan, đơn vị trong Đảng bộ.\n"
    "\n"
    "Nhân dịp này, Ban Thường vụ Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh tặng"
    " Giấy khen cho 17 tổ chức cơ sở Đảng hoàn thành xuất sắc nhiệm vụ tiêu biểu năm"
    " 2021./.\n"
    "\n"
    "Tin ảnh: Văn Trọng\n"
    "\n"
    "\u00a0\n"
    "\n"
    "\n"
    "\u00a0BÁO NAM ĐỊNH ĐIỆN TỬ\n"
    "\n"
    "Tổng biên tập: Phạm Văn Trường\n"
    "\n"
    "Phó Tổng biên tập: Trần Vân Anh, Nguyễn Thị Thu Thủy\n"
    "\n"
    "Tòa soạn: Số 68 Trần Phú, TP Nam Định, tỉnh Nam Định\n"
    "\n"
    "Điện thoại: 0228.3849386; Email: toasoanbnd@gmail.com"
)

CAPTION_1 = (
    "Đồng chí Lê Quốc Chỉnh, Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh, "
    "Trưởng Đoàn ĐBQH tỉnh phát biểu chỉ đạo hội nghị."
)
CAPTION_2 = (
    "Đồng chí Vũ Hữu Thi, TUV, Bí thư Đảng ủy Khối các cơ quan và Doanh nghiệp tỉnh tặng "
    "Giấy khen của Ban Thường vụ Đảng ủy Khối các cơ quan và Doanh nghiệp tỉnh cho các tổ chức "
    "cơ sở Đảng hoàn thành xuất sắc nhiệm vụ tiêu biểu năm 2021."
)
LEAD = "Sáng 14-1, Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh tổ chức tổng kết công tác."
PARA = "Năm 2021, Đảng ủy Khối đã ban hành 3 nghị quyết chuyên đề."
LAST = "Nhân dịp này, Ban Thường vụ tặng Giấy khen cho 17 tổ chức cơ sở Đảng."

SEED_MASTHEAD = """BÁO NAM ĐỊNH ĐIỆN TỬ

Tổng biên tập: Phạm Văn Trường

Phó Tổng biên tập: Trần Vân Anh, Nguyễn Thị Thu Thủy

Tòa soạn: Số 68 Trần Phú, TP Nam Định, tỉnh Nam Định

Điện thoại: 0228.3849386; Email: toasoanbnd@gmail.com"""

# Invented editors, a different order, a licence line, "Toà" with the other tone placement.
INVENTED_MASTHEAD = """Báo Nam Định điện tử
Phó Tổng biên tập: Đỗ Minh Khôi và Lương Thị Ngọc Ánh
Tổng biên tập: Quách Hải Đăng
Giấy phép số: 999/GP-BTTTT do Bộ Thông tin và Truyền thông cấp ngày 1/2/2030.
Điện thoại: 0228.1111111
Toà soạn: Số 1 Đường Giả Định, TP Nam Định
Email: hopthu@example.invalid
Bản quyền thuộc Báo Nam Định
Ghi rõ nguồn "Báo Nam Định" khi phát hành lại thông tin từ website này."""

NINH_BINH_MASTHEAD = """BÁO NINH BÌNH
Cơ quan của Đảng bộ Đảng Cộng sản Việt Nam tỉnh Ninh Bình
Giấy phép hoạt động báo điện tử số: 123/GP-BVHTTDL
Tổng Biên tập: Hoàng Thị Hoài Phương
Địa chỉ: Đường Tràng An, phường Hoa Lư, tỉnh Ninh Bình
Điện thoại: 0229.0000000 - Email: toasoan@example.invalid"""


# --- clean_text / clean_title -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("   \n\n \u00a0 ", None),
        ("Tin &amp; bài", "Tin & bài"),
        ("Ti&#7871;n b&#7897;", "Tiến bộ"),
        ("đồng chí &amp;#7871;", "đồng chí ế"),  # double-escaped entity
        ("<b>Đảng ủy</b> Khối", "Đảng ủy Khối"),
        ("<script>alert(1)</script>Tiêu đề", "Tiêu đề"),
        ("<style>p{color:red}</style>Tiêu đề", "Tiêu đề"),
        ("a\u00a0\u00a0b", "a b"),
        ("Đảng\u200b ủy\ufeff", "Đảng ủy"),
        ("a\x00b\x07c", "abc"),
        ("  một   hai \t ba  ", "một hai ba"),
        ("đoạn một \n\n\n\n  đoạn hai ", "đoạn một\n\nđoạn hai"),
        ("dòng một\r\ndòng hai", "dòng một\ndòng hai"),
        (unicodedata.normalize("NFD", "Nam Định"), "Nam Định"),
        ("x < 5 và y > 3", "x < 5 và y > 3"),
        ("nhiệt độ x <y, tức là", "nhiệt độ x <y, tức là"),  # not a tag: text kept
        ("<p>một</p><p>hai<br>ba</p>", "một\n\nhai\nba"),
        ("Đảng uỷ và Đảng ủy", "Đảng uỷ và Đảng ủy"),  # output keeps the printed placement
    ],
)
def test_clean_text(raw: str | None, expected: str | None) -> None:
    assert clean_text(raw) == expected


def test_clean_text_output_is_nfc() -> None:
    out = clean_text(unicodedata.normalize("NFD", "Thuỷ lợi hoà bình"))
    assert out == unicodedata.normalize("NFC", out)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Đảng ủy Khối\ntriển khai nhiệm vụ", "Đảng ủy Khối triển khai nhiệm vụ"),
        ("<script>x()</script>Tiêu đề [links()]", "Tiêu đề"),
        ("Tiêu đề - Báo Nam Định", "Tiêu đề"),
        ("Nam Định - Hà Nam hợp tác", "Nam Định - Hà Nam hợp tác"),
        (None, None),
    ],
)
def test_clean_title(raw: str | None, expected: str | None) -> None:
    assert clean_title(raw) == expected


# --- fold / similar -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Đảng uỷ", "Đảng ủy"),
        ("hoà bình", "hòa bình"),
        ("thuỷ lợi", "thủy lợi"),
        ("khoẻ mạnh", "khỏe mạnh"),
        ("Uỷ ban", "ủy ban"),
        ("HOÀ", "hòa"),
        (unicodedata.normalize("NFD", "Toà soạn"), "Tòa soạn"),
        ("Nam Định!", "nam   định"),
        ("(Ảnh: Văn Trọng)", "ảnh văn trọng"),
    ],
)
def test_fold_equal(a: str, b: str) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Đảng uỷ", "đảng ủy"),
        ("hoà", "hòa"),
        ("quý", "quý"),  # "qu" is a consonant: nothing to move
        ("hoàng", "hoàng"),  # tone placement is fixed before a final consonant
        ("hoặc", "hoặc"),
        ("khuya", "khuya"),
        ("14-1, 2021.", "14 1 2021"),
    ],
)
def test_fold_key(text: str, key: str) -> None:
    assert fold(text) == key


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (CAPTION_1, CAPTION_1, True),
        (CAPTION_1, CAPTION_1.replace("Tỉnh ủy", "Tỉnh uỷ"), True),
        (CAPTION_1, CAPTION_1.rstrip("."), True),
        (CAPTION_1, CAPTION_1 + " (Ảnh: Văn Trọng)", True),
        (CAPTION_1, CAPTION_1.replace("phát biểu", "phát biểu tại"), True),
        (CAPTION_1, CAPTION_2, False),
        (LAST, CAPTION_2, False),
        ("Toàn cảnh hội nghị.", "Toàn cảnh hội nghị diễn ra sôi nổi, nhiều ý kiến.", False),
        ("", CAPTION_1, False),
        ("...", "!!!", False),
    ],
)
def test_similar(a: str, b: str, expected: bool) -> None:
    assert similar(a, b) is expected


def _longest_similar_forms(text: str) -> list[str]:
    """The longest texts similar() takes for ``text``: a credit tail of seven long words, the
    text and a third of it again (the ratio's limit), with punctuation and doubled spaces."""
    return [
        text + " (Ảnh: Nguyễn Thị Thanh Hương - TTXVN/VNA)",
        text + " " + text[: int(len(text) * 0.33)],
        text.replace(" ", "  ") + " … " + text[: int(len(text) * 0.3)],
    ]


def test_longest_similar_bounds_every_similar_text() -> None:
    """A text longer than longest_similar(t) is never similar() to t, so callers may skip it
    unfolded: checked on the longest forms similar() accepts, of a caption and a long
    paragraph, NFC and NFD, and on random texts and endings (short ones among them)."""
    long_text = " ".join([CAPTION_1, CAPTION_2, LAST] * 4)
    checked = 0
    for base in (CAPTION_1, long_text):
        for form in ("NFC", "NFD"):
            text = unicodedata.normalize(form, base)
            for other in _longest_similar_forms(text):
                assert similar(other, text), other  # the forms are similar: the check bites
                assert len(other) <= longest_similar(text)
                checked += 1
    words = fold(long_text).split()
    rng = random.Random(20)
    for _ in range(3000):
        text = " ".join(rng.choices(words, k=rng.randint(2, 60)))
        other = text + rng.choice([" ", ", ", " (Ảnh: ", " - "]) + " ".join(
            rng.choices(words, k=rng.randint(0, len(text.split()))))
        if similar(other, text):
            assert len(other) <= longest_similar(text), (other, text)
            checked += 1
    assert checked > 100


# --- strip_boilerplate --------------------------------------------------------------------------


def _body(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


@pytest.mark.parametrize(
    "masthead",
    [SEED_MASTHEAD, INVENTED_MASTHEAD, NINH_BINH_MASTHEAD],
    ids=["seed", "invented-names", "ninh-binh"],
)
def test_strip_boilerplate_cuts_footer(masthead: str) -> None:
    text = _body(LEAD, PARA, LAST + "./.", "Tin ảnh: Văn Trọng", masthead)
    cleaned, removed = strip_boilerplate(text)
    assert cleaned == _body(LEAD, PARA, LAST + "./.", "Tin ảnh: Văn Trọng")
    assert removed == [line for line in masthead.splitlines() if line.strip()]


def test_strip_boilerplate_seed_dump() -> None:
    cleaned_dump = clean_text(SEED_DUMP)
    result = strip_boilerplate_detailed(cleaned_dump)
    assert result.footer[0] == "BÁO NAM ĐỊNH ĐIỆN TỬ"
    assert result.footer[-1].startswith("Điện thoại:")
    assert result.text.endswith("Tin ảnh: Văn Trọng")


@pytest.mark.parametrize(
    "line",
    [
        ",,,",
        ". . .",
        "…",
        "[links()]",
        "Thông tin bạn đọc",
        "Đóng",
        "Lưu thông tin",
        "Đóng Lưu thông tin",
        "Tin liên quan",
        "Tin cùng chuyên mục",
        "Xem thêm:",
        # what any Vietnamese paper's page prints inside the content: a follow prompt, a tag
        # line, a rating prompt, a toolbar
        "Theo dõi Báo Nam Định trên Google News để cập nhật tin tức nhanh nhất.",
        "Mời bạn đọc theo dõi Báo X trên Zalo",
        "Từ khóa: hội nghị, Tỉnh ủy, Nghĩa Hưng",
        "Tags: nông thôn mới, Giao Thủy",
        "Bạn thấy bài viết này thế nào? Hay Không hay",
        "In bài Gửi email Chia sẻ",
        "Chia sẻ | Facebook | Zalo",
        "Chia sẻ: Facebook Twitter Zalo",
        "Bài viết có hữu ích với bạn không?",
        "Xem thêm video:",
    ],
)
def test_strip_boilerplate_drops_residue_anywhere(line: str) -> None:
    text = _body(LEAD, line, PARA, f"{PARA}\n{line}", LAST)
    cleaned, removed = strip_boilerplate(text)
    assert cleaned == _body(LEAD, PARA, PARA, LAST)
    assert removed == [line, line]


@pytest.mark.parametrize(
    "line",
    [
        "Tổng biên tập: Nguyễn Văn Giả",
        "Giấy phép số: 136/GP-BTTTT do Bộ Thông tin và Truyền thông cấp ngày 17/3/2022.",
        "Bản quyền thuộc Báo Nam Định",
    ],
)
def test_strong_anchor_dropped_where_it_stands(line: str) -> None:
    text = _body(LEAD, line, PARA, LAST)
    assert strip_boilerplate(text) == (_body(LEAD, PARA, LAST), [line])


@pytest.mark.parametrize(
    "kept",
    [
        # Mentions of the editor, the newsroom, a phone number: sentences, not labels.
        "Tổng biên tập Báo Nam Định Phạm Văn Trường phát biểu tại buổi lễ.",
        "Đồng chí Phó Tổng biên tập cho biết tòa soạn sẽ đổi mới.",
        "Tổng biên tập: Chúng tôi luôn lắng nghe ý kiến của bạn đọc.",
        "Điện thoại: 0912.345.678; Email: hotro@example.invalid",  # contact lines only
        "Xem thêm thông tin tại trang của Sở.",
        "Đóng góp của các đơn vị rất lớn.",
        "./.",
        # sentences that start as a prompt or a label does
        "Theo dõi diễn biến thời tiết, bà con chủ động phòng chống thiên tai.",
        "Từ khóa của năm là chuyển đổi số.",
        "Bạn thấy đấy, cây lúa đã trổ bông đều.",
        "Chia sẻ kinh nghiệm trồng lúa, ông cho biết giống mới cho năng suất cao.",
        "In bài học kinh nghiệm của xã thành sách.",
        "Chia sẻ: Anh Nguyễn Văn Bình cho biết mùa này được giá.",
        "Bài viết có hữu ích với bạn không phải là câu hỏi của tòa soạn.",
        "Xem thêm video: cảnh lũ về trong đêm ở xã Hải Hậu và công tác ứng cứu.",
    ],
)
def test_strip_boilerplate_keeps_content(kept: str) -> None:
    text = _body(LEAD, PARA, kept)
    assert strip_boilerplate(text) == (text, [])


def test_contact_block_at_end_is_not_a_footer() -> None:
    text = _body(LEAD, PARA, "Điện thoại: 0228.1234567", "Email: lienhe@example.invalid")
    assert strip_boilerplate(text) == (text, [])


def test_masthead_far_from_the_end_is_not_a_footer() -> None:
    # Not cut as a run (too far from the end); only its strong label lines go.
    text = _body(SEED_MASTHEAD, *[PARA] * 25)
    cleaned, removed = strip_boilerplate(text)
    assert cleaned.startswith("BÁO NAM ĐỊNH ĐIỆN TỬ\n\nTòa soạn:")
    assert removed == [
        "Tổng biên tập: Phạm Văn Trường",
        "Phó Tổng biên tập: Trần Vân Anh, Nguyễn Thị Thu Thủy",
    ]


def test_boilerplate_data_loads() -> None:
    data = load_boilerplate()
    assert {a.kind for a in data.anchors} == {"strong", "masthead", "contact"}
    assert data.residue and data.title_residue


# --- split_byline / parse_byline ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected_body", "byline"),
    [
        (_body(LEAD, LAST + "./.", "Tin ảnh: Văn Trọng"), _body(LEAD, LAST), "Tin ảnh: Văn Trọng"),
        (_body(LEAD, "Kết thúc năm 2021./ .", "Xuân Thu"), _body(LEAD, "Kết thúc năm 2021."),
         "Xuân Thu"),
        (_body(LEAD, "Kết thúc năm 2021/.", "Xuân Thu"), _body(LEAD, "Kết thúc năm 2021"),
         "Xuân Thu"),
        (_body(LEAD, LAST + "./.", "Bài: Hồng Minh", "Ảnh: Văn Trọng"), _body(LEAD, LAST),
         "Bài: Hồng Minh\nẢnh: Văn Trọng"),
        (_body(LEAD, LAST + "./."), _body(LEAD, LAST), None),
        (_body(LEAD, LAST, "./.", "Xuân Thu"), _body(LEAD, LAST), "Xuân Thu"),
        (_body(LEAD, "Kết thúc./. Hồng Minh"), _body(LEAD, "Kết thúc."), "Hồng Minh"),
        (_body(LEAD, LAST, "Xuân Thu"), _body(LEAD, LAST), "Xuân Thu"),  # no end mark
        (_body(LEAD, LAST, "Theo TTXVN"), _body(LEAD, LAST), "Theo TTXVN"),
        (_body(LEAD, LAST + "./.", "(Còn nữa)", "Xuân Thu"), _body(LEAD, LAST, "(Còn nữa)"),
         "Xuân Thu"),
        # negatives: the last paragraph is content, not a byline
        (_body(LEAD, PARA, LAST), _body(LEAD, PARA, LAST), None),
        (_body(LEAD, "Hội nghị kết thúc lúc 11 giờ."), _body(LEAD, "Hội nghị kết thúc lúc 11 giờ."),
         None),
        (_body(LEAD, "Nam Định"), _body(LEAD, "Nam Định"), None),
        (LEAD, LEAD, None),
        ("Xuân Thu", "Xuân Thu", None),  # the lead itself is never taken
        # without an end mark or a label, a last line in capitalised words signs only as the
        # names of Vietnamese people, or after "By"
        (_body(LEAD, LAST, "N.Hương - Nguyễn Thị Minh Khai"), _body(LEAD, LAST),
         "N.Hương - Nguyễn Thị Minh Khai"),
        (_body(LEAD, LAST, "By Linda Klein"), _body(LEAD, LAST), "By Linda Klein"),
        (_body(LEAD, LAST, "Privacy Policy"), _body(LEAD, LAST, "Privacy Policy"), None),
        (_body(LEAD, LAST, "Top Stories"), _body(LEAD, LAST, "Top Stories"), None),
        (_body(LEAD, LAST, "Linda Klein"), _body(LEAD, LAST, "Linda Klein"), None),
        (_body(LEAD, LAST, "Tr.Long"), _body(LEAD, LAST), "Tr.Long"),
    ],
)
def test_split_byline(body: str, expected_body: str, byline: str | None) -> None:
    assert split_byline(body) == (expected_body, byline)


@pytest.mark.parametrize(
    ("byline", "authors", "source"),
    [
        ("Xuân Thu", ["Xuân Thu"], None),
        ("Bài và ảnh: Nguyễn Hương", ["Nguyễn Hương"], None),
        ("Bài, ảnh: Nguyễn Hương", ["Nguyễn Hương"], None),
        ("Tin ảnh: Văn Trọng", ["Văn Trọng"], None),
        ("Tin, ảnh: Văn Trọng", ["Văn Trọng"], None),
        ("Tin và ảnh: Văn Trọng", ["Văn Trọng"], None),
        ("Bài: Hồng Minh; Ảnh: Văn Trọng", ["Hồng Minh", "Văn Trọng"], None),
        ("Bài: Hồng Minh\nẢnh: Văn Trọng", ["Hồng Minh", "Văn Trọng"], None),
        ("Bài: Hồng Minh - Ảnh: Văn Trọng", ["Hồng Minh", "Văn Trọng"], None),
        ("Ảnh: Văn Trọng", ["Văn Trọng"], None),
        ("Hồng Minh - Thanh Thúy", ["Hồng Minh", "Thanh Thúy"], None),
        ("Hồng Minh, Thanh Thúy", ["Hồng Minh", "Thanh Thúy"], None),
        ("Hồng Minh và Thanh Thúy", ["Hồng Minh", "Thanh Thúy"], None),
        ("Nguyễn Thị Thu Thủy", ["Nguyễn Thị Thu Thủy"], None),
        ("VĂN TRỌNG", ["Văn Trọng"], None),
        ("Xuân Thu.", ["Xuân Thu"], None),
        ("Theo TTXVN", [], "TTXVN"),
        ("Theo Báo Nhân Dân", [], "Báo Nhân Dân"),
        ("Hồng Minh (Theo TTXVN)", ["Hồng Minh"], "TTXVN"),
        ("Hồng Minh (TTXVN)", ["Hồng Minh"], "TTXVN"),
        ("Thanh Hà/TTXVN", ["Thanh Hà"], "TTXVN"),
        ("Nguồn: VOV", [], "VOV"),
        ("Xuân Thu\n(Theo TTXVN)", ["Xuân Thu"], "TTXVN"),
        ("PV", ["PV"], None),
        ("P.V", ["PV"], None),
        ("P.V.", ["PV"], None),
        ("BNĐ", ["BNĐ"], None),
        ("Hồng Minh - Hồng Minh", ["Hồng Minh"], None),
        # forms other papers print (issue 20): a compiler's note or an affiliation in brackets,
        # an agency's bureau, a title before the name, initials, a name and a position
        ("Thu Hà (tổng hợp)", ["Thu Hà"], None),
        ("Minh Châu (t/h)", ["Minh Châu"], None),
        ("Quang Huy (lược dịch)", ["Quang Huy"], None),
        ("Lê Văn Thịnh (Viện Kinh tế Việt Nam)", ["Lê Văn Thịnh"], None),
        # the institution after a dash: an affiliation, not a co-author
        ("Minh Anh - Trung tâm Truyền thông tỉnh", ["Minh Anh"], None),
        ("Minh Anh - Trung tâm Văn hóa - Thông tin huyện Hải Hậu", ["Minh Anh"], None),
        ("Minh Anh - Thu Hà - Sở Y tế", ["Minh Anh", "Thu Hà"], None),
        ("Minh Anh - bệnh viện tỉnh", [], None),
        # a portal's labels, a newsroom's role before the name
        ("Người viết: Minh Anh", ["Minh Anh"], None),
        ("Nguồn tin: Sở Y tế", [], "Sở Y tế"),
        ("PV Minh Anh", ["Minh Anh"], None),
        ("BTV Thu Hà - CTV Quang Minh", ["Thu Hà", "Quang Minh"], None),
        ("Hoàng Long/VOV-Tây Bắc", ["Hoàng Long"], "VOV-Tây Bắc"),
        ("Văn Tuấn/VOV1", ["Văn Tuấn"], "VOV1"),
        ("ThS. Nguyễn Văn An", ["Nguyễn Văn An"], None),
        ("GS.TS Nguyễn Văn Tuấn", ["Nguyễn Văn Tuấn"], None),
        ("N.Hương", ["N.Hương"], None),
        ("N.Hương - T.Long", ["N.Hương", "T.Long"], None),
        ("Lê Văn Thịnh, nguyên Phó Giám đốc Sở Tài nguyên", ["Lê Văn Thịnh"], None),
        ("Theo Dân trí", [], "Dân trí"),
        ("Nguồn: VnExpress", [], "VnExpress"),
        # a reporter's e-mail address beside the name credits no one
        ("Minh Anh (minhanh@baox.vn)", ["Minh Anh"], None),
        ("Minh Anh - Email: minhanh@baox.vn", ["Minh Anh"], None),
        ("Bài và ảnh: Ngọc Hà (ngocha@example.com)", ["Ngọc Hà"], None),
        ("minhanh@baox.vn", [], None),
        # an academic or professional title before the name is no part of it
        ("TS. Nguyễn Văn Minh", ["Nguyễn Văn Minh"], None),
        ("PGS.TS Lê Thu Hà - ThS. Trần An", ["Lê Thu Hà", "Trần An"], None),
        ("Bài và ảnh: BS. Trần Văn An", ["Trần Văn An"], None),
        ("TSKH. Phan Văn Tân", ["Phan Văn Tân"], None),
        ("LSA Group", ["LSA Group"], None),  # letters of a name, not a title
        # a reprint: the paper it came from is the source; "Theo" names no author
        ("Theo Minh Anh (Tuổi Trẻ)", [], "Tuổi Trẻ"),
        ("Nguồn: Báo Nhân Dân (nhandan.vn)", [], "Báo Nhân Dân (nhandan.vn)"),
        # several agencies, as international news ends ("Theo ông A, năm nay …" is a sentence)
        ("Theo Reuters, AFP", [], "Reuters, AFP"),
        ("Thu Hà (theo Reuters, AFP)", ["Thu Hà"], "Reuters, AFP"),
        ("Theo ông Minh, năm nay tỉnh sẽ", [], None),
        # a reader's letter: the name, then where the reader lives, no co-author
        ("Nguyễn Văn An (Hải Hậu, Nam Định)", ["Nguyễn Văn An"], None),
        ("Bài: Minh Anh (ảnh: Thu Hà)", ["Minh Anh", "Thu Hà"], None),
        ("Tr.Long - Ng.Minh", ["Tr.Long", "Ng.Minh"], None),  # a digraph's initial
        # negatives
        ("Hội nghị kết thúc lúc 11 giờ.", [], None),
        ("Theo đó, tỉnh sẽ triển khai kế hoạch.", [], None),
        ("Ảnh: Toàn cảnh hội nghị", [], None),
        ("Bài 2: Những giải pháp đột phá", [], None),
        ("(Còn nữa)", [], None),
        ("Nam Định", [], None),
        ("", [], None),
    ],
)
def test_parse_byline(byline: str, authors: list[str], source: str | None) -> None:
    assert parse_byline(byline) == Byline(authors, source)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Tin ảnh: Văn Trọng", True), ("Xuân Thu\n(Theo TTXVN)", True),
     ("Xuân Thu\nHội nghị kết thúc.", False), ("", False)],
)
def test_is_byline(text: str, expected: bool) -> None:
    assert is_byline(text) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Lê Văn Thịnh, Trường Đại học Nông nghiệp", True),  # a name the parser does not know
        ("Hoài Thu - Hải Yến", True),
        ("Theo TTXVN", True),
        ("Xin cảm ơn ông!", False),
        ("Hà Nội, ngày 20/12/2012", False),
        ("(Còn nữa)", False),
        ("Kỳ sau: Những giải pháp đột phá", False),
        ("Nam Định", False),
        ("tỉnh sẽ triển khai kế hoạch trong năm tới", False),
        ("Hội nghị đã thông qua nghị quyết về phát triển kinh tế - xã hội năm 2013", False),
        ("", False),
    ],
)
def test_looks_like_credit(line: str, expected: bool) -> None:
    assert looks_like_credit(line) is expected


@pytest.mark.parametrize(
    ("body", "byline", "expected"),
    [
        (_body(LEAD, LAST + "./.", "Văn Trọng"), "Văn Trọng", _body(LEAD, LAST)),
        (_body(LEAD, LAST + "./.", "Tin ảnh: Văn Trọng"), "Văn Trọng", _body(LEAD, LAST)),
        (_body(LEAD, LAST + "./."), "Văn Trọng", _body(LEAD, LAST)),
        (_body(LEAD, LAST, "Hồng Minh"), "Văn Trọng", _body(LEAD, LAST, "Hồng Minh")),
    ],
)
def test_remove_byline_copy(body: str, byline: str, expected: str) -> None:
    assert remove_byline_copy(body, byline) == expected


# --- parse_top_author ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Phạm Gia Túc\nỦy viên Trung ương Đảng, Bí thư Tỉnh ủy",
         ("Phạm Gia Túc", "Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy")),
        ("Đồng chí Phạm Gia Túc, Bí thư Tỉnh ủy", ("Phạm Gia Túc", "Bí thư Tỉnh ủy")),
        ("PGS.TS Nguyễn Văn Giả - Giám đốc Sở Khoa học và Công nghệ",
         ("Nguyễn Văn Giả", "Giám đốc Sở Khoa học và Công nghệ")),
        (CAPTION_1, None),  # a sentence about a leader, not an author block
        (LEAD, None),
        ("Xuân Thu", None),
        ("", None),
    ],
)
def test_parse_top_author(text: str, expected: tuple[str, str] | None) -> None:
    assert parse_top_author(text) == expected


# --- dedupe_captions ----------------------------------------------------------------------------


def test_dedupe_captions_seed_pattern() -> None:
    # The seed: image 2's alt reuses image 1's text; both copies of each sit in the body.
    images = [
        {"url": None, "caption": CAPTION_1, "alt": CAPTION_1},
        {"url": None, "caption": CAPTION_2, "alt": CAPTION_1},
    ]
    body = _body(LEAD, f"{CAPTION_1}\n{CAPTION_1}", PARA, f"{CAPTION_1}\n{CAPTION_2}", LAST)
    out, cleaned = dedupe_captions(images, body, lead=LEAD)
    assert out == [{"url": None, "caption": CAPTION_1}, {"url": None, "caption": CAPTION_2}]
    assert cleaned == _body(LEAD, PARA, LAST)


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        # alt only
        ([{"url": "a.jpg", "caption": None, "alt": CAPTION_1}], [CAPTION_1]),
        # alt and caption differ slightly: one caption, the visible one
        ([{"url": "a.jpg", "caption": CAPTION_1 + " (Ảnh: Văn Trọng)", "alt": CAPTION_1}],
         [CAPTION_1 + " (Ảnh: Văn Trọng)"]),
        # alt reused from the previous image and no visible caption: no caption
        ([{"url": "a.jpg", "caption": CAPTION_1, "alt": None},
          {"url": "b.jpg", "caption": None, "alt": CAPTION_1}], [CAPTION_1, None]),
        # same URL twice: merged
        ([{"url": "a.jpg", "caption": None, "alt": None},
          {"url": "a.jpg", "caption": CAPTION_2, "alt": None}], [CAPTION_2]),
        # nothing at all: dropped
        ([{"url": None, "caption": None, "alt": None}], []),
    ],
)
def test_dedupe_captions_images(images: list[dict], expected: list[str | None]) -> None:
    out, _ = dedupe_captions(images, LEAD)
    assert [image["caption"] for image in out] == expected
    assert all(set(image) == {"url", "caption"} for image in out)


def test_dedupe_captions_keeps_the_lead_and_near_misses() -> None:
    images = [{"url": "a.jpg", "caption": LEAD, "alt": "Toàn cảnh hội nghị."}]
    near = "Toàn cảnh hội nghị diễn ra sôi nổi với nhiều ý kiến đóng góp của đại biểu."
    body = _body(LEAD, near, "Toàn cảnh hội nghị", LAST)
    _, cleaned = dedupe_captions(images, body, lead=LEAD)
    assert cleaned == _body(LEAD, near, LAST)
