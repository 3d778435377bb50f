"""Image mirrors: where an article's photos are still served now that the paper's host is gone.

After the July 2025 merger the successor, Báo Ninh Bình, serves the old Nam Định images under
``img.baoninhbinh.org.vn/namdinh/file/<hash>/<path>``: the site's own ``/file/<hash>/<path>``
behind a new prefix (docs/site-notes.md). ``IMAGE_MIRRORS`` maps a path prefix on the site to the
prefix that serves the same files elsewhere; each image keeps its original ``url`` and gains a
``mirror_url`` (None when no mirror is known).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crawler.site.urls import is_site_url, split_url

# The successor's copy of the site's image store.
DEFAULT_MIRRORS = {"/file/": "https://img.baoninhbinh.org.vn/namdinh/file/"}


def mirror_url(url: str | None, mirrors: Mapping[str, str],
               hosts: frozenset[str] | set[str]) -> str | None:
    """Return where an image of the site is mirrored, or None (not the site's, or no mirror)."""
    if not url or not is_site_url(url, hosts):
        return None
    parts = split_url(url)
    path = parts.path
    for prefix, target in sorted(mirrors.items(), key=lambda kv: -len(kv[0])):
        if prefix and path.startswith(prefix):
            mirrored = target + path[len(prefix):]
            return mirrored + (f"?{parts.query}" if parts.query else "")
    return None


def with_mirrors(images: list[dict[str, Any]], mirrors: Mapping[str, str],
                 hosts: frozenset[str] | set[str]) -> list[dict[str, Any]]:
    """Return the images, each with its ``mirror_url`` (its other keys untouched)."""
    return [{**image, "mirror_url": mirror_url(image.get("url"), mirrors, hosts)}
            for image in images]
