"""Alembic environment: runs against the engine handed over in config.attributes (or sqlalchemy.url)."""

import sqlalchemy as sa
from alembic import context

from warehouse.models import metadata

config = context.config


def run() -> None:
    engine = config.attributes.get("engine") or sa.create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
        context.run_migrations()


run()
