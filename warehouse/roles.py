"""A read-only role for planners (Bappeda staff, dashboards) on a PostgreSQL warehouse.

`grant_planner_role` makes a NOLOGIN group role that may read the planner views and the reference
tables of the warehouse schema and nothing else: not the usulan facts (they hold the proposers'
personal data, `pengusul` and `kontak_pengusul`), not the quarantine table (its `raw` row holds them too) or
the operation tables, and no writes anywhere. The views run with their owner's rights, so the role reads
usulan and the quarantine only through them (`v_karantina` shows each quarantined row without `raw` and
without the value of a personal field), and no view exposes a personal column.

Give a person access by granting the group role to a login role, e.g.
`CREATE ROLE siti LOGIN PASSWORD '...' IN ROLE rkpd_planner;`.
SQLite has no roles: there the function does nothing and says so; share a read-only copy of the file
(or open it with `?mode=ro`) instead.
"""

from __future__ import annotations

import sqlalchemy as sa

from schemas import REFERENCE_TABLES
from warehouse.db import is_postgres
from warehouse.views import VIEW_NAMES

PLANNER_ROLE = "rkpd_planner"
REFERENCE_TABLE_NAMES: tuple[str, ...] = tuple(t.name for t in REFERENCE_TABLES)


def _ident(connection: sa.Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def grant_planner_role(engine: sa.Engine, role: str = PLANNER_ROLE, schema: str | None = None) -> str:
    """Create `role` if missing and leave it with exactly: USAGE on the warehouse schema (default: the
    connection's current schema) and SELECT on the planner views and reference tables there. Every other
    privilege the role holds on that schema and its tables, views and sequences is revoked. Safe to run
    again (after each migration that adds a view). Returns what was done."""
    if not is_postgres(engine):
        return (
            f"{engine.dialect.name}: no database roles; nothing granted "
            f"(share a read-only copy of the warehouse file instead)"
        )
    with engine.begin() as connection:
        schema = schema or connection.execute(sa.text("SELECT current_schema()")).scalar_one()
        exists = connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        r, s = _ident(connection, role), _ident(connection, schema)
        if exists is None:
            # Roles are cluster-wide; another session may create it between the check and here.
            connection.exec_driver_sql(
                f"DO $$ BEGIN CREATE ROLE {r} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            )
        present = set(sa.inspect(connection).get_table_names(schema=schema)) | set(
            sa.inspect(connection).get_view_names(schema=schema)
        )
        readable = [n for n in (*VIEW_NAMES, *REFERENCE_TABLE_NAMES) if n in present]
        missing = [n for n in VIEW_NAMES if n not in present]
        connection.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}")  # tables and views
        connection.exec_driver_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}")
        connection.exec_driver_sql(f"REVOKE ALL ON SCHEMA {s} FROM {r}")
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {s} TO {r}")
        if readable:
            names = ", ".join(f"{s}.{_ident(connection, n)}" for n in readable)
            connection.exec_driver_sql(f"GRANT SELECT ON {names} TO {r}")
        # What the role can still reach elsewhere in the schema through PUBLIC or role membership.
        leaks = [
            n
            for n in sorted(present - set(readable))
            if connection.execute(
                sa.text("SELECT has_table_privilege(:r, :t, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE')"),
                {"r": role, "t": f"{s}.{_ident(connection, n)}"},
            ).scalar_one()
        ]
    views = [n for n in readable if n in VIEW_NAMES]
    message = (
        f"role {role} (NOLOGIN{', created' if exists is None else ''}): USAGE on schema {schema}, "
        f"SELECT on {len(views)} views and {len(readable) - len(views)} reference tables; nothing else"
    )
    if missing:
        message += f"; views not found (migrate first): {', '.join(missing)}"
    if leaks:
        message += f"; WARNING: still reachable through PUBLIC or role membership: {', '.join(leaks)}"
    return message


def drop_planner_role(engine: sa.Engine, role: str = PLANNER_ROLE) -> None:
    """Remove the role's privileges in this database and the role itself (if no other database still
    grants it something)."""
    if not is_postgres(engine):
        return
    with engine.begin() as connection:
        if connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
            r = _ident(connection, role)
            connection.exec_driver_sql(f"DROP OWNED BY {r}")
            connection.exec_driver_sql(f"DROP ROLE {r}")
