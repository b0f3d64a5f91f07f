"""Warehouse loading on SQLite and the real PostgreSQL: migrations to head, idempotent slice
replacement, no partial slice after a failed or killed load, and the read-only planner role."""

from __future__ import annotations

import datetime as dt
import select
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest
import sqlalchemy as sa
from alembic import command

import warehouse.bulk as bulk
from schemas import ALL_TABLES, USULAN
from warehouse.db import create_engine
from warehouse.migrate import alembic_config, upgrade
from warehouse.roles import drop_planner_role, grant_planner_role
from warehouse.views import VIEW_NAMES

ROOT = Path(__file__).resolve().parents[1]
SLICE = {"tahun": 2025, "level": "kecamatan", "kode_pemda": "18.02", "source": "excel"}
OTHER = {"tahun": 2025, "level": "desa", "kode_pemda": "18.02", "source": "csv"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'w.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(url):
    engine = create_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def usulan_frame(n: int, key: dict = SLICE, start: int = 0, run_id: str = "run-1", price: float = 1_250_000.0):
    """n contract-shaped usulan rows of one slice."""
    i = np.arange(start, start + n)
    return USULAN.conform(
        pd.DataFrame(
            {
                "id_usulan": [f"1802{k:07d}" for k in i],
                **key,
                "stream": "musrenbang",
                "kode_kecamatan": "18.02.01",
                "kode_desa": "18.02.01.2001",
                "nama_desa": "Sri Way Langsep",
                "lokasi": [f"Dusun {k % 9 + 1} RT {k % 20 + 1:03d}" for k in i],
                "uraian_usulan": [f"Pembangunan jalan lingkungan {k}" for k in i],
                "volume": (i % 50 + 1).astype(float),
                "satuan": "Meter",
                "anggaran": price * (i % 7 + 1) + 0.25,
                "prioritas": i % 100 + 1,
                "status": np.where(i % 3 == 0, "ditolak", "diterima"),
                "alasan": np.where(i % 3 == 0, "Sudah diusulkan tahun lalu", None),
                "tanggal_usul": dt.date(2024, 2, 1),
                "kode_opd_akhir": "1.03.0.00.0.00.01.0000",
                "kode_bidang_urusan": "1.03",
                "pengusul": "Budi",
                "kontak_pengusul": "0812000000",
                "source_file": "kec.xlsx",
                "source_row": i + 5,
                "run_id": run_id,
            }
        )
    )


def state(engine: sa.Engine, key: dict = SLICE) -> dict:
    """What a reader sees of one slice: counts, sums and the ids."""
    with engine.connect() as c:
        where = "tahun = :tahun AND level = :level AND kode_pemda = :kode_pemda AND source = :source"
        n, anggaran, volume, runs = c.execute(
            sa.text(f"SELECT count(*), sum(anggaran), sum(volume), count(DISTINCT run_id) FROM usulan WHERE {where}"),
            key,
        ).one()
        ids = c.execute(sa.text(f"SELECT id_usulan FROM usulan WHERE {where}"), key).scalars().all()
    return {
        "n": n,
        "anggaran": round(float(anggaran or 0), 2),
        "volume": float(volume or 0),
        "runs": runs,
        "ids": frozenset(ids),
    }


def expected(frame: pd.DataFrame) -> dict:
    return {
        "n": len(frame),
        "anggaran": round(float(frame.anggaran.sum()), 2),
        "volume": float(frame.volume.sum()),
        "runs": frame.run_id.nunique(),
        "ids": frozenset(frame.id_usulan),
    }


# --- migrations -----------------------------------------------------------------------------------------
def test_migrations_from_empty_create_every_table_and_view(url):
    engine = create_engine(url)
    assert not sa.inspect(engine).get_table_names()
    upgrade(engine)
    inspector = sa.inspect(engine)
    tables = set(inspector.get_table_names())
    for table in ALL_TABLES:
        assert table.name in tables, table.name
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.column_names), table.name
    assert set(inspector.get_view_names()) == set(VIEW_NAMES)
    with engine.connect() as c:
        for view in VIEW_NAMES:
            assert c.exec_driver_sql(f"SELECT * FROM {view}").all() == [], view

    command.downgrade(alembic_config(engine), "0003")
    assert not sa.inspect(engine).get_view_names()
    upgrade(engine)
    assert set(sa.inspect(engine).get_view_names()) == set(VIEW_NAMES)
    engine.dispose()


# --- idempotent replacement -----------------------------------------------------------------------------
def test_replace_slice_twice_leaves_identical_counts_and_sums(engine):
    frame, other = usulan_frame(3_000), usulan_frame(500, OTHER, start=50_000)
    bulk.replace_slice(engine, [(USULAN, OTHER, other)])
    bulk.replace_slice(engine, [(USULAN, SLICE, frame)])
    first = state(engine)
    assert first == expected(frame)
    bulk.replace_slice(engine, [(USULAN, SLICE, frame)])
    assert state(engine) == first
    assert state(engine, OTHER) == expected(other)  # other slices untouched
    with engine.connect() as c:  # values round-trip exactly (money to the sen, dates, text)
        row = c.execute(
            sa.text(
                "SELECT anggaran, tanggal_usul, lokasi, alasan FROM usulan WHERE id_usulan = :i AND level = 'kecamatan'"
            ),
            {"i": frame.id_usulan[3]},
        ).one()
    assert float(row.anggaran) == frame.anggaran[3] and str(row.tanggal_usul) == "2024-02-01"
    assert row.lokasi == frame.lokasi[3] and row.alasan == "Sudah diusulkan tahun lalu"


TRICKY_TEXT = [
    "plain",
    "",
    None,
    'kutip " di dalam',
    "koma, di dalam",
    "baris\nbaru",
    "tab\tx",
    "garis\\miring \\N",
    "\\.",
    "Jl. Ki Hajar Déwantara – ünïcødé",
    " spasi ",
    "NULL",
    '"',
    "\r\ncrlf",
]


def test_slices_named_by_the_same_columns_are_replaced_together(engine):
    """Many slices of one table in one replacement (each pemda's lists at a run's start) are deleted together
    and appended in one COPY: each slice holds its new rows, a slice named twice its last frame, and a slice
    not named keeps its rows."""
    third = {**SLICE, "kode_pemda": "18.03"}
    bulk.replace_slice(engine, [(USULAN, SLICE, usulan_frame(40)), (USULAN, OTHER, usulan_frame(30, OTHER))])
    new, last = usulan_frame(25, SLICE, start=900), usulan_frame(10, third, start=500)
    bulk.replace_slice(engine, [(USULAN, SLICE, new), (USULAN, third, usulan_frame(99, third)), (USULAN, third, last)])
    assert state(engine) == expected(new) and state(engine, third) == expected(last)
    assert state(engine, OTHER) == expected(usulan_frame(30, OTHER))


def test_values_round_trip_exactly(engine):
    """Text with CSV/COPY specials, '' apart from NULL, floats, money to the sen, dates, booleans and
    timestamps come back as they went in (guards any change of the COPY/insert path)."""
    from schemas import OPD_STANDAR, RUN
    from warehouse.models import TABLES

    n = len(TRICKY_TEXT)
    frame = usulan_frame(n).assign(
        lokasi=TRICKY_TEXT,
        alasan=TRICKY_TEXT[::-1],
        nama_kamus=[t.upper() if t else t for t in TRICKY_TEXT],
        volume=[0.1 + 0.2, 1e7, 1 / 3, None, 123456.789, 2.5e-5, 0.0, 1e-300, 5e15, 7, 1.1, 9.99, 42.0, 3.0],
        anggaran=[1250000.25, 0.01, 999_999_999_999.99, None, 0.0, 1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8, 9.9],
        latitude=-5.123456789012345,
        tanggal_usul=[dt.date(2024, 2, 29), None] * (n // 2),
    )
    frame = USULAN.conform(frame)
    runs = RUN.conform(
        pd.DataFrame(
            {
                "run_id": ["a", "b"],
                "tahun": 2025,
                "run_status": ["success", ""],
                "parameters": ['{"a": "b,c"}', None],
                "started_at": [
                    pd.Timestamp("2026-11-24 00:47:03.123456", tz="UTC"),
                    pd.Timestamp("2026-01-01 07:00", tz="Asia/Jakarta"),
                ],
            }
        )
    )
    standar = OPD_STANDAR.conform(
        pd.DataFrame(
            {
                "jenis_pemda": "kabkota",
                "kd_unit": [1, 2],
                "nama_opd": ["Dinas A", "Dinas B"],
                "bidang_urusan_1": "1.01",
                "aktif": [True, False],
            }
        )
    )
    bulk.replace_slice(engine, [(USULAN, SLICE, frame), (RUN, {}, runs), (OPD_STANDAR, {}, standar)])

    def python(value):
        if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
            return None
        if isinstance(value, (np.integer, np.floating, np.bool_)):
            return value.item()
        return value

    with engine.connect() as c:
        for table, sent in ((USULAN, frame), (RUN, runs), (OPD_STANDAR, standar)):
            got = c.execute(sa.select(TABLES[table.name])).mappings().all()
            got = {tuple(r[k] for k in table.primary_key): r for r in got}
            assert len(got) == len(sent)
            for record in sent.to_dict("records"):
                row = got[tuple(python(record[k]) for k in table.primary_key)]
                for column in table.columns:
                    want, have = python(record[column.name]), row[column.name]
                    if column.kind == "money" and have is not None:
                        have = float(have)
                    if column.kind == "timestamp" and want is not None:
                        want = want.to_pydatetime()
                    assert have == want, (table.name, column.name, want, have)


# --- a failed load leaves no partial slice ----------------------------------------------------------------
def test_constraint_violation_in_the_last_chunk_keeps_the_previous_slice(engine, monkeypatch):
    old = usulan_frame(1_000)
    bulk.replace_slice(engine, [(USULAN, SLICE, old)])
    before = state(engine)
    new = usulan_frame(1_000, start=10_000, run_id="run-2")
    new.loc[new.index[-1], "uraian_usulan"] = None  # NOT NULL: fails only at the very last row
    monkeypatch.setattr(bulk, "COPY_CHUNK_ROWS", 100)  # PostgreSQL: nine COPY chunks succeed first
    # SQLite: SQLAlchemy's IntegrityError; PostgreSQL: COPY runs on the raw psycopg cursor, so psycopg's own
    with pytest.raises((sa.exc.IntegrityError, psycopg.errors.IntegrityError), match="uraian_usulan"):
        bulk.replace_slice(engine, [(USULAN, SLICE, new)])
    assert state(engine) == before == expected(old)


def test_error_after_part_of_the_rows_keeps_the_previous_slice(engine, monkeypatch):
    old = usulan_frame(1_000)
    bulk.replace_slice(engine, [(USULAN, SLICE, old)])
    real_append = bulk.append

    def append_half_then_fail(connection, table, frame):
        real_append(connection, table, frame.iloc[: len(frame) // 2])
        written = connection.execute(sa.text("SELECT count(*) FROM usulan WHERE run_id = 'run-2'")).scalar_one()
        assert written == len(frame) // 2  # inside the transaction, half the new slice is written
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "append", append_half_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        bulk.replace_slice(engine, [(USULAN, SLICE, usulan_frame(1_000, start=10_000, run_id="run-2"))])
    assert state(engine) == expected(old)


_KILLED_LOADER = """
import sys, time
import pandas as pd
import warehouse.bulk as bulk
from schemas import USULAN
from warehouse.db import create_engine

url, path = sys.argv[1], sys.argv[2]
real_append = bulk.append

def append_half_then_hang(connection, table, frame):
    real_append(connection, table, frame.iloc[: len(frame) // 2])
    print("half written", flush=True)
    time.sleep(600)

bulk.append = append_half_then_hang
bulk.replace_slice(create_engine(url), [(USULAN, {slice!r}, pd.read_pickle(path))])
""".replace("{slice!r}", repr(SLICE))


def test_killed_loader_leaves_no_partial_slice(engine, url, tmp_path):
    old = usulan_frame(2_000)
    bulk.replace_slice(engine, [(USULAN, SLICE, old)])
    new = usulan_frame(2_000, start=10_000, run_id="run-2")
    new.to_pickle(tmp_path / "new.pkl")
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_LOADER, url, str(tmp_path / "new.pkl")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([child.stdout], [], [], 120)
        assert ready, "the loader did not get half way in 120 s"
        line = child.stdout.readline()
        assert line.strip() == "half written", child.stderr.read()
        assert state(engine) == expected(old)  # while the load is in flight, readers see the old slice
        child.kill()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert state(engine) == expected(old)  # killed part way: old slice whole, nothing of the new load
    bulk.replace_slice(engine, [(USULAN, SLICE, new)])  # and the next load is not blocked by it
    assert state(engine) == expected(new)


# --- read-only planner role -------------------------------------------------------------------------------
def test_planner_role_is_a_noop_on_sqlite(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    assert "no database roles" in grant_planner_role(engine)


@pytest.mark.postgres
def test_planner_role_reads_views_and_references_only(pg_url):
    engine = create_engine(pg_url)
    upgrade(engine)
    bulk.replace_slice(engine, [(USULAN, SLICE, usulan_frame(300))])
    role = f"rkpd_planner_{uuid.uuid4().hex[:8]}"  # roles are cluster-wide: unique per test

    def as_planner(sql: str):
        with engine.connect() as c:
            c.exec_driver_sql(f"SET ROLE {role}")
            return c.exec_driver_sql(sql).all()

    try:
        with engine.begin() as c:  # a privilege it should not keep
            c.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN")
            c.exec_driver_sql(f"GRANT INSERT, SELECT ON usulan TO {role}")
        first = grant_planner_role(engine, role=role)
        assert grant_planner_role(engine, role=role) == first  # idempotent
        assert f"SELECT on {len(VIEW_NAMES)} views" in first and "WARNING" not in first

        for view in VIEW_NAMES:
            as_planner(f"SELECT * FROM {view}")
        assert as_planner("SELECT sum(n_usulan) FROM v_rekap_opd")[0][0] == 300
        assert as_planner("SELECT count(*) FROM ref_wilayah")[0][0] == 0
        refused = [
            "INSERT INTO usulan (id_usulan, tahun, level, stream, kode_pemda, uraian_usulan, status, source, "
            "source_file, source_row, run_id) VALUES ('x', 2025, 'desa', 'musrenbang', '18.02', 'u', 'diterima', "
            "'csv', 'f', 1, 'r')",
            "UPDATE usulan SET anggaran = 0",
            "DELETE FROM usulan",
            "SELECT pengusul, kontak_pengusul FROM usulan",
            "SELECT count(*) FROM quarantine",
            "INSERT INTO ref_pagu_kewilayahan (kode_pemda, tahun, kode_kecamatan, pagu) "
            "VALUES ('18.02', 2025, '18.02.01', 1)",
            "DELETE FROM ref_wilayah",
            "CREATE TABLE planner_scratch (x int)",
        ]
        for sql in refused:
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                as_planner(sql)
    finally:
        drop_planner_role(engine, role)
        engine.dispose()
    with create_engine(pg_url).connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar_one() == 0


def test_pipeline_connections_to_postgresql_do_not_jit_compile(pg_url):
    """The views' queries are planned from far-off estimates and would be JIT-compiled for longer than they
    run: the pipeline's PostgreSQL connections turn JIT off, keeping the options the URL carries (here the
    test schema's search_path)."""
    schema = pg_url.rsplit("search_path%3D", 1)[-1].split("&")[0]
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SHOW jit")).scalar() == "off"
        assert connection.execute(sa.text("SHOW search_path")).scalar() == schema
    engine.dispose()
