"""Word drafts made by code, shaped like the team's real ones: the sample issue written with python-docx
(bold label lines for some sections, Word heading styles for others, the author team as a text block or
in a table (with a header row, or one person a cell), a numbered reference list, hyperlinks, one table,
one image), the same issue written by pandoc from markdown (heading styles throughout), and small drafts
holding what an import cannot carry faithfully."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import docx
import yaml
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches
from PIL import Image

from seedtext import SEED

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "issues" / "low-dose-naltrexone"
TABLE = [["Dose", "Use"], ["50-150 mg", "Opioid use disorder"], ["1-5 mg", "Low-dose naltrexone (LDN)"]]
IMAGE_ALT = "Naltrexone doses from low to high"


def _seed_references() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    block = text.split("**References:**", 1)[1]
    refs = re.findall(r"^\d+\. (.+)$", block, flags=re.M)
    cleaned = []
    for ref in refs:
        ref = re.sub(r"\[(https://[^\]]+)\]\(.*$", r"\1", ref).replace("\\(", "(").replace("\\)", ")")
        cleaned.append(ref.replace("<", "").replace(">", ""))
    return cleaned


def _shortcites() -> list[tuple[str, str]]:
    """(short cite line, bold title) of each study, as the seed prints them."""
    text = SEED.read_text(encoding="utf-8")
    pairs = re.findall(r"^\[(.+)\]\(#\)\n\n\*\*(.+)\*\*$", text, flags=re.M)
    return [(cite.replace("\\(", "(").replace("\\)", ")"), title) for cite, title in pairs]


def _runs(par: Any, text: str) -> None:
    """Markdown-ish *italic* and **bold** into runs."""
    for piece in re.split(r"(\*\*[^*]+\*\*|\*[^*]+\*)", text):
        if piece.startswith("**"):
            par.add_run(piece[2:-2]).bold = True
        elif piece.startswith("*"):
            par.add_run(piece[1:-1]).italic = True
        elif piece:
            par.add_run(piece)


def _hyperlink(par: Any, url: str, text: str) -> None:
    rel = par.part.relate_to(url, docx.opc.constants.RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = text
    t.set(qn("xml:space"), "preserve")
    run.append(t)
    link.append(run)
    par._p.append(link)


def _label(doc: Any, text: str, heading: bool) -> None:
    if heading:
        doc.add_heading(text.rstrip(":"), level=1)
    else:
        doc.add_paragraph().add_run(text).bold = True


# The seed's last paragraph: its CLINICAL PEARL again, word for word. A Word draft shaped like the seed
# has it; the sample prints it once (in the MS group's note), so it is not in the sample's closing.md.
SEED_CLOSING = (
    "::: pearl\nThough efficacy data is mixed, low-dose naltrexone offers a well-tolerated, low-risk option "
    "for managing refractory pain, fatigue, or neuroinflammation in select palliative care patients—"
    "particularly when standard therapies fall short.\n:::"
)


def _prose(doc: Any, name: str) -> None:
    path = SAMPLE / name
    text = path.read_text(encoding="utf-8") if path.exists() else SEED_CLOSING
    for para in text.strip().split("\n\n"):
        if para.startswith("::: pearl"):
            body = para.removeprefix("::: pearl\n").removesuffix("\n:::").replace("\n", " ")
            p = doc.add_paragraph()
            p.add_run("CLINICAL PEARL:").bold = True
            p.add_run(" " + body)
        else:
            _runs(doc.add_paragraph(), para.replace("\n", " "))


def _png(path: Path) -> None:
    image = Image.new("RGB", (240, 80), "white")
    for x in range(240):
        for y in range(60 - x // 5, 80):
            image.putpixel((x, y), (15, 124, 134))
    image.save(path)


LOWRY = {
    "name": "Maria Felton Lowry, PharmD, BCPS, BCGP",
    "titles": ["Assistant Professor", "University of Pittsburgh School of Pharmacy"],
    "contact": [("Cell:", "412-627-8473"), ("Office:", "412-864-2899"), ("Email:", "lowrymf@upmc.edu")],
}


def _cell_lines(cell: Any, lines: list[str], bold_first: bool = False) -> None:
    """A table cell (or a paragraph) holding `lines`, one a line (Shift+Enter), the first in bold if asked."""
    p = cell.paragraphs[0] if hasattr(cell, "paragraphs") else cell
    for i, line in enumerate(lines):
        if i:
            p.add_run().add_break(WD_BREAK.LINE)
        p.add_run(line).bold = bold_first and i == 0


def _team_as_text(doc: Any, guests: list[dict[str, Any]]) -> None:
    _label(doc, "Author Team:", False)
    _label(doc, "Guest Authors:", False)
    for author in guests:
        p = doc.add_paragraph()
        p.add_run(f"{author['name']}, {', '.join(author['credentials'])}").bold = True
        for line in author["titles"]:
            p.add_run().add_break(WD_BREAK.LINE)
            p.add_run(line)
    _label(doc, "Clinical Pharmacy Specialist:", False)
    p = doc.add_paragraph()
    p.add_run(LOWRY["name"]).bold = True
    for line in LOWRY["titles"]:
        p.add_run().add_break(WD_BREAK.LINE)
        p.add_run(line)
    for label, value in LOWRY["contact"]:
        p = doc.add_paragraph()
        p.add_run(label).bold = True
        p.add_run(" " + value)


def _team_as_columns(doc: Any, guests: list[dict[str, Any]]) -> None:
    """The team as a table with a header row: one person a row, a column for each kind of fact."""
    _label(doc, "Author Team:", False)
    head = ["Role", "Name", "Credentials", "Title and affiliation", "Phone", "Email"]
    table = doc.add_table(rows=len(guests) + 2, cols=len(head))
    for c, text in enumerate(head):
        table.cell(0, c).text = text
    lowry_name, *lowry_credentials = LOWRY["name"].split(", ")
    people = [
        ["Guest Author", a["name"], ", ".join(a["credentials"]), a["titles"], [], []] for a in guests
    ] + [
        [
            "Clinical Pharmacy Specialist",
            lowry_name,
            ", ".join(lowry_credentials),
            LOWRY["titles"],
            [f"{label} {value}" for label, value in LOWRY["contact"][:2]],
            [LOWRY["contact"][2][1]],
        ]
    ]
    for r, person in enumerate(people, 1):
        for c, value in enumerate(person):
            _cell_lines(table.cell(r, c), value if isinstance(value, list) else [value])


def _team_as_cells(doc: Any, guests: list[dict[str, Any]]) -> None:
    """The team as a one-row table without a header, one person a cell, written as in text."""
    _label(doc, "Author Team:", False)
    table = doc.add_table(rows=1, cols=len(guests) + 1)
    for c, author in enumerate(guests):
        cell = table.cell(0, c)
        cell.paragraphs[0].add_run("Guest Author")
        _cell_lines(
            cell.add_paragraph(),
            [f"{author['name']}, {', '.join(author['credentials'])}", *author["titles"]],
            True,
        )
    cell = table.cell(0, len(guests))
    cell.paragraphs[0].add_run("Clinical Pharmacy Specialist")
    _cell_lines(cell.add_paragraph(), [LOWRY["name"], *LOWRY["titles"]], True)
    for label, value in LOWRY["contact"]:
        p = cell.add_paragraph()
        p.add_run(label).bold = True
        p.add_run(" " + value)


TEAM_LAYOUTS = {"text": _team_as_text, "columns": _team_as_columns, "cells": _team_as_cells}


def sample_docx(dest: Path, team: str = "text") -> Path:
    """The sample issue as the team would type it in Word; `team`: the author team as a text block,
    as a table with a header row ("columns"), or as a table of one person a cell ("cells")."""
    issue = yaml.safe_load((SAMPLE / "issue.yaml").read_text(encoding="utf-8"))
    doc = docx.Document()
    doc.add_paragraph("Palliative Care")
    TEAM_LAYOUTS[team](doc, issue["authors"][:2])
    _label(doc, "TODAY’S TOPIC:", False)
    doc.add_paragraph(issue["title"])
    _label(doc, "Background:", False)
    _prose(doc, "background.md")
    _label(doc, "Mechanism of Action:", True)
    _prose(doc, "mechanism.md")
    image = dest.parent / "doses.png"
    _png(image)
    doc.add_picture(str(image), width=Inches(2.5))
    doc.inline_shapes[0]._inline.docPr.set("descr", IMAGE_ALT)
    _label(doc, "Pharmacokinetics & Safety:", True)
    _prose(doc, "pharmacokinetics.md")
    table = doc.add_table(rows=len(TABLE), cols=2)
    for r, row in enumerate(TABLE):
        for c, cell in enumerate(row):
            table.cell(r, c).text = cell
    _label(doc, "Clinical Pearls:", False)
    for pearl in issue["pearls"]:
        doc.add_paragraph(pearl, style="List Bullet")
    _prose(doc, "anecdote.md")
    _label(doc, "The Literature:", True)
    _prose(doc, "literature.md")
    cites = iter(_shortcites())
    for group in issue["literature"]:
        _label(doc, group["indication"] + ":", False)
        for study in group["studies"]:
            cite, title = next(cites)
            _hyperlink(doc.add_paragraph(), "https://pubmed.ncbi.nlm.nih.gov/", cite)
            doc.add_paragraph().add_run(title).bold = True
            for line in study["summary"]:
                doc.add_paragraph(line, style="List Bullet")
            for field in ("outcomes", "methods", "results"):
                if field in study:
                    doc.add_paragraph(f"{field.capitalize()}: {study[field]}", style="List Bullet")
        if "note" in group:
            note = group["note"]
            if note.startswith("::: pearl"):
                body = " ".join(note.split("\n")[1:-2])
                p = doc.add_paragraph()
                p.add_run("CLINICAL PEARL:").bold = True
                p.add_run(" " + body)
            else:
                doc.add_paragraph(note)
    _label(doc, "Bottom Line:", False)
    for point in issue["bottom_line"]:
        doc.add_paragraph(point, style="List Bullet")
    _label(doc, "References:", False)
    for ref in _seed_references():
        p = doc.add_paragraph(style="List Number")
        head, url = ref.rsplit(" ", 1)
        _runs(p, head + " ")
        _hyperlink(p, url, url)
    _prose(doc, "closing.md")
    out = dest
    doc.save(str(out))
    return out


def pandoc_docx(dest: Path) -> Path:
    """The sample issue as markdown with headings, written to .docx by pandoc (another producer)."""
    issue = yaml.safe_load((SAMPLE / "issue.yaml").read_text(encoding="utf-8"))
    md = ["Palliative Care", "", "**Author Team:**", ""]
    for author in issue["authors"][:2]:
        md += [
            f"**{author['name']}, {', '.join(author['credentials'])}**\\",
            "\\\n".join(author["titles"]),
            "",
        ]
    md += ["**Maria Felton Lowry, PharmD, BCPS, BCGP**", "", "# Today’s Topic", "", issue["title"], ""]
    for heading, name in (
        ("Background", "background.md"),
        ("Mechanism of Action", "mechanism.md"),
        ("Pharmacokinetics & Safety", "pharmacokinetics.md"),
    ):
        md += [f"# {heading}", "", (SAMPLE / name).read_text(encoding="utf-8"), ""]
    md += ["# Clinical Pearls", ""] + [f"- {p}" for p in issue["pearls"]] + [""]
    md += [(SAMPLE / "anecdote.md").read_text(encoding="utf-8"), "", "# The Literature", ""]
    md += [(SAMPLE / "literature.md").read_text(encoding="utf-8"), ""]
    cites = iter(_shortcites())
    for group in issue["literature"]:
        md += [f"## {group['indication']}", ""]
        for study in group["studies"]:
            cite, title = next(cites)
            md += [cite, "", f"**{title}**", ""]
            md += [f"- {s}" for s in study["summary"]]
            md += [
                f"- {f.capitalize()}: {study[f]}" for f in ("outcomes", "methods", "results") if f in study
            ]
            md += [""]
        if "note" in group:
            note = group["note"]
            md += [
                ("**CLINICAL PEARL:** " + " ".join(note.split("\n")[1:-2])) if "pearl" in note else note,
                "",
            ]
    md += ["# Bottom Line", ""] + [f"- {p}" for p in issue["bottom_line"]] + [""]
    md += ["# References", ""] + [f"{i}. {r}" for i, r in enumerate(_seed_references(), 1)] + [""]
    md += ["**CLINICAL PEARL:** " + SEED_CLOSING.split("\n")[1]]
    subprocess.run(
        ["pandoc", "-f", "markdown", "-t", "docx", "-o", str(dest)],
        input="\n".join(md),
        text=True,
        check=True,
    )
    return dest


def pandoc_from_markdown(source: Path, dest: Path) -> Path:
    """A small draft written by pandoc from a markdown file (footnotes and all)."""
    subprocess.run(["pandoc", "-f", "markdown", "-t", "docx", "-o", str(dest), str(source)], check=True)
    return dest


def _patched(
    dest: Path, body_xml: str, extra: dict[str, str | bytes] | None = None, rels: str = "", types: str = ""
) -> Path:
    """A tiny draft: a python-docx document whose body is replaced by `body_xml`; `rels` and `types` are
    added to the document's relationships and to the content types."""
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode()
                text = re.sub(r"<w:body>.*?<w:sectPr", f"<w:body>{body_xml}<w:sectPr", text, flags=re.S)
                data = text.encode()
            elif item.filename == "word/_rels/document.xml.rels" and rels:
                data = data.replace(b"</Relationships>", rels.encode() + b"</Relationships>")
            elif item.filename == "[Content_Types].xml" and types:
                data = data.replace(b"</Types>", types.encode() + b"</Types>")
            out.writestr(item, data)
        for name, text in (extra or {}).items():
            out.writestr(name, text)
    return dest


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _para(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def _emf() -> bytes:
    """A minimal Enhanced Metafile: its header record (bounds, frame, ' EMF', device size) and EOF."""
    import struct

    header = struct.pack(
        "<II4i4iIIIIHHIII2i2i",
        1,
        88,
        0,
        0,
        99,
        74,
        0,
        0,
        2540,
        1905,
        0x464D4520,
        0x10000,
        108,
        2,
        1,
        0,
        0,
        0,
        0,
        1024,
        768,
        320,
        240,
    )
    return header + struct.pack("<5I", 14, 20, 0, 16, 20)


def problem_docx(dest: Path, kind: str) -> Path:
    """A draft holding one thing an import cannot carry faithfully."""
    body = _para("Background:") + _para("Naltrexone text.")
    if kind == "textbox":
        body += (
            '<w:p><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox><w:txbxContent>'
            + _para("Boxed aside")
            + "</w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"
        )
    elif kind == "tracked":
        body += (
            '<w:p><w:ins w:id="1" w:author="Reviewer" w:date="2025-01-01T00:00:00Z"><w:r>'
            "<w:t>added words</w:t></w:r></w:ins>"
            '<w:del w:id="2" w:author="Reviewer" w:date="2025-01-01T00:00:00Z"><w:r>'
            "<w:delText>removed words</w:delText></w:r></w:del></w:p>"
        )
    elif kind == "comment":
        body += (
            '<w:p><w:commentRangeStart w:id="0"/><w:r><w:t>commented text</w:t></w:r>'
            '<w:commentRangeEnd w:id="0"/><w:r><w:commentReference w:id="0"/></w:r></w:p>'
        )
        comments = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:comments {W}>'
            '<w:comment w:id="0" w:author="Reviewer"><w:p><w:r><w:t>Check this dose</w:t></w:r></w:p>'
            "</w:comment></w:comments>"
        )
        return _patched(dest, body, {"word/comments.xml": comments})
    elif kind == "merged":
        body += (
            '<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr>'
            + _para("Spanning header")
            + "</w:tc></w:tr><w:tr><w:tc>"
            + _para("a")
            + "</w:tc><w:tc>"
            + _para("b")
            + "</w:tc></w:tr></w:tbl>"
        )
    elif kind == "metafile":  # a picture pasted from an old Office drawing: an EMF, as Word stores it
        body += (
            '<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/'
            'wordprocessingDrawing"><wp:extent cx="914400" cy="685800"/><wp:docPr id="1" name="Picture 1" '
            'descr="A dosing chart"/><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
            '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr>'
            '<pic:cNvPr id="0" name="chart.emf"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill>'
            '<a:blip xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
            'r:embed="rIdEmf1"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm>'
            '<a:off x="0" y="0"/><a:ext cx="914400" cy="685800"/></a:xfrm><a:prstGeom prst="rect"/>'
            "</pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>"
        )
        return _patched(
            dest,
            body,
            {"word/media/image1.emf": _emf()},
            rels='<Relationship Id="rIdEmf1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/image" Target="media/image1.emf"/>',
            types='<Default Extension="emf" ContentType="image/x-emf"/>',
        )
    elif kind == "control":
        body += "<w:sdt><w:sdtContent>" + _para("Inside a content control") + "</w:sdtContent></w:sdt>"
    return _patched(dest, body)
