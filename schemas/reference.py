"""Reference tables: kode wilayah, nomenclature, OPD masters and kamus usulan (all versioned)."""

from schemas import patterns
from schemas.contract import Table
from schemas.fields import TINGKAT_NOMENKLATUR, TINGKAT_WILAYAH, columns

WILAYAH = Table(
    name="ref_wilayah",
    description="Kode wilayah (Kepmendagri), one row per code per regulation version",
    primary_key=("versi", "kode"),
    indexes=(("kode_induk",),),
    columns=columns(
        "versi",
        "kode",
        "tingkat",
        "nama",
        "kode_induk",
        "jenis",
        "berlaku_mulai",
        "berlaku_sampai",
        required=("tingkat", "nama", "berlaku_mulai"),
        versi={"max_length": 32},
        kode={"pattern": patterns.KODE_WILAYAH, "max_length": 13},
        tingkat={"values": TINGKAT_WILAYAH, "max_length": 10},
        nama={"max_length": 200},
        kode_induk={"pattern": patterns.KODE_WILAYAH, "max_length": 13},
    ),
)

NOMENKLATUR = Table(
    name="ref_nomenklatur",
    description="Permendagri 90/2019 nomenclature and its updates, one row per code per version",
    primary_key=("versi", "kode"),
    indexes=(("kode_bidang_urusan",),),
    columns=columns(
        "versi",
        "kode",
        "tingkat",
        "nama",
        "kode_induk",
        "kode_bidang_urusan",
        "berlaku_mulai",
        "berlaku_sampai",
        required=("tingkat", "nama", "berlaku_mulai"),
        kode={"pattern": patterns.KODE_NOMENKLATUR},
        tingkat={"values": TINGKAT_NOMENKLATUR},
    ),
)

OPD = Table(
    name="ref_opd",
    description="OPD (SKPD) master of a pemda with the bidang urusan each carries (from its kode SKPD) and, for "
    "a kecamatan SKPD, the kecamatan it serves; versioned by tahun",
    primary_key=("kode_pemda", "tahun_mulai", "kode_skpd"),
    columns=columns(
        "kode_pemda",
        "tahun_mulai",
        "kode_skpd",
        "nama_skpd",
        "singkatan",
        "bidang_urusan_1",
        "bidang_urusan_2",
        "bidang_urusan_3",
        "kode_kecamatan",
        required=("nama_skpd", "bidang_urusan_1"),
    ),
)

OPD_STANDAR = Table(
    name="ref_opd_standar",
    description="Standard OPD names with the bidang urusan they carry (SIMCAN reference list)",
    primary_key=("jenis_pemda", "bidang_urusan_1", "kd_unit", "nama_opd"),
    columns=columns(
        "jenis_pemda",
        "kd_unit",
        "nama_opd",
        "bidang_urusan_1",
        "bidang_urusan_2",
        "bidang_urusan_3",
        "aktif",
        required=("nama_opd", "bidang_urusan_1", "aktif"),
    ),
)

KAMUS = Table(
    name="ref_kamus",
    description="Kamus usulan: closed list of proposal types, each pre-mapped to OPD, bidang and sub kegiatan",
    primary_key=("kode_pemda", "tahun_mulai", "id_kamus"),
    columns=columns(
        "kode_pemda",
        "tahun_mulai",
        "id_kamus",
        "stream",
        "nama_kamus",
        "jenis_usulan",
        "kode_bidang_urusan",
        "kode_sub_kegiatan",
        "kode_skpd",
        "satuan",
        "harga_satuan",
        "level_min",
        "contoh_teks_warga",
        required=("stream", "nama_kamus", "kode_bidang_urusan", "kode_skpd", "satuan"),
    ),
)

PAGU_KEWILAYAHAN = Table(
    name="ref_pagu_kewilayahan",
    description="Pagu indikatif kewilayahan: the ceiling announced to each kecamatan forum for a tahun",
    primary_key=("kode_pemda", "tahun", "kode_kecamatan"),
    columns=columns("kode_pemda", "tahun", "kode_kecamatan", "pagu", "sumber", required=("pagu",)),
)

RENJA = Table(
    name="ref_renja",
    description="Renja/RKPD sub kegiatan of a pemda for a tahun, per OPD of its list: evidence of which OPD "
    "carries which sub kegiatan",
    primary_key=("kode_pemda", "tahun", "kode_skpd", "kode_sub_kegiatan"),
    columns=columns(
        "kode_pemda",
        "tahun",
        "kode_skpd",
        "kode_sub_kegiatan",
        "nama_sub_kegiatan",
        "tolok_ukur",
        "pagu_indikatif",
        "n_lokasi",
        required=("n_lokasi",),
    ),
)

PAGU_OPD = Table(
    name="ref_pagu_opd",
    description="Pagu indikatif per OPD: the ceiling announced to each perangkat daerah for a tahun",
    primary_key=("kode_pemda", "tahun", "kode_skpd"),
    columns=columns("kode_pemda", "tahun", "kode_skpd", "pagu", "sumber", required=("pagu",)),
)

REFERENCE_TABLES = (WILAYAH, NOMENKLATUR, OPD, OPD_STANDAR, KAMUS, RENJA, PAGU_KEWILAYAHAN, PAGU_OPD)
