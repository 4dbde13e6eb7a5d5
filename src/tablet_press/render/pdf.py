"""Print HTML -> PDF with WeasyPrint, locked down: a URL fetcher that serves only regular files from
the allowed folders, every error WeasyPrint logs turned into a build failure naming the asset, and
every warning it logs (a CSS typo) turned into a located Problem (see render/weasylog.py)."""

from __future__ import annotations

import atexit
import calendar
import hashlib
import mimetypes
import os
import shutil
import signal
import stat
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from tablet_press.bundle.model import FontFamily
from tablet_press.bundle.safefile import MAX_ASSET_BYTES, UnsafeFile, read_bundle_file, read_named_file
from tablet_press.errors import BuildError, Problem, display_path
from tablet_press.render import weasylog
from tablet_press.render.fonts import font_face_css

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

PDF_VARIANT = "pdf/ua-1"
RENDER_SECONDS = 120  # a normal issue takes about a second; this stops pathological input
SUBSETTER_NOTICE = (
    "notice: HarfBuzz's font subsetter is not installed, so WeasyPrint subsets the fonts with fontTools:"
    " builds are slower, and their PDFs differ in bytes from those made where it is installed (each"
    " machine's are reproducible). Install it: apt-get install libharfbuzz-subset0"
)


class Refused(Exception):
    """A resource the locked-down fetcher will not serve."""


VIRTUAL = "/tablet/"  # every mounted folder's URL is file:///tablet/<name>/


@dataclass(frozen=True)
class Mounts:
    """Real folders shown to WeasyPrint under fixed URLs, file:///tablet/<name>/, which the fetcher maps
    back. WeasyPrint writes what it derives from a URL into the PDF (a raster image's XObject is named
    by the md5 of its URL: weasyprint/images.py), so with real file: URLs the PDF of an issue with an
    image differed between two copies of one project. Picklable, so that it travels to pdf_workers."""

    folders: tuple[tuple[str, Path], ...] = ()

    def url(self, path: Path) -> str:
        """The file: URL to give WeasyPrint for `path`: under the first mounted folder holding it,
        else its real URL (which works, but is not the same from another folder)."""
        asked = os.path.abspath(path)
        for name, folder in self.folders:
            real = os.path.abspath(folder)
            if asked == real or asked.startswith(real.rstrip(os.sep) + os.sep):
                relative = Path(asked).relative_to(real).as_posix()
                return f"file://{VIRTUAL}{name}/" + ("" if relative == "." else quote(relative))
        return Path(asked).as_uri()

    def real(self, path: str) -> str:
        """The real path that the (unquoted) path of a file: URL names; any other path as it is."""
        for name, folder in self.folders:
            prefix = f"{VIRTUAL}{name}/"
            if path.startswith(prefix):
                return os.path.join(os.path.abspath(folder), path[len(prefix) :])
        return path

    def unmapped(self, text: str) -> str:
        """`text` (WeasyPrint's words) naming real file: URLs instead of the mounted ones."""
        for name, folder in self.folders:
            text = text.replace(f"file://{VIRTUAL}{name}/", Path(os.path.abspath(folder)).as_uri() + "/")
        return text

    def shown(self, problem: Problem, root: Path | None) -> Problem:
        """A warning of WeasyPrint's naming the real stylesheet (relative to `root`), not the mounted one."""
        where = problem.file
        if where.startswith(VIRTUAL):
            where = display_path(Path(self.real(where)), root)
        return replace(problem, file=where, message=self.unmapped(problem.message))


def make_fetcher(allowed: Sequence[Path], bundle: Path | None = None, mounts: Mounts = Mounts()) -> Any:
    """A WeasyPrint URLFetcher serving only regular files inside `allowed` folders (after resolving
    symlinks): no network, no data: URLs, no files elsewhere, no FIFOs or devices. A file inside the
    untrusted `bundle` is read by safefile.read_bundle_file, through no link at all. A URL of one of
    the `mounts` names the real file it maps to, which must pass the same checks."""
    _load_weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    roots = [Path(os.path.realpath(p)) for p in allowed]
    untrusted = Path(os.path.abspath(bundle)) if bundle is not None else None

    class LockedFetcher(URLFetcher):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(allowed_protocols={"file"})
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            try:
                asked = self._asked(url)
                path = self._check(asked)
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body=self._read(asked, path), headers={"Content-Type": kind})
            except Refused as exc:
                self.refused.append(f"{exc}")
                raise

        def _asked(self, url: str) -> str:
            """The real path a URL asks for, mounts mapped back; the checks all apply to it."""
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise Refused(
                    f"'{url[:80]}' is not a local file of the issue (network and data: URLs are refused)"
                )
            return mounts.real(unquote(parts.path))

        def _read(self, asked_for: str, path: Path) -> bytes:
            asked = Path(os.path.abspath(asked_for))
            try:
                if untrusted is not None and untrusted in asked.parents:
                    relative = asked.relative_to(untrusted).as_posix()
                    return read_bundle_file(untrusted, relative, MAX_ASSET_BYTES)
                return read_named_file(path, MAX_ASSET_BYTES)
            except UnsafeFile as exc:
                raise Refused(f"'{asked}': {exc.message}") from None

        def _check(self, asked: str) -> Path:
            path = Path(os.path.realpath(asked))
            if not any(path == root or root in path.parents for root in roots):
                leads = f" (a link to '{path}')" if str(path) != os.path.normpath(asked) else ""
                raise Refused(f"'{asked}'{leads} is outside the issue, styles, templates and fonts")
            try:
                info = path.stat()
            except OSError:
                raise Refused(f"'{path}' does not exist") from None
            if not stat.S_ISREG(info.st_mode):
                raise Refused(f"'{path}' is not a regular file")
            if info.st_size > MAX_ASSET_BYTES:
                raise Refused(f"'{path}' is {info.st_size:,} bytes; the limit is {MAX_ASSET_BYTES:,}")
            return path

    return LockedFetcher()


@contextmanager
def _time_limit(seconds: int, what: str) -> Iterator[None]:
    """Stop a render that runs too long (only possible in the main thread, where signals arrive)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise BuildError(f"{what}: typesetting took longer than the limit of {seconds} seconds")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# SOURCE_DATE_EPOCH is process-wide: renders in threads of one process take turns while it is set.
_SOURCE_DATE_LOCK = threading.Lock()


@contextmanager
def _source_date(day: date | None) -> Iterator[None]:
    """Set SOURCE_DATE_EPOCH to `day` (midnight UTC) for one render, then restore what was there.

    Without HarfBuzz's subsetter, WeasyPrint subsets fonts with fontTools, which stamps the time of the
    build into each embedded font's `head` table (its modified date) unless this variable is set: every
    build would differ. The issue's date is the date the PDF's metadata carries already. Set here, not
    by the caller, so that it holds in worker processes too and never outlives the render."""
    epoch = max(0, calendar.timegm(day.timetuple())) if day else 0
    with _SOURCE_DATE_LOCK:
        before = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
        try:
            yield
        finally:
            if before is None:
                del os.environ["SOURCE_DATE_EPOCH"]
            else:
                os.environ["SOURCE_DATE_EPOCH"] = before


def faster_subsetter_missing() -> bool:
    """Whether WeasyPrint falls back to fontTools to subset fonts (slower; see SUBSETTER_NOTICE).

    WeasyPrint's own decision when it is loaded in this process (weasyprint/pdf/fonts.py: HarfBuzz's
    subsetter, from HarfBuzz 4.1.0 on); otherwise the same test without importing it (half a second)."""
    fonts = sys.modules.get("weasyprint.pdf.fonts")
    if fonts is not None:
        return not (fonts.harfbuzz_subset and fonts.harfbuzz.hb_version_atleast(4, 1, 0))
    return not _harfbuzz_subset_found()


@cache
def _harfbuzz_subset_found() -> bool:
    """The libraries under the names weasyprint/text/ffi.py tries, HarfBuzz 4.1.0 or newer."""
    import ctypes

    def first(*names: str) -> Any:
        for name in names:
            try:
                return ctypes.CDLL(name)
            except OSError:
                continue
        return None

    subset = first(
        "libharfbuzz-subset-0",
        "harfbuzz-subset",
        "harfbuzz-subset-0.0",
        "libharfbuzz-subset.so.0",
        "libharfbuzz-subset.0.dylib",
        "libharfbuzz-subset-0.dll",
    )
    harfbuzz = first(
        "libharfbuzz-0",
        "harfbuzz",
        "harfbuzz-0.0",
        "libharfbuzz.so.0",
        "libharfbuzz.0.dylib",
        "libharfbuzz-0.dll",
    )
    return bool(subset and harfbuzz and harfbuzz.hb_version_atleast(4, 1, 0))


# WeasyPrint's first name for each library it opens (weasyprint/text/ffi.py), and the library's soname
# on Linux, which WeasyPrint also lists, after names that cffi can only find through
# ctypes.util.find_library: there it runs ldconfig, gcc and ld (about 50 processes, 0.15-0.2 s).
# True: WeasyPrint can do without the library (allow_fail).
_SONAMES = {
    "libgobject-2.0-0": ("libgobject-2.0.so.0", False),
    "libpango-1.0-0": ("libpango-1.0.so.0", False),
    "libharfbuzz-0": ("libharfbuzz.so.0", False),
    "libharfbuzz-subset-0": ("libharfbuzz-subset.so.0", True),
    "libharfbuzz-vector-0": ("libharfbuzz-vector.so.0", True),
    "libfontconfig-1": ("libfontconfig.so.1", False),
    "libpangoft2-1.0-0": ("libpangoft2-1.0.so.0", False),
}


@cache
def _load_weasyprint() -> None:
    """Import WeasyPrint, its libraries opened by their sonames first (see _SONAMES).

    While WeasyPrint is imported, ctypes.util.find_library answers a library's first name with its
    soname when the dynamic loader opens it: cffi then opens the very file it would have found. A
    soname that does not open (another system, another version) is looked for the stock way, with
    every name WeasyPrint lists; only an optional library missing under its soname on Linux, where
    find_library finds nothing the loader cannot open by soname, is taken as missing at once. Other
    systems (macOS, Windows) take the stock path."""
    if sys.platform != "linux" or "weasyprint" in sys.modules:
        import weasyprint

        return
    import ctypes
    import ctypes.util

    stock = ctypes.util.find_library
    missing = False  # an optional library did not open by soname: its other names are not looked for

    def find_library(name: str) -> str | None:
        nonlocal missing
        if name not in _SONAMES:
            return None if missing else stock(name)
        soname, optional = _SONAMES[name]
        missing = False
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing = optional
            return None if missing else stock(name)
        return soname

    ctypes.util.find_library = find_library
    try:
        import weasyprint  # noqa: F401
    finally:
        ctypes.util.find_library = stock


@cache
def _font_config() -> Any:
    """One FontConfiguration per process. Its temporary copies of the fonts are removed at exit
    explicitly, not left to its __del__, which a process may never run (see _worker_started)."""
    _load_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    atexit.register(_remove_font_copies)
    return FontConfiguration()


@dataclass(frozen=True)
class Typeset:
    """A PDF and the warnings WeasyPrint logged while making it. Picklable, so that the warnings
    travel back from a worker process (pdf_workers) with the PDF."""

    pdf: bytes
    problems: tuple[Problem, ...] = ()


def write_pdf(html: str, **options: Any) -> bytes:
    """The PDF bytes only, for callers that do not report WeasyPrint's warnings (benchmarks, tests of
    the fetcher); raises BuildError like `typeset`."""
    return typeset(html, **options).pdf


def typeset(
    html: str,
    *,
    base_url: Path,
    allowed: Sequence[Path],
    fonts: Sequence[FontFamily],
    what: str,
    mounts: Mounts = Mounts(),
    identity: str = "",
    seconds: int | None = None,
    day: date | None = None,
    root: Path | None = None,
) -> Typeset:
    """Typeset `html` into a PDF and the warnings WeasyPrint logged, each a Problem located in the
    stylesheet it names (shown relative to `root`, the project); raises BuildError naming every
    resource that failed.

    `base_url` is the issue's folder, shown to WeasyPrint under its URL in `mounts` (as the HTML should
    name every other file), so that the same issue gives the same bytes wherever the project lives on
    disk. `identity` (default: the HTML) seeds the PDF's file identifier. `seconds` is the time limit
    (default RENDER_SECONDS), which holds only in a main thread: run in a worker (pdf_workers) elsewhere.
    `day` (the issue's date; default 1970-01-01) dates the embedded fonts, so that the bytes do not
    depend on when the PDF is made, whichever subsetter WeasyPrint uses (see _source_date)."""
    _load_weasyprint()
    from weasyprint import CSS, HTML

    fetcher = make_fetcher(allowed, base_url, mounts)  # base_url is the bundle: its files are read link-free
    config = _font_config()
    with (
        weasylog.collect(what, root) as log,
        _source_date(day),
        _time_limit(seconds or RENDER_SECONDS, what),
    ):
        sheets = [CSS(string=font_face_css(list(fonts)), font_config=config, url_fetcher=fetcher)]
        document = HTML(string=html, base_url=mounts.url(base_url).rstrip("/") + "/", url_fetcher=fetcher)
        pdf = document.write_pdf(
            stylesheets=sheets,
            font_config=config,
            pdf_variant=PDF_VARIANT,
            pdf_identifier=hashlib.sha256((identity or html).encode()).hexdigest()[:32].encode(),
        )
    # WeasyPrint also logs each refusal ("Failed to load ...: Refused: ..."): say each once.
    failures = fetcher.refused + [mounts.unmapped(e) for e in log.errors if "Refused: " not in e]
    if failures:
        raise BuildError(f"{what}: the PDF could not be made:\n  " + "\n  ".join(failures))
    assert isinstance(pdf, bytes)
    return Typeset(pdf, tuple(mounts.shown(p, root) for p in log.problems))


@contextmanager
def pdf_workers(workers: int, *, spawn: bool = False) -> Iterator[ProcessPoolExecutor | None]:
    """Processes that run `write_pdf` (WeasyPrint: nearly all of a build's time) while this one makes
    the views, emails and pages and writes the files; None for no workers (PDFs are made here).

    Each worker imports WeasyPrint (half a second) as soon as it starts, not at its first PDF. Jobs
    should be `typeset` itself, so that a worker never imports more than this module. Workers are
    forked (fast) unless `spawn`: a process that already runs threads must not fork."""
    if workers < 1:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor  # with multiprocessing: 15 ms, when needed

    context = multiprocessing.get_context("spawn" if spawn else None)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_started)
    try:
        for _ in range(workers):
            pool.submit(_import_weasyprint)
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)  # after an error, PDFs not yet begun are dropped


def _import_weasyprint() -> None:
    _load_weasyprint()


def _worker_started() -> None:
    """Ctrl-C in a terminal reaches every process of the command: the parent stops its workers, so a
    worker ignores it rather than print its own traceback.

    Workers end with os._exit, which skips atexit and __del__, so the temporary copies of the fonts
    (1.6 MB a worker) would stay behind; multiprocessing's own exit hook removes them instead. A font
    configuration inherited from the parent (fork) is the parent's to remove."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _font_config.cache_info().currsize:
        from multiprocessing.util import Finalize

        Finalize(None, _remove_font_copies, exitpriority=0)


def _remove_font_copies() -> None:
    if _font_config.cache_info().currsize:
        folder = getattr(_font_config(), "_folder", None)  # where WeasyPrint 70 copies the fonts
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
