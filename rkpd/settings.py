"""Where things are: data folders and the warehouse URL, from the environment with sane defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
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
    data_dir = Path(os.environ.get("RKPD_DATA_DIR", "data")).resolve()
    url = os.environ.get("RKPD_WAREHOUSE_URL") or f"sqlite:///{data_dir / 'warehouse.sqlite'}"
    reference_dir = Path(os.environ.get("RKPD_REFERENCE_DIR") or data_dir / "reference").resolve()
    return Settings(data_dir, url, reference_dir)


def quiet_services() -> None:
    """Offline-friendly Prefect and GX defaults: no telemetry, a project-local Prefect home."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(Path(".prefect").resolve()))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
