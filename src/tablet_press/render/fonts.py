"""The brand fonts: which shipped font files make each family, as @font-face rules.

The fonts come from PyPI packages (SIL Open Font License 1.1), so a build never looks for system
fonts or the network; the PDF embeds subsets of exactly these files.
"""

from __future__ import annotations

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
