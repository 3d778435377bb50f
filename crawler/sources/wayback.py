"""The Wayback Machine: list a site's captures through the CDX server, fetch each one raw.

The CDX server API (github.com/internetarchive/wayback, wayback-cdx-server/README.md):
``{WAYBACK_URL}/cdx/search/cdx?url=HOST/&matchType=prefix&output=json`` lists captures as a JSON
array whose first row names the fields; ``fl=`` chooses them; ``filter=statuscode:200`` and
``filter=mimetype:text/html`` (Java regular expressions on a field) keep 200 HTML captures;
``collapse=digest`` drops a capture whose content equals the one before it of the same URL
(``collapse=urlkey`` keeps the first capture per URL); ``from=`` is a 1- to 14-digit timestamp;
``limit=`` caps a page and ``showResumeKey=true`` then ends the array with ``[]`` and
``["<key>"]``, which ``resumeKey=<key>`` continues from. A raw capture, as the site sent it and
without the Wayback Machine's rewriting, is at ``/web/{timestamp}id_/{original URL}``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

from crawler.site.urls import ascii_digits
from crawler.sources import HTML_MEDIA_TYPES, WAYBACK, Capture, article_of

CDX_PATH = "/cdx/search/cdx"
CDX_FIELDS = ("urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length")
COLLAPSES = ("digest", "urlkey")
# /web/20190514083000id_/http://baonamdinh.vn/... (the modifier may be absent after a redirect)
REPLAY_PATH = re.compile(r"/web/(?P<timestamp>[0-9]{4,14})(?:[a-z]{2}_)?/(?P<original>.+)$")


@dataclass
class CdxPage:
    """One page of a CDX answer: its rows by field name, and the key of the next page if any."""

    rows: list[dict[str, str]] = field(default_factory=list)
    resume_key: str | None = None


def cdx_url(wayback_url: str, prefix: str, *, since: dt.date | None, limit: int,
            collapse: str = "digest", resume_key: str | None = None,
            captured_until: dt.date | None = None) -> str:
    """Return the CDX query listing the 200 HTML captures under ``prefix`` (``host/path/``).

    ``from`` is ``since``: a page captured before an article was published cannot hold it.
    ``to`` is not ``until``: an article is often captured for the first time years after it was
    published; it is ``captured_until`` when one is given (SOURCES_CAPTURED_UNTIL)."""
    if collapse not in COLLAPSES:
        raise ValueError(f"WAYBACK_COLLAPSE={collapse!r}: expected one of {', '.join(COLLAPSES)}")
    params: list[tuple[str, str]] = [
        ("url", prefix), ("matchType", "prefix"), ("output", "json"),
        ("fl", ",".join(CDX_FIELDS)), ("filter", "statuscode:200"),
        ("filter", "mimetype:text/html"), ("collapse", collapse),
    ]
    if since is not None:
        params.append(("from", since.strftime("%Y%m%d")))
    if captured_until is not None:
        params.append(("to", captured_until.strftime("%Y%m%d")))
    params += [("limit", str(limit)), ("showResumeKey", "true")]
    query = urlencode(params)
    if resume_key:
        # The server prints the key already percent-encoded: it goes back as printed.
        query += "&resumeKey=" + resume_key
    return f"{wayback_url.rstrip('/')}{CDX_PATH}?{query}"


def parse_cdx_json(body: bytes | str) -> CdxPage:
    """Return the rows and resume key of a JSON CDX answer; raise ValueError when it is not one.

    An empty body or ``[]`` is an empty page (nothing captured under the prefix)."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if not text.strip():
        return CdxPage()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the CDX answer is not JSON ({exc.msg} at {exc.pos}): "
                         f"{text[:120]!r}") from None
    if not isinstance(data, list) or any(not isinstance(row, list) for row in data):
        raise ValueError(f"the CDX answer is not a JSON array of rows: {text[:120]!r}")
    if not data:
        return CdxPage()
    header, rest = [str(name) for name in data[0]], data[1:]
    page = CdxPage()
    # With showResumeKey the rows end with [] and then [key].
    if len(rest) >= 2 and rest[-2] == [] and len(rest[-1]) == 1:
        page.resume_key = str(rest[-1][0]) or None
        rest = rest[:-2]
    for row in rest:
        if len(row) == len(header):
            page.rows.append(dict(zip(header, map(str, row), strict=True)))
    return page


def captures_of(rows: list[dict[str, str]], hosts: frozenset[str] | set[str]
                ) -> tuple[list[Capture], Counter[str]]:
    """Return the article captures among CDX rows, and the count of rows skipped by reason.

    The query asked for 200 HTML captures; the rows are checked again, in case a server ignored
    a filter."""
    captures: list[Capture] = []
    skipped: Counter[str] = Counter()
    for row in rows:
        status, mime = row.get("statuscode", ""), row.get("mimetype", "").lower()
        original, timestamp = row.get("original", ""), row.get("timestamp", "")
        if status != "200":
            skipped["not-200"] += 1
            continue
        if mime.split(";")[0].strip() not in HTML_MEDIA_TYPES:
            skipped["not-html"] += 1
            continue
        if not (ascii_digits(timestamp) and 4 <= len(timestamp) <= 14):
            skipped["bad-row"] += 1
            continue
        ref = article_of(original, hosts)
        if ref is None:
            skipped["not-article"] += 1
            continue
        captures.append(Capture(source=WAYBACK, timestamp=timestamp, original_url=original,
                                ref=ref, digest=row.get("digest") or None))
    return captures, skipped


def replay_url(wayback_url: str, capture: Capture) -> str:
    """Return the URL of a capture as the site sent it (``id_``: no rewriting, no banner)."""
    return f"{wayback_url.rstrip('/')}/web/{capture.timestamp}id_/{capture.original_url}"


def parse_replay_url(url: str) -> tuple[str, str] | None:
    """Return (timestamp, original URL) of a Wayback replay URL, or None for any other URL.

    The Wayback Machine answers a timestamp it lacks with a redirect to the nearest one, so the
    capture a response holds is read from its final URL."""
    match = REPLAY_PATH.search(url)
    if not match:
        return None
    original = match["original"]
    # Some proxies squash "http://" to "http:/" inside a path.
    original = re.sub(r"^(https?):/(?!/)", r"\1://", original)
    return match["timestamp"], original
