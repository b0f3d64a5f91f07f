"""Write the inbox of one pemda: every level's files, defects planted, and its manifest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from sample import defects, layouts, manifest, writers
from sample.funnel import Funnel, level_frame, simulate
from sample.regions import Region, load_region


def _rng(seed: int, kode_pemda: str) -> np.random.Generator:
    """One generator per pemda, so a pemda's files do not depend on which others are generated."""
    return np.random.default_rng([seed, int(kode_pemda.replace(".", ""))])


class _Writer:
    """Collects the manifest entries while the files of one pemda are written."""

    def __init__(self, root: Path, region: Region, tahun: int, rng, rate: float):
        self.root, self.region, self.tahun, self.rng, self.rate = root, region, tahun, rng, rate
        self.files: list[dict] = []

    def _folder(self, name: str) -> Path:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _plant(self, frame: pd.DataFrame, empty_rows: bool, page_size: int | None = None):
        return defects.plant_in_cells(
            frame.reset_index(drop=True), self.region, self.rng, self.rate, empty_rows, page_size
        )

    def desa(self, funnel: Funnel) -> None:
        frame = level_frame(funnel, "desa").sort_values(["kode_desa", "prioritas"], kind="stable")
        folder = self._folder("desa")
        for i, (kode, part) in enumerate(frame.groupby("kode_kecamatan", sort=True)):
            dialect = writers.DESA_DIALECTS[i % len(writers.DESA_DIALECTS)]
            part, plan = self._plant(part, empty_rows=True)
            table = layouts.render_desa(part, dotted_money=bool(self.rng.random() < 0.4))
            table, found = defects.add_rows(table, plan, layouts.FIELDS_DESA, "ID Usulan")
            name = f"usulan_desa_{kode.replace('.', '_')}.csv"
            writers.write_csv(table, folder / name, dialect)
            self._entry(f"desa/{name}", "desa", "musrenbang", "csv", dialect, table["ID Usulan"], found, 1)

    def sipd_excel(self, funnel: Funnel, level: str) -> None:
        frame = level_frame(funnel, level)
        keys = ["kode_kecamatan", "prioritas"] if level == "kecamatan" else ["nama_opd_akhir", "prioritas"]
        frame, plan = self._plant(frame.sort_values([*keys, "id_usulan"], kind="stable"), empty_rows=True)
        table = layouts.render_sipd(frame, self.region, level, self.rng)
        table, found = defects.add_rows(table, plan, layouts.FIELDS_SIPD, "ID Usulan")
        forum = "KECAMATAN" if level == "kecamatan" else "RKPD " + self.region.nama.split()[0].upper()
        titles = (f"DAFTAR USULAN HASIL MUSRENBANG {forum}", self.region.nama.upper(), f"TAHUN ANGGARAN {self.tahun}")
        name = f"sipd_usulan_{level}_{self.tahun}.xlsx"
        writers.write_sipd_excel(table, self._folder(level) / name, titles, dt.datetime(self.tahun - 1, 4, 1, 8))
        self._entry(
            f"{level}/{name}", level, "musrenbang", "excel", None, table["ID Usulan"], found, writers.EXCEL_HEADER_ROW
        )

    def json_pages(self, funnel: Funnel, level: str) -> None:
        pokir = level == "pokir"
        frame, plan = self._plant(
            level_frame(funnel, level).sort_values("id_usulan"), empty_rows=False, page_size=writers.PAGE_SIZE
        )
        table = layouts.render_json(frame, self.region, self.tahun, pokir)
        table, found = defects.add_rows(table, plan, layouts.FIELDS_JSON, "id_usulan")
        folder = self._folder(level)
        start = 0
        for name, count in writers.write_json_pages(table, folder):
            page = [dict(d, pos=d["pos"] - start) for d in found if start < d["pos"] <= start + count]
            self._entry(
                f"{level}/{name}",
                "kabkota" if pokir else level,
                "pokir" if pokir else "musrenbang",
                "json",
                writers.JSON_DIALECT,
                table["id_usulan"].iloc[start : start + count],
                page,
                0,
            )
            start += count

    def provinsi(self, funnel: Funnel) -> None:
        frame = level_frame(funnel, "provinsi")
        if frame.empty:
            return
        frame, plan = self._plant(frame.sort_values("id_usulan"), empty_rows=True)
        table = layouts.render_provinsi(frame, self.region)
        table, found = defects.add_rows(table, plan, layouts.FIELDS_PROVINSI, "ID Usulan")
        name = f"usulan_ke_provinsi_{self.tahun}.csv"
        writers.write_csv(table, self._folder("provinsi") / name, writers.PROVINSI_DIALECT)
        self._entry(
            f"provinsi/{name}", "provinsi", "musrenbang", "csv", writers.PROVINSI_DIALECT, table["ID Usulan"], found, 1
        )

    def _entry(self, path, level, stream, fmt, dialect, ids: pd.Series, found, offset) -> None:
        ids = ids.astype(str)
        self.files.append(
            manifest.file_entry(
                path,
                level,
                stream,
                fmt,
                dialect.encoding if dialect else None,
                (dialect.delimiter or None) if dialect else None,
                len(ids),
                ids[ids != ""].nunique(),
                found,
                offset,
            )
        )


def generate_pemda(out_dir: Path, tahun: int, kode: str, seed: int, defect_rate: float) -> dict:
    """Simulate one pemda's funnel, write its inbox and manifest, and return the manifest."""
    rng = _rng(seed, kode)
    region = load_region(kode, tahun)
    funnel = simulate(region, tahun, rng)
    root = Path(out_dir) / str(tahun) / kode
    root.mkdir(parents=True, exist_ok=True)
    manifest.remove_previous(root)
    writer = _Writer(root, region, tahun, rng, defect_rate)
    writer.desa(funnel)
    writer.sipd_excel(funnel, "kecamatan")
    writer.json_pages(funnel, "forum_opd")
    writer.sipd_excel(funnel, "kabkota")
    writer.provinsi(funnel)
    writer.json_pages(funnel, "pokir")
    result = manifest.pemda_manifest(tahun, kode, region.nama, seed, defect_rate, writer.files)
    manifest.write(root, result)
    return result
