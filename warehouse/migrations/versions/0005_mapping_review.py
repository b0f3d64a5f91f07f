"""mapping: usulan.mapping_version and verified mappings from review

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 00:58:31.197107
"""

from alembic import op
import sqlalchemy as sa

from warehouse import views


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mapping_verified",
        sa.Column("kode_pemda", sa.String(length=5), nullable=False, comment="Pemda"),
        sa.Column("tahun", sa.SmallInteger(), nullable=False, comment="Tahun anggaran"),
        sa.Column("stream", sa.String(length=16), nullable=False, comment="musrenbang or pokir"),
        sa.Column("id_usulan", sa.String(length=64), nullable=False, comment="The usulan corrected (all its levels)"),
        sa.Column("uraian_usulan", sa.Text(), nullable=False, comment="Text of the usulan when it was verified"),
        sa.Column("kode_bidang_urusan", sa.String(length=5), nullable=False, comment="Verified bidang urusan"),
        sa.Column("kode_sub_kegiatan", sa.String(length=20), nullable=True, comment="Verified sub kegiatan"),
        sa.Column("kode_opd", sa.String(length=24), nullable=True, comment="Verified OPD"),
        sa.Column("catatan", sa.Text(), nullable=True, comment="Reviewer's note"),
        sa.Column("verified_by", sa.Text(), nullable=True, comment="Who verified it"),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False, comment="When it was imported (UTC)"),
        sa.Column("source_file", sa.Text(), nullable=False, comment="Review file it came from"),
        sa.PrimaryKeyConstraint("kode_pemda", "tahun", "stream", "id_usulan", name=op.f("pk_mapping_verified")),
        comment="Mappings a planner verified in the review file: they override the model on the next run and train it",
    )
    with op.batch_alter_table("usulan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "mapping_version",
                sa.String(length=40),
                nullable=True,
                comment="Version of what mapped it: classifier model version, or kamus/review",
            )
        )


def downgrade() -> None:
    with views.views_dropped(op), op.batch_alter_table("usulan", schema=None) as batch_op:
        batch_op.drop_column("mapping_version")

    op.drop_table("mapping_verified")
