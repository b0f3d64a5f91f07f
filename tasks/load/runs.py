"""Run bookkeeping: one run at a time per warehouse, every run recorded, and a killed run marked failed.

A run holds the warehouse lock from before it migrates until it has written its last row: on PostgreSQL a
session advisory lock, on SQLite a lock file beside the database. Both are released by the operating system
or the server when the process dies, so a run that finds a row still `running` while it holds the lock knows
that run was killed, and marks it failed.
"""

from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from schemas import RUN
from warehouse.bulk import upsert_rows, utcnow
from warehouse.db import create_engine, normalise_url
from warehouse.models import TABLES

LOCK_KEY = 0x726B7064  # "rkpd": the advisory lock every run of the pipeline takes on a PostgreSQL warehouse
# ... with the warehouse's schema as its second key: warehouses in two schemas of one database do not block each other
_LOCK = "(:k, hashtext(current_schema()))"


class WarehouseBusy(Exception):
    """Another run holds the warehouse."""


def _describe_running(url: str) -> str:
    """'run 2025-...-abc started 2026-12-01 22:10 UTC' of the run that holds the lock, when it is recorded."""
    try:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                runs = TABLES[RUN.name]
                row = connection.execute(
                    sa.select(runs.c.run_id, runs.c.started_at)
                    .where(runs.c.run_status == "running")
                    .order_by(runs.c.started_at.desc())
                    .limit(1)
                ).first()
        finally:
            engine.dispose()
    except sa.exc.SQLAlchemyError:
        return "another run"
    return f"run {row.run_id} (started {str(row.started_at)[:16]} UTC)" if row else "another run"


@contextmanager
def warehouse_lock(url: str, wait_seconds: float = 0) -> Iterator[None]:
    """Hold the warehouse for one run; wait up to `wait_seconds` for a run that holds it, then refuse with
    WarehouseBusy (one clear line, no traceback)."""
    url = normalise_url(url)
    deadline = time.monotonic() + wait_seconds
    if url.startswith("sqlite"):
        database = make_url(url).database
        if not database or database == ":memory:":
            yield
            return
        path = Path(database).with_name(Path(database).name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise WarehouseBusy(_busy(url, wait_seconds)) from None
                    time.sleep(1)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            while not connection.execute(sa.text(f"SELECT pg_try_advisory_lock{_LOCK}"), {"k": LOCK_KEY}).scalar():
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(_busy(url, wait_seconds))
                time.sleep(1)
            try:
                yield
            finally:
                connection.execute(sa.text(f"SELECT pg_advisory_unlock{_LOCK}"), {"k": LOCK_KEY})
    finally:
        engine.dispose()


def _busy(url: str, wait_seconds: float) -> str:
    waited = f" after waiting {wait_seconds:.0f} s" if wait_seconds else ""
    return (
        f"the warehouse is busy: {_describe_running(url)} is loading it{waited}; this run did not start "
        "(run it again when that one ends, or pass --wait SECONDS)"
    )


def mark_killed_runs(engine: sa.Engine) -> list[str]:
    """Runs still `running` while this run holds the lock were killed: mark them failed. Returns their ids."""
    runs = TABLES[RUN.name]
    with engine.begin() as connection:
        killed = [r[0] for r in connection.execute(sa.select(runs.c.run_id).where(runs.c.run_status == "running"))]
        if killed:
            connection.execute(
                runs.update().where(runs.c.run_id.in_(killed)).values(run_status="failed", finished_at=utcnow())
            )
    return killed


def begin(url: str, lake_root: Path, run_id: str, tahun: int, parameters: dict, pemda: list[str]) -> list[str]:
    """Bring the warehouse to the newest schema, mark runs that were killed, put the lake back in order, load
    the reference data of the run's pemda in force for its tahun and record the run as running. Returns notes
    for the run's output."""
    from warehouse import lake
    from warehouse.db import scoped_engine
    from warehouse.migrate import upgrade
    from warehouse.reference import load_reference

    notes = [f"lake: {line}" for line in lake.recover(lake_root)]
    with scoped_engine(url) as engine:
        upgrade(engine)
        notes += [f"run {run} had been killed: marked failed" for run in mark_killed_runs(engine)]
        record_start(engine, run_id, tahun, utcnow(), parameters)
        load_reference(engine, pemda, tahun)
    return notes


def _write_run(engine: sa.Engine, run_id: str, tahun: int, started, parameters: dict, status: str, **fields) -> None:
    row = {
        "run_id": run_id,
        "tahun": tahun,
        "started_at": started,
        "run_status": status,
        "parameters": json.dumps(parameters, default=str),
        **fields,
    }
    upsert_rows(engine, RUN, pd.DataFrame([row]))


def record_start(engine: sa.Engine, run_id: str, tahun: int, started, parameters: dict) -> None:
    _write_run(engine, run_id, tahun, started, parameters, "running")


def record_end(
    engine: sa.Engine, run_id: str, tahun: int, started, parameters: dict, status: str, files: pd.DataFrame | None
) -> None:
    totals = {}
    if files is not None and len(files):
        totals = {c: int(files[c].sum()) for c in ("rows_read", "rows_loaded", "rows_quarantined", "rows_failed")}
    _write_run(engine, run_id, tahun, started, parameters, status, finished_at=utcnow(), **totals)
