"""ROUGE-LSum, as the web-content-extraction benchmark scores its subsets (our own code).

Bevendorff et al. (SIGIR 2023) score every subset (CleanEval, CETD, Google-Trends-2017,
Readability, ...) the same way: ROUGE-LSum precision, recall and F1 of the extracted text against
the true text, tokens split at white space, the texts cut into sentences, one score per page,
then the mean over pages. A page whose true text is empty has recall 1 (and precision and F1 1
when the extraction is empty too). This module reproduces that with the summary-level LCS of
ROUGE-L: for each true sentence, the union of its longest common subsequences with every
extracted sentence; each token counted at most as often as it occurs on either side.

Two choices of ours: sentences are cut after ``.``/``!``/``?`` (and closing quotes) before white
space and an upper-case letter, digit or quote, a close stand-in for the punkt splitter the
benchmark calls, which needs a model download; and the LCS table is filled a row at a time with
numpy, every extracted sentence at once, because a page in pure Python took seconds.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])['\"”’»)\]]*\s+(?=[\"'“‘«(\[]?[A-ZÀ-ỸĐ0-9])")


@dataclass(frozen=True)
class Score:
    """One page's ROUGE-LSum precision, recall and F1."""

    precision: float
    recall: float
    f1: float


def sentences(text: str) -> list[str]:
    """Return a text's sentences (non-empty), cut after sentence-ending punctuation."""
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def tokens(text: str) -> list[str]:
    """Return a text's tokens: its pieces between runs of white space (the benchmark's)."""
    text = text.strip()
    return _SPACE.split(text) if text else []


def _union_lcs(ref: np.ndarray, cand: np.ndarray, starts: np.ndarray, ends: np.ndarray
               ) -> list[int]:
    """Return the positions in ``ref`` of the union of its LCS with each candidate sentence.

    ``cand`` holds every candidate sentence end to end (``starts``/``ends`` per sentence). The LCS
    table of ``ref`` against all of them is filled one row at a time: within a row, a cell is the
    running maximum of the row above and of the diagonal + 1 where the tokens match, the
    sentences kept apart by adding a per-sentence offset larger than any length before the
    running maximum (so no value crosses into the next sentence)."""
    a, n = len(ref), len(cand)
    seg = np.zeros(n, dtype=np.int64)
    seg[starts[1:]] = 1
    seg = np.cumsum(seg)
    offset = seg * (a + 1)
    first = np.zeros(n, dtype=bool)
    first[starts] = True
    table = np.zeros((a + 1, n), dtype=np.int32)
    prev = np.zeros(n, dtype=np.int64)
    for i in range(a):
        diag = np.empty(n, dtype=np.int64)
        diag[0] = 0
        diag[1:] = prev[:-1]
        diag[first] = 0
        cell = np.maximum(prev, np.where(cand == ref[i], diag + 1, 0))
        row = np.maximum.accumulate(cell + offset) - offset
        table[i + 1] = row
        prev = row
    found: set[int] = set()
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        length = int(table[a, end - 1])
        if not length:
            continue
        # Backtrack as rouge-score does (a match first, else the larger neighbour, left on a
        # tie going up), stopping once the whole LCS is found.
        i, j, got = a, end - 1, 0
        while i > 0 and j >= start and got < length:
            if ref[i - 1] == cand[j]:
                found.add(i - 1)
                got += 1
                i -= 1
                j -= 1
            elif j > start and table[i, j - 1] > table[i - 1, j]:
                j -= 1
            else:
                i -= 1
    return sorted(found)


def rouge_lsum(target: str, prediction: str) -> Score:
    """Return ROUGE-LSum of an extracted text against the true one (the benchmark's rules)."""
    if not target.strip():
        return Score(1.0, 1.0, 1.0) if not prediction.strip() else Score(0.0, 1.0, 0.0)
    ref_sents = [t for t in (tokens(s) for s in sentences(target)) if t]
    cand_sents = [t for t in (tokens(s) for s in sentences(prediction)) if t]
    if not ref_sents or not cand_sents:
        return Score(0.0, 0.0, 0.0)
    vocab: dict[str, int] = {}
    ref_ids = [np.array([vocab.setdefault(t, len(vocab)) for t in s], dtype=np.int64)
               for s in ref_sents]
    cand_flat = np.array([vocab.setdefault(t, len(vocab)) for s in cand_sents for t in s],
                         dtype=np.int64)
    lengths = np.array([len(s) for s in cand_sents], dtype=np.int64)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    m, n = sum(map(len, ref_ids)), len(cand_flat)
    ref_counts = Counter(t for s in ref_sents for t in s)
    cand_counts = Counter(t for s in cand_sents for t in s)
    present = set(cand_flat.tolist())
    hits = 0
    for sent, ids in zip(ref_sents, ref_ids, strict=True):
        # A true token the extraction never holds matches nothing, and the backtrack always
        # steps over its row: leaving such rows out changes no LCS and no union.
        kept = [i for i, t in enumerate(ids.tolist()) if t in present]
        if not kept:
            continue
        for pos in _union_lcs(ids[kept], cand_flat, starts, ends):
            token = sent[kept[pos]]
            if ref_counts[token] > 0 and cand_counts[token] > 0:
                hits += 1
                ref_counts[token] -= 1
                cand_counts[token] -= 1
    precision, recall = hits / n, hits / m
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return Score(precision, recall, f1)
