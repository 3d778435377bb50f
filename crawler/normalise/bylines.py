"""Bylines and authors: the BylinePipeline's job (pipelines/bylines.py).

Parses bylines as printed ("Tin ảnh: Văn Trọng", "Bài: X; Ảnh: Y", "Theo TTXVN", "X (TTXVN)")
into authors and a source, takes the byline and the end mark ("./.") off the body's tail, and
reads the author printed at the top of a leader's article. Names, pseudonyms and agencies come
from crawler/data/boilerplate.json (crawler/normalise/lexicon.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from crawler.normalise.keys import fold, loose_key, similar
from crawler.normalise.lexicon import load_boilerplate
from crawler.normalise.names import (
    ACADEMIC_TITLES,
    INITIALS_NAME,
    INSTITUTION,
    OUTLET,
    as_name,
    vietnamese_name,
)
from crawler.normalise.text import clean_text, flat_lines, join_paragraphs

__all__ = [
    "Byline",
    "has_credit_label",
    "is_byline",
    "is_name_list",
    "looks_like_credit",
    "parse_byline",
    "parse_top_author",
    "remove_byline_copy",
    "signs",
    "split_byline",
    "strip_end_mark",
]

# --- Names and bylines --------------------------------------------------------------------------


@dataclass(frozen=True)
class Byline:
    """A parsed byline: the people credited, and the agency or outlet it came from."""

    authors: list[str] = field(default_factory=list)
    source: str | None = None


_NAME_SPLIT = re.compile(r"\s+[-–—]\s+|\s*[,;/&+]\s*|\s+và\s+")
_EDGE_PUNCT = " \t.,;:-–—|"


def is_name_list(value: str) -> bool:
    """True when `value` is a list of one or more personal names (honorifics allowed)."""
    parts = [p.strip(_EDGE_PUNCT) for p in _NAME_SPLIT.split(value.strip())]
    parts = [p for p in parts if p]
    return bool(parts) and all(as_name(p) or as_name(_strip_honorific(p)) for p in parts)


def _credit(part: str) -> tuple[str | None, str | None] | None:
    """(author, source) for one credited party: a pseudonym, an agency or a name; else None."""
    bp = load_boilerplate()
    key = loose_key(part)
    if key in bp.pseudonyms:
        return bp.pseudonyms[key], None
    if key in bp.agencies:
        return None, bp.agencies[key]
    if INITIALS_NAME.fullmatch(part.strip()):  # "T.Long" is a name, not a domain
        name = as_name(part)
        if name:
            return name, None
    outlet = _as_outlet(part)
    if outlet:
        return None, outlet
    name = as_name(part) or as_name(_strip_honorific(part))
    if name:
        return name, None
    agency = _agency_bureau(part)
    return (None, agency) if agency else None


def _agency_bureau(part: str) -> str | None:
    """An agency named with its bureau or channel ("VOV-Tây Bắc", "VOV1", "TTXVN tại Huế"), as
    printed; else None."""
    key = loose_key(part)
    for agency in load_boilerplate().agencies:
        if key.startswith(agency) and len(key) > len(agency) and (
                key[len(agency)] in "-–/0123456789" or key[len(agency):].startswith(" tại ")):
            return part.strip(_EDGE_PUNCT)
    return None


def _credits(value: str) -> tuple[list[str], list[str]] | None:
    """Authors and sources of a list of credited parties ("X - Y", "X, Y", "X và Y", "X/TTXVN")."""
    value = value.strip(_EDGE_PUNCT)
    if not value:
        return None
    whole = _credit(value)
    if whole is not None:
        parts = [value]
    else:
        parts = [p.strip(_EDGE_PUNCT) for p in _NAME_SPLIT.split(value)]
    authors: list[str] = []
    sources: list[str] = []
    for part in parts:
        if not part:
            continue
        credit = _credit(part)
        if credit is None:
            return None
        author, source = credit
        if author:
            authors.append(author)
        if source:
            sources.append(source)
    return (authors, sources) if authors or sources else None


_DOMAIN = re.compile(r"[\w.-]+\.[a-z]{2,}(?:/\S*)?", re.IGNORECASE)


def _as_source(value: str) -> str | None:
    """A source as printed after "Theo"/"Nguồn:" ("TTXVN", "Báo Nhân Dân", "nhandan.vn")."""
    value = value.strip(_EDGE_PUNCT)
    if value.count("(") != value.count(")"):
        value = value.strip("()")
    if not value or len(value) > 60 or len(value.split()) > 8:
        return None
    if "," in value:
        # "Theo Reuters, AFP": a source per part, each one by itself ("Theo ông A, năm nay …"
        # is a sentence: its second part is none).
        parts = [source for part in value.split(",") if (source := _as_source(part))]
        return ", ".join(parts) if len(parts) == value.count(",") + 1 else None
    agency = load_boilerplate().agencies.get(loose_key(value))
    if agency:
        return agency
    if _DOMAIN.fullmatch(value) or value[0].isupper() or value[0].isdigit():
        return value
    return None


def _as_outlet(value: str) -> str | None:
    """A source named without "Theo": a known agency, a domain, or "Báo/Tạp chí/Đài ... X"."""
    value = value.strip(_EDGE_PUNCT)
    source = _as_source(value)
    if source is None:
        return None
    if loose_key(value) in load_boilerplate().agencies or _DOMAIN.fullmatch(value):
        return source
    return source if OUTLET.fullmatch(value) and value[0].isupper() else None


_ROLE = r"(?:bài|tin|ảnh|video|clip|đồ họa|đồ hoạ)"
_LABEL = re.compile(
    rf"(?<!\w)(?P<label>{_ROLE}(?:\s*(?:,|và|-|–|/|&|\+)?\s*{_ROLE})*"
    r"|thực hiện|ghi chép|ghi|nhóm phóng viên|nhóm pv|phóng viên|nhóm tác giả|tác giả|người viết"
    r"|biên soạn|tổng hợp|lược dịch|dịch|nguồn)\s*:",
    re.IGNORECASE,
)
# What a byline may say in brackets besides a credit: the author's part in the piece ("tổng
# hợp", "t/h", "lược dịch"), or the author's institution ("Viện …", "Trường Đại học …").
_NOTE = re.compile(
    r"(?:tổng hợp|t/h|th|lược dịch|biên dịch|dịch|chuyển ngữ|ghi|thực hiện|giới thiệu|biên soạn"
    rf"|{INSTITUTION})",
    re.IGNORECASE,
)
# The author's institution after a dash ("Minh Anh - Trung tâm Truyền thông tỉnh"), printed
# capitalised: an affiliation, not a co-author (a station or a paper there is the source).
_NAME_INSTITUTION = re.compile(rf"(?P<names>.+?)\s+[-–—]\s+(?P<inst>{INSTITUTION})", re.I)
_SOURCE_LINE = re.compile(r"(?:theo|nguồn(?: tin)?)\s*:?\s+(?P<src>.+)|nguồn\s*:\s*(?P<src2>.+)",
                          re.I)
_BY = re.compile(r"^(?:by|bởi)\s+(?=\S)", re.IGNORECASE)
_EMAIL = re.compile(r"\s*(?:[-–|,;]\s*)?[(\[<]?\s*(?:e-?mail\s*:?\s*)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
                    r"\s*[)\]>]?", re.IGNORECASE)
_NAME_POSITION = re.compile(r"(?P<name>[^,;()]+?),\s*(?P<position>[^,;()].*)")
_PAREN_TAIL = re.compile(r"(?P<rest>.*?)\s*\((?P<inner>[^()]+)\)")


# Lines up to this long have their answers kept.
CACHED_CHARS = 300


def _parse_line(line: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Authors and sources of one byline line, or None when the line is not a byline."""
    # A paper's bylines are the same few reporters' again and again, and extraction and the
    # byline pipeline both read them: short lines' answers are kept (tuples, so that no caller
    # can change one); a long line is no byline, and is read again.
    return _parse_short_line(line) if len(line) <= CACHED_CHARS else _read_line(line)


def _read_line(line: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    # A reporter's e-mail address beside the name ("Minh Anh (minhanh@baox.vn)") credits no one.
    if "@" in line:
        line = _EMAIL.sub("", line)
    s = _BY.sub("", line.strip().strip(" .;,-–"))
    if not s or len(s) > 150:
        return None
    m = _SOURCE_LINE.fullmatch(s)
    if m:
        value = m["src"] or m["src2"]
        reprint = _PAREN_TAIL.fullmatch(value.strip(_EDGE_PUNCT))
        if reprint and as_name(reprint["rest"]) and (outlet := _as_source(reprint["inner"])):
            # "Theo Minh Anh (Tuổi Trẻ)": from Tuổi Trẻ. A "Theo" line is a source, never an
            # author; the name stays in the byline as printed.
            return (), (outlet,)
        source = _as_source(value)
        return ((), (source,)) if source else None
    m = _PAREN_TAIL.fullmatch(s)
    if m:
        inner = _parse_line(m["inner"])
        if inner is None:
            source = _as_outlet(m["inner"])
            inner = ((), (source,)) if source else None
        if inner is None and _NOTE.fullmatch(m["inner"].strip()):
            inner = ((), ())  # "(tổng hợp)", "(Viện Kinh tế Việt Nam)": a note, no credit
        rest = _parse_line(m["rest"]) if m["rest"].strip() else ((), ())
        if inner is None or rest is None:
            return None
        if rest[0] and not _LABEL.search(m["inner"]):
            inner = ((), inner[1])  # after a name, "(Hải Hậu, Nam Định)" is a place, no co-author
        return rest[0] + inner[0], rest[1] + inner[1]
    labels = list(_LABEL.finditer(s))
    if labels:
        authors: list[str] = []
        sources: list[str] = []
        head = s[: labels[0].start()].strip(_EDGE_PUNCT)
        segments = [(None, head)] if head else []
        for i, lab in enumerate(labels):
            end = labels[i + 1].start() if i + 1 < len(labels) else len(s)
            segments.append((lab["label"].lower(), s[lab.end() : end]))
        for label, value in segments:
            if label == "nguồn":
                source = _as_source(value)
                if source is None:
                    return None
                sources.append(source)
                continue
            credits = _credits(value)
            if credits is None:
                return None
            authors += credits[0]
            sources += credits[1]
        return tuple(authors), tuple(sources)
    credits = _credits(s)
    if credits is None and (m := _NAME_INSTITUTION.fullmatch(s)) and m["inst"][0].isupper() \
            and (named := _credits(m["names"])) and named[0]:
        return tuple(named[0]), tuple(named[1])
    if credits is None:
        m = _NAME_POSITION.fullmatch(s)
        name = m and (as_name(m["name"]) or as_name(_strip_honorific(m["name"])))
        if name and (_is_position(m["position"]) or m["position"].startswith("nguyên ")):
            return (name,), ()  # "Lê Văn Thịnh, nguyên Phó Giám đốc Sở Tài nguyên"
    return None if credits is None else (tuple(credits[0]), tuple(credits[1]))


_parse_short_line = lru_cache(maxsize=4096)(_read_line)


def _unique(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for v in values:
        if fold(v) not in seen:
            seen.add(fold(v))
            out.append(v)
    return out


def parse_byline(byline: str) -> Byline:
    """Parse a byline as printed ("Tin ảnh: Văn Trọng", "Bài: X; Ảnh: Y", "Theo TTXVN",
    "X (TTXVN)", "Hồng Minh - Thanh Thúy", ...); lines that are not a byline add nothing."""
    authors: list[str] = []
    sources: list[str] = []
    for line in (byline or "").splitlines():
        parsed = _parse_line(line)
        if parsed:
            authors += parsed[0]
            sources += parsed[1]
    sources = _unique(sources)
    return Byline(_unique(authors), ", ".join(sources) if sources else None)


def is_byline(text: str) -> bool:
    """True when every non-empty line of `text` parses as a byline and some credit is found."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    parsed = [_parse_line(line) for line in lines]
    return bool(lines) and all(p is not None and (p[0] or p[1]) for p in parsed)


def has_credit_label(line: str) -> bool:
    """True when a line credits by a label ("Bài và ảnh:", "Tin:", "Nguồn:") or names a
    source ("Theo TTXVN"): a byline whatever its names are."""
    s = (line or "").strip()
    return bool(_LABEL.search(s) or _SOURCE_LINE.fullmatch(s.strip(" .;,")))


_SENTENCE = re.compile(r"[?!:]\s*$")


def looks_like_credit(line: str) -> bool:
    """True when a short line reads as a credit rather than a sentence: a byline, or a few
    mostly capitalised words ("Lê Văn Thịnh, Viện Kinh tế"), nothing asked or announced.

    Looser than is_byline: for a line the page's markup already sets apart as a credit (bold or
    right-aligned at the end of the body), so that a name the parser does not know is still
    kept out of the body."""
    line = " ".join((line or "").split())
    if not line or is_byline(line):
        return bool(line)
    words = [w for w in re.split(r"[\s,;/()–-]+", line) if w]
    if not 2 <= len(words) <= 10 or len(line) > 80 or _SENTENCE.search(line):
        return False  # one word alone ("Home") is a label; a credit the parser knows is taken
    if line.endswith(".") and len(words) > 4:
        return False  # a sentence ("Julius is a reporter for …."), not a signature
    if _SERIES_MARK.fullmatch(line) or not (line[0].isupper() or line[0] == "("):
        return False
    if any(ch.isdigit() for ch in line) or loose_key(line) in load_boilerplate().not_names:
        return False  # a place and a date ("Hà Nội, ngày 20/12/2012"), a place alone
    capitalised = [w for w in words if w[0].isalpha() and w[0].isupper()]
    lettered = [w for w in words if w[0].isalpha()]
    return bool(lettered) and len(capitalised) >= 0.6 * len(lettered)


# --- End mark and trailing byline ---------------------------------------------------------------

_END_MARK = re.compile(r"\s*(?P<dot>\.\s*)?/\s*\.\s*$")
_END_MARK_INLINE = re.compile(r"(?P<dot>\.)\s*/\s*\.\s+(?P<tail>\S.*)$")
_SERIES_MARK = re.compile(
    r"\(?\s*(?:(?:còn nữa|còn tiếp|kỳ sau|kỳ tới|bài sau|bài tới|tiếp theo|hết)\b|\*).*",
    re.IGNORECASE,
)
_TAIL_LINES = 5
_SHORT = 120


def _without_mark(line: str, m: re.Match[str]) -> str:
    # In "năm 2021./." the first dot is the sentence's full stop: keep it, drop only "/.".
    rest = line[: m.start()].rstrip()
    if m["dot"] and rest and rest[-1] not in ".!?…:;":
        rest += "."
    return rest


def _find_end_mark(
    paragraphs: list[list[str]], flat: list[tuple[int, int]]
) -> tuple[int, str, str | None] | None:
    """(index in flat, line without the mark, byline text on the same line) of the end mark."""
    for k in range(len(flat) - 1, max(-1, len(flat) - 1 - _TAIL_LINES), -1):
        pi, li = flat[k]
        line = paragraphs[pi][li]
        if "/" in line:  # both marks have one: most lines are not searched
            # The end mark is made of white space, "." and "/" to the line's end: searched for
            # from where that run starts, not tried at every character.
            start = len(line)
            while start and (line[start - 1] in "./" or line[start - 1].isspace()):
                start -= 1
            m = _END_MARK.search(line, start)
            if m:
                return k, _without_mark(line, m), None
            m = _END_MARK_INLINE.search(line)
            if m and len(m["tail"]) <= _SHORT and is_byline(m["tail"]):
                return k, _without_mark(line, m), m["tail"].strip()
        if len(line) > _SHORT:
            break
    return None


def strip_end_mark(body: str) -> str:
    """Remove the end mark ("./.", "./ .", "/.") closing the last content paragraph."""
    paragraphs, flat = flat_lines(body)
    found = _find_end_mark(paragraphs, flat)
    if found is None:
        return body
    k, rest, tail = found
    pi, li = flat[k]
    paragraphs[pi][li] = rest + ("\n" + tail if tail else "")
    return join_paragraphs(paragraphs)


def signs(line: str) -> bool:
    """True when a line ending the body (no end mark before it) is its byline: one with a label
    ("Bài và ảnh:"), "By", a dash, a source, or the names of Vietnamese people, as the paper
    signs. A foreign page's last line in capitalised words ("Privacy Policy", "Print Version")
    names no one however it parses."""
    if not is_byline(line):
        return False
    s = line.strip()
    if has_credit_label(s) or _BY.match(s.lstrip(" -–—")) or s.startswith(("—", "–")):
        return True  # a label, "By", a signature's dash ("— Stephen Bracco")
    parsed = parse_byline(s)
    return parsed.source is not None or all(vietnamese_name(a) for a in parsed.authors)


def split_byline(body: str) -> tuple[str, str | None]:
    """Remove the end mark and take the trailing byline out of `body`: (body, byline as printed).

    After an end mark every short line is byline except series markers ("(Còn nữa)"); without
    one, only trailing lines (up to three) that parse as a byline are taken."""
    paragraphs, flat = flat_lines(body)
    if not flat:
        return body, None
    byline_lines: list[str] = []
    found = _find_end_mark(paragraphs, flat)
    if found is not None:
        k, rest, tail = found
        pi, li = flat[k]
        paragraphs[pi][li] = rest
        if tail:
            byline_lines.append(tail)
        for pj, lj in flat[k + 1 :]:
            line = paragraphs[pj][lj]
            if not _SERIES_MARK.fullmatch(line.strip()):
                byline_lines.append(line.strip())
                paragraphs[pj][lj] = ""
    else:
        taken: list[str] = []
        for pj, lj in reversed(flat[1:][-3:]):
            line = paragraphs[pj][lj]
            if len(line) > _SHORT or not signs(line):
                break
            taken.insert(0, line.strip())
            paragraphs[pj][lj] = ""
        byline_lines = taken
    return join_paragraphs(paragraphs), "\n".join(byline_lines) or None


def remove_byline_copy(body: str, byline: str) -> str:
    """Remove the end mark and trailing lines of `body` that repeat `byline` (found elsewhere)."""
    known = parse_byline(byline)
    known_lines = [line for line in byline.splitlines() if line.strip()]
    paragraphs, flat = flat_lines(strip_end_mark(body))
    for pi, li in reversed(flat[1:][-_TAIL_LINES:]):
        line = paragraphs[pi][li]
        parsed = parse_byline(line)
        same_text = similar(line, byline) or any(similar(line, k) for k in known_lines)
        same_credit = (parsed.authors or parsed.source) and (
            {fold(a) for a in parsed.authors} <= {fold(a) for a in known.authors}
            and (parsed.source is None or parsed.source == known.source)
        )
        if not (same_text or same_credit):
            break
        paragraphs[pi][li] = ""
    return join_paragraphs(paragraphs)


# --- Author printed at the top ------------------------------------------------------------------

_HONORIFIC = re.compile(
    rf"(?:đồng chí|đ/c|ông|bà|nhà báo|(?:(?:{ACADEMIC_TITLES}|cn)\.?\s*)+)\s+",
    re.IGNORECASE,
)


def _strip_honorific(s: str) -> str:
    s = s.strip()
    m = _HONORIFIC.match(s)
    return s[m.end() :].strip() if m else s


def _is_position(title: str) -> bool:
    title = title.strip()
    if not title or len(title) > 250 or title[-1] in ".!?:;" or any(c.isdigit() for c in title):
        return False
    segments = [seg.strip() for seg in title.split(",")]
    return all(seg and seg[0].isupper() for seg in segments)


def parse_top_author(text: str) -> tuple[str, str] | None:
    """(name, title) of an author printed at the top of a leader's article, or None.

    Forms: "Phạm Gia Túc\\nỦy viên Trung ương Đảng, Bí thư Tỉnh ủy" and
    "Đồng chí Phạm Gia Túc, Bí thư Tỉnh ủy" (also "Name - Title")."""
    cleaned = clean_text(text)
    if cleaned is None:
        return None
    lines = [line for line in cleaned.splitlines() if line.strip()]
    if len(lines) == 2:
        name = as_name(_strip_honorific(lines[0]).strip(" ,"))
        if name and _is_position(lines[1]):
            return name, lines[1].strip()
        return None
    if len(lines) != 1:
        return None
    line = _strip_honorific(lines[0])
    m = re.match(r"(?P<name>[^,–—-]+?)\s*(?:,|\s[-–—])\s*(?P<title>.+)", line)
    if not m:
        return None
    name = as_name(m["name"])
    if name and _is_position(m["title"]):
        return name, m["title"].strip()
    return None
