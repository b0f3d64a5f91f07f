"""Where things are: data folders and the warehouse URL, from the environment with sane defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse_url: str
    reference_dir: Path  # each pemda's own reference lists: <reference_dir>/<kode_pemda>/<tahun>/<list>.csv

    @property
    def inbox(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def sample_inbox(self) -> Path:
        return self.data_dir / "sample" / "inbox"

    @property
    def lake(self) -> Path:
        return self.data_dir / "lake"


def load_settings() -> Settings:
    """The settings the environment gives now (worked out once per environment and working directory: the
    reference look-ups of a run ask for them thousands of times)."""
    environ = os.environ
    return _settings(
        environ.get("RKPD_DATA_DIR", "data"),
        environ.get("RKPD_WAREHOUSE_URL"),
        environ.get("RKPD_REFERENCE_DIR"),
        os.getcwd(),
    )


@lru_cache(maxsize=64)
def _settings(data: str, warehouse_url: str | None, reference: str | None, cwd: str) -> Settings:
    data_dir = (Path(cwd) / data).resolve()
    url = warehouse_url or f"sqlite:///{data_dir / 'warehouse.sqlite'}"
    reference_dir = (Path(cwd) / (reference or data_dir / "reference")).resolve()
    return Settings(data_dir, url, reference_dir)


def quiet_services() -> None:
    """Offline-friendly Prefect and GX defaults: no telemetry, a project-local Prefect home."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(Path(".prefect").resolve()))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
