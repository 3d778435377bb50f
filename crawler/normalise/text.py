"""Text cleaning: the TextCleanupPipeline's job (pipelines/text.py).

Pure functions only, no Scrapy. This is the one module that uses BeautifulSoup (always with the
"lxml" parser named). Output text keeps Vietnamese as printed (NFC, either tone-mark placement);
comparing text is crawler/normalise/keys.py's job. The paragraph helpers at the end are shared
by the boilerplate, caption and byline modules beside this one.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import ftfy
from bs4 import BeautifulSoup, Comment

from crawler.normalise.keys import CharTable
from crawler.normalise.lexicon import load_boilerplate
from crawler.normalise.mojibake import looks_bad

__all__ = [
    "clean_line",
    "clean_text",
    "clean_title",
    "flat_lines",
    "join_paragraphs",
    "split_paragraphs",
]

# --- Cleaning -----------------------------------------------------------------------------------

# Only something shaped like a whole tag or comment counts as markup: "x <y" stays text.
# Linear in the text: "<a" and 300,000 spaces took 167 s when the attributes' [^<>]* could give
# back what "/?\s*>" then took again (issue 21); the attributes now run to the ">" themselves,
# which finds the same tags.
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*>|/?\s*>)|<!--", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_DROP_TAGS = ("script", "style", "noscript", "template", "head", "iframe", "object")
_BLOCK_TAGS = (
    "p", "div", "section", "article", "header", "footer", "aside", "figure", "figcaption",
    "blockquote", "pre", "ul", "ol", "li", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
)  # fmt: skip
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
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
_CHARS = CharTable(_char_rule)


def _normalise_chars(s: str) -> str:
    # Everything below changes only what Python calls unprintable (Unicode "Other" and
    # "Separator" but the space): text of printable lines is returned as it is.
    if s.replace("\n", " ").isprintable():
        return s
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = s.replace("\u2029", "\n\n").replace("\u2028", "\n").replace("\x85", "\n")
    return s.translate(_ZERO_WIDTH).translate(_CHARS)


def _fix_mojibake(s: str) -> str:
    """Undo UTF-8 text that was decoded in a Western code page ("Ä‘Æ°á»£c" -> "được").

    ftfy only changes text that its badness heuristic flags and whose repair round-trips, so
    Vietnamese that merely holds Ã or Â ("Ãm") is left alone. Unrepairable text stays as is.
    Text the heuristic does not flag is returned by ftfy unchanged: ``looks_bad`` is the same
    heuristic, faster, so ftfy only sees the text it may change."""
    return ftfy.fix_encoding(s) if not s.isascii() and looks_bad(s) else s


def clean_text(s: str | None) -> str | None:
    """Return `s` as NFC plain text: entities decoded, markup and control characters gone,
    mojibake repaired, spaces collapsed, lines trimmed, paragraphs separated by one blank line;
    None when empty."""
    if s is None:
        return None
    return _clean_text(str(s))


# Captions, authors and bylines come back to cleaning from later stages, already clean.
@lru_cache(maxsize=2048)
def _clean_text(s: str) -> str | None:
    s = _unescape(s)
    if _MARKUP.search(s):
        s = _strip_markup(s)
        s = _unescape(s)
    s = unicodedata.normalize("NFC", _normalise_chars(_fix_mojibake(s)))
    # Each line's spaces collapsed and trimmed: what _SPACES.sub(" ", ...) then strip() did,
    # in a third of the time (tests/test_text_fast_paths.py checks they agree). Not needed when
    # the only white space is single spaces inside lines and line breaks (printable text holds
    # no other): the common case, extracted text comes squashed.
    if not _spaced_as_collapsed(s):
        s = "\n".join([" ".join(line.split()) for line in s.split("\n")])
    if "\n\n\n" in s:
        s = _BLANK_RUN.sub("\n\n", s)
    return s.strip("\n") or None


def _spaced_as_collapsed(s: str) -> bool:
    """True when collapsing each line's spaces would leave ``s`` as it is."""
    return (s.replace("\n", " ").isprintable() and "  " not in s and " \n" not in s
            and "\n " not in s and not s.startswith(" ") and not s.endswith(" "))


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


# --- Paragraphs ---------------------------------------------------------------------------------


def split_paragraphs(text: str) -> list[list[str]]:
    """Return the paragraphs of `text` (split at blank lines), each as its list of lines."""
    return [p.split("\n") for p in text.split("\n\n")]


def flat_lines(body: str) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """Return (paragraphs, (paragraph, line) index of every non-empty line, in order)."""
    paragraphs = split_paragraphs(body or "")
    flat = [
        (pi, li) for pi, p in enumerate(paragraphs) for li, line in enumerate(p) if line.strip()
    ]
    return paragraphs, flat


def join_paragraphs(paragraphs: list[list[str]]) -> str:
    """Join paragraphs back into text, dropping emptied lines and paragraphs."""
    kept = ["\n".join(line for line in p if line.strip()) for p in paragraphs]
    return "\n\n".join(p for p in kept if p.strip())
