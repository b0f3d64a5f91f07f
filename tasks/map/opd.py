"""The OPD master of a pemda: look-ups by kode, name or kecamatan, and the OPD that carries a bidang."""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from reference import store
from tasks.extract.wilayah import name_key


def text_key(values: pd.Series) -> pd.Series:
    """Case/punctuation/spacing-insensitive key of a kamus or OPD name."""
    return values.fillna("").astype("string").str.lower().str.replace(r"[^0-9a-z]+", " ", regex=True).str.strip()


class OpdIndex:
    """The OPD master of a pemda for a tahun, looked up by kode, name, short name or kecamatan."""

    def __init__(self, kode_pemda: str):
        opd = store.opd(kode_pemda)
        self.opd = opd.set_index("kode_skpd")
        by_name = pd.concat(
            [
                pd.Series(opd.kode_skpd.to_numpy(), index=text_key(opd.nama_skpd)),
                pd.Series(opd.kode_skpd.to_numpy(), index=text_key(opd.singkatan)),
            ]
        )
        self.by_name = by_name[~by_name.index.duplicated(keep="first") & (by_name.index != "")]
        kec = opd[opd.kode_skpd.str.startswith("7.01.")]
        w = store.wilayah()
        w = w[(w.tingkat == "kecamatan") & (w.kode_induk == kode_pemda)]
        kode_of_name = {name_key(n): k for k, n in zip(w.kode, w.nama)}
        slots = opd.melt(id_vars="kode_skpd", value_vars=["bidang_urusan_1", "bidang_urusan_2", "bidang_urusan_3"])
        self.carriers = slots.dropna(subset=["value"]).groupby("value").kode_skpd.agg(list)
        kamus = store.kamus(kode_pemda)
        by_program = kamus.assign(program=kamus.kode_sub_kegiatan.str[:7]).dropna(subset=["program"])
        self.program_carrier = by_program.groupby("program").kode_skpd.agg(lambda k: k.value_counts().index[0])
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

    def carrier_of(self, bidang: pd.Series, sub_kegiatan: pd.Series, kode_kecamatan: pd.Series) -> pd.Series:
        """The OPD that carries a bidang: the kecamatan itself for 7.01; the only OPD with that bidang;
        among twins (e.g. Satpol PP and BPBD for 1.05) the one whose kamus entries use the program."""
        out = bidang.map(self.carriers.map(lambda k: k[0] if len(k) == 1 else None)).astype("string")
        program = sub_kegiatan.astype("string").str[:7]
        out = out.fillna(program.map(self.program_carrier).astype("string"))
        out = out.fillna(bidang.map(self.carriers.map(lambda k: k[0])).astype("string"))
        kecamatan = kode_kecamatan.map(self.kecamatan_skpd).astype("string")
        return out.mask(bidang == "7.01", kecamatan)


@lru_cache(maxsize=8)
def opd_index(kode_pemda: str) -> OpdIndex:
    return OpdIndex(kode_pemda)
