"""The Parquet lake: hive-partitioned, zstd, one directory per slice, swapped in atomically.

Layout: <lake>/<dataset>/tahun=<t>/level=<l>/kode_pemda=<p>/source=<s>/part-0.parquet. Partition
values live in the path only; read with `read_dataset`, which applies the contract's types (so a
kode such as 18.02 stays text).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from schemas import Table

SLICE_COLUMNS = ("tahun", "level", "kode_pemda", "source")


def slice_dir(root: Path, table: Table, key: dict) -> Path:
    path = root / table.name
    for name in SLICE_COLUMNS:
        path = path / f"{name}={key[name]}"
    return path


@dataclass(frozen=True)
class Swap:
    """A slice directory swapped in, with the previous one kept aside until the swap is committed."""

    final: Path
    previous: Path | None

    def commit(self) -> None:
        if self.previous is not None and self.previous.exists():
            shutil.rmtree(self.previous)

    def undo(self) -> None:
        """Put the previous slice back (or remove a slice that did not exist before)."""
        if self.final.exists():
            shutil.rmtree(self.final)
        if self.previous is not None and self.previous.exists():
            self.previous.rename(self.final)


def swap_slice(root: Path, table: Table, key: dict, frame: pd.DataFrame) -> Swap:
    """Write the slice to a hidden folder and swap it in; the old one stays aside until commit/undo."""
    final = slice_dir(root, table, key)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    arrow = table.to_arrow(frame).drop_columns(list(SLICE_COLUMNS))
    pq.write_table(arrow, tmp / "part-0.parquet", compression="zstd", row_group_size=256_000)
    previous = None
    if final.exists():
        previous = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        final.rename(previous)
    tmp.rename(final)
    return Swap(final, previous)


def partitioning(table: Table) -> ds.Partitioning:
    return ds.partitioning(pa.schema([table.arrow_schema.field(n) for n in SLICE_COLUMNS]), flavor="hive")


def read_dataset(root: Path, table: Table, filter=None) -> pa.Table:
    """Read a dataset of the lake with the contract's schema (hidden tmp/old directories ignored)."""
    path = root / table.name
    if not path.exists():
        return table.to_arrow(table.empty_frame())
    dataset = ds.dataset(
        path,
        format="parquet",
        partitioning=partitioning(table),
        schema=table.arrow_schema,
        exclude_invalid_files=True,
        ignore_prefixes=[".", "_"],
    )
    return dataset.to_table(filter=filter).select(table.column_names)
