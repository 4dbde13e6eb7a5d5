"""The one build step pyproject.toml cannot declare: the project's own templates/, styles/ and brand/
(The Tablet's look, kept at the top of the repository where the design puts them) are copied into
the package as tablet_press/defaults/, so that a wheel carries them and a new project needs only
tablet.yaml. In a source checkout the package finds the top-level folders directly (bundle/look.py)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DEFAULTS = ("templates", "styles", "brand")


class BuildWithDefaults(build_py):
    def run(self) -> None:
        super().run()
        here = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "tablet_press" / "defaults"
        for name in DEFAULTS:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(here / name, target / name)


setup(cmdclass={"build_py": BuildWithDefaults})
