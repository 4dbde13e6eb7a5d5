"""A draft's reference list and study short cites as records: DOIs and PMIDs pulled out, APA, AMA and
Vancouver entries parsed into CSL fields, NLM short cites ("Pain Med. 2009 May-June;10(4):663-72.")
read, and each study tied to its record by DOI/PMID or by year, volume and pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DOI = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|\bdoi:\s*)?\b(10\.\d{4,9}/[^\s<>\]]+)", re.I)
PMID = re.compile(r"\bPMID:?\s*(\d{5,9})\b", re.I)
URL = re.compile(r"<?(https://[^\s<>\]]+)>?")
PAGES = r"[A-Za-z]?\d+[A-Za-z]?(?:[-–][A-Za-z]?\d+[A-Za-z]?)?"
APA = re.compile(
    rf"^(?P<authors>.+?)\s\((?P<year>\d{{4}})[a-z]?(?:,[^)]*)?\)\.\s+(?P<title>.+?[.?!])\s+\*?(?P<journal>[^*]+?)\*?,"
    rf"\s*\*?(?P<volume>\d+)\*?(?:\((?P<issue>[^)]+)\))?(?:,\s*(?P<pages>{PAGES}))?\.?$"
)
AMA = re.compile(
    rf"^(?P<authors>[^.]+?(?:et al)?)\.\s+(?P<title>.+?[.?!])\s+\*?(?P<journal>[^*;]+?)\*?\.?\s+"
    rf"(?P<year>\d{{4}})[^;]*;\s*(?P<volume>\d+)(?:\((?P<issue>[^)]+)\))?(?::\s*(?P<pages>{PAGES}))?\.?$"
)
SHORT = re.compile(
    rf"^(?P<journal>.+?)\.\s+(?P<year>(?:19|20)\d\d)(?P<date>[^;]*);\s*(?P<volume>[^(:;]+)?"
    rf"(?:\((?P<issue>[^)]+)\))?(?::\s*(?P<pages>{PAGES}))?\.?$"
)
INITIALS = re.compile(r"^(?:[A-Z][a-z]?\.?[\s-]*)+$")


@dataclass
class Entry:
    """One entry of the draft's reference list, parsed into CSL fields (or not)."""

    text: str  # as written (plain text)
    fields: dict[str, Any]  # CSL fields, with DOI/PMID/URL when found
    parsed: bool  # the entry followed APA, AMA or Vancouver
    written: str = ""  # as written, its *italics* kept (an unstructured reference's text)


LINK = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")  # [text](url), a url may hold (23)


def _clean(text: str) -> str:
    return " ".join(text.replace("\\", "").split())


def _identifiers(text: str) -> tuple[dict[str, str], str]:
    found: dict[str, str] = {}
    doi = DOI.search(text)
    if doi:
        value = doi.group(1).rstrip(".,;")
        found["DOI"] = value[:-1] if value.endswith(")") and value.count(")") > value.count("(") else value
        text = text[: doi.start()] + text[doi.end() :]
    pmid = PMID.search(text)
    if pmid:
        found["PMID"] = pmid.group(1)
        text = text[: pmid.start()] + text[pmid.end() :]
    url = URL.search(text)
    if url and "DOI" not in found:
        found["URL"] = url.group(1).rstrip(".,;")
    if url:
        text = text[: url.start()] + text[url.end() :]
    text = re.sub(r"\s*(?:Available (?:from|at):?|doi:|\[\]\(\)|\(\))\s*$", "", text.strip(), flags=re.I)
    return found, text.strip().rstrip(".").strip() + "."


def _pages(pages: str | None, fields: dict[str, Any]) -> None:
    if not pages:
        return
    pages = pages.replace("–", "-")
    if "-" in pages:
        first, last = pages.split("-", 1)
        if last.isdigit() and first.isdigit() and len(last) < len(first):  # NLM's 663-72
            last = first[: len(first) - len(last)] + last
        fields["page"] = f"{first}-{last}"
    else:
        fields["article-number"] = pages


def _apa_authors(text: str) -> list[str]:
    tokens = [t.strip() for t in re.split(r",\s*(?:&\s*)?|\s&\s", text.replace("…", ",")) if t.strip()]
    names: list[str] = []
    for token in tokens:
        if names and INITIALS.match(token) and "," not in names[-1]:
            initials = token if token.endswith(".") else token + "."
            names[-1] = f"{names[-1]}, {initials}"
        else:
            names.append(token)
    return names


def _ama_authors(text: str) -> list[str]:
    out = []
    for name in (n.strip() for n in text.split(",")):
        if name.casefold().rstrip(".") == "et al":
            out.append("et al.")
            continue
        family, _, initials = name.rpartition(" ")
        if family and re.fullmatch(r"[A-Z]{1,4}", initials):
            out.append(f"{family}, {' '.join(i + '.' for i in initials)}")
        else:
            out.append(name)
    return out


def parse_entry(markdown: str) -> Entry:
    """An entry of the reference list (markdown of one list item) as CSL fields."""
    as_written = _clean(LINK.sub(r"\1", markdown).replace("*", ""))
    ids, rest = _identifiers(_clean(LINK.sub(r"\1", markdown)))
    fields: dict[str, Any] = dict(ids)
    match = APA.match(rest)
    authors = _apa_authors if match else _ama_authors
    match = match or AMA.match(rest)
    if not match:
        return Entry(as_written, fields, False, _clean(LINK.sub(r"\1", markdown)))
    fields["author"] = authors(match["authors"].replace("*", ""))
    fields["title"] = match["title"].replace("*", "").rstrip(".")
    fields["container-title"] = match["journal"].strip()
    fields["issued"] = match["year"]
    fields["volume"] = match["volume"]
    if match["issue"]:
        fields["issue"] = match["issue"]
    _pages(match["pages"], fields)
    return Entry(as_written, fields, True, _clean(LINK.sub(r"\1", markdown)))


@dataclass(frozen=True)
class ShortCite:
    journal: str
    year: str
    issued: str  # YYYY, YYYY-MM, YYYY-MM-DD or a range, as precise as the cite says
    volume: str | None
    issue: str | None
    fields: dict[str, str]  # page or article-number
    doi: str | None = None
    pmid: str | None = None


def _month(word: str) -> int | None:
    key = word[:3].casefold()
    return MONTHS.index(key) + 1 if key in MONTHS else None


def _issued(year: str, date: str) -> str:
    words = re.findall(r"[A-Za-z]+|\d+", date)
    months = [m for m in (_month(w) for w in words if w.isalpha()) if m]
    days = [int(w) for w in words if w.isdigit() and int(w) <= 31]
    if len(months) == 2:
        return f"{year}-{months[0]:02d}/{year}-{months[1]:02d}"
    if months and days:
        return f"{year}-{months[0]:02d}-{days[0]:02d}"
    if months:
        return f"{year}-{months[0]:02d}"
    return year


def parse_shortcite(text: str) -> ShortCite | None:
    """'Pain Med. 2009 May-June;10(4):663-72.' -> its parts; None when the line is not one."""
    ids, rest = _identifiers(_clean(text))
    match = SHORT.match(rest)
    if not match:
        return None
    fields: dict[str, Any] = {}
    _pages(match["pages"], fields)
    volume = (match["volume"] or "").strip() or None
    return ShortCite(
        match["journal"].strip(),
        match["year"],
        _issued(match["year"], match["date"]),
        volume,
        match["issue"],
        fields,
        ids.get("DOI"),
        ids.get("PMID"),
    )


def tie(cite: ShortCite, records: dict[str, dict[str, Any]]) -> str | None:
    """The id of the record a short cite names: by DOI/PMID, else by year, volume and pages (or issue),
    else the entry kept as written whose text holds the cite's journal, year and first page."""
    for key, record in records.items():
        if (cite.doi and record.get("DOI", "").casefold() == cite.doi.casefold()) or (
            cite.pmid and record.get("PMID") == cite.pmid
        ):
            return key
    same = [
        key
        for key, record in records.items()
        if str(record.get("issued", ""))[:4] == cite.year and record.get("volume") == cite.volume
    ]
    for field in ("page", "article-number"):
        value = cite.fields.get(field, "").split("-")[0]
        hits = [k for k in same if value and str(records[k].get(field, "")).split("-")[0] == value]
        if len(hits) == 1:
            return hits[0]
    hits = [k for k in same if cite.issue and records[k].get("issue") == cite.issue]
    if len(hits) == 1:
        return hits[0]
    # An entry kept as written (no fields): the one whose text names the journal, year and first page
    # (or volume) of the cite.
    first = (cite.fields.get("page") or cite.fields.get("article-number") or "").split("-")[0] or cite.volume
    hits = [
        key
        for key, record in records.items()
        if "text" in record
        and all(
            part and re.search(rf"(?<!\w){re.escape(part.casefold())}(?!\w)", record["text"].casefold())
            for part in (cite.journal, cite.year, first)
        )
    ]
    return hits[0] if len(hits) == 1 else None


def enrich(record: dict[str, Any], cite: ShortCite) -> None:
    """What the short cite says that the list entry did not: the NLM abbreviation, the exact date,
    an article number."""
    record.setdefault("container-title-short", cite.journal)
    if str(record.get("issued", "")) == cite.year:
        record["issued"] = cite.issued
    if "page" not in record and "article-number" not in record:
        record.update(cite.fields)
    if cite.issue and "issue" not in record:
        record["issue"] = cite.issue
