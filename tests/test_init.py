"""`tablet init` starts a project that needs only tablet.yaml: tablet-press's default templates, styles
and brand do the rest, and a project's own file overrides a default one by one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import Result

from tablet_press.bundle import look
from tablet_press.bundle.model import Config
from tablet_press.bundle.project import load_project
from tablet_press.bundle.starter import tablet_yaml
from tablet_press.errors import BuildError

from conftest import ROOT


def test_init_new_build_makes_a_pdf_with_the_default_look(tmp_path: Path, run: Callable[..., Result]) -> None:
    result = run("init", "paper", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "created paper/tablet.yaml: fill in the newsletter, brand, team and topics, then 'tablet new SLUG'\n"
    )
    project = tmp_path / "paper"
    assert sorted(p.name for p in project.iterdir()) == ["issues", "tablet.yaml"]
    assert run("validate", cwd=project).exit_code == 0
    assert run("new", "2025-01-first", cwd=project).exit_code == 0
    result = run("build", cwd=project)
    assert result.exit_code == 0, result.output
    assert (project / "dist" / "2025-01-first" / "2025-01-first.pdf").read_bytes().startswith(b"%PDF")


def test_init_refuses_a_project_and_changes_nothing(tmp_path: Path, run: Callable[..., Result]) -> None:
    (tmp_path / "tablet.yaml").write_text("mine\n")
    result = run("init", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {tmp_path / 'tablet.yaml'} already exists: this folder is already a project; "
        "nothing was changed\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["tablet.yaml"]
    assert (tmp_path / "tablet.yaml").read_text() == "mine\n"


def test_the_starter_follows_the_schema_and_describes_each_field() -> None:
    text = tablet_yaml()
    Config.model_validate(yaml.safe_load(text))
    for name, info in Config.model_fields.items():
        assert f"# {info.description or name}\n" in text, name


def test_a_project_overrides_one_template_and_keeps_the_other_defaults(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    run("init", cwd=tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "email.txt.j2").write_text(
        '{% extends "default/email.txt.j2" %}'
    )  # extending the default it overrides works too
    project = load_project(tmp_path)
    assert look.find(project, "templates", "email.txt.j2") == tmp_path / "templates" / "email.txt.j2"
    assert look.find(project, "styles", "print.css") == look.default_dir("styles") / "print.css"
    assert look.default_dir("styles") == ROOT / "styles"  # a source checkout: the top-level folders


def test_a_missing_template_is_a_clear_error(tmp_path: Path, run: Callable[..., Result]) -> None:
    from tablet_press.render.view import template

    run("init", cwd=tmp_path)
    project = load_project(tmp_path)
    try:
        template(project, "nothing.html.j2")
    except BuildError as exc:
        assert str(exc) == (
            f"the template nothing.html.j2 was not found in {tmp_path / 'templates'} or {ROOT / 'templates'}"
        )
    else:
        raise AssertionError("no error")
    try:
        look.find(project, "styles", "nothing.css")
    except BuildError as exc:
        assert str(exc) == (
            "styles/nothing.css is missing: it is neither in the project's styles/ folder nor among "
            f"tablet-press's defaults ({ROOT / 'styles'})"
        )
    else:
        raise AssertionError("no error")
