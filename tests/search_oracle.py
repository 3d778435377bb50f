"""What a search must find, computed from the JSON Lines with a fold of the tests' own.

unicodedata drops the marks, đ becomes d, words are runs of letters and digits: nothing is
shared with crawler.normalise.text.search_key, the query parser or the index.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path


def plain_tokens(text: str) -> list[str]:
    """Return the words of ``text``, folded by unicodedata: no marks, đ as d, lower case."""
    stripped = "".join(c for c in unicodedata.normalize("NFD", text or "")
                       if not unicodedata.combining(c))
    stripped = stripped.replace("đ", "d").replace("Đ", "D").replace("ð", "d").replace("Ð", "D")
    return re.findall(r"[^\W_]+", stripped.lower())


def oracle_terms(query: str) -> list[list[str]]:
    """Return a query's words and \"phrases\", each as its folded words."""
    terms = []
    for phrase, word in re.findall(r'"([^"]*)"?|(\S+)', query):
        tokens = plain_tokens(phrase or word)
        if tokens:
            terms.append(tokens)
    return terms


def holds(tokens: list[str], term: list[str]) -> bool:
    """True when the words ``term`` occur in ``tokens`` in a row."""
    n = len(term)
    return any(tokens[i:i + n] == term for i in range(len(tokens) - n + 1))


def latest_records(root: Path) -> dict[str, dict]:
    """Return each article's latest record, read from the JSON Lines."""
    latest: dict[str, dict] = {}
    for path in sorted((root / "articles").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line)
            if record["id"] not in latest or record["version"] >= latest[record["id"]]["version"]:
                latest[record["id"]] = record
    return latest


def expected_matches(root: Path, query: str) -> dict[str, dict]:
    """Return the latest records whose title, lead or body holds every term of the query."""
    terms = oracle_terms(query)
    out = {}
    for article_id, record in latest_records(root).items():
        fields = [plain_tokens(record.get(name) or "") for name in ("title", "lead", "body")]
        if all(any(holds(tokens, term) for tokens in fields) for term in terms):
            out[article_id] = record
    return out
