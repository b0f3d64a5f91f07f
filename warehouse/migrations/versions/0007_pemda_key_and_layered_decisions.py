"""ids unique within their pemda; the forum's decision kept apart from mapping and review; review columns;
failed rows counted

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:30:00.000000

- usulan: primary key (kode_pemda, tahun, level, stream, id_usulan) (two regions may send the same id or
  annex file name); index (kode_pemda, tahun, id_usulan_asal) for lineage; kode_opd_sumber holds the OPD the
  forum's source named (existing rows: kode_opd_akhir where the row was mapped by its source); the review
  columns (alasan_review, saran_*, kode_bidang_alternatif, opd_alternatif) and kewenangan; mapping methods
  renamed to what happened (source -> sumber, classifier -> klasifikasi, review -> koreksi_planner).
- mapping_verified: the level a correction was made for, part of its key (existing rows: desa, so they still
  apply to every level whose forum named no OPD).
- etl_run, etl_load_log: rows_failed (existing rows: 0).
"""

import sqlalchemy as sa
from alembic import op

from warehouse import views
from warehouse.comments import sync_comments

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RENAMED_METHODS = {"source": "sumber", "classifier": "klasifikasi", "review": "koreksi_planner"}
NEW_USULAN = (  # (name, type): a Column is made for each use, as a Column belongs to one table
    ("kode_opd_sumber", sa.String(24)),
    ("alasan_review", sa.Text()),
    ("saran_bidang_urusan", sa.String(5)),
    ("saran_sub_kegiatan", sa.String(20)),
    ("saran_opd", sa.String(24)),
    ("kode_bidang_alternatif", sa.String(5)),
    ("opd_alternatif", sa.Text()),
    ("kewenangan", sa.String(8)),
)


def _methods(mapping: dict[str, str]) -> None:
    cases = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in mapping.items())
    op.execute(
        f"UPDATE usulan SET mapping_method = CASE mapping_method {cases} ELSE mapping_method END, "
        f"mapping_version = CASE mapping_version {cases} ELSE mapping_version END"
    )


def upgrade() -> None:
    with views.views_dropped(op):
        with op.batch_alter_table("usulan") as batch_op:
            batch_op.drop_index("ix_usulan_kode_pemda_tahun")
            batch_op.drop_index("ix_usulan_id_usulan_asal")
            batch_op.drop_constraint("pk_usulan", type_="primary")
            batch_op.create_primary_key("pk_usulan", ["kode_pemda", "tahun", "level", "stream", "id_usulan"])
            for name, type_ in NEW_USULAN:
                batch_op.add_column(sa.Column(name, type_))
            batch_op.create_index(
                "ix_usulan_kode_pemda_tahun_id_usulan_asal", ["kode_pemda", "tahun", "id_usulan_asal"]
            )
        op.execute("UPDATE usulan SET kode_opd_sumber = kode_opd_akhir WHERE mapping_method = 'source'")
        op.execute("UPDATE usulan SET kewenangan = 'kabkota' WHERE mapping_method IS NOT NULL")
        _methods(RENAMED_METHODS)
    with op.batch_alter_table("mapping_verified") as batch_op:
        batch_op.add_column(sa.Column("level", sa.String(16), nullable=False, server_default="desa"))
        batch_op.drop_constraint("pk_mapping_verified", type_="primary")
        batch_op.create_primary_key("pk_mapping_verified", ["kode_pemda", "tahun", "stream", "id_usulan", "level"])
    with op.batch_alter_table("mapping_verified") as batch_op:
        batch_op.alter_column("level", server_default=None, existing_type=sa.String(16), existing_nullable=False)
    for table, nullable in (("etl_run", True), ("etl_load_log", False)):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("rows_failed", sa.BigInteger(), nullable=nullable, server_default="0"))
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(
                "rows_failed", server_default=None, existing_type=sa.BigInteger(), existing_nullable=nullable
            )
    sync_comments(op)


def downgrade() -> None:
    for table in ("etl_run", "etl_load_log"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("rows_failed")
    with op.batch_alter_table("mapping_verified") as batch_op:
        batch_op.drop_constraint("pk_mapping_verified", type_="primary")
        batch_op.drop_column("level")
        batch_op.create_primary_key("pk_mapping_verified", ["kode_pemda", "tahun", "stream", "id_usulan"])
    with views.views_dropped(op):
        _methods({new: old for old, new in RENAMED_METHODS.items()})
        with op.batch_alter_table("usulan") as batch_op:
            batch_op.drop_index("ix_usulan_kode_pemda_tahun_id_usulan_asal")
            for name, _ in reversed(NEW_USULAN):
                batch_op.drop_column(name)
            batch_op.drop_constraint("pk_usulan", type_="primary")
            batch_op.create_primary_key("pk_usulan", ["id_usulan", "tahun", "level", "stream"])
            batch_op.create_index("ix_usulan_id_usulan_asal", ["id_usulan_asal"])
            batch_op.create_index("ix_usulan_kode_pemda_tahun", ["kode_pemda", "tahun"])
