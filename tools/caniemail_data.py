"""Trim caniemail's data.json to the email clients tablet-press checks, for vendoring.

    cd "$(mktemp -d)" && npm pack caniemail@VERSION && tar xzf caniemail-VERSION.tgz
    python tools/caniemail_data.py package VERSION

reads package/data/caniemail.json and package/LICENSE from the unpacked npm package and writes
src/tablet_press/checks/data/caniemail/caniemail.json (every feature, only the client families below,
every version of them kept) and LICENSE beside it. The README there says what the data is and where
it came from; change its version line too. The email check (checks/email_compat.py) reads the file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

FAMILIES = ("gmail", "outlook", "apple-mail")  # checks/email_compat.py CLIENTS picks platforms of these
KEPT = ("slug", "title", "url", "category", "keywords", "last_test_date", "notes", "notes_by_num")
# The data is Can I email's (github.com/hteumeuleu/caniemail, MIT); the npm package that carries it
# has its own MIT notice. Both are kept.
UPSTREAM_LICENCE = """The data: Can I email (https://www.caniemail.com, https://github.com/hteumeuleu/caniemail)

MIT License

Copyright (c) 2019 HTeuMeuLeu

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE."""
PACKAGE_NOTE = "The npm package caniemail (https://github.com/shellscape/caniemail), which carries the data:"
TARGET = Path(__file__).resolve().parent.parent / "src" / "tablet_press" / "checks" / "data" / "caniemail"


def trim(data: dict, version: str, sha256: str) -> dict:  # type: ignore[type-arg]
    return {
        "source": {
            "package": "caniemail",
            "version": version,
            "registry": f"https://registry.npmjs.org/caniemail/-/caniemail-{version}.tgz",
            "file": "data/caniemail.json",
            "sha256": sha256,  # of that file as published, before trimming
            "upstream": "https://www.caniemail.com/api/data.json (https://github.com/hteumeuleu/caniemail)",
            "licence": "MIT",
            "trimmed": f"only the client families {', '.join(FAMILIES)}; everything else as published",
        },
        "api_version": data["api_version"],
        "last_update_date": data["last_update_date"],
        "nicenames": data["nicenames"],
        "data": [
            {
                **{key: feature[key] for key in KEPT},
                "stats": {
                    family: feature["stats"][family] for family in FAMILIES if family in feature["stats"]
                },
            }
            for feature in data["data"]
        ],
    }


def main(package: Path, version: str) -> None:
    raw = (package / "data" / "caniemail.json").read_bytes()
    data = json.loads(raw)
    if not str(data.get("api_version", "")).startswith("1."):
        sys.exit(f"caniemail's api_version is {data.get('api_version')!r}, not 1.x: check the format first")
    TARGET.mkdir(parents=True, exist_ok=True)
    text = (
        json.dumps(
            trim(data, version, hashlib.sha256(raw).hexdigest()),
            ensure_ascii=False,
            indent=1,
            sort_keys=False,
        )
        + "\n"
    )
    (TARGET / "caniemail.json").write_text(text, encoding="utf-8")
    licence = (package / "LICENSE").read_text(encoding="utf-8").strip()
    (TARGET / "LICENSE").write_text(f"{UPSTREAM_LICENCE}\n\n{'-' * 72}\n\n{PACKAGE_NOTE}\n\n{licence}\n")
    size, date = len(text.encode()), data["last_update_date"]
    print(f"wrote {TARGET / 'caniemail.json'} ({size:,} bytes, data of {date})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), sys.argv[2])
