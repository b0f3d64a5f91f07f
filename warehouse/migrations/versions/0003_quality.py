"""quality: usulan.quality_flags, quality_summary, pagu kewilayahan

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 00:36:18.834909
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_summary",
        sa.Column("run_id", sa.String(length=40), nullable=False, comment="Run id"),
        sa.Column("tahun", sa.SmallInteger(), nullable=False, comment="Tahun anggaran of the slice"),
        sa.Column("level", sa.String(length=16), nullable=False, comment="Forum level of the slice"),
        sa.Column("kode_pemda", sa.String(length=5), nullable=False, comment="Pemda of the slice"),
        sa.Column("source", sa.String(length=40), nullable=False, comment="Source channel of the slice"),
        sa.Column("summary_id", sa.Integer(), nullable=False, comment="Sequence within the slice"),
        sa.Column(
            "kode_kecamatan", sa.String(length=8), nullable=True, comment="Kecamatan of the rows (empty: not resolved)"
        ),
        sa.Column("rule", sa.String(length=60), nullable=False, comment="Rule checked"),
        sa.Column("severity", sa.String(length=8), nullable=False, comment="error or warning"),
        sa.Column("checked", sa.BigInteger(), nullable=False, comment="Rows the rule was applied to"),
        sa.Column("failed", sa.BigInteger(), nullable=False, comment="Rows failing the rule"),
        sa.PrimaryKeyConstraint(
            "run_id", "tahun", "level", "kode_pemda", "source", "summary_id", name=op.f("pk_quality_summary")
        ),
        comment="Per run, slice, kecamatan and rule: rows checked and rows failing, to follow quality over time",
    )
    with op.batch_alter_table("quality_summary", schema=None) as batch_op:
        batch_op.create_index("ix_quality_summary_tahun_level_rule", ["tahun", "level", "rule"], unique=False)

    op.create_table(
        "ref_pagu_kewilayahan",
        sa.Column("kode_pemda", sa.String(length=5), nullable=False, comment="Pemda"),
        sa.Column("tahun", sa.SmallInteger(), nullable=False, comment="Tahun anggaran"),
        sa.Column("kode_kecamatan", sa.String(length=8), nullable=False, comment="Kecamatan"),
        sa.Column("pagu", sa.Numeric(precision=18, scale=2), nullable=False, comment="Ceiling (Rp)"),
        sa.Column("sumber", sa.Text(), nullable=True, comment="Where the ceiling was set (e.g. surat edaran Bappeda)"),
        sa.PrimaryKeyConstraint("kode_pemda", "tahun", "kode_kecamatan", name=op.f("pk_ref_pagu_kewilayahan")),
        comment="Pagu indikatif kewilayahan: the ceiling announced to each kecamatan forum for a tahun",
    )
    with op.batch_alter_table("usulan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "quality_flags",
                sa.Text(),
                nullable=True,
                comment="Warnings the row was loaded with (rule ids, comma separated)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("usulan", schema=None) as batch_op:
        batch_op.drop_column("quality_flags")

    op.drop_table("ref_pagu_kewilayahan")
    with op.batch_alter_table("quality_summary", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_summary_tahun_level_rule")

    op.drop_table("quality_summary")
