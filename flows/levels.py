"""One flow per forum level, for the Musrenbang calendar: each runs only its level's folder of the inbox
(pokir: the DPRD stream) for a tahun and one region, a list, or every region found."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.states import Failed

from flows.annual import RunReport, execute, next_tahun, run_name
from flows.hooks import HOOKS
from schemas.sources import FOLDER_LEVELS
from tasks.extract.preflight import missing_data


def level_flow(folder: str):
    """The flow of one inbox level folder (desa, kecamatan, forum_opd, kabkota, provinsi, pokir)."""
    if folder not in FOLDER_LEVELS:
        raise ValueError(f"unknown level folder {folder!r}")

    def run_level(
        tahun: int | None = None,
        inbox: Path = Path("data/inbox"),
        lake_root: Path = Path("data/lake"),
        warehouse_url: str = "sqlite:///data/warehouse.sqlite",
        pemda: list[str] | None = None,
        force: bool = False,
        max_error_share: float = 0.25,
    ) -> RunReport:
        if problem := missing_data(inbox, tahun or next_tahun(), [folder], pemda):
            return Failed(message=problem)
        return execute(
            tahun, inbox, lake_root, warehouse_url, pemda, [folder], force=force, max_error_share=max_error_share
        )

    run_level.__doc__ = f"Run the {folder} folder of the inbox for a tahun (default: next year's RKPD)."
    # deployments find a flow by its module-level name (flows/levels.py:desa_run)
    run_level.__name__ = run_level.__qualname__ = f"{folder}_run"
    return flow(
        run_level,
        name=f"musrenbang-{folder.replace('_', '-')}",
        flow_run_name=lambda: run_name(folder),
        **HOOKS,
    )


desa_run = level_flow("desa")
kecamatan_run = level_flow("kecamatan")
forum_opd_run = level_flow("forum_opd")
kabkota_run = level_flow("kabkota")
provinsi_run = level_flow("provinsi")
pokir_run = level_flow("pokir")
