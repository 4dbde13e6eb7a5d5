"""The preview's web side: the server on 127.0.0.1, its routes, and the page around the email or the PDF.

Only 127.0.0.1 is served, and only to requests that name it (a DNS-rebinding page cannot read drafts).
"""

from __future__ import annotations

import html
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from tablet_press.errors import Problem, display_path

if TYPE_CHECKING:  # preview.py imports this module to serve; only the types go the other way
    from tablet_press.preview.server import Preview, Snapshot

HOST = "127.0.0.1"  # the only address served: the drafts never leave this computer
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


def http_server(preview: Preview, port: int) -> ThreadingHTTPServer:
    """The server of `preview` on HOST:`port` (0: any free port), bound but not yet serving."""
    return ThreadingHTTPServer((HOST, port), _handler(preview))


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
    pdf_generation, pdf_status, has_pdf = preview.pdf_state()
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
