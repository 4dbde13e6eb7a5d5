"""`tablet refs import` of every kind of reference: web pages, documents, books and chapters with the
fields the styles need; BibTeX keys kept as ids; "and others" as et al.; RIS journal tags; and a
warning for every field a record loses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from test_refimport import NEW, fresh, records  # noqa: F401 (fresh is a fixture)

BIB = r"""@misc{nccn-antiemesis,
  author = {{National Comprehensive Cancer Network}},
  title = {{NCCN} Clinical Practice Guidelines in Oncology ({NCCN} Guidelines): Antiemesis},
  publisher = {National Comprehensive Cancer Network},
  url = {https://www.nccn.org/guidelines/guidelines-detail?category=3&id=1415},
  urldate = {2025-07-21},
}
@article{navari2013,
  author = {Navari, Rudolph M. and Nagy, Cindy K. and Gray, Sarah E.},
  title = {The use of olanzapine versus metoclopramide for the treatment of breakthrough
    chemotherapy-induced nausea and vomiting in patients receiving highly emetogenic chemotherapy},
  journal = {Supportive Care in Cancer}, shortjournal = {Support Care Cancer},
  year = {2013}, month = jun, volume = {21}, number = {6}, pages = {1655--1663},
  eprint = {23314603}, eprinttype = {pubmed},
  abstract = {Purpose: ...}, keywords = {olanzapine, nausea}, issn = {0941-4355},
}
@misc{hpna2023,
  author = {Fictional, Ann and others},
  title = {A fictional position statement on palliative sedation},
  howpublished = {Position statement},
  organization = {Fictional Hospice Association},
  year = {2023},
}
@incollection{fictional-chapter,
  author = {Sample, Dana},
  title = {Opioid rotation},
  booktitle = {A Fictional Textbook of Palliative Medicine},
  editor = {Editor, Eve and Other, Finn},
  edition = {2}, publisher = {Example Press}, address = {Springfield, IL},
  year = {2020}, pages = {101--120},
}
@book{fictional-book,
  author = {Fictional, A. B. and Example, C.},
  title = {A Fictional Handbook of Palliative Pharmacotherapy},
  edition = {3}, publisher = {Example Press}, location = {Springfield, IL}, year = {2021},
  series = {Fictional Handbooks}, isbn = {978-0-00-000000-0},
}
"""

WRITTEN = """
- id: nccn-antiemesis
  type: webpage
  author: ["National Comprehensive Cancer Network"]
  title: "NCCN Clinical Practice Guidelines in Oncology (NCCN Guidelines): Antiemesis"
  publisher: National Comprehensive Cancer Network
  accessed: 2025-07-21
  URL: https://www.nccn.org/guidelines/guidelines-detail?category=3&id=1415

- id: navari2013
  author: ["Navari, Rudolph M.", "Nagy, Cindy K.", "Gray, Sarah E."]
  title: >-
    The use of olanzapine versus metoclopramide for the treatment of breakthrough chemotherapy-induced nausea
    and vomiting in patients receiving highly emetogenic chemotherapy
  container-title: Supportive Care in Cancer
  container-title-short: Support Care Cancer
  issued: 2013-06
  volume: "21"
  issue: "6"
  page: 1655-1663
  PMID: "23314603"

- id: hpna2023
  type: document
  author: ["Fictional, Ann", "et al."]
  title: A fictional position statement on palliative sedation
  genre: Position statement
  publisher: Fictional Hospice Association
  issued: "2023"

- id: fictional-chapter
  type: chapter
  author: ["Sample, Dana"]
  title: Opioid rotation
  container-title: A Fictional Textbook of Palliative Medicine
  editor: ["Editor, Eve", "Other, Finn"]
  edition: "2"
  publisher: Example Press
  publisher-place: Springfield, IL
  issued: "2020"
  page: 101-120

- id: fictional-book
  type: book
  author: ["Fictional, A. B.", "Example, C."]
  title: A Fictional Handbook of Palliative Pharmacotherapy
  edition: "3"
  collection-title: Fictional Handbooks
  publisher: Example Press
  publisher-place: Springfield, IL
  issued: "2021"
"""


def test_bibtex_of_every_kind_keeps_its_keys_and_fields_and_names_what_it_drops(
    fresh: Path,  # noqa: F811
    tmp_path: Path,
    run: Callable[..., Result],
) -> None:
    source = tmp_path / "kinds.bib"
    source.write_text(BIB, encoding="utf-8")
    result = run("refs", "import", str(source), cwd=fresh / NEW)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{source}:8:1: warning: 'navari2013' was imported without abstract, keywords, issn",
        f"{source}:32:1: warning: 'fictional-book' was imported without isbn",
        "added 'nccn-antiemesis': NCCN Clinical Practice Guidelines in Oncology (NCCN Guidelines): "
        "Antiemesis",
        "added 'navari2013': The use of olanzapine versus metoclopramide for the treatment of breakthrough "
        "chemotherapy-induced nausea and vomiting in patients receiving highly emetogenic chemotherapy",
        "added 'hpna2023': A fictional position statement on palliative sedation",
        "added 'fictional-chapter': Opioid rotation",
        "added 'fictional-book': A Fictional Handbook of Palliative Pharmacotherapy",
        f"{NEW}/references.yaml: 5 added, 0 skipped as duplicates",
    ]
    written = (fresh / NEW / "references.yaml").read_text(encoding="utf-8")
    assert written.endswith(WRITTEN)
    assert run("validate", cwd=fresh / NEW).exit_code == 0


def test_a_bibtex_misc_with_a_url_is_a_web_page_and_one_without_is_a_document(
    fresh: Path,  # noqa: F811
    tmp_path: Path,
    run: Callable[..., Result],
) -> None:
    source = tmp_path / "misc.bib"
    source.write_text(
        "@misc{page, author = {{Example Org}}, title = {A page}, howpublished = {\\url{https://example.org/a}},"
        " year = 2024}\n@misc{paper, author = {{Example Org}}, title = {A paper}, year = 2024}\n",
        encoding="utf-8",
    )
    assert run("refs", "import", str(source), cwd=fresh / NEW).exit_code == 0
    assert [(r["id"], r["type"], r.get("URL")) for r in records(fresh)] == [
        ("page", "webpage", "https://example.org/a"),
        ("paper", "document", None),
    ]


RIS = """TY  - JOUR
ID  - navari2013
AU  - Navari RM
AU  - Nagy CK
AU  - et al.
TI  - The use of olanzapine versus metoclopramide
JF  - Supportive Care in Cancer
JO  - Support Care Cancer
PY  - 2013
VL  - 21
SP  - 1655
EP  - 1663
AN  - 23314603
AB  - Purpose: ...
ER  -

TY  - ELEC
AU  - National Comprehensive Cancer Network
TI  - NCCN Guidelines: Antiemesis
PB  - National Comprehensive Cancer Network
UR  - https://www.nccn.org/guidelines/guidelines-detail?category=3&id=1415
Y2  - 2025/07/21
ER  -

TY  - JOUR
AU  - Fictional, A.
TI  - A fictional trial
JO  - Journal of Fictional Studies
PY  - 2020
VL  - 1
SP  - 1
EP  - 9
ER  -
"""


def test_ris_journal_tags_accessed_date_and_et_al(
    fresh: Path,  # noqa: F811
    tmp_path: Path,
    run: Callable[..., Result],
) -> None:
    source = tmp_path / "kinds.ris"
    source.write_text(RIS, encoding="utf-8")
    result = run("refs", "import", str(source), cwd=fresh / NEW)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:1] == [
        f"{source}:1:1: warning: 'navari2013' was imported without AN, AB",
    ]
    got = records(fresh)
    assert got[0]["author"] == ["Navari, R. M.", "Nagy, C. K.", "et al."]
    # JF is the full name, JO beside it the abbreviation (as EndNote and PubMed write them) ...
    assert (got[0]["container-title"], got[0]["container-title-short"]) == (
        "Supportive Care in Cancer",
        "Support Care Cancer",
    )
    assert (got[1]["id"], got[1]["type"], got[1]["accessed"]) == ("national2025", "webpage", "2025-07-21")
    # ... and JO alone is the full name (the RIS specification), never an abbreviation
    assert got[2]["container-title"] == "Journal of Fictional Studies"
    assert "container-title-short" not in got[2]


def test_csl_json_more_authors_accessed_and_dropped_fields(
    fresh: Path,  # noqa: F811
    tmp_path: Path,
    run: Callable[..., Result],
) -> None:
    source = tmp_path / "kinds.json"
    source.write_text(
        '[{"id": "ITEM-1", "type": "webpage", "title": "A fictional guideline page",\n'
        '  "author": [{"literal": "Fictional Society"}, {"literal": "others"}],\n'
        '  "publisher": "Fictional Society", "URL": "https://example.org/guideline",\n'
        '  "accessed": {"date-parts": [[2025, 7, 1]]}, "abstract": "...", "note": "read twice"}]\n',
        encoding="utf-8",
    )
    result = run("refs", "import", str(source), cwd=fresh / NEW)
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.splitlines()[0]
        == f"{source}:1:1: warning: 'ITEM-1' was imported without abstract, note"
    )
    assert records(fresh) == [
        {
            "id": "ITEM-1",
            "type": "webpage",
            "author": ["Fictional Society", "et al."],
            "title": "A fictional guideline page",
            "publisher": "Fictional Society",
            "accessed": "2025-07-01",
            "URL": "https://example.org/guideline",
        }
    ]


@pytest.mark.parametrize(
    ("doi", "lost"),
    [("10.5555/fict.2", "its URL (the DOI is its link)"), ("", "")],
)
def test_a_url_dropped_for_a_doi_is_said(
    doi: str,
    lost: str,
    fresh: Path,  # noqa: F811
    tmp_path: Path,
    run: Callable[..., Result],
) -> None:
    source = tmp_path / "one.bib"
    source.write_text(
        "@article{one, author = {Fictional, A.}, title = {A trial}, journal = {J Fict Stud},"
        f" shortjournal = {{J Fict Stud}}, year = 2020, pages = {{1--9}}, doi = {{{doi}}},"
        " url = {https://example.org/one}}\n",
        encoding="utf-8",
    )
    result = run("refs", "import", str(source), cwd=fresh / NEW)
    warnings = [line for line in result.stdout.splitlines() if ": warning: " in line]
    assert warnings == ([f"{source}:1:1: warning: 'one' was imported without {lost}"] if lost else [])
