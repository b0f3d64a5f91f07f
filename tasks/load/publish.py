"""Publish a level: every slice of it that this run read is replaced whole, in the lake and in the warehouse.

`prepare` decides, per file and slice, what is published and counts every row (read = loaded + quarantined
+ failed, per file). A file that cannot be read does not hold back the other files of its slice: its rows
are counted as failed, and the rows of its last good load are kept (as are those of a file that now holds
only its header, unless the run allows it to empty the slice). A slice whose rows break error rules beyond
the threshold is stopped and keeps its previous state; with `strict`, so is a slice with a file that failed.

`stage_lake` writes the level's slices into the run's lake staging folder (one partitioned write per
dataset); `load_warehouse` replaces the slices in one transaction (DELETE of the slices, then COPY on
PostgreSQL); the staged slices are swapped into the lake after that transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from schemas import LOAD_LOG, QUALITY_SUMMARY, QUARANTINE, SLICE_KEY, USULAN
from tasks.extract.discover import FILE_ID
from tasks.extract.read import Extraction
from tasks.validate.issues import issues_frame, quarantine_frame
from tasks.validate.level import SLICE, Ruled
from tasks.validate.quality import summary_frame
from warehouse import bulk, lake
from warehouse.bulk import delete_slices, utcnow
from warehouse.db import is_postgres


@dataclass(frozen=True)
class Publication:
    """Everything one level writes: rows, quarantine and quality summary of its slices, and the load log."""

    tahun: int
    level: str
    run_id: str
    slices: pd.DataFrame  # SLICE columns of the slices replaced this run
    usulan: pd.DataFrame  # rows of those slices after the run (new rows and rows kept from a previous load)
    quarantine: pd.DataFrame
    summary: pd.DataFrame  # quality summary of every slice the run read (published or not)
    log: pd.DataFrame  # one load-log row per file read

    def slice_keys(self) -> list[dict]:
        return self.slices[list(SLICE_KEY)].to_dict("records")


def _file_statuses(
    files: pd.DataFrame, extraction: Extraction, ruled: Ruled, previous: pd.DataFrame, strict: bool, allow_empty: bool
) -> pd.DataFrame:
    """Per file: rows read and failed, load_status and message."""
    out = files.merge(extraction.files, on=FILE_ID, how="left")
    out["rows_read"] = out["rows_read"].fillna(0).astype("int64")
    out["rows_failed"] = out["rows_failed"].fillna(0).astype("int64")
    before = previous.set_index("source_file")["rows_loaded"] if len(previous) else pd.Series(dtype="int64")
    had_rows = out["source_file"].map(before).fillna(0) > 0
    failed = out["message"].notna()
    emptied = ~failed & (out["rows_read"] == 0) & had_rows & (not allow_empty)
    out["load_status"] = np.where(failed, "failed", np.where(emptied, "held_back", "loaded"))
    kept = failed & had_rows
    out.loc[kept, "message"] = out.loc[kept, "message"] + "; its last good load is kept"
    out.loc[emptied, "message"] = (
        out.loc[emptied, "source_file"] + ": the file holds no data rows (only its header); its last good load is "
        "kept (run with --allow-empty to empty it)"
    )
    for slice_key, why in ruled.stopped.items():
        mine = (out[SLICE] == pd.Series(slice_key, index=SLICE)).all(axis=1) & ~failed
        out.loc[mine, "load_status"] = "stopped"
        out.loc[mine, "message"] = why
    if strict:
        troubled = out.groupby(SLICE, sort=False)["load_status"].transform(lambda s: (s != "loaded").any())
        held = troubled & (out["load_status"] == "loaded")
        out.loc[held, "load_status"] = "held_back"
        out.loc[held, "message"] = "held back: another file of the slice could not be published (--strict)"
    return out


def _counted(out: pd.DataFrame, ruled: Ruled) -> pd.DataFrame:
    """Rows loaded and quarantined per file (none for a file whose rows reach nothing this run)."""
    rows, errors = ruled.checked.rows, ruled.checked.errors
    loaded = ruled.publishable[FILE_ID].value_counts()
    quarantined = rows.loc[errors, FILE_ID].value_counts()
    out = out.assign(
        rows_loaded=out[FILE_ID].map(loaded).fillna(0).astype("int64"),
        rows_quarantined=out[FILE_ID].map(quarantined).fillna(0).astype("int64"),
    )
    out.loc[out["load_status"] != "loaded", ["rows_loaded", "rows_quarantined"]] = 0
    return out


def _key_clashes(ruled: Ruled, new_rows: pd.DataFrame, kept: pd.DataFrame) -> Ruled:
    """The last check before a load: a new row whose key a row kept from a previous load already holds is
    quarantined (duplicate_key, naming where the kept row came from), never left to the database to refuse."""
    if new_rows.empty or kept.empty:
        return ruled
    key = list(USULAN.primary_key)
    held = kept.drop_duplicates(key).set_index(key)["source_file"]
    at = pd.MultiIndex.from_frame(new_rows[key].astype(object))
    where = pd.Series(held.reindex(at).to_numpy(), index=new_rows.index)
    clash = where.notna()
    if not clash.any():
        return ruled
    rows = new_rows.index[clash]
    issues = issues_frame(rows, "duplicate_key", "id_usulan", new_rows.loc[rows, "id_usulan"])
    checked = ruled.checked.add(issues, (), np.zeros(len(ruled.checked.rows), dtype=bool))
    return replace(ruled, checked=checked, publishable=ruled.publishable.drop(index=rows))


def _kept_rows(lake_root: Path, table, slices: pd.DataFrame, files: pd.DataFrame) -> pd.DataFrame:
    """The rows the lake holds for `files` (source_file of published slices whose new version lacks them)."""
    if files.empty:
        return table.empty_frame()

    def values(column: pd.Series) -> pa.Array:
        return pa.array(column.astype(str).unique().tolist(), type=pa.string())

    tahun, level = slices["tahun"].iloc[0], slices["level"].iloc[0]
    condition = pc.field("source_file").isin(values(files["source_file"]))
    condition &= (pc.field("tahun") == int(tahun)) & (pc.field("level") == str(level))
    condition &= pc.field("kode_pemda").isin(values(slices["kode_pemda"]))
    return table.conform(lake.read_dataset(lake_root, table, condition, tahun, str(level)).to_pandas())


def prepare(
    ruled: Ruled,
    extraction: Extraction,
    files: pd.DataFrame,
    previous: pd.DataFrame,
    lake_root: Path,
    run_id: str,
    strict: bool = False,
    allow_empty: bool = False,
) -> Publication:
    """What the level writes (see the module doc). `files`: the level's files read this run (files frame with
    fingerprint and signature); `previous`: the last good load (load-log row with load_status loaded) of each
    of their files."""
    tahun, level = int(files["tahun"].iloc[0]), str(files["level"].iloc[0])
    statuses = _file_statuses(files, extraction, ruled, previous, strict, allow_empty)
    publish = statuses.groupby(SLICE, sort=False)["load_status"].agg(lambda s: (s == "loaded").any())
    slices = publish[publish].reset_index()[SLICE]
    in_published = statuses.set_index(SLICE).index.isin(pd.MultiIndex.from_frame(slices))
    loaded_ids = set(statuses.loc[in_published & (statuses["load_status"] == "loaded"), FILE_ID])
    kept_files = statuses[in_published & (statuses["load_status"] != "loaded")]
    kept_usulan = _kept_rows(lake_root, USULAN, slices, kept_files)

    new_rows = ruled.publishable[ruled.publishable[FILE_ID].isin(loaded_ids)]
    ruled = _key_clashes(ruled, new_rows, kept_usulan)
    new_rows = ruled.publishable[ruled.publishable[FILE_ID].isin(loaded_ids)]
    outcome = _counted(statuses, ruled)
    for r in outcome[outcome["load_status"] == "loaded"].itertuples(index=False):
        if r.rows_read != r.rows_loaded + r.rows_quarantined + r.rows_failed:
            raise AssertionError(
                f"{r.source_file}: read {r.rows_read} != loaded {r.rows_loaded} + quarantined "
                f"{r.rows_quarantined} + failed {r.rows_failed}"
            )
    usulan = pd.concat([USULAN.conform(new_rows.assign(run_id=run_id)), kept_usulan], ignore_index=True)

    checked = ruled.checked
    rows = checked.rows
    mine = rows[FILE_ID].isin(loaded_ids).to_numpy()
    issues = checked.issues[mine[checked.issues["row"].to_numpy(dtype=np.int64)]]
    raw = extraction.raw_records(pd.Index(issues["row"].to_numpy()))
    quarantine = pd.concat(
        [
            quarantine_frame(issues, rows, raw).assign(run_id=run_id),
            _kept_rows(lake_root, QUARANTINE, slices, kept_files),
        ],
        ignore_index=True,
    )
    quarantine["quarantine_id"] = quarantine.groupby(list(SLICE_KEY), sort=False).cumcount() + 1

    summary = summary_frame(rows, checked.checked, checked.issues, checked.config.severity_of).assign(run_id=run_id)
    log = outcome.assign(run_id=run_id, loaded_at=utcnow())[LOAD_LOG.column_names]
    return Publication(
        tahun,
        level,
        run_id,
        slices,
        usulan,
        QUARANTINE.conform(quarantine),
        QUALITY_SUMMARY.conform(summary),
        LOAD_LOG.conform(log),
    )


def stage_lake(publication: Publication, lake_root: Path) -> lake.Staged:
    """The level's published slices written to the run's lake staging folder (swap in after the load)."""
    slices = publication.slice_keys()
    return lake.stage_slices(
        lake_root,
        publication.run_id,
        [(USULAN, publication.usulan, slices), (QUARANTINE, publication.quarantine, slices)],
    )


def load_warehouse(publication: Publication, engine: sa.Engine) -> None:
    """Replace the level's published slices (rows and quarantine) and add its quality summary and load log,
    in ONE transaction: readers see every slice old or new, never a mix."""
    with engine.begin() as connection:
        if is_postgres(engine):
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
        if len(publication.slices):
            for table in (USULAN, QUARANTINE):
                delete_slices(connection, table, publication.tahun, publication.level, publication.slices)
            bulk.append(connection, USULAN, publication.usulan)
            bulk.append(connection, QUARANTINE, publication.quarantine)
        bulk.append(connection, QUALITY_SUMMARY, publication.summary)
        bulk.append(connection, LOAD_LOG, publication.log)
