"""Shared fixtures: offline service settings, the real PostgreSQL, and one generated sample inbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.pg import fresh_schema
from tests.sample_run import SampleRun, run_sample

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session", autouse=True)
def shared_models_dir(tmp_path_factory):
    """Trained text models are cached by version; one folder for the session keeps tests from retraining. With
    pytest-xdist the workers share it (a fit is written under a temporary name and renamed into place)."""
    base = tmp_path_factory.getbasetemp()
    models = base.parent / "models" if os.environ.get("PYTEST_XDIST_WORKER") else base / "models"
    models.mkdir(exist_ok=True)
    os.environ["RKPD_MODELS_DIR"] = str(models)


@pytest.fixture(scope="session", autouse=True)
def empty_reference_dir(tmp_path_factory):
    """No imported reference unless a test writes one: a developer's data/reference must not leak into tests."""
    os.environ["RKPD_REFERENCE_DIR"] = str(tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """URL of a database on the real PostgreSQL; skipped locally when none answers, failed in CI."""
    import sqlalchemy as sa

    from warehouse.db import create_engine

    url = os.environ.get("RKPD_TEST_PG_URL", PG_DEFAULT)
    try:
        with create_engine(url).connect() as c:
            c.execute(sa.text("select 1"))
    except Exception as exc:
        if os.environ.get("RKPD_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL required but not reachable at {url}: {exc}")
        pytest.skip(f"no PostgreSQL at {url}")
    return url


@pytest.fixture
def pg_url(pg_server_url: str):
    """A fresh schema on the real PostgreSQL for one test."""
    with fresh_schema(pg_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def pg_module_url(pg_server_url: str):
    """A fresh schema on the real PostgreSQL for a whole module (flows that run once per backend)."""
    with fresh_schema(pg_server_url) as url:
        yield url


@pytest.fixture
def sqlite_warehouse(tmp_path):
    """An empty, migrated SQLite warehouse for one test."""
    from warehouse.db import create_engine
    from warehouse.migrate import upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sample_inbox(tmp_path_factory) -> Path:
    """The default sample region generated once for the session (read-only for tests)."""
    import sample

    out = tmp_path_factory.mktemp("sample") / "inbox"
    sample.generate(out, tahun=2025, pemda=("18.02",), seed=42)
    return out


@pytest.fixture(scope="session")
def prefect_server():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def sample_run_sqlite(prefect_server, sample_inbox, tmp_path_factory) -> SampleRun:
    """The sample run once per session on SQLite."""
    root = tmp_path_factory.mktemp("sample_run_sqlite")
    return run_sample("sqlite", f"sqlite:///{root / 'w.sqlite'}", root, sample_inbox)


@pytest.fixture(scope="session")
def sample_run_postgres(prefect_server, sample_inbox, tmp_path_factory, pg_server_url):
    """The sample run once per session on the real PostgreSQL, in a schema of its own."""
    with fresh_schema(pg_server_url) as url:
        yield run_sample("postgres", url, tmp_path_factory.mktemp("sample_run_postgres"), sample_inbox)
