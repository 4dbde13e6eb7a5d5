"""Every command the CLI offers is documented in the README (as in sqlite-utils' test_docs)."""

from __future__ import annotations

import click
import pytest

from tablet_press.cli import cli

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "tablet") -> list[str]:
    names = []
    for name, command in group.commands.items():
        names.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix} {name}")
    return names


@pytest.mark.parametrize("command", _commands(cli))
def test_command_is_in_the_readme(command: str) -> None:
    assert f"`{command}" in README or f"\n{command} " in README, f"{command} is not documented in README.md"


def test_readme_opens_with_install_build_and_test() -> None:
    setup = README.split("## Set up, build the sample, run the tests", 1)[1].split("```")[1]
    lines = [line.split("#")[0].strip() for line in setup.strip().splitlines()[1:]]
    assert lines == ["pip install -e '.[dev]'", "tablet build", "python -m pytest"]
