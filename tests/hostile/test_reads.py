"""Every bundle file is read through safefile: no link is followed, the size limit holds before a byte is
read, FIFOs never block. The hostile cases with an exact message are in cases/ (prose-symlink-out,
yaml-symlink-*, markdown-sparse-huge, markdown-fifo, image-corrupt-idat); these are the ones that need
more than one command or a second process to show."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from conftest import FIXTURES, copy_project

LINK = "is a symbolic link; tablet never follows links in an issue folder"
SECRET = "secret outside the bundle"


def _project(tmp_path: Path) -> tuple[Path, Path]:
    project = copy_project(tmp_path / "p", bundles=())
    bundle = project / "issues" / "hostile"
    shutil.copytree(FIXTURES / "good" / "minimal", bundle)
    return project, bundle


def test_a_huge_sparse_markdown_file_is_refused_without_being_read(tmp_path: Path) -> None:
    """3 GB (sparse: no disk used) background.md: refused from fstat's size, in a process that stays
    small (the old code read it whole first: 3 GB of memory)."""
    project, bundle = _project(tmp_path)
    os.truncate(bundle / "background.md", 3_000_000_000)
    script = (
        "import resource, sys\n"
        "from tablet_press.cli import cli\n"
        "try:\n"
        "    cli(['validate', 'issues/hostile'])\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "print('maxrss-kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert done.stdout == (
        "issues/hostile/background.md:1:1: error: file is 3,000,000,000 bytes; the limit is 2,000,000\n"
    )
    assert done.returncode == 1
    (peak,) = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("maxrss-kib")]
    assert peak < 400_000, f"validate used {peak:,} KiB: the file was read"


def test_a_linked_issue_folder_is_refused(tmp_path: Path, run: Callable[..., Result]) -> None:
    project, bundle = _project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    bundle.replace(elsewhere)
    bundle.symlink_to(elsewhere, target_is_directory=True)
    result = run("validate", cwd=project)  # a path through the link would lead out of the project
    assert result.stdout == (
        f"issues/hostile:1:1: error: 'hostile' {LINK} (copy the real folder in its place)\n"
    )
    assert result.exit_code == 1


def test_the_archive_and_publication_hashes_never_follow_a_link(tmp_path: Path) -> None:
    """A link nobody references (assets/notes.txt -> a file elsewhere) is hashed as a link: what it
    points to is never read, so changing that file changes no hash."""
    from tablet_press.bundle.folder import load_bundle
    from tablet_press.checks.publication import source_hashes
    from tablet_press.site.archive import issue_key

    project, bundle = _project(tmp_path)
    target = tmp_path / "outside.txt"
    target.write_text(SECRET)
    (bundle / "assets").mkdir()
    (bundle / "assets" / "notes.txt").symlink_to(target)
    loaded, problems = load_bundle(bundle, project)
    assert loaded is not None, problems
    before = issue_key("shared", bundle), source_hashes(loaded)
    target.write_text(SECRET + " changed")
    assert (issue_key("shared", bundle), source_hashes(loaded)) == before
    (bundle / "assets" / "notes.txt").unlink()
    assert issue_key("shared", bundle) != before[0]  # the link itself still counts


def test_a_published_output_that_is_a_link_is_never_copied(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project, bundle = _project(tmp_path)
    other = project / "issues" / "other"  # a good issue beside it, so that the site is not empty
    shutil.copytree(bundle, other)
    (other / "issue.yaml").write_text((bundle / "issue.yaml").read_text().replace("number: 7", "number: 8"))
    assert run("publish", "hostile", "--date", "2025-07-01", cwd=project).exit_code == 0
    target = tmp_path / "outside.txt"
    target.write_text(SECRET)
    sent = bundle / "published" / "hostile.txt"
    sent.unlink()
    sent.symlink_to(target)
    message = (
        "issues/hostile/published/hostile.txt:1:1: error: a published output cannot be read: "
        f"'published/hostile.txt' {LINK} "
        "(copy the real file in its place)"
    )

    result = run("archive", cwd=project)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    site = project / "site"
    assert not [p for p in site.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]

    result = run("verify", cwd=project)
    assert result.exit_code == 1
    assert message in result.output


def test_the_email_refuses_an_assets_folder_linked_after_validation(tmp_path: Path) -> None:
    """A folder swapped for a link between validation and rendering (the preview renders on every
    save) is refused when the image is read, not followed."""
    import pytest
    from PIL import Image

    from tablet_press.bundle.folder import load_bundle
    from tablet_press.bundle.project import load_project
    from tablet_press.errors import BuildError
    from tablet_press.render.email import email_html
    from tablet_press.render.view import issue_view

    project_dir, bundle_dir = _project(tmp_path)
    (bundle_dir / "assets").mkdir()
    Image.new("RGB", (8, 8), "blue").save(bundle_dir / "assets" / "figure.png")
    background = bundle_dir / "background.md"
    background.write_text(background.read_text() + "\n![A figure](assets/figure.png)\n")
    project = load_project(project_dir)
    bundle, problems = load_bundle(bundle_dir, project_dir)
    assert bundle is not None, problems

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    Image.new("RGB", (8, 8), "red").save(elsewhere / "figure.png")
    shutil.rmtree(bundle_dir / "assets")
    (bundle_dir / "assets").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(BuildError) as refused:
        email_html(issue_view(bundle, project), bundle, project)
    assert str(refused.value) == (
        f"issues/hostile: image 'assets/figure.png' cannot be used: 'assets' {LINK}"
    )
