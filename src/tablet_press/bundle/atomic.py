"""The one atomic writer: every file tablet writes (build, archive, publish, refs import) goes through it.

Why one: the guarantees a user relies on are the writer's, so they must hold everywhere or they hold
nowhere. A reader sees an old file or a new one, never half of one (temporary file, then os.replace);
nothing is written through a symbolic link; a folder standing where a file should go, or an output
folder that cannot be made, is a plain error naming the path, before any file of the set is replaced;
and files get the permissions the umask gives (0644 under umask 022), as `cp -a`/`rsync -a` to a web
server need. mkstemp's 0600 is what made copied sites answer 403.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Mapping
from pathlib import Path

from tablet_press.errors import BuildError

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def shown(path: Path, root: Path | None = None) -> str:
    """A path as the user should see it, without resolving symbolic links (a message about a link must
    name the link, not where it points): relative to `root` when inside it."""
    if root is not None:
        try:
            return path.absolute().relative_to(root.absolute()).as_posix()
        except ValueError:
            pass
    return str(path)


def check_output_folder(out: Path, *, issues: Path, root: Path, option: str = "--out") -> None:
    """Refuse an output folder before anything is rendered or written: a symbolic link, something
    that is not a folder, or a folder inside issues/ (outputs never go into bundles)."""
    name = shown(out, root)
    if out.is_symlink():
        raise BuildError(f"the output folder {name} is a symbolic link; refusing to write through it")
    if out.exists() and not out.is_dir():
        raise BuildError(f"the output folder {name} is a file, not a folder; choose another {option}")
    resolved, bundles = out.resolve(), issues.resolve()
    if resolved == bundles or bundles in resolved.parents:
        raise BuildError(f"the output folder {name} is inside issues/; outputs never go into bundles")


def _refuse(path: Path, root: Path | None) -> None:
    """Refuse to replace `path` if it is a symbolic link or anything but a regular file."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise BuildError(f"cannot write {shown(path, root)}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(mode):
        raise BuildError(f"{shown(path, root)} is a symbolic link; refusing to write through it")
    if stat.S_ISDIR(mode):
        raise BuildError(f"{shown(path, root)} is a folder where a file should be written; move it away")
    if not stat.S_ISREG(mode):
        raise BuildError(f"{shown(path, root)} is not a regular file; refusing to replace it")


def _folders(folder: Path, within: Path) -> list[Path]:
    """`within` and every folder below it down to `folder`: none of them may be a symbolic link."""
    chain = [folder, *folder.parents]
    if within not in chain:
        raise ValueError(f"{folder} is not inside {within}")  # a bug in the caller
    return chain[: chain.index(within) + 1]


def write_files(
    folder: Path,
    files: Mapping[str, bytes],
    *,
    within: Path | None = None,
    root: Path | None = None,
    check: Callable[[Mapping[str, Path]], None] | None = None,
) -> list[Path]:
    """Write `files` (name -> bytes) into `folder` atomically; returns their paths.

    Every folder from `within` (default: `folder` itself) down to `folder`, and every target, is
    checked before anything is written: a symbolic link or a folder in the way is refused. All files
    are staged first; `check` may inspect the staged files (name -> temporary path) and raise; only
    then are they moved into place. If anything fails before the moves, no earlier file changes and no
    temporary file is left. `root` only shortens the paths in messages."""
    for name in files:
        if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
            raise ValueError(f"not a plain file name: {name!r}")  # names are ours, never a bundle's
    for part in reversed(_folders(folder, within or folder)):
        _refuse_folder(part, root)
    targets = {name: folder / name for name in files}
    for target in targets.values():
        _refuse(target, root)
    try:
        folder.mkdir(parents=True, exist_ok=True)  # mode 0777 & ~umask, like any folder a user makes
    except OSError as exc:
        raise BuildError(f"cannot create the folder {shown(folder, root)}: {exc.strerror or exc}") from None
    staged: dict[str, Path] = {}
    try:
        for name, data in files.items():
            temp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
            try:
                handle = os.open(temp, _NEW_FILE, 0o666)  # 0666 & ~umask: 0644 under umask 022
            except OSError as exc:
                raise BuildError(
                    f"cannot write {shown(folder / name, root)}: {exc.strerror or exc}"
                ) from None
            staged[name] = temp
            with os.fdopen(handle, "wb") as out:
                out.write(data)
        if check is not None:
            check(staged)
        for name, temp in staged.items():
            _refuse(targets[name], root)  # again, just before: nothing is replaced through a link
            os.replace(temp, targets[name])
    except OSError as exc:
        raise BuildError(f"cannot write into {shown(folder, root)}: {exc.strerror or exc}") from None
    finally:
        for leftover in staged.values():
            leftover.unlink(missing_ok=True)
    return list(targets.values())


def _refuse_folder(path: Path, root: Path | None) -> None:
    if path.is_symlink():
        raise BuildError(f"{shown(path, root)} is a symbolic link; refusing to write through it")
    if path.exists() and not path.is_dir():
        raise BuildError(f"{shown(path, root)} is a file where a folder should be; move it away")
