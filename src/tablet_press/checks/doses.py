"""The dose, unit and abbreviation checks of the house style, after ISMP's list of error-prone
abbreviations, symbols and dose designations (the rules of rules.RULES from dose-spacing to dose-range).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.project import Project
from tablet_press.checks.rules import Finding, Text

_UNIT = r"(?:mcg|mg|µg|μg|ug|ng|g|kg|mL|ml|L|mEq|mmol|units?|IU|U|u|cc)(?:/(?:kg|m2|m²|day|dose|h|hr|min))?"
_NUM = r"(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
_DOSE = re.compile(  # a dose, or a range of doses: 4.5 mg, 1-5mg, 50mg-150mg, 2 to 4 mcg/kg
    rf"(?<![\w.,])(?P<a>{_NUM})(?:(?P<sa>[ \u00a0]?)(?P<ua>{_UNIT}))?"
    rf"(?:(?P<sep>[ \u00a0]?[-–—][ \u00a0]?| to )(?P<b>{_NUM})(?P<sb>[ \u00a0]?)(?P<ub>{_UNIT}))?(?![\w/])"
)
_MICRO = ("µg", "μg", "ug")
_WRONG_UNITS = {
    "IU": "units",
    "U": "units",
    "u": "units",
    "cc": "mL",
    "ml": "mL",
    **dict.fromkeys(_MICRO, "mcg"),
}


def _base(unit: str) -> str:
    return unit.split("/")[0]


def _house(m: re.Match[str]) -> str:
    """The dose as house style writes it: 0.5 not .5, 1 not 1.0, a space, mcg, the unit once."""

    def number(n: str) -> str:
        n = "0" + n if n.startswith(".") else n
        return n.rstrip("0").rstrip(".") if "." in n else n

    def unit(u: str) -> str:
        return _WRONG_UNITS.get(_base(u), _base(u)) + u[len(_base(u)) :]

    if m["b"] is None:
        return f"{number(m['a'])} {unit(m['ua'])}"
    sep = " to " if m["sep"] == " to " else m["sep"].strip()
    if m["ua"] and _base(m["ua"]) != _base(m["ub"]):  # 500 mg-1 g: two units, both needed
        return f"{number(m['a'])} {unit(m['ua'])}{sep}{number(m['b'])} {unit(m['ub'])}"
    return f"{number(m['a'])}{sep}{number(m['b'])} {unit(m['ub'])}"


def doses(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    first_sep = ""  # the first range sets the dash of every range
    for text in texts:
        for m in _DOSE.finditer(text.masked):
            units = [(m[g], m[s], m.start(g)) for g, s in (("ua", "sa"), ("ub", "sb")) if m[g]]
            if not units:
                continue  # a number, not a dose
            shown, fix = m.group(), f"write {_house(m)}"
            if any(not space and _base(u) not in _WRONG_UNITS for u, space, _ in units):
                why = f"no space between number and unit in '{shown}'"
                yield Finding("dose-spacing", text, m.start(), why, fix)
            for unit, _, at in units:
                if _base(unit) in _MICRO:
                    yield Finding(
                        "microgram", text, at, f"'{_base(unit)}' is misread as mg in '{shown}'", fix
                    )
                elif _base(unit) in _WRONG_UNITS and _base(unit) != "ml":
                    why = f"'{_base(unit)}' is an error-prone abbreviation (ISMP) in '{shown}'"
                    yield Finding("ismp-abbreviation", text, at, why, fix)
            for group in ("a", "b"):
                number, at = m[group] or "", m.start(group)
                if number.startswith("."):
                    why = f"'{number}' without a leading zero is misread as {number[1:]}"
                    yield Finding("leading-zero", text, at, why, fix)
                elif "." in number and number.endswith("0"):
                    why = f"'{number}' has a trailing zero and can be misread as {number.replace('.', '')}"
                    yield Finding("trailing-zero", text, at, why, fix)
            if m["b"] is None:
                continue
            if m["ua"] and _base(m["ua"]) == _base(m["ub"]):
                why = f"the unit is written twice in the range '{shown}'"
                yield Finding("dose-range", text, m.start(), why, f"write the unit once: {_house(m)}")
            sep = m["sep"].strip() or m["sep"]
            first_sep = first_sep or sep
            if sep != first_sep:
                why = f"the range '{shown}' uses '{sep}' where this issue's first range uses '{first_sep}'"
                yield Finding(
                    "dose-range", text, m.start("sep"), why, f"write every range with '{first_sep}'"
                )


# ISMP's list, as much of it as a newsletter can misuse: (as written, pattern, why it is unsafe, instead).
ISMP = [
    ("QD", r"[Qq]\.?[Dd]\.?", "mistaken for QID (four times daily)", "daily"),
    ("QOD", r"[Qq]\.?[Oo]\.?[Dd]\.?", "mistaken for QD or QID", "every other day"),
    ("qhs", r"[Qq]\.?[Hh]\.?[Ss]\.?", "mistaken for every hour", "nightly or at bedtime"),
    ("HS", r"HS|hs|h\.s\.?", "read as half-strength or bedtime", "at bedtime, or half-strength"),
    ("IU", r"IU", "mistaken for IV or 10", "units"),
    ("cc", r"cc", "mistaken for U (units)", "mL"),
    ("SC, SQ, sub q", r"SC|SQ|[Ss]ub ?-?[Qq]", "mistaken for SL or 5 every", "subcut or subcutaneously"),
    ("U, u", "", "mistaken for 0 or 4 (4U read as 40)", "units"),  # found as the unit of a dose
    ("D/C", r"[Dd]/[Cc]", "read as discharge or discontinue", "discharge or discontinue"),
    ("TIW", r"TIW|tiw", "read as three times a week or twice a week", "3 times weekly"),
    ("MSO4, MgSO4", r"MSO4|MS04|MgSO4", "morphine and magnesium sulfate confused", "the drug's full name"),
    ("MS before a dose", r"MS(?=[ \u00a0]?\d)", "read as morphine or magnesium sulfate", "morphine sulfate"),
]
_ISMP = [(re.compile(rf"(?<![\w./-])(?:{p})(?![\w/-])"), why, fix) for _, p, why, fix in ISMP if p]


def ismp_words(texts: list[Text], bundle: Bundle, project: Project) -> Iterator[Finding]:
    for text, (pattern, why, fix) in itertools.product(texts, _ISMP):
        for m in pattern.finditer(text.masked):
            message = f"'{m.group()}' is an error-prone abbreviation (ISMP): {why}"
            yield Finding("ismp-abbreviation", text, m.start(), message, f"write {fix}")
