"""Extract: read every file of a slice and stage it into the usulan contract with provenance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from schemas import USULAN
from tasks.batch import FileResult, SliceBatch, SliceKey
from tasks.errors import SourceError
from tasks.extract.readers import read_source
from tasks.extract.staging import file_fields, stage_fields
from tasks.extract.wilayah import WilayahResolver
from tasks.validate.issues import concat_issues
from tasks.validate.rules import ValidationConfig


def display_path(path: Path, base: Path | None) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix() if base else path.as_posix()
    except ValueError:
        return path.as_posix()


READ_RULES = ("empty_row", "not_a_number", "bad_date", "unknown_status")
WILAYAH_RULES = ("wilayah_unknown", "wilayah_ambiguous")


def extract_slice(
    key: SliceKey,
    files: list[Path],
    run_id: str,
    base: Path | None = None,
    fingerprints: dict[str, str] | None = None,
    signature: str | None = None,
    config: ValidationConfig | None = None,
) -> SliceBatch:
    """Read every file and stage the slice; a file that cannot be read is recorded with its message."""
    fields, raws, results = [], [], []
    fingerprints = fingerprints or {}
    for path in files:
        name = display_path(path, base)
        result = FileResult(name, fingerprints.get(name))
        results.append(result)
        try:
            raw = read_source(path)
            fields.append(file_fields(raw, key, name))
        except SourceError as exc:
            result.error = f"{name}: {exc.problem}"
            continue
        result.rows_read = len(fields[-1])
        raws.append(raw.cells)
    if fields:
        frame, issues = stage_fields(pd.concat(fields, ignore_index=True), key, run_id)
        raw_cells = pd.concat(raws, ignore_index=True)
    else:
        frame, issues, raw_cells = USULAN.empty_frame(), concat_issues([]), pd.DataFrame()
    batch = SliceBatch(
        key, run_id, frame, raw_cells, concat_issues([]), results, signature, config or ValidationConfig()
    )
    batch.add_issues(issues, READ_RULES, frame.index)
    clean = batch.clean()
    resolved, wilayah_issues = WilayahResolver(key.kode_pemda).resolve(clean, desa_required=key.level == "desa")
    batch.staged.loc[resolved.index, ["kode_kecamatan", "kode_desa"]] = resolved[["kode_kecamatan", "kode_desa"]]
    batch.add_issues(wilayah_issues, WILAYAH_RULES, clean.index)
    return batch
