"""The seed issue as checkable pieces, and text normalisation shared by every 'nothing lost' test.

The seed (tests/fixtures/seed/, a copy of shared/seeds/000_5bdd38b2aa16b606.txt) is split into lines:
 - labels: headings and sidebar labels that the layout prints ("Background:", "Cell:");
 - shortcites: the literature headings ("Pain Med. 2009 May-June;10(4):663-72."), generated from records;
 - references: the numbered APA entries, generated from records;
 - prose: every other line, which must appear verbatim (modulo whitespace) in every output.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

SEED = Path(__file__).parent / "fixtures" / "seed" / "000_5bdd38b2aa16b606.txt"

LABELS = {
    "Author Team:",
    "Guest Authors:",
    "Clinical Pharmacy Specialist:",
    "TODAY’S TOPIC:",
    "Background:",
    "Mechanism of Action:",
    "Pharmacokinetics & Safety:",
    "Clinical Pearls:",
    "The Literature:",
    "Bottom Line:",
    "References:",
    "Fibromyalgia:",
    "Multiple Sclerosis:",
    "Crohn’s Disease:",
    "Complex Regional Pain Syndrome:",
    "Opioids with Low-Dose Naltrexone:",
    "Palliative Care",
}
# Sidebar contact labels: printed as "Cell: 412-627-8473", so only the whole line is checked.
CONTACT = re.compile(r"^(Cell|Office|Email): ")


def normalise(text: str) -> str:
    """One form for comparing seed and output text: NFC, one space for any whitespace, joined
    line-end hyphenation, and the 'CLINICAL PEARL:' label as printed."""
    text = unicodedata.normalize("NFC", text).replace("\u00ad", "").replace("\u00a0", " ")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"(\w)- (?=\w)", r"\1-", text).strip()


def _strip_markup(line: str) -> str:
    line = re.sub(r"\[([^\]]*)\]\(#\)", r"\1", line)  # placeholder links
    line = re.sub(r"\[([^\]]*)\]\((https?://[^()]*(?:\([^()]*\)[^()]*)*)\)", r"\1", line)
    line = re.sub(r"<(https?://[^>]+)>", r"\1", line)
    line = line.replace("\\(", "(").replace("\\)", ")").replace("**", "").replace("*", "")
    line = re.sub(r"^- ", "", line)
    return line.strip()


def seed_lines() -> dict[str, list[str]]:
    """The seed's non-empty lines by kind; 'sidebar' holds the author-team column's line fragments
    (the seed wraps them at the column edge), 'prose' everything from TODAY'S TOPIC on."""
    kinds: dict[str, list[str]] = {
        "labels": [],
        "shortcites": [],
        "references": [],
        "sidebar": [],
        "prose": [],
    }
    lines = [_strip_markup(raw) for raw in SEED.read_text(encoding="utf-8").splitlines() if raw.strip()]
    in_sidebar = True
    pending = ""
    for raw_line in lines:
        line = f"{pending} {raw_line}".strip() if pending else raw_line
        pending = ""
        if in_sidebar and any(label.startswith(line + " ") for label in LABELS):
            pending = line  # a label the seed wrapped over two lines ("Clinical Pharmacy / Specialist:")
            continue
        if line == "TODAY’S TOPIC:":
            in_sidebar = False
        if line in LABELS or line == "TODAY’S TOPIC:":
            kinds["labels"].append(line)
        elif in_sidebar:
            kinds["sidebar"].append(line)
        elif re.match(r"^[A-Z][A-Za-z ]+(\([A-Za-z]+\))?\. \d{4} .*;", line):
            kinds["shortcites"].append(line)
        elif re.match(r"^\d+\. ", line):
            kinds["references"].append(re.sub(r"^\d+\. ", "", line))
        else:
            kinds["prose"].append(line)
    return kinds


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", unicodedata.normalize("NFC", text)))


def missing_prose(output_text: str, allowed: dict[str, str] | None = None) -> list[str]:
    """Seed prose lines not found in `output_text` (except those in `allowed`, line -> reason)."""
    haystack = normalise(output_text)
    allowed = allowed or {}
    lines = seed_lines()
    return [
        line
        for line in lines["sidebar"] + lines["prose"]
        if normalise(line) not in haystack and line not in allowed
    ]
