"""Source layouts: how the files regions hand over map onto the usulan contract.

Headers differ between SIPD exports, berita acara annexes, desa apps and the SIPD API. Instead of
ad-hoc code per file, every header is normalised (`normalise_header`) and looked up in
`COLUMN_ALIASES`. Targets are contract columns of `schemas.usulan.USULAN` or one of the
`RAW_FIELDS`, which the extract step parses into contract columns (status text, combined
"100 Meter" koefisien, "Rp 1.250.000,00", sub kegiatan text with its code, kabupaten name).
"""

from __future__ import annotations

import re

from schemas.usulan import LEVELS, USULAN

# Fields that exist only in sources and are parsed into contract columns by the extract step.
RAW_FIELDS = (
    "status_teks",
    "nama_kabkota",
    "bidang_urusan_teks",
    "sub_kegiatan_teks",
    "rekomendasi",
    "no",
    "tahun_teks",
)

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "no": ("no", "no urut", "nomor"),
    "tahun_teks": ("tahun", "tahun anggaran"),  # the tahun a record says it is for (SIPD API: the RKPD year)
    "id_usulan": ("id usulan", "id_usulan", "no usulan", "kode usulan", "kode tracking", "id"),
    "id_usulan_asal": ("id usulan asal", "id_usulan_asal", "id usulan desa", "usulandesaid"),
    "tanggal_usul": ("tanggal usul", "tanggal usulan", "tgl usul", "tanggal", "created_at"),
    "pengusul": (
        "pengusul",
        "nama pengusul",
        "anggota dewan",
        "pengusul nama",
        "nama anggota dewan",
        "anggota dprd",
        "nama anggota dprd",
        "diusulkan oleh",
    ),
    "kontak_pengusul": ("no hp", "no telp", "telepon", "kontak", "kontak pengusul", "nik", "nik pengusul"),
    "uraian_usulan": (
        "usulan",
        "uraian usulan",
        "nama usulan",
        "usulan kegiatan",
        "kegiatan",
        "jenis kegiatan",
        "detail_gagasan",
        "gagasan",
        "kegiatan prioritas",
        "uraian kegiatan",
        "program kegiatan",
        "nama kegiatan",
        "usulan kegiatan prioritas",
        "nama pekerjaan",
        "jenis pekerjaan",
        "pokok pikiran",
        "aspirasi",
    ),
    "permasalahan": ("masalah", "permasalahan", "detail_masalah", "prioritas permasalahan"),
    "lokasi": (
        "alamat",
        "lokasi",
        "alamat_teks",
        "detail_alamatteks",
        "dusun alamat",
        "alamat lokasi",
        "lokasi kegiatan",
    ),
    "nama_kabkota": ("kabupaten", "kab kota", "kabupaten kota", "detail_kabkotateks", "nama kabupaten"),
    "nama_kecamatan": ("kecamatan", "detail_camatteks", "nama kecamatan", "kec"),
    "nama_desa": (
        "kelurahan",
        "desa",
        "desa kelurahan",
        "kelurahan desa",
        "detail_lurahteks",
        "nama desa",
        "kampung",
        "nama kelurahan",
        "lokasi desa",
        "desa kel",
        "kampung kelurahan",
        "tiyuh",
        "pekon",
    ),
    "prioritas": (
        "usulan ke",
        "prioritas",
        "no prioritas",
        "urutan prioritas",
        "prioritas kelurahan",
        "prioritas kecamatan",
        "ranking",
    ),
    "nama_opd_awal": ("opd tujuan awal", "nama_skpd_awal", "skpd tujuan awal", "opd awal"),
    "nama_opd_akhir": (
        "opd tujuan akhir",
        "nama_skpd",
        "skpd tujuan",
        "opd tujuan",
        "perangkat daerah",
        "opd pelaksana",
        "opd akhir",
    ),
    "kode_opd_akhir": ("kode_skpd", "kode skpd", "kode opd"),
    "status_teks": (
        "status",
        "status_usul_teks",
        "hasil musyawarah",
        "hasil validasi",
        "keputusan",
        "status usulan",
        "hasil verifikasi",
        "rekomendasi forum",
    ),
    "alasan": (
        "catatan",
        "alasan",
        "keterangan",
        "tolak_teks",
        "catatan validasi",
        "alasan tidak diakomodir",
        "alasan belum diakomodir",
        "alasan penolakan",
        "ket",
    ),
    "rekomendasi": ("rekomendasi",),
    "volume": ("volume", "detail_volume", "koefisien", "vol", "target volume", "target", "jumlah volume"),
    "satuan": ("satuan", "sat"),
    "anggaran": (
        "anggaran",
        "perkiraan biaya",
        "perkiraan biaya rp",
        "pagu",
        "nilai usulan",
        "detail_anggaran",
        "biaya",
        "estimasi anggaran",
        "anggaran rp",
        "nilai",
        "pagu indikatif",
        "perkiraan anggaran",
        "perkiraan anggaran rp",
        "jumlah rp",
        "jumlah biaya",
        "nilai rp",
        "pagu rp",
        "estimasi biaya",
    ),
    "sub_kegiatan_teks": ("sub kegiatan", "detail_subgiat", "nama sub kegiatan", "subkegiatan"),
    "bidang_urusan_teks": ("bidang urusan", "bidang_urusan"),
    "kode_bidang_urusan": ("kode bidang urusan", "kode_bidang_urusan"),
    "kode_sub_kegiatan": ("kode sub kegiatan", "kode_sub_kegiatan", "kode_sub_giat"),
    "id_kamus": ("id kamus", "detail_idkamus", "id_kamus", "kode kamus"),
    "nama_kamus": ("kamus usulan", "giat_teks", "nama kamus", "kamus"),
    "latitude": ("lat", "latitude", "detail_latpeta", "lintang"),
    "longitude": ("lng", "long", "longitude", "detail_langpeta", "bujur"),
}

# At a level, the SIPD "Rekomendasi <X>" column that holds that forum's decision.
REKOMENDASI_OF_LEVEL = {
    "desa": "rekomendasi kelurahan",
    "kecamatan": "rekomendasi kecamatan",
    "forum_opd": "rekomendasi skpd",
    "kabkota": "rekomendasi tapd",
}

# Status words as regions write them, normalised (lower case, single spaces) -> contract status.
STATUS_WORDS = {
    "diterima": (
        "diterima",
        "disetujui",
        "setuju",
        "lolos",
        "diakomodir",
        "diakomodasi",
        "ya",
        "1",
        "usulan diterima",
        "terverifikasi",
        "prioritas",
        "ditampung",
        "valid",
    ),
    "ditolak": (
        "ditolak",
        "tidak disetujui",
        "tolak",
        "tidak diakomodir",
        "belum diakomodir",
        "tidak diakomodasi",
        "tidak",
        "0",
        "tidak lolos",
        "tidak valid",
        "tidak terkait",
    ),
    "diusulkan": (
        "diusulkan",
        "usulan",
        "baru",
        "menunggu verifikasi",
        "proses",
        "dalam proses",
        "draft",
        "belum diverifikasi",
        "",
    ),
}

# Berita acara annexes state the decision in their title, not in a column: Lampiran IV "daftar
# prioritas usulan" (accepted) and Lampiran V "usulan yang belum/tidak diakomodir" (rejected, with
# alasan). Patterns are searched in the sheet name and the text above the header; first match wins.
TITLE_STATUS = (
    (
        r"(?:tidak|belum)\s+(?:dapat\s+)?(?:diakomodir|diakomodasi|ditampung|terakomodir)|ditolak|tidak disetujui",
        "ditolak",
    ),
    (r"daftar prioritas|prioritas usulan|usulan prioritas|diterima|disetujui|disepakati", "diterima"),
)

# The tahun anggaran a sheet's title names ('... TAHUN ANGGARAN 2024', 'RKPD TAHUN 2025'), searched in the
# sheet name and the text above the header. The forum's own year ('MUSRENBANG TAHUN 2024') is not it.
TITLE_TAHUN = r"(?i)\b(?:tahun\s+anggaran|t\.?\s*a\.?|rkpd(?:\s+tahun)?)\s+(\d{4})\b"

# A sheet of usulan names each usulan by one of these; a sheet without them (a rekap) holds no usulan rows.
USULAN_TEXT = ("uraian_usulan", "nama_kamus")
# The first cell of a totals row ('JUMLAH', 'Total', 'Sub Total', 'Grand Total'): not an usulan.
TOTALS_ROW = r"(?i)^(?:jumlah|total|sub\s*total|grand\s*total)\b"

# Per-row facts of a raw file that staging needs besides the cells (internal columns of the staging frame).
DECIMAL_COMMA = "_decimal_comma"  # the row's file writes decimals with a comma ('0,750' is 0.75)

# Inbox convention: <inbox>/<tahun>/<kode_pemda>/<folder>/<file>. Files starting with "_" or "." are
# not sources. The folder names the level; "pokir" holds the DPRD stream, entered at kab/kota level.
FOLDER_LEVELS = {level: (level, "musrenbang") for level in LEVELS} | {"pokir": ("kabkota", "pokir")}
SOURCE_OF_SUFFIX = {".xlsx": "excel", ".xlsm": "excel", ".xls": "excel", ".csv": "csv", ".txt": "csv", ".json": "json"}


def normalise_header(text: object) -> str:
    """'Perkiraan Biaya (Rp)' -> 'perkiraan biaya rp'; keeps underscores of API field names."""
    return re.sub(r"[^0-9a-z_]+", " ", str(text).lower()).strip()


def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    targets = set(USULAN.column_names) | set(RAW_FIELDS)
    for target, aliases in COLUMN_ALIASES.items():
        if target not in targets:
            raise ValueError(f"alias target {target!r} is neither a contract column nor a raw field")
        for alias in aliases:
            key = normalise_header(alias)
            if index.setdefault(key, target) != target:
                raise ValueError(f"alias {alias!r} maps to two targets")
    return index


ALIAS_INDEX = _alias_index()
STATUS_INDEX = {word: status for status, words in STATUS_WORDS.items() for word in words}


def target_of(header: object) -> str | None:
    """The contract column or raw field a source header stands for, or None."""
    key = normalise_header(header)
    if key in ALIAS_INDEX:
        return ALIAS_INDEX[key]
    if key.startswith("rekomendasi "):
        return key  # kept whole: the extract step picks the column of its level
    return None
