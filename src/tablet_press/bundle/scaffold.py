"""`tablet new`: a new issue bundle written from the schema, with the team from tablet.yaml."""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import date
from pathlib import Path

import yaml

from tablet_press.bundle.folder import ISSUE_FILE, REFERENCES_FILE, load_bundle, slug_problem
from tablet_press.bundle.model import Issue
from tablet_press.bundle.outline import PROSE_PARTS
from tablet_press.bundle.project import Project
from tablet_press.errors import BuildError, ValidationFailed

PLACEHOLDER = "TODO"


def _comment(text: str) -> str:
    return "\n".join(f"# {line}" for line in text.splitlines())


def _value(key: str, project: Project, number: int) -> object:
    team = project.config.team
    return {
        "number": number,
        "date": date.today().isoformat(),
        "title": f"{PLACEHOLDER}: today's topic",
        "topics": [],
        "authors": [{"id": key} for key in team],
        "pearls": [f"{PLACEHOLDER}: first clinical pearl"],
        "literature": [],
        "bottom_line": [f"{PLACEHOLDER}: first bottom-line point"],
    }.get(key)


def issue_yaml(project: Project, number: int) -> str:
    """issue.yaml for a new issue: every field of the schema, described, required ones filled in."""
    out = [
        "# yaml-language-server: $schema=../../schema/issue.schema.json",
        "# A new issue of The Tablet. Each field is described above it; run 'tablet validate' as you go.",
        "",
    ]
    for name, info in Issue.model_fields.items():
        out.append(_comment(info.description or name))
        value = _value(name, project, number)
        text = yaml.safe_dump({name: value}, sort_keys=False, allow_unicode=True, width=100).strip()
        if value is None:  # optional, off by default: shown commented out
            text = f"# {name}:"
        if name == "literature":
            text += (
                "\n# - indication: Fibromyalgia\n#   studies:\n#     - ref: younger2009\n"
                "#       summary: [Single-blind, crossover trial ...]\n#       outcomes: ...\n"
                "#       results: ..."
            )
        out += [text, ""]
    return "\n".join(out)


def new_issue(project: Project, slug: str) -> Path:
    """Create issues/<slug>/; refuses (and changes nothing) if the folder exists or the slug is unsafe."""
    target = project.issues_dir / slug
    problem = slug_problem(slug, f"issues/{slug}")
    if problem:
        raise ValidationFailed([problem])
    if target.exists() or target.is_symlink():
        raise BuildError(f"issues/{slug} already exists")  # the CLI adds: nothing was written
    numbers = [0]
    for folder in project.bundle_dirs():
        bundle, _ = load_bundle(folder, project.root)
        if bundle is not None:
            numbers.append(bundle.issue.number)
    project.issues_dir.mkdir(exist_ok=True)
    # Not mkdtemp: its 0700 would outlive the rename; a folder made like this gets 0777 & ~umask.
    staging = project.issues_dir / f".new-{slug}-{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        (staging / ISSUE_FILE).write_text(issue_yaml(project, max(numbers) + 1), encoding="utf-8")
        (staging / REFERENCES_FILE).write_text(
            "# yaml-language-server: $schema=../../schema/references.schema.json\n"
            "# One entry per reference (CSL-JSON fields); 'tablet refs import FILE' adds them for you.\n[]\n",
            encoding="utf-8",
        )
        for part, purpose in PROSE_PARTS.items():
            if part in ("background", "mechanism", "pharmacokinetics"):
                (staging / f"{part}.md").write_text(f"{PLACEHOLDER}: {purpose}\n", encoding="utf-8")
        os.rename(staging, target)  # fails rather than merging if the folder appeared meanwhile
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
