"""Publish a slice: the lake (usulan and quarantine datasets) and the warehouse, replaced whole."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from schemas import LOAD_LOG, QUALITY_SUMMARY, QUARANTINE, USULAN
from tasks.batch import SliceBatch
from tasks.quality import summary_frame
from tasks.quarantine import quarantine_records
from warehouse import lake
from warehouse.loaders import replace_slice, upsert_rows, utcnow


def load_log_frame(batch: SliceBatch) -> pd.DataFrame:
    now = utcnow()
    return pd.DataFrame([{
        "run_id": batch.run_id, **batch.key.as_dict(), "source_file": f.path, "fingerprint": f.fingerprint,
        "signature": batch.signature,
        "rows_read": f.rows_read, "rows_loaded": f.rows_loaded, "rows_quarantined": f.rows_quarantined,
        "status": "failed" if f.error else "held_back" if batch.failed else "stopped" if batch.stopped else "loaded",
        "message": f.error or batch.stopped,
        "loaded_at": now,
    } for f in batch.files])


def publish_unchanged(previous: pd.DataFrame, run_id: str, engine: sa.Engine) -> pd.DataFrame:
    """Record that a slice was not read again: its previous load-log rows under this run."""
    log = previous.assign(run_id=run_id, status="unchanged", loaded_at=utcnow(), message=None)
    upsert_rows(engine, LOAD_LOG, log)
    return log


def publish(batch: SliceBatch, rows: pd.DataFrame, lake_root: Path, engine: sa.Engine) -> pd.DataFrame:
    """Write lake and warehouse for the slice, all of it or nothing; returns the load log rows.

    A slice with an unreadable file, or stopped by its error share, is not published: the previous
    state stays. Its quality summary is still recorded so people can see why."""
    key = batch.key.as_dict()
    summary = (QUALITY_SUMMARY, {"run_id": batch.run_id, **key}, summary_frame(batch))
    if batch.failed or batch.stopped:
        log = load_log_frame(batch)
        replace_slice(engine, [summary])
        upsert_rows(engine, LOAD_LOG, log)
        return log
    batch.count_files(rows)
    quarantine = quarantine_records(batch.issues, batch.staged, batch.raw, key, batch.run_id)
    lake.write_slice(lake_root, USULAN, key, rows)
    lake.write_slice(lake_root, QUARANTINE, key, quarantine)
    log = load_log_frame(batch)
    replace_slice(engine, [(USULAN, key, rows), (QUARANTINE, key, quarantine), summary])
    upsert_rows(engine, LOAD_LOG, log)
    return log
