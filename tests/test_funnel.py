"""The run report's funnel desa -> RKPD followed in the lake (tasks.deliver.funnel): on crafted lineage, and on
the sample run against the planners' view v_funnel_desa, which it stands in for when the lake is the
warehouse's."""

from __future__ import annotations

import logging
import shutil

import pandas as pd
import pytest
import sqlalchemy as sa

from schemas import USULAN
from tasks.deliver.funnel import lake_funnel
from tasks.deliver.run_report import _FUNNEL_SQL, run_figures
from tests.sample_run import SAMPLE_RUN_GROUP
from warehouse import lake
from warehouse.db import create_engine

TAHUN = 2025
# (level, kode_pemda, stream, id_usulan, id_usulan_asal, status, anggaran)
ROWS = [
    ("desa", "18.02", "musrenbang", "D1", None, "diterima", 10.0),
    ("desa", "18.02", "musrenbang", "D2", None, "diterima", 20.0),
    ("desa", "18.02", "musrenbang", "D3", None, "ditolak", 30.0),
    ("desa", "18.03", "musrenbang", "D1", None, "diterima", 10.0),  # another pemda's D1
    ("kecamatan", "18.02", "musrenbang", "D1", None, "diterima", 10.0),  # the same record rises
    ("kecamatan", "18.02", "musrenbang", "K2", "D2", "diterima", 20.0),  # id_usulan_asal names its parent
    ("kecamatan", "18.02", "musrenbang", "K3", "D2", "diterima", 5.0),  # a second child of D2
    ("kecamatan", "18.02", "musrenbang", "D3", None, "ditolak", 30.0),
    ("kecamatan", "18.02", "musrenbang", "K4", "D9", "diterima", 1.0),  # no such desa usulan
    ("kecamatan", "18.03", "musrenbang", "K1", "D1", "diterima", 10.0),
    ("forum_opd", "18.02", "musrenbang", "F1", "D1", "diterima", 10.0),  # its parent: kecamatan row D1
    ("forum_opd", "18.02", "musrenbang", "K2", None, "diterima", 20.0),
    ("forum_opd", "18.02", "musrenbang", "F3", "K3", "diterima", 5.0),
    ("forum_opd", "18.02", "musrenbang", "F4", "D2", "diterima", 2.0),  # D2 is a desa id: no kecamatan row D2
    ("kabkota", "18.02", "musrenbang", "B1", "F1", "ditolak", 100.0),
    ("kabkota", "18.02", "musrenbang", "B2", "K2", "diterima", 50.0),
    ("kabkota", "18.02", "musrenbang", "B3", "F3", "diterima", 25.0),
    ("kabkota", "18.02", "pokir", "P1", "F1", "diterima", 999.0),  # pokir: not from a desa usulan
    ("kabkota", "18.03", "musrenbang", "B1", "K1", "diterima", 7.0),  # the chain of 18.03 stops at forum_opd
]


@pytest.fixture
def crafted_lake(tmp_path):
    frame = pd.DataFrame(
        ROWS, columns=["level", "kode_pemda", "stream", "id_usulan", "id_usulan_asal", "status", "anggaran"]
    )
    frame = frame.assign(
        tahun=TAHUN, source="excel", uraian_usulan="usulan", source_file="f.xlsx", source_row=1, run_id="t"
    )
    frame = USULAN.conform(frame)
    keys = frame[["tahun", "level", "kode_pemda", "source"]].drop_duplicates().to_dict("records")
    lake.stage_slices(tmp_path, "t", [(USULAN, frame, keys)]).swap_in()
    return tmp_path


def test_funnel_follows_each_desa_usulan_up_by_its_parent_in_its_pemda_and_stream(crafted_lake):
    funnel = lake_funnel(crafted_lake, TAHUN, ["18.02"])
    assert funnel.figures.to_dict() == {
        "n_usulan_desa": 3,
        "n_diterima_desa": 2,
        "n_reached_kecamatan": 3,  # D1, D2 (twice) and D3; K4 has no desa usulan
        "n_reached_forum_opd": 2,  # D1 through F1, D2 through K2 and F3 (F4's parent is not at kecamatan)
        "n_reached_kabkota": 2,
        "n_rkpd": 1,  # D2 (B2 and B3); D1's B1 was rejected
        "anggaran_rkpd": 75.0,
    }
    assert funnel.rows_per_level == {"desa": 3, "kecamatan": 5, "forum_opd": 4, "kabkota": 4}
    both = lake_funnel(crafted_lake, TAHUN, ["18.02", "18.03"]).figures
    assert (both.n_usulan_desa, both.n_reached_kecamatan, both.n_reached_kabkota) == (4, 4, 2)
    assert lake_funnel(crafted_lake, TAHUN + 1, ["18.02"]).figures.sum() == 0  # a tahun the lake has not


def _view_funnel(engine: sa.Engine) -> pd.Series:
    with engine.connect() as connection:
        statement = sa.text(_FUNNEL_SQL).bindparams(sa.bindparam("pemda", expanding=True))
        frame = pd.read_sql(statement, connection, params={"t": TAHUN, "pemda": ["18.02"]})
    return frame.iloc[0].astype(float)


@SAMPLE_RUN_GROUP
def test_the_lake_funnel_of_the_sample_run_is_the_views_and_a_foreign_lake_is_not_used(
    sample_run_sqlite, tmp_path, caplog
):
    run = sample_run_sqlite.copy(tmp_path / "run")
    engine = create_engine(run.url)
    try:
        expected = _view_funnel(engine)
        assert expected.n_rkpd > 0 and expected.n_reached_forum_opd < expected.n_reached_kecamatan
        followed = lake_funnel(run.lake, TAHUN, ["18.02"]).figures
        pd.testing.assert_series_equal(followed[expected.index], expected, check_names=False, rtol=1e-12)
        with caplog.at_level(logging.WARNING, logger="tasks.deliver.run_report"):
            figures = run_figures(engine, TAHUN, ["18.02"], run.lake)
        assert not caplog.records
        pd.testing.assert_series_equal(figures["funnel"][expected.index], expected, check_names=False, rtol=1e-12)

        # a lake that lacks a slice the warehouse holds: the funnel comes from the view, with a warning
        slice_dir = next((run.lake / USULAN.name / f"tahun={TAHUN}" / "level=kecamatan").glob("kode_pemda=*/source=*"))
        shutil.rmtree(slice_dir)
        assert lake_funnel(run.lake, TAHUN, ["18.02"]).figures.n_reached_kecamatan < expected.n_reached_kecamatan
        with caplog.at_level(logging.WARNING, logger="tasks.deliver.run_report"):
            figures = run_figures(engine, TAHUN, ["18.02"], run.lake)
        assert "the lake holds other rows than the warehouse" in caplog.text
        pd.testing.assert_series_equal(figures["funnel"][expected.index], expected, check_names=False, rtol=1e-12)
    finally:
        engine.dispose()
