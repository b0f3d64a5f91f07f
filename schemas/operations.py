"""Operational tables: runs, the load log of every source file, quarantined rows and the quality summary."""

from schemas.contract import Table
from schemas.fields import SLICE_KEY, columns

RUN = Table(
    name="etl_run",
    description="One row per pipeline run with its totals",
    primary_key=("run_id",),
    columns=columns(
        "run_id",
        "tahun",
        "started_at",
        "finished_at",
        "run_status",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "rows_failed",
        "parameters",
        required=("tahun", "started_at", "run_status"),
    ),
)

LOAD_LOG = Table(
    name="etl_load_log",
    description="One row per source file read in a run: fingerprint and counts (read = loaded + quarantined + failed)",
    primary_key=("run_id", "source_file"),
    indexes=(SLICE_KEY,),
    columns=columns(
        "run_id",
        *SLICE_KEY,
        "source_file",
        "fingerprint",
        "signature",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "rows_failed",
        "load_status",
        "message",
        "loaded_at",
        required=(
            *SLICE_KEY,
            "rows_read",
            "rows_loaded",
            "rows_quarantined",
            "rows_failed",
            "load_status",
            "loaded_at",
        ),
        source_file={"max_length": 1000},
    ),
)

QUARANTINE = Table(
    name="quarantine",
    description="Rows kept out of the facts (severity error) and warnings on loaded rows (severity warning), "
    "each with the rule, field, value, a readable reason and the row's provenance",
    primary_key=("run_id", *SLICE_KEY, "quarantine_id"),
    partition_by=("tahun", "level", "kode_pemda"),
    indexes=(SLICE_KEY,),
    columns=columns(
        "run_id",
        "quarantine_id",
        *SLICE_KEY,
        "source_file",
        "source_sheet",
        "source_row",
        "id_usulan",
        "rule",
        "field",
        "value",
        "severity",
        "reason_id",
        "reason_en",
        "raw",
        required=(*SLICE_KEY, "source_file", "source_row", "rule", "severity", "reason_id", "reason_en"),
    ),
)

QUALITY_SUMMARY = Table(
    name="quality_summary",
    description="Per run, slice, kecamatan and rule: rows checked and rows failing, to follow quality over time",
    primary_key=("run_id", *SLICE_KEY, "summary_id"),
    indexes=(("tahun", "level", "rule"),),
    columns=columns(
        "run_id",
        *SLICE_KEY,
        "summary_id",
        "kode_kecamatan",
        "rule",
        "severity",
        "checked",
        "failed",
        required=(*SLICE_KEY, "rule", "severity", "checked", "failed"),
    ),
)

OPERATION_TABLES = (RUN, LOAD_LOG, QUARANTINE, QUALITY_SUMMARY)
