"""Each pemda's own reference: versioned lists in the data folder and the package, read through reference.store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reference import store
from schemas import RENJA

SUMBER = Path(store.DATA) / "sumber"


def test_renja_in_force_is_the_latest_of_tahun_at_most():
    bu = store.renja("17.03", 2026)
    assert list(bu.columns) == RENJA.column_names
    raw = pd.read_csv(SUMBER / "renja_2026_bengkulu_utara_subkegiatan.csv", dtype=str)
    opd = pd.read_csv(SUMBER / "opd_bengkulu_utara_17_03_tahun_2026.csv", dtype=str)
    assert bu.n_lokasi.sum() == len(raw) == 2189  # every Renja line counted once
    assert bu.pagu_indikatif.sum() == raw.pagu_indikatif.astype(float).sum() == 1_371_641_789_761
    assert set(bu.kode_skpd) <= set(opd.kode_skpd)  # Puskesmas lines count for their Dinas Kesehatan
    assert not bu.duplicated(["kode_skpd", "kode_sub_kegiatan"]).any()
    assert store.renja("17.03", 2027).equals(bu)  # last year's Renja is the evidence of the next
    assert store.renja("17.03", 2025).empty and list(store.renja("17.03", 2025).columns) == RENJA.column_names
    assert store.renja("18.02", 2025).empty


def test_an_imported_version_wins_at_its_tahun(tmp_path, monkeypatch):
    monkeypatch.setenv("RKPD_REFERENCE_DIR", str(tmp_path))
    own = RENJA.conform(
        pd.DataFrame(
            {
                "kode_pemda": ["17.03"],
                "tahun": [2027],
                "kode_skpd": ["1.03.0.00.0.00.01.0000"],
                "kode_sub_kegiatan": ["1.03.10.2.01.0032"],
                "n_lokasi": [1],
            }
        )
    )
    path = store.list_path(tmp_path, "17.03", 2027, "renja")
    path.parent.mkdir(parents=True)
    path.write_text(store.list_csv(RENJA, own), encoding="utf-8")
    assert store.renja("17.03", 2027).kode_sub_kegiatan.tolist() == ["1.03.10.2.01.0032"]
    assert store.renja("17.03", None).kode_sub_kegiatan.tolist() == ["1.03.10.2.01.0032"]
    assert len(store.renja("17.03", 2026)) == 2131  # the shipped 2026 Renja still holds for 2026
