"""Text side of the archive: cleaning, comparison keys, boilerplate, bylines and captions.

Pure functions only, no Scrapy. This is the one module that uses BeautifulSoup (always with the
"lxml" parser named). Output text keeps Vietnamese as printed (NFC, either tone-mark placement);
`fold` exists only to compare.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache
from importlib import resources
from typing import Any

import ftfy
from bs4 import BeautifulSoup, Comment

__all__ = [
    "Boilerplate",
    "Byline",
    "Stripped",
    "clean_text",
    "clean_line",
    "clean_title",
    "dedupe_captions",
    "fold",
    "is_byline",
    "load_boilerplate",
    "normalise_tone",
    "parse_byline",
    "parse_top_author",
    "remove_byline_copy",
    "similar",
    "split_byline",
    "strip_boilerplate",
    "strip_boilerplate_detailed",
    "strip_end_mark",
]

# --- Cleaning -----------------------------------------------------------------------------------

# Only something shaped like a whole tag or comment counts as markup: "x <y" stays text.
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?\s*>|<!--", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_DROP_TAGS = ("script", "style", "noscript", "template", "head", "iframe", "object")
_BLOCK_TAGS = (
    "p", "div", "section", "article", "header", "footer", "aside", "figure", "figcaption",
    "blockquote", "pre", "ul", "ol", "li", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
)  # fmt: skip
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_RUN = re.compile(r"\n{3,}")


def _unescape(s: str) -> str:
    # Twice at most: CMS exports often double-escape ("&amp;#7871;"); more would eat literal text.
    for _ in range(2):
        if not _ENTITY.search(s):
            break
        s = html.unescape(s)
    return s


def _strip_markup(s: str) -> str:
    soup = BeautifulSoup(s, "lxml")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda t: isinstance(t, Comment)):
        comment.extract()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    return soup.get_text()


class _CharTable(dict):
    """str.translate table built lazily, one unicodedata lookup per distinct character."""

    def __init__(self, rule):
        super().__init__()
        self.rule = rule

    def __missing__(self, code: int) -> str | None:
        value = self.rule(chr(code))
        self[code] = value
        return value


def _char_rule(ch: str) -> str | None:
    if ch == "\n":
        return ch
    cat = unicodedata.category(ch)
    if cat == "Zs" or ch == "\t":
        return " "
    if cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
        return None
    return ch


# Spaces to " ", control/format/unassigned characters dropped, newlines kept.
_CHARS = _CharTable(_char_rule)


def _normalise_chars(s: str) -> str:
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = s.replace("\u2029", "\n\n").replace("\u2028", "\n").replace("\x85", "\n")
    return s.translate(_ZERO_WIDTH).translate(_CHARS)


def _fix_mojibake(s: str) -> str:
    """Undo UTF-8 text that was decoded in a Western code page ("Ä‘Æ°á»£c" -> "được").

    ftfy only changes text that its badness heuristic flags and whose repair round-trips, so
    Vietnamese that merely holds Ã or Â ("Ãm") is left alone. Unrepairable text stays as is."""
    return ftfy.fix_encoding(s) if not s.isascii() else s


def clean_text(s: str | None) -> str | None:
    """Return `s` as NFC plain text: entities decoded, markup and control characters gone,
    mojibake repaired, spaces collapsed, lines trimmed, paragraphs separated by one blank line;
    None when empty."""
    if s is None:
        return None
    s = _unescape(str(s))
    if _MARKUP.search(s):
        s = _strip_markup(s)
        s = _unescape(s)
    s = unicodedata.normalize("NFC", _normalise_chars(_fix_mojibake(s)))
    lines = [_SPACES.sub(" ", line).strip() for line in s.split("\n")]
    s = _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip("\n")
    return s or None


def clean_line(s: str | None) -> str | None:
    """Return clean_text(s) on one line (line breaks become spaces); None when empty."""
    s = clean_text(s)
    if s is None:
        return None
    return " ".join(s.split()) or None


def clean_title(s: str | None) -> str | None:
    """Return a title on one line, cleaned, without residue ("[links()]", a site-name suffix)."""
    s = clean_line(s)
    if s is None:
        return None
    for pattern in load_boilerplate().title_residue:
        s = pattern.sub(" ", s)
    return " ".join(s.split()) or None


# --- Comparison keys ----------------------------------------------------------------------------

_TONES = "\u0300\u0301\u0303\u0309\u0323"
# oa/oe/uy closing a syllable, tone on the second vowel ("hoà", "khoẻ", "thuỷ", "uỷ"): move it to
# the first ("hòa", "khỏe", "thủy", "ủy"). "qu" is a consonant, so "quý" is left alone. Works on
# NFD text whose vowels carry no other mark (the lookahead refuses "oă", "uyê", "uya", ...).
_TONE_MOVE = re.compile(
    rf"(?<![qQ])(?P<v1>[oOuU])(?P<v2>[aAeEyY])(?P<t>[{_TONES}])(?![\u0300-\u036f])(?![^\W\d_])"
)
_PAIRS = {("o", "a"), ("o", "e"), ("u", "y")}


def _move_tone(m: re.Match[str]) -> str:
    if (m["v1"].lower(), m["v2"].lower()) not in _PAIRS:
        return m[0]
    return m["v1"] + m["t"] + m["v2"]


def normalise_tone(s: str) -> str:
    """Return `s` (NFC) with oa/oe/uy tone marks in one placement: "hoà"->"hòa", "uỷ"->"ủy"."""
    nfd = unicodedata.normalize("NFD", s)
    return unicodedata.normalize("NFC", _TONE_MOVE.sub(_move_tone, nfd))


def _norm(s: str) -> str:
    """NFC, casefolded, tone placement normalised, whitespace collapsed; punctuation kept."""
    s = normalise_tone(unicodedata.normalize("NFC", s)).casefold()
    return " ".join(s.replace("ð", "đ").split())


# Punctuation and symbols to " ", everything else kept.
_PUNCT_TO_SPACE = _CharTable(lambda ch: " " if unicodedata.category(ch)[0] in "PS" else ch)


def fold(s: str) -> str:
    """Return a comparison key: casefolded, one tone placement, no punctuation, single spaces."""
    return " ".join(_norm(s).translate(_PUNCT_TO_SPACE).split())


_CREDIT_TAIL = re.compile(
    r"(?:ảnh|tin ảnh|bài và ảnh|bài ảnh|nguồn|theo|video|clip|đồ họa)(?: \w+){0,6}"
)


def similar(a: str, b: str, threshold: float = 0.85) -> bool:
    """True when `a` and `b` are the same text up to case, tone placement, punctuation, small
    edits (difflib ratio >= threshold) or a credit tail such as "(Ảnh: X)" on one of them."""
    return _similar_keys(fold(a or ""), fold(b or ""), threshold)


def _similar_keys(fa: str, fb: str, threshold: float = 0.85) -> bool:
    """similar() on two fold() keys."""
    if not fa or not fb:
        return False
    if fa == fb:
        return True
    short, long_ = sorted((fa, fb), key=len)
    if long_.startswith(short) or long_.endswith(short):
        rest = (long_[len(short) :] if long_.startswith(short) else long_[: -len(short)]).strip()
        if _CREDIT_TAIL.fullmatch(rest) or len(short) >= threshold * len(long_):
            return True
    # The ratio cannot reach the threshold when the lengths are too far apart: skip the O(n*m).
    if 2 * len(short) / (len(short) + len(long_)) < threshold:
        return False
    return SequenceMatcher(None, fa, fb, autojunk=False).ratio() >= threshold


# --- Boilerplate data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Anchor:
    name: str
    kind: str  # "strong" | "masthead" | "contact"
    pattern: re.Pattern[str]
    value: str | None = None


@dataclass(frozen=True)
class Boilerplate:
    """Compiled crawler/data/boilerplate.json."""

    anchors: tuple[_Anchor, ...]
    residue: tuple[tuple[str, re.Pattern[str]], ...]
    title_residue: tuple[re.Pattern[str], ...]
    window: int
    min_anchors: int
    max_gap: int
    pseudonyms: dict[str, str]
    agencies: dict[str, str]
    not_names: frozenset[str]


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(normalise_tone(pattern), re.IGNORECASE)


@cache
def load_boilerplate() -> Boilerplate:
    """Load and compile crawler/data/boilerplate.json once per process."""
    raw: dict[str, Any] = json.loads(
        resources.files("crawler").joinpath("data/boilerplate.json").read_text(encoding="utf-8")
    )
    footer = raw["footer"]
    return Boilerplate(
        anchors=tuple(
            _Anchor(a["name"], a["kind"], _compile(a["pattern"]), a.get("value"))
            for a in footer["anchors"]
        ),
        residue=tuple((r["name"], _compile(r["pattern"])) for r in raw["residue"]),
        title_residue=tuple(_compile(p) for p in raw.get("title_residue", [])),
        window=int(footer["window"]),
        min_anchors=int(footer["min_anchors"]),
        max_gap=int(footer["max_gap"]),
        pseudonyms={_norm(k): v for k, v in raw.get("pseudonyms", {}).items()},
        agencies={_norm(a): a for a in raw.get("agencies", [])},
        not_names=frozenset(_norm(n) for n in raw.get("not_names", [])),
    )


# --- Boilerplate stripping ----------------------------------------------------------------------


@dataclass(frozen=True)
class Stripped:
    """What strip_boilerplate_detailed did: the text left, every line removed, the footer cut."""

    text: str
    removed: list[str]
    footer: list[str]


def _paragraphs(text: str) -> list[list[str]]:
    return [p.split("\n") for p in text.split("\n\n")]


def _flat(body: str) -> tuple[list[list[str]], list[tuple[int, int]]]:
    paragraphs = _paragraphs(body or "")
    flat = [
        (pi, li) for pi, p in enumerate(paragraphs) for li, line in enumerate(p) if line.strip()
    ]
    return paragraphs, flat


def _join(paragraphs: list[list[str]]) -> str:
    kept = ["\n".join(line for line in p if line.strip()) for p in paragraphs]
    return "\n\n".join(p for p in kept if p.strip())


def _anchor(line: str, bp: Boilerplate) -> _Anchor | None:
    key = normalise_tone(line.strip())
    for anchor in bp.anchors:
        m = anchor.pattern.fullmatch(key)
        if m is None:
            continue
        if anchor.value == "names" and not _is_name_list(m["value"]):
            continue
        return anchor
    return None


def _is_residue(line: str, bp: Boilerplate) -> bool:
    key = normalise_tone(line.strip())
    return any(p.fullmatch(key) for _, p in bp.residue)


def _footer_start(anchors: list[_Anchor | None], bp: Boilerplate) -> int | None:
    """Index of the first line of the footer run, or None."""
    n = len(anchors)
    runs: list[list[int]] = []
    for i, a in enumerate(anchors):
        if a is None:
            continue
        if runs and i - runs[-1][-1] - 1 <= bp.max_gap:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        if run[0] < n - bp.window or len(run) < bp.min_anchors:
            continue
        if all(anchors[i].kind == "contact" for i in run):  # type: ignore[union-attr]
            continue
        return run[0]
    return None


def strip_boilerplate_detailed(text: str) -> Stripped:
    """Cut the masthead/footer run near the end, drop strong label lines and residue anywhere."""
    bp = load_boilerplate()
    paragraphs, flat = _flat(text)
    anchors = [_anchor(paragraphs[pi][li], bp) for pi, li in flat]
    start = _footer_start(anchors, bp)
    removed: list[str] = []
    footer: list[str] = []
    for k, (pi, li) in enumerate(flat):
        line = paragraphs[pi][li]
        if start is not None and k >= start:
            footer.append(line)
        elif (anchors[k] is not None and anchors[k].kind == "strong") or _is_residue(line, bp):
            removed.append(line)
        else:
            continue
        paragraphs[pi][li] = ""
    # Footer lines are listed where they stood: after any residue removed above them.
    return Stripped(_join(paragraphs), removed + footer, footer)


def strip_boilerplate(text: str) -> tuple[str, list[str]]:
    """Return (text without masthead/footer and residue lines, the lines removed)."""
    result = strip_boilerplate_detailed(text)
    return result.text, result.removed


# --- Names and bylines --------------------------------------------------------------------------


@dataclass(frozen=True)
class Byline:
    """A parsed byline: the people credited, and the agency or outlet it came from."""

    authors: list[str] = field(default_factory=list)
    source: str | None = None


def _is_name_word(word: str) -> bool:
    core = word.rstrip(".")
    if not core or not core.isalpha() or not core[0].isupper():
        return False
    # "Trọng", "A", "TRỌNG" (all capitals); not "McX" or "iPhone".
    return core[1:].islower() or core.isupper() or len(core) == 1


def _as_name(part: str) -> str | None:
    """The name `part` holds (2-5 capitalised words; all-capital names title-cased), or None."""
    words = part.split()
    if not 2 <= len(words) <= 5 or not all(_is_name_word(w) for w in words):
        return None
    if _norm(part) in load_boilerplate().not_names or _OUTLET.fullmatch(part):
        return None
    if all(w.rstrip(".").isupper() for w in words):
        # "VĂN TRỌNG" is a name set in capitals; but "BNĐ" style acronyms are not names.
        if any(len(w.rstrip(".")) == 1 for w in words):
            return None
        return " ".join(w.title() for w in words)
    return " ".join(words)


_NAME_SPLIT = re.compile(r"\s+[-–—]\s+|\s*[,;/&+]\s*|\s+và\s+")
_EDGE_PUNCT = " \t.,;:-–—|"


def _is_name_list(value: str) -> bool:
    parts = [p.strip(_EDGE_PUNCT) for p in _NAME_SPLIT.split(value.strip())]
    parts = [p for p in parts if p]
    return bool(parts) and all(_as_name(p) or _as_name(_strip_honorific(p)) for p in parts)


def _credit(part: str) -> tuple[str | None, str | None] | None:
    """(author, source) for one credited party: a pseudonym, an agency or a name; else None."""
    bp = load_boilerplate()
    key = _norm(part)
    if key in bp.pseudonyms:
        return bp.pseudonyms[key], None
    if key in bp.agencies:
        return None, bp.agencies[key]
    outlet = _as_outlet(part)
    if outlet:
        return None, outlet
    name = _as_name(part)
    return (name, None) if name else None


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
    value = value.strip(_EDGE_PUNCT + "()")
    if not value or len(value) > 60 or "," in value or len(value.split()) > 8:
        return None
    agency = load_boilerplate().agencies.get(_norm(value))
    if agency:
        return agency
    if _DOMAIN.fullmatch(value) or value[0].isupper() or value[0].isdigit():
        return value
    return None


_OUTLET = re.compile(r"(?:báo|tạp chí|đài|cổng|trang|thông tấn xã)\s+\S.*", re.IGNORECASE)


def _as_outlet(value: str) -> str | None:
    """A source named without "Theo": a known agency, a domain, or "Báo/Tạp chí/Đài ... X"."""
    value = value.strip(_EDGE_PUNCT)
    source = _as_source(value)
    if source is None:
        return None
    if _norm(value) in load_boilerplate().agencies or _DOMAIN.fullmatch(value):
        return source
    return source if _OUTLET.fullmatch(value) and value[0].isupper() else None


_ROLE = r"(?:bài|tin|ảnh|video|clip|đồ họa|đồ hoạ)"
_LABEL = re.compile(
    rf"(?<!\w)(?P<label>{_ROLE}(?:\s*(?:,|và|-|–|/|&|\+)?\s*{_ROLE})*"
    r"|thực hiện|ghi chép|ghi|nhóm phóng viên|nhóm pv|phóng viên|nhóm tác giả|tác giả"
    r"|biên soạn|tổng hợp|lược dịch|dịch|nguồn)\s*:",
    re.IGNORECASE,
)
_SOURCE_LINE = re.compile(r"(?:theo|nguồn)\s*:?\s+(?P<src>.+)|nguồn\s*:\s*(?P<src2>.+)", re.I)
_PAREN_TAIL = re.compile(r"(?P<rest>.*?)\s*\((?P<inner>[^()]+)\)")


def _parse_line(line: str) -> tuple[list[str], list[str]] | None:
    """Authors and sources of one byline line, or None when the line is not a byline."""
    s = line.strip().strip(" .;,")
    if not s or len(s) > 150:
        return None
    m = _SOURCE_LINE.fullmatch(s)
    if m:
        source = _as_source(m["src"] or m["src2"])
        return ([], [source]) if source else None
    m = _PAREN_TAIL.fullmatch(s)
    if m:
        inner = _parse_line(m["inner"])
        if inner is None:
            source = _as_outlet(m["inner"])
            inner = ([], [source]) if source else None
        rest = _parse_line(m["rest"]) if m["rest"].strip() else ([], [])
        if inner is None or rest is None:
            return None
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
        return authors, sources
    return _credits(s)


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
        m = _END_MARK.search(line)
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
    paragraphs, flat = _flat(body)
    found = _find_end_mark(paragraphs, flat)
    if found is None:
        return body
    k, rest, tail = found
    pi, li = flat[k]
    paragraphs[pi][li] = rest + ("\n" + tail if tail else "")
    return _join(paragraphs)


def split_byline(body: str) -> tuple[str, str | None]:
    """Remove the end mark and take the trailing byline out of `body`: (body, byline as printed).

    After an end mark every short line is byline except series markers ("(Còn nữa)"); without
    one, only trailing lines (up to three) that parse as a byline are taken."""
    paragraphs, flat = _flat(body)
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
            if len(line) > _SHORT or not is_byline(line):
                break
            taken.insert(0, line.strip())
            paragraphs[pj][lj] = ""
        byline_lines = taken
    return _join(paragraphs), "\n".join(byline_lines) or None


def remove_byline_copy(body: str, byline: str) -> str:
    """Remove the end mark and trailing lines of `body` that repeat `byline` (found elsewhere)."""
    known = parse_byline(byline)
    known_lines = [line for line in byline.splitlines() if line.strip()]
    paragraphs, flat = _flat(strip_end_mark(body))
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
    return _join(paragraphs)


# --- Author printed at the top ------------------------------------------------------------------

_HONORIFIC = re.compile(
    r"(?:đồng chí|đ/c|ông|bà|nhà báo|"
    r"(?:(?:gs|pgs|ts|ths|bs|cn|ks|ls|nsnd|nsưt)\.?\s*)+)\s+",
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
        name = _as_name(_strip_honorific(lines[0]).strip(" ,"))
        if name and _is_position(lines[1]):
            return name, lines[1].strip()
        return None
    if len(lines) != 1:
        return None
    line = _strip_honorific(lines[0])
    m = re.match(r"(?P<name>[^,–—-]+?)\s*(?:,|\s[-–—])\s*(?P<title>.+)", line)
    if not m:
        return None
    name = _as_name(m["name"])
    if name and _is_position(m["title"]):
        return name, m["title"].strip()
    return None


# --- Captions -----------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    value = clean_line(value) if isinstance(value, str) else None
    return value or None


def dedupe_captions(
    images: list[dict[str, Any]], body: str, *, lead: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Give each image one caption and remove caption copies from `body`.

    The visible caption wins over the alt; an alt repeating the previous image's caption or alt
    is the CMS reusing it and is ignored. Images with the same URL are merged; images with
    neither URL nor caption are dropped. Every body paragraph or line similar to any caption or
    alt is removed, except paragraphs similar to `lead` (the body starts with the lead).
    Returns ([{"url", "caption"}, ...], body)."""
    merged: list[dict[str, Any]] = []
    by_url: dict[str, dict[str, Any]] = {}
    for image in images or []:
        url = image.get("url") or None
        entry = {"url": url, "caption": _text(image.get("caption")), "alt": _text(image.get("alt"))}
        if url is not None and url in by_url:
            kept = by_url[url]
            kept["caption"] = kept["caption"] or entry["caption"]
            kept["alt"] = kept["alt"] or entry["alt"]
            continue
        if url is not None:
            by_url[url] = entry
        merged.append(entry)

    copies: list[str] = []
    out: list[dict[str, Any]] = []
    previous: list[str] = []
    for entry in merged:
        caption, alt = entry["caption"], entry["alt"]
        copies += [t for t in (caption, alt) if t]
        if alt and any(similar(alt, p) for p in previous):
            alt = None
        previous = [t for t in (entry["caption"], entry["alt"]) if t]
        final = caption or alt
        if entry["url"] is None and final is None:
            continue
        out.append({"url": entry["url"], "caption": final})

    return out, _remove_copies(body, copies, lead)


def _remove_copies(body: str, copies: list[str], lead: str | None) -> str:
    if not body or not copies:
        return body
    keys = list(dict.fromkeys(k for k in map(fold, copies) if k))

    def is_copy(text: str) -> bool:
        key = fold(text)
        return any(_similar_keys(key, k) for k in keys)

    paragraphs = _paragraphs(body)
    kept: list[list[str]] = []
    for pi, paragraph in enumerate(paragraphs):
        if lead and pi == 0 and similar(" ".join(paragraph), lead):
            kept.append(paragraph)
            continue
        if is_copy(" ".join(paragraph)):
            continue
        kept.append([line for line in paragraph if not is_copy(line)])
    return _join(kept)
