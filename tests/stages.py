"""The stages of one level composed without Prefect, for tests: files written by a test go in, what the level
would publish comes out (and is published into a warehouse and lake when asked)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from tasks.extract.discover import files_frame as discovered
from tasks.extract.fingerprint import fingerprint_files, slice_signatures
from tasks.extract.read import extract_level
from tasks.load import publish
from tasks.map.context import MappingContext, read_corrections, region_frames
from tasks.map.mapping import map_level
from tasks.validate.history import accepted_before, lower_rows
from tasks.validate.level import check_read, check_rules
from tasks.validate.rules import ValidationConfig


def files_frame(paths: list[Path], base: Path, level: str, **slice_key) -> pd.DataFrame:
    """A files frame (as the plan stage gives) of files a test wrote, all in one slice."""
    frame = discovered(paths, base, level, **slice_key)
    frame = frame.assign(fingerprint=fingerprint_files(frame))
    return frame.assign(signature=slice_signatures(frame))


def run_level(
    files: pd.DataFrame,
    engine: sa.Engine,
    lake_root: Path,
    config: ValidationConfig | None = None,
    run_id: str | None = None,
    context: MappingContext | None = None,
    previous: pd.DataFrame | None = None,
    strict: bool = False,
    allow_empty: bool = False,
    publish_it: bool = True,
):
    """Extract, check, map, check the domain rules and (with `publish_it`) publish the level of `files`.
    Returns (extraction, ruled, publication)."""
    level, tahun = str(files["level"].iloc[0]), int(files["tahun"].iloc[0])
    run_id = run_id or f"test-{uuid.uuid4().hex[:8]}"
    pemda = sorted(set(files["kode_pemda"]))
    extraction = extract_level(files, None)
    checked = check_read(extraction, level, config or ValidationConfig())
    context = context or MappingContext(tahun, region_frames(pemda, tahun), read_corrections(engine, pemda))
    mapped = map_level(checked.clean(), context)
    ruled = check_rules(
        checked,
        mapped,
        level,
        tahun,
        context.frames.kamus,
        context.frames.opd_names,
        lower_rows(lake_root, tahun, level, pemda),
        accepted_before(lake_root, tahun, pemda),
        files.set_index("file_id")["mtime"],
    )
    previous = previous if previous is not None else pd.DataFrame(columns=["source_file", "rows_loaded", "run_id"])
    publication = publish.prepare(ruled, extraction, files, previous, lake_root, run_id, strict, allow_empty)
    if publish_it:
        staged = publish.stage_lake(publication, lake_root)
        publish.load_warehouse(publication, engine)
        staged.swap_in()
    return extraction, ruled, publication


def issues_by_row(extraction, ruled) -> pd.DataFrame:
    """Every issue of a level with the source_row of its row."""
    issues = ruled.checked.issues
    return issues.assign(source_row=ruled.checked.rows.loc[issues["row"], "source_row"].to_numpy())
