"""`tablet refs import`: BibTeX, CSL-JSON and RIS files of the same papers give the same clean records,
appended in the sample's YAML style; duplicates are skipped by DOI; bad input is refused at file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tablet_press.bundle.folder import load_bundle
from tablet_press.bundle.loader import load_yaml
from tablet_press.refs.formats import _bib_name, _latex

from conftest import FIXTURES, ROOT, SAMPLE, copy_project

REFS = FIXTURES / "refs"
FORMATS = ["three.bib", "three.json", "three.ris"]
NEW = "issues/2025-08-new"


@pytest.fixture
def fresh(tmp_path: Path, run: Callable[..., Result]) -> Path:
    """A project with one new, empty issue made by `tablet new` (its references.yaml holds `[]`)."""
    project = copy_project(tmp_path / "p", bundles=())
    assert run("new", "2025-08-new", cwd=project).exit_code == 0
    return project


def records(project: Path, slug: str = "2025-08-new") -> list[dict[str, object]]:
    bundle, problems = load_bundle(project / "issues" / slug, project)
    assert bundle is not None, problems
    dumped = [r.model_dump(by_alias=True, exclude_none=True) for r in bundle.references]
    return [{k: v for k, v in r.items() if v != []} for r in dumped]


@pytest.mark.parametrize("name", FORMATS)
def test_import_appends_records_exactly_as_the_sample_writes_them(
    name: str, fresh: Path, run: Callable[..., Result]
) -> None:
    result = run("refs", "import", str(REFS / name), cwd=fresh / NEW)
    assert result.exit_code == 0, result.output
    lost = {"three.bib": f"{REFS / name}:5:1: warning: 'younger2009' was imported without keywords"}
    assert result.stdout.splitlines() == [
        *([lost[name]] if name in lost else []),
        "added 'younger2009': Fibromyalgia symptoms are reduced by low-dose naltrexone: a pilot study",
        "added 'bested2023': Low-dose naltrexone for treatment of pain in patients with fibromyalgia: "
        "a randomized, double-blind, placebo-controlled, crossover study",
        "added 'duebruun2024': Naltrexone 6 mg once daily versus placebo in women with fibromyalgia: "
        "a randomised, double-blind, placebo-controlled trial",
        f"{NEW}/references.yaml: 3 added, 0 skipped as duplicates",
    ]
    written = (fresh / NEW / "references.yaml").read_text(encoding="utf-8")
    assert written.startswith("# yaml-language-server: $schema=../../schema/references.schema.json\n")
    assert "[]" not in written
    blocks = [block + "\n" for block in written.rstrip("\n").split("\n\n") if block.startswith("- id:")]
    sample = (ROOT / "issues" / SAMPLE / "references.yaml").read_text(encoding="utf-8")
    assert len(blocks) == 3 and all(block in sample for block in blocks)  # word for word, layout included
    assert not list((fresh / NEW).glob(".references-*"))  # no temporary file left behind


def test_the_three_formats_give_identical_records(fresh: Path, run: Callable[..., Result]) -> None:
    imported = []
    for name in FORMATS:
        (fresh / NEW / "references.yaml").write_text("[]\n", encoding="utf-8")
        assert run("refs", "import", str(REFS / name), "--issue", NEW, cwd=fresh).exit_code == 0
        imported.append(records(fresh))
    assert imported[0] == imported[1] == imported[2]
    sample = {r["id"]: r for r in records(copy_project(fresh.parent / "s"), SAMPLE)}
    assert imported[0] == [sample["younger2009"], sample["bested2023"], sample["duebruun2024"]]


def test_duplicates_by_doi_are_skipped_and_reported(project: Path, run: Callable[..., Result]) -> None:
    target = project / "issues" / SAMPLE / "references.yaml"
    before = target.read_bytes()
    inside = project / "issues" / SAMPLE / "assets"  # anywhere inside the issue folder will do
    inside.mkdir()
    result = run("refs", "import", str(REFS / "three.json"), cwd=inside)
    assert result.exit_code == 0, result.output
    shown = REFS / "three.json"
    assert result.stdout.splitlines() == [
        f"skipped {shown}:2: DOI 10.1111/j.1526-4637.2009.00613.x is already in "
        f"issues/{SAMPLE}/references.yaml as 'younger2009'",
        f"skipped {shown}:15: DOI 10.1097/PR9.0000000000001080 is already in "
        f"issues/{SAMPLE}/references.yaml as 'bested2023'",
        f"skipped {shown}:35: DOI 10.1016/S2665-9913(23)00278-3 is already in "
        f"issues/{SAMPLE}/references.yaml as 'duebruun2024'",
        f"issues/{SAMPLE}/references.yaml: 0 added, 3 skipped as duplicates",
    ]
    assert target.read_bytes() == before


TWO_YOUNGERS = """@article{younger2009, author = {Younger, J.}, title = {A first study}, journal = {Pain Med},
  year = 2009, pages = {1--9}, doi = {10.1000/ABC}}
@article{younger2009x, author = {Younger, J.}, title = {The same study again}, journal = {Pain Med},
  year = 2009, pages = {1--9}, doi = {https://doi.org/10.1000/abc}}
@article{younger2009b, author = {Younger, J.}, title = {Another study}, journal = {Pain Med},
  year = 2009, pages = {10--19}, doi = {10.1000/xyz}}
"""


def test_duplicates_in_one_file_are_skipped_and_new_keys_never_collide(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    project = copy_project(tmp_path / "p", bundles=())
    (project / "issues" / "minimal").mkdir()
    for file in (FIXTURES / "good" / "minimal").iterdir():
        (project / "issues" / "minimal" / file.name).write_bytes(file.read_bytes())
    (tmp_path / "two.bib").write_text(TWO_YOUNGERS, encoding="utf-8")
    result = run("refs", "import", str(tmp_path / "two.bib"), "--issue", "issues/minimal", cwd=project)
    bib = tmp_path / "two.bib"
    assert result.stdout.splitlines() == [
        f"{bib}:1:1: warning: the key 'younger2009' is already the id of another reference; "
        "imported as 'younger2009b'",  # the minimal issue already has younger2009
        f"{bib}:5:1: warning: the key 'younger2009b' is already the id of another reference; "
        "imported as 'younger2009c'",
        "added 'younger2009b': A first study",
        "added 'younger2009c': Another study",
        f"skipped {tmp_path / 'two.bib'}:3: DOI 10.1000/abc is already in issues/minimal/references.yaml "
        "as 'younger2009b'",
        "issues/minimal/references.yaml: 2 added, 1 skipped as duplicates",
    ]
    assert [r["id"] for r in records(project, "minimal")] == ["younger2009", "younger2009b", "younger2009c"]


def test_bibtex_comments_are_skipped(fresh: Path, tmp_path: Path, run: Callable[..., Result]) -> None:
    bib = (REFS / "three.bib").read_text(encoding="utf-8")
    noise = "% sent by someone@example.org\n@comment{ {nested} braces @article{not, an = entry} }\n"
    (tmp_path / "noisy.bib").write_text(noise + bib, encoding="utf-8")
    assert run("refs", "import", str(tmp_path / "noisy.bib"), cwd=fresh / NEW).exit_code == 0
    assert [r["id"] for r in records(fresh)] == ["younger2009", "bested2023", "duebruun2024"]


TRICKY = """[{"type": "article-journal", "title": "[Hard] case: <i>E. coli</i> & \\"quotes\\" #1",
  "author": [{"family": "Berg", "non-dropping-particle": "van den", "given": "A."}, {"literal": "WHO"}],
  "container-title": "- Dash: journal", "issued": {"date-parts": [["2020"]]}, "page": "7", "volume": 12,
  "DOI": "doi:10.1000/TRICKY"}]"""


def test_csl_json_rich_text_particles_and_yaml_quoting(
    fresh: Path, tmp_path: Path, run: Callable[..., Result]
) -> None:
    (tmp_path / "tricky.json").write_text(TRICKY, encoding="utf-8")
    assert run("refs", "import", str(tmp_path / "tricky.json"), cwd=fresh / NEW).exit_code == 0
    assert records(fresh) == [
        {
            "id": "vandenberg2020",
            "type": "article-journal",
            "author": ["van den Berg, A.", "WHO"],
            "title": '[Hard] case: E. coli & "quotes" #1',
            "container-title": "- Dash: journal",
            "issued": "2020",
            "volume": "12",
            "page": "7",
            "DOI": "10.1000/TRICKY",
        }
    ]


BROKEN = [
    ("a.bib", b"@article{a,\n title = {caf\xe9}}", "2:14: error: file is not UTF-8 (byte 0xe9)"),
    ("a.bib", b"@article{a,\n  title = {Unclosed,\n  year = 2009,\n", "2:11: error: unclosed '{'"),
    ("a.bib", b"@article{a,\n  title {X},\n}", "2:9: error: expected '=', found '{'"),
    ("a.bib", b"@article{a,\n  journal = jama,\n}", "2:13: error: unknown macro 'jama'"),
    ("a.bib", b"@article{a,\n  title = {X},\n  TITLE = {Y},\n}", "3:3: error: field 'title' appears twice"),
    ("a.bib", b"@phdthesis{a, author = {Doe, J.}, year = 2001}", "1:1: error: @phdthesis entries are not"),
    ("a.json", b'[{"title": }]', "1:12: error: not valid JSON: Expecting value"),
    ("a.json", b'[\n {"title": "T", "author": [{"family": "Doe"}]}]', "2:1: error: record has no year"),
    ("a.ris", b"hello\n", "1:1: error: expected an RIS line 'XX  - value'"),
    ("a.ris", b"TY  - JOUR\nTI  - Open\n", "1:1: error: record has no 'ER  - ' end"),
    (
        "a.ris",
        b"TY  - JOUR\nAU  - Doe J\nPY  - 2001\nER  - \n",
        "1:1: error: the record of Doe, J. (2001) has no title",
    ),
    (
        "a.ris",
        b"TY  - JOUR\nAU  - Doe J\nTI  - T\nPY  - 2001/13\nER  - \n",
        "1:1: error: '13' is not a month",
    ),
    ("a.txt", b"hello", "1:1: error: not a BibTeX (.bib), CSL-JSON (.json) or RIS (.ris) file"),
]


@pytest.mark.parametrize(("name", "content", "message"), BROKEN)
def test_bad_input_is_refused_at_file_line_and_nothing_is_written(
    name: str, content: bytes, message: str, fresh: Path, tmp_path: Path, run: Callable[..., Result]
) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    before = (fresh / NEW / "references.yaml").read_bytes()
    result = run("refs", "import", str(source), cwd=fresh / NEW)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{source}:{message}")
    assert (fresh / NEW / "references.yaml").read_bytes() == before


def test_one_bad_record_stops_the_whole_import(
    fresh: Path, tmp_path: Path, run: Callable[..., Result]
) -> None:
    good = (REFS / "three.ris").read_text(encoding="utf-8")
    (tmp_path / "mixed.ris").write_text(good + "\nTY  - JOUR\nAU  - Doe J\nER  - \n", encoding="utf-8")
    result = run("refs", "import", str(tmp_path / "mixed.ris"), cwd=fresh / NEW)
    assert result.stdout == f"{tmp_path / 'mixed.ris'}:60:1: error: record has no year of publication\n"
    assert records(fresh) == []


def test_outside_an_issue_folder_the_issue_must_be_named(fresh: Path, run: Callable[..., Result]) -> None:
    result = run("refs", "import", str(REFS / "three.bib"), cwd=fresh)
    assert (result.exit_code, result.stderr) == (
        1,
        "error: run this inside an issue folder (issues/<slug>/) or name one with --issue\n"
        "FAILED: nothing was written\n",
    )
    result = run("refs", "import", str(REFS / "three.bib"), "--issue", "issues", cwd=fresh)
    assert result.stderr == (
        "error: issues is not an issue folder (it has no issue.yaml)\nFAILED: nothing was written\n"
    )


def test_a_broken_references_file_is_never_appended_to(fresh: Path, run: Callable[..., Result]) -> None:
    target = fresh / NEW / "references.yaml"
    target.write_text("- id: x\n  author: oops\n", encoding="utf-8")
    result = run("refs", "import", str(REFS / "three.bib"), cwd=fresh / NEW)
    assert result.exit_code == 1
    assert f"{NEW}/references.yaml:2:11: error: expected a list ('- item' lines), got 'oops'" in result.stdout
    assert target.read_text(encoding="utf-8") == "- id: x\n  author: oops\n"


def test_a_file_without_a_final_newline_is_appended_to_cleanly(
    fresh: Path, run: Callable[..., Result]
) -> None:
    target = fresh / NEW / "references.yaml"
    minimal = (FIXTURES / "good" / "minimal" / "references.yaml").read_text(encoding="utf-8")
    target.write_text(minimal.rstrip("\n"), encoding="utf-8")
    assert run("refs", "import", str(REFS / "three.ris"), cwd=fresh / NEW).exit_code == 0
    assert [r["id"] for r in records(fresh)] == ["younger2009", "bested2023", "duebruun2024"]
    assert target.read_text(encoding="utf-8").startswith(minimal + "\n- id: bested2023\n")


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"Bye-M{\o}ller", "Bye-Møller"),
        (r"Sch{\"o}n and Caf\'{e} and \c{c}a and {\'\i} and \v s", "Schön and Café and ça and í and š"),
        (r"Pain \& {CRPS}: 5--10~mg, not 50---100", "Pain & CRPS: 5–10 mg, not 50—100"),
        (r"\emph{In vivo} and \textit{E.~coli} at 10\% ", "In vivo and E. coli at 10%"),
        (r"``Quoted'' $\alpha$-blockers, Stra{\ss}e, a\,b", "“Quoted” α-blockers, Straße, a b"),
    ],
)
def test_latex_in_bibtex_becomes_plain_text(latex: str, text: str) -> None:
    assert _latex(latex) == text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Younger, J. P.", "Younger, J. P."),
        ("Jarred Younger", "Younger, Jarred"),
        ("Ludwig van Beethoven", "van Beethoven, Ludwig"),
        ("{World Health Organization}", "World Health Organization"),
        ("{Due Bruun}, K.", "Due Bruun, K."),
    ],
)
def test_bibtex_names_become_family_comma_given(name: str, expected: str) -> None:
    assert _bib_name(name) == expected


AUTHOR = '"author": [{"family": "Doe", "given": "J"}]'
HOSTILE_JSON = [
    ("[" * 100_000 + "]" * 100_000, "1:33: error: lists and objects are nested more than 32 levels deep"),
    (
        f'[{{"title": "T", {AUTHOR}, "issued": {{"date-parts": [[1e999]]}}}}]',
        "1:1: error: 'issued' is not a CSL-JSON date: {'date-parts': [[inf]]}",
    ),
    (
        f'[{{"title": "T", {AUTHOR}, "issued": {{"date-parts": [[2009.5]]}}}}]',
        "1:1: error: 'issued' is not a CSL-JSON date: {'date-parts': [[2009.5]]}",
    ),
    (f'[{{"title": "T", {AUTHOR}, "volume": 1{"0" * 5000}}}]', "1:1: error: not usable JSON: a number"),
    (f'[{{"title": "T", {AUTHOR}, "issued": "2009"}}]', "1:1: error: record has no year of publication"),
    (
        f'[{{"title": "Dose \\u202e gm 5.0", {AUTHOR}, "issued": {{"date-parts": [[2009]]}}}}]',
        "1:1: error: title contains the control character '\\u202e' (remove it; it can corrupt",
    ),
    (
        '[{"title": "T", "author": [{"family": "Doe\\u001b[2J"}], "issued": {"date-parts": [[2009]]}}]',
        "1:1: error: author contains the control character '\\x1b' (remove it; it can corrupt",
    ),
]


@pytest.mark.parametrize(
    ("content", "message"),
    HOSTILE_JSON,
    ids=["nested", "date-1e999", "date-fraction", "long-number", "date-text", "bidi-title", "escape-author"],
)
def test_hostile_csl_json_is_a_located_error_never_an_internal_one(
    content: str, message: str, fresh: Path, tmp_path: Path, run: Callable[..., Result]
) -> None:
    source = tmp_path / "refs.json"
    source.write_text(content, encoding="utf-8")
    before = (fresh / NEW / "references.yaml").read_bytes()
    result = run("refs", "import", str(source), cwd=fresh / NEW)
    assert (result.exit_code, result.stderr) == (1, "FAILED: 1 error(s), 0 warning(s); nothing was written\n")
    assert result.stdout.startswith(f"{source}:{message}") and result.stdout.count("\n") == 1
    assert (fresh / NEW / "references.yaml").read_bytes() == before


# What YAML's and CSL-JSON's escapes can smuggle past a file's text: both readers apply one rule.
SMUGGLED = ["\x00", "\x07", "\x1b", "\r", "\x7f", "\x85", "\x9b", "\u202a", "\u202e", "\u2066", "\u2069"]


@pytest.mark.parametrize("char", [*SMUGGLED, "\t", "\u200f", "é"])
def test_the_yaml_loader_and_the_csl_json_reader_refuse_the_same_characters(
    char: str, fresh: Path, tmp_path: Path, run: Callable[..., Result]
) -> None:
    escaped = f"\\u{ord(char):04x}"
    (tmp_path / "x.yaml").write_text(f'title: "a{escaped}b"\n', encoding="utf-8")
    _, yaml_problems = load_yaml(tmp_path / "x.yaml", "x.yaml")
    source = tmp_path / "refs.json"
    source.write_text(
        f'[{{"title": "a{escaped}b", {AUTHOR}, "issued": {{"date-parts": [[2009]]}}}}]', encoding="utf-8"
    )
    result = run("refs", "import", str(source), cwd=fresh / NEW)
    if char in SMUGGLED:
        hint = "(remove it; it can corrupt terminals and outputs)"
        assert [p.format() for p in yaml_problems] == [
            f"x.yaml:1:8: error: text contains the control character {char!r} {hint} [title]"
        ]
        assert result.stdout == f"{source}:1:1: error: title contains the control character {char!r} {hint}\n"
        assert result.exit_code == 1
    else:
        assert yaml_problems == []
        assert result.exit_code == 0, result.output
