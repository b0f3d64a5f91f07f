"""Connect to the warehouse: SQLite file by default, PostgreSQL when RKPD_WAREHOUSE_URL points at one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def normalise_url(url: str) -> str:
    """postgresql:// URLs use psycopg 3; a plain path becomes a SQLite file URL."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


# The pipeline's queries on PostgreSQL (the lineage and rekap views, the quality record) are planned from
# estimates of CTEs and joins that are far off, so the server JIT-compiles them: on 0.4 M rows the compiling
# took 1.4 s of a funnel query that runs in 2.9 s without it. Appended to options the URL may already carry.
PG_OPTIONS = "-c jit=off"


def pg_connect_args(url: str) -> dict:
    """psycopg connect arguments of the pipeline's PostgreSQL connections (PG_OPTIONS)."""
    options = make_url(url).query.get("options")
    return {"options": f"{options} {PG_OPTIONS}" if options else PG_OPTIONS}


def create_engine(url: str) -> sa.Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # WAL: readers do not block the loader
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, connect_args=pg_connect_args(url))


@contextmanager
def scoped_engine(url: str) -> Iterator[sa.Engine]:
    """An engine for one step, its pooled connections closed when the step ends. Steps run as thousands
    of tasks in a national run; engines left to the garbage collector exhaust the server's connections."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def unreachable(url: str) -> str | None:
    """None when the warehouse at `url` answers; else one line naming it (password hidden) and why not
    ('connection refused', 'database "x" does not exist'), for a command to print instead of tracebacks."""
    try:
        with scoped_engine(url) as engine, engine.connect():
            return None
    except sa.exc.SQLAlchemyError as exc:
        why = " ".join(str(getattr(exc, "orig", None) or exc).split())
        shown = make_url(normalise_url(url)).render_as_string(hide_password=True)
        return f"the warehouse {shown} cannot be reached: {why}"


def is_postgres(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"
