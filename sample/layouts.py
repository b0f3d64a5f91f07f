"""Layouts: the columns each kind of file carries, rendered from a level frame.

Each `render_*` takes the frame of one file (rows in file order, with a `defect` column) and returns
a table whose column names are the file's headers. `FIELDS_*` names the header a defect lands in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sample import texts
from sample.regions import Region

SIPD_STATUS = {"diterima": "Disetujui", "ditolak": "Ditolak"}
FORUM_STATUS = {"diterima": "Diterima", "ditolak": "Ditolak"}

DESA_COLUMNS = (
    "No",
    "ID Usulan",
    "Kecamatan",
    "Desa/Kelurahan",
    "Alamat",
    "Usulan",
    "Permasalahan",
    "Kamus Usulan",
    "Volume",
    "Satuan",
    "Perkiraan Biaya (Rp)",
    "Prioritas",
    "Hasil Musyawarah",
    "Keterangan",
    "Pengusul",
    "No HP",
)
SIPD_COLUMNS = (
    "No",
    "ID Usulan",
    "Tanggal Usul",
    "Pengusul",
    "Profil",
    "Usulan",
    "Masalah",
    "Alamat",
    "Kabupaten",
    "Kecamatan",
    "Kelurahan",
    "Usulan Ke",
    "OPD Tujuan Awal",
    "OPD Tujuan Akhir",
    "Status",
    "Catatan",
    "Rekomendasi Mitra",
    "Rekomendasi Kelurahan",
    "Rekomendasi Kecamatan",
    "Rekomendasi SKPD",
    "Rekomendasi TAPD",
    "Volume",
    "Satuan",
    "Anggaran",
    "Jenis Belanja",
    "Sub Kegiatan",
    "Pilihan",
)
PROVINSI_COLUMNS = (
    "No",
    "ID Usulan",
    "Kabupaten/Kota",
    "Kecamatan",
    "Desa",
    "Usulan",
    "Lokasi",
    "Volume",
    "Satuan",
    "Anggaran",
    "Status",
    "Catatan",
    "OPD Tujuan",
)

FIELDS_DESA = {
    "nama_desa": "Desa/Kelurahan",
    "nama_kecamatan": "Kecamatan",
    "volume": "Volume",
    "satuan": "Satuan",
    "anggaran": "Perkiraan Biaya (Rp)",
}
FIELDS_SIPD = {
    "nama_desa": "Kelurahan",
    "nama_kecamatan": "Kecamatan",
    "volume": "Volume",
    "satuan": "Satuan",
    "anggaran": "Anggaran",
}
FIELDS_JSON = {
    "nama_desa": "detail_lurahteks",
    "nama_kecamatan": "detail_camatteks",
    "volume": "koefisien",
    "satuan": "satuan",
    "anggaran": "anggaran",
}
FIELDS_PROVINSI = {
    "nama_desa": "Desa",
    "nama_kecamatan": "Kecamatan",
    "volume": "Volume",
    "satuan": "Satuan",
    "anggaran": "Anggaran",
}


def _text(series: pd.Series) -> np.ndarray:
    """Strings with blanks for missing values."""
    return series.astype(object).where(series.notna(), "").astype(str).to_numpy(dtype=object)


def _volume_text(volume: pd.Series) -> np.ndarray:
    v = volume.to_numpy(dtype=float)
    return np.where(np.isnan(v), "", np.nan_to_num(v).astype(np.int64).astype(str)).astype(object)


def _numbers(values) -> np.ndarray:
    """Integers as Python objects, for cells that hold a number."""
    return np.array([*np.asarray(values, dtype=np.int64).tolist(), None], dtype=object)[:-1]


def _volume_number(volume: pd.Series) -> np.ndarray:
    v = volume.to_numpy(dtype=float)
    return np.where(np.isnan(v), "", _numbers(np.nan_to_num(v))).astype(object)


def _status(frame: pd.DataFrame, column: str, words: dict) -> np.ndarray:
    return _text(frame[column].map(words)) if column in frame else np.full(len(frame), "", dtype=object)


def render_desa(frame: pd.DataFrame, dotted_money: bool) -> pd.DataFrame:
    """The daftar usulan a desa/kelurahan forum hands in (one CSV per kecamatan)."""
    money = texts.thousands(frame.anggaran) if dotted_money else frame.anggaran.astype(np.int64).astype(str)
    return pd.DataFrame(
        {
            "No": np.arange(1, len(frame) + 1).astype(str),
            "ID Usulan": _text(frame.id_usulan),
            "Kecamatan": _text(frame.nama_kecamatan),
            "Desa/Kelurahan": _text(frame.nama_desa),
            "Alamat": _text(frame.lokasi),
            "Usulan": _text(frame.uraian),
            "Permasalahan": _text(frame.permasalahan),
            "Kamus Usulan": np.where(frame.langsung.to_numpy(dtype=bool), "", _text(frame.nama_kamus)),
            "Volume": _volume_text(frame.volume),
            "Satuan": _text(frame.satuan),
            "Perkiraan Biaya (Rp)": np.asarray(money, dtype=object),
            "Prioritas": frame.prioritas.astype(np.int64).astype(str),
            "Hasil Musyawarah": _status(frame, "status", FORUM_STATUS),
            "Keterangan": _text(frame.alasan),
            "Pengusul": _text(frame.pengusul),
            "No HP": _text(frame.kontak),
        },
        columns=list(DESA_COLUMNS),
    ).astype(object)


def _alamat_with_koordinat(frame: pd.DataFrame) -> np.ndarray:
    lat, lon = texts.decimal_text(frame.latitude), texts.decimal_text(frame.longitude)
    return np.where(frame.has_koordinat, texts.concat(_text(frame.lokasi), ", ", lat, ", ", lon), _text(frame.lokasi))


def _jenis_belanja(frame: pd.DataFrame) -> np.ndarray:
    hibah = frame.nama_kamus.astype(str).str.startswith("Hibah").to_numpy()
    fisik = (frame.jenis.astype(str) == "fisik").to_numpy()
    return np.select([hibah, fisik], ["Belanja Hibah", "Belanja Modal"], "Belanja Barang dan Jasa").astype(object)


def render_sipd(frame: pd.DataFrame, region: Region, level: str, rng) -> pd.DataFrame:
    """The SIPD usulan Excel export (27 columns, Kab. Pacitan importer order)."""
    n = len(frame)
    plain = frame.defect.isna().to_numpy()
    combined = plain & (rng.random(n) < 0.10) & frame.volume.notna().to_numpy()
    money_text = plain & (rng.random(n) < 0.5)
    volume = _volume_number(frame.volume)
    satuan = _text(frame.satuan)
    rekom = {column: np.full(n, "", dtype=object) for column in SIPD_COLUMNS if column.startswith("Rekomendasi")}
    rekom["Rekomendasi Kelurahan"] = _status(frame, "status_desa", SIPD_STATUS)
    rekom["Rekomendasi Kecamatan"] = _status(frame, "status_kecamatan", SIPD_STATUS)
    if level == "kabkota":
        rekom["Rekomendasi SKPD"] = _status(frame, "status_forum_opd", SIPD_STATUS)
        rekom["Rekomendasi TAPD"] = _status(frame, "status_kabkota", SIPD_STATUS)
    anggaran = frame.anggaran.to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            "No": _numbers(np.arange(1, n + 1)),
            "ID Usulan": _text(frame.id_usulan),
            "Tanggal Usul": _text(frame.tanggal_usul),
            "Pengusul": _text(frame.pengusul),
            "Profil": _text(frame.profil),
            "Usulan": _text(frame.nama_kamus),
            "Masalah": _text(frame.permasalahan),
            "Alamat": _alamat_with_koordinat(frame),
            "Kabupaten": region.nama,
            "Kecamatan": _text(frame.nama_kecamatan),
            "Kelurahan": _text(frame.nama_desa),
            "Usulan Ke": _numbers(frame.prioritas),
            "OPD Tujuan Awal": _text(frame.nama_opd_awal),
            "OPD Tujuan Akhir": _text(frame.nama_opd_akhir),
            "Status": _status(frame, "status", SIPD_STATUS),
            "Catatan": _text(frame.alasan),
            **rekom,
            "Volume": np.where(combined, texts.concat(volume.astype(str), " ", satuan), volume),
            "Satuan": np.where(combined, "", satuan),
            "Anggaran": np.where(money_text, texts.rupiah_text(anggaran), _numbers(anggaran)),
            "Jenis Belanja": _jenis_belanja(frame),
            "Sub Kegiatan": _text(frame.kode_sub_kegiatan.map(region.sub_kegiatan)),
            "Pilihan": "",
        },
        columns=list(SIPD_COLUMNS),
    ).astype(object)


def render_json(frame: pd.DataFrame, region: Region, tahun: int, pokir: bool) -> pd.DataFrame:
    """Records as a SIPD-like listMonitor API returns them."""
    volume, satuan = _volume_text(frame.volume), _text(frame.satuan)
    koordinat = frame.has_koordinat.to_numpy(dtype=bool)
    records = {
        "id_usulan": frame.id_usulan.astype(np.int64).to_numpy(),
        "tahun": np.full(len(frame), tahun),
        "id_jenis_usul": np.full(len(frame), 13 if pokir else 8),
        "detail_camatteks": _text(frame.nama_kecamatan),
        "detail_lurahteks": _text(frame.nama_desa),
        "giat_teks": _text(frame.nama_kamus),
        "detail_idkamus": _text(frame.id_kamus),
        "detail_gagasan": _text(frame.uraian),
        "masalah": _text(frame.permasalahan),
        "alamat_teks": _text(frame.lokasi),
        "detail_latpeta": np.where(koordinat, texts.decimal_text(frame.latitude), ""),
        "detail_langpeta": np.where(koordinat, texts.decimal_text(frame.longitude), ""),
        "koefisien": np.where(volume == "", "", texts.concat(volume, " ", satuan)),
        "satuan": satuan,
        "anggaran": frame.anggaran.to_numpy(dtype=np.int64),
        "pengusul": _text(frame.pengusul),
    }
    if pokir:
        records["fraksi_dewan"] = _text(frame.fraksi_dewan)
    records |= {
        "nama_skpd_awal": _text(frame.nama_opd_awal),
        "nama_skpd": _text(frame.nama_opd_akhir),
        "kode_skpd": _text(frame.kode_opd_akhir),
        "bidang_urusan": _text(frame.kode_bidang_urusan.map(region.bidang_teks)),
        "status_usul_teks": _status(frame, "status", SIPD_STATUS),
        "tolak_teks": _text(frame.alasan),
    }
    return pd.DataFrame(records)


def render_provinsi(frame: pd.DataFrame, region: Region) -> pd.DataFrame:
    """The list a kab/kota forwards to the Musrenbang RKPD Provinsi."""
    prov = region.nama_provinsi
    names = {k: v.format(prov=prov) for k, v in texts.PROVINSI_OPD.items()}
    opd = frame.theme.astype(str).map(names).fillna(frame.kode_bidang_urusan.astype(str).map(names))
    opd = opd.fillna(texts.PROVINSI_OPD_LAIN.format(prov=prov))
    return pd.DataFrame(
        {
            "No": np.arange(1, len(frame) + 1).astype(str),
            "ID Usulan": _text(frame.id_usulan),
            "Kabupaten/Kota": region.nama,
            "Kecamatan": _text(frame.nama_kecamatan),
            "Desa": _text(frame.nama_desa),
            "Usulan": _text(frame.nama_kamus),
            "Lokasi": _alamat_with_koordinat(frame),
            "Volume": _volume_text(frame.volume),
            "Satuan": _text(frame.satuan),
            "Anggaran": texts.thousands(frame.anggaran),
            "Status": _status(frame, "status", FORUM_STATUS),
            "Catatan": _text(frame.alasan),
            "OPD Tujuan": _text(opd),
        },
        columns=list(PROVINSI_COLUMNS),
    ).astype(object)
