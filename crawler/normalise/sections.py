"""Sections across the two CMS generations: one key for a section, whatever its URL says.

The old CMS names a section by a channel id (``/channel/5093/``), the new one by a slug
(``/phap-luat/``); the record keeps that as ``section``. ``section_key`` is the same for a section
in both generations, the new CMS's slug:

- a new-CMS record's key is its URL's category slug (``url``);
- an old-CMS record's key is the slug its channel maps to, learnt from the site's own links
  (``links``): a channel and a slug whose links, breadcrumbs or listing titles print the same name
  (one tone placement, case and punctuation aside) are one section (``pair_channels``); the
  crawl keeps what it has learnt in the archive's state (crawler/store/sections.py);
- before that is known, the slug the new CMS would make of the name the page prints
  (``derived``: "Pháp luật" -> ``phap-luat``, which is how the new CMS slugs its names);
- with no name either, the channel id itself (``url``), so the section is still one group.

Pure functions: the pipeline (pipelines/sections.py) and the analysts' side apply them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from crawler.normalise.keys import fold

# How section_key was found (the record's provenance["section_key"]).
FROM_URL, FROM_LINKS, FROM_NAME = "url", "links", "derived"
_CHANNEL = re.compile(r"^\d{4}$")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def is_channel(code: str | None) -> bool:
    """True when a section code is an old-CMS channel id (four digits)."""
    return bool(code and _CHANNEL.match(code))


def name_key(name: str) -> str:
    """Return the key two printed names of one section share: fold()'s (case, one tone
    placement, punctuation and spacing aside)."""
    return fold(unicodedata.normalize("NFC", name))


def slug_of(name: str) -> str:
    """Return the slug the new CMS makes of a name: no diacritics, lower case, words joined by
    hyphens ("Nông nghiệp - Nông thôn" -> "nong-nghiep-nong-thon")."""
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _NOT_SLUG.sub("-", text).strip("-")


def pair_channels(names: Mapping[str, Mapping[str, int]],
                  categories: Iterable[str] = ()) -> dict[str, str]:
    """Return {channel id: slug} for every channel that shares a printed name with a slug.

    ``names``: for each section code (channel id or slug), the names printed for it and how
    often. ``categories``: slugs known to hold articles; a name shared with several slugs goes
    to one of those first (a tag page may print a section's name too), then to the one whose
    shared names were printed most often, then to the first in alphabetical order."""
    known = set(categories)
    by_name: dict[str, dict[str, int]] = {}
    for code, printed in names.items():
        if is_channel(code):
            continue
        for name, count in printed.items():
            key = name_key(name)
            if key:
                by_name.setdefault(key, {})
                by_name[key][code] = by_name[key].get(code, 0) + count
    pairs: dict[str, str] = {}
    for code, printed in names.items():
        if not is_channel(code):
            continue
        votes: dict[str, int] = {}
        for name in printed:
            for slug, count in by_name.get(name_key(name), {}).items():
                votes[slug] = votes.get(slug, 0) + count
        if votes:
            pairs[code] = min(votes, key=lambda s: (s not in known, -votes[s], s))
    return pairs


def section_key(section: str | None, cms: str | None, name: str | None,
                channels: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """Return (section_key, how it was found) for a record's ``section``, ``cms`` and
    ``section_name``, given the channels whose slug is known; (None, None) when nothing tells."""
    if section and cms != "old" and not is_channel(section):
        return section.lower(), FROM_URL
    if section and channels and section in channels:
        return channels[section], FROM_LINKS
    slug = slug_of(name) if name else ""
    if slug:
        return slug, FROM_NAME
    if section:
        return section.lower(), FROM_URL
    return None, None
