"""Whether a piece of a byline is a person's name (crawler/normalise/bylines.py reads bylines
with these): capitalised words, initials ("N.Hương"), an academic title before the name, and
whether a name reads as a Vietnamese person's, syllable by syllable.
"""

from __future__ import annotations

import re

from crawler.normalise.keys import loose_key
from crawler.normalise.legacy import is_syllable
from crawler.normalise.lexicon import load_boilerplate

# A paper, a magazine, a station named as a source, not a person.
OUTLET = re.compile(r"(?:báo|tạp chí|đài|cổng|trang|thông tấn xã)\s+\S.*", re.IGNORECASE)
# An institution a contributor works at (a pattern to compile case-insensitive).
INSTITUTION = (r"(?:viện|trường|đại học|học viện|sở|bộ|ban|hội|hiệp hội|trung tâm|công ty"
               r"|ủy ban|ubnd|bệnh viện|khoa|phòng|văn phòng|cục|tổng cục|liên hiệp|câu lạc bộ"
               r"|clb)\b.{0,80}")
_AFFILIATION = re.compile(INSTITUTION, re.IGNORECASE)


def is_affiliation(line: str) -> bool:
    """True when a line names an institution, as printed under the author's name ("Phòng Văn
    hóa - Thông tin huyện", "(Viện Kinh tế nông nghiệp)")."""
    text = line.strip().strip("()").strip()
    return text[:1].isupper() and _AFFILIATION.fullmatch(text) is not None


def _is_name_word(word: str) -> bool:
    core = word.rstrip(".")
    if not core or not core.isalpha() or not core[0].isupper():
        return False
    # "Trọng", "A", "TRỌNG" (all capitals); not "McX" or "iPhone".
    return core[1:].islower() or core.isupper() or len(core) == 1


# A name written with initials, as papers sign short pieces: "N.Hương", "T. Long", "Đ.T",
# "Tr.Long" (a digraph's initial: Tr., Th., Ng., Ph.).
INITIALS_NAME = re.compile(r"(?:[^\W\d_][^\W\d_A-Z]?\.\s?){1,3}[^\W\d_][^\W\d_]*\.?")


# Academic and professional titles printed before a contributor's name ("TS. Nguyễn Văn Minh",
# "PGS.TS Lê Thu Hà", "BS. Trần An"), and a newsroom's roles ("PV Minh Anh": reporter, "BTV":
# editor, "CTV": contributor): the author is the name. (Longer ones first.)
ACADEMIC_TITLES = "TSKH|PGS|GS|TS|ThS|Ths|BSCKII|BSCKI|BS|KTS|KS|LS|NSND|NSƯT|NGND|NGƯT|PV|BTV|CTV"
_TITLE_BEFORE_NAME = re.compile(rf"(?:(?:{ACADEMIC_TITLES})(?:\.\s*|\s+))+(?=[^\W\d_])")


def as_name(part: str) -> str | None:
    """The name `part` holds (2-5 capitalised words; all-capital names title-cased; initials
    and a name, "N.Hương"; without an academic title before it), or None."""
    part = part.strip()
    if (title := _TITLE_BEFORE_NAME.match(part)) is not None:
        part = part[title.end():]
    if INITIALS_NAME.fullmatch(part) and all(
            w[0].isupper() for w in re.split(r"\.\s?", part.rstrip(".")) if w) and \
            sum(ch.isalpha() for ch in part) >= 2:
        return part
    words = part.split()
    if not 2 <= len(words) <= 5 or not all(_is_name_word(w) for w in words):
        return None
    if loose_key(part) in load_boilerplate().not_names or OUTLET.fullmatch(part):
        return None
    if all(w.rstrip(".").isupper() for w in words):
        # "VĂN TRỌNG" is a name set in capitals; but "BNĐ" style acronyms are not names.
        if any(len(w.rstrip(".")) == 1 for w in words):
            return None
        return " ".join(w.title() for w in words)
    return " ".join(words)


def vietnamese_name(name: str) -> bool:
    """True when every word of a name is a Vietnamese syllable, an initial or a short acronym
    ("Minh Anh", "N.Hương", "Tr.Long", "PV"); not "Privacy Policy", "Top Stories" or "Linda
    Klein"."""
    return all(len(word) <= 2 and word[0].isupper() or (word.isupper() and len(word) <= 3)
               or is_syllable(word)
               for word in re.split(r"[\s.]+", name) if word)
