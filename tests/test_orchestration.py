"""Orchestration: deployments from prefect.yaml on a real (test) Prefect server, per-level and backfill
flows, and a failure in the load step that rolls the slice back and raises the alert."""

from __future__ import annotations

import asyncio
import json
import shutil

import pandas as pd
import pytest
import sqlalchemy as sa

from flows import annual
from flows.annual import annual_run, partition_threads
from flows.backfill import backfill
from flows.deployments import runner_deployments
from flows.levels import kecamatan_run
from schemas import USULAN
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


def test_failed_load_rolls_the_slice_back_and_alerts(prefect_server, sample_inbox, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    shutil.copytree(sample_inbox, inbox)
    url, lake = f"sqlite:///{tmp_path / 'w.sqlite'}", tmp_path / "lake"
    annual_run(tahun=2025, inbox=inbox, lake_root=lake, warehouse_url=url)
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
        annual_run(tahun=2025, inbox=inbox, lake_root=lake, warehouse_url=url)

    pd.testing.assert_frame_equal(counts(url), before)  # no partial slice in the warehouse
    assert lake_counts(lake) == lake_before  # the lake slice was put back
    assert not list(lake.rglob(".*.old-*")) and not list(lake.rglob(".*.tmp-*"))
    alert = json.loads((alerts / "annual-2025-all.json").read_text())  # no pemda given: all regions
    assert alert["state"] == "Failed" and "disk full" in alert["message"]


def test_regions_validated_together_in_a_partition_load_as_when_run_alone(prefect_server, tmp_path, monkeypatch):
    """Also: with the thread pool bounded to one thread, the two one-region partitions never overlap
    (Prefect's unbounded default started every partition at once)."""
    from prefect.settings import PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS, temporary_settings

    import sample

    running, overlap = [], []
    real_partition = annual.run_partition

    def tracked(slices, settings):
        running.append(1)
        overlap.append(len(running))
        try:
            return real_partition(slices, settings)
        finally:
            running.pop()

    monkeypatch.setattr(annual, "run_partition", tracked)
    with temporary_settings({PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS: 1}):
        one_thread = annual_run.with_options(task_runner=partition_threads())
    inbox = tmp_path / "inbox"
    sample.generate(inbox, tahun=2025, pemda=("18.71", "18.72"), seed=7)
    tables = {}
    for size in (1, 2):
        work = tmp_path / f"size{size}"
        url = f"sqlite:///{work / 'w.sqlite'}"
        report = one_thread(
            tahun=2025, inbox=inbox, lake_root=work / "lake", warehouse_url=url, partition_size=size, extracts=False
        )
        assert report.balanced and not report.failures
        with create_engine(url).connect() as c:
            tables[size] = [
                pd.read_sql(sa.text(q), c)
                for q in (
                    "SELECT kode_pemda, level, count(*) AS n, sum(anggaran) AS anggaran, "
                    "count(kode_opd_akhir) AS mapped FROM usulan GROUP BY kode_pemda, level ORDER BY kode_pemda, level",
                    "SELECT kode_pemda, level, rule, field, count(*) AS n FROM quarantine "
                    "GROUP BY kode_pemda, level, rule, field ORDER BY kode_pemda, level, rule, field",
                )
            ]
        docs = sorted(p.name for p in (work / "quality" / "data_docs").iterdir())
        assert docs == (["18_71", "18_72"] if size == 1 else ["18_71-18_72"])  # one GX validation per partition
    usulan, quarantine = tables[2]
    assert set(usulan.kode_pemda) == {"18.71", "18.72"} and quarantine.n.sum() > 0
    for alone, together in zip(tables[1], tables[2]):
        pd.testing.assert_frame_equal(alone, together)
    assert overlap == [1, 1, 1]  # two partitions one after the other, then the single partition
