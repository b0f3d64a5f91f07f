"""initial warehouse: usulan, reference and operations tables

Revision ID: 0001
Revises:
Create Date: 2026-11-23 23:57:07.185321
"""

from alembic import op
import sqlalchemy as sa


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "etl_load_log",
        sa.Column("run_id", sa.String(length=40), nullable=False, comment="Run id"),
        sa.Column("tahun", sa.SmallInteger(), nullable=False, comment="Tahun anggaran of the slice"),
        sa.Column("level", sa.String(length=16), nullable=False, comment="Forum level of the slice"),
        sa.Column("kode_pemda", sa.String(length=5), nullable=False, comment="Pemda of the slice"),
        sa.Column("source", sa.String(length=40), nullable=False, comment="Source channel of the slice"),
        sa.Column("source_file", sa.String(length=1000), nullable=False, comment="File or endpoint"),
        sa.Column("fingerprint", sa.String(length=64), nullable=True, comment="sha256 of the file"),
        sa.Column("rows_read", sa.BigInteger(), nullable=False, comment="Data rows read"),
        sa.Column("rows_loaded", sa.BigInteger(), nullable=False, comment="Rows loaded"),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=False, comment="Rows quarantined"),
        sa.Column("status", sa.String(length=16), nullable=False, comment="loaded, failed or skipped"),
        sa.Column("message", sa.Text(), nullable=True, comment="What went wrong, naming the file"),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, comment="When (UTC)"),
        sa.PrimaryKeyConstraint("run_id", "source_file", name=op.f("pk_etl_load_log")),
        comment="One row per source file read in a run: fingerprint and counts (read = loaded + quarantined)",
    )
    with op.batch_alter_table("etl_load_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_etl_load_log_tahun_level_kode_pemda_source", ["tahun", "level", "kode_pemda", "source"], unique=False
        )

    op.create_table(
        "etl_run",
        sa.Column("run_id", sa.String(length=40), nullable=False, comment="Run id"),
        sa.Column("tahun", sa.SmallInteger(), nullable=False, comment="Tahun anggaran"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, comment="Start (UTC)"),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True, comment="End (UTC)"),
        sa.Column("status", sa.String(length=16), nullable=False, comment="running, success or failed"),
        sa.Column("rows_read", sa.BigInteger(), nullable=True, comment="Rows read from every source"),
        sa.Column("rows_loaded", sa.BigInteger(), nullable=True, comment="Rows loaded into the facts"),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=True, comment="Rows set aside with a reason"),
        sa.Column("parameters", sa.Text(), nullable=True, comment="Run parameters (JSON)"),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_etl_run")),
        comment="One row per pipeline run with its totals",
    )
    op.create_table(
        "quarantine",
        sa.Column("run_id", sa.String(length=40), nullable=False, comment="Run id"),
        sa.Column("quarantine_id", sa.BigInteger(), nullable=False, comment="Sequence within the slice"),
        sa.Column("tahun", sa.SmallInteger(), nullable=False, comment="Tahun anggaran of the slice"),
        sa.Column("level", sa.String(length=16), nullable=False, comment="Forum level of the slice"),
        sa.Column("kode_pemda", sa.String(length=5), nullable=False, comment="Pemda of the slice"),
        sa.Column("source", sa.String(length=40), nullable=False, comment="Source channel of the slice"),
        sa.Column("source_file", sa.Text(), nullable=False, comment="File or endpoint of the row"),
        sa.Column("source_sheet", sa.Text(), nullable=True, comment="Sheet or page of the row"),
        sa.Column(
            "source_row", sa.Integer(), nullable=False, comment="Row number in the file (1-based) or record in the page"
        ),
        sa.Column("id_usulan", sa.String(length=64), nullable=True, comment="id_usulan when the row has one"),
        sa.Column("rule", sa.String(length=60), nullable=False, comment="Rule that failed"),
        sa.Column("field", sa.String(length=60), nullable=True, comment="Field that failed"),
        sa.Column("value", sa.Text(), nullable=True, comment="Offending value as read"),
        sa.Column("severity", sa.String(length=8), nullable=False, comment="error (kept out) or warning"),
        sa.Column("reason_id", sa.Text(), nullable=False, comment="Reason in Indonesian"),
        sa.Column("reason_en", sa.Text(), nullable=False, comment="Reason in English"),
        sa.Column("raw", sa.Text(), nullable=True, comment="The row as read (JSON)"),
        sa.PrimaryKeyConstraint(
            "run_id", "quarantine_id", "tahun", "level", "kode_pemda", "source", name=op.f("pk_quarantine")
        ),
        comment="Rows kept out of the facts, each with the rule, field, value and a readable reason",
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quarantine_tahun_level_kode_pemda_source", ["tahun", "level", "kode_pemda", "source"], unique=False
        )

    op.create_table(
        "ref_kamus",
        sa.Column("kode_pemda", sa.String(length=5), nullable=False, comment="Pemda the kamus belongs to"),
        sa.Column(
            "tahun_mulai", sa.SmallInteger(), nullable=False, comment="First tahun anggaran the kamus applies to"
        ),
        sa.Column("id_kamus", sa.String(length=40), nullable=False, comment="Kamus id"),
        sa.Column("stream", sa.String(length=16), nullable=False, comment="musrenbang or pokir"),
        sa.Column("nama_kamus", sa.Text(), nullable=False, comment="Kamus name as SIPD shows it"),
        sa.Column("jenis", sa.String(length=12), nullable=True, comment="fisik, non fisik or barang"),
        sa.Column("kode_bidang_urusan", sa.String(length=5), nullable=False, comment="Bidang urusan"),
        sa.Column("kode_sub_kegiatan", sa.String(length=20), nullable=True, comment="Sub kegiatan"),
        sa.Column("kode_skpd", sa.String(length=24), nullable=False, comment="OPD that carries it"),
        sa.Column("satuan", sa.String(length=60), nullable=False, comment="Unit of volume"),
        sa.Column("harga_satuan", sa.Numeric(precision=18, scale=2), nullable=True, comment="Unit price (Rp)"),
        sa.Column("level_min", sa.String(length=16), nullable=True, comment="Lowest forum where it usually appears"),
        sa.Column("contoh_teks_warga", sa.Text(), nullable=True, comment="Ways residents write it, separated by ' | '"),
        sa.PrimaryKeyConstraint("kode_pemda", "tahun_mulai", "id_kamus", name=op.f("pk_ref_kamus")),
        comment="Kamus usulan: closed list of proposal types, each pre-mapped to OPD, bidang and sub kegiatan",
    )
    op.create_table(
        "ref_nomenklatur",
        sa.Column(
            "versi",
            sa.String(length=40),
            nullable=False,
            comment="Nomenclature version (e.g. kepmendagri-050-3708-2020)",
        ),
        sa.Column("kode", sa.String(length=20), nullable=False, comment="Code U.BB.PP.K.KK.SSSS at its level"),
        sa.Column(
            "tingkat", sa.String(length=12), nullable=False, comment="urusan, bidang, program, kegiatan or sub_kegiatan"
        ),
        sa.Column("nama", sa.Text(), nullable=False, comment="Name"),
        sa.Column("kode_induk", sa.String(length=20), nullable=True, comment="Code of the parent level"),
        sa.Column(
            "kode_bidang_urusan", sa.String(length=5), nullable=True, comment="Bidang urusan the code belongs to"
        ),
        sa.Column(
            "berlaku_mulai", sa.SmallInteger(), nullable=False, comment="First tahun anggaran this version applies to"
        ),
        sa.Column(
            "berlaku_sampai",
            sa.SmallInteger(),
            nullable=True,
            comment="Last tahun anggaran it applies to (empty: still in force)",
        ),
        sa.PrimaryKeyConstraint("versi", "kode", name=op.f("pk_ref_nomenklatur")),
        comment="Permendagri 90/2019 nomenclature and its updates, one row per code per version",
    )
    with op.batch_alter_table("ref_nomenklatur", schema=None) as batch_op:
        batch_op.create_index("ix_ref_nomenklatur_kode_bidang_urusan", ["kode_bidang_urusan"], unique=False)

    op.create_table(
        "ref_opd",
        sa.Column("kode_pemda", sa.String(length=5), nullable=False, comment="Kode wilayah of the pemda"),
        sa.Column("tahun_mulai", sa.SmallInteger(), nullable=False, comment="First tahun anggaran of this SOTK"),
        sa.Column(
            "kode_skpd", sa.String(length=24), nullable=False, comment="SIPD kode SKPD (encodes up to three bidang)"
        ),
        sa.Column("nama_skpd", sa.Text(), nullable=False, comment="OPD name"),
        sa.Column("singkatan", sa.Text(), nullable=True, comment="Short name as staff write it"),
        sa.Column(
            "bidang_urusan_1", sa.String(length=5), nullable=False, comment="Bidang urusan slot 1 carried by the OPD"
        ),
        sa.Column(
            "bidang_urusan_2", sa.String(length=5), nullable=True, comment="Bidang urusan slot 2 carried by the OPD"
        ),
        sa.Column(
            "bidang_urusan_3", sa.String(length=5), nullable=True, comment="Bidang urusan slot 3 carried by the OPD"
        ),
        sa.PrimaryKeyConstraint("kode_pemda", "tahun_mulai", "kode_skpd", name=op.f("pk_ref_opd")),
        comment="OPD (SKPD) master of a pemda with the bidang urusan each carries, versioned by tahun",
    )
    op.create_table(
        "ref_opd_standar",
        sa.Column("jenis_pemda", sa.String(length=10), nullable=False, comment="provinsi or kabkota"),
        sa.Column("kd_unit", sa.Integer(), nullable=False, comment="SIMCAN unit number within its first bidang"),
        sa.Column("nama_opd", sa.Text(), nullable=False, comment="Standard OPD name"),
        sa.Column(
            "bidang_urusan_1", sa.String(length=5), nullable=False, comment="Bidang urusan slot 1 carried by the OPD"
        ),
        sa.Column(
            "bidang_urusan_2", sa.String(length=5), nullable=True, comment="Bidang urusan slot 2 carried by the OPD"
        ),
        sa.Column(
            "bidang_urusan_3", sa.String(length=5), nullable=True, comment="Bidang urusan slot 3 carried by the OPD"
        ),
        sa.Column("aktif", sa.Boolean(), nullable=False, comment="Still an active entry of the SIMCAN list"),
        sa.PrimaryKeyConstraint(
            "jenis_pemda", "kd_unit", "nama_opd", "bidang_urusan_1", name=op.f("pk_ref_opd_standar")
        ),
        comment="Standard OPD names with the bidang urusan they carry (SIMCAN reference list)",
    )
    op.create_table(
        "ref_wilayah",
        sa.Column(
            "versi",
            sa.String(length=32),
            nullable=False,
            comment="Regulation version of the list (e.g. kepmendagri-2025)",
        ),
        sa.Column("kode", sa.String(length=13), nullable=False, comment="Kode wilayah"),
        sa.Column("tingkat", sa.String(length=10), nullable=False, comment="provinsi, kabkota, kecamatan or desa"),
        sa.Column("nama", sa.String(length=200), nullable=False, comment="Official name"),
        sa.Column("kode_induk", sa.String(length=13), nullable=True, comment="Code of the parent area"),
        sa.Column("jenis", sa.String(length=12), nullable=True, comment="kabupaten/kota, desa/kelurahan"),
        sa.Column(
            "berlaku_mulai", sa.SmallInteger(), nullable=False, comment="First tahun anggaran this version applies to"
        ),
        sa.Column(
            "berlaku_sampai",
            sa.SmallInteger(),
            nullable=True,
            comment="Last tahun anggaran it applies to (empty: still in force)",
        ),
        sa.PrimaryKeyConstraint("versi", "kode", name=op.f("pk_ref_wilayah")),
        comment="Kode wilayah (Kepmendagri), one row per code per regulation version",
    )
    with op.batch_alter_table("ref_wilayah", schema=None) as batch_op:
        batch_op.create_index("ix_ref_wilayah_kode_induk", ["kode_induk"], unique=False)

    op.create_table(
        "usulan",
        sa.Column(
            "id_usulan",
            sa.String(length=64),
            nullable=False,
            comment="ID of the usulan in the source system (SIPD id_usulan)",
        ),
        sa.Column("tahun", sa.SmallInteger(), nullable=False, comment="Tahun anggaran the usulan plans for"),
        sa.Column("level", sa.String(length=16), nullable=False, comment="Forum level of this row"),
        sa.Column(
            "stream", sa.String(length=16), nullable=False, comment="musrenbang (aspirasi masyarakat) or pokir (DPRD)"
        ),
        sa.Column(
            "kode_pemda", sa.String(length=5), nullable=False, comment="Kode wilayah of the kabupaten/kota (PP.KK)"
        ),
        sa.Column("kode_kecamatan", sa.String(length=8), nullable=True, comment="Kode wilayah of the kecamatan"),
        sa.Column("kode_desa", sa.String(length=13), nullable=True, comment="Kode wilayah of the desa/kelurahan"),
        sa.Column(
            "nama_kecamatan", sa.String(length=200), nullable=True, comment="Kecamatan name as written in the source"
        ),
        sa.Column(
            "nama_desa", sa.String(length=200), nullable=True, comment="Desa/kelurahan name as written in the source"
        ),
        sa.Column("lokasi", sa.Text(), nullable=True, comment="Alamat / lokasi of the usulan (dusun, RT/RW, street)"),
        sa.Column("latitude", sa.Float(), nullable=True, comment="Latitude (WGS84)"),
        sa.Column("longitude", sa.Float(), nullable=True, comment="Longitude (WGS84)"),
        sa.Column("uraian_usulan", sa.String(length=2000), nullable=False, comment="What is proposed, as written"),
        sa.Column("permasalahan", sa.Text(), nullable=True, comment="The problem the usulan answers"),
        sa.Column("volume", sa.Float(), nullable=True, comment="Volume (koefisien) at this level"),
        sa.Column("satuan", sa.String(length=60), nullable=True, comment="Unit of the volume"),
        sa.Column("anggaran", sa.Numeric(precision=18, scale=2), nullable=True, comment="Anggaran (Rp) at this level"),
        sa.Column("prioritas", sa.Integer(), nullable=True, comment="Priority rank within the forum (1 = highest)"),
        sa.Column("status", sa.String(length=16), nullable=False, comment="Decision of this forum"),
        sa.Column(
            "alasan", sa.Text(), nullable=True, comment="Reason or note of the decision (required for a rejection)"
        ),
        sa.Column("tanggal_usul", sa.Date(), nullable=True, comment="Date the usulan was entered"),
        sa.Column("id_kamus", sa.String(length=40), nullable=True, comment="Kamus usulan id chosen by the proposer"),
        sa.Column("nama_kamus", sa.Text(), nullable=True, comment="Kamus usulan name (SIPD giat_teks)"),
        sa.Column("kode_opd_awal", sa.String(length=24), nullable=True, comment="Kode SKPD of the OPD first targeted"),
        sa.Column(
            "nama_opd_awal", sa.Text(), nullable=True, comment="Name of the OPD first targeted (OPD tujuan awal)"
        ),
        sa.Column(
            "kode_opd_akhir",
            sa.String(length=24),
            nullable=True,
            comment="Kode SKPD of the OPD that carries it (after mapping/redirect)",
        ),
        sa.Column(
            "nama_opd_akhir", sa.Text(), nullable=True, comment="Name of the OPD that carries it (OPD tujuan akhir)"
        ),
        sa.Column(
            "kode_bidang_urusan",
            sa.String(length=5),
            nullable=True,
            comment="Bidang urusan (Permendagri 90/2019 nomenclature)",
        ),
        sa.Column(
            "kode_sub_kegiatan",
            sa.String(length=20),
            nullable=True,
            comment="Sub kegiatan of the nomenclature of the tahun",
        ),
        sa.Column("mapping_method", sa.String(length=16), nullable=True, comment="How the bidang/OPD was found"),
        sa.Column("mapping_confidence", sa.Float(), nullable=True, comment="Confidence of the mapping, 0..1"),
        sa.Column("pengusul", sa.Text(), nullable=True, comment="Name of the proposer [data pribadi / personal data]"),
        sa.Column(
            "kontak_pengusul",
            sa.Text(),
            nullable=True,
            comment="Phone number / NIK of the proposer [data pribadi / personal data]",
        ),
        sa.Column(
            "id_usulan_asal",
            sa.String(length=64),
            nullable=True,
            comment="id_usulan of the lower-level usulan it came from (lineage)",
        ),
        sa.Column(
            "source", sa.String(length=40), nullable=False, comment="Source channel of the slice (e.g. sipd-excel)"
        ),
        sa.Column("source_file", sa.Text(), nullable=False, comment="File or endpoint the row was read from"),
        sa.Column("source_sheet", sa.Text(), nullable=True, comment="Sheet or page the row was read from"),
        sa.Column(
            "source_row",
            sa.Integer(),
            nullable=False,
            comment="Row number in the file (1-based, as a spreadsheet shows it) or record in the page",
        ),
        sa.Column("run_id", sa.String(length=40), nullable=False, comment="Pipeline run that loaded the row"),
        sa.PrimaryKeyConstraint("id_usulan", "tahun", "level", "stream", name=op.f("pk_usulan")),
        comment="Usulan Musrenbang/pokir: one row per usulan per forum level, with its status and mapping",
    )
    with op.batch_alter_table("usulan", schema=None) as batch_op:
        batch_op.create_index("ix_usulan_id_usulan_asal", ["id_usulan_asal"], unique=False)
        batch_op.create_index("ix_usulan_kode_opd_akhir", ["kode_opd_akhir"], unique=False)
        batch_op.create_index("ix_usulan_kode_pemda_tahun", ["kode_pemda", "tahun"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("usulan", schema=None) as batch_op:
        batch_op.drop_index("ix_usulan_kode_pemda_tahun")
        batch_op.drop_index("ix_usulan_kode_opd_akhir")
        batch_op.drop_index("ix_usulan_id_usulan_asal")

    op.drop_table("usulan")
    with op.batch_alter_table("ref_wilayah", schema=None) as batch_op:
        batch_op.drop_index("ix_ref_wilayah_kode_induk")

    op.drop_table("ref_wilayah")
    op.drop_table("ref_opd_standar")
    op.drop_table("ref_opd")
    with op.batch_alter_table("ref_nomenklatur", schema=None) as batch_op:
        batch_op.drop_index("ix_ref_nomenklatur_kode_bidang_urusan")

    op.drop_table("ref_nomenklatur")
    op.drop_table("ref_kamus")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantine_tahun_level_kode_pemda_source")

    op.drop_table("quarantine")
    op.drop_table("etl_run")
    with op.batch_alter_table("etl_load_log", schema=None) as batch_op:
        batch_op.drop_index("ix_etl_load_log_tahun_level_kode_pemda_source")

    op.drop_table("etl_load_log")
