"""Publish a slice: the lake (usulan and quarantine datasets) and the warehouse, replaced whole."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from schemas import LOAD_LOG, QUALITY_SUMMARY, QUARANTINE, USULAN
from tasks.batch import SliceBatch
from tasks.validate.issues import quarantine_records
from tasks.validate.quality import summary_frame
from warehouse import lake
from warehouse.bulk import replace_slice, upsert_rows, utcnow


def load_log_frame(batch: SliceBatch) -> pd.DataFrame:
    now = utcnow()
    return pd.DataFrame(
        [
            {
                "run_id": batch.run_id,
                **batch.key.as_dict(),
                "source_file": f.path,
                "fingerprint": f.fingerprint,
                "signature": batch.signature,
                "rows_read": f.rows_read,
                "rows_loaded": f.rows_loaded,
                "rows_quarantined": f.rows_quarantined,
                "rows_failed": 0,
                "load_status": "failed"
                if f.error
                else "held_back"
                if batch.failed
                else "stopped"
                if batch.stopped
                else "loaded",
                "message": f.error or batch.stopped,
                "loaded_at": now,
            }
            for f in batch.files
        ]
    )


def publish_unchanged(previous: pd.DataFrame, run_id: str, engine: sa.Engine) -> pd.DataFrame:
    """Record that a slice was not read again: its previous load-log rows under this run."""
    log = previous.assign(run_id=run_id, load_status="unchanged", loaded_at=utcnow(), message=None)
    upsert_rows(engine, LOAD_LOG, log)
    return log


@dataclass
class Publication:
    """Everything one slice writes: rows, quarantine and quality summary, and its load-log rows."""

    key: dict
    rows: pd.DataFrame | None  # None: the slice is held back (a file failed, or it was stopped)
    quarantine: pd.DataFrame | None
    summary: pd.DataFrame
    log: pd.DataFrame
    run_id: str

    @property
    def held_back(self) -> bool:
        return self.rows is None


def prepare(batch: SliceBatch, rows: pd.DataFrame) -> Publication:
    """Count every file (read = loaded + quarantined) and build what the slice will write."""
    key = batch.key.as_dict()
    summary = summary_frame(batch)
    if batch.failed or batch.stopped:  # keep the previous state; still record why
        return Publication(key, None, None, summary, load_log_frame(batch), batch.run_id)
    batch.count_files(rows)
    quarantine = quarantine_records(batch.issues, batch.staged, batch.raw, key, batch.run_id)
    return Publication(key, rows, quarantine, summary, load_log_frame(batch), batch.run_id)


def write_lake(publication: Publication, lake_root: Path) -> list[lake.Swap]:
    """Swap the slice into the lake; the previous slice stays aside until commit (or undo)."""
    if publication.held_back:
        return []
    return [
        lake.swap_slice(lake_root, USULAN, publication.key, publication.rows),
        lake.swap_slice(lake_root, QUARANTINE, publication.key, publication.quarantine),
    ]


def load_warehouse(publication: Publication, engine: sa.Engine) -> pd.DataFrame:
    """Replace the slice's rows, quarantine and quality summary in one transaction, then log the load."""
    summary = (QUALITY_SUMMARY, {"run_id": publication.run_id, **publication.key}, publication.summary)
    if publication.held_back:
        replace_slice(engine, [summary])
    else:
        replace_slice(
            engine,
            [
                (USULAN, publication.key, publication.rows),
                (QUARANTINE, publication.key, publication.quarantine),
                summary,
            ],
        )
    upsert_rows(engine, LOAD_LOG, publication.log)
    return publication.log


def publish(batch: SliceBatch, rows: pd.DataFrame, lake_root: Path, engine: sa.Engine) -> pd.DataFrame:
    """Lake and warehouse for the slice, all of it or nothing (outside Prefect: tests, scripts)."""
    publication = prepare(batch, rows)
    swaps = write_lake(publication, lake_root)
    try:
        log = load_warehouse(publication, engine)
    except Exception:
        for swap in swaps:
            swap.undo()
        raise
    for swap in swaps:
        swap.commit()
    return log
