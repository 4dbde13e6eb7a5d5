"""The email's compatibility report (issue 17): every HTML and CSS feature the email as sent uses (after
inlining), looked up in Can I email's data (caniemail.com, vendored in data/caniemail/) for the
clients our readers open it in: Gmail, Outlook for Windows and Apple Mail.

A feature one of them does not support ("n" in the latest version the data lists for a platform) is
  - a build error when missing it changes the layout there (LAYOUT below), unless the email uses it
    on purpose with a fallback (ACCEPTED, each with its reason);
  - a note otherwise (cosmetic: a colour, a rounded corner), listed by `tablet build --verbose`,
    with the accepted ones, the partial ("a", with caniemail's notes) and the unknown ("u") ones.

Features are found by parsing, never by searching the text: lxml for elements and attributes, tinycss2
for style attributes and the <style> block, so `text-transform` is the feature text-transform and
never `transform`. A value's feature (a unit, rgb(), !important) changes the layout when its
property does; an at-rule's (@media) when a declaration inside it does. Selectors live only in the
<style> block, which holds enhancements only (email_rules refuses a rule there that could be
inlined), so they are cosmetic. Outlook-only markup inside <!--[if mso]> comments is not looked at:
it is written for Outlook's engine.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "caniemail" / "caniemail.json"


@dataclass(frozen=True)
class Client:
    family: str  # caniemail's name
    platforms: tuple[str, ...]
    name: str


CLIENTS = (
    Client("gmail", ("desktop-webmail", "ios", "android", "mobile-webmail"), "Gmail"),
    Client("outlook", ("windows",), "Outlook (Windows)"),
    Client("apple-mail", ("macos", "ios"), "Apple Mail"),
)

# ---------------------------------------------------------------- the classification

# Features whose absence changes the layout: boxes, sizes, spacing, wrapping, what shows at all.
# Everything else (colours, decoration, fonts, accessibility attributes, selectors) is cosmetic.
LAYOUT = frozenset(
    {
        # display and the layout models
        "css-display", "css-display-flex", "css-display-grid", "css-display-none", "css-flex-direction",
        "css-flex-wrap", "css-align-items", "css-justify-content", "css-gap", "css-grid-template",
        "css-column-count", "css-column-layout-properties", "css-float", "css-clear", "css-position",
        "css-left-right-top-bottom", "css-inset", "css-z-index", "css-transform", "css-visibility",
        # sizes
        "css-width", "css-max-width", "css-min-width", "css-height", "css-max-height", "css-min-height",
        "css-inline-size", "css-block-inline-size", "css-max-inline-size", "css-min-inline-size",
        "css-max-block-size", "css-min-block-size", "css-intrinsic-size", "css-aspect-ratio",
        "css-box-sizing", "css-object-fit",
        # spacing
        "css-margin", "css-margin-block-start-end", "css-margin-inline-block", "css-margin-inline-start-end",
        "css-padding", "css-padding-block-start-end", "css-padding-inline-block",
        "css-padding-inline-start-end", "css-border-spacing",
        # tables
        "css-table-layout", "css-border-collapse", "css-vertical-align",
        # wrapping: a word or URL that cannot wrap widens the email past a phone's screen
        "css-overflow", "css-overflow-wrap", "css-word-break", "css-word-wrap", "css-white-space",
        "css-white-space-collapse", "css-text-overflow", "css-writing-mode", "css-direction",
        "css-text-orientation", "css-hyphens",
        # a background image carries what is read on it
        "css-background-image",
        # structure
        "html-table", "html-div", "html-p", "html-h1-h6", "html-lists", "html-blockquote", "html-pre",
        "html-img", "html-hr", "html-semantics", "html-width", "html-height", "html-align", "html-valign",
        "html-cellpadding", "html-cellspacing", "html-hidden", "html-background",
        # an image in a format the client cannot show is a hole in the page
        "image-png", "image-jpg", "image-gif", "image-webp", "image-avif", "image-svg", "image-bmp",
        "image-tiff", "image-heif", "image-ico", "image-apng", "image-hdr", "image-mp4",
    }
)  # fmt: skip

# Features the email uses on purpose although a client lacks them, as (feature, client family) ->
# (the class of the elements it is accepted on, or None for everywhere; why the email reads right).
ACCEPTED: dict[tuple[str, str], tuple[str | None, str]] = {
    ("css-at-media", "outlook"): (
        None,
        "the @media rules only narrow padding and type on a phone; Outlook for Windows is a desktop "
        "client and shows the base layout, a 600px column held by its own ghost table",
    ),
    ("css-at-media", "gmail"): (
        None,
        "the @media rules only narrow padding and type on a phone; the base layout is one fluid "
        "column that already fits a phone's screen",
    ),
    ("css-overflow-wrap", "gmail"): (
        None,
        "word-break: break-word, declared beside it and supported there, wraps long words and URLs",
    ),
    ("css-overflow-wrap", "outlook"): (
        None,
        "word-break: break-word, declared beside it and supported there, wraps long words and URLs",
    ),
    ("css-table-layout", "outlook"): (
        None,
        "table-layout: fixed keeps a data table's columns inside a phone's width; Outlook for Windows "
        "is a desktop client, where the 552px column gives the table room to lay itself out",
    ),
    ("css-max-height", "outlook"): (
        "preheader",
        "max-height: 0 hides the preheader elsewhere; Outlook for Windows hides it with mso-hide: all",
    ),
    ("css-overflow", "outlook"): (
        "preheader",
        "overflow: hidden hides the preheader elsewhere; Outlook for Windows hides it with mso-hide: all",
    ),
    ("css-white-space", "outlook"): (
        "whole",
        "nowrap only keeps a CE activity number (UAN) from breaking at its hyphens; where it is ignored "
        "the number wraps like any text and nothing widens",
    ),
    ("css-display-none", "gmail"): (
        "preheader",
        "where display: none is stripped (Gmail's mobile webmail) the preheader's max-height: 0 and "
        "overflow: hidden still fold it away",
    ),
}

# What to do instead, where it is not obvious.
ADVICE = {
    "image-webp": "save the image as PNG or JPEG",
    "css-display-flex": 'lay it out with a table (role="presentation")',
    "css-display-grid": 'lay it out with a table (role="presentation")',
    "css-position": 'lay it out with a table (role="presentation")',
    "css-float": "use a table cell or the align attribute",
}

# ---------------------------------------------------------------- from the email to features

# Properties whose feature is not css-<property> (caniemail's keywords say which it covers).
PROPERTY_FEATURES = {
    **{f"margin-{side}": "css-margin" for side in ("top", "right", "bottom", "left")},
    **{f"padding-{side}": "css-padding" for side in ("top", "right", "bottom", "left")},
    **{f"border-{part}": "css-border" for part in ("width", "style", "color")},
    **{f"border-{side}": "css-border" for side in ("top", "right", "bottom", "left")},
    **{
        f"border-{side}-{part}": "css-border"
        for side in ("top", "right", "bottom", "left")
        for part in ("width", "style", "color")
    },
    **{f"border-{v}-{h}-radius": "css-border-radius" for v in ("top", "bottom") for h in ("left", "right")},
    **{side: "css-left-right-top-bottom" for side in ("top", "right", "bottom", "left")},
    **{f"margin-{axis}-{end}": f"css-margin-{axis}-start-end" for axis in ("inline", "block")
       for end in ("start", "end")},
    **{f"padding-{axis}-{end}": f"css-padding-{axis}-start-end" for axis in ("inline", "block")
       for end in ("start", "end")},
    "margin-inline": "css-margin-inline-block",
    "margin-block": "css-margin-inline-block",
    "padding-inline": "css-padding-inline-block",
    "padding-block": "css-padding-inline-block",
    "block-size": "css-block-inline-size",
    "overflow-x": "css-overflow",
    "overflow-y": "css-overflow",
    "row-gap": "css-gap",
    "column-gap": "css-gap",
    **{f"grid-template-{part}": "css-grid-template" for part in ("columns", "rows", "areas")},
    **{name: "css-column-layout-properties" for name in (
        "columns", "column-width", "column-rule", "column-rule-color", "column-rule-style",
        "column-rule-width", "column-span", "column-fill")},
    **{f"transition-{part}": "css-transition" for part in ("property", "duration", "timing-function",
                                                          "delay")},
    **{f"animation-{part}": "css-animation" for part in ("name", "duration", "timing-function", "delay",
                                                        "iteration-count", "direction", "fill-mode")},
}  # fmt: skip
DISPLAY_FEATURES = {
    "flex": "css-display-flex",
    "inline-flex": "css-display-flex",
    "grid": "css-display-grid",
    "inline-grid": "css-display-grid",
    "none": "css-display-none",
}
FUNCTION_FEATURES = {
    "rgb": "css-rgb",
    "rgba": "css-rgba",
    "calc": "css-unit-calc",
    "min": "css-function-min",
    "max": "css-function-max",
    "clamp": "css-function-clamp",
    "var": "css-variables",
    "light-dark": "css-function-light-dark",
    "linear-gradient": "css-linear-gradient",
    "repeating-linear-gradient": "css-linear-gradient",
    "radial-gradient": "css-radial-gradient",
    "repeating-radial-gradient": "css-radial-gradient",
    "conic-gradient": "css-conic-gradient",
    **{name: "css-modern-color" for name in ("lch", "oklch", "lab", "oklab")},
}
KEYWORD_FEATURES = {
    "initial": "css-unit-initial",
    **{name: "css-sytem-ui" for name in ("system-ui", "ui-serif", "ui-sans-serif", "ui-rounded",
                                         "ui-monospace")},  # sic: caniemail's slug
}  # fmt: skip
MEDIA_FEATURES = {
    "prefers-color-scheme": "css-at-media-prefers-color-scheme",
    "prefers-reduced-motion": "css-at-media-prefers-reduced-motion",
    "orientation": "css-at-media-orientation",
    "hover": "css-at-media-hover",
    "-webkit-min-device-pixel-ratio": "css-at-media-device-pixel-ratio",
    "min-resolution": "css-at-media-device-pixel-ratio",
    "resolution": "css-at-media-device-pixel-ratio",
}
AT_RULE_FEATURES = {
    "media": "css-at-media",
    "font-face": "css-at-font-face",
    "import": "css-at-import",
    "keyframes": "css-at-keyframes",
    "supports": "css-at-supports",
}
TAG_FEATURES = {
    **{tag: "html-table" for tag in ("table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption")},
    **{tag: "html-lists" for tag in ("ul", "ol", "li", "dl", "dt", "dd")},
    **{f"h{n}": "html-h1-h6" for n in range(1, 7)},
    **{tag: "html-semantics" for tag in ("article", "aside", "details", "figcaption", "figure", "footer",
                                         "header", "main", "mark", "nav", "section", "summary", "time")},
    "s": "html-strike",
    "b": "html-strong",
}  # fmt: skip
ATTRIBUTE_FEATURES = {
    "loading": "html-loading-attribute",
    "inert": "css-inert-attribute",
}
IMAGE_FEATURES = {"png": "image-png", "jpeg": "image-jpg", "gif": "image-gif", "webp": "image-webp"}


@dataclass(frozen=True)
class Use:
    """One place the email uses a feature."""

    feature: str  # caniemail's slug
    what: str  # as written: "display: flex", "@media (prefers-color-scheme: dark)", "<td valign>"
    where: str  # '<td class="masthead">', "<style> @media ... .topic", "the image assets/a.webp"
    layout: bool
    classes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Finding:
    """A feature, a client, and what the data says of it there."""

    kind: str  # "error", "accepted", "cosmetic", "partial", "unknown"
    feature: str
    client: str  # "Outlook (Windows) 2019", "Gmail (Android 2026-03, iOS 2026-03)"
    uses: tuple[Use, ...]
    notes: tuple[str, ...] = ()
    reason: str = ""

    def message(self) -> str:
        info = feature_info(self.feature)
        name = info["title"]
        places = _places(self.uses)
        if self.kind == "error":
            advice = f"; {ADVICE[self.feature]}" if self.feature in ADVICE else ""
            return (
                f"{name} is not supported in {self.client}, where the layout changes without it: "
                f"{places}{advice} (see {info['url']})"
            )
        if self.kind == "accepted":
            return f"accepted: {name} is not supported in {self.client}: {places}; {self.reason}"
        if self.kind == "cosmetic":
            return f"cosmetic: {name} is not supported in {self.client}: {places}"
        said = "partly supported" if self.kind == "partial" else "of unknown support"
        notes = f" ({' '.join(self.notes)})" if self.notes else ""
        return f"{self.kind}: {name} is {said} in {self.client}{notes}: {places}"


@dataclass
class Compatibility:
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [f.message() for f in self.findings if f.kind == "error"]

    @property
    def notes(self) -> list[str]:
        """What `tablet build --verbose` lists: every finding that is not an error."""
        return [f.message() for f in self.findings if f.kind != "error"]


def _places(uses: tuple[Use, ...]) -> str:
    distinct = list(dict.fromkeys(f"'{u.what}' in {u.where}" for u in uses))
    more = f" and {len(distinct) - 3} more" if len(distinct) > 3 else ""
    return ", ".join(distinct[:3]) + more


# ---------------------------------------------------------------- the data


@cache
def data() -> dict[str, Any]:
    """The vendored data, as published (trimmed to our clients' families: tools/caniemail_data.py)."""
    loaded: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return loaded


@cache
def _features() -> dict[str, dict[str, Any]]:
    return {feature["slug"]: feature for feature in data()["data"]}


def feature_info(slug: str) -> dict[str, Any]:
    return _features()[slug]


def support(slug: str, client: Client) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """For each of the client's platforms the data covers: (its latest version, "y"/"a"/"n"/"u",
    the numbers of caniemail's notes). The latest version is the last one listed, as caniemail
    lists them oldest first."""
    stats = feature_info(slug)["stats"].get(client.family, {})
    found = {}
    for platform in client.platforms:
        versions = stats.get(platform)
        if not versions:
            continue
        version, value = list(versions.items())[-1]
        value_parts = value.split()
        found[platform] = (version, value_parts[0], tuple(p.lstrip("#") for p in value_parts[1:]))
    return found


# ---------------------------------------------------------------- the report


def compatibility(html: str, images: Iterable[tuple[str, str]] = ()) -> Compatibility:
    """The compatibility report of the email HTML as sent; `images`: (Pillow's format name, path) of
    each image it shows, whose format is a feature too."""
    found = list(uses(html))
    found += [Use(IMAGE_FEATURES[kind], kind.upper(), f"the image {path}", True) for kind, path in images
              if kind in IMAGE_FEATURES]  # fmt: skip
    by_feature: dict[str, list[Use]] = {}
    for use in found:
        if use.feature in _features():
            by_feature.setdefault(use.feature, []).append(use)
    report = Compatibility()
    for slug, feature_uses in sorted(by_feature.items()):
        for client in CLIENTS:
            report.findings += _findings(slug, client, feature_uses)
    order = ("error", "accepted", "cosmetic", "partial", "unknown")
    report.findings.sort(key=lambda f: (order.index(f.kind), f.feature, f.client))
    return report


def _findings(slug: str, client: Client, uses: list[Use]) -> Iterator[Finding]:
    platforms = support(slug, client)
    nicenames = data()["nicenames"]["platform"]
    notes_by_num = feature_info(slug).get("notes_by_num") or {}

    def where(names: list[str]) -> str:
        if len(client.platforms) == 1:
            return f"{client.name} {platforms[names[0]][0]}"
        return f"{client.name} ({', '.join(f'{nicenames.get(p, p)} {platforms[p][0]}' for p in names)})"

    for value in ("n", "a", "u"):
        names = [p for p, (_, v, _) in platforms.items() if v == value]
        if not names:
            continue
        client_name = where(names)
        if value == "n":
            layout = [u for u in uses if u.layout]
            scope, reason = ACCEPTED.get((slug, client.family), (None, ""))
            accepted = [u for u in layout if reason and (scope is None or scope in u.classes)]
            refused = [u for u in layout if u not in accepted]
            cosmetic = [u for u in uses if not u.layout]
            if refused:
                yield Finding("error", slug, client_name, tuple(refused))
            if accepted:
                yield Finding("accepted", slug, client_name, tuple(accepted), reason=reason)
            if cosmetic:
                yield Finding("cosmetic", slug, client_name, tuple(cosmetic))
        else:
            numbers = dict.fromkeys(n for p in names for n in platforms[p][2])
            notes = tuple(notes_by_num[n] for n in numbers if n in notes_by_num)
            yield Finding("partial" if value == "a" else "unknown", slug, client_name, tuple(uses), notes)


def uses(html: str) -> Iterator[Use]:
    """Every use of a feature the data knows or may know in `html`, in document order."""
    import lxml.html  # type: ignore[import-untyped]

    document = lxml.html.document_fromstring(html)
    features = _features()
    if document.getroottree().docinfo.doctype:
        yield Use("html-doctype", "<!DOCTYPE html>", "the document", False)
    for element in document.iter():
        if not isinstance(element.tag, str):
            yield Use("html-comments", "<!-- -->", "the document", False)
            continue
        tag = element.tag.lower()
        classes = frozenset(element.get("class", "").split())
        label = f'<{tag} class="{" ".join(sorted(classes))}">' if classes else f"<{tag}>"
        slug = TAG_FEATURES.get(tag, f"html-{tag}")
        if slug in features:
            yield Use(slug, f"<{tag}>", label, slug in LAYOUT, classes)
        for name in element.attrib:
            name = name.lower()
            slug = ATTRIBUTE_FEATURES.get(name, f"html-{name}")
            if slug in features and name not in ("style", "class"):
                yield Use(slug, f"<{tag} {name}>", label, slug in LAYOUT, classes)
        if tag == "a" and element.get("href", "").startswith("#"):
            yield Use("html-anchor-links", '<a href="#...">', label, False, classes)
        if tag == "a" and element.get("href", "").lower().startswith("mailto:"):
            yield Use("html-mailto-links", '<a href="mailto:...">', label, False, classes)
        if tag == "meta" and element.get("name", "").lower() == "color-scheme":
            yield Use("html-meta-color-scheme", '<meta name="color-scheme">', "<head>", False)
        if element.get("style"):
            for use in _declaration_uses(element.get("style")):
                yield Use(use.feature, use.what, label, use.layout, classes)
        if tag == "style":
            yield from _stylesheet_uses(element.text or "")


@lru_cache(maxsize=4096)  # inlined styles repeat element after element; the answer depends on the text
def _declaration_uses(css: str) -> tuple[Use, ...]:
    """The features of a declaration list; their `where` is for the caller to fill in."""
    import tinycss2  # type: ignore[import-untyped]

    found = []
    for declaration in tinycss2.parse_declaration_list(css, skip_comments=True, skip_whitespace=True):
        if declaration.type != "declaration":
            continue  # email_rules reports CSS errors
        name = declaration.lower_name
        if name.startswith("-") or name.startswith("mso-"):
            continue  # a client's own property: the data has no entry, the other clients skip it
        value = tinycss2.serialize(declaration.value).strip()
        what = f"{name}: {value}" + (" !important" if declaration.important else "")
        slug = PROPERTY_FEATURES.get(name, f"css-{name}")
        if name == "display":
            slug = DISPLAY_FEATURES.get(value.lower(), "css-display")
        layout = slug in LAYOUT
        found.append(Use(slug, what, "", layout))
        for value_slug in _value_features(declaration.value):
            found.append(Use(value_slug, what, "", layout))
        if declaration.important:
            found.append(Use("css-important", what, "", layout))
    return tuple(found)


def _value_features(tokens: list[Any]) -> Iterator[str]:
    for token in tokens:
        if token.type == "dimension":
            yield f"css-unit-{token.lower_unit}"
        elif token.type == "percentage":
            yield "css-unit-percent"
        elif token.type == "ident" and token.lower_value in KEYWORD_FEATURES:
            yield KEYWORD_FEATURES[token.lower_value]
        elif token.type == "function":
            if token.lower_name in FUNCTION_FEATURES:
                yield FUNCTION_FEATURES[token.lower_name]
            yield from _value_features(token.arguments)
        elif token.type in ("() block", "[] block", "{} block"):
            yield from _value_features(token.content)


def _stylesheet_uses(css: str) -> Iterator[Use]:
    import tinycss2

    for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if rule.type == "qualified-rule":
            yield from _rule_uses(rule, "<style>")
        elif rule.type == "at-rule":
            prelude = " ".join(tinycss2.serialize(rule.prelude).split())
            what = f"@{rule.lower_at_keyword} {prelude}".strip()
            inner: list[Use] = []
            if rule.content is not None:
                for child in tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True):
                    if child.type == "qualified-rule":
                        inner += _rule_uses(child, f"<style> {what}")
            layout = any(use.layout for use in inner)  # selectors never are
            where = "<style>"
            if rule.lower_at_keyword in AT_RULE_FEATURES:
                yield Use(AT_RULE_FEATURES[rule.lower_at_keyword], what, where, layout)
            for token in _idents(rule.prelude):
                if token in MEDIA_FEATURES:
                    yield Use(MEDIA_FEATURES[token], what, where, layout)
            yield from inner


def _idents(tokens: list[Any]) -> Iterator[str]:
    for token in tokens:
        if token.type == "ident":
            yield token.lower_value
        elif token.type in ("() block", "[] block"):
            yield from _idents(token.content)


def _rule_uses(rule: Any, where: str) -> list[Use]:
    import tinycss2

    selector = " ".join(tinycss2.serialize(rule.prelude).split())
    here = f"{where} {selector}"
    found = [Use(slug, selector, where, False) for slug in _selector_features(rule.prelude)]
    return found + [
        Use(u.feature, u.what, here, u.layout) for u in _declaration_uses(tinycss2.serialize(rule.content))
    ]


def _selector_features(prelude: list[Any]) -> Iterator[str]:
    """The selector features of a rule's prelude, token by token: a compound selector is a run of
    simple ones with no whitespace or combinator between them."""
    groups = 1
    simple = 0  # simple selectors in the current compound (type, class, id, attribute, universal)
    after_space = False
    previous = None
    for token in prelude:
        kind = token.type
        if kind == "whitespace":
            after_space = simple > 0
            continue
        if kind == "literal" and token.value in (",", ">", "+", "~"):
            yield {
                ",": "css-selector-grouping",
                ">": "css-selector-child",
                "+": "css-selector-adjacent-sibling",
                "~": "css-selector-general-sibling",
            }[token.value]
            groups += token.value == ","
            simple, after_space, previous = 0, False, token
            continue
        if after_space:
            yield "css-selector-descendant"
            simple, after_space = 0, False
        if previous is not None and previous.type == "literal" and previous.value == ":":
            if kind in ("ident", "function"):
                name = token.lower_value if kind == "ident" else token.lower_name
                double = _is_double_colon(prelude, token)
                yield f"css-pseudo-{'element' if double else 'class'}-{name}"
            previous = token
            continue
        if kind == "ident":
            if not (previous is not None and previous.type == "literal" and previous.value == "."):
                yield "css-selector-type"
                simple += 1
        elif kind == "literal" and token.value == ".":
            yield "css-selector-class"
            simple += 1
        elif kind == "hash":
            yield "css-selector-id"
            simple += 1
        elif kind == "[] block":
            yield "css-selector-attribute"
            simple += 1
        elif kind == "literal" and token.value == "*":
            yield "css-selector-universal"
            simple += 1
        if simple == 2:
            yield "css-selector-chaining"
        previous = token


def _is_double_colon(prelude: list[Any], token: Any) -> bool:
    index = prelude.index(token)
    return index >= 2 and prelude[index - 2].type == "literal" and prelude[index - 2].value == ":"


def heading(slug: str) -> str:
    """The line that opens an issue's notes in `tablet build --verbose`."""
    source = data()["source"]
    clients = ", ".join(client.name for client in CLIENTS)
    return (
        f"issues/{slug}: the email in {clients}, from Can I email's data of "
        f"{data()['last_update_date'][:10]} (npm {source['package']} {source['version']}); "
        "not errors:"
    )
