"""The house-style checks of wording: placeholders, stand-in links, repeated callouts, abbreviations,
sample sizes and off-label use (the rules of rules.RULES that are not about doses).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from tablet_press.bundle import markdown
from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.project import Project
from tablet_press.checks.rules import Finding, Text, locate, offset_of

# ---------------------------------------------------------------- placeholders and repeats

_PLACEHOLDER = re.compile(r"(?<![\w.])(?:TODO|TBD|XXX|FIXME|[Ll]orem ipsum)(?!\w)")
_STAND_IN = re.compile(
    r"(?:^|[@./])(?:example\.(?:com|org|net)|localhost|127\.0\.0\.1)(?:$|[/:?#])|TODO|TBD|XXX"
)


def placeholders(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    for text in texts:
        for m in _PLACEHOLDER.finditer(text.masked):
            yield Finding(
                "placeholder", text, m.start(), f"'{m.group()}' is left in the text", "write the text"
            )


def links(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    for text in texts:
        for link in markdown.scan(text.md.text).links:
            parts = urlsplit(link.value)
            no_host = parts.scheme in ("http", "https") and not parts.hostname
            if link.value not in ("", "#") and (no_host or _STAND_IN.search(parts.netloc + parts.path)):
                at, why = (
                    offset_of(text.md.text, link.line, link.col),
                    f"'{link.value[:60]}' is a stand-in address",
                )
                yield Finding("placeholder-link", text, at, why, "link to the real address")


def callouts(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    """A callout whose words were printed before, in print order (the later one is reported)."""
    first: dict[str, tuple[Text, int]] = {}
    for text in texts:
        lines = text.md.text.split("\n")
        for token in markdown.parse(text.md.text):
            if token.type == "container_callout_open" and token.map:
                start, end = token.map
                words = " ".join(" ".join(lines[start + 1 : end]).removesuffix(":::").split()).casefold()
                at = offset_of(text.md.text, start + 1, lines[start].find(":::") + 1)
                if words in first:
                    other, where = first[words]
                    label = project.config.callouts.get(token.info.split()[0], "callout")
                    why = f"this {label} repeats the one at {other.md.file}:{locate(other.md, where)[0]}"
                    yield Finding("repeated-callout", text, at, why, "keep one of them")
                first.setdefault(words, (text, at))


# ---------------------------------------------------------------- abbreviations, sample sizes, off-label

_TOKEN = re.compile(r"(?<![\w@/.-])[A-Za-z][A-Za-z0-9]*(?![\w])")
# Capitals for emphasis, Roman numerals, and what the ISMP and placeholder rules already say.
_NOT_ABBREVIATIONS = {"NOT", "NO", "DO", "ONLY", "NEVER", "ALWAYS", "AVOID", "AND", "OR", "BUT", "ALL", "OK"}
_NOT_ABBREVIATIONS |= {"II", "III", "VI", "VII", "VIII", "IX", "XI", "XII", "TODO", "TBD", "XXX", "FIXME"}
_NOT_ABBREVIATIONS |= {"QD", "QOD", "HS", "IU", "SC", "SQ", "TIW", "MSO4", "MgSO4"}
_AMBIGUOUS = {"MS": "; in palliative care MS also reads as morphine sulfate"}
# Names, not abbreviations to define: a clinician reads them as they are written, and "cytochrome P450
# 3A4 (CYP3A4)" would only slow the reader down. By pattern: enzymes and genes (CYP, UGT, HLA alleles,
# transporters), receptor subtypes, the QT interval; then a list of lab measures, symbols and formulas.
_CLINICAL_NAMES = [
    r"CYP\d{0,3}[A-Z]?\d{0,2}(?:\*\d+[A-Z]?)*",  # CYP, CYP450, CYP3A, CYP3A4, CYP2C19*2
    r"UGT\d[A-Z]\d{1,2}(?:\*\d+)*",  # UGT1A1, UGT2B7, UGT1A1*28
    r"HLA(?:-[A-Z]{1,4}\d?(?:\*\d{2,4}(?::\d{2,3})*)?)?",  # HLA-B*5801, HLA-B*58:01, HLA-DQB1*0602
    r"ABC[A-G]\d{1,2}|SLCO?\d{1,2}[A-Z]\d{1,2}|OPR[MDK]1|VKORC1|NUDT15|TPMT|DPYD|COMT|G6PD",
    r"5-?HT\d?[A-F]?",  # 5-HT, 5-HT3, 5-HT2A, 5HT1B
    r"(?:NK|CB|TLR|MT|OX|AT|GLP)-?\d{1,2}[A-Z]?",  # NK1, CB2, TLR4, MT1, OX2, AT1, GLP-1
    r"(?:NMDA|AMPA|GABA)(?:-?[AB])?",  # the receptors and GABA-A
    r"QT(?:c[FB]?)?",  # QT, QTc, QTcF, QTcB
    r"(?:ED|EC|IC|LD|TD)50|(?:Sp|Sa|Pa|Fi|Et)C?O2",  # ED50, IC50; SpO2, PaCO2, FiO2
    r"INR|eGFR|GFR|CrCl|HbA1c|Ig[GAEMD]|[cm]?RNA|DNA|ATP|cAMP|pH|pKa|Cmax|Cmin|Css|Tmax|Vd",
    r"KCl|NaCl|NaHCO3|HCO3|CaCO3|CO2|H2O|MgO",
]
_CLINICAL = re.compile(rf"(?<![\w@/.*:-])(?:{'|'.join(_CLINICAL_NAMES)})(?![\w*])")
_SMALL_WORDS = {"of", "and", "the", "in", "for", "with", "on", "to", "a"}


def _abbreviation(word: str) -> str | None:
    word = word[:-1] if len(word) > 2 and word.endswith("s") and word[:-1].isupper() else word  # NSAIDs
    upper, lower = sum(c.isupper() for c in word), sum(c.islower() for c in word)
    return word if upper >= 2 and upper > lower and word not in _NOT_ABBREVIATIONS else None


def _defines(abbr: str, before: str, after: str) -> bool:
    """'low-dose naltrexone (LDN)', or 'QOL (quality of life)' when the initials spell it."""
    if re.search(r"\w[ \u00a0]*\([ \u00a0]*$", before):
        return True
    m = re.match(r"[ \u00a0]*\(([^()]*)\)", after)
    words = [w for w in re.split(r"[\s\-–]+", m[1]) if w] if m else []
    letters = "".join(c for c in abbr if c.isalpha()).upper()
    initials = ("".join(w[0] for w in words if w.lower() not in small) for small in (set(), _SMALL_WORDS))
    return bool(words) and any(i.upper().startswith(letters) for i in initials)


def abbreviations(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    """Abbreviations in printed markdown, in print order: each must be defined before its first use."""
    known, reported = set(project.config.glossary), set[str]()
    for text in (t for t in texts if t.prose):
        for m in _TOKEN.finditer(_CLINICAL.sub(lambda name: " " * len(name[0]), text.masked)):
            abbr = _abbreviation(m.group())
            if abbr is None or abbr in known | reported:
                continue
            if _defines(abbr, text.masked[max(0, m.start() - 8) : m.start()], text.masked[m.end() :][:200]):
                known.add(abbr)
                continue
            reported.add(abbr)
            why = f"'{abbr}' is used before it is defined{_AMBIGUOUS.get(abbr, '')}"
            fix = f"write it out at first use, then ({abbr}); or add it to the glossary in tablet.yaml"
            yield Finding("undefined-abbreviation", text, m.start(), why, fix)


_SAMPLE = re.compile(r"(?<![\w.])([nN])([ \u00a0]*)=([ \u00a0]*)(\d[\d,]*)(?!\w)")


def sample_sizes(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    """Sample sizes written the way most of the issue writes them; the layout prints `n:` as n=10."""
    found = [(text, m) for text in texts for m in _SAMPLE.finditer(text.masked)]

    def form(m: re.Match[str]) -> str:
        return f"{m[1]}{' ' if m[2] else ''}={' ' if m[3] else ''}"

    votes = {"n=": sum(s.n is not None for g in bundle.issue.literature for s in g.studies)}
    example = {"n=": "n=10"}
    for _, m in found:
        votes[form(m)] = votes.get(form(m), 0) + 1
        example.setdefault(form(m), m.group())
    house = max(votes, key=lambda f: (votes[f], f == "n="))
    for text, m in found:
        if form(m) != house:
            why = (
                f"'{m.group()}' is written differently from the issue's other sample sizes ({example[house]})"
            )
            yield Finding("sample-size", text, m.start(), why, f"write {house}{m[4]}")


_OFF_LABEL = re.compile(r"\boff[- ]?label\b|\bnot FDA[- ]approved\b", re.I)


def off_label(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    """Off-label use mentioned (first mention) but not flagged, so no output would carry the notice."""
    found = next(((t, m) for t in texts if (m := _OFF_LABEL.search(t.masked))), None)
    if found and not bundle.issue.off_label:
        text, m = found
        why = f"the text speaks of off-label use ('{m.group()}') but issue.yaml does not say off_label: true"
        yield Finding(
            "off-label", text, m.start(), why, "add off_label: true so every output carries the notice"
        )


# ---------------------------------------------------------------- comments that cut text short

_COMMENT_AFTER = re.compile(r"[ \t]+(#.*)$")
_NOT_WORDS = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?|true|false|yes|no|on|off", re.I)
_IGNORE_COMMENT = re.compile(r"#\s*tablet: *ignore\b")  # a malformed one is an [ignore] warning


def comments_in_text(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    """A plain (unquoted) text of issue.yaml followed on its line by ' #...': YAML reads the rest of the
    line as a comment, so `- Take 4.5 mg #bid` prints "Take 4.5 mg" and nothing says so.

    Reported at the '#'. Not for quoted or block texts (the author chose where the text ends), a value
    that is a number or yes/no (a note beside `n: 30` cuts nothing worded), an empty comment, or a
    `# tablet: ignore[...]` comment, which belongs there."""
    for text in texts:
        source, path = text.md.source, text.md.path
        end = source.plain_end.get(path) if source is not None else None
        if source is None or end is None or _NOT_WORDS.fullmatch(text.md.text.strip()):
            continue
        m = _COMMENT_AFTER.match(source.lines[end.line - 1][end.col - 1 :])
        comment = m[1] if m else ""
        if m and comment.strip("# \t") and not _IGNORE_COMMENT.match(comment):
            lost = comment if len(comment) <= 40 else comment[:39] + "…"
            why = f"'#' after the text starts a YAML comment: the rest of the line ('{lost}') will not print"
            hint = "put the whole text in quotes to print it, or move the comment to a line of its own"
            at = (end.line, end.col + m.start(1))
            yield Finding("comment-in-text", text, len(text.md.text), why, hint, at)
