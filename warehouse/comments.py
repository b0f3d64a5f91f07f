"""Table and column comments follow the contract: each field's description, read from `schemas`.

SQLite keeps no comments; on PostgreSQL a migration that changes descriptions calls `sync_comments(op)`
(like `views.create_all`), so `\\d+ usulan` in psql shows what the contract says.
"""

from __future__ import annotations

from warehouse.models import metadata


def sync_comments(op) -> None:
    """COMMENT ON every contract table and column of the warehouse (PostgreSQL only)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    quote = bind.dialect.identifier_preparer.quote
    for table in metadata.sorted_tables:
        statements = [(f"TABLE {quote(table.name)}", table.comment)]
        statements += [(f"COLUMN {quote(table.name)}.{quote(c.name)}", c.comment) for c in table.columns]
        for target, comment in statements:
            text = "NULL" if comment is None else "'" + comment.replace("'", "''") + "'"
            op.execute(f"COMMENT ON {target} IS {text}")
