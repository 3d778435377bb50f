"""The spider's per-run marks: requested ("seen") and found are independent, each once per id."""

from __future__ import annotations

from spiders.baonamdinh import ArticleMarks


def test_seen_and_found_are_separate_marks() -> None:
    marks = ArticleMarks()
    assert "2548123" not in marks
    assert marks.first_found("2548123") is True
    assert "2548123" not in marks  # found on a listing is not requested yet
    assert marks.first_found("2548123") is False
    marks.add("2548123")
    assert "2548123" in marks
    assert marks.first_found("2548123") is False


def test_seen_first_then_found_counts_once() -> None:
    marks = ArticleMarks()
    marks.add("c466a55")  # a retried reject is requested without being counted as found
    assert "c466a55" in marks and "c466a56" not in marks
    assert marks.first_found("c466a55") is True
    assert marks.first_found("c466a55") is False
