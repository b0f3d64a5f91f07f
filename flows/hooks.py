"""State hooks of every flow: failure alerts (a JSON file in the alert folder, and a POST to a webhook when one is
configured), a crashed run marked failed in the warehouse at once, and one line per start and end of a
deployment's run in the terminal that runs it (`rkpd serve` or a worker). `HOOKS` gives them to `@flow`."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

log = logging.getLogger(__name__)


def alert_dir() -> Path:
    return Path(os.environ.get("RKPD_ALERT_DIR") or Path(os.environ.get("RKPD_DATA_DIR", "data")) / "alerts")


def alert_on_failure(flow, flow_run, state) -> None:
    """Prefect on_failure hook of every flow: write `<alerts>/<flow run name>.json`; POST it to
    $RKPD_ALERT_WEBHOOK when set (a failing webhook is logged, never raised)."""
    alert = {
        "flow": flow.name,
        "flow_run": flow_run.name,
        "flow_run_id": str(flow_run.id),
        "parameters": {k: str(v) for k, v in (flow_run.parameters or {}).items()},
        "state": state.name,
        "message": state.message,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    folder = alert_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{flow_run.name}.json").write_text(json.dumps(alert, indent=1), encoding="utf-8")
    url = os.environ.get("RKPD_ALERT_WEBHOOK")
    if url:
        try:
            httpx.post(url, json=alert, timeout=10).raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("alert webhook %s failed: %s", url, exc)


def mark_run_crashed(flow, flow_run, state) -> None:
    """Prefect on_crashed hook: the run's etl_run row (found by this flow run's id) is marked failed at once,
    instead of waiting for the next run to find it still `running`. Never raises."""
    import sqlalchemy as sa

    from schemas import RUN
    from warehouse.bulk import utcnow
    from warehouse.db import scoped_engine
    from warehouse.models import TABLES

    url = (flow_run.parameters or {}).get("warehouse_url")
    if not url:
        return
    runs = TABLES[RUN.name]
    try:
        with scoped_engine(str(url)) as engine, engine.begin() as connection:
            connection.execute(
                runs.update()
                .where(runs.c.run_status == "running", runs.c.parameters.contains(str(flow_run.id)))
                .values(run_status="failed", finished_at=utcnow())
            )
    except sa.exc.SQLAlchemyError as exc:
        log.warning("could not mark the crashed run failed in %s: %s", url, exc)


JAKARTA = ZoneInfo("Asia/Jakarta")


def announce(flow, flow_run, state) -> None:
    """Prefect state hook (running, completed, failed, crashed, cancelled) of every flow: for a run started by a
    deployment, one line on stdout, which `rkpd serve` and a worker show, e.g.
    `2026-01-05 02:00:03 WIB  run desa-2026-all (musrenbang-desa) Completed after 41 s`."""
    if flow_run.deployment_id is None:  # a run called directly (rkpd run, tests) reports for itself
        return
    now = datetime.now(JAKARTA)
    what = "started" if state.is_running() else state.name
    line = f"{now:%Y-%m-%d %H:%M:%S} WIB  run {flow_run.name} ({flow.name}) {what}"
    if not state.is_running() and flow_run.start_time is not None:
        line += f" after {(datetime.now(UTC) - flow_run.start_time).total_seconds():,.0f} s"
    if state.is_failed() or state.is_crashed():
        line += f": {state.message}"
    print(line, file=sys.stdout, flush=True)


HOOKS = {
    "on_running": [announce],
    "on_completion": [announce],
    "on_failure": [alert_on_failure, announce],
    "on_crashed": [mark_run_crashed, announce],
    "on_cancellation": [announce],
}
