"""What untrusted text may hold: the control-character rule, the header rule and the nesting limit.

Each rule is defined once here and used by every reader (the YAML loader, the reference readers), by
the schema and by the .eml writer, so that no two places disagree about what is refused.
"""

from __future__ import annotations

import re

# C0/C1 controls other than tab and newline (terminal escapes), and bidirectional overrides and isolates
# that can make text read differently from how it is stored ("Trojan Source"): never wanted in a
# newsletter, in any file or field.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
CONTROL_HINT = "remove it; it can corrupt terminals and outputs"

# Text that becomes an email header (the subject, the sender) must stay one line, and must not hold an
# RFC 2047 encoded word: Python before 3.11.10 decodes one while folding a header and writes the CR/LF
# inside it raw (CVE-2024-6923), so `=?utf-8?q?x=0D=0ABcc:_...?=` would add a header of its own.
# U+0085, U+2028 and U+2029 are line breaks to str.splitlines() and to some mail programs.
HEADER_BREAK = re.compile(r"[\r\n\x85\u2028\u2029]")
ENCODED_WORD = "=?"

# Deeper than this, YAML's composer and Python's json recurse past the interpreter's limit; no file of
# a newsletter nests more than a handful of levels (literature > studies > summary is the deepest).
MAX_NESTING = 32

# What printing a message must never emit raw: the control characters and any line break, so that
# one problem stays one line and a key or value echoed in it cannot reorder or hide the text around it.
_UNPRINTABLE = re.compile(f"{CONTROL.pattern}|[\\t\\n\\u2028\\u2029]")


def control_character(text: str) -> str | None:
    """The first control or bidirectional-override character in `text`, if any."""
    found = CONTROL.search(text)
    return found.group() if found else None


def header_problem(text: str) -> str | None:
    """Why `text` cannot go into an email header, or None when it can."""
    found = HEADER_BREAK.search(text)
    if found:
        return (
            f"this goes into an email header, so it must be one line: it contains the line break "
            f"{found.group()!r} (a folded block needs '>-', not '>' or '|')"
        )
    if ENCODED_WORD in text:
        return (
            "this goes into an email header, so it must not contain '=?' "
            "(mail programs decode '=?...?=' as an encoded word)"
        )
    return None


def printable_line(text: str) -> bool:
    """Whether `text` holds no control character, tab or line break (a file name as tablet writes it)."""
    return not _UNPRINTABLE.search(text)


def escape(text: str) -> str:
    """`text` with control characters and line breaks written as escapes (\\u202e, \\n), for messages."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)
