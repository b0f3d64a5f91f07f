"""Load frames into the warehouse: each slice is replaced whole inside one transaction.

PostgreSQL gets COPY through psycopg 3; SQLite gets one executemany of plain tuples (its fastest
sound path). A failure part way rolls the transaction back, so the previous slice stays visible.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from schemas import Table
from warehouse.db import is_postgres
from warehouse.models import TABLES

COPY_CHUNK_ROWS = 100_000
DELETE_CHUNK = 400  # slices per DELETE statement (two bound values each)


def _rows(table: Table, frame: pd.DataFrame) -> list[tuple]:
    """Plain tuples for SQLite's executemany (dates and timestamps as ISO text)."""
    frame = table.conform(frame)
    columns = []
    for c in table.columns:
        s = frame[c.name]
        if c.kind == "timestamp":
            s = s.map(lambda v: None if pd.isna(v) else v.isoformat(sep=" "))
        elif c.kind == "date":
            s = s.map(lambda v: None if v is None or pd.isna(v) else v.isoformat())
        columns.append(s.astype(object).where(s.notna(), None).to_numpy())
    return list(zip(*columns)) if columns else []


def _copy(connection: sa.Connection, table: Table, frame: pd.DataFrame) -> None:
    """COPY ... FROM STDIN (FORMAT csv) fed by Arrow's CSV writer in chunks; Arrow quotes every string,
    so NULL and '' stay distinct (errors surface as psycopg errors, inside the caller's transaction)."""
    arrow = table.to_arrow(frame)
    names = ", ".join(f'"{n}"' for n in table.column_names)
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT csv)') as copy:
        for batch in arrow.to_batches(max_chunksize=COPY_CHUNK_ROWS):
            buffer = io.BytesIO()
            pacsv.write_csv(pa.Table.from_batches([batch]), buffer, write_options=options)
            copy.write(buffer.getbuffer())


def _insert(connection: sa.Connection, table: Table, frame: pd.DataFrame) -> None:
    marks = ", ".join("?" for _ in table.column_names)
    names = ", ".join(f'"{n}"' for n in table.column_names)
    rows = _rows(table, frame)
    if rows:
        connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows)


def append(connection: sa.Connection, table: Table, frame: pd.DataFrame) -> None:
    """Bulk-append `frame` (contract-shaped) to `table` within the caller's transaction."""
    if frame.empty:
        return
    (_copy if connection.dialect.name == "postgresql" else _insert)(connection, table, frame)


def delete_where(connection: sa.Connection, table: Table, where: dict) -> int:
    sa_table = TABLES[table.name]
    condition = sa.and_(sa.true(), *(sa_table.c[k] == v for k, v in where.items()))  # {}: every row
    return connection.execute(sa_table.delete().where(condition)).rowcount


def delete_slices(connection: sa.Connection, table: Table, tahun: int, level: str, slices: pd.DataFrame) -> int:
    """Delete the rows of the slices (kode_pemda, source) of one tahun and level: one statement per few hundred
    slices, row values matched as pairs (PostgreSQL and SQLite alike)."""
    pairs = slices[["kode_pemda", "source"]].drop_duplicates()
    keys = [{"kode_pemda": k, "source": s} for k, s in pairs.itertuples(index=False, name=None)]
    return delete_keyed(connection, table, keys, {"tahun": tahun, "level": level}) if keys else 0


def delete_keyed(connection: sa.Connection, table: Table, keys: list[dict], fixed: dict | None = None) -> int:
    """Delete the rows of several slices of `table` that are named by the same columns (`keys`: one dict of
    column -> value per slice), within the rows where the columns of `fixed` have its values: one statement per
    few hundred slices, row values matched as tuples."""
    sa_table = TABLES[table.name]
    names = list(keys[0])
    same = [sa_table.c[k] == v for k, v in (fixed or {}).items()]
    deleted = 0
    for start in range(0, len(keys), DELETE_CHUNK):
        chunk = [tuple(key[n] for n in names) for key in keys[start : start + DELETE_CHUNK]]
        condition = sa.and_(*same, sa.tuple_(*(sa_table.c[n] for n in names)).in_(chunk))
        deleted += connection.execute(sa_table.delete().where(condition)).rowcount
    return deleted


def replace_slice(engine: sa.Engine, replacements: list[tuple[Table, dict, pd.DataFrame]]) -> None:
    """For each (table, slice filter, frame): delete the slice and append the frame, all in ONE
    transaction, so readers see either the old slices or the new ones, never a mix. Slices of one table named by
    the same columns (each pemda's list of a run) are deleted together and their frames appended in one COPY;
    a slice named twice takes its last frame."""
    groups: dict[tuple[str, tuple[str, ...]], dict[tuple, tuple[Table, dict, pd.DataFrame]]] = {}
    for table, where, frame in replacements:
        slices = groups.setdefault((table.name, tuple(sorted(where))), {})
        slices[tuple(sorted(where.items()))] = (table, where, frame)
    with engine.begin() as connection:
        if is_postgres(engine):
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
        for (_, columns), slices in groups.items():
            table = next(iter(slices.values()))[0]
            if columns:
                delete_keyed(connection, table, [where for _, where, _ in slices.values()])
            else:
                delete_where(connection, table, {})
            frames = [frame for _, _, frame in slices.values() if len(frame)]
            if frames:
                append(connection, table, frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True))


def analyze(engine: sa.Engine, tables: tuple[str, ...] = ("usulan", "quarantine")) -> None:
    """Refresh PostgreSQL's planner statistics after a run's loads (stale ones slow the views 10x)."""
    if is_postgres(engine):
        with engine.begin() as connection:
            for name in tables:
                connection.exec_driver_sql(f'ANALYZE "{name}"')


def upsert_rows(engine: sa.Engine, table: Table, frame: pd.DataFrame) -> None:
    """Insert or update rows by primary key (small tables: runs, load log)."""
    sa_table = TABLES[table.name]
    records = [
        {k: (None if v is None or (not isinstance(v, str) and pd.isna(v)) else v) for k, v in r.items()}
        for r in table.conform(frame).to_dict("records")
    ]
    for r in records:
        for k, v in r.items():
            if isinstance(v, pd.Timestamp):
                r[k] = v.to_pydatetime()
    with engine.begin() as connection:
        for r in records:
            key = {k: r[k] for k in table.primary_key}
            updated = connection.execute(
                sa_table.update().where(sa.and_(*(sa_table.c[k] == v for k, v in key.items()))).values(**r)
            )
            if updated.rowcount == 0:
                connection.execute(sa_table.insert().values(**r))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
