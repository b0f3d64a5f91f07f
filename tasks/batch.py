"""A slice on its way through the steps: staged rows, the issues found so far, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from tasks.validate.rules import ValidationConfig


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
    config: ValidationConfig = field(default_factory=ValidationConfig)
    checked: dict[str, pd.Index] = field(default_factory=dict)  # rule -> rows it was applied to
    stopped: str | None = None  # why the whole slice is kept out (error share over the threshold)

    @property
    def failed(self) -> bool:
        return any(f.error for f in self.files)

    def add_issues(
        self, issues: pd.DataFrame, rules: list[str] | tuple[str, ...] = (), rows: pd.Index | None = None
    ) -> None:
        """Record issues (severity as configured for the run) and which rows `rules` were applied to."""
        for rule in rules:
            self.checked[rule] = rows if rows is not None else self.staged.index
        if len(issues):
            issues = issues.assign(severity=issues["rule"].map(self.config.severity_of))
            self.issues = pd.concat([self.issues, issues], ignore_index=True) if len(self.issues) else issues

    def rebind(self, run_id: str, config: ValidationConfig) -> SliceBatch:
        """A copy of this extraction for a run, with the run's severities. The extraction itself (e.g. held
        in Prefect's result cache and handed out again to the next run in this process) stays as read."""
        issues = self.issues.copy()
        if len(issues):
            issues["severity"] = issues["rule"].map(config.severity_of)
        return replace(
            self,
            run_id=run_id,
            config=config,
            staged=self.staged.assign(run_id=run_id),
            issues=issues,
            files=[replace(f) for f in self.files],
            checked=dict(self.checked),
        )

    def quality_flags(self) -> pd.Series:
        """Warning rule ids per row, comma separated (rows without warnings: missing)."""
        warnings = self.issues[self.issues["severity"] == "warning"]
        flags = warnings.drop_duplicates(["row", "rule"]).groupby("row")["rule"].agg(",".join)
        return flags.reindex(self.staged.index).astype("string")

    @property
    def error_share(self) -> float:
        return len(self.error_rows) / len(self.staged) if len(self.staged) else 0.0

    @property
    def error_rows(self) -> pd.Index:
        errors = self.issues[self.issues["severity"] == "error"]
        return pd.Index(errors["row"].unique())

    def clean(self) -> pd.DataFrame:
        """Rows with no error issue so far."""
        return self.staged.drop(index=self.error_rows)

    def stop_if_too_many_errors(self) -> None:
        if len(self.staged) >= self.config.min_rows_to_stop and self.error_share > self.config.max_error_share:
            self.stopped = (
                f"{self.error_share:.0%} of the rows break an error rule, more than the "
                f"{self.config.max_error_share:.0%} allowed: the slice is stopped and not published"
            )

    def count_files(self, loaded: pd.DataFrame) -> None:
        """Per-file loaded/quarantined counts from the final frame; read = loaded + quarantined."""
        loaded_per_file = loaded.groupby("source_file").size()
        quarantined = self.staged.loc[self.error_rows].groupby("source_file").size()
        for f in self.files:
            f.rows_loaded = int(loaded_per_file.get(f.path, 0))
            f.rows_quarantined = int(quarantined.get(f.path, 0))
            if f.rows_loaded + f.rows_quarantined != f.rows_read:
                raise AssertionError(
                    f"{f.path}: read {f.rows_read} != loaded {f.rows_loaded} + quarantined {f.rows_quarantined}"
                )
