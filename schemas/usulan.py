"""The usulan record: one proposal at one forum level, as every source is staged into."""

from schemas.contract import Table
from schemas.fields import LEVELS, MAPPING_METHODS, STATUSES, STREAMS, columns

__all__ = ["LEVELS", "LEVEL_LABELS", "MAPPING_METHODS", "MAPPING_VERIFIED", "STATUSES", "STREAMS", "USULAN"]

LEVEL_LABELS = {
    "desa": "Musrenbang Desa/Kelurahan",
    "kecamatan": "Musrenbang Kecamatan",
    "forum_opd": "Forum Perangkat Daerah",
    "kabkota": "Musrenbang RKPD Kabupaten/Kota",
    "provinsi": "Musrenbang RKPD Provinsi",
    "nasional": "Musrenbang Nasional",
}

MAPPING_VERIFIED = Table(
    name="mapping_verified",
    description="Mappings a planner verified in the review file: they override the model on the next run and train it",
    primary_key=("kode_pemda", "tahun", "stream", "id_usulan"),
    columns=columns(
        "kode_pemda",
        "tahun",
        "stream",
        "id_usulan",
        "uraian_usulan",
        "kode_bidang_urusan",
        "kode_sub_kegiatan",
        "kode_opd",
        "catatan",
        "verified_by",
        "verified_at",
        "source_file",
        required=("uraian_usulan", "kode_bidang_urusan", "verified_at", "source_file"),
        uraian_usulan={"max_length": None},
    ),
)

USULAN = Table(
    name="usulan",
    description="Usulan Musrenbang/pokir: one row per usulan per forum level, with its status and mapping",
    primary_key=("tahun", "level", "stream", "id_usulan"),
    partition_by=("tahun", "level", "kode_pemda"),
    indexes=(("kode_pemda", "tahun"), ("id_usulan_asal",), ("kode_opd_akhir",)),
    columns=columns(
        "id_usulan",
        "tahun",
        "level",
        "stream",
        "kode_pemda",
        "kode_kecamatan",
        "kode_desa",
        "nama_kecamatan",
        "nama_desa",
        "lokasi",
        "latitude",
        "longitude",
        "uraian_usulan",
        "permasalahan",
        "volume",
        "satuan",
        "anggaran",
        "prioritas",
        "status",
        "alasan",
        "tanggal_usul",
        "id_kamus",
        "nama_kamus",
        "kode_opd_awal",
        "nama_opd_awal",
        "kode_opd_akhir",
        "nama_opd_akhir",
        "kode_bidang_urusan",
        "kode_sub_kegiatan",
        "mapping_method",
        "mapping_confidence",
        "mapping_version",
        "quality_flags",
        "pengusul",
        "kontak_pengusul",
        "id_usulan_asal",
        "source",
        "source_file",
        "source_sheet",
        "source_row",
        "run_id",
        required=("kode_pemda", "uraian_usulan", "status", "source", "source_file", "source_row", "run_id"),
    ),
)
