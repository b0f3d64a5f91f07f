"""Table and column comments follow the contract: each field's description, read from `schemas`.

SQLite keeps no comments; on PostgreSQL a migration that changes descriptions calls `sync_comments(op)`
(like `views.create_all`), so `\\d+ usulan` in psql shows what the contract says.
"""

from __future__ import annotations

import sqlalchemy as sa

from warehouse.models import metadata


def sync_comments(op) -> None:
    """COMMENT ON every contract table and column the warehouse has at this revision (PostgreSQL only)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    quote = bind.dialect.identifier_preparer.quote
    inspector = sa.inspect(bind)
    present = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in present:
            continue
        existing = {c["name"] for c in inspector.get_columns(table.name)}
        statements = [(f"TABLE {quote(table.name)}", table.comment)]
        statements += [
            (f"COLUMN {quote(table.name)}.{quote(c.name)}", c.comment) for c in table.columns if c.name in existing
        ]
        for target, comment in statements:
            text = "NULL" if comment is None else "'" + comment.replace("'", "''") + "'"
            op.execute(f"COMMENT ON {target} IS {text}")
