"""Parse the text cells regions write into typed values, one distinct value at a time.

Numbers arrive as "1.250.000", "Rp 1.250.000,00", "1,5" or "100 Meter"; coordinates sit inside
the address; status is a word. Every parser works on a whole Series and returns the parsed Series
plus a boolean mask of cells that were not empty but could not be parsed.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.sources import STATUS_INDEX, TITLE_TAHUN, normalise_header
from tasks.distinct import distinct_rows

# Patterns run by Arrow's RE2 engine over whole columns.
_KOEFISIEN = r"^\s*(?P<number>[+-]?\d[\d.,]*)\s*(?P<unit>[^\d].*)?$"
_COORDINATES = r"(?P<lat>[+-]?\d{1,2}\.\d{3,})\s*[,;]\s*(?P<lon>[+-]?\d{2,3}\.\d{3,})"
_CODE_AT_START = r"^\s*(?P<code>(?:\d|X)\.(?:\d{2}|XX)(?:\.\d{2}\.\d\.\d{2}\.(?:\d{4}|\d{2}))?)\b"


def _arrow(values: pd.Series) -> pa.Array:
    return pa.array(values.fillna("").astype("string").to_numpy(dtype=object), type=pa.string())


def _series(values: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(values.to_numpy(zero_copy_only=False), index=index, dtype="string")


def _groups(values: pa.Array, pattern: str) -> dict[str, pa.Array]:
    """The named groups of `pattern` found in each value (null where it does not match)."""
    found = pc.extract_regex(values, pattern)
    return {field.name: pc.struct_field(found, field.name) for field in found.type}


def on_distinct(func):
    """Run a parser of aligned Series on their distinct combinations only, then expand back.
    Sources repeat values heavily (satuan, status, volumes), so this turns rows into uniques."""

    def wrapper(*columns: pd.Series | None):
        while columns[-1] is None:  # optional columns not given
            columns = columns[:-1]
        index = columns[0].index
        written = pd.DataFrame({i: c.fillna("").astype(str).to_numpy() for i, c in enumerate(columns)})
        distinct, codes = distinct_rows(written)  # an empty cell and a missing one are one combination
        first = distinct.index.to_numpy()
        results = func(*(c.iloc[first].reset_index(drop=True) for c in columns))
        expand = lambda r: pd.Series(r.to_numpy()[codes], index=index, dtype=r.dtype)  # noqa: E731
        return tuple(expand(r) for r in results) if isinstance(results, tuple) else expand(results)

    wrapper.__doc__, wrapper.__name__ = func.__doc__, func.__name__
    return wrapper


# A comma that can only be a decimal one ('0,750', '2,5', '1,25'), and a number grouped in thousands by dots or
# by several commas ('1.250.000', '1,250,000'): what a file's numbers show about its convention.
_DECIMAL_COMMA = r"^\s*(?i:rp\.?\s*)?[+-]?(?:0,\d+|\d+,\d{1,2}|\d+,\d{4,})(?:\s|$)"
_GROUPED = r"\d\.\d{3}(?:\D|$)|\d,\d{3},"


def shows_decimal_comma(values: pa.Array) -> pa.Array:
    """Per value: a number written with a decimal comma that cannot be a thousands comma."""
    return pc.match_substring_regex(values, _DECIMAL_COMMA)


def shows_grouping(values: pa.Array) -> pa.Array:
    """Per value: a number grouped in thousands ('1.250.000', '1,250,000')."""
    return pc.match_substring_regex(values, _GROUPED)


@on_distinct
def parse_numbers(values: pd.Series, decimal_comma: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    """Numbers as regions write them: '1.250.000' -> 1250000; 'Rp 1.250.000,00' -> 1250000.0; '1,5' -> 1.5;
    '1,250,000.50' -> 1250000.5; '0.750' and '0,750' -> 0.75; '250.000,-' -> 250000. Where `decimal_comma` (the file's
    convention, per value) is true, one comma is always decimal: '2,500' -> 2.5 (else 2500). Vectorised in Arrow
    (money columns hold mostly distinct values); returns the numbers and the mask of cells that were not empty
    but no number."""
    text = values.fillna("").astype("string").str.strip()
    comma_is_decimal = pa.array(
        [False] * len(text) if decimal_comma is None else decimal_comma.fillna(False).astype(bool).to_numpy(),
        type=pa.bool_(),
    )
    s = pc.replace_substring_regex(_arrow(text), r"^\s*(?i:rp\.?|idr)\s*", "")
    s = pc.replace_substring_regex(s, r"[ \x{00a0}]", "")
    s = pc.replace_substring_regex(s, r",-$", "")

    def has(pattern: str) -> pa.Array:
        return pc.match_substring_regex(s, pattern)

    commas, dots = pc.greater(pc.count_substring(s, ","), 0), pc.greater(pc.count_substring(s, "."), 0)
    both = pc.and_(commas, dots)
    only_comma, only_dot = pc.and_(commas, pc.invert(dots)), pc.and_(dots, pc.invert(commas))
    comma_decimal = pc.and_(both, has(r",[^.]*$"))  # the last separator is a comma: 1.250.000,50
    never_thousands = pc.or_(comma_is_decimal, has(r"^[+-]?0,"))  # '0,750' is no thousand, whatever the file
    one_thousands_comma = pc.and_(has(r",\d{3}$"), pc.invert(never_thousands))
    comma_thousands = pc.and_(only_comma, pc.or_(has(r",.*,"), one_thousands_comma))  # 1,250 or 1,250,000
    dot_thousands = pc.and_(
        only_dot, pc.or_(has(r"\..*\."), pc.and_(has(r"^[+-]?\d+\.\d{3}$"), pc.invert(has(r"^[+-]?0\."))))
    )
    no_dots, no_commas = pc.replace_substring(s, ".", ""), pc.replace_substring(s, ",", "")
    out = pc.case_when(
        pc.make_struct(comma_decimal, both, comma_thousands, only_comma, dot_thousands),
        pc.replace_substring(no_dots, ",", "."),
        no_commas,
        no_commas,
        pc.replace_substring(s, ",", "."),
        no_dots,
        s,
    )
    out = pc.if_else(has(r"^[+-]?\d[\d.,]*$"), out, None)
    parsed = pd.to_numeric(pd.Series(out.to_numpy(zero_copy_only=False), index=text.index), errors="coerce")
    parsed = parsed.astype("Float64")
    bad = (text != "") & parsed.isna()
    return parsed, bad


@on_distinct
def parse_koefisien(
    volume: pd.Series, satuan: pd.Series, decimal_comma: pd.Series | None = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Split '100 Meter' in the volume cell into volume and satuan; returns volume, satuan, bad mask.
    `decimal_comma`: as in `parse_numbers`."""
    text = pc.utf8_trim_whitespace(_arrow(volume))
    parts = _groups(text, _KOEFISIEN)
    number_text = pc.if_else(pc.is_valid(parts["number"]), parts["number"], text)
    unit = pc.fill_null(pc.utf8_trim_whitespace(parts["unit"]), "")
    given = pc.utf8_trim_whitespace(_arrow(satuan))
    satuan = _series(pc.if_else(pc.equal(given, ""), unit, given), volume.index)
    parsed, bad = parse_numbers(_series(number_text, volume.index), decimal_comma)
    unreadable = pc.and_(pc.not_equal(text, ""), pc.is_null(parts["number"])).to_numpy(zero_copy_only=False)
    unreadable = pd.Series(unreadable, index=volume.index)
    return parsed, satuan.replace("", pd.NA), bad | unreadable


@on_distinct
def extract_coordinates(lokasi: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Take 'lat, lng' out of an address text; returns lokasi without them, latitude, longitude."""
    text = _arrow(lokasi)
    found = _groups(text, _COORDINATES)
    cleaned = pc.utf8_trim(pc.replace_substring_regex(text, _COORDINATES, ""), characters=" ,;")
    cleaned = _series(pc.replace_substring_regex(cleaned, r"\s{2,}", " "), lokasi.index)
    number = lambda part: pd.to_numeric(_series(found[part], lokasi.index)).astype("Float64")  # noqa: E731
    return cleaned.replace("", pd.NA), number("lat"), number("lon")


@on_distinct
def parse_status(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Status words ('Disetujui', 'Tidak Diakomodir', ...) to diterima / ditolak / diusulkan."""
    key = values.fillna("").astype("string").map(normalise_header)
    status = key.map(STATUS_INDEX).astype("string")
    return status, status.isna()


@on_distinct
def code_at_start(values: pd.Series) -> pd.Series:
    """'1.03.10.2.01.0024 Rehabilitasi Jalan' -> '1.03.10.2.01.0024'; '1.03 URUSAN ...' -> '1.03'."""
    return _series(_groups(_arrow(values), _CODE_AT_START)["code"], values.index)


@on_distinct
def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.fillna("").astype("string").str.strip()
    iso = pd.to_datetime(text.where(text.str.match(r"^\d{4}-\d{2}-\d{2}")), errors="coerce", format="ISO8601")
    local = pd.to_datetime(text.where(~text.str.match(r"^\d{4}-")), errors="coerce", dayfirst=True, format="mixed")
    parsed = iso.fillna(local)
    return parsed, (text != "") & parsed.isna()


@on_distinct
def tahun_in_title(titles: pd.Series) -> pd.Series:
    """The tahun anggaran a sheet title names ('DAFTAR USULAN ... TAHUN ANGGARAN 2024' -> '2024'), or ''."""
    return titles.fillna("").astype("string").str.extract(TITLE_TAHUN, expand=False).fillna("").astype("string")


def parse_integers(values: pd.Series, decimal_comma: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
    parsed, bad = parse_numbers(values, decimal_comma)
    fractional = parsed.notna() & (parsed != parsed.round())
    return parsed.where(~fractional).round().astype("Int64"), bad | fractional
