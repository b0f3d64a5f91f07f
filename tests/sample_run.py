"""The sample run a session shares (fixtures in tests/conftest.py), and the mark that keeps its users on one
pytest-xdist worker."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

SAMPLE_RUN_GROUP = pytest.mark.xdist_group("sample_run")


@dataclass(frozen=True)
class SampleRun:
    """The annual run of the sample (tahun 2025, 18.02) into a warehouse: lake/, quality/, reports/, extracts/
    and, on SQLite, w.sqlite under `root`. Shared by the session: read it, or change a `copy` of it. Tests that
    use it are marked `SAMPLE_RUN_GROUP`, so that pytest-xdist runs them on one worker (one run, not one per
    worker)."""

    backend: str
    url: str
    root: Path
    report: object  # flows.annual.RunReport

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    def copy(self, to: Path) -> SampleRun:
        """A private copy of a SQLite run (warehouse, lake and outputs) that a test may change."""
        assert self.backend == "sqlite", "only a SQLite run is copied"
        shutil.copytree(self.root, to)
        return SampleRun(self.backend, f"sqlite:///{to / 'w.sqlite'}", to, self.report)


def run_sample(backend: str, url: str, root: Path, inbox: Path) -> SampleRun:
    from flows.annual import annual_run

    report = annual_run(tahun=2025, inbox=inbox, lake_root=root / "lake", warehouse_url=url)
    assert report.balanced and not report.failures
    return SampleRun(backend, url, root, report)
