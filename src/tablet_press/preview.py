"""`tablet preview`: a local web server that shows one issue as its email and its PDF, and reloads the
browser (server-sent events) whenever a file of the issue, the templates, the styles, the brand or
tablet.yaml is saved. A broken issue shows its problems in the page; the server never stops for it.

The email view is rebuilt at once on every save; the PDF, which takes seconds, in a background thread.
Only 127.0.0.1 is served, and only to requests that name it (a DNS-rebinding page cannot read drafts).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tablet_press.bundle import Bundle
from tablet_press.errors import BuildError, Problem, ValidationFailed, display_path
from tablet_press.project import CONFIG_NAME, Project, find_root

HOST = "127.0.0.1"
KEEPALIVE_SECONDS = 15.0  # a comment this often, so that a closed tab shows up as a broken pipe
WATCHED = ("templates", "styles", "brand")  # besides the issue folder and tablet.yaml

Job = tuple[int, Bundle, Project]


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
    return root, max(bundles, key=lambda b: max((f.stat().st_mtime for f in b.rglob("*")), default=0.0))


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
            self._server = ThreadingHTTPServer((HOST, port), _handler(self))
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

    def wait(self) -> None:
        """Block until stopped; Ctrl-C raises KeyboardInterrupt here, in the main thread."""
        while not self._stopping.wait(0.5):
            pass

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
        from tablet_press.project import load_project
        from tablet_press.validate import validate

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
            email, images = _email(bundle, project)
        except BuildError as exc:
            return Snapshot(generation, bundle.issue.title, problems, failure=str(exc)), None
        job = (generation, bundle, project)  # the PDF of this version, for the background thread
        return Snapshot(generation, bundle.issue.title, problems, email, images), job

    def _typeset(self) -> None:
        """The PDF worker: typesets the newest valid version; saves made meanwhile wait for the next round."""
        from tablet_press.build import issue_pdf

        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._job is not None or self._stopping.is_set())
                if self._stopping.is_set() or self._job is None:
                    return
                (_, bundle, project), self._job = self._job, None
            pdf, status = None, "ready"
            try:
                pdf = issue_pdf(bundle, project)
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


def serve(path: Path, port: int, say: Callable[[str], None]) -> None:
    """`tablet preview`: serve until Ctrl-C, then stop cleanly."""
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


def _email(bundle: Bundle, project: Project) -> tuple[str, dict[str, tuple[str, bytes]]]:
    """The email as sent, with its inline images served from /cid/ and links opening a new tab."""
    from tablet_press.email import email_html
    from tablet_press.render import issue_view

    page, images = email_html(issue_view(bundle, project), bundle, project)
    page = page.replace('src="cid:', 'src="/cid/').replace("<head>", '<head><base target="_blank">', 1)
    return page, {image.cid: (f"image/{image.subtype}", image.data) for image in images}


# ---------------------------------------------------------------- the web side

HTML = "text/html; charset=utf-8"
PAGE_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
EMAIL_POLICY = (
    "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
)
SCRIPT = """// tablet preview: reload when a file was saved, keeping the email's scroll position.
const page = document.body.dataset;
const frame = document.querySelector("iframe.email");
const key = "tablet-preview-scroll";
function say(id, text) { document.getElementById(id).textContent = text; }
function reload() {
  if (frame && frame.contentWindow) sessionStorage.setItem(key, String(frame.contentWindow.scrollY));
  location.reload();
}
if (frame) frame.addEventListener("load", () => frame.contentWindow.scrollTo(0, +sessionStorage[key] || 0));
const events = new EventSource(`/events?since=${page.generation}&pdf=${page.pdf}`);
events.addEventListener("open", () => { page.live = "connected"; say("live", "live: reloads on save"); });
events.addEventListener("error", () => { page.live = "lost"; say("live", "not connected: is it running?"); });
events.addEventListener("reload", reload);
events.addEventListener("pdf", () => (page.view === "pdf" ? reload() : say("pdf-status", "PDF: ready")));
"""
STYLE = """body { margin: 0; height: 100vh; display: flex; flex-direction: column; font: 15px sans-serif; }
header { display: flex; gap: 1.2em; align-items: baseline; flex-wrap: wrap; padding: .5em 1em; }
header { background: #1d3c6e; color: #fff; } header a { color: #fff; }
header a[aria-current] { font-weight: bold; text-decoration: none; }
#live, #pdf-status { font-size: 90%; opacity: .85; }
section.problems { max-height: 40vh; overflow: auto; padding: 0 1em; border-bottom: 1px solid #ccd; }
li.error { color: #a00; } li code { color: #333; } li em { color: #555; }
main { flex: 1; display: flex; } iframe { flex: 1; border: 0; }
p.failure, p.waiting { margin: 1.5em; font-size: 110%; white-space: pre-wrap; }"""


def _handler(preview: Preview) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "tablet-preview"

        def do_GET(self) -> None:
            try:
                self._answer()
            except (BrokenPipeError, ConnectionResetError):
                return  # the tab was closed or reloaded meanwhile

        def _answer(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if self.headers.get("Host") not in (f"{HOST}:{preview.port}", f"localhost:{preview.port}"):
                return self._send(403, "text/plain", b"tablet preview answers only to 127.0.0.1\n")
            snapshot, pdf = preview.snapshot, preview.pdf
            cid = unquote(url.path.removeprefix("/cid/"))
            if url.path == "/":
                view = "pdf" if query.get("view") == ["pdf"] else "email"
                self._send(200, HTML, _page(preview, snapshot, view).encode(), PAGE_POLICY)
            elif url.path == "/preview.js":
                self._send(200, "text/javascript; charset=utf-8", SCRIPT.encode())
            elif url.path == "/email":
                body = snapshot.email or _page(preview, snapshot, "email")
                self._send(200 if snapshot.email else 503, HTML, body.encode(), EMAIL_POLICY)
            elif url.path.startswith("/cid/") and cid in snapshot.images:
                self._send(200, *snapshot.images[cid])
            elif url.path == "/issue.pdf" and pdf is not None:
                self._send(200, "application/pdf", pdf)
            elif url.path == "/events":
                self._stream(query)
            else:
                self._send(404, "text/plain", b"not found\n")

        def _send(self, status: int, kind: str, body: bytes, policy: str = "") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            if policy:
                self.send_header("Content-Security-Policy", policy)
            self.end_headers()
            self.wfile.write(body)

        def _stream(self, query: dict[str, list[str]]) -> None:
            def number(name: str) -> int:
                value = query.get(name, ["0"])[0]
                return int(value) if value.isdigit() else 0

            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            for chunk in preview.events(number("since"), number("pdf")):
                self.wfile.write(chunk)
                self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            return  # the terminal shows the preview's own lines, not one per request

    return Handler


def _problems(problems: list[Problem]) -> str:
    return "".join(
        f'<li class="{p.severity}"><code>{html.escape(f"{p.file}:{p.line}:{p.col}")}</code> '
        f"{p.severity}: {html.escape(p.message)}"
        + (f" <em>({html.escape(p.hint)})</em>" if p.hint else "")
        + "</li>"
        for p in problems
    )


def _page(preview: Preview, snapshot: Snapshot, view: str) -> str:
    """The preview page: a bar, the problems, and the email or the PDF (or why neither can be shown)."""
    e = html.escape
    with preview._changed:
        pdf_generation, pdf_status, has_pdf = preview.pdf_generation, preview.pdf_status, bool(preview.pdf)
    errors = [p for p in snapshot.problems if p.severity == "error"]
    warnings = [p for p in snapshot.problems if p.severity == "warning"]
    problems = ""
    if errors:
        problems += f"<h2>{len(errors)} error(s)</h2><ul>{_problems(errors)}</ul>"
    if warnings:
        problems += f"<details><summary>{len(warnings)} warning(s)</summary><ul>{_problems(warnings)}</ul>"
        problems += "</details>"
    if snapshot.email is None:
        main = f'<p class="failure">{e(snapshot.failure)}. Fix it and save: this page reloads by itself.</p>'
    elif view == "pdf" and has_pdf:
        main = f'<iframe class="pdf" title="The PDF" src="/issue.pdf?v={pdf_generation}"></iframe>'
    elif view == "pdf":
        main = f'<p class="waiting">PDF: {e(pdf_status)}. It appears here when it is ready.</p>'
    else:
        main = f'<iframe class="email" title="The email" src="/email?v={snapshot.generation}"></iframe>'
    current = {view: ' aria-current="page"'}
    shown = display_path(preview.bundle_dir, preview.root)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Preview: {e(snapshot.title)}</title>
<style>{STYLE}</style><script src="/preview.js" defer></script></head>
<body data-generation="{snapshot.generation}" data-pdf="{pdf_generation}" data-view="{view}" data-live="no">
<header><strong>{e(snapshot.title)}</strong> <span>{e(shown)}</span>
<nav><a href="/?view=email"{current.get("email", "")}>Email</a> ·
<a href="/?view=pdf"{current.get("pdf", "")}>PDF</a>
{' · <a href="/issue.pdf" target="_blank">open the PDF</a>' if has_pdf else ""}</nav>
<span id="pdf-status">PDF: {e(pdf_status)}</span> <span id="live">connecting…</span></header>
{f'<section class="problems">{problems}</section>' if problems else ""}
<main>{main}</main>
</body></html>
"""
