"""Validation: the schema plus every cross-check (authors, topics, references, citations, assets),
over one bundle or many, gathering every problem before anything is written."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from tablet_press.bundle import markdown
from tablet_press.bundle.folder import ASSETS_DIR, Bundle, Parts, read_parts
from tablet_press.bundle.outline import MarkdownText, markdown_texts
from tablet_press.bundle.project import Project
from tablet_press.bundle.safefile import MAX_ASSET_BYTES, UnsafeFile, read_bundle_file
from tablet_press.checks.ce import check_ce, check_people
from tablet_press.checks.lint import ignored, lint
from tablet_press.checks.publication import check_published
from tablet_press.checks.retractions import check_retractions
from tablet_press.errors import Problem, did_you_mean

DOI = re.compile(r"^10\.\d{4,9}/\S+$")
PMID = re.compile(r"^[1-9]\d{0,8}$")
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
MAX_IMAGE_PIXELS = 25_000_000  # about 5000 x 5000: plenty for print at 300 dpi, far from a decompression bomb


@dataclass
class Report:
    """What validation found: the bundles that loaded, and every problem (errors and warnings)."""

    bundles: list[Bundle] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def failed(self, strict: bool = False) -> bool:
        return bool(self.errors or (strict and self.warnings))


def validate(project: Project, paths: list[Path] | None = None, *, recording: bool = False) -> Report:
    """Validate the given bundles (default: every bundle in issues/), all problems at once.

    `recording`: a correction is being recorded (`tablet publish --correction`), so corrections that
    are not recorded yet are expected rather than errors."""
    report = Report()
    targets = paths if paths else project.bundle_dirs()
    for path in targets:
        parts = read_parts(path, project.root)
        report.problems += parts.problems
        bundle = parts.bundle()
        if bundle is not None:
            report.problems += check_bundle(bundle, project, recording=recording)
            report.bundles.append(bundle)
        else:  # still check what could be read, so that one run reports everything
            report.problems += check_parts(parts, project)
    report.problems += _check_across(report.bundles)
    # Problems with a shared file (a damaged publications.json) are found once per bundle: shown once.
    report.problems = sorted(dict.fromkeys(report.problems))
    return report


def _prose_texts(parts: Parts | Bundle) -> Iterator[MarkdownText]:
    for prose in (parts.prose or {}).values():
        yield MarkdownText(prose.text, prose.file, "")


def check_bundle(bundle: Bundle, project: Project, *, recording: bool = False) -> list[Problem]:
    return [
        *_check_authors(bundle, project),
        *check_people(bundle, project),
        *check_ce(bundle, project),
        *_check_topics(bundle, project),
        *_check_reference_records(bundle),
        *_check_journal_abbreviations(bundle),
        *_check_studies(bundle, [r.id for r in bundle.references]),
        *_check_unused(bundle),
        *_check_markdown(markdown_texts(bundle), [r.id for r in bundle.references], bundle.path, project),
        *check_published(bundle, project, recording=recording),
        *check_retractions(bundle, project),
        *lint(bundle, project),
    ]


def check_parts(parts: Parts, project: Project) -> list[Problem]:
    """The cross-checks of a bundle with errors, on the parts that did parse (Parts.partial): a wrong
    type in one field of issue.yaml must not hide an unknown topic, a bad citation or a dose slip
    elsewhere. Checks that need the whole issue (across issues, publication, unused references) wait
    until the errors are fixed; citations count every id written in references.yaml, and are not
    checked at all when it could not be read."""
    ids = None if parts.reference_ids is None else list(parts.reference_ids)  # None: unreadable
    partial = parts.partial()
    if partial is None:  # no issue.yaml to speak of: the prose files alone
        return list(_check_markdown(_prose_texts(parts), ids, parts.path, project))
    problems = [
        *_check_topics(partial, project),
        *(_check_studies(partial, ids) if ids is not None else ()),
        *_check_markdown(markdown_texts(partial), ids, partial.path, project),
        *lint(partial, project),
    ]
    if "authors" in partial.issue.model_fields_set:  # required, so unset when it did not parse
        problems += _check_authors(partial, project)
        problems += check_people(partial, project)
        if "date" in partial.issue.model_fields_set:  # the CE rules read the issue's date and authors
            problems += check_ce(partial, project)
    if parts.references and parts.references_source is not None:  # references.yaml parsed
        problems += _check_reference_records(partial)
        problems += _check_journal_abbreviations(partial)
        problems += check_retractions(partial, project)
    return problems


def _check_authors(bundle: Bundle, project: Project) -> Iterator[Problem]:
    src, config = bundle.issue_source, project.config
    for i, author in enumerate(bundle.issue.authors):
        role = author.role
        if author.id is not None:
            person = config.team.get(author.id)
            if person is None:
                yield src.problem(
                    ("authors", i, "id"),
                    f"no team member '{author.id}' in tablet.yaml",
                    hint=did_you_mean(author.id, config.team)
                    or "add them to team: in tablet.yaml or write the guest out with name:",
                )
                continue
            role = role or person.role
        if role is None:
            yield src.problem(
                ("authors", i),
                "this author needs a role",
                hint=f"add role: with one of {', '.join(config.roles)}",
            )
        elif role not in config.roles:
            yield src.problem(
                ("authors", i, "role"),
                f"unknown role '{role}'",
                hint=did_you_mean(role, config.roles) or f"roles are: {', '.join(config.roles)}",
            )


def _check_topics(bundle: Bundle, project: Project) -> Iterator[Problem]:
    vocabulary = project.config.topics
    for i, topic in enumerate(bundle.issue.topics):
        if topic not in vocabulary:
            yield bundle.issue_source.problem(
                ("topics", i),
                f"unknown topic '{topic}'",
                hint=did_you_mean(topic, vocabulary) or "add it to topics: in tablet.yaml",
            )


def _check_reference_records(bundle: Bundle) -> Iterator[Problem]:
    """references.yaml on its own: duplicate ids and DOIs, malformed identifiers, missing pages."""
    src = bundle.references_source
    seen_ids: dict[str, int] = {}
    seen_dois: dict[str, str] = {}
    for i, ref in enumerate(bundle.references):
        assert src is not None
        if ref.id in seen_ids:
            yield src.problem(
                (i, "id"), f"duplicate reference id '{ref.id}' (also reference {seen_ids[ref.id] + 1})"
            )
        seen_ids.setdefault(ref.id, i)
        if ref.DOI is not None:
            if not DOI.match(ref.DOI):
                yield src.problem(
                    (i, "DOI"),
                    f"malformed DOI '{ref.DOI}'",
                    hint="a DOI starts with 10. and has a slash, e.g. 10.1002/ana.22006; "
                    "leave out https://doi.org/",
                )
            elif ref.DOI.lower() in seen_dois:
                yield src.problem(
                    (i, "DOI"), f"duplicate DOI {ref.DOI} (also in '{seen_dois[ref.DOI.lower()]}')"
                )
            seen_dois.setdefault(ref.DOI.lower(), ref.id)
        if ref.PMID is not None and not PMID.match(ref.PMID):
            yield src.problem((i, "PMID"), f"malformed PMID '{ref.PMID}'", hint="a PMID is digits only")
        if ref.unstructured and not ignored(src, (i,), "unstructured-reference"):
            yield src.problem(
                (i, "text"),
                f"[unstructured-reference] reference '{ref.id}' is kept as written: it prints as it is "
                "in every style, but none of its parts can be checked, and APA cites it by its first words",
                hint="write it out as author:, title:, container-title:, issued:, ... in place of text:",
                severity="warning",
            )
        pageless = ref.type == "article-journal" and not (ref.page or ref.article_number or ref.unstructured)
        if pageless and not ignored(src, (i,), "missing-pages"):
            yield src.problem(
                (i, "id"),
                f"[missing-pages] reference '{ref.id}' has no pages or article number",
                hint="add page: or article-number:",
                severity="warning",
            )


def _check_journal_abbreviations(bundle: Bundle) -> Iterator[Problem]:
    """A journal article needs its journal's NLM abbreviation: the short cite over a study and the
    numbered styles print it. Silenced for one record by `# tablet: ignore[journal-abbreviation]` on
    its first line or on the comment lines right above it."""
    src = bundle.references_source
    for i, ref in enumerate(bundle.references):
        assert src is not None
        if ref.type != "article-journal" or ref.container_title_short or not ref.container_title:
            continue
        if not ignored(src, (i,), "journal-abbreviation"):
            yield src.problem(
                (i, "container-title"),
                f"[journal-abbreviation] '{ref.id}' has no container-title-short: the study heading and "
                f"the AMA and Vancouver lists would print '{ref.container_title}' in full",
                hint="add container-title-short: with the journal's NLM abbreviation (NLM Catalog), "
                "e.g. Pain Med",
                severity="warning",
            )


def _check_studies(bundle: Bundle, ids: list[str]) -> Iterator[Problem]:
    """Each study's ref names an entry of references.yaml (`ids`), and its heading matches its title."""
    issue_src = bundle.issue_source
    for g, group in enumerate(bundle.issue.literature):
        for s, study in enumerate(group.studies):
            record = bundle.reference(study.ref)
            if study.ref not in ids:
                yield issue_src.problem(
                    ("literature", g, "studies", s, "ref"),
                    f"study refers to '{study.ref}', which is not in references.yaml",
                    hint=did_you_mean(study.ref, ids),
                )
            elif record is not None and record.title is None and study.title is None:
                yield issue_src.problem(
                    ("literature", g, "studies", s),
                    f"study of '{record.id}', an unstructured reference (kept as written), needs a title:",
                    hint="add title: with the study's title as the heading should print it",
                )
            elif (
                record is not None
                and record.title is not None
                and study.title is not None
                and _fold(study.title) != _fold(record.title)
                and not ignored(issue_src, ("literature", g, "studies", s, "title"), "study-heading")
            ):
                yield issue_src.problem(
                    ("literature", g, "studies", s, "title"),
                    f"[study-heading] study heading differs from the title of '{record.id}' in "
                    f"references.yaml: '{record.title}'",
                    severity="warning",
                    hint="check which is right; remove title: to print the reference's",
                )


def _check_unused(bundle: Bundle) -> Iterator[Problem]:
    """A reference neither cited nor summarised: worth a warning, once the whole issue has parsed."""
    src = bundle.references_source
    summarised = {study.ref for group in bundle.issue.literature for study in group.studies}
    cited = {found.value for text in markdown_texts(bundle) for found in markdown.scan(text.text).citations}
    for i, ref in enumerate(bundle.references):
        assert src is not None
        if ref.id not in cited and ref.id not in summarised and not ignored(src, (i,), "unused-reference"):
            yield src.problem(
                (i, "id"),
                f"[unused-reference] reference '{ref.id}' is neither cited nor summarised in this issue",
                hint="cite it with [@" + ref.id + "] or remove it if it is not needed",
                severity="warning",
            )


def _fold(title: str) -> str:
    return " ".join(title.casefold().split()).rstrip(".")


def _check_markdown(
    texts: Iterator[MarkdownText], ids: list[str] | None, bundle_dir: Path, project: Project
) -> Iterator[Problem]:
    kinds = project.config.callouts
    for text in texts:
        facts = markdown.scan(text.text)
        for found in facts.citations:
            if ids is not None and found.value not in ids:  # None: references.yaml could not be read
                yield text.problem(
                    found,
                    f"citation [@{found.value}] has no entry in references.yaml",
                    hint=did_you_mean(found.value, ids),
                )
        for found in facts.callouts:
            if found.value not in kinds:
                yield text.problem(
                    found,
                    f"unknown callout kind '{found.value}'",
                    hint=did_you_mean(found.value, kinds) or f"kinds are: {', '.join(kinds)}",
                )
        for found in facts.raw_html:
            yield text.problem(
                found,
                f"raw HTML is not allowed in the text: {_first_tag(found.value)!r}",
                hint="use markdown (*italic*, **bold**, lists) instead",
            )
        for found in facts.links:
            scheme = urlsplit(found.value).scheme.lower()
            if not found.value or found.value == "#":
                yield text.problem(found, "link has no destination", hint="link to the real address")
            elif scheme not in ("https", "http", "mailto", "tel"):
                yield text.problem(
                    found,
                    f"link '{found.value[:60]}' is not allowed",
                    hint="links must start with https://, http://, mailto: or tel:",
                )
        for found in facts.images:
            message = _image_problem(found.value, bundle_dir)
            if message:
                yield text.problem(
                    found,
                    message,
                    hint=f"put the image in the issue's {ASSETS_DIR}/ folder "
                    f"and write ![description]({ASSETS_DIR}/name.png)",
                )
        for found in facts.too_deep:
            yield text.problem(
                found,
                f"text is nested more than {markdown.MAX_NESTING} levels deep "
                "(lists or quotes inside each other); deeper text would be lost",
                hint="flatten the nesting",
            )


def _first_tag(html: str) -> str:
    match = re.match(r"<[^>]*>?", html)
    return (match.group() if match else html)[:60]


def _image_problem(src: str, bundle_dir: Path) -> str | None:
    """Why an image source is refused, or None: only regular files in the bundle's assets/."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc:
        return f"image '{src}' is not a file of this issue (only images in {ASSETS_DIR}/ are allowed)"
    relative = PurePosixPath(unquote(parts.path))
    if relative.is_absolute() or ".." in relative.parts or "\\" in src:
        return f"image '{src}' points outside the issue folder"
    if not relative.parts or relative.parts[0] != ASSETS_DIR:
        return f"image '{src}' must be inside the issue's {ASSETS_DIR}/ folder"
    if relative.suffix.lower() not in IMAGE_TYPES:
        return f"image '{src}' is not a supported image type ({', '.join(IMAGE_TYPES)})"
    target = bundle_dir / relative
    if target.is_symlink() or any(p.is_symlink() for p in target.parents if bundle_dir in p.parents):
        return f"image '{src}' is a symbolic link; copy the real file into {ASSETS_DIR}/"
    if not target.exists():
        return f"image '{src}' does not exist"
    if target.is_dir():
        return f"image '{src}' is a folder, not an image file"
    if not target.is_file():
        return f"image '{src}' is not a regular file"
    try:  # the bytes checked are the bytes used: read once, through no link, within the limit
        data = read_bundle_file(bundle_dir, relative.as_posix(), MAX_ASSET_BYTES)
    except UnsafeFile as exc:
        return f"image '{src}' cannot be used: {exc.message}"
    return _image_content_problem(src, data, relative.suffix)


def _image_content_problem(src: str, data: bytes, suffix: str) -> str | None:
    """Decode the image with Pillow before WeasyPrint sees it: fake, broken and huge images are errors.

    The whole image is decoded, not only its header: a PNG whose compressed pixels are corrupt (with
    valid checksums) passes verify() but would fail, or print garbage, in the PDF and the email."""
    from PIL import Image, ImageFile

    # WeasyPrint sets Pillow's global LOAD_TRUNCATED_IMAGES on import, which makes load() accept
    # broken pixel data; the check must not depend on whether WeasyPrint was imported first (it is,
    # in build, archive and preview), so it decodes strictly and puts the global back.
    tolerant = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                return f"image '{src}' is {width} x {height} pixels; the limit is {MAX_IMAGE_PIXELS:,} pixels"
            image.verify()  # checksums; verify() leaves the image unusable, so it is opened again to decode
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except Image.DecompressionBombError:
        return f"image '{src}' is too large to decode safely (limit {MAX_IMAGE_PIXELS:,} pixels)"
    except Exception:  # Pillow raises many kinds for broken files; all mean the same to the author
        return f"image '{src}' is not a readable image (broken or not really a {suffix[1:].upper()})"
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = tolerant
    return None


def _check_across(bundles: list[Bundle]) -> Iterator[Problem]:
    """Problems between issues: two issues with one number, slugs that collide on some systems."""
    numbers: dict[int, Bundle] = {}
    folded: dict[str, Bundle] = {}
    for bundle in bundles:
        other = numbers.setdefault(bundle.issue.number, bundle)
        if other is not bundle:
            yield bundle.issue_source.problem(
                ("number",), f"issue number {bundle.issue.number} is also used by '{other.slug}'"
            )
        key = unicodedata.normalize("NFKC", bundle.slug).casefold()
        other = folded.setdefault(key, bundle)
        if other is not bundle:
            yield bundle.issue_source.problem(
                (), f"folder name '{bundle.slug}' collides with '{other.slug}' on case-insensitive systems"
            )
