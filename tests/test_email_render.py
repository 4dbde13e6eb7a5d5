"""The email as mail clients draw it, in headless Chromium: no horizontal overflow on phones, the same
look without the <style> block, legible text in light and dark mode, and a current PNG logo.

Each Chromium run gets a fresh profile; a measuring script (added to a copy of the email, never to
the output) writes what it measures into the page, which --dump-dom prints.
"""

from __future__ import annotations

import hashlib
import html as html_module
import json
import os
import re
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops
from PIL.PngImagePlugin import PngInfo

from tablet_press.render.palette import MIN_CONTRAST

from conftest import CHROMIUM, ROOT, needs_tool

pytestmark = needs_tool("chromium")

LOGO_SVG, LOGO_PNG = ROOT / "brand" / "logo.svg", ROOT / "brand" / "logo.png"
LOGO_SCALE = 2  # the PNG holds 2x the SVG's CSS pixels; the email shows it smaller still
SCREENSHOT = ROOT / "docs" / "email-375.png"
LOGO_PLATE, LOGO_PLATE_RADIUS = "#ffffff", 6
PAGE_HEIGHT = 9000  # tall enough for the whole sample at 800px (asserted below)


def chromium(url: str, width: int, height: int, *extra: str, screenshot: Path | None = None) -> str:
    """Run headless Chromium once on `url`; the DOM after scripts ran (or "" with a screenshot)."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            *CHROMIUM,
            f"--user-data-dir={profile}",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            *extra,
            f"--screenshot={screenshot}" if screenshot else "--dump-dom",
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def rasterise_logo(out: Path) -> None:
    """Draw brand/logo.svg as the email's PNG, recording which SVG it was made from."""
    with tempfile.TemporaryDirectory() as folder:
        svg = LOGO_SVG.read_bytes()
        size = re.search(rb'width="(\d+)" height="(\d+)"', svg)
        assert size, "logo.svg needs width and height"
        width, height = int(size[1]), int(size[2])
        page = Path(folder) / "logo.html"
        # On its own white plate (rounded; the corners stay transparent): clients that invert colours
        # for dark mode (Gmail's apps, Outlook.com) invert backgrounds but not images, so the logo's
        # navy never meets a dark page.
        page.write_text(
            "<!DOCTYPE html><style>html,body{margin:0;background:transparent}</style>"
            f'<div style="background:{LOGO_PLATE};border-radius:{LOGO_PLATE_RADIUS}px;width:{width}px">'
            f'<img src="{LOGO_SVG.as_uri()}" width="{width}" height="{height}" style="display:block"></div>'
        )
        shot = Path(folder) / "logo.png"
        chromium(
            page.as_uri(),
            width,
            height,
            f"--force-device-scale-factor={LOGO_SCALE}",
            "--default-background-color=00000000",
            screenshot=shot,
        )
        info = PngInfo()
        info.add_text("Source", f"brand/logo.svg sha256:{hashlib.sha256(svg).hexdigest()}")
        with Image.open(shot) as image:
            image.save(out, pnginfo=info, optimize=True)


# Added to a copy of the email: measures the page as laid out, then writes the numbers into the DOM.
MEASURE = """<script>
window.addEventListener("load", function () {  // after images have loaded (or failed)
  function rgba(s) { var n = s.match(/[\\d.]+/g).map(Number); return n.length > 3 ? n : n.concat([1]); }
  function lin(c) { c /= 255; return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); }
  function lum(c) { return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]); }
  function over(top, bottom) {
    return [0, 1, 2].map(function (i) { return top[i] * top[3] + bottom[i] * (1 - top[3]); });
  }
  function background(el) {
    var layers = [];
    for (var e = el; e; e = e.parentElement) {
      var c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    var colour = [255, 255, 255];
    for (var i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
    return colour;
  }
  var texts = [];
  document.querySelectorAll("body *").forEach(function (el) {
    if (el.closest(".preheader") || el.tagName === "SCRIPT" || !el.getClientRects().length) return;
    var own = Array.prototype.some.call(el.childNodes, function (n) {
      return n.nodeType === 3 && n.textContent.trim();
    });
    if (!own) return;
    var fg = rgba(getComputedStyle(el).color), bg = background(el);
    var a = lum(over(fg, bg)), b = lum(bg);
    var ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    texts.push({text: el.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100,
                fg: getComputedStyle(el).color, bg: "rgb(" + bg.map(Math.round).join(",") + ")"});
  });
  function box(selector) {
    var r = document.querySelector(selector).getBoundingClientRect();
    return {left: r.left, top: r.top, bottom: r.bottom, width: r.width, height: r.height};
  }
  var logo = document.querySelector("img.logo");
  var result = {
    viewport: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
    texts: texts,
    title: box("h1.topic"), team: box(".team"), container: box(".container"), logo: box("img.logo"),
    order: Array.prototype.map.call(
      document.querySelectorAll("h1, h2, .byline, .sidebar-heading, .footer-rule"), function (e) {
        return {text: e.textContent.trim().slice(0, 40), top: e.getBoundingClientRect().top};
      }),
    logoLoaded: logo.naturalWidth > 0,
    logoAlt: logo.getAttribute("alt"),
    pageBackground: background(document.querySelector(".container"))
  };
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>"""


def sample_email() -> str:
    """The sample issue's email HTML, as the build makes it."""
    from tablet_press.bundle.project import load_project
    from tablet_press.checks.validate import validate
    from tablet_press.render.email import email_html
    from tablet_press.render.view import issue_view

    project = load_project(ROOT)
    bundle = next(b for b in validate(project, None).bundles if b.slug == "low-dose-naltrexone")
    html, _ = email_html(issue_view(bundle, project), bundle, project)
    return html


@pytest.fixture(scope="module")
def email() -> str:
    return sample_email()


def variant(html: str, *, style: bool = True, logo: bool = True) -> str:
    """A copy of the email to open in Chromium: the logo from brand/ (a browser cannot follow cid:,
    a mail client can), optionally without the <style> block, with the measuring script."""
    if logo:
        html = re.sub(r'src="cid:logo@[^"]*"', f'src="{LOGO_PNG.as_uri()}"', html)
    if not style:
        # The enhancements block is the one that ends <head>; Outlook's own sits in a comment.
        html, removed = re.subn(r"<style>(?:(?!<style>).)*</style>\s*(?=</head>)", "", html, flags=re.S)
        assert removed == 1
    return html.replace("</body>", MEASURE + "</body>")


# Headless Chromium lays out no window narrower than 500px (and crops the screenshot), so the email is
# shown in a frame of exactly the width under test; the frame's measurements are copied out on load.
FRAME = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="email" width="{width}" height="{height}" style="border:0;display:block" srcdoc="{page}"></iframe>
<script>window.addEventListener("load", function () {{
  var found = document.getElementById("email").contentDocument.getElementById("measured");
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = found ? found.textContent : "null";
  document.body.appendChild(out);
}});</script></body></html>"""


def show(page: str, path: Path, width: int, height: int, *extra: str, shot: Path | None = None) -> Any:
    """`page` framed at width x height: what the measuring script found, or the screenshot's path."""
    path.write_text(FRAME.format(width=width, height=height, page=html_module.escape(page)), encoding="utf-8")
    dom = chromium(path.as_uri(), width, height, *extra, screenshot=shot)
    if shot:
        return shot
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(html_module.unescape(found.group(1)))


@pytest.fixture(scope="module")
def runs(email: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every Chromium run the tests need, in parallel: measurements and screenshots."""
    folder = tmp_path_factory.mktemp("email-render")
    plain, bare, blocked = variant(email), variant(email, style=False), variant(email, logo=False)
    jobs: dict[str, tuple[str, int, int, tuple[str, ...]]] = {
        **{f"width-{w}": (plain, w, 900, ()) for w in (320, 375, 600)},
        "bare-375": (bare, 375, 900, ()),
        "bare-600": (bare, 600, 900, ()),
        "dark": (plain, 600, 900, ("--force-dark-mode",)),
        "blocked": (blocked, 600, 900, ()),
        "shot-800": (plain, 800, PAGE_HEIGHT, ()),
        "shot-800-bare": (bare, 800, PAGE_HEIGHT, ()),
        "shot-375": (plain, 375, 1600, ()),
        "shot-375-bare": (bare, 375, 1600, ()),
    }

    def run(name: str) -> Any:
        if name == "logo":
            rasterise_logo(folder / "logo.png")
            return folder / "logo.png"
        page, width, height, extra = jobs[name]
        shot = folder / f"{name}.png" if name.startswith("shot") else None
        return show(page, folder / f"{name}.html", width, height, *extra, shot=shot)

    names = [*jobs, "logo"]
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        return dict(zip(names, pool.map(run, names), strict=True))


@pytest.mark.parametrize("width", [320, 375, 600])
def test_no_horizontal_overflow_on_phones_and_at_600(runs: dict[str, Any], width: int) -> None:
    page = runs[f"width-{width}"]
    assert page["viewport"] == width  # Chromium honoured the window size
    assert page["scrollWidth"] <= width


@pytest.mark.parametrize("name", ["width-320", "width-375", "bare-375"])
def test_on_a_phone_the_article_comes_first_and_the_team_after_it(runs: dict[str, Any], name: str) -> None:
    """Issue 17: read top to bottom as drawn at phone width (also without <style>), the kicker and
    title, then only the authors' names and roles, then the article, then the full team."""
    order = sorted(runs[name]["order"], key=lambda e: e["top"])
    texts = [e["text"] for e in order]
    assert texts[0].startswith("The Newest Kid on the Block")
    assert [t.split(":")[0] for t in texts[1:3]] == ["Guest Authors", "Clinical Pharmacy Specialist"]
    assert texts[3:5] == ["Background", "Mechanism of Action"]
    assert texts.index("References") < texts.index("Author Team") < len(texts) - 1  # then the footer
    assert texts[-1].startswith("The Tablet is sent by")


@pytest.mark.parametrize("name", ["width-600", "bare-600"])
def test_on_a_desktop_the_title_runs_the_full_width(runs: dict[str, Any], name: str) -> None:
    page = runs[name]
    assert page["title"]["width"] >= page["container"]["width"] - 48 - 1  # the 24px padding each side
    # Three lines at most in the test machine's DejaVu Serif (wider than Georgia); it ran to five in
    # the old 346px column.
    assert page["title"]["height"] <= 3 * 32 + 1
    assert page["team"]["width"] == pytest.approx(page["container"]["width"])


def test_looks_the_same_at_800_without_the_style_block(runs: dict[str, Any]) -> None:
    assert runs["width-600"]["height"] < PAGE_HEIGHT  # the screenshots hold the whole email
    with Image.open(runs["shot-800"]) as full, Image.open(runs["shot-800-bare"]) as bare:
        assert ImageChops.difference(full.convert("RGB"), bare.convert("RGB")).getbbox() is None


def test_the_comparison_sees_what_the_style_block_changes_on_phones(runs: dict[str, Any]) -> None:
    # The same comparison at 375px, where the @media rules apply, must find a difference; otherwise
    # the test above could pass with a broken comparison.
    with Image.open(runs["shot-375"]) as full, Image.open(runs["shot-375-bare"]) as bare:
        assert ImageChops.difference(full.convert("RGB"), bare.convert("RGB")).getbbox() is not None


@pytest.mark.parametrize("mode", ["width-600", "dark"])
def test_text_contrast_in_light_and_dark_mode(runs: dict[str, Any], mode: str) -> None:
    page = runs[mode]
    assert len(page["texts"]) > 100  # the script saw the issue's text
    poor = [t for t in page["texts"] if t["ratio"] < MIN_CONTRAST]
    assert poor == []
    dark_page = sum(page["pageBackground"]) / 3 < 60
    assert dark_page == (mode == "dark")  # dark mode really applied, and only when asked for


def test_a_blocked_logo_says_nothing_and_widens_nothing(runs: dict[str, Any]) -> None:
    shown, blocked = runs["width-600"], runs["blocked"]
    assert shown["logoLoaded"] and not blocked["logoLoaded"]
    assert blocked["logoAlt"] == ""  # the newsletter's name beside it is text: said once
    assert blocked["logo"]["width"] <= shown["logo"]["width"] == 96
    assert blocked["scrollWidth"] <= 600


def test_logo_png_is_drawn_from_the_current_svg(runs: dict[str, Any]) -> None:
    with Image.open(runs["logo"]) as fresh, Image.open(LOGO_PNG) as shipped:
        assert fresh.size == shipped.size
        difference = ImageChops.difference(fresh.convert("RGBA"), shipped.convert("RGBA"))
        assert max(high for _, high in difference.getextrema()) <= 8, (
            "brand/logo.png is out of date: run python tests/test_email_render.py logo"
        )


if __name__ == "__main__":
    # python tests/test_email_render.py logo: redraw brand/logo.png after editing brand/logo.svg;
    # python tests/test_email_render.py screenshot: redraw the README's docs/email-375.png.
    import sys

    if sys.argv[1:] == ["logo"]:
        rasterise_logo(LOGO_PNG)
    elif sys.argv[1:] == ["screenshot"]:
        with tempfile.TemporaryDirectory() as folder:
            shot = Path(folder) / "shot.png"
            show(variant(sample_email()), Path(folder) / "frame.html", 375, 1400, shot=shot)
            with Image.open(shot) as image:
                image.convert("RGB").quantize(64).save(SCREENSHOT, optimize=True)
