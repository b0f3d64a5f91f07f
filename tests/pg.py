"""Schemas on the real PostgreSQL for tests (the fixtures are in tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A new schema on the real PostgreSQL, as a URL whose search_path points at it; dropped afterwards."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from warehouse.db import create_engine

    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url)
    with admin.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = make_url(admin.url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as c:
            c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
