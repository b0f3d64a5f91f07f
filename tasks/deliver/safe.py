"""Text written for people stays text: no spreadsheet formula from a CSV cell, no markup from an HTML value."""

from __future__ import annotations

# A cell starting with one of these is read as a formula by Excel, LibreOffice and Google Sheets (OWASP "CSV
# injection"): '=HYPERLINK(...)', '+cmd', '-2+3', '@SUM(...)', and a tab or carriage return before any of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """`text` as a spreadsheet shows it literally: a leading apostrophe before a formula start, else unchanged."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
