"""Per-pemda reference context: wilayah names in both versions, kecamatan points, kamus, OPD."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from reference import store
from sample import texts

# Approximate centroids of the 38 provinces (lat, lon), hand made.
PROVINCE_CENTROIDS = {
    "11": (4.37, 96.75),
    "12": (2.19, 99.07),
    "13": (-0.74, 100.80),
    "14": (0.51, 101.81),
    "15": (-1.61, 103.61),
    "16": (-3.32, 104.91),
    "17": (-3.58, 102.35),
    "18": (-4.85, 105.25),
    "19": (-2.74, 106.44),
    "21": (0.92, 104.45),
    "31": (-6.21, 106.85),
    "32": (-6.89, 107.64),
    "33": (-7.15, 110.14),
    "34": (-7.88, 110.43),
    "35": (-7.54, 112.24),
    "36": (-6.41, 106.06),
    "51": (-8.41, 115.19),
    "52": (-8.65, 117.36),
    "53": (-8.66, 121.08),
    "61": (-0.28, 111.48),
    "62": (-1.68, 113.38),
    "63": (-3.09, 115.28),
    "64": (0.54, 116.42),
    "65": (3.07, 116.04),
    "71": (1.05, 124.55),
    "72": (-1.43, 121.45),
    "73": (-3.67, 119.97),
    "74": (-4.14, 122.17),
    "75": (0.70, 122.45),
    "76": (-2.84, 119.23),
    "81": (-3.24, 130.15),
    "82": (1.57, 127.81),
    "91": (-2.20, 139.00),
    "92": (-1.34, 133.17),
    "93": (-7.00, 139.50),
    "94": (-3.60, 136.50),
    "95": (-4.10, 138.90),
    "96": (-1.10, 131.80),
}
PEMDA_CENTRES = {"18.02": (-4.85, 105.25), "18.72": (-5.11, 105.31)}  # known real centres
ABBREVIATIONS = (
    ("Gunung ", "Gn. "),
    ("Tanjung ", "Tj. "),
    ("Sungai ", "Sei "),
    ("Kampung ", "Kp. "),
    ("Kota ", "Kt. "),
    ("Bandar ", "Bdr. "),
    ("Sumber ", "Sbr. "),
)


def normalise_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", str(name).lower())


def spelling_variant(name: str) -> str | None:
    """A common way of misspelling a place name: 'Gn. Sugih', 'Sriwaylangsep', 'Bangunrejo'."""
    for long, short in ABBREVIATIONS:
        if name.startswith(long):
            return short + name[len(long) :]
    words = name.split()
    roman = re.fullmatch(r"[IVX]+", words[-1]) if words else None
    if 2 <= len(words) <= 3 and all(w.isalpha() for w in words) and not roman:
        return words[0] + "".join(w.lower() for w in words[1:])
    return None


@dataclass(frozen=True)
class Region:
    """What the simulation needs to know about one pemda in one tahun."""

    kode: str
    nama: str
    nama_provinsi: str
    kecamatan: pd.DataFrame  # kode, nama, lat, lon, kode_skpd, nama_skpd
    desa: pd.DataFrame  # kode, nama, kode_kecamatan, nama_kecamatan, is_kelurahan
    variants: dict  # kode wilayah -> names it is also written with (other version first, spelling)
    renamed: frozenset  # kode wilayah whose name differs between the two wilayah versions
    known_names: frozenset  # normalised names of every desa/kecamatan of the pemda (both versions)
    kamus: pd.DataFrame
    opd: pd.DataFrame  # kode_skpd, nama_skpd, bidang slots
    sub_kegiatan: dict  # kode_sub_kegiatan -> "kode nama"
    bidang_teks: dict  # kode_bidang -> "1.03 URUSAN PEMERINTAHAN BIDANG ..."


@lru_cache(maxsize=4)
def _wilayah_by_versi(versi: str) -> dict[str, pd.DataFrame]:
    """Kecamatan and desa of one version grouped by kode pemda."""
    w = store.wilayah()
    w = w[(w.versi == versi) & w.tingkat.isin(["kecamatan", "desa"])]
    w = w.assign(pemda=w.kode.str[:5]).sort_values("kode")
    return {k: g for k, g in w.groupby("pemda", sort=False)}


@lru_cache(maxsize=4)
def _pemda_names(versi: str) -> dict[str, str]:
    w = store.wilayah()
    w = w[(w.versi == versi) & w.tingkat.isin(["kabkota", "provinsi"])]
    return dict(zip(w.kode, w.nama))


def pemda_codes(tahun: int) -> list[str]:
    versi = store.version_for(store.WILAYAH_VERSIONS, tahun).versi
    w = store.wilayah()
    return sorted(w.loc[(w.versi == versi) & (w.tingkat == "kabkota"), "kode"].astype(str))


def _other_versi(versi: str) -> str:
    return next(v.versi for v in store.WILAYAH_VERSIONS if v.versi != versi)


def _centre(kode: str) -> tuple[float, float]:
    if kode in PEMDA_CENTRES:
        return PEMDA_CENTRES[kode]
    lat, lon = PROVINCE_CENTROIDS.get(kode[:2], (-2.5, 118.0))
    jitter = np.random.default_rng([7, int(kode.replace(".", ""))]).uniform(-0.8, 0.8, 2)
    return lat + jitter[0], lon + jitter[1]


def _kecamatan_points(kode_pemda: str, kode_kecamatan: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A deterministic point per kecamatan around the pemda centre (independent of the seed)."""
    lat0, lon0 = _centre(kode_pemda)
    digits = kode_kecamatan.str.replace(".", "", regex=False).astype(np.int64).to_numpy()
    offsets = np.array([np.random.default_rng([11, int(d)]).uniform(-0.3, 0.3, 2) for d in digits]).reshape(-1, 2)
    return np.clip(lat0 + offsets[:, 0], -11.0, 6.0), np.clip(lon0 + offsets[:, 1], 95.0, 141.0)


def _kecamatan_skpd(kec: pd.DataFrame, opd: pd.DataFrame) -> pd.DataFrame:
    """Each kecamatan's own SKPD (7.01...) as the pemda's OPD list gives it (its kode_kecamatan)."""
    units = opd[opd.kode_kecamatan.notna() & opd.kode_skpd.str.endswith(".0000")].set_index("kode_kecamatan")
    return kec.assign(
        kode_skpd=kec.kode.map(units.kode_skpd).astype(object).to_numpy(),
        nama_skpd=kec.kode.map(units.nama_skpd).fillna("Kecamatan " + kec.nama).astype(object).to_numpy(),
    )


@lru_cache(maxsize=2)
def _nomenklatur_texts(tahun: int) -> tuple[dict, dict]:
    versi = store.version_for(store.NOMENKLATUR_VERSIONS, tahun).versi
    n = store.nomenklatur()
    n = n[n.versi == versi]
    sub = n[n.tingkat == "sub_kegiatan"]
    bidang = n[n.tingkat == "bidang"]
    sub_text = dict(zip(sub.kode, sub.kode + " " + sub.nama))
    bidang_text = {k: f"{k} {v}" for k, v in zip(bidang.kode, bidang.nama)}
    full = store.bidang_urusan()
    name_col = next(c for c in full.columns if c.startswith("nama"))
    for kode, nama in zip(full.kode_bidang_urusan, full[name_col]):
        bidang_text.setdefault(kode, f"{kode} {nama}")
    return sub_text, bidang_text


def load_region(kode_pemda: str, tahun: int) -> Region:
    versi = store.version_for(store.WILAYAH_VERSIONS, tahun).versi
    other = _other_versi(versi)
    rows = _wilayah_by_versi(versi)[kode_pemda]
    rows_other = _wilayah_by_versi(other).get(kode_pemda, rows.iloc[:0])
    names_other = dict(zip(rows_other.kode, rows_other.nama))
    kec = rows[rows.tingkat == "kecamatan"][["kode", "nama"]].reset_index(drop=True)
    desa = rows[rows.tingkat == "desa"][["kode", "nama", "kode_induk", "jenis"]].reset_index(drop=True)
    desa = desa[desa.kode_induk.isin(kec.kode)]
    kec = kec[kec.kode.isin(desa.kode_induk)].reset_index(drop=True)  # kecamatan without desa raise nothing
    lat, lon = _kecamatan_points(kode_pemda, kec.kode)
    opd = store.opd(kode_pemda, tahun)
    kec = _kecamatan_skpd(kec.assign(lat=lat, lon=lon), opd)
    kec_name = dict(zip(kec.kode, kec.nama))
    desa = pd.DataFrame(
        {
            "kode": desa.kode.to_numpy(),
            "nama": desa.nama.to_numpy(),
            "kode_kecamatan": desa.kode_induk.to_numpy(),
            "nama_kecamatan": desa.kode_induk.map(kec_name).to_numpy(),
            "is_kelurahan": (desa.jenis == "kelurahan").to_numpy() | desa.kode.str[9:10].eq("1").to_numpy(),
        }
    )
    variants: dict[str, list[str]] = {}
    in_force = set(kec.nama) | set(desa.nama)
    for kode, nama in list(zip(kec.kode, kec.nama)) + list(zip(desa.kode, desa.nama)):
        found = []
        old = names_other.get(kode)
        if old and old not in in_force:
            found.append(old)
        spelled = spelling_variant(nama)
        if spelled and spelled not in in_force and spelled not in found:
            found.append(spelled)
        if found:
            variants[kode] = found
    known = frozenset(normalise_name(n) for n in list(rows.nama) + list(rows_other.nama))
    names = _pemda_names(versi)
    sub_text, bidang_text = _nomenklatur_texts(tahun)
    kamus = store.kamus(kode_pemda, tahun).reset_index(drop=True)
    kamus = kamus.assign(theme=texts.theme_of(kamus.nama_kamus.to_numpy(), kamus.kode_bidang_urusan.to_numpy()))
    return Region(
        kode=kode_pemda,
        nama=names[kode_pemda],
        nama_provinsi=names.get(kode_pemda[:2], ""),
        kecamatan=kec,
        desa=desa,
        variants=variants,
        known_names=known,
        kamus=kamus,
        renamed=frozenset(k for k, found in variants.items() if names_other.get(k) in found),
        opd=opd.reset_index(drop=True),
        sub_kegiatan=sub_text,
        bidang_teks=bidang_text,
    )
