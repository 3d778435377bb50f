"""The development sets: pages and their true text, read from a folder outside git.

Nothing of these sets is committed (they are other people's pages and annotations): they are
read from ``BENCH_DEVSETS_DIR`` (default ``bench/work/devsets``, git-ignored), laid out as the
web-content-extraction benchmark's ``datasets/raw/`` folder (chatnoir-eu/
web-content-extraction-benchmark; bench/README.md says how to fill it):

- ``readability/test-pages/<case>/source.html`` + ``expected.html`` (mozilla/readability's
  test pages; the true text is the expected article's text);
- ``cleaneval/orig/<n>.html`` + ``cleaneval/clean/<n>.txt`` (CleanEval; the true text is the
  cleaned file without its ``<p>``/``<h>``/``<l>`` marks and its URL line);
- ``cetd/<vertical>/original/<n>.htm`` + ``cetd/<vertical>/gold/<n>.txt`` (CETD);
- ``google-trends-2017/raw_html/<n>.html`` + ``prepared_html/<n>.html`` (the text of the
  leaves marked ``__boilernet_label="1"``).

The 181 pages of ``bench/realpages`` (vendored) are a fifth set. Every set is split by a fixed
hash of the page key into a development part (about 70%) and a held-aside part.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.realpages.run import load_pages

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE.parent / "work" / "devsets"
ENV = "BENCH_DEVSETS_DIR"
SETS = ("realpages", "readability", "cleaneval", "cetd", "google-trends-2017")
DEV, HELD = "dev", "held"
# Share of each set in the development part.
DEV_SHARE = 70
CETD_VERTICALS = ("arstechnica", "BBC", "Chaos", "nytimes", "wiki", "YAHOO!")
# The blocks after which a leaf's text starts a new line (the benchmark's reader's list).
_BLOCK_PARENTS = frozenset({
    "address", "article", "aside", "blockquote", "canvas", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "noscript", "ol", "p", "pre", "section", "table", "tfoot", "ul",
    "video"})
_CLEANEVAL_MARK = re.compile(r"<[^>\n]{0,40}>")
_CLEANEVAL_TEXT_TAG = re.compile(r"(?:^<text [^>]+>\s*|\s*</text>$)", re.MULTILINE)


@dataclass(frozen=True)
class DevPage:
    """One page of a development set: its set, key, real URL (if known), bytes and true text."""

    set: str
    key: str
    url: str | None
    html: bytes
    truth: str

    @property
    def part(self) -> str:
        """The part the page belongs to: ``dev`` or ``held``."""
        return part_of(self.set, self.key)


def part_of(set_name: str, key: str) -> str:
    """Return ``dev`` for about 70% of a set's keys, ``held`` for the rest (fixed by a hash)."""
    digest = hashlib.sha256(f"{set_name}/{key}".encode()).hexdigest()
    return DEV if int(digest[:8], 16) % 100 < DEV_SHARE else HELD


def data_dir() -> Path:
    """Return the folder the fetched sets are read from (``BENCH_DEVSETS_DIR`` or the default)."""
    return Path(os.environ.get(ENV) or DEFAULT_DIR)


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _html_text(markup: str) -> str:
    """Return the text of an HTML fragment or page, a line per block."""
    from crawler.extract.html import element_text, parse_html

    if not markup.strip():
        return ""
    root = parse_html(markup)
    body = root.find("body")
    return element_text(body if body is not None else root)


def _labelled_text(markup: str, attribute: str) -> str:
    """Return the text of the leaves carrying ``attribute="1"``: each leaf whose only child is
    text, on a new line after a block parent (the benchmark's reader of Google-Trends-2017)."""
    from crawler.extract.html import parse_html

    root = parse_html(markup)
    out: list[str] = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el.get(attribute) != "1" or len(el):
            continue
        text = (el.text or "").strip()
        if not text:
            continue
        parent = el.getparent()
        if parent is not None and parent.tag in _BLOCK_PARENTS:
            out.append("\n")
        out.append(text + " ")
    return "".join(out).strip()


def _readability(folder: Path) -> Iterator[DevPage]:
    pages = folder / "readability" / "test-pages"
    for case in sorted(p for p in pages.iterdir() if (p / "source.html").is_file()):
        expected = case / "expected.html"
        if not expected.is_file():
            continue
        url = None
        meta = case / "expected-metadata.json"
        if meta.is_file():
            url = json.loads(meta.read_text("utf-8")).get("url")
        yield DevPage("readability", case.name, url, _read(case / "source.html"),
                      _html_text(_text(_read(expected))))


def cleaneval_truth(raw: str) -> str:
    """Return a CleanEval cleaned file's text: marks, the URL line and indentation gone."""
    text = html_lib.unescape(_CLEANEVAL_MARK.sub("", raw.lstrip("\ufeff")))
    text = re.sub(r"\n +", "\n", text)
    return re.sub(r"^\s*URL:[^\n]+\s*", "", text).strip()


def _cleaneval(folder: Path) -> Iterator[DevPage]:
    base = folder / "cleaneval"
    for clean in sorted((base / "clean").glob("*.txt"), key=lambda p: (len(p.stem), p.stem)):
        orig = base / "orig" / f"{clean.stem}.html"
        if not orig.is_file():
            continue
        raw = _text(_read(clean))
        url = re.search(r"^\s*URL: (https?://\S+)", raw)
        html = _CLEANEVAL_TEXT_TAG.sub("", _text(_read(orig))).encode("utf-8")
        yield DevPage("cleaneval", clean.stem, url.group(1) if url else None, html,
                      cleaneval_truth(raw))


def _cetd(folder: Path) -> Iterator[DevPage]:
    for vertical in CETD_VERTICALS:
        gold = folder / "cetd" / vertical / "gold"
        if not gold.is_dir():
            continue
        for truth in sorted(gold.glob("*.txt")):
            orig = folder / "cetd" / vertical / "original" / f"{truth.stem}.htm"
            if orig.is_file():
                yield DevPage("cetd", f"{vertical}_{truth.stem}", None, _read(orig),
                              _text(_read(truth)).strip())


def _google_trends(folder: Path) -> Iterator[DevPage]:
    base = folder / "google-trends-2017"
    for prepared in sorted((base / "prepared_html").glob("*.html")):
        raw = base / "raw_html" / prepared.name
        if raw.is_file():
            yield DevPage("google-trends-2017", prepared.stem, None, _read(raw),
                          _labelled_text(_text(_read(prepared)), "__boilernet_label"))


def _realpages() -> Iterator[DevPage]:
    for page in load_pages():
        yield DevPage("realpages", page.key, page.url, page.html, page.truth)


_READERS = {"readability": _readability, "cleaneval": _cleaneval, "cetd": _cetd,
            "google-trends-2017": _google_trends}
_MARKERS = {"readability": "readability/test-pages", "cleaneval": "cleaneval/clean",
            "cetd": "cetd", "google-trends-2017": "google-trends-2017/prepared_html"}


def available(folder: Path | None = None) -> dict[str, bool]:
    """Return, for each set, whether its data is there (the vendored real pages always are)."""
    folder = folder or data_dir()
    return {name: name == "realpages" or (folder / _MARKERS[name]).is_dir() for name in SETS}


def load(set_name: str, part: str | None = None, folder: Path | None = None,
         limit: int | None = None) -> list[DevPage]:
    """Return a set's pages (only those of ``part`` if given), sorted by key; empty if absent."""
    folder = folder or data_dir()
    if set_name == "realpages":
        pages = _realpages()
    elif available(folder)[set_name]:
        pages = _READERS[set_name](folder)
    else:
        return []
    chosen = [p for p in pages if part is None or p.part == part]
    return chosen[:limit] if limit else chosen


def missing_message(folder: Path | None = None) -> str | None:
    """Return the one-line message that says which sets are absent, or None when all are there."""
    folder = folder or data_dir()
    absent = [name for name, there in available(folder).items() if not there]
    if not absent:
        return None
    return (f"development sets not found in {folder} (set {ENV}; bench/README.md says how to "
            f"fetch them): {', '.join(absent)}; scoring the others")


__all__ = ["DEV", "HELD", "SETS", "DevPage", "available", "data_dir", "load", "missing_message",
           "part_of"]
