"""What the domain rules compare a level against, read from this run's publication and from the lake (never
slice by slice from the warehouse): the published rows of the level below (lineage), and what earlier years
accepted at the kab/kota forum (repeats)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import LEVELS, USULAN
from tasks.validate.domain import accepted_rows, lower_level_rows
from warehouse import lake

_LOWER_COLUMNS = ["kode_pemda", "source", "stream", "id_usulan", "kode_desa", "uraian_usulan"]


def lower_rows(lake_root: Path, tahun: int, level: str, pemda: list[str], below=None) -> pd.DataFrame | None:
    """The published musrenbang rows of the level below `level` for `pemda`: what this run published there
    (`below`, a tasks.load.publish.Publication of that level), and the lake for the slices it did not publish
    (unchanged, stopped, or not in this run). None at the lowest level."""
    position = LEVELS.index(level)
    if position == 0:
        return None
    condition = (pc.field("tahun") == int(tahun)) & (pc.field("level") == LEVELS[position - 1])
    condition &= pc.field("kode_pemda").isin(list(pemda))
    stored = lake.read_dataset(lake_root, USULAN, condition, tahun, LEVELS[position - 1], _LOWER_COLUMNS).to_pandas()
    parts = [stored]
    if below is not None and len(below.slices):
        done = pd.MultiIndex.from_frame(below.slices[["kode_pemda", "source"]].astype(str))
        stored = stored[~pd.MultiIndex.from_frame(stored[["kode_pemda", "source"]].astype(str)).isin(done)]
        parts = [stored, below.usulan[below.usulan.kode_pemda.isin(pemda)][_LOWER_COLUMNS]]
    return lower_level_rows(pd.concat(parts, ignore_index=True))


def accepted_before(lake_root: Path, tahun: int, pemda: list[str]) -> pd.DataFrame:
    """kode_desa, text and tahun of the usulan the pemda's kab/kota forum accepted in earlier years."""
    condition = (pc.field("tahun") < int(tahun)) & (pc.field("level") == "kabkota")
    condition &= pc.field("kode_pemda").isin(list(pemda)) & (pc.field("status") == "diterima")
    columns = ["tahun", "level", "status", "kode_desa", "uraian_usulan"]
    earlier = [t for t in lake.tahun_values(lake_root, USULAN) if t < int(tahun)]
    read = [lake.read_dataset(lake_root, USULAN, condition, t, "kabkota", columns) for t in earlier]
    rows = pa.concat_tables(read) if read else USULAN.to_arrow(USULAN.empty_frame()).select(columns)
    return accepted_rows(rows.to_pandas())
