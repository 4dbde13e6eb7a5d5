"""`tablet validate --watch`, run as an editor runs it: a separate process that prints the problems
again after every save, and stops cleanly on Ctrl-C (SIGINT) or SIGTERM."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tablet_press.bundle.project import load_project
from tablet_press.checks.validate import validate

from conftest import ROOT, SAMPLE

HANG = 60  # seconds: a shared, loaded machine; a watcher that never answers fails long before


class Watcher:
    """`tablet validate --watch --format json` in the issue's folder; one JSON array per check."""

    def __init__(self, folder: Path, *args: str, merged: bool = False) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "tablet_press", "validate", "--watch", *args]
        self.process = subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merged else subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        assert self.process.stdout is not None
        stdout = self.process.stdout
        threading.Thread(target=lambda: [self.lines.put(line) for line in stdout], daemon=True).start()

    def next(self) -> str:
        return self.lines.get(timeout=HANG)


def _messages(line: str) -> list[str]:
    import json

    return [p["message"] for p in json.loads(line) if p["severity"] == "error"]


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_a_broken_save_is_reported_and_its_fix_clears_it(project: Path, stop: str) -> None:
    folder = project / "issues" / SAMPLE
    watcher = Watcher(folder, "--format", "json")
    try:
        assert _messages(watcher.next()) == []  # the first check: the sample has warnings only
        prose = folder / "mechanism.md"
        good = prose.read_text(encoding="utf-8")
        prose.write_text(good + "\nAs shown before [@nosuchref].\n", encoding="utf-8")
        assert any("nosuchref" in m for m in _messages(watcher.next()))
        prose.write_text(good, encoding="utf-8")  # fixed: the next check is clean again
        assert _messages(watcher.next()) == []
        (project / "tablet.yaml").write_text("newsletter: [\n", encoding="utf-8")  # a broken project
        assert _messages(watcher.next())  # said, and the watcher keeps going
    finally:
        watcher.process.send_signal(getattr(signal, stop))
        assert watcher.process.wait(timeout=HANG) == 0
    assert watcher.process.stderr is not None
    assert "Traceback" not in watcher.process.stderr.read()


def test_text_output_says_ok_then_failed(project: Path) -> None:
    folder = project / "issues" / SAMPLE
    watcher = Watcher(project, f"issues/{SAMPLE}", merged=True)  # stderr's summaries in order too
    said: list[str] = []

    def until(start: str) -> str:
        while not (line := watcher.next()).startswith(start):
            said.append(line)
        said.append(line)
        return line

    warnings = len(validate(load_project(project), [folder]).warnings)  # as a one-off `tablet validate`
    try:
        assert f"0 error(s), {warnings} warning(s) in 1 issue(s)" in until("ok: ")
        issue = folder / "issue.yaml"
        issue.write_text(issue.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
        assert until("FAILED: ").startswith("FAILED: 1 error(s), ")
        assert any("issue.yaml" in line and "colour" in line for line in said)
    finally:
        watcher.process.send_signal(signal.SIGTERM)
        assert watcher.process.wait(timeout=HANG) == 0
    assert watcher.next() == "stopped watching\n"
