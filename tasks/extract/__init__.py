"""Extract: read every file of a slice and stage it into the usulan contract with provenance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from schemas import USULAN
from tasks.batch import FileResult, SliceBatch, SliceKey
from tasks.errors import SourceError
from tasks.extract.readers import read_source
from tasks.extract.staging import stage
from tasks.quarantine import concat_issues
from tasks.rules import ValidationConfig
from tasks.wilayah import WilayahResolver


def display_path(path: Path, base: Path | None) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix() if base else path.as_posix()
    except ValueError:
        return path.as_posix()


READ_RULES = ("empty_row", "not_a_number", "bad_date", "unknown_status")
WILAYAH_RULES = ("wilayah_unknown", "wilayah_ambiguous")


def extract_slice(key: SliceKey, files: list[Path], run_id: str, base: Path | None = None,
                  fingerprints: dict[str, str] | None = None, signature: str | None = None,
                  config: ValidationConfig | None = None) -> SliceBatch:
    """Read and stage every file; a file that cannot be read is recorded with its message."""
    staged, raws, issues, results = [], [], [], []
    offset = 0
    fingerprints = fingerprints or {}
    for path in files:
        name = display_path(path, base)
        result = FileResult(name, fingerprints.get(name))
        results.append(result)
        try:
            raw = read_source(path)
            rows, row_issues = stage(raw, key, name, run_id)
        except SourceError as exc:
            result.error = f"{name}: {exc.problem}"
            continue
        result.rows_read = len(rows)
        index = pd.RangeIndex(offset, offset + len(rows))
        rows.index, raw.cells.index = index, index
        row_issues["row"] = row_issues["row"] + offset
        offset += len(rows)
        staged.append(rows)
        raws.append(raw.cells)
        issues.append(row_issues)
    frame = pd.concat(staged) if staged else USULAN.empty_frame()
    raw_cells = pd.concat(raws) if raws else pd.DataFrame(index=frame.index)
    batch = SliceBatch(key, run_id, frame, raw_cells, concat_issues([]), results, signature,
                       config or ValidationConfig())
    batch.add_issues(concat_issues(issues), READ_RULES, frame.index)
    clean = batch.clean()
    resolved, wilayah_issues = WilayahResolver(key.kode_pemda).resolve(clean, desa_required=key.level == "desa")
    batch.staged.loc[resolved.index, ["kode_kecamatan", "kode_desa"]] = resolved[["kode_kecamatan", "kode_desa"]]
    batch.add_issues(wilayah_issues, WILAYAH_RULES, clean.index)
    return batch
