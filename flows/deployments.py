"""Deployments built from prefect.yaml, so `rkpd serve` and `prefect deploy` share one calendar.

The two can share one Prefect server: `prefect deploy` registers `<flow>/<name>` (run by a worker of the
`rkpd-process` pool), `rkpd serve` registers `<flow>/<name>-serve` (run by the serve process), so neither
replaces the other's deployment. Both fire their schedules, so keep one of them scheduled (README).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import yaml
from prefect.schedules import Cron

PROJECT = Path(__file__).resolve().parent.parent
SERVE_SUFFIX = "-serve"


def project_home(directory: str | None = None) -> dict[str, str]:
    """prefect.yaml pull step: work in `directory`, else $RKPD_HOME, else the project folder of this code, so a
    deployment's relative paths (data/inbox, flows/levels.py) resolve there whoever runs it."""
    home = Path(directory or os.environ.get("RKPD_HOME") or PROJECT).expanduser().resolve()
    if not (home / "flows").is_dir():
        raise FileNotFoundError(f"RKPD_HOME={home} is not the rkpd-pipeline project folder (it has no flows/)")
    os.chdir(home)
    return {"directory": str(home)}


def load_flow(entrypoint: str):
    """`flows/levels.py:desa_run` -> the flow object."""
    path, name = entrypoint.split(":")
    module = ".".join(Path(path).with_suffix("").parts)
    return getattr(importlib.import_module(module), name)


def deployment_specs(path: Path = PROJECT / "prefect.yaml") -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["deployments"]


def runner_deployments(path: Path = PROJECT / "prefect.yaml", overrides: dict | None = None) -> list:
    """Every deployment of prefect.yaml as a RunnerDeployment named `<name>-serve` (for `serve`), parameters
    overridable."""
    out = []
    for spec in deployment_specs(path):
        schedules = [Cron(s["cron"], timezone=s.get("timezone"), slug=s.get("slug")) for s in spec.get("schedules", [])]
        flow = load_flow(spec["entrypoint"])
        out.append(
            flow.to_deployment(
                name=spec["name"] + SERVE_SUFFIX,
                description=spec.get("description"),
                schedules=schedules,
                parameters={**spec.get("parameters", {}), **(overrides or {})},
                concurrency_limit=spec.get("concurrency_limit"),
            )
        )
    return out
