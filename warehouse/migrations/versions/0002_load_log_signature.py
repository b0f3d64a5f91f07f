"""load log: slice signature for skipping unchanged slices

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:25:33.208676
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("etl_load_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "signature",
                sa.String(length=64),
                nullable=True,
                comment="sha256 of the slice: its files' fingerprints, the pipeline version and the reference data it was mapped with; an unchanged signature lets a re-run skip the slice",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("etl_load_log", schema=None) as batch_op:
        batch_op.drop_column("signature")
