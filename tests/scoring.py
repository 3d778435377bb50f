"""Scores an archive against the replica's truth: articles missed, extra, and wrong field by field."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crawler.items import article_key
from crawler.store.archive import latest_records

# Record field -> how to read the same fact from a truth line.
COMPARED = {
    "url": lambda t: t["url"],
    "title": lambda t: t["title"],
    "lead": lambda t: t["lead"],
    "body": lambda t: t["body"],
    "authors": lambda t: t["authors"],
    "source": lambda t: t["source"],
    "published_date": lambda t: t["published_date"],
    "published_at": lambda t: t["published_at"],
    "captions": lambda t: t["captions"],
    "section_name": lambda t: t["section_name"],
    "section_key": lambda t: t["section_key"],
    # Canonical: on SITE_URL's host whichever alias served the page.
    "image_urls": lambda t: t["images"],
}


@dataclass
class Score:
    """The outcome of comparing an archive with the truth."""

    expected: int
    missed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    wrong: Counter = field(default_factory=Counter)
    examples: dict[str, tuple[str, Any, Any]] = field(default_factory=dict)

    @property
    def perfect(self) -> bool:
        return not (self.missed or self.extra or self.wrong)

    def summary(self) -> str:
        lines = [f"{self.expected} expected, {len(self.missed)} missed, {len(self.extra)} extra"]
        for name, count in self.wrong.most_common():
            art, got, want = self.examples[name]
            lines.append(f"  {name}: {count} wrong, e.g. {art}: got {got!r}, want {want!r}")
        return "\n".join(lines)


def record_fact(record: dict[str, Any], name: str) -> Any:
    if name == "captions":  # the truth lists distinct captions, in order
        captions = [image["caption"] for image in record["images"] if image.get("caption")]
        return list(dict.fromkeys(captions))
    if name == "image_urls":
        return [image["url"] for image in record["images"]]
    return record.get(name)


def score(records: dict[str, dict[str, Any]], truth: list[dict[str, Any]]) -> Score:
    """Compare the latest record of each article (by key: ``old:<id>``, ``new:<id>``) with its
    truth line."""
    by_key = {article_key(t["cms"], t["id"]): t for t in truth}
    result = Score(expected=len(by_key))
    result.missed = sorted(set(by_key) - set(records))
    result.extra = sorted(set(records) - set(by_key))
    for key in sorted(set(by_key) & set(records)):
        for name, want_of in COMPARED.items():
            got, want = record_fact(records[key], name), want_of(by_key[key])
            if got != want:
                result.wrong[name] += 1
                result.examples.setdefault(name, (key, got, want))
    return result


def score_archive(archive_dir: str, truth: list[dict[str, Any]]) -> Score:
    """Score the latest version of every article in an archive directory."""
    return score(latest_records(archive_dir), truth)
