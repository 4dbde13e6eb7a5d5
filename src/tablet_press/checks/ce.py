"""The continuing-education block (`ce:` of issue.yaml) and the people it names, against the rules an
ACPE-accredited activity must meet in the material itself: every problem at once, each at the field.

The UAN format enforced is the one ACPE assigns (docs/guide.md, "Continuing education", gives the
sources): `PPPP-JJJJ-YY-NNN-DTT-A`, four digits of provider, four of joint providership (0000 sole,
9999 joint), two of year, three of sequence, the delivery letter (L live, H home study, B blended)
with the two-digit topic designator, and the audience: P pharmacists, T pharmacy technicians.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.model import AuthorEntry, ContinuingEducation, PersonEntry
from tablet_press.bundle.project import Project
from tablet_press.errors import Problem, did_you_mean

UAN = re.compile(r"^(\d{4})-(\d{4})-(\d{2})-(\d{3})-([LHB])(\d{2})-([PT])$")
UAN_HINT = (
    "write it as ACPE assigned it, e.g. 0121-0000-25-041-H01-P: provider, 0000 (or 9999 if jointly "
    "provided), year, sequence, L/H/B and the topic designator, then P (pharmacists) or T (technicians)"
)
# The UAN's last letter -> the field of `objectives` for that audience, and how it is printed.
AUDIENCES = {"P": ("pharmacists", "Pharmacists"), "T": ("technicians", "Pharmacy technicians")}
MAX_YEARS = 3


def uan_audience(uan: str) -> str | None:
    """'P' or 'T' for a well-formed UAN, else None."""
    found = UAN.match(uan)
    return found.group(7) if found else None


def years_after(day: date, years: int) -> date:
    """The same day `years` later (28 February for a 29 February in a year that has none)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def entries_in_control(bundle: Bundle) -> tuple[list[AuthorEntry | PersonEntry], ...]:
    """The issue's authors, CE planners and peer reviewers, as written."""
    issue = bundle.issue
    return (
        list[AuthorEntry | PersonEntry](issue.authors),
        list[AuthorEntry | PersonEntry](issue.ce.planners if issue.ce else []),
        list[AuthorEntry | PersonEntry](issue.reviewed_by),
    )


def people_in_control(bundle: Bundle, project: Project) -> list[tuple[str, str, str]]:
    """Everyone in control of the content, as (key a disclosure names them by, field, role): each
    author, CE planner and peer reviewer; a team member's key is their id, anyone else's their name."""
    out: list[tuple[str, str, str]] = []
    authors, planners, reviewers = entries_in_control(bundle)
    groups: list[tuple[str, str, list[AuthorEntry | PersonEntry]]] = [
        ("authors", "author", authors),
        ("ce.planners", "planner", planners),
        ("reviewed_by", "reviewer", reviewers),
    ]
    for field, role, people in groups:
        for i, person in enumerate(people):
            key = person.id if person.id is not None else person.name
            if key is not None:
                out.append((key, f"{field}[{i}]", role))
    return out


def check_people(bundle: Bundle, project: Project) -> Iterator[Problem]:
    """Peer reviewers and CE planners named by id are members of the team."""
    src, team = bundle.issue_source, project.config.team
    lists: list[tuple[tuple[str, ...], list[PersonEntry]]] = [
        (("reviewed_by",), list(bundle.issue.reviewed_by))
    ]
    if bundle.issue.ce is not None:
        lists.append((("ce", "planners"), list(bundle.issue.ce.planners)))
    for path, people in lists:
        for i, person in enumerate(people):
            if person.id is not None and person.id not in team:
                yield src.problem(
                    (*path, i, "id"),
                    f"no team member '{person.id}' in tablet.yaml",
                    hint=did_you_mean(person.id, team)
                    or "add them to team: in tablet.yaml or write them out with name:",
                )


def check_ce(bundle: Bundle, project: Project) -> Iterator[Problem]:
    """Every rule of the `ce:` block, when the issue has one."""
    ce = bundle.issue.ce
    if ce is None:
        return
    yield from _uans(bundle, ce)
    yield from _dates(bundle, ce)
    yield from _hours(bundle, ce)
    yield from _disclosures(bundle, project, ce)
    src, defaults = bundle.issue_source, project.config.ce
    for name, what in (("provider", "the accredited provider"), ("claim", "how to claim credit")):
        if getattr(ce, name) is None and getattr(defaults, name) is None:
            yield src.problem(
                ("ce",),
                f"the CE block does not say {what}",
                key=True,
                field=("ce", name),
                hint=f"add {name}: under ce: here, or under ce: in tablet.yaml for every issue",
            )
    if ce.off_label_statement is not None and not bundle.issue.off_label:
        yield src.problem(
            ("ce", "off_label_statement"),
            "an off-label statement, but the issue does not say it discusses off-label use",
            hint="set off_label: true in issue.yaml, or remove the statement",
        )


def _uans(bundle: Bundle, ce: ContinuingEducation) -> Iterator[Problem]:
    src = bundle.issue_source
    seen: dict[str, int] = {}
    for i, uan in enumerate(ce.uan):
        audience = uan_audience(uan)
        if audience is None:
            yield src.problem(
                ("ce", "uan", i), f"'{uan}' is not an ACPE universal activity number", hint=UAN_HINT
            )
            continue
        if audience in seen:
            yield src.problem(
                ("ce", "uan", i),
                f"a second UAN for {AUDIENCES[audience][1].lower()} (also uan[{seen[audience]}]); "
                "an activity has one UAN per audience",
            )
        seen.setdefault(audience, i)
        field, label = AUDIENCES[audience]
        if not getattr(ce.objectives, field):
            yield src.problem(
                ("ce", "objectives"),
                f"'{uan}' is for {label.lower()}, but there are no learning objectives for them",
                key=True,
                field=("ce", "objectives", field),
                hint=f"add {field}: under ce.objectives, one objective per line",
            )
    if all(uan_audience(u) for u in ce.uan):  # a malformed UAN says nothing of its audience
        for audience, (field, label) in AUDIENCES.items():
            if getattr(ce.objectives, field) and audience not in seen:
                yield src.problem(
                    ("ce", "objectives", field),
                    f"objectives for {label.lower()}, but no UAN ends in -{audience}",
                    key=True,
                    hint=f"add the activity's UAN for {label.lower()} (ending -{audience}), or remove "
                    "these objectives",
                )


def _dates(bundle: Bundle, ce: ContinuingEducation) -> Iterator[Problem]:
    src, issued = bundle.issue_source, bundle.issue.date
    if ce.release < issued:
        yield src.problem(
            ("ce", "release"),
            f"the activity is released on {ce.release.isoformat()}, before the issue's date "
            f"({issued.isoformat()})",
            hint="release it on or after the issue's date",
        )
    latest = years_after(ce.release, MAX_YEARS)
    if ce.expires <= ce.release:
        yield src.problem(
            ("ce", "expires"),
            f"the activity expires on {ce.expires.isoformat()}, not after its release "
            f"({ce.release.isoformat()})",
        )
    elif ce.expires > latest:
        yield src.problem(
            ("ce", "expires"),
            f"the activity expires on {ce.expires.isoformat()}, more than {MAX_YEARS} years after its "
            f"release ({ce.release.isoformat()})",
            hint=f"ACPE allows at most {MAX_YEARS} years: {latest.isoformat()} at the latest",
        )


def _hours(bundle: Bundle, ce: ContinuingEducation) -> Iterator[Problem]:
    src = bundle.issue_source
    exponent = ce.hours.as_tuple().exponent
    if ce.hours <= 0:
        yield src.problem(("ce", "hours"), f"{ce.hours} contact hours: must be more than 0")
    elif isinstance(exponent, int) and exponent < -2:
        yield src.problem(
            ("ce", "hours"),
            f"{ce.hours} contact hours has more than two decimals",
            hint="ACPE credit is given in hundredths at most, e.g. 1.25",
        )


def _disclosures(bundle: Bundle, project: Project, ce: ContinuingEducation) -> Iterator[Problem]:
    src = bundle.issue_source
    people = people_in_control(bundle, project)
    keys = [key for key, _, _ in people]
    seen: dict[str, int] = {}
    for i, disclosure in enumerate(ce.disclosures):
        if disclosure.who in seen:
            yield src.problem(
                ("ce", "disclosures", i, "who"),
                f"a second disclosure for '{disclosure.who}' (also disclosures[{seen[disclosure.who]}])",
            )
        seen.setdefault(disclosure.who, i)
        if disclosure.who not in keys:
            yield src.problem(
                ("ce", "disclosures", i, "who"),
                f"'{disclosure.who}' is not an author, planner or peer reviewer of this issue",
                hint=did_you_mean(disclosure.who, keys)
                or "name a team member by id, anyone else by name as written in authors:, planners: "
                "or reviewed_by:",
            )
    for key, where, role in people:
        if key not in seen:
            seen[key] = -1  # reported once, where first listed
            yield src.problem(
                ("ce", "disclosures"),
                f"no disclosure for '{key}' ({role}, {where}): everyone in control of the content "
                "discloses, 'none' included",
                key=True,
                hint=f"add - who: {key} with relationships: none, or the relationships of the past 24 months",
            )
