"""`tablet preview` as a browser uses it: the page, the event stream, a reload after each save, the error
page while the issue is broken and the recovery once it is fixed, the PDF from the background, a clean
stop (also by Ctrl-C), and headless Chromium running the page's own script. The real server throughout."""

from __future__ import annotations

import _thread
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from tablet_press.errors import BuildError
from tablet_press.preview.server import Preview, choose_bundle, serve, start_preview

from conftest import CHROMIUM, ROOT, SAMPLE, needs_tool

TITLE = "The Newest Kid on the Block"
HANG = 120.0  # seconds after which a wait is a hang: generous, as a busy machine typesets slowly


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def page(url: str) -> str:
    status, body = get(url)
    assert status == 200, body[:300]
    return body.decode()


class Events:
    """A server-sent event stream, read line by line as EventSource does."""

    def __init__(self, url: str) -> None:
        self.response = urllib.request.urlopen(url, timeout=30)
        assert self.response.headers["Content-Type"] == "text/event-stream"

    def wait_for(self, name: str, seconds: float = HANG) -> str:
        """The data of the next event called `name` (others are skipped); the bound only catches a hang."""
        deadline, event = time.monotonic() + seconds, ""
        while time.monotonic() < deadline:
            line = self.response.readline().decode()
            assert line, "the server closed the event stream"
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: ") and event == name:
                return line[6:].strip()
        raise AssertionError(f"no '{name}' event within {seconds} s")


@pytest.fixture
def preview(project: Path) -> Iterator[Preview]:
    running = start_preview(project / "issues" / SAMPLE)
    yield running
    running.stop()


def _stream(preview: Preview) -> Events:
    shown = page(preview.url)
    since = re.search(r'data-generation="(\d+)" data-pdf="(\d+)"', shown)
    assert since, shown[:500]
    return Events(f"{preview.url}events?since={since[1]}&pdf={since[2]}")


def test_edit_break_and_fix_as_a_browser_sees_it(preview: Preview, project: Path) -> None:
    bundle = project / "issues" / SAMPLE
    shown = page(preview.url)
    assert TITLE in shown and '<iframe class="email"' in shown and 'src="/preview.js"' in shown
    events = _stream(preview)
    events.wait_for("pdf")  # typeset in the background after the first render
    status, pdf = get(preview.url + "issue.pdf")
    assert status == 200 and pdf.startswith(b"%PDF-")

    anecdote = bundle / "anecdote.md"
    anecdote.write_text(anecdote.read_text().replace("Anecdotally,", "Anecdotally (new words),"))
    events.wait_for("reload")
    assert "Anecdotally (new words)," in page(preview.url + "email")

    anecdote.write_text("Text <script>alert(1)</script> here.\n")
    events.wait_for("reload")
    shown = page(preview.url)
    assert f"issues/{SAMPLE}/anecdote.md:1:6</code> error: raw HTML is not allowed" in shown
    assert "&lt;script&gt;" in shown and "<script>alert" not in shown and "<iframe" not in shown

    issue = bundle / "issue.yaml"
    good = issue.read_text()
    anecdote.write_text("Anecdotally, fixed.\n")
    issue.write_text(good.replace("number: 1 ", "number: [1 "))
    events.wait_for("reload")
    shown = page(preview.url)
    assert f"<code>issues/{SAMPLE}/issue.yaml:4:1</code> error: YAML syntax error" in shown
    assert "&lt;scalar&gt;" in shown and "<scalar>" not in shown
    status, body = get(preview.url + "email")
    assert status == 503 and b"issue.yaml:4:1" in body

    issue.write_text(good)
    events.wait_for("reload")
    assert '<iframe class="email"' in page(preview.url)
    assert "Anecdotally, fixed." in page(preview.url + "email")
    assert re.search(r'<img[^>]+src="/cid/([^"]+)"', page(preview.url + "email"))


def test_one_view_per_save_feeds_the_email_and_the_pdf(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The typesetting thread takes the view the email was made from: no second run of the citation
    engine on another thread, and the PDF shows the very version the email shows."""
    import tablet_press.build
    import tablet_press.preview.server
    import tablet_press.render.view

    made: list[str] = []
    kept: set[int] = set()  # the preview's own cache of the citation engine's work, one for every save
    real = tablet_press.render.view.issue_view

    def counted(bundle: Any, project: Any, citations: Any = None) -> Any:
        made.append(threading.current_thread().name)
        assert citations is not None
        kept.add(id(citations))
        return real(bundle, project, citations)

    monkeypatch.setattr(tablet_press.render.view, "issue_view", counted)
    monkeypatch.setattr(tablet_press.build, "issue_view", counted)
    monkeypatch.setattr(tablet_press.preview.server, "issue_view", counted)
    running = start_preview(project / "issues" / SAMPLE)
    try:
        events = _stream(running)
        events.wait_for("pdf")
        assert len(made) == running.snapshot.generation == 1
        anecdote = project / "issues" / SAMPLE / "anecdote.md"
        anecdote.write_text(anecdote.read_text().replace("Anecdotally,", "Anecdotally (again),"))
        events.wait_for("reload")
        events.wait_for("pdf")
        # One view per refresh (an editor's save may be seen as more than one change), none for the PDF.
        assert len(made) == running.snapshot.generation >= 2
        assert len(kept) == 1
        assert running.pdf_state()[1] == "ready"
    finally:
        running.stop()


def test_tablet_yaml_and_templates_are_watched_too(preview: Preview, project: Path) -> None:
    events = _stream(preview)
    config = project / "tablet.yaml"
    replacement = project / "tablet.yaml.new"  # saved the way editors save: a new file over the old
    replacement.write_text(config.read_text().replace("name: The Tablet\n", "name: The Tablet Weekly\n"))
    replacement.replace(config)
    events.wait_for("reload")
    assert "The Tablet Weekly" in page(preview.url + "email")
    good = config.read_text()
    config.write_text(good.replace("reference_style: apa", "reference_style: harvard"))
    events.wait_for("reload")
    shown = page(preview.url)
    assert "<code>tablet.yaml:" in shown and "&#x27;harvard&#x27; is not one of" in shown, shown[-2000:]
    config.write_text(good)
    events.wait_for("reload")
    style = project / "styles" / "email.css"
    style.write_text(style.read_text() + "\n.unknown { color: var(--no-such-colour); }\n")
    events.wait_for("reload")
    assert "styles/email.css: unknown variable --no-such-colour" in page(preview.url)


def test_answers_only_on_127_0_0_1_to_requests_naming_it(preview: Preview) -> None:
    assert preview._server is not None and preview._server.server_address[0] == "127.0.0.1"
    connection = http.client.HTTPConnection("127.0.0.1", preview.port, timeout=10)
    connection.request("GET", "/", headers={"Host": f"attacker.example:{preview.port}"})
    assert connection.getresponse().status == 403
    assert get(preview.url + "nothing-here")[0] == 404
    assert get(f"http://localhost:{preview.port}/")[0] == 200


def test_stop_ends_streams_threads_and_the_socket(project: Path) -> None:
    running = start_preview(project / "issues" / SAMPLE)
    events = _stream(running)
    running.stop()
    # What stopping does, not how fast: a duration measured on a shared machine is noise (it was 4.4-5.9 s).
    assert events.response.read().strip() in (b"retry: 1000", b"")  # the stream ends, and nothing more
    with pytest.raises(OSError):
        urllib.request.urlopen(running.url, timeout=5)
    assert not [t for t in threading.enumerate() if t.name.startswith("tablet-preview")]


def test_a_pdf_past_the_time_limit_is_stopped_and_said(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview typesets in a worker process, where the render's time limit holds (a thread cannot
    be stopped), and says why the PDF failed; the email view is not held up meanwhile."""
    from tablet_press.render import pdf

    monkeypatch.setattr(pdf, "RENDER_SECONDS", 1)
    template = project / "templates" / "print.html.j2"
    body = '{% include "_issue_body.html.j2" %}'
    assert body in template.read_text()
    # The issue 300 times over: a PDF of a thousand pages, far past one second.
    template.write_text(
        template.read_text().replace(body, "{% for _ in range(300) %}" + body + "{% endfor %}")
    )
    running = start_preview(project / "issues" / SAMPLE)
    try:
        assert TITLE in page(running.url + "email")
        _until(lambda: running.pdf_state()[0] > 0)
        assert "typesetting took longer than the limit of 1 seconds" in running.pdf_state()[1]
    finally:
        running.stop()


def test_ctrl_c_stops_the_command_cleanly(project: Path) -> None:
    said: list[str] = []

    def say(line: str) -> None:
        said.append(line)
        if len(said) == 1:  # the server is up: press Ctrl-C
            threading.Timer(0.3, _thread.interrupt_main).start()

    serve(project / "issues" / SAMPLE, 0, say)
    assert re.fullmatch(
        rf"previewing issues/{SAMPLE} at http://127\.0\.0\.1:\d+/ \(it reloads when you save; Ctrl-C stops\)",
        said[0],
    )
    assert said[1:] == ["preview stopped"]


def _alive_in_group(group: int) -> list[str]:
    """The processes of a process group that still run (zombies excluded), as 'pid command' lines."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended while we looked
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        if int(rest[2]) == group and rest[0] != "Z":  # fields after the name: state, ppid, pgrp
            alive.append(f"{stat.parent.name} {name}")
    return alive


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table in /proc")
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_the_preview_and_all_its_children(name: str, project: Path) -> None:
    """`tablet preview` run as a service manager or a closing terminal runs it: the signal stops it
    cleanly, and no PDF worker or multiprocessing resource tracker outlives it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "tablet_press", "preview", "--port", "0"]
    running = subprocess.Popen(  # its own process group: every child it starts can be found
        command, cwd=project / "issues" / SAMPLE, env=env, stdout=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert running.stdout is not None
        said = running.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", said)
        assert url, said
        _until(lambda: get(url[0] + "issue.pdf")[0] == 200)  # typeset: the worker is running now
        assert len(_alive_in_group(running.pid)) >= 3, _alive_in_group(running.pid)  # + resource tracker
        running.send_signal(getattr(signal, name))
        assert running.wait(timeout=HANG) == 0
        assert running.stdout.read() == "preview stopped\n"
        _until(lambda: not _alive_in_group(running.pid))
    finally:
        if _alive_in_group(running.pid):
            os.killpg(running.pid, signal.SIGKILL)
        running.wait(timeout=HANG)


def test_a_port_in_use_is_a_clear_error(preview: Preview, project: Path) -> None:
    with pytest.raises(
        BuildError, match=rf"cannot serve on 127\.0\.0\.1:{preview.port} .*choose another --port"
    ):
        start_preview(project / "issues" / SAMPLE, preview.port)


def test_which_issue_is_previewed(project: Path) -> None:
    other = project / "issues" / "2025-08-methadone"
    shutil.copytree(project / "issues" / SAMPLE, other)
    assert choose_bundle(project / "issues" / SAMPLE / "issue.yaml")[1].name == SAMPLE  # the one you are in
    (project / "issues" / SAMPLE / "anecdote.md").touch()
    assert choose_bundle(project)[1].name == SAMPLE  # else the one edited last
    (other / "background.md").write_text("Edited just now.\n")
    assert choose_bundle(project)[1].name == "2025-08-methadone"


def test_cli_refuses_what_it_cannot_preview(project: Path, run: Callable[..., Result]) -> None:
    assert "--port" in run("preview", "--help", cwd=project).output
    result = run("preview", "issues/nowhere", cwd=project)
    assert (result.exit_code, result.stderr) == (1, "error: issues/nowhere does not exist\n")
    shutil.rmtree(project / "issues")
    result = run("preview", cwd=project)
    assert result.stderr == "error: there is no issue to preview yet; start one with 'tablet new SLUG'\n"


def _until(condition: Callable[[], bool], seconds: float = HANG) -> None:
    """Poll until `condition` holds; the bound only turns a hang into a failure, it times nothing."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@needs_tool("chromium")
def test_headless_chromium_shows_the_issue_and_reloads_on_save(
    preview: Preview, project: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [*CHROMIUM, f"--user-data-dir={tmp_path / 'dump'}", "--dump-dom", preview.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"<strong>{TITLE}" in done.stdout
    assert '<iframe class="email"' in done.stdout and 'id="live"' in done.stdout
    _until(lambda: preview.clients == 1)  # the page's script opened the event stream

    # A tab left open reloads itself when a file is saved: its script opens a new stream.
    browser = subprocess.Popen(
        [*CHROMIUM, f"--user-data-dir={tmp_path / 'open'}", preview.url],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _until(lambda: preview.clients == 2)
        time.sleep(0.5)
        assert preview.clients == 2  # nothing reloads by itself
        anecdote = project / "issues" / SAMPLE / "anecdote.md"
        anecdote.write_text(anecdote.read_text().replace("Anecdotally,", "Anecdotally (saved),"))
        _until(lambda: preview.clients == 3)
    finally:
        browser.terminate()
        browser.wait(timeout=30)
