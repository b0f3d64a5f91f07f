"""Read one source file into a raw table of text cells, keeping the row number of every record.

Each reader returns a `RawTable`: the cells as an Arrow table of stripped text ("" when empty) under the
original headers (made unique), and per record its `source_row` (the line or row a text editor or spreadsheet
shows; the record's position in a JSON page) and, for workbooks, its sheet and the text above the header
(annex titles carry the forum's decision). Parsing into the contract happens in `staging`. Readers do per
file only what must be per file; everything per value is done once per chunk of files, later.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.sources import TOTALS_ROW, USULAN_TEXT, target_of
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
    required: tuple[str, ...] = ()  # a sheet whose header has none of these fields holds none of the rows


USULAN_HEADERS = Headers(required=USULAN_TEXT)


@dataclass(frozen=True)
class Page:
    """What a page of an API listing says of itself."""

    number: int
    size: int  # records per page
    records_total: int  # records of the whole listing


@dataclass
class RawTable:
    table: pa.Table  # columns = original headers (made unique), values = stripped text, "" when empty
    source_row: np.ndarray  # 1-based row as a spreadsheet or text editor shows it / record in a page
    source_sheet: np.ndarray | None = None  # sheet name per record (workbooks)
    title: np.ndarray | None = None  # sheet name and the text above the header, per record (annex titles)
    encoding: str | None = None
    delimiter: str | None = None
    # what the reader found wrong in single records: (position in `table`, rule of tasks/validate/rules.py,
    # detail naming the line and what is wrong); the record stays in the table, so it is counted and shown
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    page: Page | None = None  # a page of an API listing: its number and what the listing says of itself

    @property
    def cells(self) -> pd.DataFrame:
        """The cells as a pandas frame of text (for small files: review workbooks, reference lists)."""
        return self.table.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)


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


def _text_column(values: tuple[str, ...]) -> pa.Array:
    """A column of CSV fields (always text) as Arrow text, trimmed."""
    return pc.utf8_trim_whitespace(pa.array(values, type=pa.string()))


def _column(values) -> pa.Array:
    """A column of cell values (text, numbers, dates, missing) as Arrow text; text columns take a fast path."""
    values = list(values)
    if all(type(v) is str for v in values):
        return pc.utf8_trim_whitespace(pa.array(values, type=pa.string()))
    return pa.array([_cell_text(v) for v in values], type=pa.string())


@lru_cache(maxsize=4096)
def _is_known(header: str, target_of: Callable) -> bool:
    return target_of(header) is not None


def _find_header(rows: list[list], path: Path, headers: Headers, where: str = "") -> int:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        known = sum(_is_known(_cell_text(c), headers.target_of) for c in row if _cell_text(c))
        if known >= headers.min_matches:
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


def _title(rows: list[list], header_index: int, sheet: str | None) -> str:
    above = [" ".join(_cell_text(c) for c in r if _cell_text(c)) for r in rows[:header_index]]
    return " ".join([sheet or "", *above]).strip()


def _table(columns: list[pa.Array], headers: list[str]) -> pa.Table:
    return pa.table(columns, names=headers) if columns else pa.table({h: pa.array([], pa.string()) for h in headers})


def _without_trailing_blanks(table: pa.Table, numbers: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """Drop the blank area exports pad sheets and files with; blank rows inside the data stay."""
    if table.num_rows == 0 or table.num_columns == 0:
        return table, numbers
    filled = np.zeros(table.num_rows, dtype=bool)
    for column in table.columns:
        filled |= pc.not_equal(column, "").to_numpy(zero_copy_only=False)
    last = len(filled) - int(filled[::-1].argmax()) if filled.any() else 0
    return table.slice(0, last), numbers[:last]


# --- CSV ------------------------------------------------------------------------------------------
BOM = b"\xef\xbb\xbf"
# a complete UTF-8 sequence of two to four bytes: text written as UTF-8 (Windows-1252 text rarely has one)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
FALLBACK = "cp1252"


@dataclass(frozen=True)
class Fallback:
    """A line of a UTF-8 file decoded as Windows-1252 because of a byte that is not UTF-8."""

    line: int  # 1-based physical line
    offset: int  # 0-based offset of the bad byte in the file
    byte: int


def _decode(path: Path, data: bytes) -> tuple[str, str, list[Fallback]]:
    """The file's text, its encoding and the lines decoded by the fallback. A UTF-8 file (it holds at least as many
    UTF-8 characters as lines that are not, or a BOM) with a stray byte keeps UTF-8 on every other line; only
    the line with the byte is decoded as Windows-1252 and reported. Any other file that is not UTF-8 is
    Windows-1252 as a whole."""
    if b"\x00" in data[:4096]:
        raise SourceError(path, "this is not a text file (binary content); expected CSV text")
    start = len(BOM) if data.startswith(BOM) else 0
    encoding = "utf-8-sig" if start else "utf-8"
    try:
        return data[start:].decode("utf-8"), encoding, []
    except UnicodeDecodeError:
        pass
    utf8_characters = len(_UTF8_MULTIBYTE.findall(data))
    if start or utf8_characters:
        text, fallbacks = _by_line(path, data, start)
        if start or len(fallbacks) <= utf8_characters:
            return text, encoding, fallbacks
    try:
        return data.decode(FALLBACK), FALLBACK, []
    except UnicodeDecodeError as exc:
        raise SourceError(path, _undecodable(data, exc.start)) from exc


def _by_line(path: Path, data: bytes, start: int) -> tuple[str, list[Fallback]]:
    """UTF-8 text whose lines that are not UTF-8 are decoded as Windows-1252, and those lines."""
    parts, fallbacks, pos, line = [], [], start, 1
    while True:
        try:
            parts.append(data[pos:].decode("utf-8"))
            return "".join(parts), fallbacks
        except UnicodeDecodeError as exc:
            bad = pos + exc.start
        begin = data.rfind(b"\n", pos, bad) + 1 or pos  # the bad line; what comes before it is valid UTF-8
        end = data.find(b"\n", bad) + 1 or len(data)
        parts.append(data[pos:begin].decode("utf-8"))
        line += data.count(b"\n", pos, begin)
        try:
            parts.append(data[begin:end].decode(FALLBACK))
        except UnicodeDecodeError as exc:
            raise SourceError(path, _undecodable(data, begin + exc.start)) from exc
        fallbacks.append(Fallback(line, bad, data[bad]))
        pos = end


def _undecodable(data: bytes, offset: int) -> str:
    line = data.count(b"\n", 0, offset) + 1
    return (
        f"unknown text encoding (neither UTF-8 nor Windows-1252): byte 0x{data[offset]:02X} at offset {offset}, "
        f"line {line}"
    )


def _delimiter(path: Path, sample: str) -> str:
    """The delimiter that splits the first lines most often, unless the sniffer finds the lines regular with
    another one (a comma inside quoted text of a ';' file does not decide)."""
    counts = {d: sample.count(d) for d in ",;\t|"}
    best = max(counts, key=counts.get)
    if counts[best] == 0:
        raise SourceError(path, "no column delimiter found (expected ',' or ';')")
    second = sorted(counts.values())[-2]
    if second and second * 2 > counts[best]:  # close call: let the sniffer weigh quotes and regularity
        try:
            return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            pass
    return best


def _records(text: str, delimiter: str, before: int = 0) -> list[tuple[list[str], int, int]]:
    """Every record the csv module finds, with the first and last physical line it spans (1-based; `text`
    starts after line `before`)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out, line = [], 0
    for record in reader:
        out.append((record, before + line + 1, before + reader.line_num))
        line = reader.line_num
    return out


def _alone(line: str, delimiter: str) -> list[str]:
    """The fields of one physical line read on its own."""
    return next(csv.reader([line.rstrip("\r\n")], delimiter=delimiter), [])


def _swallowed(record: list[str], first: int, last: int, lines: list[str], delimiter: str, width: int) -> bool:
    """Whether a record spanning several lines is a stray quote eating the records after it rather than a cell
    with line breaks: its field count is wrong, or a later line of it is a whole record by itself."""
    if len(record) != width:
        return True
    later = lines[first:last]  # the record's physical lines after its first
    return any(line.count('"') % 2 == 0 and len(_alone(line, delimiter)) == width for line in later)


def _checked_lines(
    records: list[tuple[list[str], int, int]], text: str, delimiter: str, width: int
) -> tuple[list[list[str]], list[int], list[tuple[int, str, str]]]:
    """The body records reconciled with the physical lines, so that every line is counted: when a record
    swallowed the lines after it (a stray quote), its first line is taken alone and the parser starts again on
    the next line. A line whose fields do not match the header (an unquoted delimiter, a short row, an unclosed
    quote) is kept, padded or cut to the header's width, with a `malformed_record` problem naming the line.
    Returns the rows, their first lines and the problems."""
    lines: list[str] | None = None
    rows, starts, problems = [], [], []

    def add(fields: list[str], line: int, why: str = "") -> None:
        if len(fields) != width or why:
            if fields and not why:
                why = f"{len(fields)} fields where the header has {width}"
            if why:
                problems.append((len(rows), "malformed_record", f"line {line}: {why}"))
            fields = (fields + [""] * width)[:width]  # a blank line is an empty row
        rows.append(fields)
        starts.append(line)

    i = 0
    while i < len(records):
        record, first, last = records[i]
        i += 1
        if last == first and len(record) == width:  # the common case: one line, the header's width
            rows.append(record)
            starts.append(first)
            continue
        if last > first:
            lines = lines if lines is not None else io.StringIO(text, newline="").readlines()
            if _swallowed(record, first, last, lines, delimiter, width):
                odd = lines[first - 1].count('"') % 2 == 1
                add(_alone(lines[first - 1], delimiter), first, "unclosed quote" if odd else "")
                records, i = _records("".join(lines[first:]), delimiter, first), 0
                continue
        add(record, first)  # one line, or a quoted cell with line breaks
    return rows, starts, problems


def read_csv(path: Path, headers: Headers = USULAN_HEADERS) -> RawTable:
    text, encoding, fallbacks = _decode(path, path.read_bytes())
    if not text.strip():
        raise SourceError(path, "the file holds no data (only blank lines)")
    head_lines = text.split("\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS]
    delimiter = _delimiter(path, "\n".join(head_lines))
    try:
        records = _records(text, delimiter)
        header_index = _find_header([r for r, _, _ in records], path, headers)
        names = _unique_headers([_cell_text(h) for h in records[header_index][0]])
        body, starts, problems = _checked_lines(records[header_index + 1 :], text, delimiter, len(names))
    except csv.Error as exc:
        raise SourceError(path, f"malformed CSV: {exc}") from exc
    table = _table([_text_column(column) for column in zip(*body)], names)
    table, numbers = _without_trailing_blanks(table, np.asarray(starts, dtype=np.int64))
    first_body_line = records[header_index][2] + 1
    for f in fallbacks:
        if f.line >= first_body_line and len(numbers):
            at = int(np.searchsorted(numbers, f.line, side="right")) - 1
            detail = f"line {f.line}, byte 0x{f.byte:02X} at offset {f.offset}"
            problems.append((at, "encoding_fallback", detail))
    problems = [p for p in problems if p[0] < table.num_rows]
    title = _title([r for r, _, _ in records], header_index, None)
    return RawTable(table, numbers, None, np.full(table.num_rows, title, dtype=object), encoding, delimiter, problems)


# --- Excel ----------------------------------------------------------------------------------------
Ranges = list[tuple[tuple[int, int], tuple[int, int]]]  # merged cells: ((first row, col), (last row, col))


def _filled_down(rows: list[list], merged: Ranges) -> list[list]:
    """The rows with each vertically merged range (a kecamatan written once for its desa) filled with the value
    of its first cell; horizontal merges (titles) keep their single value."""
    vertical = [((r0, c0), (r1, c1)) for (r0, c0), (r1, c1) in merged if r1 > r0 and r0 < len(rows)]
    if not vertical:
        return rows
    rows = [list(r) for r in rows]
    for (r0, c0), (r1, c1) in vertical:
        for c in range(c0, c1 + 1):
            value = rows[r0][c] if c < len(rows[r0]) else None
            for r in range(r0 + 1, min(r1, len(rows) - 1) + 1):
                if c < len(rows[r]):
                    rows[r][c] = value
    return rows


def _sub_header(rows: list[list], at: int, merged: Ranges, headers: Headers) -> bool:
    """Whether the row below the header row is the second row of a two-row header: its filled cells are all
    header names, and the header reaches into it (a cell merged down, or a column only it names)."""
    if at + 1 >= len(rows):
        return False
    top, below = [_cell_text(c) for c in rows[at]], [_cell_text(c) for c in rows[at + 1]]
    filled = [c for c in below if c]
    if not filled or not all(_is_known(c, headers.target_of) for c in filled):
        return False
    merged_down = any(r0 == at and r1 > at for (r0, _), (r1, _) in merged)
    return merged_down or any(b and not t for t, b in zip(top, below))


def _totals_only(body: list[list]) -> bool:
    """Every filled row starts with 'JUMLAH' or 'Total': a summary, not usulan."""
    firsts = [next((_cell_text(c) for c in row if _cell_text(c)), "") for row in body]
    firsts = [f for f in firsts if f]
    return bool(firsts) and all(re.match(TOTALS_ROW, f) for f in firsts)


def read_excel(path: Path, headers: Headers = USULAN_HEADERS) -> RawTable:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for zip/xml problems
        raise SourceError(path, f"cannot open the workbook (broken or not an Excel file): {exc}") from exc
    parts, problems = [], []
    for name in workbook.sheet_names:
        try:
            sheet = workbook.get_sheet_by_name(name)
            merged = sheet.merged_cell_ranges or []
            rows = _filled_down(sheet.to_python(skip_empty_area=False), merged)
        except Exception as exc:
            raise SourceError(path, f"cannot read sheet {name!r}: {exc}") from exc
        try:
            header_index = _find_header(rows, path, headers, f" of sheet {name!r}")
        except SourceError as exc:
            problems.append(exc.problem)
            continue
        top = [_cell_text(h) for h in rows[header_index]]
        title = _title(rows, header_index, name)
        if _sub_header(rows, header_index, merged, headers):  # the lower row names the columns it splits
            top = [_cell_text(b) or t for t, b in zip(top, [*rows[header_index + 1], *[""] * len(top)])]
            header_index += 1
        if headers.required and not any(headers.target_of(h) in headers.required for h in top if h):
            problems.append(f"sheet {name!r} has no {headers.what} text column (a rekap or summary sheet)")
            continue
        names = _unique_headers(top)
        body = [(list(r) + [""] * len(names))[: len(names)] for r in rows[header_index + 1 :]]
        if _totals_only(body):
            problems.append(f"sheet {name!r} holds only totals (a rekap or summary sheet)")
            continue
        table = _table([_column(column) for column in zip(*body)], names)
        numbers = np.arange(len(body), dtype=np.int64) + header_index + 2  # 1-based spreadsheet rows
        table, numbers = _without_trailing_blanks(table, numbers)
        parts.append((table, numbers, name, title))
    if not parts:
        raise SourceError(path, "; ".join(problems) or "the workbook has no sheets")
    table = pa.concat_tables([t for t, _, _, _ in parts], promote_options="default")
    table = pa.table([pc.fill_null(c, "") for c in table.columns], names=table.column_names)
    return RawTable(
        table,
        np.concatenate([n for _, n, _, _ in parts]),
        np.concatenate([np.full(len(n), s, dtype=object) for _, n, s, _ in parts]),
        np.concatenate([np.full(len(n), t, dtype=object) for _, n, _, t in parts]),
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
    names = list(dict.fromkeys(k for r in records for k in r))
    if records and sum(headers.target_of(h) is not None for h in names) < headers.min_matches:
        raise SourceError(path, f"the records carry no known {headers.what} fields")
    table = _table([_column(r.get(name) for r in records) for name in names], [str(n) for n in names])
    return RawTable(table, np.arange(1, len(records) + 1, dtype=np.int64), page=page_of(payload))


def page_of(payload: object) -> Page | None:
    """The page a SIPD-like response says it is ({"page", "pageSize", "recordsTotal"}), if it says so."""
    if not isinstance(payload, dict):
        return None
    inner = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    said = [payload.get(k, inner.get(k)) for k in ("page", "pageSize", "recordsTotal")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in said) or said[1] == 0:
        return None
    return Page(*said)
