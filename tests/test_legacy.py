"""Legacy Vietnamese font encodings, TCVN3 and VNI: detected on a page's text and converted, or
flagged (crawler/normalise/legacy.py, crawler/extract/response.py ``read_text``)."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata

import pytest
from scrapy.http import HtmlResponse

from crawler.extract.response import item_from_response
from crawler.items import ArticleItem
from crawler.normalise.legacy import TCVN3_HIGH, decode, font_bytes, judge, repair
from crawler.process.processing import ItemProcessor, project_settings
from tests.badsite import ENCODED_TITLE, article_html, to_cp1258

URL = "https://baonamdinh.vn/channel/5083/202201/bai-viet-2548123/"
FETCHED_AT = "2022-01-15T09:30:00+07:00"
TEXT = ("Nông dân Nam Định thu hoạch lúa xuân được mùa, được giá. Trường học ở Hải Hậu "
        "khai giảng năm học mới; UBND tỉnh Nam Định tặng bằng khen.")  # TCVN3 has no toned capitals

# TCVN3 by its lower-case table (VN3: capitals are the same codes in a capitals font), and the
# capitals it has codes for; written out here, independently of the module's table.
_TCVN3_LOWER = ("àảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ",
                bytes(range(0xB5, 0xBA)) + bytes(range(0xBB, 0xBF)) + b"\xc6"
                + bytes(range(0xC7, 0xCC)) + b"\xcc\xce\xcf\xd0\xd1" + bytes(range(0xD2, 0xD7))
                + b"\xd7\xd8\xdc\xdd\xde\xdf" + bytes(range(0xE1, 0xE5)) + bytes(range(0xE5, 0xEA))
                + bytes(range(0xEA, 0xEF)) + b"\xef" + bytes(range(0xF1, 0xF5))
                + bytes(range(0xF5, 0xFA)) + bytes(range(0xFA, 0xFF)))
_TCVN3_PLAIN = dict(zip("ĂÂÊÔƠƯĐăâêôơưđ", bytes(range(0xA1, 0xAF)), strict=True))


def to_tcvn3(text: str) -> bytes:
    table = {**dict(zip(_TCVN3_LOWER[0], _TCVN3_LOWER[1], strict=True)), **_TCVN3_PLAIN}
    out = bytearray()
    for ch in text:
        if ord(ch) < 0x80:
            out.append(ord(ch))
        else:  # a capital with a tone: the lower-case code (a capitals font shows it)
            out.append(table.get(ch) or table[ch.lower()])
    return bytes(out)


_VNI_TONE = {"\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
_VNI_HAT = {("\u0302", None): "â", ("\u0302", "\u0301"): "á", ("\u0302", "\u0300"): "à",
            ("\u0302", "\u0309"): "å", ("\u0302", "\u0303"): "ã", ("\u0302", "\u0323"): "ä",
            ("\u0306", None): "ê", ("\u0306", "\u0301"): "é", ("\u0306", "\u0300"): "è",
            ("\u0306", "\u0309"): "ú", ("\u0306", "\u0303"): "ü", ("\u0306", "\u0323"): "ë"}
_VNI_I = {None: "i", "\u0301": "í", "\u0300": "ì", "\u0309": "æ", "\u0303": "ó", "\u0323": "ò"}


def to_vni(text: str) -> bytes:
    """VNI-Windows, written from its rules (base letter, then a letter for its marks)."""
    out = []
    for ch in text:
        if ch in "đĐ":
            out.append("ñ" if ch == "đ" else "Ñ")
            continue
        base, *marks = unicodedata.normalize("NFD", ch)
        upper = base.isupper()
        tone = next((m for m in marks if m in _VNI_TONE), None)
        hat = next((m for m in marks if m in ("\u0302", "\u0306")), None)
        if "\u031b" in marks:  # horn: ơ ư are letters of their own
            base = {"o": "ô", "u": "ö"}[base.lower()]
        if base.lower() == "i":
            letter = _VNI_I[tone]
            out.append(letter.upper() if upper else letter)
            continue
        if base.lower() == "y" and tone == "\u0323":
            out.append("Î" if upper else "î")
            continue
        mark = _VNI_HAT[(hat, tone)] if hat else _VNI_TONE.get(tone, "") if tone else ""
        out.append((base.upper() if upper else base) + (mark.upper() if upper else mark))
    return "".join(out).encode("cp1252")


@pytest.mark.skipif(not shutil.which("iconv"), reason="needs iconv (GNU libc) to compare with")
def test_the_tcvn3_table_is_glibcs_tcvn5712_1():
    data = bytes(b for x in range(0x80, 0x100) for b in (x, 0x20))
    done = subprocess.run(["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=data,
                          capture_output=True, check=True)
    assert done.stdout.decode().split(" ")[:-1] == list(TCVN3_HIGH)


@pytest.mark.parametrize("encoding, encode", [("tcvn3", to_tcvn3), ("vni", to_vni)])
def test_legacy_text_converts_back_to_the_unicode_it_was(encoding, encode):
    data = encode(TEXT)
    as_shown = data.decode("cp1252", errors="replace")
    assert decode(data, encoding) == TEXT
    assert judge(as_shown, data).encoding == encoding
    assert repair(as_shown)[0] == TEXT  # as a CMS stored it: the characters the font showed
    assert font_bytes(as_shown) == data


def test_the_issues_tcvn3_title_keeps_its_u_horn():
    data = to_tcvn3("Nông dân Nam Định trồng lúa được mùa ở Hải Hậu")
    assert data.decode("cp1252").startswith("N«ng d©n Nam §Þnh")
    assert b"\xad" in data  # "ư": the soft hyphen Windows-1252 shows, once deleted by cleaning
    assert decode(data, "tcvn3").endswith("được mùa ở Hải Hậu")


def test_unicode_and_windows_1258_are_left_alone():
    assert repair(TEXT) == (TEXT, repair(TEXT)[1]) and not repair(TEXT)[1].encoding
    data = to_cp1258(TEXT)
    assert judge(unicodedata.normalize("NFC", data.decode("cp1258")), data).encoding is None


def response(body: bytes, charset: str) -> HtmlResponse:
    return HtmlResponse(url=URL, body=body, status=200,
                        headers={"Content-Type": f"text/html; charset={charset}"})


def legacy_page(encode, charset: str = "windows-1252") -> bytes:
    html = article_html(2548123, title=ENCODED_TITLE, charset=charset)
    return encode(html)


@pytest.mark.parametrize("encoding, encode", [("tcvn3", to_tcvn3), ("vni", to_vni)])
@pytest.mark.parametrize("served", ["bytes", "utf-8 of what the font showed"])
def test_a_legacy_page_becomes_a_unicode_record(encoding, encode, served):
    body = legacy_page(encode)
    charset = "windows-1252"
    if served != "bytes":
        body, charset = body.decode("cp1252").encode("utf-8"), "utf-8"
    item = item_from_response(response(body, charset), fetched_at=FETCHED_AT)
    with ItemProcessor(project_settings({"ARCHIVE_ENABLED": False})) as processor:
        record, _ = processor.process(item)
    assert isinstance(record, ArticleItem), getattr(record, "reason", None)
    assert record.title == ENCODED_TITLE
    assert "Đảng ủy Khối các Cơ quan" in record.body and record.legacy_encoding == encoding
    assert "\ufffd" not in record.body


def test_text_that_reads_wrong_but_in_no_known_encoding_is_flagged_not_changed():
    # Latin-1 letters that are Vietnamese in neither TCVN3 nor VNI nor as they are.
    # TCVN3 half of whose words are damaged: a reading half Vietnamese proves nothing.
    odd = (to_tcvn3("Nông dân thu hoạch lúa xuân được mùa") + " x¸zq ¹qwx kµz ©xq bµw ¸kq"
           .encode("cp1252")).decode("cp1252")
    html = article_html(2548123).replace("<p>Hội nghị kết thúc", f"<p>{odd}</p><p>Hội nghị kết thúc")
    item = item_from_response(response(html.encode("utf-8"), "utf-8"), fetched_at=FETCHED_AT)
    assert isinstance(item, ArticleItem) and item.legacy_encoding == "unknown"
    assert odd in item.body  # kept as it was


def test_the_byte_telltale_search_is_the_text_one():
    import random

    from crawler.normalise.legacy import _TELLTALE, looks_font_encoded, utf8_looks_font_encoded

    telltales = _TELLTALE.pattern[1:-1].replace("\\", "")
    assert telltales and all(ord(ch) > 127 for ch in telltales)  # what the byte search relies on
    rng = random.Random(11)
    alphabet = list("aăâđêôơư ÀẢÃÁẠ<p>/\n\ufeff€—“”…") + list(telltales) + ["\U0001f600"]
    hits = 0
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        if rng.random() < 0.7:
            text = "".join(ch for ch in text if ch not in telltales)
        expected = looks_font_encoded(text)
        assert utf8_looks_font_encoded(text.encode("utf-8")) is expected, repr(text)
        hits += expected
    assert 2_000 < hits < 18_000
