"""CSS selectors over a page, answered from one pass over its classes and ids where they can be.

``css(selector)`` is lxml's compiled selector (cssselect's HTML rules): one XPath over the whole
page per call. The site layer asks a page about a dozen selectors, almost all of them class and
id names, and on these pages each whole-page XPath costs about as much as one pass over every
element. So ``extract_article`` indexes the page once it has finished changing the tree
(``index_page``): every element with a class or an id, by class name, by whole class value and
by id, in document order. ``select`` then answers from the index, exactly as ``css`` would, for
the page's root or any element of it as the context:

- the same elements in the same (document) order, the context element included as the XPath's
  ``descendant-or-self`` includes it, and nothing above it;
- a class name is a token of the class attribute split on XML white space (space, tab, CR, LF),
  as cssselect's ``normalize-space`` sees it; ``[class="x"]`` compares the whole value; ``#x``
  compares the id; names are case-sensitive, tag names lower case;
- only selectors of that shape are answered: one compound selector or a chain of them joined by
  descendant or child combinators, each with class names, an id or an exact class value, or a
  bare tag (lxml's own iteration; after a left part only when that finds one element).
  Anything else (groups, pseudo-classes, other attributes) is lxml's XPath, after a look at the
  page's names when the selector needs a class or id the page lacks.

``tests/test_selectors.py`` checks select against ``css`` on every fixture page, the 181 real
benchmark pages and pages written to trip it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import cssselect
from lxml import etree
from lxml.cssselect import CSSSelector

_XML_SPACE = re.compile(r"[ \t\r\n]+")
_TAG = re.compile(r"[a-z][a-z0-9]*")
# Every class and id attribute, in document order (an element's attributes after it): cheaper
# than the elements that have them, and each knows its element.
_NAMES = etree.XPath("descendant-or-self::*/@class | descendant-or-self::*/@id")


@cache
def css(selector: str) -> CSSSelector:
    """Return the compiled CSS selector (HTML rules), once per selector."""
    return CSSSelector(selector, translator="html")


def class_names(value: str) -> list[str]:
    """Return the class names of a class attribute as cssselect reads them (XML white space)."""
    if "\t" in value or "\n" in value or "\r" in value:
        return _XML_SPACE.split(value.strip(" \t\r\n"))
    return value.strip(" ").split(" ") if "  " not in value else _XML_SPACE.split(value.strip(" "))


@cache
def required_names(selector: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """Return (class names, ids) that some element of the page must carry for ``selector`` to
    find anything (``.a``, ``#b``, ``[class="c"]`` anywhere in it), or None when the selector is
    not that simple (a group, a negation, a pseudo-class: no such shortcut then)."""
    chain = _chain(selector)
    if chain is None:
        return None
    classes: set[str] = set()
    ids: set[str] = set()
    for _combinator, compound in chain:
        classes.update(compound.classes)
        if compound.class_value is not None:
            classes.update(class_names(compound.class_value))
        if compound.id is not None:
            ids.add(compound.id)
    return frozenset(classes), frozenset(ids)


# --- One compound selector ("div.a.b", "#x", '[class="y"]') and chains of them ----------------


@dataclass(frozen=True)
class _Compound:
    tag: str | None  # None: any element
    classes: tuple[str, ...] = ()
    class_value: str | None = None  # [class="..."]
    id: str | None = None

    @property
    def indexed(self) -> bool:
        return bool(self.classes) or self.class_value is not None or self.id is not None

    def matches(self, el: etree._Element) -> bool:
        if self.tag is not None and el.tag != self.tag:
            return False
        if self.id is not None and el.get("id") != self.id:
            return False
        value = el.get("class")
        if self.class_value is not None and value != self.class_value:
            return False
        if self.classes:
            if value is None:
                return False
            names = class_names(value)
            return all(name in names for name in self.classes)
        return True


def _compound(node: object) -> _Compound | None:
    """Return a compound selector of tag, classes, id and exact class value, or None."""
    classes: list[str] = []
    ids: list[str] = []
    values: list[str] = []
    while True:
        kind = type(node).__name__
        if kind == "Class":
            classes.append(node.class_name)  # type: ignore[attr-defined]
        elif kind == "Hash":
            ids.append(node.id)  # type: ignore[attr-defined]
        elif kind == "Attrib" and node.attrib == "class" and node.operator == "=" \
                and node.namespace is None and node.value is not None:  # type: ignore[attr-defined]
            values.append(str(getattr(node.value, "value", node.value)))  # type: ignore
        elif kind == "Element":
            break
        else:
            return None
        node = node.selector  # type: ignore[attr-defined]
    if node.namespace is not None or len(ids) > 1 or len(values) > 1:  # type: ignore
        return None
    tag = node.element.lower() if node.element else None  # type: ignore[attr-defined]
    if tag is not None and not _TAG.fullmatch(tag):
        return None
    if any(not name or re.search(r"\s", name) for name in classes):
        return None  # cssselect never matches these: left to it
    return _Compound(tag, tuple(classes), values[0] if values else None,
                     ids[0] if ids else None)


# A chain: the first compound, then (combinator, compound) pairs; combinator " " or ">".
_Chain = tuple[tuple[str | None, _Compound], ...]


@cache
def _chain(selector: str) -> _Chain | None:
    """Return the selector as a chain the index can answer, or None."""
    try:
        parsed = cssselect.parse(selector)
    except cssselect.SelectorError:
        return None
    if len(parsed) != 1 or parsed[0].pseudo_element is not None:
        return None
    steps: list[tuple[str | None, _Compound]] = []
    node = parsed[0].parsed_tree
    while type(node).__name__ == "CombinedSelector":
        if node.combinator not in (" ", ">"):
            return None
        compound = _compound(node.subselector)
        if compound is None:
            return None
        steps.append((node.combinator, compound))
        node = node.selector
    compound = _compound(node)
    if compound is None:
        return None
    steps.append((None, compound))
    return tuple(reversed(steps))


# --- The page index ----------------------------------------------------------------------------


class PageIndex:
    """Every element of one page with a class or an id, by class name, by whole class value and
    by id, each list in document order."""

    def __init__(self, root: etree._Element):
        self.root = root
        self.by_class: dict[str, list[etree._Element]] = {}
        self.by_value: dict[str, list[etree._Element]] = {}
        self.by_id: dict[str, list[etree._Element]] = {}
        for attribute in _NAMES(root):
            el = attribute.getparent()
            value = str(attribute)
            if attribute.attrname == "class":
                self.by_value.setdefault(value, []).append(el)
                for name in dict.fromkeys(class_names(value)):
                    self.by_class.setdefault(name, []).append(el)
            else:
                self.by_id.setdefault(value, []).append(el)

    def may_find(self, selector: str) -> bool:
        """False when the selector needs a class or id the page does not have."""
        needed = required_names(selector)
        if needed is None:
            return True
        classes, ids = needed
        return all(name in self.by_class for name in classes) and \
            all(ident in self.by_id for ident in ids)

    def find(self, chain: _Chain, context: etree._Element) -> list[etree._Element] | None:
        """Return what the chain finds under ``context`` (itself included), an element of the
        page, or None when the index cannot tell."""
        combinator, last = chain[-1]
        if last.indexed:
            inside = (lambda el: True) if context is self.root else \
                (lambda el: el is context or context in el.iterancestors())
            return [el for el in self._candidates(last)
                    if last.matches(el) and inside(el)
                    and self._left_matches(el, chain, len(chain) - 1, context)]
        if last.tag is None:
            return None
        if combinator is None:
            # A bare tag: lxml's own iteration, the context first when it is one.
            return [el for el in context.iter(last.tag) if last.matches(el)]
        # A bare tag after a left part ("[class=date] > span", ".detail h1"): the elements of
        # that tag under the one element the left part finds.
        holders = self.find(chain[:-1], context)
        if holders is None or len(holders) > 1:
            return None  # nested holders would need document order restored: XPath's job
        if not holders:
            return []
        holder = holders[0]
        found = holder.iterchildren(last.tag) if combinator == ">" else \
            holder.iterdescendants(last.tag)
        return list(found)

    def _candidates(self, compound: _Compound) -> list[etree._Element]:
        if compound.id is not None:
            return self.by_id.get(compound.id, [])
        if compound.class_value is not None:
            return self.by_value.get(compound.class_value, [])
        # The rarest of its class names.
        return min((self.by_class.get(name, []) for name in compound.classes), key=len)

    @staticmethod
    def _left_matches(el: etree._Element, chain: _Chain, i: int, top: etree._Element) -> bool:
        """True when chain[:i] finds an element at or under ``top`` from which chain[i]'s
        combinator reaches el."""
        if i == 0:
            return True
        if el is top:
            return False  # what the left part finds must be at or under the context
        combinator = chain[i][0]
        compound = chain[i - 1][1]
        if combinator == ">":
            parent = el.getparent()
            return parent is not None and compound.matches(parent) and \
                PageIndex._left_matches(parent, chain, i - 1, top)
        for ancestor in el.iterancestors():
            if compound.matches(ancestor) and PageIndex._left_matches(ancestor, chain, i - 1, top):
                return True
            if ancestor is top:
                break
        return False


# The page being extracted. Held until the next page is indexed, so its root stays the same
# Python object (lxml keeps one proxy per node while a reference to it lives).
_INDEX: list[PageIndex | None] = [None]


def index_page(root: etree._Element) -> PageIndex:
    """Index a page for ``select``; call it once the tree will not change any more."""
    index = PageIndex(root)
    _INDEX[0] = index
    return index


def forget_index() -> None:
    """Let go of the indexed page once it is extracted: its tree is freed then, while it is
    still in the CPU's caches, not when the next page is indexed (a tenth of the site path's
    time went to freeing a tree gone cold)."""
    _INDEX[0] = None


def select(el: etree._Element, selector: str) -> list[etree._Element]:
    """Return what a CSS selector finds under ``el`` (itself included), exactly as
    ``css(selector)(el)`` does: from the page's index when ``el`` is the indexed page's root and
    the selector is simple, else lxml's XPath (not run when the page lacks a name it needs)."""
    index = _INDEX[0]
    if index is not None and el.getroottree().getroot() is index.root:
        chain = _chain(selector)
        if chain is not None:
            found = index.find(chain, el)
            if found is not None:
                return found
        if not index.may_find(selector):
            return []
    return css(selector)(el)


def first(root: etree._Element, selectors: tuple[str, ...]) -> etree._Element | None:
    """Return the first element any of `selectors` finds, trying them in order."""
    for selector in selectors:
        found = select(root, selector)
        if found:
            return found[0]
    return None
