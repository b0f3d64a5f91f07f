"""planner views of what did not flow: v_karantina (quarantined rows, no raw row or personal value),
v_antrean_review (usulan waiting for review, with suggestion, alternatives, confidence and reason),
v_riwayat_usulan (one usulan's path across levels)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:00:00.000000

The view SQL lives in `warehouse/views.py`; see warehouse/VIEWS.md. Run `grant_planner_role` again afterwards
so the planner role reads the new views.
"""

from alembic import op

from warehouse import views


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NEW_VIEWS = ("v_karantina", "v_antrean_review", "v_riwayat_usulan")


def upgrade() -> None:
    views.create_all(op, NEW_VIEWS)


def downgrade() -> None:
    views.drop_all(op, NEW_VIEWS)
