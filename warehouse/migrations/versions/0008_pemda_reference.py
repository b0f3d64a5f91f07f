"""each pemda's own reference: the kecamatan of a kecamatan SKPD, the Renja as evidence, pagu indikatif per OPD

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00.000000

- ref_opd: kode_kecamatan, the kecamatan a kecamatan SKPD (7.01) serves (existing rows: empty until the next
  run or `rkpd reference import` writes the pemda's list again).
- ref_renja: Renja/RKPD sub kegiatan per OPD of a pemda for a tahun, the evidence OPD routing uses.
- ref_pagu_opd: pagu indikatif per OPD for a tahun, beside ref_pagu_kewilayahan (per kecamatan).
- view v_pagu_opd: accepted anggaran per OPD at the Forum Perangkat Daerah and the Musrenbang kab/kota against
  that ceiling (the views are dropped and created again around the change of ref_opd, which they read).
"""

import sqlalchemy as sa
from alembic import op

from warehouse import views
from warehouse.comments import sync_comments

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NEW_VIEWS = ("v_pagu_opd",)


def upgrade() -> None:
    with views.views_dropped(op):
        with op.batch_alter_table("ref_opd") as batch_op:
            batch_op.add_column(sa.Column("kode_kecamatan", sa.String(8)))
        op.create_table(
            "ref_renja",
            sa.Column("kode_pemda", sa.String(5), nullable=False),
            sa.Column("tahun", sa.SmallInteger(), nullable=False),
            sa.Column("kode_skpd", sa.String(24), nullable=False),
            sa.Column("kode_sub_kegiatan", sa.String(20), nullable=False),
            sa.Column("nama_sub_kegiatan", sa.Text()),
            sa.Column("tolok_ukur", sa.Text()),
            sa.Column("pagu_indikatif", sa.Numeric(18, 2)),
            sa.Column("n_lokasi", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("kode_pemda", "tahun", "kode_skpd", "kode_sub_kegiatan", name=op.f("pk_ref_renja")),
        )
        op.create_table(
            "ref_pagu_opd",
            sa.Column("kode_pemda", sa.String(5), nullable=False),
            sa.Column("tahun", sa.SmallInteger(), nullable=False),
            sa.Column("kode_skpd", sa.String(24), nullable=False),
            sa.Column("pagu", sa.Numeric(18, 2), nullable=False),
            sa.Column("sumber", sa.Text()),
            sa.PrimaryKeyConstraint("kode_pemda", "tahun", "kode_skpd", name=op.f("pk_ref_pagu_opd")),
        )
    views.create_all(op, NEW_VIEWS)
    sync_comments(op)


def downgrade() -> None:
    views.drop_all(op, NEW_VIEWS)
    with views.views_dropped(op):
        op.drop_table("ref_pagu_opd")
        op.drop_table("ref_renja")
        with op.batch_alter_table("ref_opd") as batch_op:
            batch_op.drop_column("kode_kecamatan")
