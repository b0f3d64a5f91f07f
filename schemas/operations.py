"""Operational tables: runs, the load log of every source file, and quarantined rows."""

from schemas.contract import Column, Table
from schemas.usulan import LEVELS

_SLICE = (
    Column("tahun", "int16", "Tahun anggaran of the slice", required=True),
    Column("level", "code", "Forum level of the slice", required=True, values=LEVELS, max_length=16),
    Column("kode_pemda", "code", "Pemda of the slice", required=True, max_length=5),
    Column("source", "code", "Source channel of the slice", required=True, max_length=40),
)

RUN = Table(
    name="etl_run",
    description="One row per pipeline run with its totals",
    primary_key=("run_id",),
    columns=(
        Column("run_id", "code", "Run id", max_length=40),
        Column("tahun", "int16", "Tahun anggaran", required=True),
        Column("started_at", "timestamp", "Start (UTC)", required=True),
        Column("finished_at", "timestamp", "End (UTC)"),
        Column("status", "code", "running, success or failed", required=True, max_length=16),
        Column("rows_read", "int64", "Rows read from every source"),
        Column("rows_loaded", "int64", "Rows loaded into the facts"),
        Column("rows_quarantined", "int64", "Rows set aside with a reason"),
        Column("parameters", "text", "Run parameters (JSON)"),
    ),
)

LOAD_LOG = Table(
    name="etl_load_log",
    description="One row per source file read in a run: fingerprint and counts (read = loaded + quarantined)",
    primary_key=("run_id", "source_file"),
    indexes=(("tahun", "level", "kode_pemda", "source"),),
    columns=(
        Column("run_id", "code", "Run id", max_length=40),
        *_SLICE,
        Column("source_file", "text", "File or endpoint", max_length=1000),
        Column("fingerprint", "code", "sha256 of the file", max_length=64),
        Column("signature", "code", "sha256 of the slice: its files' fingerprints, the pipeline version and the "
               "reference data it was mapped with; an unchanged signature lets a re-run skip the slice",
               max_length=64),
        Column("rows_read", "int64", "Data rows read", required=True),
        Column("rows_loaded", "int64", "Rows loaded", required=True),
        Column("rows_quarantined", "int64", "Rows quarantined", required=True),
        Column("status", "code", "loaded, unchanged (skipped: same signature), failed, held_back (another "
               "file of the slice failed) or stopped (error share over the threshold)", required=True, max_length=16),
        Column("message", "text", "What went wrong, naming the file"),
        Column("loaded_at", "timestamp", "When (UTC)", required=True),
    ),
)

QUARANTINE = Table(
    name="quarantine",
    description="Rows kept out of the facts (severity error) and warnings on loaded rows (severity warning), "
                "each with the rule, field, value, a readable reason and the row's provenance",
    primary_key=("run_id", "tahun", "level", "kode_pemda", "source", "quarantine_id"),
    partition_by=("tahun", "level", "kode_pemda"),
    indexes=(("tahun", "level", "kode_pemda", "source"),),
    columns=(
        Column("run_id", "code", "Run id", max_length=40),
        Column("quarantine_id", "int64", "Sequence within the slice"),
        *_SLICE,
        Column("source_file", "text", "File or endpoint of the row", required=True),
        Column("source_sheet", "text", "Sheet or page of the row"),
        Column("source_row", "int32", "Row number in the file (1-based) or record in the page", required=True),
        Column("id_usulan", "code", "id_usulan when the row has one", max_length=64),
        Column("rule", "code", "Rule that failed", required=True, max_length=60),
        Column("field", "code", "Field that failed", max_length=60),
        Column("value", "text", "Offending value as read"),
        Column("severity", "code", "error (kept out) or warning", required=True, values=("error", "warning"),
               max_length=8),
        Column("reason_id", "text", "Reason in Indonesian", required=True),
        Column("reason_en", "text", "Reason in English", required=True),
        Column("raw", "text", "The row as read (JSON)"),
    ),
)

QUALITY_SUMMARY = Table(
    name="quality_summary",
    description="Per run, slice, kecamatan and rule: rows checked and rows failing, to follow quality over time",
    primary_key=("run_id", "tahun", "level", "kode_pemda", "source", "summary_id"),
    indexes=(("tahun", "level", "rule"),),
    columns=(
        Column("run_id", "code", "Run id", max_length=40),
        *_SLICE,
        Column("summary_id", "int32", "Sequence within the slice"),
        Column("kode_kecamatan", "code", "Kecamatan of the rows (empty: not resolved)", max_length=8),
        Column("rule", "code", "Rule checked", required=True, max_length=60),
        Column("severity", "code", "error or warning", required=True, values=("error", "warning"), max_length=8),
        Column("checked", "int64", "Rows the rule was applied to", required=True),
        Column("failed", "int64", "Rows failing the rule", required=True),
    ),
)

OPERATION_TABLES = (RUN, LOAD_LOG, QUARANTINE, QUALITY_SUMMARY)
