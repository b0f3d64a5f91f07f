"""Read one source file into a raw frame of text cells, keeping the row number of every record.

Each reader returns a `RawTable`: all cells as stripped text ("" when empty), the original headers,
and `source_row` / `source_sheet` per record. Parsing into the contract happens in `staging`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from schemas.sources import target_of
from tasks.errors import SourceError

HEADER_SEARCH_ROWS = 30  # header rows may sit below title rows; look this far down
MIN_HEADER_MATCHES = 3  # a header row names at least this many known columns


@dataclass(frozen=True)
class Headers:
    """How a reader recognises the header row: the field a header stands for (None: unknown), and how many
    known headers a header row has at least. Usulan sources by default; reference files pass their own."""

    target_of: Callable[[object], str | None] = target_of
    min_matches: int = MIN_HEADER_MATCHES
    what: str = "usulan"


USULAN_HEADERS = Headers()


@dataclass
class RawTable:
    cells: pd.DataFrame  # columns = original headers (deduplicated), values = text
    source_row: pd.Series  # 1-based row as a spreadsheet or text editor shows it / record index in a page
    source_sheet: pd.Series  # sheet name or None
    title: pd.Series | None = None  # sheet name and the text above the header, per record (annex titles)
    encoding: str | None = None
    delimiter: str | None = None


def read_source(path: Path, headers: Headers = USULAN_HEADERS) -> RawTable:
    """Read a CSV, Excel or JSON source by its suffix."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise SourceError(path, "file not found")
    if path.stat().st_size == 0:
        raise SourceError(path, "the file is empty (0 bytes)")
    if suffix in (".csv", ".txt"):
        return read_csv(path, headers)
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return read_excel(path, headers)
    if suffix == ".json":
        return read_json(path, headers)
    raise SourceError(path, f"unsupported file type {suffix!r} (expected .csv, .xlsx or .json)")


# --- helpers --------------------------------------------------------------------------------------
def _cell_text(value: object) -> str:
    if type(value) is str:  # the common case first: most cells are text
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _find_header(rows: list[list[str]], path: Path, headers: Headers, where: str = "") -> int:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(headers.target_of(c) is not None for c in row if c) >= headers.min_matches:
            return i
    raise SourceError(
        path, f"no header row with known {headers.what} columns in the first {HEADER_SEARCH_ROWS} rows{where}"
    )


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, h in enumerate(headers):
        h = h or f"kolom_{i + 1}"
        n = seen.get(h, 0)
        seen[h] = n + 1
        out.append(h if n == 0 else f"{h}.{n}")
    return out


def _title(rows: list[list[str]], header_index: int, sheet: str | None) -> str:
    above = [" ".join(str(c) for c in r if c) for r in rows[:header_index]]
    return " ".join([sheet or "", *above]).strip()


def _frame(rows: list[list[str]], header_index: int, first_row_number: int, sheet: str | None) -> RawTable:
    title = _title(rows, header_index, sheet)
    headers = _unique_headers([_cell_text(h) for h in rows[header_index]])
    body = rows[header_index + 1 :]
    width = len(headers)
    body = [(r + [""] * width)[:width] for r in body]
    # drop the trailing blank area (exports pad sheets), keep blank rows inside the data
    while body and not any(body[-1]):
        body.pop()
    cells = pd.DataFrame(body, columns=headers, dtype="string").fillna("")
    numbers = pd.Series(range(len(body)), dtype="int64") + first_row_number + header_index + 1
    return RawTable(
        cells, numbers, pd.Series([sheet] * len(body), dtype="string"), pd.Series([title] * len(body), dtype="string")
    )


# --- CSV ------------------------------------------------------------------------------------------
def _decode(path: Path, data: bytes) -> tuple[str, str]:
    if b"\x00" in data[:4096]:
        raise SourceError(path, "this is not a text file (binary content); expected CSV text")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"unknown text encoding (neither UTF-8 nor Windows-1252) at byte {exc.start}") from exc


def _delimiter(path: Path, sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        if counts[best] == 0:
            raise SourceError(path, "no column delimiter found (expected ',' or ';')") from None
        return best


def read_csv(path: Path, headers: Headers = USULAN_HEADERS) -> RawTable:
    text, encoding = _decode(path, path.read_bytes())
    if not text.strip():
        raise SourceError(path, "the file holds no data (only blank lines)")
    lines = text.splitlines()
    delimiter = _delimiter(path, "\n".join(lines[:HEADER_SEARCH_ROWS]))
    head = list(csv.reader(io.StringIO("\n".join(lines[:HEADER_SEARCH_ROWS])), delimiter=delimiter))
    header_index = _find_header(head, path, headers)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            skiprows=header_index,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            engine="c",
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise SourceError(path, f"malformed CSV: {exc}") from exc
    headers = _unique_headers([_cell_text(h) for h in frame.iloc[0].fillna("")])
    cells = frame.iloc[1:].fillna("").astype("string")
    cells.columns = headers
    cells = cells.apply(lambda column: column.str.strip())
    filled = cells.ne("").any(axis=1).to_numpy()
    last = len(filled) - filled[::-1].argmax() if filled.any() else 0  # drop trailing blank lines only
    cells = cells.iloc[:last].reset_index(drop=True)
    rows = pd.Series(range(len(cells)), dtype="int64") + header_index + 2
    title = _title(head, header_index, None)
    return RawTable(
        cells,
        rows,
        pd.Series([None] * len(cells), dtype="string"),
        pd.Series([title] * len(cells), dtype="string"),
        encoding,
        delimiter,
    )


# --- Excel ----------------------------------------------------------------------------------------
def read_excel(path: Path, headers: Headers = USULAN_HEADERS) -> RawTable:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for zip/xml problems
        raise SourceError(path, f"cannot open the workbook (broken or not an Excel file): {exc}") from exc
    tables, problems = [], []
    for name in workbook.sheet_names:
        try:
            rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:
            raise SourceError(path, f"cannot read sheet {name!r}: {exc}") from exc
        rows = [[_cell_text(c) for c in r] for r in rows]
        try:
            header_index = _find_header(rows, path, headers, f" of sheet {name!r}")
        except SourceError as exc:
            problems.append(exc.problem)
            continue
        tables.append(_frame(rows, header_index, 1, name))
    if not tables:
        raise SourceError(path, "; ".join(problems) or "the workbook has no sheets")
    cells = pd.concat([t.cells for t in tables], ignore_index=True).fillna("")
    return RawTable(
        cells,
        pd.concat([t.source_row for t in tables], ignore_index=True),
        pd.concat([t.source_sheet for t in tables], ignore_index=True),
        pd.concat([t.title for t in tables], ignore_index=True),
    )


# --- JSON pages -----------------------------------------------------------------------------------
def records_of(payload: object) -> list | None:
    """The record list of a SIPD-like response: a list, or {"data": [...]} possibly nested once."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict) and "data" in payload:
        inner = payload["data"]
        if isinstance(inner, dict) and "data" in inner:
            inner = inner["data"]
        if isinstance(inner, list):
            return inner
    return None


def read_json(path: Path, headers: Headers = USULAN_HEADERS) -> RawTable:
    try:
        payload = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(path, f"not valid JSON: {exc}") from exc
    records = records_of(payload)
    if records is None:
        raise SourceError(path, "no record list found (expected a list or an object with a 'data' list)")
    if records and not all(isinstance(r, dict) for r in records):
        raise SourceError(path, "the record list holds values that are not objects")
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    fields = list(frame.columns)
    if records and sum(headers.target_of(h) is not None for h in fields) < headers.min_matches:
        raise SourceError(path, f"the records carry no known {headers.what} fields")
    rows = [[_cell_text(v) for v in r] for r in frame.to_numpy(dtype=object).tolist()]
    cells = pd.DataFrame(rows, columns=fields, dtype="string").fillna("")
    return RawTable(
        cells, pd.Series(range(1, len(rows) + 1), dtype="int64"), pd.Series([None] * len(rows), dtype="string")
    )
