"""Write rendered tables as the files regions hand over: CSV dialects, SIPD Excel, JSON pages."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlsxwriter

PAGE_SIZE = 500
EXCEL_HEADER_ROW = 5  # 3 title rows, 1 blank row, then the header: the first data row is row 6


@dataclass(frozen=True)
class Dialect:
    encoding: str  # as written in the manifest
    delimiter: str
    line_end: str


DESA_DIALECTS = (Dialect("utf-8", ",", "\n"), Dialect("utf-8-sig", ";", "\r\n"), Dialect("cp1252", ";", "\r\n"))
PROVINSI_DIALECT = Dialect("cp1252", ";", "\r\n")
JSON_DIALECT = Dialect("utf-8", "", "")  # JSON pages: only the encoding applies


def write_csv(table: pd.DataFrame, path: Path, dialect: Dialect) -> None:
    """CSV with the dialect's delimiter and encoding (characters cp1252 lacks become '?')."""
    buffer = io.StringIO()
    table.to_csv(buffer, sep=dialect.delimiter, index=False, lineterminator=dialect.line_end)
    path.write_bytes(buffer.getvalue().encode(dialect.encoding, errors="replace"))


def write_sipd_excel(table: pd.DataFrame, path: Path, titles: tuple[str, ...], created: dt.datetime) -> None:
    """SIPD export: merged title rows, a blank row, the header, then the data (blank strings stay empty)."""
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": created, "author": "SIPD"})
    sheet = workbook.add_worksheet("Usulan")
    title = workbook.add_format({"bold": True, "align": "center"})
    header = workbook.add_format({"bold": True, "border": 1, "bg_color": "#D9D9D9"})
    last = table.shape[1] - 1
    for row, text in enumerate(titles):
        sheet.merge_range(row, 0, row, last, text, title)
    sheet.write_row(EXCEL_HEADER_ROW - 1, 0, list(table.columns), header)
    write_string, write_number = sheet.write_string, sheet.write_number
    for r, values in enumerate(table.itertuples(index=False, name=None), start=EXCEL_HEADER_ROW):
        for c, value in enumerate(values):
            if isinstance(value, str):
                if value:
                    write_string(r, c, value)
            elif value is not None:
                write_number(r, c, float(value))
    workbook.close()


def write_json_pages(table: pd.DataFrame, folder: Path, prefix: str = "listMonitor") -> list[tuple[str, int]]:
    """listMonitor_page_001.json ...; returns (file name, records) per page."""
    columns = list(table.columns)
    values = [table[c].tolist() for c in columns]  # native Python ints/strings
    records = [dict(zip(columns, row)) for row in zip(*values)]
    total = len(records)
    pages = []
    for page, start in enumerate(range(0, max(total, 1), PAGE_SIZE), start=1):
        chunk = records[start : start + PAGE_SIZE]
        body = {
            "success": True,
            "message": "",
            "page": page,
            "pageSize": PAGE_SIZE,
            "recordsTotal": total,
            "data": chunk,
        }
        name = f"{prefix}_page_{page:03d}.json"
        (folder / name).write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        pages.append((name, len(chunk)))
    return pages
