"""House-style and clinical checks: the seed's real problems found at their exact places, a failing and
a passing fixture per rule (tests/fixtures/lint/<rule>/{fail,pass}), ignore comments, off-label notice."""

from __future__ import annotations

import email
import email.policy
import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tablet_press.bundle.project import load_project
from tablet_press.checks.rules import RULES
from tablet_press.checks.validate import validate
from tablet_press.render.view import OFF_LABEL_NOTICE

from conftest import FIXTURES, ROOT, SAMPLE, copy_project
from seedtext import normalise

LINT = FIXTURES / "lint"

# The seed's house-style problems: file, line, column, rule, and the text found there.
SEED_PROBLEMS = [
    ("background.md", 1, 70, "dose-spacing", "1-5mg"),
    ("issue.yaml", 29, 22, "dose-spacing", "3mg"),
    ("issue.yaml", 40, 70, "dose-spacing", "4.5mg"),
    ("issue.yaml", 49, 20, "sample-size", "N= 30"),  # every other study says n=
    ("issue.yaml", 54, 85, "dose-spacing", "4.5mg"),
    ("issue.yaml", 62, 86, "dose-spacing", "6mg"),
    ("issue.yaml", 72, 81, "undefined-abbreviation", "MS"),  # multiple sclerosis, or morphine sulfate?
    ("issue.yaml", 72, 99, "dose-spacing", "4.5mg"),
    ("issue.yaml", 74, 47, "undefined-abbreviation", "QOL"),
    ("issue.yaml", 87, 14, "dose-spacing", "4.5mg"),  # the second line of a folded (>-) text
    ("issue.yaml", 102, 102, "dose-spacing", "4.5mg"),
    ("issue.yaml", 116, 25, "dose-spacing", "4.5mg"),
    ("issue.yaml", 126, 103, "microgram", "µg"),
    ("issue.yaml", 127, 15, "microgram", "µg"),
    ("issue.yaml", 130, 99, "dose-spacing", "1-5mg"),
    ("mechanism.md", 1, 23, "dose-range", "50mg-150mg"),
    ("mechanism.md", 1, 23, "dose-spacing", "50mg-150mg"),
    ("mechanism.md", 1, 167, "dose-spacing", "1-5mg"),
]
# Warnings of validate's cross-checks, which have names too (test_sample_bundle.py).
CROSS_CHECKS = [
    ("issue.yaml", 81, 16, "study-heading", ">-"),  # the seed's heading: "in patients"
    ("issue.yaml", 123, 16, "study-heading", "Low-Dose Naltrexone (LDN) –"),
    ("references.yaml", 21, 7, "unused-reference", "brown2009"),
    ("references.yaml", 69, 7, "unused-reference", "kim2020"),
    ("references.yaml", 118, 7, "unused-reference", "trofimovitch2019"),
    ("references.yaml", 155, 7, "unused-reference", "younger2014"),
]

_SAMPLE_WARNINGS = sorted(SEED_PROBLEMS + CROSS_CHECKS, key=lambda entry: entry[:3])


def _rule(message: str) -> str:
    match = re.match(r"\[([a-z-]+)\] ", message)
    return match.group(1) if match else ""


def _house_style(root: Path) -> list[tuple[str, int, int, str]]:
    report = validate(load_project(root), None)
    assert not report.errors, [p.format() for p in report.errors]
    return [(Path(p.file).name, p.line, p.col, _rule(p.message)) for p in report.warnings if _rule(p.message)]


def test_the_sample_warns_of_exactly_the_seeds_real_problems() -> None:
    assert _house_style(ROOT) == [entry[:4] for entry in _SAMPLE_WARNINGS]
    report = validate(load_project(ROOT), None)
    assert len(report.warnings) == len(_SAMPLE_WARNINGS)  # every warning names its check


def test_the_seeds_repeated_pearl_would_be_reported_where_it_repeats(tmp_path: Path) -> None:
    """The seed prints its closing CLINICAL PEARL twice; the sample prints it once. Put back, the
    repeat is reported at the second one, naming the first."""
    project = copy_project(tmp_path / "p")
    issue = (project / "issues" / SAMPLE / "issue.yaml").read_text(encoding="utf-8")
    pearl = (
        "Though efficacy data is mixed, low-dose naltrexone offers a well-tolerated, low-risk option for "
        "managing refractory pain, fatigue, or neuroinflammation in select palliative care patients—"
        "particularly when standard therapies fall short."
    )
    assert " ".join(pearl.split()) in " ".join(issue.split())
    closing = f"::: pearl\n{pearl}\n:::\n"
    (project / "issues" / SAMPLE / "closing.md").write_text(closing, encoding="utf-8")
    report = validate(load_project(project), None)
    repeated = [p for p in report.warnings if p.file.endswith("closing.md")]
    assert [p.message for p in repeated] == [
        f"[repeated-callout] this CLINICAL PEARL repeats the one at issues/{SAMPLE}/issue.yaml:91"
    ]


@pytest.mark.parametrize("file, line, col, rule, found", SEED_PROBLEMS + CROSS_CHECKS)
def test_each_seed_problem_points_at_its_text(file: str, line: int, col: int, rule: str, found: str) -> None:
    source = (ROOT / "issues" / SAMPLE / file).read_text(encoding="utf-8").split("\n")
    assert source[line - 1][col - 1 :].startswith(found)


def _lay(project: Path, slug: str, overlay: Path) -> Path:
    bundle = project / "issues" / slug
    shutil.rmtree(bundle, ignore_errors=True)
    shutil.copytree(FIXTURES / "good" / "minimal", bundle)
    for file in overlay.iterdir():
        if file.name != "expected.txt":
            shutil.copy(file, bundle / file.name)
    return bundle


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_has_a_failing_and_a_passing_fixture(rule: str) -> None:
    assert (LINT / rule / "fail" / "expected.txt").read_text(encoding="utf-8").strip()
    assert any(p.name != "expected.txt" for p in (LINT / rule / "pass").iterdir())


@pytest.mark.parametrize("rule", sorted(RULES))
def test_failing_fixture(rule: str, tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    _lay(project, rule, LINT / rule / "fail")
    result = run("validate", f"issues/{rule}", cwd=project)
    expected = (LINT / rule / "fail" / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert result.stdout.splitlines() == expected
    assert rule in {_rule(line.split(": warning: ")[1]) for line in expected}
    assert result.exit_code == 0
    assert run("validate", "--strict", f"issues/{rule}", cwd=project).exit_code == 1


@pytest.mark.parametrize("rule", sorted(RULES))
def test_passing_fixture(rule: str, tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    _lay(project, rule, LINT / rule / "pass")
    result = run("validate", "--strict", f"issues/{rule}", cwd=project)
    assert (result.exit_code, result.stdout) == (0, "")


def test_the_passing_ignore_fixture_warns_without_its_ignores(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    bundle = _lay(project, "ignore", LINT / "ignore" / "pass")
    for file in (bundle / "background.md", bundle / "issue.yaml"):
        text = re.sub(r"\[//\]: # \(tablet: ignore\[[^\n]*\n", "", file.read_text(encoding="utf-8"))
        file.write_text(re.sub(r"#[^\n]*tablet: ignore\[[^\n]*", "#", text), encoding="utf-8")
    assert _house_style(project) == [
        ("background.md", 1, 16, "dose-spacing"),
        ("background.md", 1, 31, "dose-range"),
        ("background.md", 1, 31, "dose-spacing"),
        ("issue.yaml", 9, 19, "dose-spacing"),
        ("issue.yaml", 10, 5, "dose-spacing"),
    ]


def _write(project: Path, slug: str, background: str) -> list[tuple[str, int, int, str]]:
    bundle = project / "issues" / slug
    if not bundle.exists():
        shutil.copytree(FIXTURES / "good" / "minimal", bundle)
    (bundle / "background.md").write_text(background, encoding="utf-8")
    return _house_style(project)


def test_a_markdown_ignore_covers_the_next_block_only(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    text = "[//]: # (tablet: ignore[dose-spacing])\nGive 4.5mg,\nthen 6mg.\n\nGive 3mg.\n"
    assert _write(project, "scope", text) == [("background.md", 5, 6, "dose-spacing")]


def test_an_ignore_in_the_sample_silences_one_occurrence_and_prints_nothing(tmp_path: Path) -> None:
    from tablet_press.build import print_html
    from tablet_press.render.email import email_text
    from tablet_press.render.view import issue_view

    project = copy_project(tmp_path / "p")
    bundle = project / "issues" / SAMPLE
    (bundle / "closing.md").write_text("[//]: # (tablet: ignore[dose-spacing] as the seed)\nTake 4mg.\n")
    issue = bundle / "issue.yaml"
    text = issue.read_text(encoding="utf-8")
    # One field holds both µg doses of the seed (2 µg or 4 µg): the comment covers that field.
    before = "        summary:\n          - >-\n            Two clinical"
    marked = text.replace(before, before.replace(">-", ">-  # tablet: ignore[microgram] (as the review)"))
    issue.write_text(marked, encoding="utf-8")
    expected = [p[:4] for p in _SAMPLE_WARNINGS if p[3] != "microgram"]
    assert _house_style(project) == expected
    loaded = load_project(project)
    report = validate(loaded, None)
    view = issue_view(report.bundles[0], loaded)
    for output in (print_html(report.bundles[0], loaded), email_text(view, loaded)):
        assert "tablet: ignore" not in output and "[//]" not in output


def _outputs(root: Path) -> dict[str, str]:
    """Text of every output of the sample: PDF (extracted), email HTML, plain text, and the .eml's parts."""
    from pypdf import PdfReader

    from tablet_press.build import outputs

    project = load_project(root)
    bundle = next(b for b in validate(project, None).bundles if b.slug == SAMPLE)  # not the second sample
    files = outputs(bundle, project)
    message = email.message_from_bytes(files[f"{SAMPLE}.eml"], policy=email.policy.default)
    parts = {
        p.get_content_type(): p.get_content() for p in message.walk() if p.get_content_maintype() == "text"
    }
    pdf = PdfReader(io.BytesIO(files[f"{SAMPLE}.pdf"]))
    return {
        "pdf": " ".join(page.extract_text() for page in pdf.pages),
        "html": files[f"{SAMPLE}.html"].decode(),
        "txt": files[f"{SAMPLE}.txt"].decode(),
        "eml text": parts["text/plain"],
        "eml html": parts["text/html"],
    }


def test_off_label_notice_is_in_every_output() -> None:
    for kind, text in _outputs(ROOT).items():
        assert normalise(OFF_LABEL_NOTICE) in normalise(text.replace("-\n", "-")), kind


def test_off_label_text_without_the_flag_warns_and_the_notice_goes(tmp_path: Path) -> None:
    from tablet_press.build import print_html
    from tablet_press.render.email import email_html, email_text
    from tablet_press.render.view import issue_view

    project = copy_project(tmp_path / "p")
    issue = project / "issues" / SAMPLE / "issue.yaml"
    issue.write_text(issue.read_text(encoding="utf-8").replace("off_label: true ", "off_label: false"))
    background = (project / "issues" / SAMPLE / "background.md").read_text(encoding="utf-8")
    found = _house_style(project)
    assert ("background.md", 1, background.index("off-label") + 1, "off-label") in found
    loaded = load_project(project)
    bundle = validate(loaded, None).bundles[0]
    view = issue_view(bundle, loaded)
    for output in (print_html(bundle, loaded), email_html(view, bundle, loaded)[0], email_text(view, loaded)):
        assert normalise(OFF_LABEL_NOTICE) not in normalise(output)


def test_a_new_issue_warns_of_every_todo_the_scaffold_left(project: Path, run: Callable[..., Result]) -> None:
    assert run("new", "2025-08-methadone", cwd=project).exit_code == 0
    result = run("validate", "issues/2025-08-methadone", cwd=project)
    assert result.exit_code == 0
    found = [line.split(": warning: ")[0] for line in result.stdout.splitlines() if "[placeholder]" in line]
    assert [f.removeprefix("issues/2025-08-methadone/") for f in found] == [
        "background.md:1:1",
        "issue.yaml:14:9",  # title: 'TODO: today''s topic'
        "issue.yaml:37:4",
        "issue.yaml:50:4",
        "mechanism.md:1:1",
        "pharmacokinetics.md:1:1",
    ]


def test_a_comment_that_cuts_a_dose_short_is_a_warning_at_its_hash(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    """`- Take 4.5 mg #bid` prints "Take 4.5 mg": YAML took the rest for a comment, and said nothing."""
    project = copy_project(tmp_path / "p", bundles=())
    bundle = project / "issues" / "cut"
    shutil.copytree(FIXTURES / "good" / "minimal", bundle)
    issue = bundle / "issue.yaml"
    issue.write_text(
        issue.read_text(encoding="utf-8").replace("  - Start low and go slow", "  - Take 4.5 mg #bid"),
        encoding="utf-8",
    )
    result = run("validate", "issues/cut", cwd=project)
    assert result.stdout == (
        "issues/cut/issue.yaml:8:17: warning: [comment-in-text] '#' after the text starts a YAML comment:"
        " the rest of the line ('#bid') will not print (put the whole text in quotes to print it, or"
        " move the comment to a line of its own) [pearls[0]]\n"
    )
    assert result.exit_code == 0
    assert run("validate", "--strict", "issues/cut", cwd=project).exit_code == 1


def test_warnings_name_their_field_as_errors_do(project: Path) -> None:
    """One field-path format everywhere: the lint's warnings use the brackets of the schema's errors."""
    report = validate(load_project(project))
    fields = {p.field for p in report.warnings if p.file.endswith("issue.yaml")}
    assert "literature[0].studies[0].summary[0]" in fields  # '4.5mg' in the first study's bullet
    assert "literature[1].studies[1].title" in fields  # a heading unlike its paper's title
    assert "pearls[0]" in fields and "literature[4].note" in fields
    assert not [f for f in fields if re.search(r"\.\d", f)], fields


def test_an_ignore_gives_its_reason_on_the_same_line(tmp_path: Path, run: Callable[..., Result]) -> None:
    """As the guide asks: the reason after the brackets, in markdown and in YAML; it still silences."""
    project = copy_project(tmp_path / "p", bundles=())
    text = "[//]: # (tablet: ignore[dose-spacing] the trial's own words)\nGive 4.5mg nightly.\n"
    assert _write(project, "reason", text) == []
    # A reason in ( ) ends the link definition early: the line would print, so it is a warning.
    _write(project, "reason", "Intro.\n\n[//]: # (tablet: ignore[dose-spacing] (as quoted))\n\nGive 3mg.\n")
    result = run("validate", "issues/reason", cwd=project)
    assert (
        "issues/reason/background.md:3:10: warning: [ignore] this ignore's reason holds '(' or ')', so it"
        " silences nothing and the line would be printed (write [//]: # (tablet: ignore[dose-spacing] the"
        " trial's own words))\n"
    ) in result.stdout
    assert "issues/reason/background.md:5:6: warning: [dose-spacing]" in result.stdout


def test_the_cross_checks_warnings_can_be_ignored_with_a_reason(tmp_path: Path) -> None:
    """A study heading kept on purpose and a reference kept for later: each answered where it stands."""
    project = copy_project(tmp_path / "p")
    bundle = project / "issues" / SAMPLE
    issue = bundle / "issue.yaml"
    text = issue.read_text(encoding="utf-8")
    heading = "        title: Low-Dose Naltrexone (LDN) – Review of Therapeutic Utilization\n"
    assert heading in text
    issue.write_text(text.replace(heading, heading[:-1] + "  # tablet: ignore[study-heading] seed's\n"))
    references = bundle / "references.yaml"
    text = references.read_text(encoding="utf-8")
    kept = "# tablet: ignore[unused-reference] cited in the next issue\n- id: brown2009\n"
    references.write_text(text.replace("- id: brown2009\n", kept), encoding="utf-8")
    shifted = [
        (f, line + (f == "references.yaml" and line > 20), c, r) for f, line, c, r, _ in _SAMPLE_WARNINGS
    ]
    assert _house_style(project) == [
        w for w in shifted if w[:2] not in (("issue.yaml", 123), ("references.yaml", 22))
    ]


# Clinical names that are not abbreviations to define (each must not warn)...
CLINICAL_NAMES = [
    "CYP2A6",
    "CYP3A4",
    "CYP1A2",
    "CYP2D6",
    "CYP2C9",
    "CYP2C19",
    "CYP2B6",
    "CYP3A5",
    "CYP3A",
    "CYP450",
    "CYP2C19*2",
    "UGT1A1",
    "UGT2B7",
    "UGT1A1*28",
    "HLA-B*5801",
    "HLA-B*1502",
    "HLA-B*58:01",
    "HLA-A*3101",
    "HLA-DQB1*0602",
    "ABCB1",
    "SLCO1B1",
    "OPRM1",
    "VKORC1",
    "TPMT",
    "DPYD",
    "COMT",
    "G6PD",
    "QT",
    "QTc",
    "QTcF",
    "QTcB",
    "5-HT3",
    "5-HT2A",
    "5-HT1B",
    "5-HT",
    "D2",
    "H1",
    "M1",
    "NK1",
    "CB1",
    "CB2",
    "TLR4",
    "GABA-A",
    "NMDA",
    "AMPA",
    "eGFR",
    "INR",
    "CrCl",
    "HbA1c",
    "IgG",
    "IgE",
    "mRNA",
    "DNA",
    "ATP",
    "cAMP",
    "pH",
    "pKa",
    "Cmax",
    "Tmax",
    "IC50",
    "ED50",
    "SpO2",
    "PaCO2",
    "FiO2",
    "KCl",
    "NaCl",
    "NaHCO3",
    "CO2",
]
# ...next to abbreviations that the text never defines (each must still warn, once, in order).
UNDEFINED = ["MS", "QOL", "CRPS", "LDN", "RCT", "BPI", "NRS", "COPD", "OUD", "MOR", "PHQ9", "IBD"]


def test_clinical_names_are_not_abbreviations_but_undefined_ones_still_warn(tmp_path: Path) -> None:
    assert len(CLINICAL_NAMES) >= 50
    words = [w for pair in zip(CLINICAL_NAMES, UNDEFINED * 6, strict=False) for w in pair]
    project = copy_project(tmp_path / "p", bundles=())
    text = "".join(f"Patients with {word} were seen.\n" for word in words)
    found = [(line, rule) for _, line, _, rule in _write(project, "corpus", text)]
    lines = [i + 1 for i, word in enumerate(words) if word in UNDEFINED]
    assert found == [(line, "undefined-abbreviation") for line in lines[: len(UNDEFINED)]]
    report = validate(load_project(project), None)
    assert [p.message for p in report.warnings][:2] == [
        "[undefined-abbreviation] 'MS' is used before it is defined; in palliative care MS also reads as"
        " morphine sulfate",
        "[undefined-abbreviation] 'QOL' is used before it is defined",
    ]


@pytest.mark.parametrize("name", CLINICAL_NAMES)
def test_a_clinical_name_alone_is_no_abbreviation(name: str) -> None:
    from tablet_press.checks.style import _CLINICAL, _TOKEN, _abbreviation

    masked = _CLINICAL.sub(lambda m: " " * len(m[0]), f"the {name}-mediated ({name}), {name}.")
    assert [w for w in _TOKEN.findall(masked) if _abbreviation(w)] == []


def test_an_ignore_on_the_first_line_of_a_reference_silences_it(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    bundle = _lay(project, "journal-abbreviation", LINT / "journal-abbreviation" / "fail")
    target = bundle / "references.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(
        text.replace("- id: younger2009", "- id: younger2009  # tablet: ignore[journal-abbreviation]")
    )
    result = run("validate", "--strict", "issues/journal-abbreviation", cwd=project)
    assert (result.exit_code, result.stdout) == (0, "")
