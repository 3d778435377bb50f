"""Vietnamese phrase lists of the replica and the generators that build article text from them."""

from __future__ import annotations

import random
import re
import unicodedata

DISTRICTS = (
    "Giao Thủy", "Hải Hậu", "Nghĩa Hưng", "Xuân Trường", "Trực Ninh",
    "Nam Trực", "Vụ Bản", "Ý Yên", "Mỹ Lộc", "TP Nam Định",
)  # fmt: skip
COMMUNES = (
    "Hải Hòa", "Giao Thiện", "Nghĩa Thái", "Xuân Hồng", "Trực Thuận", "Nam Thanh",
    "Yên Lợi", "Mỹ Thành", "Liên Minh", "Hoàng Nam", "Giao Hòa", "Xuân Thủy",
)  # fmt: skip
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô", "Trịnh")
MIDDLES = ("Văn", "Thị", "Quốc", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Hồng", "Xuân", "Thu")
GIVEN = (
    "Hùng", "Hương", "Thắng", "Trọng", "Hà", "Lan", "Tuấn", "Dũng", "Thủy", "Hòa",
    "Thúy", "Long", "Phương", "Khánh", "Sơn", "Hiền", "Nam", "Tâm", "Chiến", "Quang",
)  # fmt: skip
ORGS = (
    "Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh", "Ban Thường vụ Tỉnh ủy", "UBND tỉnh",
    "HĐND tỉnh", "Ủy ban MTTQ tỉnh", "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Văn hóa, Thể thao và Du lịch", "Hội Nông dân tỉnh", "Tỉnh đoàn",
    "Hội Liên hiệp Phụ nữ tỉnh", "Liên đoàn Lao động tỉnh", "Sở Giáo dục và Đào tạo",
    "Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh", "Sở Y tế", "Ban Tuyên giáo Tỉnh ủy",
    "Huyện ủy {district}", "UBND huyện {district}", "Đảng ủy xã {commune}",
)  # fmt: skip
POSITIONS = (
    "Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh",
    "Ủy viên Ban Thường vụ Tỉnh ủy, Phó Chủ tịch UBND tỉnh",
    "Phó Chủ tịch UBND tỉnh",
    "Ủy viên Ban Thường vụ Tỉnh ủy, Trưởng Ban Tuyên giáo Tỉnh ủy",
    "Giám đốc Sở Nông nghiệp và Phát triển nông thôn",
    "Bí thư Huyện ủy {district}",
    "Chủ tịch UBND huyện {district}",
    "Tỉnh ủy viên, Bí thư Đảng ủy Khối các Cơ quan và Doanh nghiệp tỉnh",
)
LEADER_TITLES = (
    "Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy",
    "Phó Bí thư Tỉnh ủy, Chủ tịch UBND tỉnh",
    "Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh",
    "Phó Bí thư Tỉnh ủy, Trưởng Đoàn đại biểu Quốc hội tỉnh",
)
PEN_NAMES = (
    "Xuân Thu", "Văn Trọng", "Nguyễn Hương", "Hồng Minh", "Thanh Thúy", "Minh Đức",
    "Ngọc Ánh", "Việt Thắng", "Thanh Tuyết", "Hải Yến", "Đức Toàn", "Hoàng Long",
    "Mai Hiền", "Phạm Hiếu", "Lâm Hồng", "Quang Hòa", "Khánh Linh", "Văn Đông",
)  # fmt: skip
KICKERS = (
    "Hướng tới Đại hội Đảng bộ tỉnh", "Chào mừng kỷ niệm Ngày thành lập Đảng",
    "Xây dựng nông thôn mới kiểu mẫu",
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
    "Vì an ninh Tổ quốc", "Chuyển đổi số", "Tết sum vầy", "Gương sáng bình dị",
)  # fmt: skip
CROPS = ("lúa xuân", "lúa mùa", "rau màu vụ đông", "cây cảnh", "hoa đào", "ngao", "muối")
SPORTS = ("Bóng chuyền", "Cờ tướng", "Việt dã", "Bóng đá thiếu niên", "Bơi lội", "Vật dân tộc")
FESTIVALS = ("Phủ Dày", "Đền Trần", "Khai ấn Đền Trần", "chợ Viềng", "Làng hoa Vị Khê")

# Each topic: titles, events (lead and captions), sentences (body). Slots in braces are drawn
# per use by Slots below; quotes and "&" are here on purpose, to exercise HTML escaping.
TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "politics": {
        "titles": (
            "{org} triển khai nhiệm vụ năm {year}",
            "{org} tổng kết công tác năm {prev}",
            "Hội nghị Ban Chấp hành Đảng bộ tỉnh lần thứ {small}",
            "Đồng chí {person} làm việc với {org}",
            'Học tập chuyên đề "Làm theo lời Bác" năm {year}',
            "Kiểm tra, giám sát & kỷ luật Đảng tại {district}",
        ),
        "events": (
            "{org} tổ chức hội nghị tổng kết công tác năm {prev}, triển khai nhiệm vụ năm {year}",
            "{org} tổ chức hội nghị quán triệt nghị quyết của Tỉnh ủy",
            "đoàn công tác của Tỉnh ủy do đồng chí {person}, {position} làm trưởng đoàn "
            "làm việc tại huyện {district}",
        ),
        "sentences": (
            "Năm {prev}, {org} đã bám sát sự lãnh đạo, chỉ đạo của Tỉnh ủy, triển khai kịp thời "
            "các nhiệm vụ chính trị được giao",
            "Tỷ lệ tổ chức cơ sở Đảng hoàn thành tốt nhiệm vụ đạt {pct}; tỷ lệ đảng viên hoàn "
            "thành tốt nhiệm vụ trở lên đạt {pct2}",
            "Toàn Đảng bộ đã kết nạp {num} đảng viên mới, thành lập mới {small} tổ chức cơ sở Đảng",
            "Phát biểu chỉ đạo hội nghị, đồng chí {person}, {position} ghi nhận, đánh giá cao "
            "kết quả đạt được trong năm qua",
            "Đồng chí đề nghị các cấp ủy tiếp tục nâng cao năng lực lãnh đạo và sức chiến đấu "
            "của tổ chức đảng, xây dựng Đảng bộ trong sạch, vững mạnh",
            "Hội nghị đã thảo luận, thống nhất các chỉ tiêu, nhiệm vụ trọng tâm năm {year}",
            "Ban Thường vụ Đảng ủy xã {commune} tặng Giấy khen cho {small} tập thể tiêu biểu",
        ),
        "captions": (
            "Đồng chí {person}, {position} phát biểu chỉ đạo hội nghị.",
            "Quang cảnh hội nghị.",
            "{org} tặng Giấy khen cho các tập thể có thành tích xuất sắc năm {prev}.",
        ),
    },
    "agri": {
        "titles": (
            "Nông dân {district} khẩn trương thu hoạch {crop}",
            "{district}: Hiệu quả từ mô hình liên kết sản xuất {crop}",
            "Xây dựng nông thôn mới kiểu mẫu ở xã {commune}",
            'Hội thi "Nhà nông đua tài" & ngày hội nông dân năm {year}',
        ),
        "events": (
            "nông dân xã {commune}, huyện {district} bắt tay vào thu hoạch {crop}",
            "Sở Nông nghiệp và Phát triển nông thôn kiểm tra tiến độ sản xuất {crop} "
            "tại {district}",
            "Hội Nông dân tỉnh tổ chức hội thảo về liên kết sản xuất {crop}",
        ),
        "sentences": (
            "Toàn huyện {district} gieo cấy {num} ha {crop}, năng suất ước đạt {small} tạ/ha",
            "Nhiều hộ nông dân xã {commune} đã mạnh dạn chuyển đổi cơ cấu cây trồng, vật nuôi",
            "Mô hình cánh đồng mẫu lớn giúp giảm chi phí, tăng thu nhập cho nông dân",
            "Ngành nông nghiệp khuyến cáo bà con theo dõi sát diễn biến thời tiết, "
            "phòng trừ sâu bệnh",
            "Đến nay, xã {commune} đã có {small} thôn đạt chuẩn nông thôn mới kiểu mẫu",
            "Hệ thống thủy lợi được nạo vét, bảo đảm đủ nước tưới tiêu cho {crop}",
            "Giá trị sản xuất trên một héc-ta canh tác đạt trên {num} triệu đồng",
        ),
        "captions": (
            "Nông dân xã {commune} thu hoạch {crop}.",
            "Cánh đồng mẫu lớn ở huyện {district}.",
            "Cán bộ khuyến nông hướng dẫn bà con chăm sóc {crop}.",
        ),
    },
    "culture": {
        "titles": (
            "Khai mạc Lễ hội {festival} năm {year}",
            "Phong trào 'Toàn dân đoàn kết xây dựng đời sống văn hóa' ở {district}",
            'Chương trình nghệ thuật "Mùa xuân quê hương" chào năm mới',
            "Bảo tồn, phát huy nghệ thuật chèo & hát văn",
        ),
        "events": (
            "Ban tổ chức khai mạc Lễ hội {festival} năm {year}",
            "Sở Văn hóa, Thể thao và Du lịch tổ chức chương trình nghệ thuật chào mừng năm mới",
            "câu lạc bộ chèo xã {commune} ra mắt",
        ),
        "sentences": (
            "Lễ hội {festival} thu hút hàng nghìn lượt du khách thập phương về dự",
            "Các tiết mục văn nghệ đặc sắc ca ngợi Đảng, Bác Hồ và quê hương Nam Định",
            "Phong trào văn hóa, văn nghệ quần chúng ở {district} phát triển sâu rộng",
            "Nhiều di tích lịch sử được tu bổ, tôn tạo, phát huy giá trị",
            "Câu lạc bộ hiện có {small} hội viên, thường xuyên luyện tập vào các buổi tối",
            "Công tác bảo đảm an ninh trật tự, vệ sinh môi trường được quan tâm thực hiện",
        ),
        "captions": (
            "Tiết mục văn nghệ chào mừng.",
            "Du khách dâng hương tại lễ hội {festival}.",
            "Các đại biểu thực hiện nghi lễ khai mạc.",
        ),
    },
    "sport": {
        "titles": (
            "Khai mạc Giải {sport} tỉnh Nam Định năm {year}",
            "Bế mạc Đại hội Thể dục thể thao huyện {district}",
            "Vận động viên Nam Định giành {small} huy chương vàng",
        ),
        "events": (
            "Sở Văn hóa, Thể thao và Du lịch khai mạc Giải {sport} tỉnh năm {year}",
            "huyện {district} tổ chức bế mạc Đại hội Thể dục thể thao",
        ),
        "sentences": (
            "Giải thu hút {num} vận động viên của {small} đơn vị trong tỉnh tham gia",
            "Các vận động viên thi đấu sôi nổi, trung thực, cao thượng",
            "Ban tổ chức trao {small} bộ huy chương cho các vận động viên xuất sắc",
            "Phong trào thể dục thể thao quần chúng ở {district} ngày càng phát triển",
            "Đội tuyển {sport} của huyện {district} giành giải nhất toàn đoàn",
        ),
        "captions": (
            "Các vận động viên thi đấu môn {sport}.",
            "Ban tổ chức trao giải cho các vận động viên.",
        ),
    },
}
GENERIC_SENTENCES = (
    "Công tác tuyên truyền ở {district} được đẩy mạnh, tạo sự đồng thuận trong nhân dân",
    "Các cấp, các ngành đã phối hợp chặt chẽ, triển khai đồng bộ {small} nhóm giải pháp",
    "Bên cạnh kết quả đạt được, {org} vẫn còn một số khó khăn, hạn chế cần khắc phục",
    "Thời gian tới, xã {commune} tiếp tục đẩy mạnh cải cách hành chính, chuyển đổi số",
    "Kết quả trên góp phần quan trọng vào sự phát triển kinh tế - xã hội của tỉnh năm {year}",
    "Người dân xã {commune} phấn khởi, tin tưởng vào sự lãnh đạo của cấp ủy, chính quyền",
    "Đảng uỷ, chính quyền xã {commune} đã tập trung chỉ đạo quyết liệt, sát sao",
    "Công tác thủy lợi, phòng chống thiên tai ở {district} được chuẩn bị chu đáo",
    "Đến nay, {num} hộ gia đình đã được hỗ trợ, đạt {pct} kế hoạch",
    "Đồng chí {person}, {position} đề nghị các đơn vị khắc phục hạn chế, phát huy kết quả đạt được",
)
LTS_SENTENCES = (
    "Nhằm giúp bạn đọc hiểu rõ hơn những đổi thay của quê hương, Báo Nam Định giới thiệu loạt bài",
    "Báo Nam Định trân trọng giới thiệu bài viết của đồng chí về nhiệm vụ trọng tâm năm {year}",
)
# Modern (new) tone-mark placement on the left, the older placement on the right: both are in use.
TONE_PAIRS = {
    "òa": "oà", "óa": "oá", "ỏa": "oả", "õa": "oã", "ọa": "oạ",
    "òe": "oè", "óe": "oé", "ỏe": "oẻ", "õe": "oẽ", "ọe": "oẹ",
    "ùy": "uỳ", "úy": "uý", "ủy": "uỷ", "ũy": "uỹ", "ụy": "uỵ", "Ủy": "Uỷ",
}  # fmt: skip
_TONE_BACK = {old: new for new, old in TONE_PAIRS.items()}
_TONE_NEW = re.compile("|".join(TONE_PAIRS))
_TONE_ANY = re.compile("|".join(list(TONE_PAIRS) + list(_TONE_BACK)))
WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")


class Slots(dict):
    """Format-map values drawn on first use, so one slot has one value within one text."""

    def __init__(self, rng: random.Random, year: int) -> None:
        super().__init__(year=year, prev=year - 1)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        rng = self.rng
        if key == "org":
            value = fill(rng.choice(ORGS), self)
        elif key == "position":
            value = fill(rng.choice(POSITIONS), self)
        elif key == "person":
            value = person_name(rng)
        elif key == "district":
            value = rng.choice(DISTRICTS)
        elif key == "commune":
            value = rng.choice(COMMUNES)
        elif key == "crop":
            value = rng.choice(CROPS)
        elif key == "sport":
            value = rng.choice(SPORTS)
        elif key == "festival":
            value = rng.choice(FESTIVALS)
        elif key in ("pct", "pct2"):
            value = f"{rng.randrange(80, 100)},{rng.randrange(10)}%"
        elif key == "num":
            value = str(rng.randrange(20, 2000))
        elif key == "small":
            value = str(rng.randrange(2, 30))
        else:
            raise KeyError(key)
        # Names and places stay the same within an article; numbers are drawn afresh each time.
        if key not in ("pct", "pct2", "num", "small"):
            self[key] = value
        return value


def fill(template: str, slots: Slots) -> str:
    """Return ``template`` with its {slots} filled from ``slots``."""
    return template.format_map(slots)


def person_name(rng: random.Random) -> str:
    """Return a plausible three-part Vietnamese name."""
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLES)} {rng.choice(GIVEN)}"


def tone_mix(text: str, rng: random.Random, share: float) -> str:
    """Return ``text`` with about ``share`` of its modern tone marks in the older placement."""
    if share <= 0:
        return text
    return _TONE_NEW.sub(lambda m: TONE_PAIRS[m[0]] if rng.random() < share else m[0], text)


def tone_swap(text: str) -> str | None:
    """Return ``text`` with its first tone mark in the other placement; None if it has none."""
    match = _TONE_ANY.search(text)
    if not match:
        return None
    other = TONE_PAIRS.get(match[0]) or _TONE_BACK[match[0]]
    return text[: match.start()] + other + text[match.end() :]


def slugify(text: str, *, keep_case: bool = False) -> str:
    """Return the ASCII slug of ``text`` (Vietnamese letters folded, words joined by hyphens)."""
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-")
    return slug if keep_case else slug.lower()


def sentence(rng: random.Random, topic: str, slots: Slots) -> str:
    """Return one body sentence (with its full stop) about ``topic``."""
    pool = TOPICS[topic]["sentences"] if rng.random() < 0.7 else GENERIC_SENTENCES
    return fill(rng.choice(pool), slots) + "."


def paragraphs(rng: random.Random, topic: str, slots: Slots, count: int) -> list[str]:
    """Return ``count`` paragraphs of 2-4 sentences, repeating none until the pool is used."""
    pool = TOPICS[topic]["sentences"] + GENERIC_SENTENCES
    deck: list[str] = []
    out = []
    for _ in range(count):
        sentences = []
        for _ in range(rng.randrange(2, 5)):
            if not deck:
                deck = list(pool)
                rng.shuffle(deck)
            sentences.append(fill(deck.pop(), slots) + ".")
        out.append(" ".join(sentences))
    return out


def caption_variant(caption: str, rng: random.Random, credit: str) -> str:
    """Return a slightly different ``caption``: punctuation, a credit tail or a tone mark."""
    choice = rng.randrange(3)
    if choice == 2:
        swapped = tone_swap(caption)
        if swapped:
            return swapped
    if choice >= 1:
        return f"{caption} (Ảnh: {credit})"
    return caption[:-1] if caption.endswith(".") else caption + "."
