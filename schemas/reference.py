"""Reference tables: kode wilayah, nomenclature, OPD masters and kamus usulan (all versioned)."""

from schemas import patterns
from schemas.contract import Column, Table

TINGKAT_WILAYAH = ("provinsi", "kabkota", "kecamatan", "desa")
TINGKAT_NOMENKLATUR = ("urusan", "bidang", "program", "kegiatan", "sub_kegiatan")

WILAYAH = Table(
    name="ref_wilayah",
    description="Kode wilayah (Kepmendagri), one row per code per regulation version",
    primary_key=("versi", "kode"),
    indexes=(("kode_induk",),),
    columns=(
        Column("versi", "code", "Regulation version of the list (e.g. kepmendagri-2025)", max_length=32),
        Column("kode", "code", "Kode wilayah", pattern=patterns.KODE_WILAYAH, max_length=13),
        Column("tingkat", "code", "provinsi, kabkota, kecamatan or desa", required=True,
               values=TINGKAT_WILAYAH, max_length=10),
        Column("nama", "text", "Official name", required=True, max_length=200),
        Column("kode_induk", "code", "Code of the parent area", pattern=patterns.KODE_WILAYAH, max_length=13),
        Column("jenis", "code", "kabupaten/kota, desa/kelurahan", max_length=12),
        Column("berlaku_mulai", "int16", "First tahun anggaran this version applies to", required=True),
        Column("berlaku_sampai", "int16", "Last tahun anggaran it applies to (empty: still in force)"),
    ),
)

NOMENKLATUR = Table(
    name="ref_nomenklatur",
    description="Permendagri 90/2019 nomenclature and its updates, one row per code per version",
    primary_key=("versi", "kode"),
    indexes=(("kode_bidang_urusan",),),
    columns=(
        Column("versi", "code", "Nomenclature version (e.g. kepmendagri-050-3708-2020)", max_length=40),
        Column("kode", "code", "Code U.BB.PP.K.KK.SSSS at its level", pattern=patterns.KODE_NOMENKLATUR, max_length=20),
        Column("tingkat", "code", "urusan, bidang, program, kegiatan or sub_kegiatan", required=True,
               values=TINGKAT_NOMENKLATUR, max_length=12),
        Column("nama", "text", "Name", required=True),
        Column("kode_induk", "code", "Code of the parent level", max_length=20),
        Column("kode_bidang_urusan", "code", "Bidang urusan the code belongs to", pattern=patterns.KODE_BIDANG,
               max_length=5),
        Column("berlaku_mulai", "int16", "First tahun anggaran this version applies to", required=True),
        Column("berlaku_sampai", "int16", "Last tahun anggaran it applies to (empty: still in force)"),
    ),
)

_BIDANG_SLOTS = tuple(
    Column(f"bidang_urusan_{i}", "code", f"Bidang urusan slot {i} carried by the OPD", pattern=patterns.KODE_BIDANG,
           max_length=5, required=(i == 1))
    for i in (1, 2, 3)
)

OPD = Table(
    name="ref_opd",
    description="OPD (SKPD) master of a pemda with the bidang urusan each carries, versioned by tahun",
    primary_key=("kode_pemda", "tahun_mulai", "kode_skpd"),
    columns=(
        Column("kode_pemda", "code", "Kode wilayah of the pemda", pattern=patterns.KODE_PEMDA, max_length=5),
        Column("tahun_mulai", "int16", "First tahun anggaran of this SOTK"),
        Column("kode_skpd", "code", "SIPD kode SKPD (encodes up to three bidang)", pattern=patterns.KODE_SKPD,
               max_length=24),
        Column("nama_skpd", "text", "OPD name", required=True),
        Column("singkatan", "text", "Short name as staff write it"),
        *_BIDANG_SLOTS,
    ),
)

OPD_STANDAR = Table(
    name="ref_opd_standar",
    description="Standard OPD names with the bidang urusan they carry (SIMCAN reference list)",
    primary_key=("jenis_pemda", "bidang_urusan_1", "kd_unit", "nama_opd"),
    columns=(
        Column("jenis_pemda", "code", "provinsi or kabkota", values=("provinsi", "kabkota"), max_length=10),
        Column("kd_unit", "int32", "SIMCAN unit number within its first bidang"),
        Column("nama_opd", "text", "Standard OPD name", required=True),
        *_BIDANG_SLOTS,
        Column("aktif", "bool", "Still an active entry of the SIMCAN list", required=True),
    ),
)

KAMUS = Table(
    name="ref_kamus",
    description="Kamus usulan: closed list of proposal types, each pre-mapped to OPD, bidang and sub kegiatan",
    primary_key=("kode_pemda", "tahun_mulai", "id_kamus"),
    columns=(
        Column("kode_pemda", "code", "Pemda the kamus belongs to", pattern=patterns.KODE_PEMDA, max_length=5),
        Column("tahun_mulai", "int16", "First tahun anggaran the kamus applies to"),
        Column("id_kamus", "code", "Kamus id", max_length=40),
        Column("stream", "code", "musrenbang or pokir", required=True, values=("musrenbang", "pokir"), max_length=16),
        Column("nama_kamus", "text", "Kamus name as SIPD shows it", required=True),
        Column("jenis", "code", "fisik, non fisik or barang", values=("fisik", "non fisik", "barang"), max_length=12),
        Column("kode_bidang_urusan", "code", "Bidang urusan", required=True, pattern=patterns.KODE_BIDANG, max_length=5),
        Column("kode_sub_kegiatan", "code", "Sub kegiatan", pattern=patterns.KODE_SUB_KEGIATAN, max_length=20),
        Column("kode_skpd", "code", "OPD that carries it", required=True, pattern=patterns.KODE_SKPD, max_length=24),
        Column("satuan", "text", "Unit of volume", required=True, max_length=60),
        Column("harga_satuan", "money", "Unit price (Rp)", min_value=0),
        Column("level_min", "code", "Lowest forum where it usually appears", max_length=16),
        Column("contoh_teks_warga", "text", "Ways residents write it, separated by ' | '"),
    ),
)

PAGU_KEWILAYAHAN = Table(
    name="ref_pagu_kewilayahan",
    description="Pagu indikatif kewilayahan: the ceiling announced to each kecamatan forum for a tahun",
    primary_key=("kode_pemda", "tahun", "kode_kecamatan"),
    columns=(
        Column("kode_pemda", "code", "Pemda", pattern=patterns.KODE_PEMDA, max_length=5),
        Column("tahun", "int16", "Tahun anggaran"),
        Column("kode_kecamatan", "code", "Kecamatan", pattern=patterns.KODE_KECAMATAN, max_length=8),
        Column("pagu", "money", "Ceiling (Rp)", required=True, min_value=0),
        Column("sumber", "text", "Where the ceiling was set (e.g. surat edaran Bappeda)"),
    ),
)

REFERENCE_TABLES = (WILAYAH, NOMENKLATUR, OPD, OPD_STANDAR, KAMUS, PAGU_KEWILAYAHAN)
