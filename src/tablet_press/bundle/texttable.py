"""A markdown table as plain text (the email's .txt): aligned columns, each cell wrapped in its column,
within TEXT_WIDTH characters; a table too wide for that becomes one block per row of `column: value`
lines, so that a reader of the plain text never meets a row broken across the page.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

TEXT_WIDTH = 78  # the plain text's line length (email.py wraps the rest of the text to it too)
GAP = "  "  # between two columns
MIN_COLUMN = 10  # a column narrower than this reads as a word list: the table goes row by row


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], width: int = TEXT_WIDTH) -> str:
    """The table as aligned, wrapped columns if they fit in `width`, else as blocks of `column: value`."""
    columns = len(header)
    rows = [[*row, *[""] * (columns - len(row))][:columns] for row in rows]
    widths = _widths([header, *rows], width - len(GAP) * (columns - 1))
    if widths is None:
        return _blocks(header, rows, width)
    lines = _row(header, widths)
    lines.append(GAP.join("-" * w for w in widths).rstrip())
    for row in rows:
        lines += _row(row, widths)
    return "\n".join(lines)


def _widths(table: Sequence[Sequence[str]], room: int) -> list[int] | None:
    """Each column's width: its longest cell if all fit, else a fair share of what is left (the
    narrowest columns keep their own width); None when a column would be narrower than MIN_COLUMN
    or than its longest word."""
    natural = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    longest_word = [
        max((len(w) for row in table for w in row[i].split()), default=0) for i in range(len(natural))
    ]
    widths = list(natural)
    left = room
    todo = sorted(range(len(natural)), key=lambda i: natural[i])
    while todo:
        share = left // len(todo)
        if natural[todo[0]] <= share:
            i = todo.pop(0)
            left -= natural[i]
            continue
        for i in todo:
            widths[i] = share
        break
    if any(w < min(MIN_COLUMN, n) or w < lw for w, n, lw in zip(widths, natural, longest_word, strict=True)):
        return None
    return widths


def _row(cells: Sequence[str], widths: Sequence[int]) -> list[str]:
    wrapped = [
        textwrap.wrap(cell, w, break_long_words=False, break_on_hyphens=False) or [""]
        for cell, w in zip(cells, widths, strict=True)
    ]
    height = max(len(lines) for lines in wrapped)
    return [
        GAP.join(
            (lines[n] if n < len(lines) else "").ljust(w) for lines, w in zip(wrapped, widths, strict=True)
        ).rstrip()
        for n in range(height)
    ]


def _blocks(header: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> str:
    blocks = []
    for row in rows:
        lines = [
            textwrap.fill(
                f"{name}: {value}",
                width,
                subsequent_indent="  ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            for name, value in zip(header, row, strict=True)
            if value
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
