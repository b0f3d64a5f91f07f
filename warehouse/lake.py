"""The Parquet lake: hive-partitioned, zstd, one directory per slice, swapped in atomically.

Layout: <lake>/<dataset>/tahun=<t>/level=<l>/kode_pemda=<p>/source=<s>/part-0.parquet. Partition
values live in the path only; read with `read_dataset`, which applies the contract's types (so a
kode such as 18.02 stays text).
"""

from __future__ import annotations

import shutil
import uuid
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


def write_slice(root: Path, table: Table, key: dict, frame: pd.DataFrame) -> Path:
    """Replace one slice directory with `frame`; other slices are untouched."""
    final = slice_dir(root, table, key)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    arrow = table.to_arrow(frame).drop_columns(list(SLICE_COLUMNS))
    pq.write_table(arrow, tmp / "part-0.parquet", compression="zstd", row_group_size=256_000)
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old)
    return final


def partitioning(table: Table) -> ds.Partitioning:
    return ds.partitioning(pa.schema([table.arrow_schema.field(n) for n in SLICE_COLUMNS]), flavor="hive")


def read_dataset(root: Path, table: Table, filter=None) -> pa.Table:
    """Read a dataset of the lake with the contract's schema (hidden tmp/old directories ignored)."""
    path = root / table.name
    if not path.exists():
        return table.to_arrow(table.empty_frame())
    dataset = ds.dataset(path, format="parquet", partitioning=partitioning(table),
                         schema=table.arrow_schema, exclude_invalid_files=True, ignore_prefixes=[".", "_"])
    return dataset.to_table(filter=filter).select(table.column_names)
