"""The spider's per-run marks: requested ("seen") and found are independent, each once per key
and source; kept in a temporary table of the state's connection, not in the crawl's memory."""

from __future__ import annotations

import sqlite3

from crawler.store.state import ArticleMarks


def test_seen_and_found_are_separate_marks() -> None:
    marks = ArticleMarks(sqlite3.connect(":memory:"))
    assert "old:2548123" not in marks
    assert marks.first_found("old:2548123", "live") is True
    assert "old:2548123" not in marks  # found on a listing is not requested yet
    assert marks.first_found("old:2548123", "live") is False
    marks.add("old:2548123")
    assert "old:2548123" in marks
    assert marks.first_found("old:2548123", "live") is False
    assert marks.first_found("old:2548123", "wayback") is True  # each source counts once


def test_seen_first_then_found_counts_once() -> None:
    marks = ArticleMarks(sqlite3.connect(":memory:"))
    marks.add("new:c466a55")  # a retried reject is requested without being counted as found
    assert "new:c466a55" in marks and "new:c466a56" not in marks
    assert marks.first_found("new:c466a55", "live") is True
    assert marks.first_found("new:c466a55", "live") is False


def test_the_two_generations_of_one_id_are_two_articles() -> None:
    marks = ArticleMarks(sqlite3.connect(":memory:"))
    marks.add("old:2548123")
    assert "new:2548123" not in marks
    assert marks.first_found("new:2548123", "live") is True
