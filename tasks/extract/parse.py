"""Parse the text cells regions write into typed values, one distinct value at a time.

Numbers arrive as "1.250.000", "Rp 1.250.000,00", "1,5" or "100 Meter"; coordinates sit inside
the address; status is a word. Every parser works on a whole Series and returns the parsed Series
plus a boolean mask of cells that were not empty but could not be parsed.
"""

from __future__ import annotations

import re

import pandas as pd

from schemas.sources import STATUS_INDEX, normalise_header

_CURRENCY = re.compile(r"^\s*(rp\.?|idr)\s*", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?\d[\d.,]*$")
_KOEFISIEN = re.compile(r"^\s*([+-]?\d[\d.,]*)\s*([^\d].*)?$")
_COORDINATES = re.compile(r"(?P<lat>[+-]?\d{1,2}\.\d{3,})\s*[,;]\s*(?P<lon>[+-]?\d{2,3}\.\d{3,})")
_CODE_AT_START = re.compile(r"^\s*((?:\d|X)\.(?:\d{2}|XX)(?:\.\d{2}\.\d\.\d{2}\.(?:\d{4}|\d{2}))?)\b")


def parse_number_text(text: str) -> float | None:
    """'1.250.000' -> 1250000; 'Rp 1.250.000,00' -> 1250000.0; '1,5' -> 1.5; '1,250,000.50' -> 1250000.5."""
    s = _CURRENCY.sub("", text.strip()).replace(" ", "").replace("\u00a0", "")
    if s.endswith(",-"):
        s = s[:-2]
    if not _NUMBER.match(s):
        return None
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        s = s.replace(thousands, "").replace(decimal, ".")
    elif "," in s:
        parts = s.split(",")
        s = s.replace(",", "") if len(parts) > 2 or len(parts[-1]) == 3 else s.replace(",", ".")
    elif s.count(".") > 1 or (s.count(".") == 1 and len(s.split(".")[-1]) == 3 and s.split(".")[0] not in ("0", "-0")):
        s = s.replace(".", "")  # Indonesian thousands separators
    try:
        return float(s)
    except ValueError:
        return None


def on_distinct(func):
    """Run a parser of aligned Series on their distinct combinations only, then expand back.
    Sources repeat values heavily (satuan, status, volumes), so this turns rows into uniques."""

    def wrapper(*columns: pd.Series):
        index = columns[0].index
        keys = columns[0].fillna("").astype(str)
        for column in columns[1:]:
            keys = keys + "\x1f" + column.fillna("").astype(str).to_numpy()
        codes, _ = pd.factorize(keys, sort=False)
        first = pd.Series(range(len(codes))).groupby(codes).first().to_numpy()
        results = func(*(c.iloc[first].reset_index(drop=True) for c in columns))
        expand = lambda r: pd.Series(r.to_numpy()[codes], index=index, dtype=r.dtype)  # noqa: E731
        return tuple(expand(r) for r in results) if isinstance(results, tuple) else expand(results)

    wrapper.__doc__, wrapper.__name__ = func.__doc__, func.__name__
    return wrapper


@on_distinct
def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.fillna("").astype("string").str.strip()
    parsed = pd.Series([parse_number_text(t) if t else None for t in text], index=text.index, dtype="Float64")
    bad = (text != "") & parsed.isna()
    return parsed, bad


@on_distinct
def parse_koefisien(volume: pd.Series, satuan: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Split '100 Meter' in the volume cell into volume and satuan; returns volume, satuan, bad mask."""
    text = volume.fillna("").astype("string").str.strip()
    parts = text.str.extract(_KOEFISIEN)
    number_text = parts[0].where(parts[0].notna(), text)
    unit = parts[1].astype("string").str.strip()
    satuan = satuan.fillna("").astype("string").str.strip()
    satuan = satuan.where(satuan != "", unit.fillna(""))
    parsed, bad = parse_numbers(number_text)
    return parsed, satuan.replace("", pd.NA), bad | ((text != "") & parts[0].isna())


@on_distinct
def extract_coordinates(lokasi: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Take 'lat, lng' out of an address text; returns lokasi without them, latitude, longitude."""
    text = lokasi.fillna("").astype("string")
    found = text.str.extract(_COORDINATES)
    cleaned = text.str.replace(_COORDINATES, "", regex=True).str.strip(" ,;").str.replace(r"\s{2,}", " ", regex=True)
    return (
        cleaned.replace("", pd.NA),
        pd.to_numeric(found["lat"]).astype("Float64"),
        pd.to_numeric(found["lon"]).astype("Float64"),
    )


@on_distinct
def parse_status(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Status words ('Disetujui', 'Tidak Diakomodir', ...) to diterima / ditolak / diusulkan."""
    key = values.fillna("").astype("string").map(normalise_header)
    status = key.map(STATUS_INDEX).astype("string")
    return status, status.isna()


@on_distinct
def code_at_start(values: pd.Series) -> pd.Series:
    """'1.03.10.2.01.0024 Rehabilitasi Jalan' -> '1.03.10.2.01.0024'; '1.03 URUSAN ...' -> '1.03'."""
    return values.fillna("").astype("string").str.extract(_CODE_AT_START)[0].astype("string")


@on_distinct
def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = values.fillna("").astype("string").str.strip()
    iso = pd.to_datetime(text.where(text.str.match(r"^\d{4}-\d{2}-\d{2}")), errors="coerce", format="ISO8601")
    local = pd.to_datetime(text.where(~text.str.match(r"^\d{4}-")), errors="coerce", dayfirst=True, format="mixed")
    parsed = iso.fillna(local)
    return parsed, (text != "") & parsed.isna()


def parse_integers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    parsed, bad = parse_numbers(values)
    fractional = parsed.notna() & (parsed != parsed.round())
    return parsed.where(~fractional).round().astype("Int64"), bad | fractional
