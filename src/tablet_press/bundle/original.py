"""The original PDF of a back-catalog issue (kind: archived-pdf), read with PDFium (pypdfium2): its page
count, its text (for the archive's search) and a PNG of its first page.

A past issue's PDF is untrusted input, and PDFium is C++: it is read in a child process with a bounded
size, page count, amount of text and time, so that a hostile or broken file costs a clear
`file: message` error, never a hang, a crash of tablet or a traceback. An encrypted PDF is refused (its
text may be locked and it could not be served as the archive's copy).
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_PDF_BYTES = 100 * 1024 * 1024  # a scanned 60-page newsletter is far smaller
MAX_PAGES = 200
MAX_TEXT = 500_000  # characters of text kept for search
SECONDS = 60  # for the whole reading, rendering included
THUMBNAIL_SCALE = 0.32  # points -> pixels: a US Letter page becomes about 196 x 253 px


# The child imports this module from the same source tree as its parent, however the parent was started.
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); from tablet_press.bundle.original import _main; _main()"
)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")


class UnreadablePdf(ValueError):
    """A PDF that cannot be used as an issue's original: the message says why, for `file: message`."""


@dataclass(frozen=True)
class OriginalPdf:
    pages: int
    text: str  # the pages' text, pages separated by a form feed
    title: str  # the document's Title metadata, or ""
    thumbnail: bytes  # PNG of the first page


def read_original(data: bytes, *, seconds: float = SECONDS) -> OriginalPdf:
    """Read a PDF's pages, text and first-page thumbnail, or raise UnreadablePdf saying why (the page
    limit is this module's MAX_PAGES when called)."""
    if len(data) > MAX_PDF_BYTES:
        raise UnreadablePdf(
            f"it is {len(data) // 2**20} MB; an issue's PDF may be at most {MAX_PDF_BYTES // 2**20} MB"
        )
    if not data.lstrip(b"\0\t\n\r\f ")[:5] == b"%PDF-":
        raise UnreadablePdf("it is not a PDF (it does not start with %PDF-)")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(Path(__file__).resolve().parents[2]), str(MAX_PAGES)],
            input=data,
            capture_output=True,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UnreadablePdf(f"reading it took longer than {seconds:g} seconds; it may be damaged") from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        raise UnreadablePdf(
            "PDFium could not read it (it stopped without an answer); it may be damaged"
        ) from None
    if "error" in answer:
        raise UnreadablePdf(str(answer["error"]))
    return OriginalPdf(
        pages=int(answer["pages"]),
        text=str(answer["text"]),
        title=str(answer["title"]),
        thumbnail=base64.b64decode(answer["thumbnail"]),
    )


def _read(data: bytes, max_pages: int) -> dict[str, object]:
    """In the child: the answer as JSON-able data, or {"error": ...}."""
    import pypdfium2
    import pypdfium2.raw as pdfium

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            return {"error": "it is encrypted (password-protected); save an unprotected copy and import that"}
        return {"error": f"it is not a PDF PDFium can read ({reason})"}
    try:
        if pdfium.FPDF_GetSecurityHandlerRevision(document.raw) != -1:
            return {"error": "it is encrypted; save an unprotected copy and import that"}
        pages = len(document)
        if pages == 0:
            return {"error": "it has no pages"}
        if pages > max_pages:
            return {"error": f"it has {pages} pages; an issue's PDF may have at most {max_pages}"}
        texts, size = [], 0
        for index in range(pages):
            page = document[index]
            textpage = page.get_textpage()
            text = textpage.get_text_bounded().replace("\r\n", "\n").replace("\r", "\n")
            textpage.close()
            page.close()
            texts.append(_CONTROL.sub("", text).strip())  # a form feed is kept for between the pages
            size += len(text)
            if size > MAX_TEXT:
                break
        image = document[0].render(scale=THUMBNAIL_SCALE).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        title = document.get_metadata_dict(skip_empty=True).get("Title", "")
        return {
            "pages": pages,
            "text": "\f".join(texts)[:MAX_TEXT],
            "title": " ".join(str(title).split()),
            "thumbnail": base64.b64encode(out.getvalue()).decode(),
        }
    except pypdfium2.PdfiumError as exc:
        return {"error": f"PDFium could not read it ({exc})"}
    finally:
        document.close()


def _main() -> None:
    data = sys.stdin.buffer.read()
    try:
        answer = _read(data, int(sys.argv[2]))
    except Exception as exc:  # anything the library raises on a hostile file: an answer, not a traceback
        answer = {"error": f"PDFium could not read it ({type(exc).__name__}: {exc})"}
    sys.stdout.write(json.dumps(answer))
