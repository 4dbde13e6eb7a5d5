"""`tablet init`: a new newsletter project, tablet.yaml (each field described from the schema) and an
empty issues/ folder; the look comes from tablet-press's defaults until the team adds its own."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from tablet_press.bundle.model import Config
from tablet_press.bundle.project import CONFIG_NAME
from tablet_press.errors import BuildError

PLACEHOLDER = "TODO"
# Values to fill in: valid, so that `tablet validate` accepts the project at once; every text to
# replace says TODO, which `tablet validate` and the issue scaffold already treat as a placeholder.
STARTER: dict[str, object] = {
    "newsletter": {
        "name": f"{PLACEHOLDER}: the newsletter's name",
        "organisation": f"{PLACEHOLDER}: the publishing organisation",
        "section": f"{PLACEHOLDER}: the service, e.g. Palliative Care",
        "language": "en-US",
        "sender": {"name": f"{PLACEHOLDER}: who the email comes from", "email": "newsletter@example.org"},
    },
    "brand": {
        "logo": "logo.svg",
        "logo_alt": f"{PLACEHOLDER}: the newsletter's name",
        "colours": {
            "primary": "#1d3c6e",
            "accent": "#0f7c86",
            "text": "#1f2328",
            "muted": "#555d66",
            "sidebar": "#eef3f8",
            "callout": "#fff6e0",
        },
        "fonts": {"body": "Source Sans Pro", "headings": "Source Serif Pro"},
    },
    "team": {
        "editor": {
            "name": f"{PLACEHOLDER}: full name",
            "credentials": ["PharmD"],
            "titles": [f"{PLACEHOLDER}: title and affiliation"],
            "role": "pharmacist",
            "contact": {"email": "editor@example.org"},
        }
    },
    "roles": {
        "pharmacist": {"one": "Clinical Pharmacy Specialist", "many": "Clinical Pharmacy Specialists"},
        "guest": {"one": "Guest Author", "many": "Guest Authors"},
    },
    "call_for_topics": {
        "text": "If you have a topic you would like the team to answer, please send your suggestions to",
        "email": "editor@example.org",
    },
    "reference_style": "apa",
    "disclaimer": f"{PLACEHOLDER}: the standing disclaimer printed in every issue.",
    "callouts": {"pearl": "CLINICAL PEARL", "caution": "CAUTION", "note": "NOTE"},
    "topics": {"example-topic": {"label": f"{PLACEHOLDER}: a topic of the archive", "kind": "topic"}},
}


def tablet_yaml() -> str:
    """tablet.yaml for a new project: every field of the schema in its order, described above it;
    the optional ones left out are shown commented out."""
    out = [
        "# yaml-language-server: $schema=schema/tablet.schema.json",
        "# A new newsletter: replace every TODO and the example.org addresses, then run 'tablet validate'.",
        "# Templates, styles and the logo come with tablet-press; put a file of the same name in this",
        "# project's templates/, styles/ or brand/ folder to change one of them.",
        "",
    ]
    for name, info in Config.model_fields.items():
        out.append("\n".join(f"# {line}" for line in (info.description or name).splitlines()))
        if name in STARTER:
            dumped = yaml.safe_dump({name: STARTER[name]}, sort_keys=False, allow_unicode=True, width=100)
            out.append(dumped.strip())
        else:
            out.append(f"# {name}:")
        out.append("")
    return "\n".join(out)


def init_project(folder: Path) -> Path:
    """Create a project in `folder` (made if missing): tablet.yaml and issues/. Refuses, changing
    nothing, if the folder already holds tablet.yaml; the file appears whole or not at all."""
    config = folder / CONFIG_NAME
    if config.exists() or config.is_symlink():
        raise BuildError(f"{config} already exists: this folder is already a project; nothing was changed")
    if folder.exists() and not folder.is_dir():
        raise BuildError(f"{folder} is not a folder; nothing was changed")
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".tablet.", suffix=".yaml.tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(tablet_yaml())
        (folder / "issues").mkdir(exist_ok=True)
        os.link(temp, config)  # fails rather than replace a tablet.yaml that appeared meanwhile
    except FileExistsError:
        message = f"{config} already exists: this folder is already a project; nothing was changed"
        raise BuildError(message) from None
    finally:
        Path(temp).unlink(missing_ok=True)
    return config
