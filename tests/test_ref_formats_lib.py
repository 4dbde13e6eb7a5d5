"""The reference readers on small strings (refs/formats.py): BibTeX, RIS and CSL-JSON into raw records
with their fields, authors, dates and lines; records that cannot be used carry the reason; text that
cannot be read is a ValidationFailed at file:line:col. LaTeX and BibTeX names are in test_refimport.py."""

from __future__ import annotations

import pytest

from tablet_press.errors import ValidationFailed
from tablet_press.refs.formats import read_records


def given(fields: dict[str, object]) -> dict[str, object]:
    """The fields a record holds, without those the file left empty (the readers list every field)."""
    return {key: value for key, value in fields.items() if value not in (None, "", [])}


def failure(text: str, suffix: str) -> list[str]:
    with pytest.raises(ValidationFailed) as failed:
        read_records(text, f"refs{suffix}", suffix)
    return [p.format() for p in failed.value.problems]


# ---------------------------------------------------------------- BibTeX

BIB = """% my library; write to me@example.org
@string{pm = "Pain Medicine"}

@article{younger2009,
  author = {Younger, Jarred and Mackey, Sean and {World Health Organization}},
  title = {Fibromyalgia symptoms are {reduced} by low-dose naltrexone},
  journal = pm # " (Malden)",
  year = 2009, month = may,
  volume = {10}, number = {4}, pages = {663--672},
  doi = {10.1111/j.1526-4637.2009.00613.x},
  eprinttype = {pubmed}, eprint = {19453639},
}
@comment{ignored @article{x, title={y}} }
@patent{pat1, title = {A patent}}
"""


def test_bibtex_fields_macros_and_authors() -> None:
    first, second = read_records(BIB, "refs.bib", ".bib")
    assert first.line == 4 and first.error == ""
    assert given(first.fields) == {
        "type": "article-journal",
        "title": "Fibromyalgia symptoms are reduced by low-dose naltrexone",
        "container-title": "Pain Medicine (Malden)",
        "year": "2009",
        "month": "may",
        "volume": "10",
        "issue": "4",
        "page": "663–672",
        "DOI": "10.1111/j.1526-4637.2009.00613.x",
        "PMID": "19453639",
        "author": ["Younger, Jarred", "Mackey, Sean", "World Health Organization"],
    }
    assert second.line == 14


def test_an_unsupported_bibtex_type_is_a_record_with_a_reason() -> None:
    record = read_records(BIB, "refs.bib", ".bib")[1]
    assert (record.fields["type"], record.fields["title"]) == (None, "A patent")
    # The list of supported types after the reason grows as kinds are added.
    assert record.error.startswith("@patent entries are not supported (use one of: article, book, ")


def test_bibtex_types_map_to_csl() -> None:
    text = (
        "@book{a, title={A}}\n@incollection{b, title={B}}\n@techreport{c, title={C}}\n@online{d, title={D}}\n"
    )
    assert [(r.line, r.fields["type"]) for r in read_records(text, "x.bib", ".bib")] == [
        (1, "book"),
        (2, "chapter"),
        (3, "report"),
        (4, "webpage"),
    ]


def test_bibtex_parenthesised_entries_and_quoted_values_with_braces() -> None:
    (record,) = read_records(
        '@article(k,\n  title = "The {LDN} trial",\n  date = {2021-03}\n)\n', "x.bib", ".bib"
    )
    assert (record.fields["title"], record.fields["issued"]) == ("The LDN trial", "2021-03")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "@article{a,\n  title = {x},\n  title = {y}\n}\n",
            "refs.bib:3:3: error: field 'title' appears twice in entry 'a'",
        ),
        ("@article{a,\n  title = {x\n}\n", "refs.bib:4:1: error: expected '}', found the end of the file"),
        (
            "@article{a,\n  journal = jama\n}\n",
            "refs.bib:2:13: error: unknown macro 'jama' (define it with @string or put the value in braces)",
        ),
        ('@article{a,\n  title = "x"\n  year = 2000}\n', "refs.bib:3:3: error: expected '}', found 'y'"),
        ("@article{a,\n  title = {unclosed\n", "refs.bib:2:11: error: unclosed '{'"),
        ("@article a, title={x}}", "refs.bib:1:10: error: expected '{' after @article"),
    ],
)
def test_unreadable_bibtex_is_refused_at_line_and_column(text: str, expected: str) -> None:
    assert failure(text, ".bib") == [expected]


# ---------------------------------------------------------------- RIS

RIS = """TY  - JOUR
AU  - Younger JP
AU  - Mackey, Sean
TI  - Fibromyalgia symptoms are reduced
  by low-dose naltrexone
T2  - Pain Medicine
JO  - Pain Med
PY  - 2009///May-Jun
VL  - 10
IS  - 4
SP  - 663
EP  - 672
DO  - 10.1111/j.1526-4637.2009.00613.x
ER  -

TY  - BOOK
TI  - A book
DA  - 2020/03/15
ER  -
TY  - PAT
TI  - x
ER  -
""".replace("ER  -\n", "ER  - \n")  # as RIS files end a record, with the space after the dash


def test_ris_fields_authors_pages_and_a_wrapped_title() -> None:
    first = read_records(RIS, "refs.ris", ".ris")[0]
    assert (first.line, first.error) == (1, "")
    assert given(first.fields) == {
        "type": "article-journal",
        "author": ["Younger, J. P.", "Mackey, Sean"],
        "title": "Fibromyalgia symptoms are reduced by low-dose naltrexone",
        "container-title": "Pain Medicine",
        "container-title-short": "Pain Med",
        "volume": "10",
        "issue": "4",
        "page": "663-672",
        "DOI": "10.1111/j.1526-4637.2009.00613.x",
        "year": "2009",
        "month": "May-Jun",
    }


def test_ris_dates_and_record_lines() -> None:
    records = read_records(RIS, "refs.ris", ".ris")
    assert [r.line for r in records] == [1, 16, 20]
    book = records[1].fields
    assert (book["type"], book["year"], book["month"], book["day"]) == ("book", "2020", "03", "15")


def test_an_unsupported_ris_type_is_a_record_with_a_reason() -> None:
    record = read_records(RIS, "refs.ris", ".ris")[2]
    assert (record.fields["type"], record.fields["title"]) == (None, "x")
    assert record.error.startswith("RIS type 'PAT' is not supported (use one of: JOUR, ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("TY  - JOUR\nTI  - x\n", "refs.ris:1:1: error: record has no 'ER  - ' end"),
        ("TY  - JOUR\nTI  - x\nER  - \nTI  - y\n", "refs.ris:4:1: error: 'TY  - ' must start each record"),
        ("TY  - JOUR\nTI  - x\nTY  - BOOK\nER  - \n", "refs.ris:3:1: error: record has no 'ER  - ' end"),
        ("hello\n", "refs.ris:1:1: error: expected an RIS line 'XX  - value'"),
    ],
)
def test_unreadable_ris_is_refused_at_its_line(text: str, expected: str) -> None:
    assert failure(text, ".ris") == [expected]


# ---------------------------------------------------------------- CSL-JSON

CSL = """[
  {"type": "article-journal", "title": "The <i>LDN</i> trial",
   "author": [{"family": "Beethoven", "given": "Ludwig", "non-dropping-particle": "van"}, {"literal": "WHO"}],
   "container-title": "Pain Medicine", "journalAbbreviation": "Pain Med",
   "issued": {"date-parts": [[2009, 5], [2009, "6"]]}, "DOI": "10.1/x", "page": "1-2", "number": "e12"},

  {"type": "book", "title": "B", "issued": {"date-parts": [[2009.5]]}}
]"""


def test_csl_json_fields_authors_and_a_date_range() -> None:
    first, _ = read_records(CSL, "refs.json", ".json")
    assert (first.line, first.error) == (2, "")
    assert given(first.fields) == {
        "type": "article-journal",
        "title": "The LDN trial",
        "container-title": "Pain Medicine",
        "container-title-short": "Pain Med",
        "page": "1-2",
        "article-number": "e12",
        "DOI": "10.1/x",
        "issued": "2009-05/2009-06",
        "author": ["van Beethoven, Ludwig", "WHO"],
    }


def test_a_csl_json_date_that_is_not_whole_numbers_is_a_record_error() -> None:
    second = read_records(CSL, "refs.json", ".json")[1]
    assert second.line == 7
    assert second.error == "'issued' is not a CSL-JSON date: {'date-parts': [[2009.5]]}"
    assert second.fields["issued"] == ""


def test_a_single_csl_json_object_and_a_raw_date() -> None:
    (record,) = read_records(
        '{"type": "book", "title": "Solo", "issued": {"raw": "2001"}}', "x.json", ".json"
    )
    assert (record.line, record.fields["title"], record.fields["issued"]) == (1, "Solo", "2001")


def test_invalid_json_is_refused_at_line_and_column() -> None:
    assert failure('[\n  {"title": "x",}\n]', ".json") == [
        "refs.json:2:17: error: not valid JSON: Expecting property name enclosed in double quotes"
    ]


def test_json_nested_past_the_limit_is_refused_where_it_goes_too_deep() -> None:
    assert failure('[{"a": ' + "[" * 40 + "]" * 40 + "}]", ".json") == [
        "refs.json:1:38: error: lists and objects are nested more than 32 levels deep; CSL-JSON needs a few"
    ]


def test_a_list_item_that_is_not_an_object_keeps_every_line() -> None:
    text = '[\n  {"type": "book", "title": "A"},\n  "oops",\n  {"type": "book", "title": "B"}\n]'
    records = read_records(text, "refs.json", ".json")
    assert [(r.line, r.error) for r in records] == [
        (2, ""),
        (3, "expected a CSL-JSON item ({...})"),
        (4, ""),
    ]


# ---------------------------------------------------------------- which format


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("@book{a, title={x}}", "book"),
        ('[{"type": "report", "title": "x"}]', "report"),
        ("TY  - WEB\nTI  - x\nER  - \n", "webpage"),
    ],
)
def test_without_a_known_suffix_the_format_is_told_by_the_text(text: str, type_: str) -> None:
    (record,) = read_records(text, "refs.txt", ".txt")
    assert record.fields["type"] == type_


def test_text_of_no_known_format_is_refused() -> None:
    assert failure("just words", ".txt") == [
        "refs.txt:1:1: error: not a BibTeX (.bib), CSL-JSON (.json) or RIS (.ris) file"
    ]
