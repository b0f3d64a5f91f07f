"""Map usulan to bidang urusan, sub kegiatan and OPD: by kamus id, then by kamus name, then by the OPD
the source names. Rows that none of these reach stay unmapped (mapping_method empty) for review."""

from __future__ import annotations

import re

import pandas as pd

from reference import loaders
from tasks.wilayah import name_key


def text_key(values: pd.Series) -> pd.Series:
    """Case/punctuation/spacing-insensitive key of a kamus or OPD name."""
    return values.fillna("").astype("string").str.lower().str.replace(r"[^0-9a-z]+", " ", regex=True).str.strip()


class OpdIndex:
    """The OPD master of a pemda for a tahun, looked up by kode, name, short name or kecamatan."""

    def __init__(self, kode_pemda: str):
        opd = loaders.opd(kode_pemda)
        self.opd = opd.set_index("kode_skpd")
        by_name = pd.concat([
            pd.Series(opd.kode_skpd.to_numpy(), index=text_key(opd.nama_skpd)),
            pd.Series(opd.kode_skpd.to_numpy(), index=text_key(opd.singkatan)),
        ])
        self.by_name = by_name[~by_name.index.duplicated(keep="first") & (by_name.index != "")]
        kec = opd[opd.kode_skpd.str.startswith("7.01.")]
        w = loaders.wilayah()
        w = w[(w.tingkat == "kecamatan") & (w.kode_induk == kode_pemda)]
        kode_of_name = {name_key(n): k for k, n in zip(w.kode, w.nama)}
        self.kecamatan_skpd = {
            kode_of_name[name_key(re.sub(r"^kecamatan\s+", "", n, flags=re.I))]: k
            for k, n in zip(kec.kode_skpd, kec.nama_skpd)
            if name_key(re.sub(r"^kecamatan\s+", "", n, flags=re.I)) in kode_of_name
        }

    def kode_of(self, kode: pd.Series, nama: pd.Series) -> pd.Series:
        """Kode SKPD from a given kode (when in the master) or else from the OPD name."""
        known = kode.where(kode.isin(self.opd.index))
        return known.fillna(text_key(nama).map(self.by_name)).astype("string")

    def nama_of(self, kode: pd.Series) -> pd.Series:
        return kode.map(self.opd["nama_skpd"]).astype("string")

    def single_bidang_of(self, kode: pd.Series) -> pd.Series:
        carries_one = self.opd["bidang_urusan_2"].isna()
        return kode.map(self.opd["bidang_urusan_1"].where(carries_one)).astype("string")


def map_usulan(staged: pd.DataFrame, kode_pemda: str) -> pd.DataFrame:
    """Fill kamus, bidang, sub kegiatan and OPD awal/akhir with mapping_method and confidence."""
    kamus = loaders.kamus(kode_pemda).drop_duplicates("id_kamus").set_index("id_kamus")
    kamus_by_name = pd.Series(kamus.index, index=text_key(kamus["nama_kamus"]))
    kamus_by_name = kamus_by_name[~kamus_by_name.index.duplicated()]
    opd = OpdIndex(kode_pemda)
    out = staged.copy()

    kid = out["id_kamus"].where(out["id_kamus"].isin(kamus.index))
    kid = kid.fillna(text_key(out["nama_kamus"]).map(kamus_by_name))
    kid = kid.fillna(text_key(out["uraian_usulan"]).map(kamus_by_name)).astype("string")
    hit = kid.notna()
    k = kamus.reindex(kid.fillna("").to_numpy())
    k.index = out.index
    out["id_kamus"] = kid.fillna(out["id_kamus"])
    out["nama_kamus"] = out["nama_kamus"].fillna(k["nama_kamus"].where(hit))
    out["kode_bidang_urusan"] = out["kode_bidang_urusan"].fillna(k["kode_bidang_urusan"].where(hit))
    out["kode_sub_kegiatan"] = out["kode_sub_kegiatan"].fillna(k["kode_sub_kegiatan"].where(hit))

    kecamatan_opd = out["kode_kecamatan"].map(opd.kecamatan_skpd).astype("string")
    kamus_opd = k["kode_skpd"].where(hit).astype("string")
    kamus_opd = kamus_opd.where(~kamus_opd.fillna("").str.startswith("7.01."), kecamatan_opd)
    awal = opd.kode_of(out["kode_opd_awal"], out["nama_opd_awal"]).fillna(kamus_opd)
    source_akhir = opd.kode_of(out["kode_opd_akhir"], out["nama_opd_akhir"])
    akhir = source_akhir.fillna(out["kode_opd_akhir"]).fillna(awal)
    out["kode_opd_awal"] = awal.where(awal.notna(), out["kode_opd_awal"].where(out["kode_opd_awal"].isin(opd.opd.index)))
    out["kode_opd_akhir"] = akhir
    out["nama_opd_awal"] = opd.nama_of(out["kode_opd_awal"]).fillna(out["nama_opd_awal"])
    out["nama_opd_akhir"] = opd.nama_of(out["kode_opd_akhir"]).fillna(out["nama_opd_akhir"])

    by_opd = out["kode_bidang_urusan"].isna() & out["kode_opd_akhir"].notna()
    out["kode_bidang_urusan"] = out["kode_bidang_urusan"].fillna(opd.single_bidang_of(out["kode_opd_akhir"]))
    mapped_by_opd = by_opd & out["kode_bidang_urusan"].notna()
    out["mapping_method"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out.loc[hit, "mapping_method"] = "kamus"
    out.loc[~hit & (mapped_by_opd | (staged["kode_bidang_urusan"].notna() & out["kode_opd_akhir"].notna())),
            "mapping_method"] = "source"
    out["mapping_confidence"] = out["mapping_method"].map({"kamus": 1.0, "source": 0.9}).astype("Float64")
    return out
