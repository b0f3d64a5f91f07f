"""Backfill: re-run a range of tahun, one annual child flow per tahun (its own state, logs and retry)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.states import Failed

from flows.annual import annual_run
from flows.hooks import HOOKS


@flow(
    name="musrenbang-backfill",
    flow_run_name="backfill-{tahun_from}-{tahun_to}",
    **HOOKS,
)
def backfill(
    tahun_from: int,
    tahun_to: int,
    inbox: Path = Path("data/inbox"),
    lake_root: Path = Path("data/lake"),
    warehouse_url: str = "sqlite:///data/warehouse.sqlite",
    pemda: list[str] | None = None,
    force: bool = False,
) -> dict[int, str]:
    """Run `annual_run` for every tahun from `tahun_from` to `tahun_to` that has an inbox folder;
    returns the run id per tahun (tahun without data are reported as 'no inbox folder')."""
    if not any((Path(inbox) / str(tahun)).is_dir() for tahun in range(tahun_from, tahun_to + 1)):
        return Failed(message=f"{inbox}: no data for any tahun from {tahun_from} to {tahun_to}")
    done = {}
    for tahun in range(tahun_from, tahun_to + 1):
        if not (Path(inbox) / str(tahun)).is_dir():
            done[tahun] = "no inbox folder"
            continue
        done[tahun] = annual_run(
            tahun=tahun, inbox=inbox, lake_root=lake_root, warehouse_url=warehouse_url, pemda=pemda, force=force
        ).run_id
    return done
