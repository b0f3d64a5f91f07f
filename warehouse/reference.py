"""Load the shipped reference data into the warehouse (national lists once, pemda lists per run)."""

from __future__ import annotations

import sqlalchemy as sa

from reference import store
from schemas import KAMUS, NOMENKLATUR, OPD, OPD_STANDAR, WILAYAH
from warehouse.bulk import replace_slice
from warehouse.models import TABLES


def _count(engine: sa.Engine, name: str) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(TABLES[name])).scalar_one()


def load_reference(engine: sa.Engine, pemda: list[str]) -> dict[str, int]:
    """Refresh national lists when their row count differs from the shipped files; replace the OPD
    master and kamus of each pemda of the run. Returns rows per table."""
    replacements = []
    national = {WILAYAH: store.wilayah(), NOMENKLATUR: store.nomenklatur(), OPD_STANDAR: store.opd_standar()}
    for table, frame in national.items():
        if _count(engine, table.name) != len(frame):
            replacements.append((table, {}, frame))
    for kode in pemda:
        replacements.append((OPD, {"kode_pemda": kode}, store.opd(kode)))
        replacements.append((KAMUS, {"kode_pemda": kode}, store.kamus(kode)))
    replace_slice(engine, replacements)
    return {t.name: _count(engine, t.name) for t in (*national, OPD, KAMUS)}
