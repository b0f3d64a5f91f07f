"""Publish a slice: the lake (usulan and quarantine datasets) and the warehouse, replaced whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from schemas import LOAD_LOG, QUARANTINE, USULAN
from tasks.batch import SliceBatch
from tasks.quarantine import quarantine_records
from warehouse import lake
from warehouse.loaders import replace_slice, upsert_rows, utcnow


def load_log_frame(batch: SliceBatch) -> pd.DataFrame:
    now = utcnow()
    return pd.DataFrame([{
        "run_id": batch.run_id, **batch.key.as_dict(), "source_file": f.path, "fingerprint": f.fingerprint,
        "signature": batch.signature,
        "rows_read": f.rows_read, "rows_loaded": f.rows_loaded, "rows_quarantined": f.rows_quarantined,
        "status": "failed" if f.error else ("held_back" if batch.failed else "loaded"), "message": f.error,
        "loaded_at": now,
    } for f in batch.files])


def publish_unchanged(previous: pd.DataFrame, run_id: str, engine: sa.Engine) -> pd.DataFrame:
    """Record that a slice was not read again: its previous load-log rows under this run."""
    log = previous.assign(run_id=run_id, status="unchanged", loaded_at=utcnow(), message=None)
    upsert_rows(engine, LOAD_LOG, log)
    return log


def publish(batch: SliceBatch, mapped: pd.DataFrame, lake_root: Path, engine: sa.Engine) -> pd.DataFrame:
    """Write lake and warehouse for the slice unless a file of it failed; returns the load log rows."""
    if batch.failed:  # keep the previous state of the slice rather than publish it without a file
        log = load_log_frame(batch)
        upsert_rows(engine, LOAD_LOG, log)
        return log
    batch.count_files(mapped)
    key = batch.key.as_dict()
    quarantine = quarantine_records(batch.issues, batch.staged, batch.raw, key, batch.run_id)
    lake.write_slice(lake_root, USULAN, key, mapped)
    lake.write_slice(lake_root, QUARANTINE, key, quarantine)
    log = load_log_frame(batch)
    replace_slice(engine, [(USULAN, key, mapped), (QUARANTINE, key, quarantine)])
    upsert_rows(engine, LOAD_LOG, log)
    return log
