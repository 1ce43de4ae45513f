"""The one CSV writer of every export: no cell reaches a spreadsheet as a live formula.

OWASP's rule: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
prefixed with a single quote, so Excel, LibreOffice and Google Sheets show it as text.

Two choices of ours (README, "Security"):

- A cell that is a plain decimal number (``-1.50``, ``+2``, ``3``) stays as it is: a number
  cannot run as a formula, and hour columns must stay numbers. OWASP escapes these too; we do
  not, because ``-1.50`` is exactly as harmless as ``1.50``.
- A cell that already starts with a single quote gets one more, so that ``unescape_cell`` (what
  our own importers apply) gives back exactly what was exported: export and import round-trip.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def escape_cell(value: object) -> str:
    """Return ``value`` as a cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if PLAIN_NUMBER.fullmatch(text):
        return text
    return QUOTE + text if text.startswith((*FORMULA_STARTS, QUOTE)) else text


def unescape_cell(text: str) -> str:
    """Undo ``escape_cell`` on a cell read back from one of our exports."""
    return text[1:] if text.startswith(QUOTE) else text


def write_csv(
    out: TextIO,
    header: Iterable[str],
    rows: Iterable[Iterable[object]],
    *,
    lineterminator: str = "\n",
) -> int:
    """Write a header and rows with every cell escaped; return the number of rows written."""
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow([escape_cell(name) for name in header])
    count = 0
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
        count += 1
    return count
