"""Deployments built from prefect.yaml, so `rkpd serve` and `prefect deploy` share one calendar."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml
from prefect.schedules import Cron

PROJECT = Path(__file__).resolve().parent.parent


def load_flow(entrypoint: str):
    """`flows/levels.py:desa_run` -> the flow object."""
    path, name = entrypoint.split(":")
    module = ".".join(Path(path).with_suffix("").parts)
    return getattr(importlib.import_module(module), name)


def deployment_specs(path: Path = PROJECT / "prefect.yaml") -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["deployments"]


def runner_deployments(path: Path = PROJECT / "prefect.yaml", overrides: dict | None = None) -> list:
    """Every deployment of prefect.yaml as a RunnerDeployment (for `serve`), parameters overridable."""
    out = []
    for spec in deployment_specs(path):
        schedules = [Cron(s["cron"], timezone=s.get("timezone"), slug=s.get("slug")) for s in spec.get("schedules", [])]
        flow = load_flow(spec["entrypoint"])
        out.append(
            flow.to_deployment(
                name=spec["name"],
                description=spec.get("description"),
                schedules=schedules,
                parameters={**spec.get("parameters", {}), **(overrides or {})},
                concurrency_limit=spec.get("concurrency_limit"),
            )
        )
    return out
