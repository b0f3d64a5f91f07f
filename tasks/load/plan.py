"""Which slices a run reads, and which it skips because nothing changed since their last publication.

One query per run brings, for the run's tahun, the load-log rows of each slice's latest run and each file's
last good load. A slice is unchanged when its latest run published (or skipped) every file with the same
signature, and the lake holds the version the warehouse holds (its directory names the run that wrote it);
otherwise, or with `force`, it is read again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from reference import store
from schemas import LOAD_LOG, MAPPING_VERIFIED, SLICE_KEY, USULAN
from tasks.extract.fingerprint import fingerprint_files, slice_signatures
from warehouse import lake
from warehouse.bulk import utcnow

_ON = " AND ".join(f"l.{k} = m.{k}" for k in SLICE_KEY)
_KEY = ", ".join(SLICE_KEY)
HISTORY_SQL = f"""
SELECT 'latest' AS kind, l.* FROM etl_load_log AS l
JOIN (SELECT {_KEY}, MAX(loaded_at) AS at FROM etl_load_log WHERE tahun = :tahun GROUP BY {_KEY}) AS m
  ON {_ON} AND l.loaded_at = m.at
UNION ALL
SELECT 'good' AS kind, l.* FROM etl_load_log AS l
JOIN (SELECT source_file, MAX(loaded_at) AS at FROM etl_load_log WHERE tahun = :tahun AND load_status = 'loaded'
      GROUP BY source_file) AS m
  ON l.source_file = m.source_file AND l.loaded_at = m.at AND l.load_status = 'loaded'
"""


def load_history(engine: sa.Engine, tahun: int) -> pd.DataFrame:
    """Load-log rows of the tahun: each slice's latest run (`kind` latest) and each file's last good load
    (`kind` good). One query."""
    with engine.connect() as connection:
        history = pd.read_sql(sa.text(HISTORY_SQL), connection, params={"tahun": int(tahun)})
    return history.astype({"tahun": "int64"}) if len(history) else history


def unchanged_slices(files: pd.DataFrame, history: pd.DataFrame, lake_runs: pd.DataFrame) -> pd.Series:
    """For each file of `files` (with `signature`): whether its slice is unchanged since its last publication."""
    if files.empty or history.empty:
        return pd.Series(False, index=files.index)
    latest = history[history["kind"] == "latest"]
    good = history[history["kind"] == "good"]
    current = files.groupby(list(SLICE_KEY), sort=False).agg(
        signature=("signature", "first"), names=("source_file", frozenset)
    )
    before = latest.groupby(list(SLICE_KEY), sort=False).agg(
        signatures=("signature", frozenset),
        names=("source_file", frozenset),
        published=("load_status", lambda s: set(s) <= {"loaded", "unchanged"}),
    )
    last_good = good.sort_values("loaded_at").groupby(list(SLICE_KEY), sort=False)["run_id"].last()
    in_lake = lake_runs.set_index(list(SLICE_KEY))["run_id"] if len(lake_runs) else pd.Series(dtype="string")
    both = current.merge(before, left_index=True, right_index=True, how="left", suffixes=("", "_before"))
    same = (
        both["published"].fillna(False).astype(bool)
        & (both["signatures"] == both["signature"].map(lambda s: frozenset([s])))
        & (both["names"] == both["names_before"])
    )
    lake_same = last_good.reindex(both.index) == in_lake.reindex(both.index)
    unchanged = same & lake_same.fillna(False).astype(bool)
    keys = pd.MultiIndex.from_frame(files[list(SLICE_KEY)])
    return pd.Series(unchanged.reindex(keys).fillna(False).to_numpy(dtype=bool), index=files.index)


def unchanged_log(files: pd.DataFrame, history: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """Load-log rows of the unchanged slices of `files`: their latest rows, under this run, status unchanged."""
    latest = history[history["kind"] == "latest"]
    keys = pd.MultiIndex.from_frame(files[list(SLICE_KEY)].drop_duplicates())
    rows = latest[pd.MultiIndex.from_frame(latest[list(SLICE_KEY)]).isin(keys)]
    log = rows.assign(run_id=run_id, load_status="unchanged", loaded_at=utcnow(), message=None)
    return LOAD_LOG.conform(log)


def plan_files(
    files: pd.DataFrame, engine: sa.Engine, lake_root: Path, tahun: int, corrections: pd.DataFrame, force: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fingerprints and signatures of the files (a pemda's verified corrections and its reference lists in
    force for the tahun are part of its signatures: a new import maps again), which slices are unchanged, and
    the load-log history of the tahun (one query). Returns (files with fingerprint, signature and unchanged;
    history)."""
    by_pemda = dict(tuple(corrections.groupby("kode_pemda")))
    extra = {
        kode: (verified_fingerprint(by_pemda[kode]) if kode in by_pemda else "") + store.fingerprint(kode, tahun)
        for kode in files["kode_pemda"].unique()
    }
    files = files.assign(fingerprint=fingerprint_files(files))
    files = files.assign(signature=slice_signatures(files, pd.Series(extra, dtype="string")))
    history = load_history(engine, tahun)
    unchanged = unchanged_slices(files, history, lake.slice_runs(lake_root, USULAN, tahun)) & (not force)
    return files.assign(unchanged=unchanged), history


def verified_fingerprint(verified: pd.DataFrame) -> str:
    """Changes whenever a correction is added or changed (it retrains the model and re-maps)."""
    key = verified.drop(columns=["verified_at", "source_file"]).sort_values(list(MAPPING_VERIFIED.primary_key))
    return hashlib.sha256(key.to_csv(index=False).encode()).hexdigest()


def good_loads(history: pd.DataFrame) -> pd.DataFrame:
    """Each file's last good load (source_file, rows_loaded, run_id)."""
    if history.empty:
        return pd.DataFrame(columns=["source_file", "rows_loaded", "run_id"])
    return history.loc[history["kind"] == "good", ["source_file", "rows_loaded", "run_id"]]
