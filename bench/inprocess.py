"""Measurements made inside one Python process, run by bench/run.py as a child that prints JSON.

    python bench/inprocess.py warm PROJECT REPS       row 2: a warm build vs bare WeasyPrint
    python bench/inprocess.py pages PROJECT REPS      row 7: warm PDF time per page at each length
    python bench/inprocess.py phases PROJECT          where a cold build's time goes, then a warm one's
    python bench/inprocess.py pdf PROJECT SLUG        row 8: one issue's PDF, for its peak memory
    python bench/inprocess.py html PROJECT OUT        row 1b: the print HTML for the stock weasyprint CLI

PROJECT is a throw-away project made by workload.py. Every timing is wall-clock (time.perf_counter).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from workload import SAMPLE


def _timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def forget() -> None:
    """Clear what a warm process keeps from earlier builds (parsed markdown, the email's style checks),
    so that a build does all its work again. (The citation engine's output is kept only by its owner,
    the preview: a build never reuses it.)"""
    from tablet_press.bundle import markdown
    from tablet_press.checks import email_rules as emailrules

    for memo in (markdown._parsed, markdown._parsed_inline, markdown.scan):
        memo.cache_clear()
    emailrules._style_problems.cache_clear()


def warm(root: Path, reps: int) -> dict[str, Any]:
    """Row 2. Ours: `build()` of the sample as the CLI runs it (validate, view, print HTML, PDF, email
    HTML, text, .eml, atomic writes). Bare: WeasyPrint alone making the same PDF from our print HTML,
    as generously as WeasyPrint allows: its default URL fetcher (which reads print.css, the logo and
    the fonts by their file: URLs), one FontConfiguration and one parsed @font-face sheet made before
    the clock starts, and our PDF variant (PDF/UA-1) and file identifier, so that both PDFs are the
    same bytes (checked). Bare without PDF/UA is timed too, to show what tagging costs, and ours with
    nothing kept from earlier builds (`forget` before each), to show what the memos save."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from tablet_press.build import build, pdf_job, print_html
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate
    from tablet_press.render.fonts import font_face_css
    from tablet_press.render.pdf import PDF_VARIANT

    project = load_project(root)
    bundle = validate(project).bundles[0]
    html = print_html(bundle, project)
    job = pdf_job(bundle, project, html).keywords
    fonts = project.config.brand.fonts
    config = FontConfiguration()
    sheet = CSS(string=font_face_css([fonts.body, fonts.headings]), font_config=config)
    identifier = hashlib.sha256(job["identity"].encode()).hexdigest()[:32].encode()
    # WeasyPrint's own fetcher reads the real files: the HTML names them so (the sample's images are
    # SVG, which WeasyPrint does not name by URL, so the bytes are still ours).
    html = job["mounts"].unmapped(html)
    out = Path(tempfile.mkdtemp(prefix="tablet-bench-warm-"))

    def ours() -> None:
        build(project, [bundle.path], out)

    def bare(variant: str | None = PDF_VARIANT) -> bytes:
        pdf = HTML(string=html, base_url=str(bundle.path) + "/").write_pdf(
            stylesheets=[sheet], font_config=config, pdf_variant=variant, pdf_identifier=identifier
        )
        assert isinstance(pdf, bytes)
        return pdf

    ours()  # warm-up: imports, templates, fonts, the citation style
    same = bare() == (out / bundle.slug / f"{bundle.slug}.pdf").read_bytes()
    bare(None)
    times: dict[str, list[float]] = {"ours": [], "ours_fresh": [], "bare": [], "bare_untagged": []}
    for _ in range(reps):  # interleaved, so that the machine's noise falls on all alike
        times["ours"].append(_timed(ours))
        forget()
        times["ours_fresh"].append(_timed(ours))
        times["bare"].append(_timed(bare))
        times["bare_untagged"].append(_timed(lambda: bare(None)))
    return {"times": times, "same_pdf": same}


def pages(root: Path, reps: int) -> dict[str, Any]:
    """Row 7: the warm PDF time of each scaled copy of the sample (issues/sample-xN), with its pages."""
    import pypdfium2

    from tablet_press.build import issue_pdf, print_html
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate

    project = load_project(root)
    jobs = {}
    for bundle in validate(project).bundles:
        html = print_html(bundle, project)
        pdf = issue_pdf(bundle, project, html)  # warm-up, and the page count
        jobs[bundle.slug] = (bundle, html, len(pypdfium2.PdfDocument(pdf)))
    times: dict[str, list[float]] = {slug: [] for slug in jobs}
    for _ in range(reps):
        for slug, (bundle, html, _) in jobs.items():
            times[slug].append(_timed(lambda b=bundle, h=html: issue_pdf(b, project, h)))  # type: ignore[misc]
    return {slug: {"times": times[slug], "pages": job[2]} for slug, job in jobs.items()}


# The steps of a build as `phases` times them, in order.
PHASES = {
    "imports": "import tablet-press (click, pydantic, PyYAML, markdown-it)",
    "config": "load tablet.yaml",
    "validate": "validate the issue",
    "build_imports": "import the build modules (Jinja, ...)",
    "view": "view model (the citations: citeproc-py)",
    "print_html": "print HTML (Jinja)",
    "import_weasyprint": "import WeasyPrint",
    "layout": "WeasyPrint: parse the HTML and CSS, style, lay out",
    "write_pdf": "WeasyPrint: draw, subset fonts, write the PDF",
    "pdf_glue": "PDF: ours around WeasyPrint (fetcher, font rules, checks)",
    "email": "email HTML (inlined, checked) and plain text",
    "eml": ".eml and writing the files atomically",
    "exit": "Python's exit (its heap frozen first, as `tablet` does)",
}


class _Clock:
    """Phases of one build, timed by wrapping the functions that make them."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.spent[name] = self.spent.get(name, 0.0) + time.perf_counter() - start

    def wrap(self, owner: Any, attribute: str, name: str) -> None:
        original = getattr(owner, attribute)

        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.phase(name):
                return original(*args, **kwargs)

        setattr(owner, attribute, timed)


def phases(root: Path) -> dict[str, dict[str, float]]:
    """A cold build of the sample step by step, as `tablet build` makes it (build.outputs), then the
    same build again in the same process with nothing kept from the first (fresh), then again (warm).
    WeasyPrint's own time is split into layout (its render step) and writing the PDF (drawing, fonts
    subsetting, compression)."""
    clock = _Clock()
    with clock.phase("imports"):
        import click  # noqa: F401

        from tablet_press.bundle.project import load_project
        from tablet_press.checks.validate import validate
    with clock.phase("config"):
        project = load_project(root)
    with clock.phase("validate"):
        bundle = validate(project, [project.issues_dir / SAMPLE]).bundles[0]
    with clock.phase("build_imports"):
        from tablet_press import build
        from tablet_press.bundle.atomic import write_files
        from tablet_press.render import email
        from tablet_press.render import pdf as typesetting
        from tablet_press.render import view as render
    with clock.phase("view"):
        view = render.issue_view(bundle, project)
    with clock.phase("print_html"):
        html = build.print_html(bundle, project, view)
    with clock.phase("import_weasyprint"):  # as tablet build does: its libraries by soname
        typesetting._load_weasyprint()
        import weasyprint
        import weasyprint.document

    clock.wrap(weasyprint.HTML, "__init__", "layout")  # parsing the HTML
    clock.wrap(weasyprint.HTML, "render", "layout")
    clock.wrap(weasyprint.document.Document, "write_pdf", "write_pdf")
    results = {}
    for run in ("cold", "fresh", "warm"):  # fresh: warm, with nothing kept from the earlier build
        if run != "cold":
            if run == "fresh":
                forget()
            clock.spent = {}
            with clock.phase("validate"):
                bundle = validate(project, [project.issues_dir / SAMPLE]).bundles[0]
            with clock.phase("view"):
                view = render.issue_view(bundle, project)
            with clock.phase("print_html"):
                html = build.print_html(bundle, project, view)
        with clock.phase("pdf"):
            pdf = build.issue_pdf(bundle, project, html)
        with clock.phase("email"):
            edition = email.email_edition(bundle, project, view)
        with clock.phase("eml"):
            files = {f"{bundle.slug}.pdf": pdf, **edition.files(project, pdf)}
            write_files(Path(tempfile.mkdtemp(prefix="tablet-bench-phases-")), files)
        spent = dict(clock.spent)
        spent["pdf_glue"] = spent.pop("pdf") - spent["layout"] - spent["write_pdf"]
        results[run] = spent
    return results


def pdf(root: Path, slug: str) -> dict[str, Any]:
    """Row 8: build one issue's PDF as `tablet build` does (validate, view, print HTML, PDF). Only the
    PDF: the email of an issue 16 times the sample's length breaks Gmail's size limit, and the build
    rightly refuses it (after the PDF, so the PDF's memory is what `tablet build` would reach)."""
    from tablet_press.build import issue_pdf, print_html
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate

    project = load_project(root)
    bundle = validate(project, [project.issues_dir / slug]).bundles[0]
    return {"bytes": len(issue_pdf(bundle, project, print_html(bundle, project)))}


def html_for_cli(root: Path, out: Path) -> dict[str, Any]:
    """Row 1b: the sample's print HTML as the stock `weasyprint` command can read it (the mounted URLs
    as real file: URLs), our @font-face rules as a stylesheet file, and the PDF identifier and source
    date `tablet build` gives WeasyPrint, so that the command can make the same PDF bytes."""
    import calendar

    from tablet_press.build import pdf_job, print_html
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate
    from tablet_press.render.fonts import font_face_css

    project = load_project(root)
    bundle = validate(project, [project.issues_dir / SAMPLE]).bundles[0]
    html = print_html(bundle, project)
    job = pdf_job(bundle, project, html).keywords
    fonts = project.config.brand.fonts
    (out / "print.html").write_text(job["mounts"].unmapped(html), encoding="utf-8")
    (out / "fonts.css").write_text(font_face_css([fonts.body, fonts.headings]), encoding="utf-8")
    return {
        "identifier": hashlib.sha256(job["identity"].encode()).hexdigest()[:32],
        "base_url": str(bundle.path) + "/",
        "epoch": calendar.timegm(bundle.issue.date.timetuple()),
    }


def main() -> None:
    mode, root = sys.argv[1], Path(sys.argv[2])
    if mode == "warm":
        result: Any = warm(root, int(sys.argv[3]))
    elif mode == "pages":
        result = pages(root, int(sys.argv[3]))
    elif mode == "phases":
        result = phases(root)
        import gc

        gc.freeze()  # as `tablet` does before it exits (cli.main)
        result["cold"]["ended_at"] = time.time()  # the parent takes the interpreter's exit from this
    elif mode == "pdf":
        result = pdf(root, sys.argv[3])
    elif mode == "html":
        result = html_for_cli(root, Path(sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
