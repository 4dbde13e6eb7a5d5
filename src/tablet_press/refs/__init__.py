"""References: the citation engine (citeproc-py, fenced), BibTeX/RIS/CSL-JSON readers, import."""
