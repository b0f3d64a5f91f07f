"""one meaning per column name: etl_run.run_status, etl_load_log.load_status, ref_kamus.jenis_usulan;
comments from the field registry

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:30:00.000000

`status` stays the forum's decision on an usulan; a run's and a file's state get names of their own.
Data is kept (columns are renamed, not dropped).
"""

from alembic import op

from warehouse.comments import sync_comments

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RENAMES = (
    ("etl_run", "status", "run_status"),
    ("etl_load_log", "status", "load_status"),
    ("ref_kamus", "jenis", "jenis_usulan"),
)


def upgrade() -> None:
    for table, old, new in RENAMES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(old, new_column_name=new)
    sync_comments(op)


def downgrade() -> None:
    for table, old, new in RENAMES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(new, new_column_name=old)
