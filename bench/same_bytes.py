"""Did a speed-up change any output? Builds every issue and good fixture with REV (default HEAD) and
with the working tree, each in its own fresh process (so each pays its own cold start: the soname
loading, an empty template cache, ...), and demands byte-identical outputs.

    python bench/same_bytes.py [REV]     # exit 0 when every output is the same bytes

Stricter than tools/same_outputs.py, whose builds it reuses: a PDF that differs only in bytes (the
same text and pages to a reader) fails here, since a speed-up must not change a byte. Each side builds
twice, the second time with the template cache the first one filled, so that outputs made from
cached templates are compared too.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from same_outputs import ROOT, build, checkout, compare  # tools/ is not a package: on sys.path above


def main() -> int:
    rev = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    with tempfile.TemporaryDirectory() as tmp, checkout(rev, Path(tmp) / "old") as old_tree:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # an empty cache to start with
        old = build(old_tree, Path(tmp) / "a")
        new = build(ROOT, Path(tmp) / "b")
        again = build(ROOT, Path(tmp) / "c")  # templates from the cache the first build filled
        differ = compare(old, new) + [f"{d} (cached templates)" for d in compare(old, again)]
        count = len([p for p in new.rglob("*") if p.is_file()])
    for name in differ:
        print(f"differs: {name}")
    print(f"{count} outputs, built twice: {len(differ)} differ from {rev}'s")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
