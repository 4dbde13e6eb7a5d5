"""The schema: typed, frozen models of tablet.yaml, issue.yaml and references.yaml.

This file is the one source of truth for what a field is: validation, the JSON Schema that editors
use (`tablet schema`), the scaffold of a new issue and the field guide all come from it. Every field
carries a description written for the pharmacist who fills it in.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from tablet_press.inputrules import header_problem

ReferenceStyle = Literal["apa", "ama", "vancouver"]
FontFamily = Literal["Source Sans Pro", "Source Serif Pro"]
TopicKind = Literal["drug", "drug-class", "indication", "symptom", "topic"]


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _one_header_line(value: str) -> str:
    problem = header_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _whole_number(value: Any) -> Any:
    if isinstance(value, str):
        if re.fullmatch(r"[1-9][0-9]*|0", value):
            return int(value)
        if re.fullmatch(r"0[0-9]+", value):
            raise ValueError(f"'{value}' has a leading zero; write {int(value)}")
        raise ValueError(f"'{value}' is not a whole number")
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(f"'{value}' is not a date; write it as YYYY-MM-DD, e.g. 2025-07-01")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a real calendar date") from None
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        raise ValueError(f"'{value}' is not true or false; write true or false")
    return value


_PARTIAL_DATE = r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?"


def _partial_date(value: str) -> str:
    if not re.fullmatch(f"{_PARTIAL_DATE}(/{_PARTIAL_DATE})?", value):
        raise ValueError(
            f"'{value}' is not a publication date; write YYYY, YYYY-MM or YYYY-MM-DD, "
            "or a range such as 2009-05/2009-06"
        )
    for part in value.split("/"):
        if len(part) == 10:
            _iso_date(part)
    return value


Text = Annotated[str, Field(strict=True), AfterValidator(_text)]
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
Id = Annotated[
    str,
    Field(
        strict=True,
        pattern=ID_PATTERN,
        description="A short identifier: letters, digits, '-', '_', '.', ':'.",
    ),
]
WholeNumber = Annotated[int, BeforeValidator(_whole_number), Field(ge=0)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Boolean = Annotated[bool, BeforeValidator(_boolean)]
Email = Annotated[str, Field(strict=True, pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")]
Phone = Annotated[str, Field(strict=True, pattern=r"^\+?[0-9][0-9 ().-]{5,}[0-9]$")]
Colour = Annotated[str, Field(strict=True, pattern=r"^#[0-9A-Fa-f]{6}$", description="A colour as #RRGGBB.")]
PartialDate = Annotated[str, Field(strict=True), AfterValidator(_partial_date)]
HttpsUrl = Annotated[str, Field(strict=True, pattern=r"^https://[^\s/$.?#][^\s]*$")]
# An unsubscribe address goes into the List-Unsubscribe header between <...>, comma-separated: none
# of space, '<', '>', ',', quotes or control characters (RFC 2369), and no encoded word.
UnsubscribeUrl = Annotated[
    str,
    Field(
        strict=True,
        pattern=r"^(mailto:[^\s<>,\"@]+@[^\s<>,\"@]+\.[A-Za-z]{2,}(\?[^\s<>,\"]*)?|https://[^\s/$.?#<>,\"][^\s<>,\"]*)$",
        description="A mailto: address or an https:// URL.",
    ),
]
# The subject's topic part: a phone's inbox shows about 40 characters of the subject line.
MAX_SUBJECT = 40
# Fields that reach an email header (the Subject, the From line) or may (the authors' names): one line,
# no encoded words. See inputrules.header_problem.
HeaderText = Annotated[Text, AfterValidator(_one_header_line)]
HeaderEmail = Annotated[Email, AfterValidator(_one_header_line)]
Markdown = Annotated[str, Field(strict=True, description="Markdown text."), AfterValidator(_text)]
Abbreviation = Annotated[
    str,
    Field(
        strict=True,
        pattern=r"^[A-Za-z][A-Za-z0-9]*$",
        description="An abbreviation as written in the text, e.g. FDA.",
    ),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


# ---------------------------------------------------------------- people


class Contact(Model):
    cell: Phone | None = Field(None, description="Mobile number, shown as a tap-to-call link.")
    office: Phone | None = Field(None, description="Office number, shown as a tap-to-call link.")
    email: Email | None = Field(None, description="Email address, shown as a mailto: link.")


class Person(Model):
    name: HeaderText = Field(description="Full name as printed, without credentials, e.g. 'Aditi J. Reis'.")
    credentials: list[HeaderText] = Field([], description="Degrees and certifications, e.g. [PharmD, BCPS].")
    titles: list[Text] = Field([], description="Title and affiliation lines, one per line as printed.")
    role: Id | None = Field(None, description="Default role (a key of `roles` in tablet.yaml).")
    contact: Contact | None = Field(None, description="Phone numbers and email shown with the name.")


class AuthorEntry(Model):
    """An issue's author: a team member by `id`, or a one-off guest written out inline."""

    id: Id | None = Field(None, description="Key of a person in the `team` of tablet.yaml.")
    role: Id | None = Field(None, description="Key of `roles` in tablet.yaml; defaults to the person's role.")
    name: HeaderText | None = Field(None, description="For a one-off guest: full name without credentials.")
    credentials: list[HeaderText] = Field([], description="For a one-off guest: degrees and certifications.")
    titles: list[Text] = Field([], description="For a one-off guest: title and affiliation lines.")
    contact: Contact | None = Field(None, description="For a one-off guest: phone numbers and email.")

    @model_validator(mode="after")
    def _one_form(self) -> AuthorEntry:
        if self.id is None and self.name is None:
            raise ValueError("an author needs either 'id' (a team member) or 'name' (a guest)")
        if self.id is not None and (self.name or self.credentials or self.titles or self.contact):
            raise ValueError(
                "an author with 'id' takes its name, titles and contact from tablet.yaml; "
                "remove the inline fields or the id"
            )
        return self


class PersonEntry(Model):
    """A person named by an issue who is not an author (a peer reviewer, a CE planner): a team member
    by `id`, or written out inline."""

    id: Id | None = Field(None, description="Key of a person in the `team` of tablet.yaml.")
    name: HeaderText | None = Field(
        None, description="For someone not in the team: full name without credentials."
    )
    credentials: list[HeaderText] = Field(
        [], description="For someone not in the team: degrees and certifications."
    )
    titles: list[Text] = Field([], description="For someone not in the team: title and affiliation lines.")

    @model_validator(mode="after")
    def _one_form(self) -> PersonEntry:
        if self.id is None and self.name is None:
            raise ValueError("a person needs either 'id' (a team member) or 'name' (written out here)")
        if self.id is not None and (self.name or self.credentials or self.titles):
            raise ValueError(
                "a person with 'id' takes their name and titles from tablet.yaml; "
                "remove the inline fields or the id"
            )
        return self


# ---------------------------------------------------------------- tablet.yaml


class Sender(Model):
    name: HeaderText = Field(description="Name shown in the email's From line.")
    email: HeaderEmail = Field(description="Address the email is sent from.")


class Newsletter(Model):
    name: HeaderText = Field(description="The newsletter's name, e.g. 'The Tablet'.")
    tagline: Text | None = Field(None, description="One line under the name in the masthead.")
    organisation: Text = Field(description="The publishing organisation.")
    section: Text = Field(description="The service or section, e.g. 'Palliative Care'.")
    language: Annotated[str, Field(strict=True, pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = Field(
        "en-US", description="Language tag of the text, e.g. en-US."
    )
    sender: Sender = Field(description="Who the email comes from.")
    base_url: HttpsUrl | None = Field(None, description="Where the archive is published (https://...).")
    reason: Text | None = Field(
        None,
        description="Why the reader gets the email, shown in its footer, e.g. 'You receive The Tablet as "
        "a member of the palliative care team.'; leave out for 'You receive it because you are on its "
        "distribution list.'",
    )
    list_unsubscribe: (
        Annotated[
            list[Annotated[UnsubscribeUrl, AfterValidator(_one_header_line)]],
            Field(min_length=1, max_length=2),
        ]
        | None
    ) = Field(
        None,
        description="How a reader leaves the list: a mailto: address and/or an https:// URL that "
        "unsubscribes with one click (RFC 8058). Sets the email's List-Unsubscribe header and shows the "
        "link in its footer.",
    )


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class Smtp(Model):
    """How `tablet send` reaches the organisation's mail relay. The password is never here."""

    host: Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9.:-]+$")] = Field(
        description="The mail relay's host name, e.g. smtp.example.org."
    )
    port: Annotated[WholeNumber, Field(ge=1, le=65535)] | None = Field(
        None, description="Its port (default: 587 for starttls, 465 for tls, 25 for none)."
    )
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls",
        description="starttls (port 587), tls (implicit TLS, port 465), or none: only for a relay on "
        "this computer (localhost), since the password and the list would cross the network in clear.",
    )
    user: HeaderText | None = Field(
        None,
        description="The login name, when the relay needs one. The password comes from the environment "
        "variable named by password_env, else the system keyring (service 'tablet-press:HOST', this user); "
        "never from a file in the project.",
    )
    password_env: Annotated[str, Field(strict=True, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] = Field(
        "TABLET_SMTP_PASSWORD", description="The environment variable that holds the password."
    )
    per_minute: Annotated[WholeNumber, Field(ge=1, le=6000)] = Field(
        30, description="At most this many messages a minute (one message per recipient)."
    )
    timeout: Annotated[WholeNumber, Field(ge=1, le=600)] = Field(
        60, description="Seconds to wait for the relay before giving up."
    )
    test_to: list[HeaderEmail] = Field(
        [], description="The addresses `tablet send --test` sends to (and the only ones it will)."
    )

    @model_validator(mode="after")
    def _clear_text_only_here(self) -> Smtp:
        if self.security == "none" and self.host not in LOCAL_HOSTS:
            raise ValueError(
                f"security: none sends the password and the recipients in clear, so it is allowed only "
                f"for a relay on this computer ({', '.join(LOCAL_HOSTS)}), not {self.host}; use "
                "starttls or tls"
            )
        return self

    @property
    def port_number(self) -> int:
        return self.port or {"starttls": 587, "tls": 465, "none": 25}[self.security]


class Colours(Model):
    primary: Colour = Field(description="Masthead and headings.")
    accent: Colour = Field(description="Rules, links and highlights.")
    text: Colour = Field(description="Body text.")
    muted: Colour = Field(description="Secondary text: affiliations, captions.")
    sidebar: Colour = Field(description="Background of the author sidebar.")
    callout: Colour = Field(description="Background of callout boxes.")


class Fonts(Model):
    body: FontFamily = Field(description="Font of the body text (ships with the project).")
    headings: FontFamily = Field(description="Font of the masthead and headings (ships with the project).")


class Brand(Model):
    logo: Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9_./-]+\.(svg|png)$")] = Field(
        description="Path of the logo inside the project's brand/ folder (SVG preferred)."
    )
    logo_alt: Text = Field(description="Text read out and shown instead of the logo.")
    colours: Colours
    fonts: Fonts


class Topic(Model):
    label: Text = Field(description="How the topic is shown.")
    kind: TopicKind = Field(description="drug, drug-class, indication, symptom or topic.")


class RoleLabel(Model):
    """A role's heading in its two forms: one person is a "Guest Author", two are "Guest Authors"."""

    one: Text = Field(description="The heading over one person of this role.")
    many: Text = Field(description="The heading over two or more.")


class CallForTopics(Model):
    text: Text = Field(description="The invitation printed in the sidebar.")
    email: Email = Field(description="Where suggestions go.")


class Archive(Model):
    archived_after_years: Annotated[WholeNumber, Field(ge=1, le=100)] | None = Field(
        3,
        description='Issues older than this many years are labelled "Archived" on their archive page '
        "and in the index (the archive exception of the ADA Title II rule asks for the label); null: never.",
    )


class ContinuingEducationDefaults(Model):
    """Continuing education: what every CE activity of the newsletter shares (an issue may override)."""

    provider: Text | None = Field(
        None,
        description="The ACPE-accredited provider, e.g. 'University of Pittsburgh School of Pharmacy'; "
        "printed in the accreditation statement.",
    )
    claim: Text | None = Field(
        None,
        description="How a reader claims credit, e.g. 'Pass the post-test at https://ce.example.org "
        "with 70% or more; credit is reported to CPE Monitor within 60 days.'",
    )


class Config(Model):
    """tablet.yaml: the newsletter itself, shared by every issue."""

    newsletter: Newsletter
    brand: Brand
    team: dict[Id, Person] = Field(description="The team: people that issues name by id.")
    roles: dict[Id, Text | RoleLabel] = Field(
        description="Author roles and the heading each is listed under: `one:` and `many:` for one "
        "person and for more (Guest Author, Guest Authors), or one text for any number."
    )
    call_for_topics: CallForTopics
    reference_style: ReferenceStyle = Field("apa", description="apa, ama or vancouver.")
    disclaimer: Text = Field(description="The standing disclaimer printed in every issue.")
    callouts: dict[Id, Text] = Field(description="Callout kinds for `::: kind` blocks and their labels.")
    topics: dict[Id, Topic] = Field(description="The controlled topic vocabulary of the archive.")
    smtp: Smtp | None = Field(None, description="The mail relay `tablet send` uses.")
    archive: Archive = Field(Archive(), description="The archive site (`tablet archive`).")
    retractions: Text | None = Field(
        None,
        description="A local copy of the Retraction Watch database as Crossref distributes it "
        "(retraction_watch.csv), relative to this file, e.g. data/retraction_watch.csv: validate then "
        "warns about every reference that was retracted, corrected or given an expression of concern.",
    )
    ce: ContinuingEducationDefaults = Field(
        ContinuingEducationDefaults(),
        description="Defaults for the continuing-education block of issues (`ce:` in issue.yaml).",
    )
    glossary: dict[Abbreviation, Text] = Field(
        {},
        description="Abbreviations every reader knows, with their meaning (FDA: US Food and Drug "
        "Administration): the text may use these without defining them first.",
    )

    def role_heading(self, role: str, people: int) -> str:
        """The heading over `people` authors of `role`, singular for one."""
        label = self.roles[role]
        return label if isinstance(label, str) else label.one if people == 1 else label.many

    @model_validator(mode="after")
    def _team_roles_exist(self) -> Config:
        for key, person in self.team.items():
            if person.role is not None and person.role not in self.roles:
                raise ValueError(f"team member '{key}' has role '{person.role}', which is not in roles")
        return self


# ---------------------------------------------------------------- issue.yaml


class Study(Model):
    """One study in the literature review, summarised in the author's words."""

    ref: Id = Field(description="Id of the study's entry in references.yaml.")
    title: Text | None = Field(
        None,
        description="The heading as the author wrote it; leave out to print "
        "the reference's title (validate warns when they differ).",
    )
    summary: list[Text] = Field([], description="Bullets as written, e.g. the design and population.")
    design: Text | None = Field(None, description="Design, e.g. 'Randomized, double-blind, crossover'.")
    n: WholeNumber | None = Field(None, description="Number of participants.")
    population: Text | None = Field(None, description="Who was studied.")
    intervention: Text | None = Field(None, description="Intervention and dose.")
    duration: Text | None = Field(None, description="Study duration.")
    outcomes: Text | None = Field(None, description="Outcomes measured (printed as 'Outcomes: ...').")
    methods: Text | None = Field(None, description="Methods worth noting (printed as 'Methods: ...').")
    results: Text | None = Field(None, description="Results (printed as 'Results: ...').")

    @model_validator(mode="after")
    def _says_something(self) -> Study:
        if not (self.summary or self.design or self.outcomes or self.results):
            raise ValueError("a study needs at least a summary, design, outcomes or results")
        return self


class IndicationGroup(Model):
    indication: Text = Field(description="The indication heading, e.g. 'Fibromyalgia'.")
    studies: list[Study] = Field(min_length=1, description="Studies for this indication, in order.")
    note: Markdown | None = Field(None, description="Markdown printed after the studies (may hold callouts).")


class Correction(Model):
    """A dated correction to an issue that was already published."""

    date: IsoDate = Field(description="When the correction was made, YYYY-MM-DD.")
    text: Text = Field(description="What was corrected, as readers should see it.")


# ---------------------------------------------------------------- continuing education (ce:)

ActivityType = Literal["knowledge", "application", "practice"]


def _hours(value: Any) -> Any:
    """Contact hours as written: digits with an optional decimal part, kept exactly (never a float)."""
    if isinstance(value, str):
        if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
            raise ValueError(f"'{value}' is not a number of hours; write it as e.g. 1 or 1.5")
        return Decimal(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


Hours = Annotated[
    Decimal,
    BeforeValidator(_hours),
    Field(strict=True),
    WithJsonSchema({"type": ["number", "string"], "pattern": r"^[0-9]+(\.[0-9]{1,2})?$"}),
]


def _none_or_list(value: Any) -> Any:
    if isinstance(value, str):
        if value.strip().casefold() == "none":
            return []
        raise ValueError(
            f"'{value}' is neither 'none' nor a list; write none, or one '- ' line per relationship"
        )
    if isinstance(value, list) and not value:
        raise ValueError("an empty list says nothing: write none when there is nothing to disclose")
    return value


Relationships = Annotated[
    list[Text],
    BeforeValidator(_none_or_list),
    WithJsonSchema(
        {
            "anyOf": [
                {"const": "none"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        }
    ),
]


class Objectives(Model):
    """Learning objectives, per audience: each UAN's audience (P, T) needs its list."""

    pharmacists: list[Text] = Field(
        [], description="What a pharmacist will be able to do after the activity, one per line."
    )
    technicians: list[Text] = Field(
        [], description="What a pharmacy technician will be able to do after the activity, one per line."
    )


class Disclosure(Model):
    """The relevant financial relationships of one person in control of the content, past 24 months."""

    who: Text = Field(
        description="The person: a team id (as in authors: or planners:), or the name as written for "
        "someone written out inline."
    )
    relationships: Relationships = Field(
        description="'none', or each relevant financial relationship of the past 24 months, one per line "
        "(e.g. 'Advisory board: Acme Pharma (ended 2025-03)')."
    )


class ContinuingEducation(Model):
    """An ACPE-accredited continuing pharmacy education activity carried by the issue."""

    uan: list[Text] = Field(
        min_length=1,
        description="ACPE Universal Activity Number(s), one per audience: 0000-0000-00-000-H00-P "
        "(provider, 0000 or 9999 for joint providership, year, sequence, L/H/B with the topic "
        "designator, P for pharmacists or T for pharmacy technicians).",
    )
    activity_type: ActivityType = Field(description="ACPE activity type: knowledge, application or practice.")
    hours: Hours = Field(description="Contact hours, at most two decimals, e.g. 1 or 1.25.")
    release: IsoDate = Field(description="Release date, YYYY-MM-DD: on or after the issue's date.")
    expires: IsoDate = Field(
        description="Expiration date, YYYY-MM-DD: after release, at most three years later."
    )
    objectives: Objectives = Field(description="Learning objectives for each audience the UANs name.")
    provider: Text | None = Field(
        None, description="The accredited provider; default: ce.provider in tablet.yaml."
    )
    claim: Text | None = Field(None, description="How to claim credit; default: ce.claim in tablet.yaml.")
    planners: list[PersonEntry] = Field([], description="The activity's planners besides the authors.")
    disclosures: list[Disclosure] = Field(
        min_length=1,
        description="One entry for every author, planner and peer reviewer (reviewed_by), 'none' stated "
        "explicitly.",
    )
    off_label_statement: Text | None = Field(
        None,
        description="The statement printed when the issue discusses off-label or investigational use "
        "(off_label: true); leave out for one made from the issue's topics.",
    )


ARCHIVED_PDF = "archived-pdf"
# What a back-catalog issue may hold besides its metadata: nothing of the article, which is its PDF.
_ARTICLE_FIELDS = (
    "subject",
    "reference_style",
    "off_label",
    "reviewed_by",
    "pearls",
    "literature",
    "bottom_line",
    "ce",
)


def _issue_schema(schema: dict[str, Any]) -> None:
    """The JSON Schema says what the model's validator says: authors are required (at least one) in an
    issue written here, and only the metadata is allowed in a back-catalog issue."""
    schema["if"] = {"properties": {"kind": {"const": ARCHIVED_PDF}}, "required": ["kind"]}
    schema["then"] = {"not": {"anyOf": [{"required": [field]} for field in _ARTICLE_FIELDS]}}
    schema["else"] = {"required": ["authors"], "properties": {"authors": {"minItems": 1}}}


class Issue(Model):
    """issue.yaml: the structured parts of one issue."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=False, json_schema_extra=_issue_schema
    )

    kind: Literal["issue", "archived-pdf"] = Field(
        "issue",
        description="issue (the default): an issue written here, typeset by tablet. archived-pdf: a past "
        "issue from the back catalog, as it was sent; its text is the original PDF in "
        "published/<slug>.pdf (written and recorded by `tablet import PAST.pdf`), so it holds only the "
        "metadata: number, date, title, topics, authors (optional), summary and corrections.",
    )
    number: WholeNumber = Field(description="Issue number.")
    date: IsoDate = Field(description="Publication date, YYYY-MM-DD.")
    title: HeaderText = Field(description="Today's topic: the issue's title.")
    subject: Annotated[HeaderText, Field(max_length=MAX_SUBJECT)] | None = Field(
        None,
        description=f"The topic as the email's subject opens with it (at most {MAX_SUBJECT} characters, "
        "what a phone's inbox shows), e.g. 'Low-dose naltrexone for pain'; '| <newsletter> #<number>' "
        "follows. Leave out to use the title after its colon.",
    )
    topics: list[Id] = Field([], description="Topic tags from the vocabulary in tablet.yaml.")
    reference_style: ReferenceStyle | None = Field(None, description="Overrides tablet.yaml for this issue.")
    off_label: Boolean = Field(False, description="true when the issue discusses off-label use.")
    authors: list[AuthorEntry] = Field(
        [], description="The author team, in order (required, at least one, except in a back-catalog issue)."
    )
    reviewed_by: list[PersonEntry] = Field(
        [], description="Peer reviewers: team members by id, or written out inline like a guest author."
    )
    pearls: list[Text] = Field([], description="Clinical pearls, one bullet each (markdown allowed).")
    literature: list[IndicationGroup] = Field([], description="The literature review by indication.")
    bottom_line: list[Text] = Field([], description="Bottom-line bullets (markdown allowed).")
    summary: Text | None = Field(
        None, description="One line for the archive's list; leave out to use the background's first sentence."
    )
    corrections: list[Correction] = Field(
        [], description="Corrections made after publication, each dated; shown on the issue's page and feed."
    )
    ce: ContinuingEducation | None = Field(
        None, description="The continuing-education activity the issue carries, if any."
    )

    @model_validator(mode="after")
    def _kind_fits(self) -> Issue:
        if self.kind == ARCHIVED_PDF:
            given = [f for f in _ARTICLE_FIELDS if f in self.model_fields_set]
            if given:
                raise ValueError(
                    f"a back-catalog issue (kind: {ARCHIVED_PDF}) is its original PDF, so it has no "
                    f"{', '.join(repr(f) for f in given)}; remove {'it' if len(given) == 1 else 'them'}"
                )
        elif not self.authors:
            raise ValueError(
                "missing required field 'authors' (the author team, at least one); only a back-catalog "
                f"issue (kind: {ARCHIVED_PDF}) may leave it out"
            )
        return self

    @property
    def archived_pdf(self) -> bool:
        return self.kind == ARCHIVED_PDF


# ---------------------------------------------------------------- references.yaml

ReferenceType = Literal["article-journal", "book", "chapter", "report", "webpage", "document"]
# Types whose date may be left out: a living web page or document has no single date of publication
# (the styles print the accessed date instead, which these then need).
UNDATED_TYPES = frozenset({"webpage", "document"})
# The last entry of `author` when the work lists more authors than the record does (BibTeX "and others").
MORE_AUTHORS = "et al."
_MORE_AUTHORS_SPELLINGS = {"others", "et al", "et al.", "et. al.", "etal", "et alii", "and others"}


def _authors(names: list[str]) -> list[str]:
    for i, name in enumerate(names):
        spelled = " ".join(name.casefold().split())
        if spelled in _MORE_AUTHORS_SPELLINGS and (name != MORE_AUTHORS or i != len(names) - 1):
            raise ValueError(
                f"'{name}' is not an author: write more authors not listed as '{MORE_AUTHORS}', "
                "after the last author named"
            )
    if names and names[0] == MORE_AUTHORS:
        raise ValueError(f"'{MORE_AUTHORS}' needs at least one author named before it")
    return names


def _iso_day_text(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"'{value}' is not a date; write it as YYYY-MM-DD, e.g. 2025-07-21")
    return value


def _real_day(value: str) -> str:
    _iso_date(value)
    return value


IsoDay = Annotated[str, Field(strict=True), BeforeValidator(_iso_day_text), AfterValidator(_real_day)]


# What an unstructured reference (one with `text:`) may hold besides its text.
UNSTRUCTURED_FIELDS = frozenset({"id", "text", "DOI", "PMID", "URL"})


class Reference(Model):
    """One reference, stored once as CSL-JSON fields; every printed form is generated from it. Or,
    when its fields are not known, an unstructured reference: the entry as written in `text`."""

    # Editors see the one rule the fields cannot say alone: text, or author and title.
    model_config = ConfigDict(
        **Model.model_config,
        json_schema_extra={"anyOf": [{"required": ["text"]}, {"required": ["author", "title"]}]},
    )

    id: Id = Field(description="Citation key used in [@key] and in studies' `ref`.")
    text: Markdown | None = Field(
        None,
        description="An unstructured reference: the whole entry as written, printed as it is in every "
        "style (*italics* allowed), for an entry whose authors, title and journal are not known as "
        "fields. It takes only id, DOI, PMID and URL beside it, and validate warns "
        "[unstructured-reference] until it is written out as fields.",
    )
    type: ReferenceType = Field(
        "article-journal",
        description="CSL type of the work: article-journal (also a guideline or position statement "
        "published in a journal), book, chapter (in an edited book), report (a report or guideline "
        "document from an organisation), webpage (a page that may change, e.g. a living guideline), "
        "document (any other stand-alone document).",
    )
    author: Annotated[list[Text], AfterValidator(_authors)] = Field(
        [],
        description="Authors as 'Family, Given' (an organisation without a comma), in order; end "
        f"with '{MORE_AUTHORS}' when the work lists more authors than these. Required unless `text`.",
    )
    title: Text | None = Field(
        None, description="Title of the article or work, as published. Required unless `text`."
    )
    container_title: Text | None = Field(
        None,
        alias="container-title",
        description="Journal, full name; for a chapter, the book's title; for a web page, the website.",
    )
    container_title_short: Text | None = Field(
        None, alias="container-title-short", description="Journal, NLM abbreviation, e.g. 'Pain Med'."
    )
    editor: Annotated[list[Text], AfterValidator(_authors)] = Field(
        [], description="Editors of the book a chapter is in, as 'Family, Given', in order."
    )
    edition: Text | None = Field(None, description="Edition of a book, e.g. '5' (not the first).")
    collection_title: Text | None = Field(
        None, alias="collection-title", description="Series the work is part of, e.g. a report series."
    )
    genre: Text | None = Field(
        None, description="What kind of document, when the title does not say, e.g. 'Position statement'."
    )
    publisher: Text | None = Field(
        None, description="Publisher of a book, report, document or web page, e.g. 'Oxford University Press'."
    )
    publisher_place: Text | None = Field(
        None, alias="publisher-place", description="Where the publisher is, e.g. 'New York, NY'."
    )
    issued: PartialDate | None = Field(
        None,
        description="Publication date: YYYY, YYYY-MM, YYYY-MM-DD or a range A/B. A web page or "
        "document without a date of its own may leave it out if it has `accessed`.",
    )
    accessed: IsoDay | None = Field(
        None, description="When you read a web page or online document, YYYY-MM-DD (printed with its URL)."
    )
    volume: Text | None = None
    issue: Text | None = None
    page: (
        Annotated[str, Field(strict=True, pattern=r"^[A-Za-z]?\d+[A-Za-z]?([-–][A-Za-z]?\d+[A-Za-z]?)?$")]
        | None
    ) = Field(None, description="Page range, e.g. 663-672.")
    article_number: Text | None = Field(
        None, alias="article-number", description="E-locator, e.g. e1080; for a report, its number."
    )
    DOI: Text | None = Field(
        None, description="DOI without https://doi.org/, e.g. 10.1097/PR9.0000000000001080."
    )
    PMID: Text | None = Field(None, description="PubMed id, digits only.")
    URL: HttpsUrl | None = Field(None, description="Web address, for works without a DOI.")

    @property
    def unstructured(self) -> bool:
        """Whether the record is an entry as written (`text`), not fields."""
        return self.text is not None

    @property
    def heading(self) -> str:
        """The work's title, or for an unstructured reference its text."""
        return self.title if self.title is not None else self.text or ""

    @model_validator(mode="after")
    def _dated(self) -> Reference:
        if self.text is not None:
            extra = sorted(
                (Reference.model_fields[k].alias or k) for k in self.model_fields_set - UNSTRUCTURED_FIELDS
            )
            if extra:
                raise ValueError(
                    f"a reference with `text` (an entry as written) takes only id, DOI, PMID and URL "
                    f"beside it, not {', '.join(extra)}: write the entry either as text or as fields"
                )
            return self
        if not self.author:
            raise ValueError("a reference needs `author` (or, for an entry as written, `text`)")
        if self.title is None:
            raise ValueError("a reference needs `title` (or, for an entry as written, `text`)")
        if self.issued is None and self.type not in UNDATED_TYPES:
            raise ValueError(f"a reference of type {self.type} needs `issued`, its date of publication")
        if self.issued is None and self.accessed is None:
            raise ValueError(
                f"a {self.type} without `issued` needs `accessed`, the date you read it (YYYY-MM-DD)"
            )
        if self.accessed is not None and self.URL is None and self.DOI is None:
            raise ValueError("`accessed` is the date a URL was read: add the URL, or remove `accessed`")
        return self


class References(Model):
    references: list[Reference] = Field([], description="Every reference of the issue.")
