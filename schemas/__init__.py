"""The single source of truth for every table of the pipeline."""

from schemas.contract import Column, Table
from schemas.operations import LOAD_LOG, OPERATION_TABLES, QUALITY_SUMMARY, QUARANTINE, RUN
from schemas.reference import (KAMUS, NOMENKLATUR, OPD, OPD_STANDAR, PAGU_KEWILAYAHAN, REFERENCE_TABLES,
                               WILAYAH)
from schemas.usulan import LEVELS, MAPPING_VERIFIED, STATUSES, STREAMS, USULAN

ALL_TABLES: tuple[Table, ...] = (USULAN, MAPPING_VERIFIED, *REFERENCE_TABLES, *OPERATION_TABLES)

__all__ = [
    "ALL_TABLES", "Column", "KAMUS", "LEVELS", "LOAD_LOG", "MAPPING_VERIFIED", "NOMENKLATUR", "OPD", "OPD_STANDAR", "PAGU_KEWILAYAHAN",
    "QUALITY_SUMMARY", "QUARANTINE", "RUN", "STATUSES", "STREAMS", "Table", "USULAN", "WILAYAH",
]
