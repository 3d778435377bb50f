"""Whether a downloaded page stops mid-document: a truncated download is retried, not extracted.

A pure function over the page's text (``looks_truncated``), no parse: many complete pages lack
``</html>``, so the test is what a cut at a random byte leaves, a tag or the page's containers
left open.
"""

from __future__ import annotations

import re

# Containers whose openings outnumber their closings by this many in a page without </body> or
# </html> mean a document cut off inside its body (sloppy pages are off by one or two).
OPEN_CONTAINERS_CUT = 3
_CONTAINER_OPEN = re.compile(
    r"<(?:div|table|ul|ol|section|article|main|form|center|tbody|dl|blockquote)[\s>]",
    re.IGNORECASE)
_CONTAINER_CLOSE = re.compile(
    r"</(?:div|table|ul|ol|section|article|main|form|center|tbody|dl|blockquote)\s*>",
    re.IGNORECASE)


def looks_truncated(html: str) -> bool:
    """True when an HTML document stops mid-document: no ``</html>`` or ``</body>`` near its end,
    and it ends inside a tag, in text with a container left open, or after a tag with several.

    Many complete pages lack ``</html>``: they end in a ``<script>``, a comment, ``</body>``,
    a closed table or ``<div>``, or text after the last container closed (an old page's
    "&nbsp;" or sign-off line: nothing of the article is missing then). A download cut at a
    random byte almost always stops inside a tag, or in text with the page's containers still
    open; the rare cut right after a tag still leaves several containers open."""
    tail = html[-4096:]
    # Found as written (nearly every page) it is found lower-cased too: lower() only if not.
    if "</html>" in tail or "</body>" in tail:
        return False
    lowered = tail.lower()
    if "</html>" in lowered or "</body>" in lowered:
        return False
    stripped = html.rstrip()
    if "<" in stripped[stripped.rfind(">") + 1:]:
        return True  # inside a tag
    opened = len(_CONTAINER_OPEN.findall(html)) - len(_CONTAINER_CLOSE.findall(html))
    if not stripped.endswith(">"):
        return opened >= 1  # in text: cut inside the page's blocks, or after the last one
    return opened >= OPEN_CONTAINERS_CUT
