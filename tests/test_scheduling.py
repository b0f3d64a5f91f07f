"""Scheduling as the README sets it up: `prefect deploy` of prefect.yaml onto a real `prefect server start` (a
subprocess on a free loopback port with its own PREFECT_HOME), a process worker that runs the deployment to
Completed without RKPD_HOME, and a run for a tahun without data that fails at once with one line."""

from __future__ import annotations

import inspect
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml

from flows import deployments
from flows.annual import annual_run
from flows.backfill import backfill
from flows.deployments import PROJECT, SERVE_SUFFIX, deployment_specs, load_flow, project_home, runner_deployments
from tasks.extract.preflight import missing_data
from warehouse.db import create_engine

BIN = Path(sys.executable).parent
DESA_CSV = (
    "ID Usulan;Kecamatan;Desa/Kelurahan;Usulan;Kamus Usulan;Volume;Satuan;Perkiraan Biaya (Rp);Hasil Musyawarah\n"
    "1802990001;Kalirejo;Kalirejo;Pembangunan sumur bor RT 3;;1;Unit;25000000;Diterima\n"
    "1802990002;Kalirejo;Kalirejo;Rehab jalan lingkungan dusun 2;;150;Meter;90000000;Diterima\n"
    "1802990003;Kalirejo;Kalirejo;Pelatihan menjahit ibu PKK;;1;Paket;15000000;Ditolak\n"
)


# --- the check every flow makes first -----------------------------------------------------------------
def test_missing_data_names_the_folder_and_what_to_pass(tmp_path):
    inbox = tmp_path / "inbox"
    assert "no inbox folder" in missing_data(inbox, 2027)
    (inbox / "2025" / "18.02" / "desa").mkdir(parents=True)
    problem = missing_data(inbox, 2027)
    assert problem == (
        f"{inbox / '2027'}: no data for tahun 2027 (tahun in the inbox: 2025); pass tahun=... or put files under "
        f"{inbox / '2027'}/<kode_pemda>/"
    )
    assert "\n" not in problem
    assert (
        missing_data(inbox, 2025)
        == f"{inbox / '2025'}: no source file (.csv, .xlsx, .json) in the "
        + "/".join(deployments_folders())
        + " folder(s) of 18.02"
    )
    (inbox / "2025" / "18.02" / "desa" / "usulan.csv").write_text(DESA_CSV, encoding="utf-8")
    assert missing_data(inbox, 2025) is None
    assert missing_data(inbox, 2025, ["desa"], ["18.02"]) is None
    assert "kecamatan folder" in missing_data(inbox, 2025, ["kecamatan"])
    assert missing_data(inbox, 2025, ["desa"], ["18.71"]) == f"{inbox / '2025'}: no folder for pemda 18.71"
    assert "unknown level folder(s) kelurahan" in missing_data(inbox, 2025, ["kelurahan"])


def deployments_folders() -> list[str]:
    from schemas.sources import FOLDER_LEVELS

    return list(FOLDER_LEVELS)


def test_a_flow_without_data_fails_with_one_line_before_touching_the_warehouse(tmp_path):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    state = annual_run.fn(tahun=2031, inbox=tmp_path, warehouse_url=url)  # the state the flow run ends in
    assert state.is_failed() and state.message.startswith(f"{tmp_path / '2031'}: no data for tahun 2031")
    assert not (tmp_path / "w.sqlite").exists()
    state = backfill.fn(tahun_from=2030, tahun_to=2031, inbox=tmp_path, warehouse_url=url)
    assert state.is_failed() and "no data for any tahun from 2030 to 2031" in state.message


# --- what the deployments run with -----------------------------------------------------------------------
def test_deployment_parameters_are_the_flow_defaults_and_the_readme_paths():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    for spec in deployment_specs():
        defaults = {
            name: p.default for name, p in inspect.signature(load_flow(spec["entrypoint"]).fn).parameters.items()
        }
        for name, value in spec["parameters"].items():
            if name in ("tahun_from", "tahun_to"):
                continue
            assert str(defaults[name]) == str(value), (spec["name"], name)
    parameters = yaml.safe_load((PROJECT / "prefect.yaml").read_text())["definitions"]["parameters"]
    assert "tahun" not in parameters  # next year's RKPD, as the forums of this year plan it
    assert parameters["inbox"] == "data/inbox" and "--out data/inbox" in readme


def test_serve_and_deploy_names_never_collide():
    specs = {s["name"] for s in deployment_specs()}
    served = {d.name for d in runner_deployments()}
    assert served == {name + SERVE_SUFFIX for name in specs} and not served & specs


def test_pull_step_without_rkpd_home_works_in_the_project(tmp_path, monkeypatch):
    monkeypatch.delenv("RKPD_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert project_home() == {"directory": str(PROJECT)} and Path.cwd() == PROJECT
    monkeypatch.setenv("RKPD_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="is not the rkpd-pipeline project folder"):
        project_home()
    pull = yaml.safe_load((PROJECT / "prefect.yaml").read_text())["pull"]
    assert pull == [{"flows.deployments.project_home": {}}] and deployments.project_home is project_home


# --- a real server, a real deployment, a real worker -------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    """`prefect server start` on a free loopback port with its own PREFECT_HOME; stopped afterwards."""
    home = tmp_path_factory.mktemp("prefect_home")
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    log = open(home / "server.log", "wb")  # noqa: SIM115 (closed at teardown)
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"prefect server did not start: {(home / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield {**env, "PREFECT_API_URL": url}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def prefect(env: dict, *args: str, cwd: Path = PROJECT, timeout: int = 300) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(BIN / "prefect"), "--no-prompt", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, (args, done.stdout[-3000:], done.stderr[-3000:])
    return done


def scheduled_runs(api_url: str, name: str, wait: float = 90) -> list:
    """The Scheduled flow runs the server's scheduler made for deployment `name` (waits for its first pass)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId, FlowRunFilter
    from prefect.settings import PREFECT_API_URL, temporary_settings

    deadline = time.monotonic() + wait
    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
        while True:
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
                flow_run_filter=FlowRunFilter(),
            )
            scheduled = [r for r in runs if r.state and r.state.is_scheduled() and r.auto_scheduled]
            if scheduled or time.monotonic() > deadline:
                return scheduled
            time.sleep(2)


def test_prefect_deploy_and_a_process_worker_run_the_deployment_to_completed(prefect_api, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    inbox = tmp_path / "inbox"
    (inbox / "2025" / "18.02" / "desa").mkdir(parents=True)
    (inbox / "2025" / "18.02" / "desa" / "usulan.csv").write_text(DESA_CSV, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    env = {k: v for k, v in prefect_api.items() if k != "RKPD_HOME"}

    prefect(env, "work-pool", "create", "rkpd-process", "--type", "process")
    deployed = prefect(env, "deploy", "--name", "desa")
    assert "musrenbang-desa/desa" in deployed.stdout
    assert scheduled_runs(env["PREFECT_API_URL"], "musrenbang-desa/desa"), "the server's scheduler made no run"

    worker = ("worker", "start", "--pool", "rkpd-process", "--run-once", "--limit", "1")
    with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}):
        good = run_deployment(
            "musrenbang-desa/desa",
            parameters={"tahun": 2025, "inbox": str(inbox), "lake_root": str(tmp_path / "lake"), "warehouse_url": url},
            timeout=0,
        )
        # the worker runs outside the project folder and without RKPD_HOME: the pull step finds the project
        first = prefect(env, *worker, cwd=tmp_path, timeout=600)
        empty = run_deployment("musrenbang-desa/desa", parameters={"tahun": 2031, "inbox": str(inbox)}, timeout=0)
        second = prefect(env, *worker, cwd=tmp_path, timeout=600)  # (the deployment runs one at a time)
        with get_client(sync_client=True) as client:
            good, empty = client.read_flow_run(good.id), client.read_flow_run(empty.id)

    assert good.state.is_completed(), (good.state, first.stdout[-3000:], first.stderr[-3000:])
    assert good.name == "desa-2025-all"
    with create_engine(url).connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM usulan WHERE level = 'desa'")).scalar_one() == 3
    assert empty.state.is_failed()
    assert empty.state.message == (
        f"{inbox / '2031'}: no data for tahun 2031 (tahun in the inbox: 2025); pass tahun=... or put files under "
        f"{inbox / '2031'}/<kode_pemda>/"
    )
    output = first.stdout + first.stderr
    assert "WIB  run desa-2025-all (musrenbang-desa) started" in output  # the worker's terminal shows each run
    assert "WIB  run desa-2025-all (musrenbang-desa) Completed after" in output
    assert "WIB  run desa-2031-all (musrenbang-desa) Failed after" in second.stdout + second.stderr
