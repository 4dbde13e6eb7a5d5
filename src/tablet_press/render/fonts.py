"""The brand fonts: which shipped font files make each family, as @font-face rules.

The fonts come from PyPI packages (SIL Open Font License 1.1), so a build never looks for system
fonts or the network; the PDF embeds subsets of exactly these files.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from tablet_press.bundle.model import FontFamily


@dataclass(frozen=True)
class Face:
    file: str
    weight: int
    style: str


# family -> (package, faces). Only the faces the styles use are declared, to keep PDFs small.
FAMILIES: dict[FontFamily, tuple[str, tuple[Face, ...]]] = {
    "Source Sans Pro": (
        "font_source_sans_pro",
        (
            Face("SourceSansPro-Regular.otf", 400, "normal"),
            Face("SourceSansPro-It.otf", 400, "italic"),
            Face("SourceSansPro-Semibold.otf", 600, "normal"),
            Face("SourceSansPro-Bold.otf", 700, "normal"),
            Face("SourceSansPro-BoldIt.otf", 700, "italic"),
        ),
    ),
    "Source Serif Pro": (
        "font_source_serif_pro",
        (
            Face("SourceSerifPro-Regular.otf", 400, "normal"),
            Face("SourceSerifPro-It.otf", 400, "italic"),
            Face("SourceSerifPro-Semibold.otf", 600, "normal"),
            Face("SourceSerifPro-Bold.otf", 700, "normal"),
        ),
    ),
}


@cache
def font_dir(family: FontFamily) -> Path:
    """The folder holding a family's files, found without importing the package."""
    package = FAMILIES[family][0]
    spec = find_spec(package)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the font package {package} is not installed; run pip install -e .")
    return Path(spec.origin).parent / "files"


def font_dirs() -> list[Path]:
    return [font_dir(family) for family in FAMILIES]


def font_face_css(families: list[FontFamily]) -> str:
    """@font-face rules for the given families, pointing at the shipped files."""
    rules = []
    for family in dict.fromkeys(families):
        folder = font_dir(family)
        for face in FAMILIES[family][1]:
            rules.append(
                f'@font-face {{ font-family: "{family}"; src: url("{(folder / face.file).as_uri()}"); '
                f"font-weight: {face.weight}; font-style: {face.style}; }}"
            )
    return "\n".join(rules) + "\n"


# The characters the web fonts keep: Latin with its accents, typographic punctuation and the signs
# clinical text uses (≤ ≥ ± × µ → −). A fixed set, not the text's own, so that one subset serves every
# page and a new issue never changes the fonts; a character outside it falls back to the next font.
WEB_UNICODES = (
    "U+0020-007E,U+00A0-017F,U+0192,U+02C6,U+02DA,U+02DC,U+0391-03C9,U+2010-2015,U+2018-201E,"
    "U+2020-2022,U+2026,U+2030,U+2032-2033,U+2039-203A,U+2044,U+20AC,U+2122,U+2190-2193,U+2212,"
    "U+2248,U+2260,U+2264-2265"
)


# The site serves subsets, which the OFL counts as Modified Versions (SIL's "Web Fonts and Reserved
# Font Names", 2013: a subset is not functionally equivalent). Adobe reserves the name "Source", so a
# served subset is renamed: "Source Sans Pro" becomes "Tablet Web Sans Pro", in the font's name table
# and in fonts.css. The PDF embeds subsets as the OFL allows for documents and keeps the names.
RESERVED_NAME, WEB_NAME = "Source", "Tablet Web"
RENAMED_IDS = (1, 3, 4, 6, 16, 17, 18, 21, 22)  # family, unique id, full, PostScript, typographic names


def web_font_family(family: FontFamily) -> str:
    """The family name the site's subsets carry, without the reserved name."""
    return family.replace(RESERVED_NAME, WEB_NAME)


def web_font_name(family: FontFamily, face: Face) -> str:
    """The WOFF2 file's name: the face's name and a digest of its source and the subset, so that a
    changed font or subset is a new file (safe to cache forever) and an unchanged one is never made again."""
    made_as = f"{WEB_UNICODES}|{WEB_NAME}|{RENAMED_IDS}".encode()
    digest = hashlib.sha256((font_dir(family) / face.file).read_bytes() + made_as)
    stem = Path(face.file).stem.replace(RESERVED_NAME, WEB_NAME.replace(" ", ""))
    return f"{stem}.{digest.hexdigest()[:10]}.woff2"


def web_font(family: FontFamily, face: Face) -> bytes:
    """One face as a WOFF2 subset (WEB_UNICODES, the layout features kept) for the archive site."""
    # fontTools is imported here: only an archive run that makes fonts needs it.
    from fontTools import subset  # type: ignore[import-untyped]  # (no type hints published)

    options = subset.Options()
    options.flavor = "woff2"  # compressed with brotli
    options.layout_features = ["*"]  # ligatures, kerning, figures: as the PDF sets them
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # with the copyright and licence (OFL 1.1)
    options.notdef_outline = True
    font = subset.load_font(str(font_dir(family) / face.file), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset.parse_unicodes(WEB_UNICODES))
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in RENAMED_IDS:
            text = record.toUnicode()
            renamed = text.replace(RESERVED_NAME + " ", WEB_NAME + " ").replace(
                RESERVED_NAME, WEB_NAME.replace(" ", "")
            )
            record.string = renamed
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


def web_font_css(families: list[FontFamily]) -> str:
    """@font-face rules for the site's fonts.css, naming the WOFF2 files beside it."""
    rules = []
    for family in dict.fromkeys(families):
        for face in FAMILIES[family][1]:
            rules.append(
                f'@font-face {{ font-family: "{web_font_family(family)}"; '
                f'src: url("{web_font_name(family, face)}") format("woff2"); '
                f"font-weight: {face.weight}; font-style: {face.style}; font-display: swap; }}"
            )
    return "\n".join(rules) + "\n"
