"""The Parquet lake: hive-partitioned by slice, zstd, each slice directory swapped in whole.

Layout: <lake>/<dataset>/tahun=<t>/level=<l>/kode_pemda=<p>/source=<s>/part-<run_id>-<n>.parquet. Partition
values live in the path only; read with `read_dataset`, which applies the contract's types (so a kode such
as 18.02 stays text). The file name carries the run that wrote the slice, so a run can tell whether the
lake and the warehouse hold the same version of a slice.

A level is written in one partitioned write per dataset into a staging folder of the run
(`<lake>/.staging-<run_id>/`); once the warehouse has committed, each slice directory is swapped in by
renames (the old one moved aside, the new one moved in, the old one deleted), so every slice is the old
version or the new one, never a mix. A run that was killed leaves a staging folder or an `.old-` folder;
`recover` (called at the start of the next run) puts the lake back in order.
"""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from schemas import SLICE_KEY, Table

STAGING_PREFIX = ".staging-"
_PART = re.compile(r"^part-(?P<run>[0-9A-Za-z_.-]+?)-\d+\.parquet$")


def slice_dir(root: Path, table: Table, key: dict) -> Path:
    return _folder(root, table, [key[name] for name in SLICE_KEY])


def _folder(root: Path, table: Table, values: list) -> Path:
    """The folder of the slices whose key starts with `values` (in SLICE_KEY order; all of them: a slice's)."""
    path = Path(root) / table.name
    for name, value in zip(SLICE_KEY, values, strict=False):
        path = path / f"{name}={value}"
    return path


def partitioning(table: Table) -> ds.Partitioning:
    return ds.partitioning(pa.schema([table.arrow_schema.field(n) for n in SLICE_KEY]), flavor="hive")


def read_dataset(
    root: Path,
    table: Table,
    filter=None,
    tahun: int | None = None,
    level: str | None = None,
    columns: list[str] | None = None,
) -> pa.Table:
    """Read a dataset of the lake with the contract's schema (hidden staging and old folders ignored): the
    `columns` given (default: all). `tahun`, and with it `level`, narrow the read to that folder: every file
    looked at is opened to check it, and a national lake holds thousands."""
    base = Path(root) / table.name
    leading = [] if tahun is None else [int(tahun)] if level is None else [int(tahun), level]
    path = _folder(root, table, leading)
    if not path.exists():
        return table.to_arrow(table.empty_frame()).select(columns or table.column_names)
    dataset = ds.dataset(
        path,
        format="parquet",
        partitioning=partitioning(table),
        partition_base_dir=str(base),
        schema=table.arrow_schema,
        exclude_invalid_files=True,
        ignore_prefixes=[".", "_"],
    )
    return dataset.to_table(filter=filter, columns=columns or table.column_names)


def tahun_values(root: Path, table: Table) -> list[int]:
    """The tahun the lake holds rows of for `table` (its tahun= folders)."""
    path = Path(root) / table.name
    if not path.exists():
        return []
    found = (p.name.partition("=")[2] for p in path.iterdir() if p.is_dir() and p.name.startswith("tahun="))
    return sorted(int(t) for t in found if t.isdigit())


@dataclass(frozen=True)
class Staged:
    """Slices written to a run's staging folder, waiting to be swapped into the lake."""

    root: Path
    staging: Path
    slices: tuple[tuple[Path, Path], ...]  # (staged directory, final directory)

    def swap_in(self) -> None:
        """Move every staged slice into place (each one old or new at any moment), then drop the staging."""
        for staged, final in self.slices:
            final.parent.mkdir(parents=True, exist_ok=True)
            old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
            if final.exists():
                final.rename(old)
            staged.rename(final)
            if old.exists():
                shutil.rmtree(old)
        shutil.rmtree(self.staging, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


def stage_slices(root: Path, run_id: str, tables: list[tuple[Table, pd.DataFrame, list[dict]]]) -> Staged:
    """Write each (table, rows, slices) in one partitioned write into the run's staging folder. Every slice
    listed gets a directory, empty slices an empty file, so swapping it in replaces the old version."""
    root = Path(root)
    staging = root / f"{STAGING_PREFIX}{run_id}-{uuid.uuid4().hex[:6]}"
    pairs = []
    for table, frame, slices in tables:
        if not slices:
            continue
        target = staging / table.name
        arrow = table.to_arrow(frame)
        written = set()
        if arrow.num_rows:
            ds.write_dataset(
                arrow,
                target,
                format="parquet",
                partitioning=partitioning(table),
                basename_template=f"part-{run_id}-{{i}}.parquet",
                existing_data_behavior="overwrite_or_ignore",
                file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
                max_rows_per_group=256_000,
                min_rows_per_group=min(arrow.num_rows, 64_000),
            )
            present = frame[list(SLICE_KEY)].drop_duplicates()
            written = {tuple(str(v) for v in r) for r in present.itertuples(index=False, name=None)}
        empty = table.to_arrow(table.empty_frame()).drop_columns(list(SLICE_KEY))
        for key in slices:
            staged = slice_dir(staging, table, key)
            if tuple(str(key[k]) for k in SLICE_KEY) not in written:
                staged.mkdir(parents=True, exist_ok=True)
                pq.write_table(empty, staged / f"part-{run_id}-0.parquet", compression="zstd")
            pairs.append((staged, slice_dir(root, table, key)))
    return Staged(root, staging, tuple(pairs))


def slice_runs(root: Path, table: Table, tahun: int) -> pd.DataFrame:
    """The run that wrote each slice directory of a tahun: SLICE_KEY columns and run_id."""
    base = Path(root) / table.name / f"tahun={tahun}"
    rows = []
    if base.exists():
        for part in base.glob("level=*/kode_pemda=*/source=*/part-*.parquet"):
            match = _PART.match(part.name)
            if match:
                level, pemda, source = (p.split("=", 1)[1] for p in part.parent.parts[-3:])
                rows.append((tahun, level, pemda, source, match.group("run")))
    frame = pd.DataFrame(rows, columns=[*SLICE_KEY, "run_id"])
    return frame.drop_duplicates([*SLICE_KEY])


def recover(root: Path) -> list[str]:
    """After a run that was killed: put back any slice whose swap was cut between its two renames, delete
    old copies and staging folders. Returns what was done, for the run's log."""
    root = Path(root)
    done = []
    if not root.exists():
        return done
    for old in sorted(root.rglob(".*.old-*")):
        final = old.with_name(old.name[1:].rsplit(".old-", 1)[0])
        if final.exists():
            shutil.rmtree(old)
        else:
            old.rename(final)
            done.append(f"restored {final} (a killed run had moved it aside)")
    for staging in sorted(root.glob(f"{STAGING_PREFIX}*")):
        shutil.rmtree(staging)
        done.append(f"removed {staging.name} (left by a killed run)")
    return done
