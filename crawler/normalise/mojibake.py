"""ftfy's mojibake test (``ftfy.badness.is_bad``), the same answer in a fraction of the time.

``ftfy.fix_encoding`` returns a text unchanged whenever ``is_bad`` finds nothing in it, which is
the case for nearly every text of the site; ``is_bad`` is one search of ``BADNESS_RE``, 37
alternatives tried at every character. ``looks_bad`` runs the same alternatives, rewritten so
that each begins with the one character of its match that is never ASCII (what came before it
becomes a look-behind): the search then skips in C to the few characters that can be part of
mojibake and tries the alternatives only there. Common Vietnamese letters (à, â, đ, ...) are
such characters, but every alternative they can start needs a rare character next: that one
check comes first. The rewrite is built from the ftfy pattern that is installed and only for the
version it was checked against (its text's SHA-256); any other version is used as it is.
"""

from __future__ import annotations

import hashlib
import re

from ftfy.badness import BADNESS_RE, is_bad

__all__ = ["looks_bad"]

# BADNESS_RE.pattern of ftfy 6.3.1, the version the rewrite below was checked against.
KNOWN_PATTERN_SHA256 = "9dcc0f2ac90d9ae3c85eb7b9b2c0b8a8e8126153847c2b30c91a0bb263f3b8c4"

def _alternatives(pattern: str) -> list[str]:
    """Return BADNESS_RE's top-level alternatives (verbose syntax), comments removed."""
    alternatives = []
    for chunk in pattern.split("\n    |\n"):
        lines = [line.strip() for line in chunk.strip().splitlines()]
        alternatives.append(" ".join(line for line in lines if line and not line.startswith("#")))
    return alternatives


def _tokens(alternative: str) -> list[str]:
    """Split an alternative into its elements: classes, escapes, ``^``, characters; a ``?``
    stays with the element it makes optional. Layout spaces (verbose syntax) are dropped."""
    tokens: list[str] = []
    i = 0
    while i < len(alternative):
        ch = alternative[i]
        if ch == " ":
            i += 1
            continue
        if ch == "[":
            end = alternative.index("]", i + 2)  # no class of the pattern holds "]"
            token = alternative[i : end + 1]
        elif ch == "\\":
            token = alternative[i : i + 2]
        else:
            token = ch
        i += len(token)
        if alternative[i : i + 1] == "?":
            token += "?"
            i += 1
        tokens.append(token)
    return tokens


_ASCII = "".join(map(chr, range(128)))


def _never_ascii(token: str) -> bool:
    """True when an element matches one character and never an ASCII one."""
    if token in ("^", ".") or token.endswith("?") or token.startswith("\\"):
        return False
    return re.compile(token).search(_ASCII) is None


def _branches(alternative: str) -> list[tuple[str, str, list[str]]]:
    """Return the alternative as (anchor, look-behind, rest) branches: the anchor is its first
    element that is never ASCII, what comes before it is checked behind the anchor."""
    tokens = _tokens(alternative)
    variants = [tokens]
    optional = [i for i, t in enumerate(tokens) if t.endswith("?")]
    if optional:  # one optional element: with it and without it
        i = optional[0]
        variants = [tokens[:i] + tokens[i + 1 :], tokens[:i] + [tokens[i][:-1]] + tokens[i + 1 :]]
    branches = []
    for variant in variants:
        k = next(i for i, t in enumerate(variant) if _never_ascii(t))
        before = variant[:k]
        behind = ""
        if before and before[0] == "^":
            # The anchor is the string's character number len(before) - 1.
            before = before[1:]
            behind = f"(?<![\\s\\S]{{{len(before) + 2}}})"
        assert all(not t.endswith("?") and t != "^" for t in before), alternative
        behind += f"(?<={''.join(before)}{variant[k]})"
        branches.append((variant[k], behind, variant[k + 1 :]))
    return branches


def _plain_non_ascii(token: str) -> bool:
    """True when an element is one character or a plain class, and never matches ASCII."""
    return not token.startswith(("\\", "[^")) and token not in (".", "^") and \
        re.compile(token).search(_ASCII) is None


def _interior(token: str) -> str:
    """Return what a class holds (or the character itself), to be joined into one class."""
    return token[1:-1] if token.startswith("[") else token


# Letters of everyday Vietnamese that can anchor an alternative: checking the next character
# first lets the search pass them at once (a match needs a character that is rarely there).
COMMON_LETTERS = "àáâãèéêìíòóôõùúýăđÀÁÈÉÊÌÍÒÓÔÕÙÚÝĂĐ"


def _rewrite(alternatives: list[str]) -> re.Pattern[str]:
    """Return one pattern that finds a match exactly when one of ``alternatives`` does: a
    character that can anchor one of them, then each alternative checked around it."""
    branches = [b for alternative in alternatives for b in _branches(alternative)]
    anchors = "".join(_interior(a) for a, _, _ in branches)
    # The common letters whose every branch needs a next character from a plain class, and
    # the union of those classes: after such a letter, a character outside it ends the try.
    letters, following = set(), set()
    for letter in COMMON_LETTERS:
        nexts = [rest[0] if rest else "." for anchor, _, rest in branches
                 if re.fullmatch(anchor, letter)]
        if nexts and all(_plain_non_ascii(n) for n in nexts):
            letters.add(letter)
            following.update(map(_interior, nexts))
    guard = (f"(?:(?<![{''.join(sorted(letters))}])|(?=[{''.join(sorted(following))}]))"
             if letters else "")
    body = "|".join(behind + "".join(rest) for _, behind, rest in branches)
    return re.compile(f"[{anchors}]{guard}(?:{body})", re.VERBOSE)


def _build() -> re.Pattern[str] | None:
    pattern = BADNESS_RE.pattern
    if hashlib.sha256(pattern.encode("utf-8")).hexdigest() != KNOWN_PATTERN_SHA256:
        return None
    return _rewrite(_alternatives(pattern))


_FAST = _build()


def looks_bad(text: str) -> bool:
    """Return ``ftfy.badness.is_bad(text)``: whether the text looks like it holds mojibake."""
    if _FAST is None:
        return is_bad(text)
    return _FAST.search(text) is not None
