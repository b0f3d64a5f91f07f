"""Failure alerts: a JSON file in the alert folder, and a POST to a webhook when one is configured."""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

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
