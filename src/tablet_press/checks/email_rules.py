"""The rules every email HTML must follow (issue 5), as one check that lists every breach.

email.py runs it on each build, so a template or stylesheet mistake fails the build instead of
reaching readers; the tests run it on crafted bad HTML too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MAX_HTML_BYTES = 102_000  # Gmail clips a message whose HTML is longer behind "View entire message"
MAX_WIDTH = 600
# Word lists read better than a column of quoted strings.
FORBIDDEN_TAGS = frozenset(
    "script noscript form input button select textarea iframe frame object embed applet svg math link "  # noqa: SIM905
    "base video audio canvas".split()
)
URL_ATTRIBUTES = ("href", "src", "action", "background", "poster", "srcset", "formaction")
LINK_SCHEMES = ("https:", "http:", "mailto:", "tel:")
IMAGE_SCHEMES = ("https:", "cid:")
LAYOUT_PROPERTIES = ("position", "float")  # and flex* / grid* properties, display: flex / grid
GENERIC_FAMILIES = frozenset(
    "serif sans-serif monospace cursive fantasy system-ui math emoji fangsong ui-serif ui-sans-serif "  # noqa: SIM905
    "ui-monospace ui-rounded".split()
)


def problems(html: str, *, files_beside: bool = False) -> list[str]:
    """Every way `html` breaks the rules for email (issue 5), as messages; [] when it follows them.

    `files_beside`: the standalone copy of the email (<slug>.html), whose images are files beside it
    (`logo.png`, `assets/...`) instead of cid: parts; a relative image path inside its folder is allowed."""
    import lxml.html  # type: ignore[import-untyped]

    found: list[str] = []
    size = len(html.encode())
    if size > MAX_HTML_BYTES:
        found.append(
            f"the email HTML is {size:,} bytes, {size - MAX_HTML_BYTES:,} over the limit of "
            f"{MAX_HTML_BYTES:,} (Gmail clips longer messages); shorten the issue"
        )
    if not re.match(r"\s*<!DOCTYPE html>", html, re.I):
        found.append("the HTML does not start with <!DOCTYPE html>")
    document = lxml.html.document_fromstring(html)
    found += _head_problems(document)
    body = document.find("body")
    first = (
        next((e for e in body.iterchildren() if isinstance(e.tag, str)), None) if body is not None else None
    )
    if first is None or "preheader" not in first.get("class", "").split() or not _hidden(first):
        found.append("the first element of <body> must be the hidden preheader")
    for element in document.iter():
        if isinstance(element.tag, str):
            found += _element_problems(element, files_beside)
        elif "[if mso]" in (element.text or ""):  # Outlook-only markup is still layout
            for table in re.findall(r"<table\b[^>]*>", element.text):
                if 'role="presentation"' not in table:
                    found.append(f'Outlook-only {table} lacks role="presentation"')
    return list(dict.fromkeys(found))


def _head_problems(document: Any) -> list[str]:
    found = []
    if not document.get("lang"):
        found.append("<html> has no lang attribute")
    if not document.xpath("//head/meta[translate(@charset, 'UTF', 'utf')='utf-8']"):
        found.append('no <meta charset="utf-8">')
    if not document.xpath("//head/meta[@name='viewport' and contains(@content, 'width=device-width')]"):
        found.append("no viewport <meta>")
    if not document.xpath("normalize-space(//head/title)"):
        found.append("no <title>")
    for name in ("color-scheme", "supported-color-schemes"):
        if not document.xpath(f"//head/meta[@name='{name}' and contains(@content, 'dark')]"):
            found.append(f'no <meta name="{name}" content="light dark">: dark mode is not declared')
    for style in document.iter("style"):
        found += _stylesheet_problems(style.text or "")
    return found


def _element_problems(element: Any, files_beside: bool = False) -> list[str]:
    tag = element.tag.lower()
    found = []
    if tag in FORBIDDEN_TAGS:
        found.append(f"<{tag}> is not allowed in email")
    for name, value in element.attrib.items():
        if name.lower().startswith("on"):
            found.append(f"<{tag} {name}=...>: event handler attributes are not allowed")
        elif name.lower() in URL_ATTRIBUTES:
            if not (files_beside and tag == "img" and name.lower() == "src" and _beside(value)):
                found += _url_problems(tag, name.lower(), value)
        elif name.lower() == "width" and value.isdigit() and int(value) > MAX_WIDTH:
            found.append(f"<{tag} width={value}> is wider than {MAX_WIDTH}px")
    found += _declaration_problems(f"<{tag} style>", element.get("style", ""))
    if tag == "img":
        for needed in ("alt", "width"):
            if element.get(needed) is None:
                found.append(f"<img src={element.get('src', '')!r}> has no {needed}")
    if tag == "table" and element.get("role") != "presentation" and not element.findall(".//th"):
        found.append('a layout <table> lacks role="presentation"')
    return found


def _url_problems(tag: str, attribute: str, url: str) -> list[str]:
    cleaned = re.sub(r"[\x00-\x20]", "", url).lower()
    allowed = IMAGE_SCHEMES if tag == "img" else LINK_SCHEMES
    if cleaned.startswith("javascript:"):
        return [f"<{tag} {attribute}> is a javascript: URL"]
    if not re.match(r"[a-z][a-z0-9+.-]*:", cleaned):
        return [f"<{tag} {attribute}={url!r}> is relative; an email needs absolute addresses"]
    if not cleaned.startswith(allowed):
        return [f"<{tag} {attribute}={url[:60]!r}> must be {' or '.join(allowed)}"]
    return []


def _beside(url: str) -> bool:
    """A relative path to a file in the same folder or below it: no scheme, no root, no '..'."""
    cleaned = re.sub(r"[\x00-\x20]", "", url)
    parts = cleaned.split("/")
    return bool(cleaned) and ":" not in parts[0] and not cleaned.startswith("/") and ".." not in parts


def _hidden(element: Any) -> bool:
    return bool(re.search(r"display:\s*none", element.get("style", "")))


def _declaration_problems(where: str, css: str) -> list[str]:
    return [f"{where}: {problem}" for problem in _style_problems(css)]


@lru_cache(maxsize=4096)  # inlined styles repeat element after element; the answer depends on the text only
def _style_problems(css: str) -> tuple[str, ...]:
    import tinycss2  # type: ignore[import-untyped]

    found = []
    for declaration in tinycss2.parse_declaration_list(css, skip_comments=True, skip_whitespace=True):
        if declaration.type == "error":
            found.append(f"CSS error: {declaration.message}")
            continue
        if declaration.type != "declaration":
            continue
        name = declaration.lower_name
        value = tinycss2.serialize(declaration.value).strip().lower()
        if (
            name in LAYOUT_PROPERTIES
            or name.startswith(("flex", "grid"))
            or (name == "display" and re.search(r"\b(inline-)?(flex|grid)\b", value))
        ):
            found.append(f"'{name}: {value}' (no flex, grid, position or float in email)")
        if name in ("font-family", "font"):
            last = value.rsplit(",", 1)[-1].strip().strip("'\"")
            if last.split()[-1] not in GENERIC_FAMILIES:
                found.append(f"font stack '{value}' does not end in a generic family")
        if name in ("width", "max-width", "min-width"):
            pixels = re.match(r"(\d+(?:\.\d+)?)px", value)
            if pixels and float(pixels.group(1)) > MAX_WIDTH:
                found.append(f"'{name}: {value}' is wider than {MAX_WIDTH}px")
    return tuple(found)


def _stylesheet_problems(css: str) -> list[str]:
    """The <style> block: it must parse, and hold only enhancements (what cannot be inlined)."""
    import tinycss2

    found = []
    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "error":
            found.append(f"<style>: CSS error at line {rule.source_line}: {rule.message}")
        elif rule.type == "qualified-rule":
            selector = tinycss2.serialize(rule.prelude).strip()
            if ":" not in selector:
                found.append(f"<style>: '{selector}' can be inlined; only enhancements belong here")
            found += _declaration_problems(f"<style> {selector}", tinycss2.serialize(rule.content))
        elif rule.type == "at-rule" and rule.content is not None:
            for inner in tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True):
                if inner.type == "error":
                    found.append(f"<style> @{rule.lower_at_keyword}: CSS error: {inner.message}")
                elif inner.type == "qualified-rule":
                    where = f"<style> @{rule.lower_at_keyword} {tinycss2.serialize(inner.prelude).strip()}"
                    found += _declaration_problems(where, tinycss2.serialize(inner.content))
    return found
