"""Reading a file of an issue bundle: never through a symbolic link, never past a size limit, never a FIFO.

A bundle is untrusted (SECURITY.md): a draft may hold `mechanism.md -> /etc/passwd`, an `assets/`
folder that links elsewhere, a FIFO that would block a plain open(), or a sparse file of gigabytes. So
every component below the bundle folder is opened with O_NOFOLLOW relative to its parent's descriptor
(a link swapped in between two checks is refused too), the file with O_NONBLOCK (a FIFO cannot hang
the open), and the size comes from fstat on that very descriptor before one byte is read. Every read
of a bundle file in tablet-press goes through read_bundle_file; nothing else opens one.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from tablet_press.errors import BuildError

MAX_TEXT_BYTES = 2_000_000  # markdown and YAML
MAX_ASSET_BYTES = 10_000_000  # an image in assets/ (and any file the PDF engine reads)
# Anything else a bundle holds that tablet reads whole: published outputs, files hashed for the cache.
MAX_BUNDLE_FILE_BYTES = 100_000_000

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC
_FOLDER = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | _CLOEXEC
_CHUNK = 1 << 20


class UnsafeFile(BuildError):
    """Why a bundle file was not read, worded for the author. `where` is the file asked for, relative
    to the bundle (the message names the link if a folder on the way is one). A BuildError, so that
    one that no caller turns into a located Problem still ends as a message, never a traceback."""

    def __init__(self, message: str, hint: str = "", where: str = "") -> None:
        self.message = message
        self.hint = hint
        self.where = where
        super().__init__((f"{where}: " if where else "") + message + (f" ({hint})" if hint else ""))


def read_bundle_file(bundle_dir: Path, relative: PurePosixPath | str, limit: int) -> bytes:
    """The bytes of `bundle_dir/relative`, read without following any link below the bundle's parent.

    Raises UnsafeFile when a component (the bundle folder itself included) is a link, when the file
    is not a regular file, or when it holds more than `limit` bytes (checked with fstat before
    reading, and again while reading, at most limit + 1 bytes, in case it grows meanwhile)."""
    parts = PurePosixPath(relative).parts
    if not parts or any(p in ("", ".", "..") for p in parts) or PurePosixPath(relative).is_absolute():
        raise UnsafeFile(f"'{relative}' is not a path inside the issue folder")
    where = "/".join(parts)
    here = Path(os.path.abspath(bundle_dir))
    try:
        folder = _open(here.parent, here.name, _FOLDER, here.name, None)
        try:
            for depth, name in enumerate(parts[:-1]):
                inner = _open(here, name, _FOLDER, "/".join(parts[: depth + 1]), folder)
                os.close(folder)
                folder, here = inner, here / name
            fd = _open(here, parts[-1], _FILE, where, folder)
        finally:
            os.close(folder)
        return _read_open(fd, limit, where)
    except UnsafeFile as exc:
        raise UnsafeFile(exc.message, exc.hint, where) from None


def read_for_hash(bundle_dir: Path, relative: PurePosixPath) -> bytes:
    """What stands for a bundle entry in a hash (the archive's cache key, the publication record): its
    bytes, or, for an entry never read (a link, a FIFO, a file over the limit), the reason it is not.
    So a hash never follows a link or blocks, and still changes when such an entry comes or goes."""
    try:
        return read_bundle_file(bundle_dir, relative, MAX_BUNDLE_FILE_BYTES)
    except UnsafeFile as exc:
        return b"\0refused\0" + exc.message.encode()


def read_named_file(path: Path, limit: int) -> bytes:
    """A file the user named or the project holds (tablet.yaml, a file to import): links are followed,
    since the user chose them, but the size and type are checked on the open descriptor all the same."""
    try:
        fd = os.open(path, _FILE & ~os.O_NOFOLLOW)
    except FileNotFoundError:
        raise UnsafeFile(
            "no such file" + (" (a symbolic link to nothing)" if path.is_symlink() else "")
        ) from None
    except OSError as exc:
        raise UnsafeFile(f"cannot read file: {exc.strerror}") from None
    return _read_open(fd, limit, path.name)


def _read_open(fd: int, limit: int, shown: str) -> bytes:
    """Read an open descriptor (and close it): a regular file of at most `limit` bytes, else UnsafeFile.

    The size is fstat's, known before reading; at most limit + 1 bytes are read in case it grows."""
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):  # the message follows the file's name: say what is wrong
            raise UnsafeFile("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"'{shown}' is not a regular file")
        if info.st_size > limit:
            raise UnsafeFile(f"file is {info.st_size:,} bytes; the limit is {limit:,}")
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, min(_CHUNK, limit + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnsafeFile(f"file is more than {limit:,} bytes; the limit is {limit:,}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def link_refused(shown: str, *, folder: bool) -> UnsafeFile:
    """The one wording for a link met in a bundle, `shown` relative to the bundle folder."""
    return UnsafeFile(
        f"'{shown}' is a symbolic link; tablet never follows links in an issue folder",
        hint=f"copy the real {'folder' if folder else 'file'} in its place",
    )


def _open(parent: Path, name: str, flags: int, shown: str, parent_fd: int | None) -> int:
    """Open `name` inside `parent` (by descriptor when there is one); a refusal names the link."""
    try:
        if parent_fd is None:
            return os.open(parent / name, flags)
        return os.open(name, flags, dir_fd=parent_fd)
    except OSError as exc:
        try:
            mode = os.lstat(parent / name).st_mode
        except OSError:
            mode = 0
        if stat.S_ISLNK(mode):
            raise link_refused(shown, folder=bool(flags & os.O_DIRECTORY)) from None
        if flags & os.O_DIRECTORY and mode and not stat.S_ISDIR(mode):
            raise UnsafeFile(f"'{shown}' is not a folder") from None
        if isinstance(exc, FileNotFoundError):
            raise UnsafeFile("no such file") from None
        raise UnsafeFile(f"cannot read file: {exc.strerror}") from None


def bundle_entries(bundle_dir: Path) -> list[PurePosixPath]:
    """Every entry of a bundle that is not a folder (links and FIFOs included, so that whoever reads
    them meets read_bundle_file's refusal), relative to it and sorted; no link is followed to list."""
    found = []
    for top, folders, files in os.walk(bundle_dir, followlinks=False):
        here = PurePosixPath(Path(top).relative_to(bundle_dir).as_posix())
        found += [here / f for f in files]
        # os.walk lists a link to a folder among the folders and never enters it: count it as an entry.
        found += [here / d for d in folders if os.path.islink(os.path.join(top, d))]
    return sorted(found)
