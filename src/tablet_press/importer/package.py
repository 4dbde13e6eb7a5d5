"""Opening a Word draft safely, and the scan for what an import cannot carry faithfully: the zip is
checked (not Word, encrypted, a zip bomb) and its XML read for text boxes, tracked changes, comments,
content controls, merged cells and WMF/EMF images before any converter sees it."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from tablet_press.errors import BuildError

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: an encrypted .docx or an old .doc
MAX_FILE = 50 * 1024 * 1024  # the .docx itself
MAX_UNPACKED = 200 * 1024 * 1024  # all its parts, unpacked
MAX_RATIO = 200  # unpacked/packed of one part above 1 MB: ordinary XML packs 5-20 times
MAX_PARTS = 10_000
PARTS_WITH_TEXT = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml", "word/comments.xml")


@dataclass(frozen=True)
class Finding:
    """Something in the draft the import cannot carry as Word shows it."""

    check: str  # textbox, tracked-change, comment, content-control, merged-cells, metafile-image
    message: str
    refused: bool = False  # the import stops unless told otherwise (tracked changes)


@dataclass
class Scan:
    findings: list[Finding] = field(default_factory=list)


def _text(element: ElementTree.Element) -> str:
    return "".join(t.text or "" for t in element.iter() if t.tag in (f"{W}t", f"{W}delText")).strip()


def open_draft(path: Path, shown: str) -> zipfile.ZipFile:
    """The draft as a zip archive, or a BuildError saying plainly why it is not one we will read."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
        size = path.stat().st_size
    except OSError as exc:
        raise BuildError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if head == OLE_MAGIC:
        data = path.read_bytes()[:MAX_FILE]
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise BuildError(
                f"{shown} is encrypted (password-protected); in Word remove the password "
                "(File > Info > Protect Document) and save it again"
            )
        raise BuildError(f"{shown} is an old Word 97-2003 .doc; open it in Word and save it as .docx")
    if size > MAX_FILE:
        raise BuildError(f"{shown} is {size // (1024 * 1024)} MB; a draft over 50 MB is not read")
    if not zipfile.is_zipfile(path):
        raise BuildError(f"{shown} is not a Word document (.docx): it is not a zip package")
    archive = zipfile.ZipFile(path)
    try:
        _check_package(archive, shown)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_package(archive: zipfile.ZipFile, shown: str) -> None:
    items = archive.infolist()
    if len(items) > MAX_PARTS:
        raise BuildError(f"{shown} has {len(items)} parts; refusing it as a zip bomb")
    total = 0
    for item in items:
        total += item.file_size
        ratio = item.file_size / max(item.compress_size, 1)
        if total > MAX_UNPACKED or (item.file_size > 1024 * 1024 and ratio > MAX_RATIO):
            raise BuildError(
                f"{shown} unpacks to far more than it holds ({item.filename}: {item.file_size} bytes "
                f"from {item.compress_size}); refusing it as a zip bomb"
            )
        if item.flag_bits & 0x1:
            raise BuildError(f"{shown} is encrypted (password-protected); remove the password in Word")
    if "word/document.xml" not in archive.namelist():
        raise BuildError(f"{shown} is not a Word document (.docx): it has no word/document.xml")


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element | None:
    if name not in archive.namelist():
        return None
    with archive.open(name) as handle:
        data = handle.read(MAX_UNPACKED + 1)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise BuildError(f"{name} in the draft declares XML entities; refusing it")
    return ElementTree.fromstring(data)


def scan(archive: zipfile.ZipFile) -> Scan:
    """Everything in the draft that the import cannot carry as Word shows it, with its text."""
    out = Scan()
    found = out.findings
    for name in PARTS_WITH_TEXT[:3]:
        root = _xml(archive, name)
        if root is None:
            continue
        for box in root.iter(f"{W}txbxContent"):
            found.append(
                Finding(
                    "textbox",
                    f"a text box holds '{_text(box)}': its text is imported "
                    "where the box is anchored, not beside the text",
                )
            )
        for kind, tag in (("insertion", "ins"), ("deletion", "del")):
            for change in root.iter(f"{W}{tag}"):
                found.append(
                    Finding(
                        "tracked-change",
                        f"a tracked {kind} by {change.get(f'{W}author', 'someone')}: '{_text(change)}'; "
                        "accept or reject the changes in Word, or import with --accept-changes",
                        refused=True,
                    )
                )
        for control in root.iter(f"{W}sdt"):
            found.append(
                Finding(
                    "content-control",
                    f"a content control holds '{_text(control)}': "
                    "its text is imported, the control itself is not",
                )
            )
        for cell in root.iter(f"{W}tc"):
            span = cell.find(f"{W}tcPr/{W}gridSpan")
            merge = cell.find(f"{W}tcPr/{W}vMerge")
            if (span is not None and span.get(f"{W}val", "1") != "1") or merge is not None:
                found.append(
                    Finding(
                        "merged-cells",
                        f"a table cell '{_text(cell)}' is merged across "
                        "cells; a markdown table cannot merge cells, so it is imported unmerged",
                    )
                )
    comments = _xml(archive, "word/comments.xml")
    if comments is not None:
        for comment in comments.iter(f"{W}comment"):
            found.append(
                Finding(
                    "comment",
                    f"a comment by {comment.get(f'{W}author', 'someone')}: "
                    f"'{_text(comment)}' is not imported",
                )
            )
    for name in archive.namelist():
        if re.fullmatch(r"word/media/.+\.(wmf|emf)", name, flags=re.I):
            found.append(
                Finding(
                    "metafile-image",
                    f"{name.rsplit('/', 1)[1]} is a Windows metafile, which "
                    "PDFs and email cannot show; save it from Word as PNG and add it to assets/",
                )
            )
    return out
