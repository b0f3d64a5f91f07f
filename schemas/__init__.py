"""The single source of truth for every table of the pipeline: fields once (`fields.py`), tables from them."""

from schemas.contract import Column, Table
from schemas.fields import FIELDS, LEVELS, SLICE_KEY, STATUSES, STREAMS
from schemas.operations import LOAD_LOG, OPERATION_TABLES, QUALITY_SUMMARY, QUARANTINE, RUN
from schemas.reference import (
    KAMUS,
    NOMENKLATUR,
    OPD,
    OPD_STANDAR,
    PAGU_KEWILAYAHAN,
    PAGU_OPD,
    REFERENCE_TABLES,
    RENJA,
    WILAYAH,
)
from schemas.usulan import MAPPING_VERIFIED, USULAN

ALL_TABLES: tuple[Table, ...] = (USULAN, MAPPING_VERIFIED, *REFERENCE_TABLES, *OPERATION_TABLES)

__all__ = [
    "ALL_TABLES",
    "FIELDS",
    "KAMUS",
    "LEVELS",
    "LOAD_LOG",
    "MAPPING_VERIFIED",
    "NOMENKLATUR",
    "OPD",
    "OPD_STANDAR",
    "OPERATION_TABLES",
    "PAGU_KEWILAYAHAN",
    "PAGU_OPD",
    "QUALITY_SUMMARY",
    "QUARANTINE",
    "REFERENCE_TABLES",
    "RENJA",
    "RUN",
    "SLICE_KEY",
    "STATUSES",
    "STREAMS",
    "USULAN",
    "WILAYAH",
    "Column",
    "Table",
]
