"""The funnel desa -> RKPD of a run's regions, summed, from the rows published in the lake: what the sums of
`v_funnel_desa` give, without following a million desa usulan up three levels in the warehouse.

A row of the next level descends from the row of the level below that its id_usulan_asal names, or (none
given) from the row with its own id_usulan, in its pemda and stream: the view's lineage joins. id_usulan is
unique within a pemda's tahun, level and stream, so each row has at most one parent and one desa root. Arrow's
hash joins do this on a national year in seconds; the view's joins took 35-55 s on PostgreSQL.

The lake and the warehouse receive each slice in one transaction, so they hold the same rows; `rows_per_level`
says what was read, for the caller to check against the warehouse's own counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import LEVELS, USULAN
from warehouse import lake

FOLLOWED = LEVELS[1:4]  # kecamatan, forum_opd, kabkota: the forums a desa usulan rises through to the RKPD
_KEY = ["kode_pemda", "stream", "id_usulan"]
_PARENT = ["kode_pemda", "stream", "parent"]
DITERIMA = "diterima"


@dataclass(frozen=True)
class Funnel:
    figures: pd.Series  # n_usulan_desa, n_diterima_desa, n_reached_<level>, n_rkpd, anggaran_rkpd
    rows_per_level: dict[str, int]  # rows of the pemda and tahun read per level (desa .. kabkota)


def _rows(lake_root: Path, tahun: int, level: str, pemda: list[str], columns: list[str]) -> pa.Table:
    condition = (pc.field("tahun") == int(tahun)) & (pc.field("level") == level)
    condition &= pc.field("kode_pemda").isin(list(pemda))
    return lake.read_dataset(lake_root, USULAN, condition, tahun, level, columns)


def _distinct_roots(table: pa.Table) -> int:
    return table.group_by(["kode_pemda", "stream", "root"]).aggregate([]).num_rows


def _parents(rows: pa.Table, root: pa.ChunkedArray) -> pa.Table:
    """The rows as parents of the level above: their key (id_usulan as `parent`) and their desa usulan."""
    return pa.table(
        {"kode_pemda": rows["kode_pemda"], "stream": rows["stream"], "parent": rows["id_usulan"], "root": root}
    )


def lake_funnel(lake_root: Path, tahun: int, pemda: list[str]) -> Funnel:
    """The funnel of the regions `pemda` in `tahun`: desa usulan (all and accepted), how many of them reached
    each forum up to the kab/kota, how many were accepted there (the RKPD) and with what anggaran."""
    desa = _rows(lake_root, tahun, LEVELS[0], pemda, [*_KEY, "status"])
    figures = {
        "n_usulan_desa": desa.num_rows,
        "n_diterima_desa": pc.sum(pc.equal(desa["status"], DITERIMA)).as_py() or 0,
    }
    rows_per_level = {LEVELS[0]: desa.num_rows}
    reached = _parents(desa, desa["id_usulan"])  # the usulan reached so far, each with its desa usulan (root)
    for level in FOLLOWED:
        rows = _rows(lake_root, tahun, level, pemda, [*_KEY, "id_usulan_asal", "status", "anggaran"])
        rows_per_level[level] = rows.num_rows
        children = pa.table(
            {
                "kode_pemda": rows["kode_pemda"],
                "stream": rows["stream"],
                "parent": pc.coalesce(rows["id_usulan_asal"], rows["id_usulan"]),
                "id_usulan": rows["id_usulan"],
                "status": rows["status"],
                "anggaran": rows["anggaran"],
            }
        )
        joined = children.join(reached, _PARENT, join_type="inner")
        figures[f"n_reached_{level}"] = _distinct_roots(joined)
        reached = _parents(joined, joined["root"])
    accepted = joined.filter(pc.equal(joined["status"], DITERIMA))
    figures["n_rkpd"] = _distinct_roots(accepted)
    anggaran = pc.sum(accepted["anggaran"]).as_py()
    figures["anggaran_rkpd"] = float(anggaran) if anggaran is not None else 0.0
    return Funnel(pd.Series(figures, dtype=float), rows_per_level)
