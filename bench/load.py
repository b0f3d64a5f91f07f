"""Warehouse load speed on 1,000,000 usulan: `replace_slice` into PostgreSQL (COPY) and SQLite, against
the floor of a plain `psql \\copy` of the same rows from CSV, measured in the same run.

The rows are the sample region's loaded usulan (from a lake written by `rkpd run`), repeated with new ids
into one slice. PostgreSQL runs go into a throwaway database that is created and dropped here.

Run: `python -m bench.load [--lake DIR] [--rows N] [--workdir DIR] [--pg-url URL]`. Without --lake the
sample is generated and the annual flow run once into the workdir to make one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from schemas import USULAN
from warehouse import bulk
from warehouse.db import create_engine
from warehouse.lake import read_dataset
from warehouse.migrate import upgrade

SLICE = {"tahun": 2025, "level": "desa", "kode_pemda": "18.02", "source": "bench"}
RESULTS: list[tuple[str, int, float]] = []


def timed(label: str, rows: int, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    RESULTS.append((label, rows, seconds))
    print(f"  {label:<58} {rows:>10,} rows {seconds:8.2f} s {rows / seconds:>10,.0f} rows/s", flush=True)
    return result


def sample_lake(workdir: Path) -> Path:
    """A lake with the sample region's usulan: generate the sample and run the annual flow once."""
    import sample
    from flows.annual import annual_run

    lake = workdir / "lake"
    if not (lake / USULAN.name).exists():
        sample.generate(workdir / "inbox", tahun=2025, pemda=("18.02",), seed=42)
        annual_run(
            tahun=2025, inbox=workdir / "inbox", lake_root=lake, warehouse_url=f"sqlite:///{workdir / 'sample.sqlite'}"
        )
    return lake


def build_rows(lake: Path, rows: int) -> pd.DataFrame:
    """`rows` contract-shaped usulan: the lake's rows repeated, each with a new id, all in one slice."""
    base = USULAN.conform(read_dataset(lake, USULAN).to_pandas())
    repeats = -(-rows // len(base))
    big = pd.concat([base] * repeats, ignore_index=True).iloc[:rows]
    big = big.assign(
        **SLICE,
        id_usulan=pd.array([f"B{i:011d}" for i in range(rows)], dtype="string"),
        source_row=pd.array(range(1, rows + 1), dtype="Int32"),
        run_id="bench",
    )
    return USULAN.conform(big)


# --- prototype of a faster COPY path --------------------------------------------------------------------
def fingerprint(engine: sa.Engine) -> tuple:
    """Aggregates that differ if any value, NULL or empty string was carried differently."""
    with engine.connect() as c:
        return tuple(
            c.exec_driver_sql(
                "SELECT count(*), sum(anggaran), round(sum(volume)::numeric, 3), sum(prioritas), count(lokasi), "
                "count(kode_opd_akhir), sum(length(uraian_usulan)), count(tanggal_usul), min(tanggal_usul), "
                "max(tanggal_usul), sum(CASE WHEN alasan = '' THEN 1 ELSE 0 END), count(latitude), "
                "round(sum(mapping_confidence)::numeric, 6) "
                "FROM usulan"
            ).one()
        )


def truncate(engine: sa.Engine) -> None:
    with engine.begin() as c:
        c.exec_driver_sql("TRUNCATE usulan" if engine.dialect.name == "postgresql" else "DELETE FROM usulan")
        if engine.dialect.name == "postgresql":
            c.exec_driver_sql("CHECKPOINT")


def run(lake: Path, rows: int, workdir: Path, pg_url: str) -> None:
    frame = timed("(build rows in the contract shape, not a load)", rows, lambda: build_rows(lake, rows))
    csv_path = workdir / "usulan_bench.csv"
    timed(
        "(write CSV for psql, not a load)",
        rows,
        lambda: pacsv.write_csv(
            USULAN.to_arrow(frame), csv_path, write_options=pacsv.WriteOptions(include_header=True)
        ),
    )

    server = make_url(create_engine(pg_url).url)
    database = f"rkpd_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres").render_as_string(hide_password=False))
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {database}")
    try:
        pg = create_engine(server.set(database=database).render_as_string(hide_password=False))
        upgrade(pg)
        print(f"\nPostgreSQL ({database}, usulan with its primary key and 3 indexes)")
        timed(
            "replace_slice -> PostgreSQL (COPY csv from Arrow)",
            rows,
            lambda: bulk.replace_slice(pg, [(USULAN, SLICE, frame)]),
        )
        current = fingerprint(pg)
        timed(
            "  same again over the loaded slice (DELETE + COPY)",
            rows,
            lambda: bulk.replace_slice(pg, [(USULAN, SLICE, frame)]),
        )
        truncate(pg)
        columns = ", ".join(USULAN.column_names)
        host, port, user = server.host or "127.0.0.1", str(server.port or 5432), server.username or "postgres"
        env = {**os.environ, **({"PGPASSWORD": server.password} if server.password else {})}
        timed(
            "floor: psql \\copy FROM csv",
            rows,
            lambda: subprocess.run(
                [
                    "psql",
                    "-h",
                    host,
                    "-p",
                    port,
                    "-U",
                    user,
                    "-d",
                    database,
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    f"\\copy usulan ({columns}) FROM '{csv_path}' CSV HEADER",
                ],
                check=True,
                env=env,
                capture_output=True,
            ),
        )
        assert fingerprint(pg) == current, (fingerprint(pg), current)
        pg.dispose()
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.dispose()

    print("\nSQLite (WAL, synchronous=NORMAL)")
    path = workdir / "bench_load.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    lite = create_engine(f"sqlite:///{path}")
    upgrade(lite)
    timed("replace_slice -> SQLite (executemany)", rows, lambda: bulk.replace_slice(lite, [(USULAN, SLICE, frame)]))
    timed("  of which _rows() conversion alone (no database)", rows, lambda: bulk._rows(USULAN, frame))
    lite.dispose()
    csv_path.unlink(missing_ok=True)

    print("\n| method | rows | seconds | rows/s |\n| --- | ---: | ---: | ---: |")
    for label, n, seconds in RESULTS:
        if not label.startswith("("):
            print(f"| {label.strip()} | {n:,} | {seconds:.2f} | {n / seconds:,.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, help="lake with usulan (default: make one from the sample)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"))
    parser.add_argument(
        "--pg-url", default=os.environ.get("RKPD_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    run(args.lake or sample_lake(args.workdir), args.rows, args.workdir, args.pg_url)
