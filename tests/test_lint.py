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
    ("closing.md", 1, 1, "repeated-callout", "::: pearl"),  # the MS group's note prints it already
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
# Warnings from validate's other checks, there before the house style (test_sample_bundle.py).
OTHER_WARNINGS = 6


def _rule(message: str) -> str:
    match = re.match(r"\[([a-z-]+)\] ", message)
    return match.group(1) if match else ""


def _house_style(root: Path) -> list[tuple[str, int, int, str]]:
    report = validate(load_project(root), None)
    assert not report.errors, [p.format() for p in report.errors]
    return [(Path(p.file).name, p.line, p.col, _rule(p.message)) for p in report.warnings if _rule(p.message)]


def test_the_sample_warns_of_exactly_the_seeds_real_problems() -> None:
    assert _house_style(ROOT) == [entry[:4] for entry in SEED_PROBLEMS]
    report = validate(load_project(ROOT), None)
    assert len(report.warnings) == len(SEED_PROBLEMS) + OTHER_WARNINGS
    closing = next(p for p in report.warnings if p.file.endswith("closing.md"))
    assert closing.message == (
        f"[repeated-callout] this CLINICAL PEARL repeats the one at issues/{SAMPLE}/issue.yaml:91"
    )


@pytest.mark.parametrize("file, line, col, rule, found", SEED_PROBLEMS)
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
        text = re.sub(r"\[//\]: # \(tablet: ignore\[[^\]]*\]\)\n", "", file.read_text(encoding="utf-8"))
        file.write_text(re.sub(r"#[^\n]*tablet: ignore\[[^\]]*\]", "#", text), encoding="utf-8")
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
    closing = bundle / "closing.md"
    closing.write_text("[//]: # (tablet: ignore[repeated-callout])\n" + closing.read_text(encoding="utf-8"))
    issue = bundle / "issue.yaml"
    text = issue.read_text(encoding="utf-8")
    # One field holds both µg doses of the seed (2 µg or 4 µg): the comment covers that field.
    before = "        summary:\n          - >-\n            Two clinical"
    marked = text.replace(before, before.replace(">-", ">-  # tablet: ignore[microgram] (as the review)"))
    issue.write_text(marked, encoding="utf-8")
    expected = [p[:4] for p in SEED_PROBLEMS if p[3] not in ("repeated-callout", "microgram")]
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
    bundle = validate(project, None).bundles[0]
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
        "issue.yaml:11:9",  # title: 'TODO: today''s topic'
        "issue.yaml:28:4",
        "issue.yaml:41:4",
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
