"""The planner views of what did not flow (v_karantina, v_antrean_review, v_riwayat_usulan) on a few hand-made
rows, on SQLite and the real PostgreSQL, and what the read-only planner role may read."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest
import sqlalchemy as sa

from schemas import QUARANTINE, USULAN
from warehouse.bulk import upsert_rows
from warehouse.db import create_engine
from warehouse.migrate import upgrade
from warehouse.roles import drop_planner_role, grant_planner_role
from warehouse.views import VIEW_NAMES

TAHUN = 2025
PUPR = "1.03.0.00.0.00.01.0000"
KEY = {"kode_pemda": "18.02", "tahun": TAHUN, "stream": "musrenbang"}


def usulan(level: str, id_usulan: str, asal: str | None = None, **values) -> dict:
    return {
        **KEY,
        "level": level,
        "id_usulan": id_usulan,
        "id_usulan_asal": asal,
        "uraian_usulan": f"usulan {id_usulan}",
        "status": "diterima",
        "source": "csv",
        "source_file": "x.csv",
        "source_row": 2,
        "run_id": "r1",
        "pengusul": "Siti Aminah",
        "kontak_pengusul": "081234567890",
        **values,
    }


ROWS = [
    # A rises desa -> kecamatan -> kabkota (no forum_opd row), changing its id at kecamatan.
    usulan("desa", "A", anggaran=100.0, kode_opd_akhir=PUPR, mapping_method="kamus"),
    usulan("kecamatan", "A-K", "A", anggaran=90.0, kode_opd_akhir=PUPR, mapping_method="kamus"),
    usulan("kabkota", "A-K", anggaran=80.0, status="ditolak", alasan="pagu habis", mapping_method="sumber"),
    # B: the same id as A's desa row but in another pemda: never part of A's path.
    {**usulan("kecamatan", "A"), "kode_pemda": "18.71", "mapping_method": "kamus"},
    # C waits for review at kecamatan.
    usulan(
        "kecamatan",
        "C",
        anggaran=5_000_000.0,
        lokasi="Dusun 2",
        permasalahan="banjir",
        mapping_confidence=0.31,
        alasan_review="keyakinan model 0,31 di bawah 0,5",
        saran_bidang_urusan="1.03",
        saran_sub_kegiatan="1.03.03.2.01.0001",
        saran_opd=PUPR,
        kode_bidang_alternatif="1.04",
        opd_alternatif="1.04.0.00.0.00.01.0000",
    ),
]
QUARANTINED = [
    {**KEY, "level": "desa", "source": "csv", "run_id": "r1", "quarantine_id": 1, "source_file": "desa/a.csv",
     "source_row": 7, "rule": "kontak_format", "field": "kontak_pengusul", "value": "0812-SECRET", "severity": "error",
     "reason_id": "nomor kontak tidak sah", "reason_en": "bad contact", "raw": '{"pengusul": "Siti Aminah"}'},
    {**KEY, "level": "desa", "source": "csv", "run_id": "r1", "quarantine_id": 2, "source_file": "desa/a.csv",
     "source_row": 9, "rule": "anggaran_negative", "field": "anggaran", "value": "-5", "severity": "error",
     "reason_id": "anggaran negatif", "reason_en": "negative anggaran", "raw": "{}"},
    {**KEY, "level": "desa", "source": "csv", "run_id": "r1", "quarantine_id": 3, "source_file": "desa/a.csv",
     "source_row": 11, "rule": "alasan_missing", "field": "alasan", "value": None, "severity": "warning",
     "reason_id": "alasan kosong", "reason_en": "no reason", "raw": "{}"},
]  # fmt: skip


def build(url: str) -> sa.Engine:
    engine = create_engine(url)
    upgrade(engine)
    upsert_rows(engine, USULAN, pd.DataFrame(ROWS))
    upsert_rows(engine, QUARANTINE, pd.DataFrame(QUARANTINED))
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = build(url)
    yield engine
    engine.dispose()


def read(engine: sa.Engine, sql: str) -> pd.DataFrame:
    with engine.connect() as c:
        return pd.read_sql(sa.text(sql), c)


def test_v_karantina_shows_file_row_rule_and_reason_but_no_raw_row_or_personal_value(engine):
    k = read(engine, "SELECT * FROM v_karantina ORDER BY source_row")
    assert k[["source_file", "source_row", "rule", "field", "severity"]].values.tolist() == [
        ["desa/a.csv", 7, "kontak_format", "kontak_pengusul", "error"],
        ["desa/a.csv", 9, "anggaran_negative", "anggaran", "error"],
        ["desa/a.csv", 11, "alasan_missing", "alasan", "warning"],
    ]
    assert k.reason_id.tolist() == ["nomor kontak tidak sah", "anggaran negatif", "alasan kosong"]
    assert k.tindakan.tolist() == ["tidak dimuat", "tidak dimuat", "dimuat dengan catatan"]
    assert pd.isna(k.value[0]) and k.value[1] == "-5"  # a personal field's value is not shown
    assert "raw" not in k.columns and not set(USULAN.personal_columns) & set(k.columns)
    assert "Siti" not in k.to_csv() and "SECRET" not in k.to_csv()


def test_v_antrean_review_lists_waiting_usulan_with_suggestion_alternatives_and_reason(engine):
    q = read(engine, "SELECT * FROM v_antrean_review")
    assert q.id_usulan.tolist() == ["C"]
    row = q.iloc[0]
    assert (row.saran_bidang_urusan, row.saran_sub_kegiatan, row.saran_opd) == ("1.03", "1.03.03.2.01.0001", PUPR)
    assert (row.kode_bidang_alternatif, row.opd_alternatif) == ("1.04", "1.04.0.00.0.00.01.0000")
    assert (float(row.mapping_confidence), row.alasan_review) == (0.31, "keyakinan model 0,31 di bawah 0,5")
    assert (row.lokasi, row.permasalahan, float(row.anggaran)) == ("Dusun 2", "banjir", 5_000_000.0)
    assert not set(USULAN.personal_columns) & set(q.columns)


def test_v_riwayat_usulan_follows_one_usulan_across_levels_within_its_pemda(engine):
    path = read(
        engine,
        "SELECT level, id_usulan, status, alasan, anggaran, kode_opd_akhir FROM v_riwayat_usulan "
        "WHERE kode_pemda = '18.02' AND tahun = 2025 AND stream = 'musrenbang' AND id_usulan_awal = 'A' "
        "ORDER BY urutan_level",
    )
    assert path[["level", "id_usulan", "status"]].values.tolist() == [
        ["desa", "A", "diterima"],
        ["kecamatan", "A-K", "diterima"],
        ["kabkota", "A-K", "ditolak"],
    ]
    assert path.anggaran.astype(float).tolist() == [100.0, 90.0, 80.0] and path.alasan[2] == "pagu habis"
    starts = read(
        engine,
        "SELECT kode_pemda, id_usulan_awal, level_awal, count(*) AS n FROM v_riwayat_usulan "
        "GROUP BY kode_pemda, id_usulan_awal, level_awal ORDER BY kode_pemda, id_usulan_awal",
    )
    assert starts.values.tolist() == [
        ["18.02", "A", "desa", 3],
        ["18.02", "C", "kecamatan", 1],
        ["18.71", "A", "kecamatan", 1],
    ]
    columns = set(read(engine, "SELECT * FROM v_riwayat_usulan").columns)
    assert not set(USULAN.personal_columns) & columns


@pytest.mark.postgres
def test_planner_role_reads_the_new_views_but_not_the_quarantine_table(pg_url):
    engine = build(pg_url)
    role = f"rkpd_planner_{uuid.uuid4().hex[:8]}"
    try:
        grant_planner_role(engine, role=role)
        with engine.begin() as c:
            c.exec_driver_sql(f"SET ROLE {role}")
            counts = {v: c.exec_driver_sql(f"SELECT count(*) FROM {v}").scalar_one() for v in VIEW_NAMES}
            assert (counts["v_karantina"], counts["v_antrean_review"], counts["v_riwayat_usulan"]) == (3, 1, 5)
            for table in ("quarantine", "usulan"):
                with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), c.begin_nested():
                    c.exec_driver_sql(f"SELECT count(*) FROM {table}")
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"), c.begin_nested():
                c.exec_driver_sql("DELETE FROM v_karantina")
            c.exec_driver_sql("RESET ROLE")
    finally:
        drop_planner_role(engine, role)
        engine.dispose()
