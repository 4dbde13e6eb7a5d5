"""References of every kind (issue 14 item 3): web pages, guidelines, books, chapters, reports and
PMID-only articles, rendered in APA, AMA and Vancouver; more authors not listed; undated pages."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tablet_press.bundle.model import Reference, ReferenceStyle
from tablet_press.refs.engine import Bibliography, short_cite

# Real records (from the olanzapine sample draft; checked against PubMed and the publishers), and
# clearly fictional ones (Fictional, Example Press, example.org) where no real work was needed.
KINDS: dict[str, dict[str, Any]] = {
    "nccn-antiemesis": {  # a living guideline page: no date of its own, read on a day
        "type": "webpage",
        "author": ["National Comprehensive Cancer Network"],
        "title": "NCCN Clinical Practice Guidelines in Oncology (NCCN Guidelines): Antiemesis",
        "publisher": "National Comprehensive Cancer Network",
        "URL": "https://www.nccn.org/guidelines/guidelines-detail?category=3&id=1415",
        "accessed": "2025-07-21",
    },
    "hesketh2020": {  # a guideline published in a journal
        "author": [
            "Hesketh, P. J.",
            "Kris, M. G.",
            "Basch, E.",
            "Bohlke, K.",
            "Barbour, S. Y.",
            "Clark-Snow, R. A.",
            "Danso, M. A.",
            "Dennis, K.",
            "Dupuis, L. L.",
            "Dusetzina, S. B.",
            "Eng, C.",
            "Feyer, P. C.",
            "Jordan, K.",
            "Noonan, K.",
            "Sparacio, D.",
            "Lyman, G. H.",
        ],
        "title": "Antiemetics: ASCO Guideline Update",
        "container-title": "Journal of Clinical Oncology",
        "container-title-short": "J Clin Oncol",
        "issued": "2020-08-20",
        "volume": "38",
        "issue": "24",
        "page": "2782-2797",
        "DOI": "10.1200/JCO.20.01296",
        "PMID": "32658626",
    },
    "navari2013": {  # PMID only: no DOI
        "author": ["Navari, R. M.", "Nagy, C. K.", "Gray, S. E."],
        "title": "The use of olanzapine versus metoclopramide for the treatment of breakthrough "
        "chemotherapy-induced nausea and vomiting in patients receiving highly emetogenic chemotherapy",
        "container-title": "Supportive Care in Cancer",
        "container-title-short": "Support Care Cancer",
        "issued": "2013-06",
        "volume": "21",
        "issue": "6",
        "page": "1655-1663",
        "PMID": "23314603",
    },
    "fictional-book": {
        "type": "book",
        "author": ["Fictional, A. B.", "Example, C."],
        "title": "A fictional handbook of palliative pharmacotherapy",
        "edition": "3",
        "publisher": "Example Press",
        "publisher-place": "Springfield, IL",
        "issued": "2021",
    },
    "fictional-chapter": {
        "type": "chapter",
        "author": ["Sample, D."],
        "title": "Opioid rotation",
        "container-title": "A fictional textbook of palliative medicine",
        "editor": ["Editor, E.", "Other, F."],
        "edition": "2",
        "publisher": "Example Press",
        "publisher-place": "Springfield, IL",
        "issued": "2020",
        "page": "101-120",
    },
    "fictional-report": {
        "type": "report",
        "author": ["Fictional Palliative Care Council"],
        "title": "Access to opioids in rural hospices",
        "publisher": "Fictional Palliative Care Council",
        "publisher-place": "Springfield, IL",
        "issued": "2022-03",
        "URL": "https://example.org/reports/fpc-2022-07",
        "accessed": "2024-01-05",
    },
    "fictional-etal": {  # the record lists two authors of more
        "author": ["Smith, A.", "Lee, B.", "et al."],
        "title": "A fictional trial",
        "container-title": "Journal of Fictional Studies",
        "container-title-short": "J Fict Stud",
        "issued": "2020",
        "volume": "1",
        "page": "1-9",
        "DOI": "10.5555/fict.1",
    },
}


def ref_of(key: str, **changes: Any) -> Reference:
    return Reference.model_validate({"id": key, **KINDS[key], **changes})


def entry(key: str, style: ReferenceStyle) -> tuple[str, str]:
    bib = Bibliography([ref_of(key)], style, [key])
    found = bib.entries()[0]
    return found.text, found.html


# Each kind as each style prints it (reviewed against APA 7, AMA 11 and Citing Medicine).
PRINTED: dict[str, dict[ReferenceStyle, str]] = {
    "nccn-antiemesis": {
        "apa": (
            "National Comprehensive Cancer Network. (n.d.). NCCN Clinical Practice Guidelines "
            "in Oncology (NCCN Guidelines): Antiemesis. National Comprehensive Cancer Network. "
            "Retrieved July 21, 2025, from "
            "https://www.nccn.org/guidelines/guidelines-detail?category=3&id=1415"
        ),
        "ama": (
            "National Comprehensive Cancer Network. NCCN Clinical Practice Guidelines in "
            "Oncology (NCCN Guidelines): Antiemesis. Accessed July 21, 2025. "
            "https://www.nccn.org/guidelines/guidelines-detail?category=3&id=1415"
        ),
        "vancouver": (
            "National Comprehensive Cancer Network. NCCN Clinical Practice Guidelines in "
            "Oncology (NCCN Guidelines): Antiemesis [Internet]. National Comprehensive Cancer "
            "Network; [cited 2025 Jul 21]. Available from: "
            "https://www.nccn.org/guidelines/guidelines-detail?category=3&id=1415"
        ),
    },
    "hesketh2020": {
        "apa": (
            "Hesketh, P. J., Kris, M. G., Basch, E., Bohlke, K., Barbour, S. Y., Clark-Snow, R."
            " A., Danso, M. A., Dennis, K., Dupuis, L. L., Dusetzina, S. B., Eng, C., Feyer, P."
            " C., Jordan, K., Noonan, K., Sparacio, D., & Lyman, G. H. (2020). Antiemetics: "
            "ASCO Guideline Update. Journal of Clinical Oncology, 38(24), 2782–2797. "
            "https://doi.org/10.1200/JCO.20.01296"
        ),
        "ama": (
            "Hesketh PJ, Kris MG, Basch E, et al. Antiemetics: ASCO Guideline Update. J Clin "
            "Oncol. 2020;38(24):2782-2797. doi:10.1200/JCO.20.01296"
        ),
        "vancouver": (
            "Hesketh PJ, Kris MG, Basch E, Bohlke K, Barbour SY, Clark-Snow RA, et al. "
            "Antiemetics: ASCO Guideline Update. J Clin Oncol. 2020 Aug 20;38(24):2782-97. "
            "doi:10.1200/JCO.20.01296"
        ),
    },
    "navari2013": {
        "apa": (
            "Navari, R. M., Nagy, C. K., & Gray, S. E. (2013). The use of olanzapine versus "
            "metoclopramide for the treatment of breakthrough chemotherapy-induced nausea and "
            "vomiting in patients receiving highly emetogenic chemotherapy. Supportive Care in "
            "Cancer, 21(6), 1655–1663. PMID: 23314603"
        ),
        "ama": (
            "Navari RM, Nagy CK, Gray SE. The use of olanzapine versus metoclopramide for the "
            "treatment of breakthrough chemotherapy-induced nausea and vomiting in patients "
            "receiving highly emetogenic chemotherapy. Support Care Cancer. "
            "2013;21(6):1655-1663. PMID: 23314603"
        ),
        "vancouver": (
            "Navari RM, Nagy CK, Gray SE. The use of olanzapine versus metoclopramide for the "
            "treatment of breakthrough chemotherapy-induced nausea and vomiting in patients "
            "receiving highly emetogenic chemotherapy. Support Care Cancer. 2013 "
            "Jun;21(6):1655-63. PMID: 23314603"
        ),
    },
    "fictional-book": {
        "apa": (
            "Fictional, A. B., & Example, C. (2021). A fictional handbook of palliative "
            "pharmacotherapy (3rd ed.). Example Press."
        ),
        "ama": (
            "Fictional AB, Example C. A Fictional Handbook of Palliative Pharmacotherapy. 3rd "
            "ed. Example Press; 2021."
        ),
        "vancouver": (
            "Fictional AB, Example C. A fictional handbook of palliative pharmacotherapy. 3rd "
            "ed. Springfield, IL: Example Press; 2021."
        ),
    },
    "fictional-chapter": {
        "apa": (
            "Sample, D. (2020). Opioid rotation. In E. Editor & F. Other (eds.), A fictional "
            "textbook of palliative medicine (2nd ed., pp. 101–120). Example Press."
        ),
        "ama": (
            "Sample D. Opioid rotation. In: Editor E, Other F, eds. A Fictional Textbook of "
            "Palliative Medicine. 2nd ed. Example Press; 2020:101-120."
        ),
        "vancouver": (
            "Sample D. Opioid rotation. In: Editor E, Other F, editors. A fictional textbook of"
            " palliative medicine. 2nd ed. Springfield, IL: Example Press; 2020. p. 101-20."
        ),
    },
    "fictional-report": {
        "apa": (
            "Fictional Palliative Care Council. (2022). Access to opioids in rural hospices. "
            "Fictional Palliative Care Council. https://example.org/reports/fpc-2022-07"
        ),
        "ama": (
            "Fictional Palliative Care Council. Access to Opioids in Rural Hospices. Fictional "
            "Palliative Care Council; 2022. Accessed January 5, 2024. "
            "https://example.org/reports/fpc-2022-07"
        ),
        "vancouver": (
            "Fictional Palliative Care Council. Access to opioids in rural hospices [Internet]."
            " Springfield, IL: Fictional Palliative Care Council; 2022 Mar [cited 2024 Jan 5]. "
            "Available from: https://example.org/reports/fpc-2022-07"
        ),
    },
    "fictional-etal": {
        "apa": (
            "Smith, A., Lee, B., et al. (2020). A fictional trial. Journal of Fictional "
            "Studies, 1, 1–9. https://doi.org/10.5555/fict.1"
        ),
        "ama": "Smith A, Lee B, et al. A fictional trial. J Fict Stud. 2020;1:1-9. doi:10.5555/fict.1",
        "vancouver": "Smith A, Lee B, et al. A fictional trial. J Fict Stud. 2020;1:1-9. doi:10.5555/fict.1",
    },
}


@pytest.mark.parametrize("style", ["apa", "ama", "vancouver"])
@pytest.mark.parametrize("key", list(KINDS))
def test_each_kind_prints_as_the_style_writes_it(key: str, style: ReferenceStyle) -> None:
    assert entry(key, style)[0] == PRINTED[key][style]


@pytest.mark.parametrize("style", ["apa", "ama", "vancouver"])
def test_a_reference_without_a_doi_keeps_its_pmid_linked_to_pubmed(style: ReferenceStyle) -> None:
    text, html = entry("navari2013", style)
    assert text.endswith(" PMID: 23314603")
    assert html.endswith(' <a href="https://pubmed.ncbi.nlm.nih.gov/23314603/">PMID: 23314603</a>')
    text, html = entry("hesketh2020", style)  # a DOI is the link: the PMID is not printed
    assert "PMID" not in text and "pubmed" not in html


def test_a_url_is_linked_to_itself_when_the_work_also_has_a_pmid() -> None:
    url = "https://example.org/fictional-trial"
    bib = Bibliography([ref_of("navari2013", URL=url)], "ama", ["navari2013"])
    html = bib.entries()[0].html
    assert f'<a href="{url}">{url}</a>' in html
    assert html.endswith('<a href="https://pubmed.ncbi.nlm.nih.gov/23314603/">PMID: 23314603</a>')


@pytest.mark.parametrize(
    ("authors", "style", "cited"),
    [
        (["Smith, A.", "Lee, B.", "et al."], "apa", "(Smith et al., 2020)"),
        (["Smith, A.", "et al."], "apa", "(Smith et al., 2020)"),
        (["Smith, A.", "et al."], "ama", "[1]"),
    ],
)
def test_more_authors_not_listed_cite_as_et_al(authors: list[str], style: ReferenceStyle, cited: str) -> None:
    bib = Bibliography([ref_of("fictional-etal", author=authors)], style, ["fictional-etal"])
    assert bib.cite_text(["fictional-etal"]) == cited
    assert "et al." in bib.entries()[0].text and "\ue010" not in bib.entries()[0].html


def test_one_author_of_more_prints_et_al_after_it_in_each_style() -> None:
    one = ref_of("fictional-etal", author=["Smith, A.", "et al."])
    printed = {style: Bibliography([one], style, [one.id]).entries()[0].text for style in PRINTED[one.id]}
    assert printed == {
        "apa": "Smith, A., et al. (2020). A fictional trial. Journal of Fictional Studies, 1, 1–9. "
        "https://doi.org/10.5555/fict.1",
        "ama": "Smith A, et al. A fictional trial. J Fict Stud. 2020;1:1-9. doi:10.5555/fict.1",
        "vancouver": "Smith A, et al. A fictional trial. J Fict Stud. 2020;1:1-9. doi:10.5555/fict.1",
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"author": ["Smith, A.", "others"]},
            "'others' is not an author: write more authors not listed as "
            "'et al.', after the last author named",
        ),
        (
            {"author": ["Smith, A.", "et al.", "Lee, B."]},
            "'et al.' is not an author: write more authors not "
            "listed as 'et al.', after the last author named",
        ),
        ({"author": ["et al."]}, "'et al.' needs at least one author named before it"),
        ({"issued": None}, "a reference of type article-journal needs `issued`, its date of publication"),
        (
            {"type": "webpage", "issued": None},
            "a webpage without `issued` needs `accessed`, the date you read it (YYYY-MM-DD)",
        ),
        (
            {"DOI": None, "accessed": "2025-07-21"},
            "`accessed` is the date a URL was read: add the URL, or remove `accessed`",
        ),
        (
            {"type": "webpage", "URL": "https://example.org/x", "accessed": "2025-7-21"},
            "'2025-7-21' is not a date; write it as YYYY-MM-DD, e.g. 2025-07-21",
        ),
    ],
)
def test_records_that_cannot_print_are_refused(changes: dict[str, Any], message: str) -> None:
    data = {"id": "x", **KINDS["fictional-etal"], **changes}
    with pytest.raises(ValidationError) as caught:
        Reference.model_validate({k: v for k, v in data.items() if v is not None})
    assert message in str(caught.value)


def test_short_cites_of_works_that_are_not_articles() -> None:
    assert short_cite(ref_of("nccn-antiemesis")) == (
        "NCCN Clinical Practice Guidelines in Oncology (NCCN Guidelines): Antiemesis."
    )
    assert short_cite(ref_of("fictional-book")) == "A fictional handbook of palliative pharmacotherapy. 2021."
    assert short_cite(ref_of("fictional-chapter")) == "Opioid rotation. 2020."
    assert short_cite(ref_of("navari2013")) == "Support Care Cancer. 2013 Jun;21(6):1655-63."
