"""A slice on its way through the steps: staged rows, the issues found so far, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class SliceKey:
    """What a source file belongs to: the unit that is replaced whole on a re-run."""

    tahun: int
    level: str
    stream: str
    kode_pemda: str
    source: str

    def as_dict(self) -> dict:
        return {"tahun": self.tahun, "level": self.level, "kode_pemda": self.kode_pemda, "source": self.source}


@dataclass
class FileResult:
    path: str
    fingerprint: str | None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error: str | None = None


@dataclass
class SliceBatch:
    key: SliceKey
    run_id: str
    staged: pd.DataFrame  # usulan contract columns; index = row id within the slice
    raw: pd.DataFrame  # the cells as read, same index, for the quarantine record
    issues: pd.DataFrame  # row, rule, field, value, severity, reason_id, reason_en
    files: list[FileResult] = field(default_factory=list)
    signature: str | None = None

    @property
    def failed(self) -> bool:
        return any(f.error for f in self.files)

    def add_issues(self, issues: pd.DataFrame) -> None:
        if len(issues):
            self.issues = pd.concat([self.issues, issues], ignore_index=True) if len(self.issues) else issues

    @property
    def error_rows(self) -> pd.Index:
        errors = self.issues[self.issues["severity"] == "error"]
        return pd.Index(errors["row"].unique())

    def clean(self) -> pd.DataFrame:
        """Rows with no error issue so far."""
        return self.staged.drop(index=self.error_rows)

    def count_files(self, loaded: pd.DataFrame) -> None:
        """Per-file loaded/quarantined counts from the final frame; read = loaded + quarantined."""
        loaded_per_file = loaded.groupby("source_file").size()
        quarantined = self.staged.loc[self.error_rows].groupby("source_file").size()
        for f in self.files:
            f.rows_loaded = int(loaded_per_file.get(f.path, 0))
            f.rows_quarantined = int(quarantined.get(f.path, 0))
            if f.rows_loaded + f.rows_quarantined != f.rows_read:
                raise AssertionError(f"{f.path}: read {f.rows_read} != loaded {f.rows_loaded} + "
                                     f"quarantined {f.rows_quarantined}")
