"""Vietnamese in the legacy font encodings, TCVN3 (ABC) and VNI: detected on a page's text and
converted to Unicode, or flagged where the text is not certain.

Before Unicode, Vietnamese pages were typed in 8-bit font encodings and shown with their fonts
(.VnTime for TCVN3, VNI-Times for VNI): the bytes, read as Windows-1252 as a browser reads them,
give "N«ng d©n Nam §Þnh" (TCVN3) or "Noâng daân Nam Ñònh" (VNI) for "Nông dân Nam Định". The
text reaches us either as such bytes (a page that is not UTF-8) or as those Windows-1252
characters stored as Unicode by a CMS. font_bytes gives back the bytes of such text;
judge decodes them each way and keeps the reading whose words are Vietnamese; repair
does it run by run over a page. It must run before anything deletes characters: TCVN3's "ư" is
byte 0xAD, the soft hyphen of Windows-1252, which text cleaning drops.

The tables: TCVN3 is the VN3 subset of TCVN 5712:1993, and TCVN3_HIGH below is that standard's
VN1 table (a superset: its extra positions hold capitals, unused by TCVN3 text) exactly as
GNU libc's iconv converter TCVN5712-1 decodes bytes 0x80-0xFF (generated with
``printf ... | iconv -f TCVN5712-1 -t UTF-8``; tests/test_legacy.py compares them where iconv is
there). VNI writes a letter as its base letter followed by one Windows-1252 letter that stands
for its marks (VNI_MARKS), with a few letters of their own (VNI_LETTERS); the table was checked
against the VNI-Windows table of xvnkb (vni.h, by Dao Hai Lam, 2002).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["LEGACY_ENCODINGS", "Verdict", "decode", "font_bytes", "judge", "looks_font_encoded",
           "repair", "utf8_looks_font_encoded"]

LEGACY_ENCODINGS = ("tcvn3", "vni")

# Bytes 0x80-0xFF in TCVN 5712:1993 (VN1), as glibc's iconv decodes them; 0x00-0x7F are ASCII.
TCVN3_HIGH = (
    "ÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨ"  # 0x80
    "ÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨ"  # 0x90
    "\u00a0ĂÂÊÔƠƯĐăâêôơưđẰ"  # 0xA0
    "\u0300\u0309\u0303\u0301\u0323àảãáạẲằẳẵắẴ"  # 0xB0
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"  # 0xC0
    "éẹềểễếệìỉỄẾỒĩíịò"  # 0xD0
    "Ổỏõóọồổỗốộờởỡớợù"  # 0xE0
    "ỖủũúụừửữứựỳỷỹýỵỐ"  # 0xF0
)

# VNI: a letter that carries marks of its own ...
VNI_LETTERS = {
    "ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư", "ñ": "đ", "Ñ": "Đ",
    "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",
    "Í": "Í", "Ì": "Ì", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị", "Î": "Ỵ",
}
# ... and the letter after a vowel that stands for its marks: a tone, a circumflex (â, ê, ô)
# or a breve (ă) with or without a tone. Capitals use the same letters in capitals.
_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_CIRCUMFLEX, _BREVE = "\u0302", "\u0306"
VNI_MARKS = {
    "ù": _ACUTE, "ø": _GRAVE, "û": _HOOK, "õ": _TILDE, "ï": _DOT,
    "â": _CIRCUMFLEX, "á": _CIRCUMFLEX + _ACUTE, "à": _CIRCUMFLEX + _GRAVE,
    "å": _CIRCUMFLEX + _HOOK, "ã": _CIRCUMFLEX + _TILDE, "ä": _CIRCUMFLEX + _DOT,
    "ê": _BREVE, "é": _BREVE + _ACUTE, "è": _BREVE + _GRAVE, "ú": _BREVE + _HOOK,
    "ü": _BREVE + _TILDE, "ë": _BREVE + _DOT,
}
VNI_MARKS.update({k.upper(): v for k, v in list(VNI_MARKS.items())})
_TONES = {_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT}
# Which vowels take which marks: tones go on any vowel, the circumflex on a, e, o, the breve on a.
_TAKES = {"a": {_CIRCUMFLEX, _BREVE}, "e": {_CIRCUMFLEX}, "o": {_CIRCUMFLEX}}

# Windows-1252 (and Windows-1258, which a page that is not UTF-8 is read as) back to bytes.
_FONT_BYTE: dict[str, int] = {}
for _codec in ("cp1258", "cp1252"):
    for _byte in range(0x80, 0x100):
        try:
            _FONT_BYTE.setdefault(bytes([_byte]).decode(_codec), _byte)
        except UnicodeDecodeError:
            pass
for _byte in range(0x80, 0x100):
    _FONT_BYTE.setdefault(chr(_byte), _byte)  # Latin-1, C1 controls included


def font_bytes(text: str) -> bytes | None:
    """Return the bytes a font-encoded text was typed as (ASCII, then what Windows-1252 or -1258
    shows for each byte), or None when a character is none of them (real Unicode text)."""
    out = bytearray()
    for ch in text:
        code = ord(ch)
        if code < 0x80:
            out.append(code)
        elif ch in _FONT_BYTE:
            out.append(_FONT_BYTE[ch])
        else:
            return None
    return bytes(out)


def _vowel_base(ch: str) -> str:
    return unicodedata.normalize("NFD", ch)[0].lower()


def decode(data: bytes, encoding: str) -> str:
    """Return font-encoded bytes as Unicode text (NFC)."""
    if encoding == "tcvn3":
        return "".join(chr(b) if b < 0x80 else TCVN3_HIGH[b - 0x80] for b in data)
    text = data.decode("cp1252", errors="replace") if encoding == "vni" else None
    if text is None:
        raise ValueError(f"unknown legacy encoding {encoding!r}")
    out: list[str] = []
    for ch in text:
        marks = VNI_MARKS.get(ch)
        if marks and out and _vowel_base(out[-1]) in "aeiouy" and _fits(out[-1], marks):
            out[-1] = unicodedata.normalize("NFC", unicodedata.normalize("NFD", out[-1]) + marks)
        else:
            out.append(VNI_LETTERS.get(ch, ch))
    return unicodedata.normalize("NFC", "".join(out))


def _fits(letter: str, marks: str) -> bool:
    """True when a letter can take these marks (no second tone, a circumflex only on a, e, o)."""
    have = set(unicodedata.normalize("NFD", letter)[1:])
    if have & _TONES and set(marks) & _TONES:
        return False
    hats = set(marks) - _TONES
    return not hats or (not have & {_CIRCUMFLEX, _BREVE}
                        and hats <= _TAKES.get(_vowel_base(letter), set()))


# --- Judging a reading ---------------------------------------------------------------------

_VIETNAMESE_MARKS = _TONES | {_CIRCUMFLEX, _BREVE, "\u031b"}


def _vietnamese_letter(ch: str) -> bool:
    """True for a letter of the Vietnamese alphabet that is not ASCII (â, ư, ế, đ, ...)."""
    if ch in "đĐ":
        return True
    parts = unicodedata.normalize("NFD", ch)
    return (len(parts) > 1 and parts[0].lower() in "aeiouy"
            and all(m in _VIETNAMESE_MARKS for m in parts[1:])
            and sum(m in _TONES for m in parts[1:]) <= 1)


# One Vietnamese syllable, lower case: an initial consonant (or none), one to three vowels, a
# final consonant (or none). German "für" read as TCVN3 is "fỹr": no Vietnamese syllable.
_VOWELS = "".join(sorted({unicodedata.normalize("NFC", v + t)
                          for v in ("a", "a\u0306", "a\u0302", "e", "e\u0302", "i", "o", "o\u0302",
                                    "o\u031b", "u", "u\u031b", "y")
                          for t in ("", *sorted(_TONES))}))
_SYLLABLE = re.compile(
    "(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    f"[{_VOWELS}]{{1,3}}(?:ch|ng|nh|[cmnpt])?")
_EDGES = ".,;:!?\"'()[]{}«»“”‘’-–—…"


def is_syllable(word: str) -> bool:
    """True when a word is one Vietnamese syllable (punctuation at its ends aside), one tone."""
    core = word.strip(_EDGES).lower()
    return bool(core) and _SYLLABLE.fullmatch(core) is not None and \
        sum(any(m in _TONES for m in unicodedata.normalize("NFD", ch)) for ch in core) <= 1


_WORD_BREAK = re.compile(r"[\s<>=\"/&;]+")


def _words(text: str) -> list[str]:
    """Return the words of a text (markup and white space apart) that hold a character that is
    not ASCII and an ASCII letter: words of a language written in Latin letters, not a table of
    signs or letters one by one."""
    return [w for w in _WORD_BREAK.split(text)
            if not w.isascii() and any("a" <= c <= "z" or "A" <= c <= "Z" for c in w)]


# Characters a font-encoded text shows that Vietnamese in Unicode never holds (neither letters of
# its alphabet, nor combining marks, nor the usual signs): the quick test before a page is judged
# word by word, so that a page in Unicode costs one search.
_USUAL_SIGNS = "«»©®°·•€£§¶“”‘’–—…×₫"
_TELLTALE = re.compile("[" + re.escape("".join(sorted(
    ch for ch in _FONT_BYTE if ch.isprintable() and ch not in _USUAL_SIGNS
    and not _vietnamese_letter(ch) and unicodedata.category(ch) != "Mn"))) + "\u00ad]")


def looks_font_encoded(text: str) -> bool:
    """True when a text holds a character only a legacy font encoding would show (µ, ¸, ñ,
    ö, ...; TCVN3's soft hyphen for "ư"): worth ``repair``."""
    return _TELLTALE.search(text) is not None


_ASCII_BYTES = bytes(range(128))


def utf8_looks_font_encoded(data: bytes) -> bool:
    """``looks_font_encoded(data.decode("utf-8"))`` of valid UTF-8 ``data``: every telltale is
    outside ASCII, so only the page's non-ASCII characters are searched (a fifth of a page's
    HTML; dropping the ASCII bytes keeps UTF-8 valid, none is part of a multi-byte character)."""
    return looks_font_encoded(data.translate(None, _ASCII_BYTES).decode("utf-8"))


def syllable_share(text: str) -> tuple[int, float]:
    """Return (words with non-ASCII characters, share of them that are Vietnamese syllables)."""
    words = _words(text)
    if not words:
        return 0, 0.0
    return len(words), sum(map(is_syllable, words)) / len(words)


# Evidence wanted before a text is converted: enough words with a character a font encoding
# shows, a legacy reading whose words are nearly all Vietnamese syllables. A reading half
# Vietnamese is no proof either way: flagged, not converted.
MIN_WORDS = 5
CLEAN = 0.95
HALF = 0.5


@dataclass(frozen=True)
class Verdict:
    """What a text is: ``encoding`` (tcvn3, vni) with its Unicode ``text`` when certain;
    ``suspect`` when a legacy reading is half Vietnamese but not certain."""

    encoding: str | None = None
    text: str | None = None
    suspect: bool = False


def judge(as_is: str, data: bytes) -> Verdict:
    """Judge a text read ``as_is`` whose bytes are ``data``: a legacy reading is kept when the
    text as it is has MIN_WORDS words showing font characters and the reading's words with
    non-ASCII letters are nearly all (CLEAN) Vietnamese syllables, and more so than as it is."""
    telltales = sum(1 for w in _words(as_is) if _TELLTALE.search(w))
    if telltales < MIN_WORDS:
        return Verdict()
    _count, as_is_share = syllable_share(as_is)
    best: tuple[float, str, str] | None = None
    for encoding in LEGACY_ENCODINGS:
        text = decode(data, encoding)
        n, share = syllable_share(text)
        if n >= MIN_WORDS and (best is None or share > best[0]):
            best = (share, encoding, text)
    if best is None or best[0] <= as_is_share:
        return Verdict()
    if best[0] >= CLEAN:
        return Verdict(best[1], best[2])
    return Verdict(suspect=best[0] >= HALF)


def repair(text: str) -> tuple[str, Verdict]:
    """Return a page's text with its font-encoded runs converted to Unicode (a run: the longest
    stretch whose characters all have a font byte), and the verdict for the page: the encoding
    converted from, or suspect when a run reads wrong and could not be converted."""
    runs: list[str] = []
    start = 0
    converted: str | None = None
    suspect = False
    i, n = 0, len(text)
    while i <= n:
        if i == n or (ord(text[i]) >= 0x80 and text[i] not in _FONT_BYTE):
            run = text[start:i]
            if not run.isascii():
                data = font_bytes(run)
                verdict = judge(run, data) if data is not None else Verdict()
                if verdict.encoding:
                    run, converted = verdict.text or run, converted or verdict.encoding
                suspect = suspect or verdict.suspect
            runs.append(run)
            if i < n:
                runs.append(text[i])
            start = i + 1
        i += 1
    if converted is None and not suspect:
        return text, Verdict()
    return "".join(runs), Verdict(converted, None, suspect and converted is None)
