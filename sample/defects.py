"""Controlled defects: planted in the rows of one file and recorded with their exact position.

Two steps per file: `plant_in_cells` changes values of chosen rows of the level frame (before the
layout renders it), `add_rows` appends duplicates and inserts blank rows into the rendered table
and turns every defect into a manifest entry with the row number a spreadsheet shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sample import texts
from sample.regions import Region, normalise_name

QUARANTINE_KINDS = ("duplicate_row", "unknown_wilayah", "negative_anggaran", "absurd_anggaran", "empty_row")
LOAD_KINDS = ("renamed_wilayah", "missing_volume", "unknown_satuan")
KINDS = (
    "duplicate_row",
    "unknown_wilayah",
    "renamed_wilayah",
    "missing_volume",
    "unknown_satuan",
    "negative_anggaran",
    "absurd_anggaran",
    "empty_row",
)
CARRIED_OK = set(LOAD_KINDS)  # kinds allowed on rows a higher level carries up


@dataclass
class Plan:
    """Defects chosen for one file: in-cell ones by row position, plus the structural rows."""

    cells: list[dict] = field(default_factory=list)  # {"kind", "pos", "field", "id_usulan"}
    duplicates: list[int] = field(default_factory=list)  # positions of the rows copied to the end
    empty_before: list[int] = field(default_factory=list)  # a blank row goes before these positions


def expected(kind: str) -> str:
    return "quarantine" if kind in QUARANTINE_KINDS else "load"


def _absurd(anggaran: int) -> int:
    """Extra zeros typed after the amount, until it reaches 10^13 rupiah."""
    value = max(int(anggaran), 1000)
    while value < 10**13:
        value *= 10
    return value


def _unknown_place(region: Region, rng) -> str:
    free = [p for p in texts.UNKNOWN_PLACES if normalise_name(p) not in region.known_names]
    return free[int(rng.integers(0, len(free)))]


COLUMN_OF_KIND = {
    "unknown_wilayah": "nama_desa",
    "missing_volume": "volume",
    "unknown_satuan": "satuan",
    "negative_anggaran": "anggaran",
    "absurd_anggaran": "anggaran",
}


def _renamed(frame: pd.DataFrame, pos: int, region: Region, rng) -> tuple[str, str]:
    """(column, name): the kecamatan or desa of the row written with its other-version or variant name."""
    kode_kec, kode_desa = str(frame.kode_kecamatan.iat[pos]), str(frame.kode_desa.iat[pos])
    if kode_kec in region.renamed or kode_desa in region.renamed:
        use_desa = kode_desa in region.renamed and (kode_kec not in region.renamed or rng.random() < 0.5)
        return (
            ("nama_desa", region.variants[kode_desa][0])
            if use_desa
            else ("nama_kecamatan", region.variants[kode_kec][0])
        )
    use_desa = kode_desa in region.variants and (kode_kec not in region.variants or rng.random() < 0.5)
    names = region.variants[kode_desa if use_desa else kode_kec]
    return ("nama_desa" if use_desa else "nama_kecamatan"), names[int(rng.integers(0, len(names)))]


def plant_in_cells(  # noqa: C901 - one branch per defect kind, kept together on purpose
    frame: pd.DataFrame, region: Region, rng, rate: float, empty_rows: bool, page_size: int | None = None
) -> tuple[pd.DataFrame, Plan]:
    """Choose the defects of a file and change the cells of the in-cell ones.

    `frame` is the level frame of one file in file order; it must hold `carried`. The returned frame
    has a `defect` column (kind or None) so that layouts write those rows plainly. With `page_size`
    (JSON pages) a duplicate copies a row of the last page, where the copies are appended.
    """
    frame = frame.copy()
    frame["defect"] = None
    plan = Plan()
    n = len(frame)
    count = round(rate * n)
    if count == 0 or n < 3:
        return frame, plan
    kinds = [k for k in KINDS if empty_rows or k != "empty_row"]
    order = [kinds[i] for i in rng.permutation(len(kinds))]
    wanted = [order[i % len(order)] for i in range(count)]
    free = np.ones(n, dtype=bool)
    open_row = ~frame.carried.to_numpy(dtype=bool)
    same_page = np.ones(n, dtype=bool)
    if page_size:
        same_page = np.arange(n) >= (n + wanted.count("duplicate_row") - 1) // page_size * page_size
    kode_kec = frame.kode_kecamatan.astype(str).to_numpy()
    kode_desa = frame.kode_desa.astype(str).to_numpy()
    has_variant = np.isin(kode_kec, list(region.variants)) | np.isin(kode_desa, list(region.variants))
    real = np.isin(kode_kec, list(region.renamed)) | np.isin(kode_desa, list(region.renamed))
    anggaran = frame.anggaran.to_numpy(dtype=np.int64).copy()
    for kind in wanted:
        if kind == "empty_row":
            spots = sorted(set(range(1, n)) - set(plan.empty_before))
            if spots:
                plan.empty_before.append(spots[int(rng.integers(0, len(spots)))])
            continue
        mask = free & (open_row if kind not in CARRIED_OK else True)
        if kind == "duplicate_row":  # prefer rows that do not rise; a copy of one that does is harmless
            mask = mask & same_page if (mask & same_page).any() else free & same_page
        elif kind == "renamed_wilayah":
            mask = mask & has_variant
            if (mask & real).any() and rng.random() < 0.6:
                mask = mask & real
        if not mask.any():
            kind, mask = "missing_volume", free
            if not mask.any():
                break
        pos = int(rng.choice(np.flatnonzero(mask)))
        free[pos] = False
        ident = str(frame.id_usulan.iat[pos])
        if kind == "duplicate_row":
            plan.duplicates.append(pos)
            continue
        column = COLUMN_OF_KIND.get(kind)
        if kind == "renamed_wilayah":
            column, name = _renamed(frame, pos, region, rng)
            frame.iat[pos, frame.columns.get_loc(column)] = name
        elif kind == "unknown_wilayah":
            frame.iat[pos, frame.columns.get_loc(column)] = _unknown_place(region, rng)
        elif kind == "missing_volume":
            frame.iat[pos, frame.columns.get_loc(column)] = np.nan
        elif kind == "unknown_satuan":
            frame.iat[pos, frame.columns.get_loc(column)] = str(texts.pick(rng, texts.UNKNOWN_SATUAN, 1)[0])
        elif kind == "negative_anggaran":
            anggaran[pos] = -anggaran[pos]
        elif kind == "absurd_anggaran":
            anggaran[pos] = _absurd(anggaran[pos])
        frame.iat[pos, frame.columns.get_loc("defect")] = kind
        plan.cells.append({"kind": kind, "pos": pos, "field": column, "id_usulan": ident})
    frame["anggaran"] = anggaran
    return frame, plan


def add_rows(
    table: pd.DataFrame, plan: Plan, fields: dict[str, str], id_column: str
) -> tuple[pd.DataFrame, list[dict]]:
    """Append the duplicates, insert the blank rows, and list every defect with its 1-based position.

    `fields` maps the frame columns (nama_desa, volume, ...) to the file's header names.
    """
    n = len(table)
    keys = list(2 * np.arange(n) + 1)
    parts = [table]
    entries: list[tuple[int, dict]] = []
    blank = pd.DataFrame([[""] * table.shape[1]], columns=table.columns)
    for pos in plan.empty_before:
        parts.append(blank)
        keys.append(2 * pos)
        entries.append((len(keys) - 1, {"kind": "empty_row", "field": None, "id_usulan": None}))
    for i, pos in enumerate(plan.duplicates):
        parts.append(table.iloc[[pos]])
        keys.append(2 * n + 1 + 2 * i)
        entries.append(
            (len(keys) - 1, {"kind": "duplicate_row", "field": None, "id_usulan": str(table[id_column].iat[pos])})
        )
    for cell in plan.cells:
        entries.append(
            (cell["pos"], {"kind": cell["kind"], "field": fields[cell["field"]], "id_usulan": cell["id_usulan"]})
        )
    order = np.argsort(np.array(keys), kind="stable")
    final = np.empty(len(keys), dtype=np.int64)
    final[order] = np.arange(1, len(keys) + 1)
    out = pd.concat(parts, ignore_index=True).iloc[order].reset_index(drop=True)
    defects = [
        {
            "kind": e["kind"],
            "pos": int(final[slot]),
            "field": e["field"],
            "id_usulan": e["id_usulan"],
            "expected": expected(e["kind"]),
        }
        for slot, e in entries
    ]
    return out, sorted(defects, key=lambda d: d["pos"])
