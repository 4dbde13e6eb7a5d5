"""The benchmark's inputs: throw-away copies of the project, issues scaled up, archives of many issues.

Everything is generated from the repository's own sample issue, so the bench runs in any checkout.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = "low-dose-naltrexone"
SEED = ROOT / "tests" / "fixtures" / "seed" / "000_5bdd38b2aa16b606.txt"


def copy_project(dest: Path, with_sample: bool = True) -> Path:
    """A project folder like the repo's: tablet.yaml, brand, templates, styles and (optionally) the sample."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "tablet.yaml", dest / "tablet.yaml")
    for folder in ("brand", "templates", "styles"):
        shutil.copytree(ROOT / folder, dest / folder)
    (dest / "issues").mkdir(exist_ok=True)
    if with_sample:
        shutil.copytree(ROOT / "issues" / SAMPLE, dest / "issues" / SAMPLE)
    return dest


def _issue_yaml(number: int, date: dt.date, literature_times: int = 1) -> str:
    """The sample's issue.yaml with another number and date, its literature review repeated."""
    text = (ROOT / "issues" / SAMPLE / "issue.yaml").read_text(encoding="utf-8")
    text = re.sub(r"^number: 1 ", f"number: {number} ", text, count=1, flags=re.M)
    text = re.sub(r"^date: 2025-07-01", f"date: {date.isoformat()}", text, count=1, flags=re.M)
    head, rest = text.split("\nliterature:\n", 1)
    groups, tail = rest.split("\nbottom_line:\n", 1)
    return f"{head}\nliterature:\n{(groups.rstrip() + chr(10)) * literature_times}\nbottom_line:\n{tail}"


def add_issue(project: Path, slug: str, number: int, date: dt.date, literature_times: int = 1) -> Path:
    """A copy of the sample as issues/<slug>/, numbered and dated as asked."""
    bundle = project / "issues" / slug
    shutil.copytree(ROOT / "issues" / SAMPLE, bundle)
    (bundle / "issue.yaml").write_text(_issue_yaml(number, date, literature_times), encoding="utf-8")
    return bundle


def archive_project(dest: Path, issues: int) -> Path:
    """A project of `issues` copies of the sample, one a week, numbered 1..issues."""
    copy_project(dest, with_sample=False)
    start = dt.date(2024, 1, 2)
    for i in range(issues):
        add_issue(dest, f"issue-{i + 1:03d}", i + 1, start + dt.timedelta(weeks=i))
    return dest


def scaled_project(dest: Path, factors: tuple[int, ...]) -> dict[int, Path]:
    """A project holding the sample at each length in `factors` (its literature review repeated)."""
    copy_project(dest, with_sample=False)
    return {
        f: add_issue(dest, f"sample-x{f}", i + 1, dt.date(2025, 7, 1), literature_times=f)
        for i, f in enumerate(factors)
    }
