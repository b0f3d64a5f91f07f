"""Orchestration: deployments from prefect.yaml on a real (test) Prefect server, per-level and backfill
flows, and a failure in the load step that rolls the slice back and raises the alert."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from flows import annual
from flows.annual import annual_run
from flows.backfill import backfill
from flows.deployments import runner_deployments
from flows.levels import kecamatan_run
from schemas import USULAN
from tasks.extract.discover import SIZE
from tests.sample_run import SAMPLE_RUN_GROUP
from warehouse.db import create_engine
from warehouse.lake import read_dataset


def counts(url: str) -> pd.DataFrame:
    with create_engine(url).connect() as connection:
        return pd.read_sql(
            sa.text(
                "SELECT level, source, count(*) AS n, sum(anggaran) AS anggaran FROM usulan "
                "GROUP BY level, source ORDER BY level, source"
            ),
            connection,
        )


def lake_counts(lake) -> dict:
    table = read_dataset(lake, USULAN).to_pandas()
    return table.groupby(["level", "source"]).size().to_dict()


def test_served_deployments_from_prefect_yaml_register_with_their_calendar(prefect_server, sample_inbox, tmp_path):
    """`rkpd serve`'s deployments (<name>-serve); tests/test_scheduling.py runs a deployment to Completed."""
    from prefect import get_client

    overrides = {"inbox": str(sample_inbox), "warehouse_url": f"sqlite:///{tmp_path / 'w.sqlite'}", "tahun": 2025}
    deployments = {d.name: d for d in runner_deployments(overrides=overrides)}
    names = {"desa", "kecamatan", "forum-opd", "pokir", "kabkota", "provinsi", "annual", "backfill"}
    assert set(deployments) == {f"{name}-serve" for name in names}
    deployment_id = deployments["desa-serve"].apply()

    async def registered():
        async with get_client() as client:
            return await client.read_deployment(deployment_id)

    stored = asyncio.run(registered())
    assert [(s.schedule.cron, s.schedule.timezone) for s in stored.schedules] == [("0 2 * 1 *", "Asia/Jakarta")]
    assert stored.name == "desa-serve" and stored.parameters["inbox"] == str(sample_inbox)


def test_level_flow_and_backfill(prefect_server, sample_inbox, tmp_path):
    url, lake = f"sqlite:///{tmp_path / 'w.sqlite'}", tmp_path / "lake"
    report = kecamatan_run(tahun=2025, inbox=sample_inbox, lake_root=lake, warehouse_url=url, pemda=["18.02"])
    assert set(report.files.level) == {"kecamatan"}
    done = backfill(tahun_from=2024, tahun_to=2025, inbox=sample_inbox, lake_root=lake, warehouse_url=url)
    assert done[2024] == "no inbox folder" and done[2025].startswith("2025-")
    assert set(counts(url).level) == {"desa", "kecamatan", "forum_opd", "kabkota", "provinsi"}


@SAMPLE_RUN_GROUP
def test_failed_load_rolls_the_slice_back_and_alerts(sample_run_sqlite, sample_inbox, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    shutil.copytree(sample_inbox, inbox)  # the files keep their times: only the changed one is read again
    run = sample_run_sqlite.copy(tmp_path / "run")
    url, lake = run.url, run.lake
    before, lake_before = counts(url), lake_counts(lake)

    provinsi = next((inbox / "2025" / "18.02" / "provinsi").glob("*.csv"))
    lines = provinsi.read_bytes().splitlines(keepends=True)
    provinsi.write_bytes(b"".join(lines[:-3]))  # a changed file: its slice is loaded again

    import warehouse.bulk as bulk

    real_append = bulk.append

    def failing_append(connection, table, frame):
        real_append(connection, table, frame)  # the rows are written inside the transaction, then it fails
        if table.name == "usulan":
            raise RuntimeError("disk full while loading usulan")

    monkeypatch.setattr(bulk, "append", failing_append)
    alerts = tmp_path / "alerts"
    monkeypatch.setenv("RKPD_ALERT_DIR", str(alerts))
    with pytest.raises(RuntimeError, match="disk full"):
        annual_run(tahun=2025, inbox=inbox, lake_root=lake, warehouse_url=url, extracts=False)

    pd.testing.assert_frame_equal(counts(url), before)  # no partial slice in the warehouse
    assert lake_counts(lake) == lake_before  # the lake slice was put back
    assert not list(lake.rglob(".*.old-*")) and not list(lake.glob(".staging-*"))
    alert = json.loads((alerts / "annual-2025-all.json").read_text())  # no pemda given: all regions
    assert alert["state"] == "Failed" and "disk full" in alert["message"]


def test_a_failed_load_stops_the_run_before_the_level_above_is_published(sample_inbox, tmp_path, monkeypatch):
    """A level loads in a thread while the flow reads, checks and maps the level above it: when that load fails,
    the run stops with its error before the level above is published, and nothing of either is left."""
    import warehouse.bulk as bulk

    real_append = bulk.append
    loading: list[set] = []

    def failing_append(connection, table, frame):
        real_append(connection, table, frame)
        if table.name == "usulan":
            loading.append(set(frame.level))
            raise RuntimeError("disk full while loading usulan")

    monkeypatch.setattr(bulk, "append", failing_append)
    monkeypatch.setattr(annual, "LOAD_BESIDE_ROWS", 0)  # the sample's levels are small: load them beside the flow
    url, lake = f"sqlite:///{tmp_path / 'w.sqlite'}", tmp_path / "lake"
    with pytest.raises(RuntimeError, match="disk full"):
        annual_run(tahun=2025, inbox=sample_inbox, lake_root=lake, warehouse_url=url, extracts=False)

    assert loading == [{"desa"}]  # the level above was never loaded
    assert counts(url).empty
    assert lake_counts(lake) == {} and not list(lake.glob(".staging-*"))
    with create_engine(url).connect() as connection:
        runs = connection.execute(sa.text("SELECT run_status FROM etl_run")).scalars().all()
    assert runs == ["failed"]


def test_regions_together_on_worker_processes_load_as_when_run_alone(prefect_server, tmp_path, monkeypatch):
    """Every stage runs once over a level of all regions; files are read in worker processes (a local pool,
    here forced for a small run) and each level loads in a thread beside the flow while the next one is read,
    checked and mapped (forced too). The warehouse is the same as when each region runs alone, read and loaded
    inline."""
    import sample
    import tasks.extract.read as read

    inbox = tmp_path / "inbox"
    sample.generate(inbox, tahun=2025, pemda=("18.71", "18.72"), seed=7)
    queries = (
        "SELECT kode_pemda, level, count(*) AS n, sum(anggaran) AS anggaran, count(kode_opd_akhir) AS mapped "
        "FROM usulan GROUP BY kode_pemda, level ORDER BY kode_pemda, level",
        "SELECT kode_pemda, level, rule, field, count(*) AS n FROM quarantine "
        "GROUP BY kode_pemda, level, rule, field ORDER BY kode_pemda, level, rule, field",
    )
    alone = tmp_path / "alone"
    url = f"sqlite:///{alone / 'w.sqlite'}"
    for kode in ("18.71", "18.72"):
        report = annual_run(
            tahun=2025, inbox=inbox, lake_root=alone / "lake", warehouse_url=url, pemda=[kode], extracts=False
        )
        assert report.balanced and not report.failures
    with create_engine(url).connect() as c:
        expected = [pd.read_sql(sa.text(q), c) for q in queries]

    pools = []
    real_pool = read.local_pool

    def counted_pool(workers=None):
        pools.append(workers)
        return real_pool(workers)

    monkeypatch.setattr(annual, "INLINE_BYTES", 0)
    monkeypatch.setattr(read, "INLINE_BYTES", 0)
    monkeypatch.setattr(annual, "local_pool", counted_pool)
    loaded_in: list[str] = []
    real_publish = annual.publish_level

    def recorded_publish(*args):
        loaded_in.append(threading.current_thread().name)
        return real_publish(*args)

    monkeypatch.setattr(annual, "LOAD_BESIDE_ROWS", 0)
    monkeypatch.setattr(annual, "publish_level", recorded_publish)
    together = tmp_path / "together"
    url = f"sqlite:///{together / 'w.sqlite'}"
    report = annual_run(tahun=2025, inbox=inbox, lake_root=together / "lake", warehouse_url=url, extracts=False)
    assert report.balanced and not report.failures and pools == [annual.CORES]
    assert len(loaded_in) == 5 and all(name.startswith("load") for name in loaded_in)  # one per level, beside
    with create_engine(url).connect() as c:
        got = [pd.read_sql(sa.text(q), c) for q in queries]
    usulan, quarantine = got
    assert set(usulan.kode_pemda) == {"18.71", "18.72"} and quarantine.n.sum() > 0
    for want, have in zip(expected, got):
        pd.testing.assert_frame_equal(want, have)

    # A partition per region (as a national run is cut): every level of 18.71, then every level of 18.72; one
    # run, one run row, every file counted once, and the same warehouse.
    monkeypatch.setattr(annual, "PARTITION_BYTES", 1)
    parted = tmp_path / "parted"
    url = f"sqlite:///{parted / 'w.sqlite'}"
    report = annual_run(tahun=2025, inbox=inbox, lake_root=parted / "lake", warehouse_url=url, extracts=False)
    assert report.balanced and not report.failures
    assert report.files.source_file.is_unique and set(report.files.kode_pemda) == {"18.71", "18.72"}
    with create_engine(url).connect() as c:
        for want, have in zip(expected, [pd.read_sql(sa.text(q), c) for q in queries]):
            pd.testing.assert_frame_equal(want, have)
        assert c.execute(sa.text("SELECT count(*) FROM etl_run")).scalar() == 1


def test_partitions_cut_regions_in_order_into_runs_of_similar_bytes():
    files = pd.DataFrame({"kode_pemda": ["11.02", "11.01", "11.01", "11.03", "11.04"], SIZE: [40, 30, 30, 50, 60]})
    assert annual.partitions(files, 1000) == [["11.01", "11.02", "11.03", "11.04"]]
    assert annual.partitions(files, 100) == [["11.01"], ["11.02", "11.03"], ["11.04"]]  # 60, 90, 60 bytes
    assert annual.partitions(files, 60) == [["11.01"], ["11.02"], ["11.03"], ["11.04"]]
    assert annual.partitions(files.iloc[:0], 100) == []
