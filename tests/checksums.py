"""Row counts and a content checksum per warehouse table, to prove a run leaves the same warehouse.

Columns that name the run or the moment of loading (run id, timestamps, sequence numbers within a slice, the
slice signature, which hashes the pipeline's own code) are left out; every other value is written in one
canonical text form, the rows are sorted, and the whole is hashed.

    python -m tests.checksums sqlite:///data/warehouse.sqlite   # prints the JSON
"""

from __future__ import annotations

import hashlib
import json
import sys
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa

from warehouse.db import scoped_engine

VOLATILE = {
    "run_id",
    "loaded_at",
    "started_at",
    "finished_at",
    "verified_at",
    "quarantine_id",
    "summary_id",
    "signature",
    "parameters",
}
# What changed on purpose since the checksums in tests/data were taken (before the set-based engine), so that a
# warehouse of today is compared with that one under its names and values: renamed columns, renamed mapping
# methods, and columns added since (compared only where the earlier warehouse had an equivalent).
RENAMED = {"run_status": "status", "load_status": "status", "jenis_usulan": "jenis"}
_METHODS = {"sumber": "source", "klasifikasi": "classifier", "koreksi_planner": "review"}
OLD_VALUES = {"mapping_method": _METHODS, "mapping_version": _METHODS}
ADDED = {
    "usulan": {
        "kode_opd_sumber",
        "alasan_review",
        "saran_bidang_urusan",
        "saran_sub_kegiatan",
        "saran_opd",
        "kode_bidang_alternatif",
        "opd_alternatif",
        "kewenangan",
    },
    "mapping_verified": {"level"},
    "etl_load_log": {"rows_failed"},
    "ref_opd": {"kode_kecamatan"},
}
ADDED_RULES = {  # rules added since: their quality_summary rows are new
    "duplicate_source",
    "malformed_record",
    "encoding_fallback",
    "tahun_mismatch",
}
TABLES = ("usulan", "quarantine", "quality_summary", "etl_load_log", "mapping_verified", "ref_opd", "ref_kamus")


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (float, Decimal)):
        return f"{float(value):.6f}".rstrip("0").rstrip(".")
    return str(value)


def table_checksum(connection: sa.Connection, name: str) -> dict:
    frame = pd.read_sql(sa.text(f'SELECT * FROM "{name}"'), connection)
    frame = frame.drop(columns=[c for c in ADDED.get(name, ()) if c in frame.columns]).rename(columns=RENAMED)
    if "rule" in frame.columns:
        frame = frame[~frame["rule"].isin(ADDED_RULES)]
    for column, old in OLD_VALUES.items():
        if column in frame.columns:
            frame[column] = frame[column].replace(old)
    frame = frame[sorted(c for c in frame.columns if c not in VOLATILE)]
    lines = sorted("\x1f".join(_text(v) for v in row) for row in frame.itertuples(index=False, name=None))
    digest = hashlib.sha256("\x1e".join(list(frame.columns) + lines).encode()).hexdigest()
    return {"rows": len(frame), "sha256": digest}


def warehouse_checksums(url: str, tables: tuple[str, ...] = TABLES) -> dict[str, dict]:
    with scoped_engine(url) as engine, engine.connect() as connection:
        return {name: table_checksum(connection, name) for name in tables}


if __name__ == "__main__":
    print(json.dumps(warehouse_checksums(sys.argv[1]), indent=1))
