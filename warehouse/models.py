"""Warehouse tables, generated from the contract in `schemas` (one MetaData for the whole store)."""

import sqlalchemy as sa

from schemas import ALL_TABLES

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)
TABLES: dict[str, sa.Table] = {t.name: t.sqlalchemy(metadata) for t in ALL_TABLES}
