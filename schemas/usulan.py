"""The usulan record: one proposal at one forum level, as every source is staged into."""

from schemas import patterns
from schemas.contract import Column, Table

# Forum levels in the order an usulan rises (domain.md section 1).
LEVELS = ("desa", "kecamatan", "forum_opd", "kabkota", "provinsi", "nasional")
LEVEL_LABELS = {
    "desa": "Musrenbang Desa/Kelurahan",
    "kecamatan": "Musrenbang Kecamatan",
    "forum_opd": "Forum Perangkat Daerah",
    "kabkota": "Musrenbang RKPD Kabupaten/Kota",
    "provinsi": "Musrenbang RKPD Provinsi",
    "nasional": "Musrenbang Nasional",
}
STREAMS = ("musrenbang", "pokir")  # aspirasi masyarakat (SIPD id_jenis_usul 8) and pokok pikiran DPRD (13)
STATUSES = ("diusulkan", "diterima", "ditolak")
MAPPING_METHODS = ("source", "kamus", "classifier", "review")

MAPPING_VERIFIED = Table(
    name="mapping_verified",
    description="Mappings a planner verified in the review file: they override the model on the next run "
                "and train it",
    primary_key=("kode_pemda", "tahun", "stream", "id_usulan"),
    columns=(
        Column("kode_pemda", "code", "Pemda", pattern=patterns.KODE_PEMDA, max_length=5),
        Column("tahun", "int16", "Tahun anggaran"),
        Column("stream", "code", "musrenbang or pokir", values=STREAMS, max_length=16),
        Column("id_usulan", "code", "The usulan corrected (all its levels)", max_length=64),
        Column("uraian_usulan", "text", "Text of the usulan when it was verified", required=True),
        Column("kode_bidang_urusan", "code", "Verified bidang urusan", required=True, pattern=patterns.KODE_BIDANG,
               max_length=5),
        Column("kode_sub_kegiatan", "code", "Verified sub kegiatan", pattern=patterns.KODE_SUB_KEGIATAN, max_length=20),
        Column("kode_opd", "code", "Verified OPD", pattern=patterns.KODE_SKPD, max_length=24),
        Column("catatan", "text", "Reviewer's note"),
        Column("verified_by", "text", "Who verified it"),
        Column("verified_at", "timestamp", "When it was imported (UTC)", required=True),
        Column("source_file", "text", "Review file it came from", required=True),
    ),
)

USULAN = Table(
    name="usulan",
    description="Usulan Musrenbang/pokir: one row per usulan per forum level, with its status and mapping",
    primary_key=("tahun", "level", "stream", "id_usulan"),
    partition_by=("tahun", "level", "kode_pemda"),
    indexes=(("kode_pemda", "tahun"), ("id_usulan_asal",), ("kode_opd_akhir",)),
    columns=(
        Column("id_usulan", "code", "ID of the usulan in the source system (SIPD id_usulan)", max_length=64),
        Column("tahun", "int16", "Tahun anggaran the usulan plans for", min_value=2019, max_value=2100),
        Column("level", "code", "Forum level of this row", values=LEVELS, max_length=16),
        Column("stream", "code", "musrenbang (aspirasi masyarakat) or pokir (DPRD)", values=STREAMS, max_length=16),
        Column("kode_pemda", "code", "Kode wilayah of the kabupaten/kota (PP.KK)", required=True,
               pattern=patterns.KODE_PEMDA, max_length=5),
        Column("kode_kecamatan", "code", "Kode wilayah of the kecamatan", pattern=patterns.KODE_KECAMATAN, max_length=8),
        Column("kode_desa", "code", "Kode wilayah of the desa/kelurahan", pattern=patterns.KODE_DESA, max_length=13),
        Column("nama_kecamatan", "text", "Kecamatan name as written in the source", max_length=200),
        Column("nama_desa", "text", "Desa/kelurahan name as written in the source", max_length=200),
        Column("lokasi", "text", "Alamat / lokasi of the usulan (dusun, RT/RW, street)"),
        Column("latitude", "float", "Latitude (WGS84)", min_value=-11.5, max_value=6.5),
        Column("longitude", "float", "Longitude (WGS84)", min_value=94.5, max_value=141.5),
        Column("uraian_usulan", "text", "What is proposed, as written", required=True, max_length=2000),
        Column("permasalahan", "text", "The problem the usulan answers"),
        Column("volume", "float", "Volume (koefisien) at this level", min_value=0, max_value=1e7),
        Column("satuan", "text", "Unit of the volume", max_length=60),
        Column("anggaran", "money", "Anggaran (Rp) at this level", min_value=0, max_value=1e12),
        Column("prioritas", "int32", "Priority rank within the forum (1 = highest)", min_value=1, max_value=10000),
        Column("status", "code", "Decision of this forum", required=True, values=STATUSES, max_length=16),
        Column("alasan", "text", "Reason or note of the decision (required for a rejection)"),
        Column("tanggal_usul", "date", "Date the usulan was entered"),
        Column("id_kamus", "code", "Kamus usulan id chosen by the proposer", max_length=40),
        Column("nama_kamus", "text", "Kamus usulan name (SIPD giat_teks)"),
        Column("kode_opd_awal", "code", "Kode SKPD of the OPD first targeted", pattern=patterns.KODE_SKPD, max_length=24),
        Column("nama_opd_awal", "text", "Name of the OPD first targeted (OPD tujuan awal)"),
        Column("kode_opd_akhir", "code", "Kode SKPD of the OPD that carries it (after mapping/redirect)",
               pattern=patterns.KODE_SKPD, max_length=24),
        Column("nama_opd_akhir", "text", "Name of the OPD that carries it (OPD tujuan akhir)"),
        Column("kode_bidang_urusan", "code", "Bidang urusan (Permendagri 90/2019 nomenclature)",
               pattern=patterns.KODE_BIDANG, max_length=5),
        Column("kode_sub_kegiatan", "code", "Sub kegiatan of the nomenclature of the tahun",
               pattern=patterns.KODE_SUB_KEGIATAN, max_length=20),
        Column("mapping_method", "code", "How the bidang/OPD was found", values=MAPPING_METHODS, max_length=16),
        Column("mapping_confidence", "float", "Confidence of the mapping, 0..1", min_value=0, max_value=1),
        Column("mapping_version", "code", "Version of what mapped it: classifier model version, or kamus/review",
               max_length=40),
        Column("quality_flags", "text", "Warnings the row was loaded with (rule ids, comma separated)"),
        Column("pengusul", "text", "Name of the proposer", personal=True),
        Column("kontak_pengusul", "text", "Phone number / NIK of the proposer", personal=True),
        Column("id_usulan_asal", "code", "id_usulan of the lower-level usulan it came from (lineage)", max_length=64),
        Column("source", "code", "Source channel of the slice (e.g. sipd-excel)", required=True, max_length=40),
        Column("source_file", "text", "File or endpoint the row was read from", required=True),
        Column("source_sheet", "text", "Sheet or page the row was read from"),
        Column("source_row", "int32", "Row number in the file (1-based, as a spreadsheet shows it) or record in the page",
               required=True, min_value=1),
        Column("run_id", "code", "Pipeline run that loaded the row", required=True, max_length=40),
    ),
)
