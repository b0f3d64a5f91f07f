"""Planner views on the sample region, checked against pandas computed from the usulan table, on SQLite
and on the real PostgreSQL; both backends must give the same numbers.

They read the session's sample run of each backend (tests/conftest.py), with a pagu kewilayahan frame added.
"""

from __future__ import annotations

import decimal
import functools
import itertools
import uuid

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from schemas import PAGU_KEWILAYAHAN, USULAN
from tests.sample_run import SAMPLE_RUN_GROUP
from warehouse.bulk import replace_slice
from warehouse.db import create_engine
from warehouse.roles import drop_planner_role, grant_planner_role
from warehouse.views import VIEW_NAMES

pytestmark = SAMPLE_RUN_GROUP  # the session's sample run: all on one xdist worker

TAHUN, PEMDA = 2025, "18.02"
# Pagu indikatif kewilayahan: two kecamatan of the sample, and one for a tahun without usulan.
PAGU = pd.DataFrame(
    [
        {"kode_pemda": PEMDA, "tahun": TAHUN, "kode_kecamatan": "18.02.01", "pagu": 15_000_000_000.0, "sumber": "SE"},
        {"kode_pemda": PEMDA, "tahun": TAHUN, "kode_kecamatan": "18.02.02", "pagu": 30_000_000_000.0, "sumber": "SE"},
        {"kode_pemda": PEMDA, "tahun": 2026, "kode_kecamatan": "18.02.17", "pagu": 5_000_000_000.0, "sumber": "SE"},
    ]
)
MEASURES = ["n_usulan", "anggaran_usulan", "n_diterima", "anggaran_diterima", "n_ditolak", "anggaran_ditolak"]


def _with_pagu(url: str) -> str:
    """The sample run's warehouse with a pagu kewilayahan frame."""
    engine = create_engine(url)
    replace_slice(engine, [(PAGU_KEWILAYAHAN, {"kode_pemda": PEMDA}, PAGU)])
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def sqlite_wh(sample_run_sqlite, tmp_path_factory) -> str:
    return _with_pagu(sample_run_sqlite.copy(tmp_path_factory.mktemp("views") / "run").url)


@pytest.fixture(scope="module")
def postgresql_wh(sample_run_postgres) -> str:
    return _with_pagu(sample_run_postgres.url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def wh(request) -> str:
    return request.getfixturevalue(f"{request.param}_wh")


def read(url: str, sql: str) -> pd.DataFrame:
    return _read(url, sql).copy()


@functools.lru_cache(maxsize=64)
def _read(url: str, sql: str) -> pd.DataFrame:
    """Query to a frame with NUMERIC (Decimal on PostgreSQL) as float and no pandas string dtype."""
    engine = create_engine(url)
    with engine.connect() as connection:
        frame = pd.read_sql(sa.text(sql), connection)
    engine.dispose()
    for name in frame.columns:
        s = frame[name]
        if s.dtype == object and s.map(lambda v: isinstance(v, decimal.Decimal)).any():
            frame[name] = s.astype(float)
        elif pd.api.types.is_string_dtype(s):
            frame[name] = s.astype(object).where(s.notna(), None)
    return frame


def usulan(url: str) -> pd.DataFrame:
    return read(url, "SELECT * FROM usulan")


def in_force(ref: pd.DataFrame, tahun: int) -> pd.DataFrame:
    return ref[(ref.berlaku_mulai <= tahun) & (ref.berlaku_sampai.isna() | (ref.berlaku_sampai >= tahun))]


def names(url: str, table: str, tingkat: str, tahun: int = TAHUN) -> dict[str, str]:
    ref = read(url, f"SELECT kode, nama, berlaku_mulai, berlaku_sampai FROM {table} WHERE tingkat = '{tingkat}'")
    ref = in_force(ref, tahun)
    assert not ref.kode.duplicated().any(), f"overlapping versions of {table}"
    return dict(zip(ref.kode, ref.nama))


def opd_names(url: str, tahun: int = TAHUN) -> dict[str, str]:
    opd = read(url, f"SELECT kode_skpd, nama_skpd, tahun_mulai FROM ref_opd WHERE kode_pemda = '{PEMDA}'")
    version = opd.loc[opd.tahun_mulai <= tahun, "tahun_mulai"].max()
    opd = opd[opd.tahun_mulai == version]
    return dict(zip(opd.kode_skpd, opd.nama_skpd))


def rekap_pandas(u: pd.DataFrame, key: str) -> pd.DataFrame:
    u = u.assign(acc=(u.status == "diterima"), rej=(u.status == "ditolak"))
    u = u.assign(a_acc=u.anggaran.where(u.acc), a_rej=u.anggaran.where(u.rej))
    g = u.groupby(["tahun", "kode_pemda", "level", "stream", key], dropna=False)
    return pd.DataFrame(
        {
            "n_usulan": g.size(),
            "anggaran_usulan": g.anggaran.sum(),
            "n_diterima": g.acc.sum(),
            "anggaran_diterima": g.a_acc.sum(),
            "n_ditolak": g.rej.sum(),
            "anggaran_ditolak": g.a_rej.sum(),
        }
    ).reset_index()


def keyed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return (
        frame.assign(**{k: frame[k].astype(object).where(frame[k].notna(), "<null>") for k in keys})
        .sort_values(keys)
        .set_index(keys)
    )


@pytest.mark.parametrize(
    "view,key,lookup",
    [
        ("v_rekap_opd", "kode_opd_akhir", "opd"),
        ("v_rekap_kecamatan", "kode_kecamatan", "kecamatan"),
        ("v_rekap_bidang", "kode_bidang_urusan", "bidang"),
    ],
)
def test_rekap_equals_pandas_groupby(wh, view, key, lookup):
    u = usulan(wh)
    expected = keyed(rekap_pandas(u, key), ["tahun", "kode_pemda", "level", "stream", key])
    got = keyed(read(wh, f"SELECT * FROM {view}"), ["tahun", "kode_pemda", "level", "stream", key])
    assert len(got) == len(expected) and got.index.equals(expected.index)
    pd.testing.assert_frame_equal(got[MEASURES].astype(float), expected[MEASURES].astype(float), rtol=1e-12)
    assert got.n_usulan.sum() == len(u)
    assert set(u.level) <= set(got.index.get_level_values("level"))

    ref = {
        "opd": lambda: opd_names(wh),
        "kecamatan": lambda: names(wh, "ref_wilayah", "kecamatan"),
        "bidang": lambda: names(wh, "ref_nomenklatur", "bidang"),
    }[lookup]()
    name_col = next(c for c in got.columns if c.startswith("nama_"))
    codes = got.index.get_level_values(key)
    assert got[name_col].tolist() == [ref.get(c) for c in codes]
    assert got.loc[codes != "<null>", name_col].notna().all()  # the sample's codes are all in the references


def lineage_pandas(u: pd.DataFrame) -> pd.DataFrame:
    """Per desa: usulan raised and how many reached each level, following id_usulan_asal (or the same
    id_usulan when no asal is given) level by level."""

    def parent(rows: pd.DataFrame) -> pd.Series:
        return rows.id_usulan_asal.where(rows.id_usulan_asal.notna(), rows.id_usulan)

    d = u[u.level == "desa"][["tahun", "stream", "kode_pemda", "kode_kecamatan", "kode_desa", "id_usulan", "status"]]
    reach = d[["tahun", "stream", "id_usulan"]].assign(root=d.id_usulan)
    chain = reach.rename(columns={"id_usulan": "id"})
    flags = {}
    for level in ("kecamatan", "forum_opd", "kabkota"):
        rows = u[u.level == level]
        rows = rows.assign(parent=parent(rows))[["tahun", "stream", "parent", "id_usulan", "status", "anggaran"]]
        chain = chain[["tahun", "stream", "root", "id"]].merge(
            rows, left_on=["tahun", "stream", "id"], right_on=["tahun", "stream", "parent"]
        )
        chain = chain[["tahun", "stream", "root", "id_usulan", "status", "anggaran"]].rename(
            columns={"id_usulan": "id"}
        )
        flags[level] = set(chain.root)
        if level == "kabkota":
            accepted = chain[chain.status == "diterima"]
            flags["rkpd"] = set(accepted.root)
            rkpd_anggaran = accepted.groupby("root").anggaran.sum()
    d = d.assign(
        kec=d.id_usulan.isin(flags["kecamatan"]),
        opd=d.id_usulan.isin(flags["forum_opd"]),
        kab=d.id_usulan.isin(flags["kabkota"]),
        rkpd=d.id_usulan.isin(flags["rkpd"]),
        acc=d.status == "diterima",
        a=d.id_usulan.map(rkpd_anggaran).fillna(0.0),
    )
    g = d.groupby(["tahun", "kode_pemda", "kode_kecamatan", "kode_desa"], dropna=False)
    return pd.DataFrame(
        {
            "n_usulan_desa": g.size(),
            "n_diterima_desa": g.acc.sum(),
            "n_reached_kecamatan": g.kec.sum(),
            "n_reached_forum_opd": g.opd.sum(),
            "n_reached_kabkota": g.kab.sum(),
            "n_rkpd": g.rkpd.sum(),
            "anggaran_rkpd": g.a.sum(),
        }
    ).reset_index()


def test_funnel_desa_equals_lineage_joins(wh):
    u = usulan(wh)
    keys = ["tahun", "kode_pemda", "kode_kecamatan", "kode_desa"]
    expected = keyed(lineage_pandas(u), keys)
    got = keyed(read(wh, "SELECT * FROM v_funnel_desa"), keys)
    assert got.index.equals(expected.index)
    pd.testing.assert_frame_equal(got[expected.columns].astype(float), expected.astype(float), rtol=1e-12)
    steps = ["n_usulan_desa", "n_reached_kecamatan", "n_reached_forum_opd", "n_reached_kabkota", "n_rkpd"]
    for lower, upper in itertools.pairwise(steps):
        assert (got[lower] >= got[upper]).all(), (lower, upper)
    assert got.n_rkpd.sum() > 0 and got.n_reached_forum_opd.sum() < got.n_reached_kecamatan.sum()
    desa = names(wh, "ref_wilayah", "desa")
    assert got.nama_desa.tolist() == [desa.get(k) for k in got.index.get_level_values("kode_desa")]


def test_daftar_prioritas_kecamatan(wh):
    u = usulan(wh)
    acc = u[(u.level == "kecamatan") & (u.status == "diterima")]
    got = read(wh, "SELECT * FROM v_daftar_prioritas_kecamatan")
    assert sorted(got.id_usulan) == sorted(acc.id_usulan)
    for kecamatan, rows in got.groupby("kode_kecamatan"):
        assert list(rows.urutan) == list(range(1, len(rows) + 1)), kecamatan  # the view is ordered
        expected = acc[acc.kode_kecamatan == kecamatan].sort_values(["prioritas", "id_usulan"])
        assert list(rows.id_usulan) == list(expected.id_usulan), kecamatan
    merged = got.merge(acc, on="id_usulan", suffixes=("", "_u"))
    for column in ("volume", "anggaran", "lokasi", "satuan", "kode_opd_akhir", "prioritas"):
        assert (merged[column].fillna(-1) == merged[f"{column}_u"].fillna(-1)).all(), column
    kecamatan = names(wh, "ref_wilayah", "kecamatan")
    assert got.nama_kecamatan.tolist() == [kecamatan.get(k) for k in got.kode_kecamatan]
    opd = opd_names(wh)
    assert got.nama_opd.tolist() == [opd.get(k) for k in got.kode_opd_akhir]


def test_pagu_kecamatan_against_ceiling(wh):
    u = usulan(wh)
    acc = u[(u.level == "kecamatan") & (u.status == "diterima")]
    value = acc.groupby(["tahun", "kode_kecamatan"]).anggaran.sum()
    got = read(wh, "SELECT * FROM v_pagu_kecamatan").set_index(["tahun", "kode_kecamatan"])
    assert set(got.index) == set(value.index) | set(zip(PAGU.tahun, PAGU.kode_kecamatan))
    np.testing.assert_allclose(got.loc[value.index, "anggaran_diterima"], value, rtol=1e-12)
    n = acc.groupby(["tahun", "kode_kecamatan"]).size()
    assert got.loc[n.index, "n_diterima"].tolist() == n.tolist()
    for p in PAGU.itertuples():
        row = got.loc[(p.tahun, p.kode_kecamatan)]
        accepted = value.get((p.tahun, p.kode_kecamatan), 0.0)
        assert row.pagu == p.pagu and row.anggaran_diterima == pytest.approx(accepted)
        assert row.sisa_pagu == pytest.approx(p.pagu - accepted)
        assert row.share_of_pagu == pytest.approx(accepted / p.pagu, abs=1e-4)
        assert row.over_pagu == int(accepted > p.pagu)
    assert got.loc[(2026, "18.02.17"), "n_diterima"] == 0
    assert got.loc[(2026, "18.02.17"), "nama_kecamatan"] == names(wh, "ref_wilayah", "kecamatan", 2026)["18.02.17"]
    no_ceiling = got[~got.index.isin(list(zip(PAGU.tahun, PAGU.kode_kecamatan)))]
    assert no_ceiling.pagu.isna().all() and no_ceiling.sisa_pagu.isna().all() and no_ceiling.share_of_pagu.isna().all()


def draft_pandas(u: pd.DataFrame) -> pd.DataFrame:
    acc = u[(u.level == "kabkota") & (u.status == "diterima")]
    lines = []
    keys = ["tahun", "kode_pemda", "kode_sub_kegiatan", "kode_opd_akhir", "kode_kecamatan"]
    for key, rows in acc.groupby(keys, dropna=False):
        counts = rows.satuan.value_counts()
        if len(counts) <= 1:
            satuan = counts.index[0] if len(counts) else None
            volume = rows.volume.sum(min_count=1)
        else:
            major = counts[counts * 2 > len(rows)]
            satuan = major.index[0] if len(major) else "campuran"
            volume = rows.volume[rows.satuan == satuan].sum(min_count=1) if len(major) else np.nan
        lines.append(
            {
                **dict(zip(keys, key)),
                "satuan": satuan,
                "volume": volume,
                "n_satuan": len(counts),
                "pagu": rows.anggaran.sum(),
                "n_usulan": len(rows),
                "n_pokir": int((rows.stream == "pokir").sum()),
                "ids": sorted(rows.id_usulan),
            }
        )
    return pd.DataFrame(lines), acc


def test_rkpd_draft_lines(wh):
    u = usulan(wh)
    expected, acc = draft_pandas(u)
    got = read(wh, "SELECT * FROM v_rkpd_draft")
    assert got.pagu.sum() == pytest.approx(acc.anggaran.sum(), rel=1e-12)
    assert got.n_usulan.sum() == len(acc) and (got.n_musrenbang + got.n_pokir == got.n_usulan).all()
    ids = [i for s in got.id_usulan_list for i in s.split(",")]
    assert sorted(ids) == sorted(acc.id_usulan)  # every accepted kabkota usulan exactly once
    accepted = set(zip(acc.stream, acc.id_usulan))
    kab = u[u.level == "kabkota"]
    assert set(ids) <= set(kab.loc[kab.status == "diterima", "id_usulan"])
    assert not set(ids) & set(kab.loc[kab.status != "diterima", "id_usulan"])
    assert {s for s, _ in accepted} == {"musrenbang", "pokir"} and got.n_pokir.sum() > 0

    keys = ["tahun", "kode_pemda", "kode_sub_kegiatan", "kode_opd_akhir", "kode_kecamatan"]
    got = keyed(got.assign(ids=got.id_usulan_list.map(lambda s: sorted(s.split(",")))), keys)
    expected = keyed(expected, keys)
    assert got.index.equals(expected.index) and got.index.is_unique
    for column in ("n_usulan", "n_pokir", "n_satuan"):
        assert (got[column] == expected[column]).all(), column
    np.testing.assert_allclose(got.pagu, expected.pagu, rtol=1e-12)
    np.testing.assert_allclose(got.volume.astype(float), expected.volume.astype(float), rtol=1e-12)
    assert got.satuan.tolist() == expected.satuan.tolist()
    assert got.ids.tolist() == expected.ids.tolist()
    assert (got.n_satuan > 1).any()  # the sample has mixed units, so the majority/campuran rule is exercised
    sub = names(wh, "ref_nomenklatur", "sub_kegiatan")
    assert got.nama_sub_kegiatan.tolist() == [sub.get(k) for k in got.index.get_level_values("kode_sub_kegiatan")]
    kecamatan = names(wh, "ref_wilayah", "kecamatan")
    assert got.lokasi.tolist() == [kecamatan.get(k) for k in got.index.get_level_values("kode_kecamatan")]
    assert got.nama_opd.notna().all() and got.nama_sub_kegiatan.notna().all()


def test_views_expose_no_personal_data(sqlite_wh):
    for view in VIEW_NAMES:
        columns = set(read(sqlite_wh, f"SELECT * FROM {view} LIMIT 0").columns)
        assert not columns & set(USULAN.personal_columns), view


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    if "id_usulan_list" in frame:
        frame["id_usulan_list"] = frame.id_usulan_list.map(lambda s: ",".join(sorted(s.split(","))))
    for name in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[name]):
            frame[name] = frame[name].astype(float).round(4)
        else:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), "<null>")
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.postgres
@pytest.mark.parametrize("view", VIEW_NAMES)
def test_sqlite_and_postgres_give_the_same_numbers(sqlite_wh, postgresql_wh, view):
    lite = read(sqlite_wh, f"SELECT * FROM {view}")
    pg = read(postgresql_wh, f"SELECT * FROM {view}")
    assert list(lite.columns) == list(pg.columns) and len(lite) > 0
    lite, pg = (f.drop(columns=["run_id"], errors="ignore") for f in (lite, pg))  # each backend had its own run
    pd.testing.assert_frame_equal(comparable(lite), comparable(pg), check_dtype=False)


@pytest.mark.postgres
def test_planner_role_reads_the_views_only(postgresql_wh):
    role = f"rkpd_planner_{uuid.uuid4().hex[:8]}"
    engine = create_engine(postgresql_wh)
    try:
        grant_planner_role(engine, role=role)
        with engine.connect() as connection:
            owner = {v: connection.exec_driver_sql(f"SELECT count(*) FROM {v}").scalar_one() for v in VIEW_NAMES}
            connection.exec_driver_sql(f"SET ROLE {role}")
            planner = {v: connection.exec_driver_sql(f"SELECT count(*) FROM {v}").scalar_one() for v in VIEW_NAMES}
            assert planner == owner and all(owner.values())
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                connection.exec_driver_sql("SELECT count(*) FROM usulan")
    finally:
        drop_planner_role(engine, role)
        engine.dispose()
