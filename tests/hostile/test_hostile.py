"""Hostile and broken drafts (tests/hostile/cases/*): each is refused with its exact file:line message,
or rendered safely with its marker text in every output; never a traceback, never a network request,
never a change to earlier outputs.

A case folder holds files laid over tests/fixtures/good/minimal/ and either expect.txt (the exact
lines `tablet build` must print) or safe.txt (text that must appear, as text, in every output).
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import Result

from conftest import FIXTURES, copy_project

CASES = Path(__file__).parent / "cases"
EXPECT = sorted(p.name for p in CASES.iterdir() if (p / "expect.txt").exists())
SAFE = sorted(p.name for p in CASES.iterdir() if (p / "safe.txt").exists())


class _Sink(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Sink.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def sink() -> Iterator[int]:
    """A local HTTP server that counts requests: no build may ever reach it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    assert _Sink.hits == [], f"a build reached the network: {_Sink.hits}"


# Inputs that cannot live in git as plain files are made here.
def _symlink_out(bundle: Path) -> None:
    (bundle / "assets").mkdir(exist_ok=True)
    (bundle / "assets" / "evil.png").symlink_to("/etc/passwd")


def _fifo(bundle: Path) -> None:
    (bundle / "assets").mkdir(exist_ok=True)
    os.mkfifo(bundle / "assets" / "pipe.png")


def _too_large(bundle: Path) -> None:
    text = (bundle / "issue.yaml").read_text()
    (bundle / "issue.yaml").write_text(text + "# " + "x" * 2_100_000 + "\n")


def _nested_block(bundle: Path) -> None:
    """A block mapping 1,200 levels deep (about 1.4 MB), under a key of issue.yaml."""
    text = (bundle / "issue.yaml").read_text()
    deep = "".join(f"{'  ' * level}k{level}:\n" for level in range(1, 1201))
    (bundle / "issue.yaml").write_text(text + "extra:\n" + deep + "  " * 1201 + "end\n")


def _prose_symlink_out(bundle: Path) -> None:
    (bundle / "mechanism.md").symlink_to("/etc/passwd")


def _moved_out(name: str) -> Callable[[Path], None]:
    """`name` moved out of the bundle (valid still) and linked back in: only the link is wrong."""

    def setup(bundle: Path) -> None:
        outside = bundle.parent.parent / f"elsewhere-{name}"
        (bundle / name).replace(outside)
        (bundle / name).symlink_to(outside)

    return setup


def _sparse_huge(bundle: Path) -> None:
    os.truncate(bundle / "background.md", 3_000_000_000)  # sparse: costs no disk; reading it would


def _markdown_fifo(bundle: Path) -> None:
    (bundle / "background.md").unlink()
    os.mkfifo(bundle / "background.md")


def corrupt_png() -> bytes:
    """A PNG whose compressed pixels are damaged, every checksum recomputed: its header and CRCs are
    valid (Pillow's verify() passes), only decoding the pixels finds the damage."""
    import io
    import struct
    import zlib

    from PIL import Image

    image = Image.new("RGB", (64, 64))
    image.putdata([((i * 7) % 256, (i * 13) % 256, (i * 29) % 256) for i in range(64 * 64)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    data = bytearray(out.getvalue())
    kind = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[kind - 4 : kind])
    start = kind + 4
    for i in range(start + 2 + length // 3, start + 2 + length // 3 + 16):  # past the zlib header
        data[i] ^= 0xFF
    data[start + length : start + length + 4] = struct.pack(">I", zlib.crc32(data[kind : start + length]))
    return bytes(data)


def _corrupt_idat(bundle: Path) -> None:
    (bundle / "assets").mkdir(exist_ok=True)
    (bundle / "assets" / "corrupt.png").write_bytes(corrupt_png())


def _published_symlink(bundle: Path) -> None:
    (bundle / "published" / "hostile.txt").symlink_to("/etc/passwd")


SETUP: dict[str, Callable[[Path], None]] = {
    "published-forged-symlink": _published_symlink,
    "image-symlink-out": _symlink_out,
    "image-fifo": _fifo,
    "yaml-too-large": _too_large,
    "yaml-nested-block": _nested_block,
    "prose-symlink-out": _prose_symlink_out,
    "yaml-symlink-issue": _moved_out("issue.yaml"),
    "yaml-symlink-references": _moved_out("references.yaml"),
    "markdown-sparse-huge": _sparse_huge,
    "markdown-fifo": _markdown_fifo,
    "image-corrupt-idat": _corrupt_idat,
}


def make_case(project: Path, name: str, port: int) -> Path:
    bundle = project / "issues" / "hostile"
    if bundle.exists():
        shutil.rmtree(bundle)
    shutil.copytree(FIXTURES / "good" / "minimal", bundle)
    for file in (CASES / name).rglob("*"):
        if file.is_file() and file.name not in ("expect.txt", "safe.txt"):
            target = bundle / file.relative_to(CASES / name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.read_bytes().replace(b"{SINK}", str(port).encode()))
    SETUP.get(name, lambda _: None)(bundle)
    return bundle


def _build(project: Path, run: Callable[..., Result]) -> Result:
    return run("build", "issues/hostile", cwd=project)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


@pytest.mark.parametrize("name", EXPECT)
def test_refused_with_exact_message(name: str, tmp_path: Path, sink: int, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    # An earlier good build, which the hostile one must leave byte-identical.
    make_case(project, "safe-entities", sink)
    assert _build(project, run).exit_code == 0
    before = _snapshot(project / "dist" / "hostile")
    assert before

    make_case(project, name, sink)
    result = _build(project, run)
    expected = (CASES / name / "expect.txt").read_text(encoding="utf-8").replace("{SINK}", str(sink))
    assert result.stdout == expected
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert _snapshot(project / "dist" / "hostile") == before
    assert not list((project / "dist").rglob("*.tmp"))
    assert _Sink.hits == []


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("name", SAFE)
def test_rendered_safely(name: str, tmp_path: Path, sink: int, run: Callable[..., Result]) -> None:
    from lxml import html as lxml_html

    from seedtext import normalise

    project = copy_project(tmp_path / "p", bundles=())
    make_case(project, name, sink)
    result = _build(project, run)
    assert result.exit_code == 0, result.output
    out = project / "dist" / "hostile"
    texts = {}
    if shutil.which("pdftotext") or os.environ.get("CI"):
        texts["pdf"] = _pdf_text(out / "hostile.pdf")
    for suffix in ("html", "txt"):
        file = out / f"hostile.{suffix}"
        if file.exists():
            content = file.read_text(encoding="utf-8")
            if suffix == "html":
                tree = lxml_html.fromstring(content)
                assert not tree.xpath("//script | //iframe | //*[@onclick] | //*[@onmouseover]")
                assert not [a for a in tree.xpath("//a/@href") if a.lower().startswith("javascript")]
                content = tree.text_content()
            texts[suffix] = content
    assert texts, "no output to check"
    for marker in (CASES / name / "safe.txt").read_text(encoding="utf-8").splitlines():
        for kind, text in texts.items():
            assert normalise(marker) in normalise(text), f"{marker!r} missing from the {kind}"
    assert _Sink.hits == []


def test_there_are_at_least_40_hostile_inputs() -> None:
    assert len(EXPECT) + len(SAFE) >= 40


def test_output_folder_inside_the_bundles_is_refused(
    tmp_path: Path, sink: int, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    bundle = make_case(project, "safe-entities", sink)
    before = {p: p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    result = run("build", "--out", "issues/hostile", cwd=project)
    assert result.exit_code == 1
    assert (
        result.stderr
        == "error: the output folder issues/hostile is inside issues/; outputs never go into bundles\n"
        "FAILED: nothing was written\n"
    )
    assert {p: p.read_bytes() for p in bundle.rglob("*") if p.is_file()} == before


def test_symlinked_output_file_is_refused_and_its_target_untouched(
    tmp_path: Path, sink: int, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    make_case(project, "safe-entities", sink)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = project / "dist" / "hostile"
    out.mkdir(parents=True)
    (out / "hostile.pdf").symlink_to(victim)
    result = run("build", cwd=project)
    assert result.exit_code == 1
    assert "is a symbolic link; refusing to write through it" in result.stderr
    assert victim.read_text() == "precious"
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))


@pytest.mark.parametrize("slug", ["con", "aux-notes", "Upper", "trailing-", "dots.", "é-accent"])
def test_unsafe_folder_names_are_errors(slug: str, tmp_path: Path, run: Callable[..., Result]) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    shutil.copytree(FIXTURES / "good" / "minimal", project / "issues" / slug)
    result = run("validate", cwd=project)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"issues/{slug}:1:1: error: '{slug}' is ")


def test_the_pdf_engine_itself_never_reaches_the_network(tmp_path: Path, sink: int) -> None:
    """Below validation: even HTML and CSS that ask for network resources get none (the fetcher refuses)."""
    from tablet_press.errors import BuildError
    from tablet_press.render.pdf import write_pdf

    url = f"http://127.0.0.1:{sink}"
    html = f"""<html lang="en"><head><title>t</title><base href="{url}/">
    <link rel="stylesheet" href="{url}/a.css"><link rel="attachment" href="{url}/b.pdf">
    <style>@import url("{url}/c.css"); @font-face {{ font-family: X; src: url("{url}/d.woff"); }}
    body {{ font-family: X; background: url("{url}/e.png"); }}</style></head>
    <body><p>x</p><img src="{url}/f.png" alt="f"><img src="g.png" alt="relative to the base"></body></html>"""
    with pytest.raises(BuildError) as failure:
        write_pdf(html, base_url=tmp_path, allowed=[tmp_path], fonts=["Source Sans Pro"], what="t")
    for name in ("a.css", "c.css", "d.woff", "e.png", "f.png"):
        assert f"{url}/{name}" in str(failure.value), name
    assert _Sink.hits == []


def test_rendering_has_a_time_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tablet_press.errors import BuildError
    from tablet_press.render import pdf

    monkeypatch.setattr(pdf, "RENDER_SECONDS", 1)
    html = "<html lang='en'><head><title>t</title></head><body>" + "<p>word " * 60_000 + "</body></html>"
    with pytest.raises(BuildError, match="typesetting took longer than the limit of 1 seconds"):
        pdf.write_pdf(html, base_url=tmp_path, allowed=[tmp_path], fonts=["Source Sans Pro"], what="t")
