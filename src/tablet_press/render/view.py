"""Issue -> the three views (print HTML, email HTML, plain text): one Jinja environment, one view model.

Takes a validated Bundle and the Project, returns values; no file is written here (the issue's images
are read, for the email that carries them). The view model hands templates ready values (formatted
names, short cites, references, each text as page HTML, email HTML and plain text) so that templates
hold layout only, and one view feeds every output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup, escape

from tablet_press.bundle import look, markdown
from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.model import AuthorEntry, Contact, ContinuingEducation, PersonEntry, Study
from tablet_press.bundle.outline import OUTLINE, citation_order, markdown_texts, study_bullets
from tablet_press.bundle.project import Project
from tablet_press.checks.ce import AUDIENCES, entries_in_control, people_in_control, uan_audience
from tablet_press.errors import BuildError
from tablet_press.render.email_markdown import EmailRenderer, InlineImage, IssueImages
from tablet_press.render.fonts import web_font_family
from tablet_press.render.palette import page_values

if TYPE_CHECKING:
    from tablet_press.refs.engine import Bibliography, Citations

OFF_LABEL_NOTICE = (
    "This issue discusses off-label use: uses, doses or routes not approved by the FDA. "
    "Check the evidence, local policy and the patient's circumstances before prescribing."
)


@dataclass(frozen=True)
class Fragment:
    """A piece of the pharmacist's text, ready for every output: the page's HTML (print and web), the
    email's HTML (callouts as tables, citations unlinked, images by cid:) and plain text."""

    html: Markup
    text: str
    email: Markup


@dataclass(frozen=True)
class PersonView:
    name: str  # "Maria Felton Lowry, PharmD, BCPS, BCGP"
    titles: tuple[str, ...]
    contact: Contact | None


@dataclass(frozen=True)
class AuthorGroup:
    label: str
    people: tuple[PersonView, ...]


@dataclass(frozen=True)
class Bullet:
    label: str  # "Outcomes", or "" for a bullet as written
    body: Fragment


@dataclass(frozen=True)
class StudyView:
    cite: str
    url: str | None
    title: str
    bullets: tuple[Bullet, ...]
    number: int | None = None  # its number in the reference list, in numbered styles (AMA, Vancouver)


@dataclass(frozen=True)
class ReferenceView:
    anchor: str
    entry: Fragment  # formatted by the citation engine (references.py), already escaped


@dataclass(frozen=True)
class GroupView:
    indication: str
    studies: tuple[StudyView, ...]
    note: Fragment | None


@dataclass(frozen=True)
class PartView:
    """A part of the outline that this issue has, in print order: templates lay out each by its key."""

    key: str
    heading: str


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    whole: bool = False  # never broken across lines (a UAN: its hyphens are no places to break)


@dataclass(frozen=True)
class ObjectivesView:
    audience: str  # "Pharmacists"
    items: tuple[str, ...]


@dataclass(frozen=True)
class DisclosureView:
    name: str  # with credentials
    roles: str  # "author", "planner and peer reviewer"
    relationships: tuple[str, ...]  # empty: none


@dataclass(frozen=True)
class CeView:
    """The continuing-education block, as every output prints it."""

    summary: str  # one line after the objectives: type, hours, audiences, where the rest is
    objectives: tuple[ObjectivesView, ...]
    accreditation: str
    facts: tuple[Fact, ...]  # activity type, audience, UANs, hours, release and expiry
    claim: str
    disclosures_intro: str
    disclosures: tuple[DisclosureView, ...]
    off_label: str | None
    expires: date
    expires_text: str


@dataclass(frozen=True)
class IssueView:
    """Everything a template may show, computed once per issue."""

    config: Any
    slug: str
    number: int
    date: date
    date_text: str
    title: str
    kicker: str
    author_groups: tuple[AuthorGroup, ...]
    author_names: tuple[str, ...]
    keywords: tuple[str, ...]
    parts: tuple[PartView, ...]
    prose: dict[str, Fragment]
    pearls: tuple[Fragment, ...]
    literature: tuple[GroupView, ...]
    bottom_line: tuple[Fragment, ...]
    references: tuple[ReferenceView, ...]
    numbered_references: bool
    off_label_notice: str | None
    reviewers: tuple[PersonView, ...]  # peer reviewers (reviewed_by)
    ce: CeView | None
    subject: str  # the email's: the topic first, then "| <newsletter> #<number>"
    preheader: str  # the inbox's preview line after the subject: the bottom line's first sentence
    email_images: tuple[InlineImage, ...]  # the issue's images the email's HTML shows, by cid:


def _person(
    name: str, credentials: Sequence[str], titles: Sequence[str], contact: Contact | None
) -> PersonView:
    full = ", ".join([name, *credentials])
    return PersonView(full, tuple(titles), contact)


def _author_groups(bundle: Bundle, project: Project) -> tuple[AuthorGroup, ...]:
    config = project.config
    grouped: dict[str, list[PersonView]] = {}
    for entry in bundle.issue.authors:
        person, role = _resolve(entry, project)
        grouped.setdefault(role, []).append(person)
    return tuple(
        AuthorGroup(config.role_heading(role, len(people)), tuple(people)) for role, people in grouped.items()
    )


def _resolve(entry: AuthorEntry, project: Project) -> tuple[PersonView, str]:
    if entry.id is not None:
        member = project.config.team[entry.id]
        role = entry.role or member.role
        assert role is not None  # validation guarantees a role
        return _person(member.name, member.credentials, member.titles, member.contact), role
    assert entry.name is not None and entry.role is not None
    return _person(entry.name, entry.credentials, entry.titles, entry.contact), entry.role


def _entry_person(entry: PersonEntry | AuthorEntry, project: Project) -> PersonView:
    if entry.id is not None:
        member = project.config.team[entry.id]
        return _person(member.name, member.credentials, member.titles, None)
    assert entry.name is not None
    return _person(entry.name, entry.credentials, entry.titles, None)


def long_date(day: date) -> str:
    """September 1, 2025."""
    return f"{day:%B} {day.day}, {day.year}"


ACTIVITY_TYPES = {
    "knowledge": "Knowledge-based",
    "application": "Application-based",
    "practice": "Practice-based",
}
ROLE_NAMES = {"author": "author", "planner": "planner", "reviewer": "peer reviewer"}
ACPE = "the Accreditation Council for Pharmacy Education"


def off_label_statement(bundle: Bundle, project: Project) -> str:
    """The CE block's off-label statement: the issue's own, else one made from its drug topics."""
    issue = bundle.issue
    if issue.ce is not None and issue.ce.off_label_statement is not None:
        return issue.ce.off_label_statement
    topics = project.config.topics
    drugs = [
        _in_sentence(topics[t].label)
        for t in issue.topics
        if t in topics and topics[t].kind in ("drug", "drug-class")
    ]
    what = _and(drugs) if drugs else "medications"
    return (
        f"This activity discusses off-label use of {what}: uses, doses or routes that the US Food and "
        "Drug Administration has not approved."
    )


def _in_sentence(label: str) -> str:
    """A topic's label inside a sentence: 'Low-dose naltrexone' -> 'low-dose naltrexone'; 'LDN' stays."""
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _decimal_text(value: Decimal) -> str:
    """0.125, 0.1: a decimal without trailing zeros, never in exponent form."""
    return format(value.normalize(), "f")


def ce_view(bundle: Bundle, project: Project) -> CeView:
    ce = bundle.issue.ce
    assert ce is not None
    defaults = project.config.ce
    provider = ce.provider or defaults.provider
    claim = ce.claim or defaults.claim
    assert provider is not None and claim is not None  # validation guarantees them
    audiences = {a: AUDIENCES[a] for u in ce.uan if (a := uan_audience(u))}
    objectives = tuple(
        ObjectivesView(label, tuple(getattr(ce.objectives, field)))
        for a, (field, label) in AUDIENCES.items()
        if a in audiences
    )
    who = " and ".join(label.lower() for _, label in audiences.values())
    kind = ACTIVITY_TYPES[ce.activity_type]
    hours = str(ce.hours)
    facts = (
        Fact("Activity type", kind),
        Fact("Target audience", who[0].upper() + who[1:]),
        *(
            Fact(f"ACPE UAN, {AUDIENCES[a][1].lower()}", u, whole=True)
            for u in ce.uan
            if (a := uan_audience(u))
        ),
        Fact("Contact hours", f"{hours} ({_decimal_text(ce.hours / 10)} CEU)"),
        Fact("Release date", long_date(ce.release)),
        Fact("Expiration date", long_date(ce.expires)),
    ) + ((Fact("Planned by", _planners(ce, project)),) if ce.planners else ())
    return CeView(
        summary=f"{kind} continuing pharmacy education for {who}: {hours} contact hours. Credit, dates "
        "and disclosures are under Continuing Education at the end of this issue.",
        objectives=objectives,
        accreditation=f"{provider} is accredited by {ACPE} as a provider of continuing pharmacy education.",
        facts=facts,
        claim=claim,
        disclosures_intro="Everyone in control of the content of this activity (authors, planners and peer "
        "reviewers) disclosed all relevant financial relationships with ineligible companies of the past "
        "24 months:",
        disclosures=_disclosures(bundle, project, ce),
        off_label=off_label_statement(bundle, project) if bundle.issue.off_label else None,
        expires=ce.expires,
        expires_text=long_date(ce.expires),
    )


def _planners(ce: ContinuingEducation, project: Project) -> str:
    """The planners with their titles (the authors' and reviewers' are in the author team)."""
    people = (_entry_person(p, project) for p in ce.planners)
    return "; ".join(", ".join([p.name, *p.titles]) for p in people)


def _disclosures(bundle: Bundle, project: Project, ce: ContinuingEducation) -> tuple[DisclosureView, ...]:
    """One line per person in control of the content, in the order they are listed (authors, planners,
    reviewers), each with every role they hold."""
    entries = {(p.id or p.name): p for group in entries_in_control(bundle) for p in group}
    roles: dict[str, list[str]] = {}
    for key, _, role in people_in_control(bundle, project):
        if ROLE_NAMES[role] not in roles.setdefault(key, []):
            roles[key].append(ROLE_NAMES[role])
    said = {d.who: d.relationships for d in ce.disclosures}
    return tuple(
        DisclosureView(_entry_person(entries[key], project).name, _and(held), tuple(said.get(key, ())))
        for key, held in roles.items()
    )


def figure_numbers(bundle: Bundle) -> dict[str, int]:
    """Each markdown text that holds figures -> the number of its first figure: figures are numbered
    in reading order across the whole issue (bundle/outline.py)."""
    numbers: dict[str, int] = {}
    count = 0
    for text in markdown_texts(bundle):
        figures = markdown.scan(text.text).figures
        if figures:
            numbers.setdefault(text.text, count + 1)
            count += len(figures)
    return numbers


def _email_images(bundle: Bundle) -> IssueImages:
    """The issue's images, numbered in reading order: the email's image1 is the first one read."""
    images = IssueImages(bundle)
    for text in markdown_texts(bundle):
        for found in markdown.scan(text.text).images:
            images(found.value)
    return images


class _Texts:
    """Markdown -> Fragment (page HTML, plain text, email HTML) with this issue's citations."""

    def __init__(
        self,
        bibliography: Bibliography,
        callouts: dict[str, str],
        images: IssueImages,
        figures: dict[str, int],
    ) -> None:
        self.html = markdown.renderer(bibliography.cite_html, callouts, figures)
        self.plain = markdown.text_renderer(bibliography.cite_text, callouts, figures)
        self.email = EmailRenderer(bibliography.cite_unlinked, callouts, images, figures)
        self.html.tight_citations = self.email.tight_citations = bibliography.numbered

    def block(self, text: str) -> Fragment:
        return self._fragment(text, inline=False)

    def inline(self, text: str) -> Fragment:
        return self._fragment(text, inline=True)

    def _fragment(self, text: str, *, inline: bool) -> Fragment:
        return Fragment(
            Markup(self.html.render(text, inline=inline)),
            self.plain.render(text, inline=inline),
            Markup(self.email.render(text, inline=inline)),
        )


def issue_view(bundle: Bundle, project: Project, citations: Citations | None = None) -> IssueView:
    """The view model of one issue; `citations` keeps the citation engine's work between views
    (tablet preview's, made per save), none for a one-shot build."""
    from tablet_press.refs.engine import bibliography, reference_url, short_cite  # citeproc-py: when used

    config = project.config
    issue = bundle.issue
    style = issue.reference_style or config.reference_style
    references = bibliography(bundle.references, style, citation_order(bundle), citations)
    images = _email_images(bundle)
    texts = _Texts(references, config.callouts, images, figure_numbers(bundle))
    numbers = {entry.id: entry.number for entry in references.entries()}

    def study_view(study: Study) -> StudyView:
        ref = bundle.reference(study.ref)
        assert ref is not None  # validation guarantees it
        return StudyView(
            short_cite(ref),
            reference_url(ref),
            study.title or ref.heading,
            tuple(Bullet(label, texts.inline(t)) for _, label, t in study_bullets(study)),
            numbers[study.ref],
        )

    literature = tuple(
        GroupView(
            g.indication, tuple(study_view(s) for s in g.studies), texts.block(g.note) if g.note else None
        )
        for g in issue.literature
    )
    author_groups = _author_groups(bundle, project)
    bottom = [texts.inline(p) for p in issue.bottom_line]
    prose = {part: texts.block(p.text) for part, p in bundle.prose.items()}
    return IssueView(
        config=config,
        slug=bundle.slug,
        number=issue.number,
        date=issue.date,
        date_text=long_date(issue.date),
        title=issue.title,
        kicker="TODAY’S TOPIC",
        author_groups=author_groups,
        author_names=tuple(p.name for g in author_groups for p in g.people),
        keywords=tuple(config.topics[t].label for t in issue.topics),
        parts=_parts(bundle),
        prose=prose,
        pearls=tuple(texts.inline(p) for p in issue.pearls),
        literature=literature,
        bottom_line=tuple(bottom),
        references=tuple(
            # An entry links only to its DOI or URL, never in-page: the email shows it as the page does.
            ReferenceView(e.anchor, Fragment(Markup(e.html), e.text, Markup(e.html)))
            for e in references.entries()
        ),
        numbered_references=True,
        off_label_notice=OFF_LABEL_NOTICE if issue.off_label else None,
        reviewers=tuple(_entry_person(p, project) for p in issue.reviewed_by),
        ce=ce_view(bundle, project) if issue.ce is not None else None,
        subject=f"{subject_topic(issue.subject, issue.title)} | {config.newsletter.name} #{issue.number}",
        preheader=_preheader(bottom, prose),
        email_images=images.all(),
    )


def subject_topic(subject: str | None, title: str) -> str:
    """The topic the email's subject opens with: `subject:` of issue.yaml, else the title after its
    last colon (a title's lead-in, "The Newest Kid on the Block: ...", says nothing in an inbox)."""
    if subject is not None:
        return subject
    return title.rsplit(": ", 1)[-1].strip()


# A sentence ends at . ! or ? before a space and a capital or digit, unless the word is an abbreviation.
_SENTENCE_END = re.compile(r"(\S*)([.!?])\s+(?=[A-Z0-9“\"(])")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "vs", "dr", "al", "approx", "ca", "cf", "no", "fig"})


def first_sentence(text: str) -> str:
    """The first sentence of a plain text, whole."""
    text = " ".join(text.split())
    for found in _SENTENCE_END.finditer(text):
        word = found.group(1).lstrip("(").lower()
        if found.group(2) == "." and (word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", word)):
            continue
        return text[: found.end(2)]
    return text


def _preheader(bottom: list[Fragment], prose: dict[str, Fragment]) -> str:
    """The bottom line's first sentence (the first text's when an issue has no bottom line): what the
    issue concludes, never the title again, which the subject already shows."""
    first = bottom[0] if bottom else next(iter(prose.values()), None)
    return first_sentence(first.text) if first else ""


def _parts(bundle: Bundle) -> tuple[PartView, ...]:
    """The parts of the outline this issue has something in."""

    def has(name: str) -> bool:
        if name.endswith(".md"):
            return name.removesuffix(".md") in bundle.prose
        if name.endswith(".yaml"):  # references.yaml
            return bool(bundle.references)
        return bool(getattr(bundle.issue, name))  # a field of issue.yaml (`ce` for both CE parts)

    return tuple(
        PartView(part.key, part.heading) for part in OUTLINE if any(has(s.name) for s in part.sources)
    )


def tel_uri(number: str) -> str:
    """A tap-to-call link; ten-digit numbers are North American (the team's), others kept as written."""
    digits = "".join(c for c in number if c.isdigit())
    if number.startswith("+"):
        return f"tel:+{digits}"
    return f"tel:+1{digits}" if len(digits) == 10 else f"tel:{digits}"


_URL_LINK = re.compile(r"(<a\b[^>]*>)(https?://|doi:)([^<]+)(</a>)")


def breakable_links(html: str) -> Markup:
    """Links whose text is a URL or a DOI may break after a `/` or a `.` and nowhere else: a <wbr> after
    each, none inside the scheme (`https://`, `doi:`), kept whole (`.url-scheme`, nowrap in print.css)."""

    def breakable(found: re.Match[str]) -> str:
        start, scheme, rest, end = found.groups()
        rest = re.sub(r"([/.])(?=[^/.])", r"\1<wbr>", rest)
        return f'{start}<span class="url-scheme">{scheme}</span>{rest}{end}'

    return Markup(_URL_LINK.sub(breakable, str(html)))


def no_widow(text: str) -> Markup:
    """A heading whose last two words are joined, so that its last line never holds one word alone."""
    head, _, last = str(text).rpartition(" ")
    return Markup(f"{escape(head)}&nbsp;{escape(last)}") if head else Markup(escape(text))


def _is_html(name: str | None) -> bool:
    """Every template is autoescaped but the plain-text ones (`*.txt.j2`), which are not HTML."""
    return not (name or "").endswith(".txt.j2")


@cache
def environment(templates: tuple[Path, ...]) -> jinja2.Environment:
    """The one Jinja environment per list of template folders: autoescaped (plain-text templates
    excepted), strict about undefined names. The first folder holding a template wins (the project's,
    then tablet-press's defaults), and `default/NAME` always names the default one, so that a
    project's template can extend the template it overrides (pelican's ChoiceLoader + PrefixLoader)."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(folder) for folder in templates]
    loaders.append(jinja2.PrefixLoader({"default": jinja2.FileSystemLoader(templates[-1])}))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=_is_html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["tel"] = tel_uri
    env.filters["breakable_links"] = breakable_links
    env.filters["no_widow"] = no_widow
    env.globals["page_palette"] = page_values
    env.globals["web_font_family"] = web_font_family
    env.bytecode_cache = TemplateCache.for_environment(env)
    return env


class TemplateCache(jinja2.BytecodeCache):
    """Compiled templates kept between runs in the user's cache folder ($XDG_CACHE_HOME, else
    ~/.cache, then tablet-press/), so that a cold build does not compile every template again (Jinja's
    compiler: 30-130 ms a run).

    Safe as Python's own __pycache__ is: the folder is the user's own (made 0700; refused, and no
    cache used, when it is a link or someone else's), entries are written to a temporary file (0600)
    and renamed into place, and an entry is used only when it was made from the same template text
    (Jinja's checksum), by the same Jinja and Python, for an environment of the same settings (the
    folder's name). A damaged, unreadable or unwritable entry is a miss: the template is compiled as
    without a cache, and the cache never fails a build. No bundle file is ever compiled: templates
    are the project's and tablet-press's own."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def for_environment(cls, env: jinja2.Environment) -> TemplateCache | None:
        import hashlib
        import os
        import sys

        from tablet_press import __version__

        base = os.environ.get("XDG_CACHE_HOME") or ""
        if not os.path.isabs(base):  # the XDG rule: a relative path is ignored
            home = os.path.expanduser("~")
            if not os.path.isabs(home):
                return None
            base = os.path.join(home, ".cache")
        settings = repr(
            (
                __version__,
                jinja2.__version__,
                sys.version,
                env.trim_blocks,
                env.lstrip_blocks,
                env.keep_trailing_newline,
                env.newline_sequence,
                env.optimized,
                getattr(env.undefined, "__qualname__", ""),
                getattr(env.autoescape, "__qualname__", env.autoescape),
                sorted(env.extensions),
                sorted(env.filters),
                sorted(env.tests),
            )
        )
        digest = hashlib.sha256(settings.encode()).hexdigest()[:16]
        folder = Path(base) / "tablet-press" / f"templates-{digest}"
        return cls(folder) if _own_folder(folder) else None

    def _entry(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"{bucket.key}.jinja"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        import os

        try:
            handle = os.open(self._entry(bucket), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with open(handle, "rb") as entry:
                bucket.load_bytecode(entry)
        except Exception:  # missing, unreadable or damaged: compile as without a cache
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        import os
        import tempfile

        try:
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")  # 0600
            try:
                with open(handle, "wb") as entry:
                    bucket.write_bytecode(entry)
                os.replace(temporary, self._entry(bucket))
            except BaseException:
                os.unlink(temporary)
                raise
        except Exception:  # a full disk or a read-only home: the next run compiles again
            pass


def _own_folder(folder: Path) -> bool:
    """Make `folder` (and its parents) as the user's own, 0700; False unless it is a real folder
    owned by this user that nobody else can write (or when it cannot be made)."""
    import os
    import stat

    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        return False
    if stat.S_IMODE(info.st_mode) & 0o077:
        try:
            os.chmod(folder, 0o700)
        except OSError:
            return False
    return True


def template(project: Project, name: str) -> jinja2.Template:
    """The project's template `name`, else the default one; a clear BuildError if neither exists."""
    env = environment(look.folders(project, "templates"))
    try:
        return env.get_template(name)
    except jinja2.TemplateNotFound as exc:
        missing = exc.name if isinstance(exc.name, str) else name
        shown = " or ".join(str(folder) for folder in look.folders(project, "templates"))
        raise BuildError(f"the template {missing} was not found in {shown}") from None


def render(name: str, view: IssueView, project: Project, **extra: Any) -> str:
    """Render one template of the project with the issue's view."""
    return template(project, name).render(issue=view, **extra)
