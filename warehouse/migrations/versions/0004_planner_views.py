"""planner views: rekap per OPD / kecamatan / bidang, funnel per desa, daftar prioritas and pagu per
kecamatan, RKPD draft lines

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 01:00:00.000000

The view SQL lives in `warehouse/views.py` (one text for PostgreSQL and SQLite); see warehouse/VIEWS.md.
A later change to a view, or a migration that rebuilds a table the views read (SQLite batch mode, a
column type change on PostgreSQL), wraps its body in `views.views_dropped(op)`.
"""

from alembic import op

from warehouse import views


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# The views of this revision (later migrations add others, which read columns that do not exist yet here).
VIEWS = (
    "v_rekap_opd",
    "v_rekap_kecamatan",
    "v_rekap_bidang",
    "v_funnel_desa",
    "v_daftar_prioritas_kecamatan",
    "v_pagu_kecamatan",
    "v_rkpd_draft",
)


def upgrade() -> None:
    views.create_all(op, VIEWS)


def downgrade() -> None:
    views.drop_all(op, VIEWS)
