"""The running `tablet preview`: it watches one issue, rebuilds what it shows, and tells browsers to reload.

It reloads the browser (server-sent events) whenever a file of the issue, the templates, the styles, the
brand or tablet.yaml is saved. A broken issue shows its problems in the page; the preview never stops for it.
Each save makes one view model, which feeds both outputs: the email at once, and the print HTML whose
PDF, which takes seconds, is typeset in a worker process (where the render's time limit holds, and
the server stays responsive meanwhile), waited for by a background thread. The server and the page it
serves are preview/http.py's.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tablet_press.build import pdf_job, print_html
from tablet_press.bundle.folder import Bundle
from tablet_press.bundle.project import CONFIG_NAME, Project, find_root, load_project
from tablet_press.checks.validate import validate
from tablet_press.errors import BuildError, Problem, ValidationFailed, display_path
from tablet_press.preview.http import HOST, http_server
from tablet_press.refs.engine import Citations
from tablet_press.render.email import email_html
from tablet_press.render.pdf import pdf_workers
from tablet_press.render.view import issue_view

if TYPE_CHECKING:
    from tablet_press.render.view import IssueView

KEEPALIVE_SECONDS = 15.0  # a comment this often, so that a closed tab shows up as a broken pipe
WATCHED = ("templates", "styles", "brand")  # besides the issue folder and tablet.yaml

# The PDF of one version: (generation, bundle, project, the view the email was made from).
Job = tuple[int, Bundle, Project, "IssueView"]


@dataclass(frozen=True)
class Snapshot:
    """What the preview shows after one refresh: the email, or why there is none."""

    generation: int
    title: str
    problems: tuple[Problem, ...] = ()
    email: str | None = None
    images: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # cid -> (type, data)
    failure: str = ""


def choose_bundle(start: Path) -> tuple[Path, Path]:
    """(project root, issue folder) for PATH: the issue folder PATH is in, or else the issue edited last."""
    root = find_root(start)
    if root is None:
        raise ValidationFailed(
            [Problem(str(start), 1, 1, f"no {CONFIG_NAME} found here or in any parent folder")]
        )
    if not start.exists():
        raise BuildError(f"{start} does not exist")
    issues, here = (root / "issues").resolve(), start.resolve()
    if issues in here.parents:
        return root, issues / here.relative_to(issues).parts[0]
    bundles = (
        [p for p in issues.iterdir() if p.is_dir() and not p.name.startswith(".")] if issues.is_dir() else []
    )
    if not bundles:
        raise BuildError("there is no issue to preview yet; start one with 'tablet new SLUG'")
    return root, max(bundles, key=lambda b: max((f.lstat().st_mtime for f in b.rglob("*")), default=0.0))


class Preview:
    """One issue served on 127.0.0.1: start() it, read .url, stop() it (also from another thread)."""

    def __init__(self, root: Path, bundle_dir: Path) -> None:
        self.root, self.bundle_dir = root, bundle_dir
        self.snapshot = Snapshot(0, bundle_dir.name, failure="starting")
        self.pdf: bytes | None = None
        self.pdf_generation = 0
        self.pdf_status = "waiting for the first build"
        self.clients = 0  # event streams opened so far: how a test sees that a browser connected
        self._changed = threading.Condition()  # guards everything above; notified on every change
        self._job: Job | None = None
        self._rendering = threading.Lock()  # two watchers may report at once; render one at a time
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server: ThreadingHTTPServer | None = None
        self._workers = ExitStack()  # the process that typesets, while the preview runs
        # The citation engine's work, kept from save to save (most change prose, not references);
        # used under _rendering only, so by one thread at a time.
        self._citations = Citations()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def start(self, port: int = 0) -> Preview:
        dirs = [d for d in (self.bundle_dir, *(self.root / name for name in WATCHED)) if d.is_dir()]
        # Editors save by writing a new file over the old one, which ends a watch on the file itself:
        # so the project folder is watched, not recursively, for tablet.yaml alone.
        ready = [
            self._watch(dirs, recursive=True),
            self._watch([self.root], recursive=False, only=CONFIG_NAME),
        ]
        for watching in ready:  # from here on no save is missed: render only once they watch
            watching.wait(timeout=10)
        self.refresh()
        try:
            self._server = http_server(self, port)
        except OSError as exc:
            self.stop()
            raise BuildError(
                f"cannot serve on {HOST}:{port} ({exc.strerror}); choose another --port"
            ) from None
        self._spawn(self._server.serve_forever)
        self._spawn(self._typeset)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._workers.close()

    def wait(self) -> None:
        """Block until stopped; Ctrl-C raises KeyboardInterrupt here, in the main thread."""
        while not self._stopping.wait(0.5):
            pass

    def pdf_state(self) -> tuple[int, str, bool]:
        """(PDF generation, PDF status, whether there is a PDF), read together."""
        with self._changed:
            return self.pdf_generation, self.pdf_status, bool(self.pdf)

    def refresh(self) -> None:
        """Validate and render the email view again, then tell every browser to reload."""
        with self._rendering:
            generation = self.snapshot.generation + 1
            try:
                snapshot, job = self._render(generation)
            except Exception as exc:  # a bug must not stop the preview: it is shown in the page instead
                snapshot, job = Snapshot(generation, self.bundle_dir.name, failure=_internal(exc)), None
            with self._changed:
                self.snapshot = snapshot
                if job is not None:
                    self._job, self.pdf_status = job, "typesetting…"
                self._changed.notify_all()

    def _render(self, generation: int) -> tuple[Snapshot, Job | None]:

        slug = self.bundle_dir.name
        try:
            project = load_project(self.root)
        except ValidationFailed as exc:
            return Snapshot(generation, slug, tuple(exc.problems), failure=f"{CONFIG_NAME} has errors"), None
        report = validate(project, [self.bundle_dir])
        problems = tuple(report.problems)
        if report.errors or not report.bundles:
            return Snapshot(generation, slug, problems, failure="the issue has errors"), None
        bundle = report.bundles[0]
        try:
            # Once per save, here: the typesetting thread gets this view, so that no two threads run
            # the citation engine at once, and the email and the PDF always show the same version.
            view = issue_view(bundle, project, self._citations)
            email, images = _email(bundle, project, view)
        except BuildError as exc:
            return Snapshot(generation, bundle.issue.title, problems, failure=str(exc)), None
        job = (generation, bundle, project, view)  # the PDF of this version, for the background thread
        return Snapshot(generation, bundle.issue.title, problems, email, images), job

    def _typeset(self) -> None:
        """Has the newest valid version typeset; saves made meanwhile wait for the next round."""
        from concurrent.futures.process import BrokenProcessPool

        # Spawned, not forked: the preview already runs threads. A worker that dies is replaced.
        workers = None
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._job is not None or self._stopping.is_set())
                if self._stopping.is_set() or self._job is None:
                    return
                (_, bundle, project, view), self._job = self._job, None
            pdf, status = None, "ready"
            try:
                if workers is None:
                    workers = self._workers.enter_context(pdf_workers(1, spawn=True))
                assert workers is not None
                pdf = workers.submit(pdf_job(bundle, project, print_html(bundle, project, view))).result().pdf
            except BrokenProcessPool:
                workers, status = None, "failed: the typesetting process stopped; save again to retry"
            except (BuildError, ValidationFailed) as exc:
                status = f"failed: {exc}"
            except Exception as exc:  # as in refresh(): shown, never fatal
                status = f"failed: {_internal(exc)}"
            with self._changed:
                self.pdf = pdf if pdf is not None else self.pdf
                self.pdf_generation += 1
                self.pdf_status = status if self._job is None else "typesetting…"
                self._changed.notify_all()

    def _watch(self, paths: list[Path], *, recursive: bool, only: str = "") -> threading.Event:
        """Refresh on every save under `paths`; the event is set once the watch is in place."""
        import watchfiles

        ready = threading.Event()

        def wanted(change: Any, path: str) -> bool:
            return Path(path).name == only if only else watchfiles.DefaultFilter()(change, path)

        def run() -> None:
            try:
                # The first yield (changes, or none after rust_timeout) comes once the watch is set up.
                for changes in watchfiles.watch(
                    *paths,
                    watch_filter=wanted,
                    recursive=recursive,
                    stop_event=self._stopping,
                    step=50,
                    rust_timeout=100,
                    yield_on_timeout=True,
                ):
                    ready.set()
                    if changes:
                        self.refresh()
            finally:
                ready.set()

        self._spawn(run)
        return ready

    def _spawn(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, daemon=True, name=f"tablet-preview-{len(self._threads)}")
        thread.start()
        self._threads.append(thread)

    def events(self, since: int, pdf_since: int) -> Iterator[bytes]:
        """The server-sent events of one browser tab: 'reload' after a save, 'pdf' when typeset."""
        with self._changed:
            self.clients += 1
        yield b"retry: 1000\n\n"
        seen = [since, pdf_since]
        while not self._stopping.is_set():
            with self._changed:
                self._changed.wait_for(
                    lambda: (
                        self._stopping.is_set() or [self.snapshot.generation, self.pdf_generation] != seen
                    ),
                    timeout=KEEPALIVE_SECONDS,
                )
                now = [self.snapshot.generation, self.pdf_generation]
            if self._stopping.is_set():
                return
            if now[0] != seen[0]:
                yield f"event: reload\ndata: {now[0]}\n\n".encode()
            elif now[1] != seen[1]:
                yield f"event: pdf\ndata: {now[1]}\n\n".encode()
            else:
                yield b": still here\n\n"
            seen[:] = now


def start_preview(path: Path, port: int = 0) -> Preview:
    """Start previewing the issue at `path` on 127.0.0.1:`port` (0: any free port); returns the
    running preview, whose .port and .url say where it is and whose .stop() ends it."""
    root, bundle_dir = choose_bundle(path)
    return Preview(root, bundle_dir).start(port)


STOP_SIGNALS = ("SIGTERM", "SIGHUP")  # a service manager's stop, a closed terminal: both end the preview


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Make SIGTERM and SIGHUP stop the preview as Ctrl-C does (KeyboardInterrupt in the main thread).

    Their default action ends this process at once, skipping Preview.stop(): the PDF worker and
    multiprocessing's resource tracker were left running, orphaned. Handled here, the worker pool is
    shut down and the tracker, whose pipe then closes, exits too. Outside the main thread (a test
    calling serve() from a thread) signals cannot be handled, and nothing is changed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    names = [name for name in STOP_SIGNALS if hasattr(signal, name)]  # Windows has no SIGHUP
    previous = {name: signal.signal(getattr(signal, name), stop) for name in names}
    try:
        yield
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)


def serve(path: Path, port: int, say: Callable[[str], None]) -> None:
    """`tablet preview`: serve until Ctrl-C, SIGTERM or SIGHUP, then stop cleanly, workers included."""
    with _stopped_by_signals():
        preview = start_preview(path, port)
        shown = display_path(preview.bundle_dir, preview.root)
        say(f"previewing {shown} at {preview.url} (it reloads when you save; Ctrl-C stops)")
        try:
            preview.wait()
        except KeyboardInterrupt:
            pass
        finally:
            preview.stop()
    say("preview stopped")


def _internal(exc: Exception) -> str:
    return f"internal error: {type(exc).__name__}: {exc} (a bug in tablet-press; please report it)"


def _email(bundle: Bundle, project: Project, view: IssueView) -> tuple[str, dict[str, tuple[str, bytes]]]:
    """The email as sent, with its inline images served from /cid/ and links opening a new tab."""

    page, images = email_html(view, bundle, project)
    page = page.replace('src="cid:', 'src="/cid/').replace("<head>", '<head><base target="_blank">', 1)
    return page, {image.cid: (f"image/{image.subtype}", image.data) for image in images}
