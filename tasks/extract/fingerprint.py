"""Skip what has not changed: a slice whose files, pipeline code and reference data are the same as at
its last load is not read again. Its load-log rows are repeated with status "unchanged"."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from tasks.batch import SliceKey
from warehouse.models import TABLES

_PROJECT = Path(__file__).resolve().parents[2]
_INPUTS_OF_RESULT = ("schemas", "tasks", "reference", "warehouse")  # code and data a slice's rows depend on


def file_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """sha256 over the pipeline's code and shipped reference data (changes when rules or kamus change)."""
    digest = hashlib.sha256()
    for folder in _INPUTS_OF_RESULT:
        for path in sorted((_PROJECT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".csv") and "__pycache__" not in path.parts:
                digest.update(path.relative_to(_PROJECT).as_posix().encode())
                digest.update(file_fingerprint(path).encode())
    return digest.hexdigest()


def slice_signature(fingerprints: dict[str, str], extra: str = "") -> str:
    """sha256 of the files, the pipeline and `extra` (e.g. the planners' verified mappings)."""
    digest = hashlib.sha256((pipeline_fingerprint() + extra).encode())
    for name in sorted(fingerprints):
        digest.update(f"{name}\0{fingerprints[name]}\n".encode())
    return digest.hexdigest()


def last_load(engine: sa.Engine, key: SliceKey) -> pd.DataFrame:
    """Load-log rows of the latest run that published the slice (loaded or unchanged)."""
    log = TABLES["etl_load_log"]
    where = sa.and_(*(log.c[k] == v for k, v in key.as_dict().items()), log.c.load_status.in_(("loaded", "unchanged")))
    latest = sa.select(log.c.run_id).where(where).order_by(log.c.loaded_at.desc()).limit(1).scalar_subquery()
    with engine.connect() as connection:
        return pd.read_sql(sa.select(log).where(where, log.c.run_id == latest), connection)


def unchanged_since(engine: sa.Engine, key: SliceKey, signature: str) -> pd.DataFrame | None:
    """The previous load-log rows when the slice's signature is the same, else None."""
    previous = last_load(engine, key)
    if previous.empty or not (previous.signature == signature).all():
        return None
    return previous
