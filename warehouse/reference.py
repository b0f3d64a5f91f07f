"""Reference data in the warehouse: the national lists, and each pemda's lists versioned by tahun."""

from __future__ import annotations

import logging

import pandas as pd
import sqlalchemy as sa

from reference import store
from schemas import NOMENKLATUR, OPD_STANDAR, WILAYAH
from warehouse.bulk import replace_slice
from warehouse.models import TABLES

log = logging.getLogger(__name__)


def _count(engine: sa.Engine, name: str) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(TABLES[name])).scalar_one()


def pemda_replacements(kode_pemda: str, lists: dict[str, pd.DataFrame]) -> list[tuple]:
    """(table, slice, frame) that replace each list's version of the pemda (an OPD master or kamus from its
    tahun_mulai, a Renja or pagu of its tahun); other versions stay."""
    out = []
    for name, frame in lists.items():
        table = store.LIST_TABLES[name]
        column = store.version_column(table)
        for version, rows in frame.groupby(column):
            out.append((table, {"kode_pemda": kode_pemda, column: int(version)}, rows))
    return out


def load_reference(engine: sa.Engine, pemda: list[str], tahun: int | None = None) -> dict[str, int]:
    """Refresh national lists when their row count differs from the shipped files; replace, for each pemda of
    the run, the version of its lists in force for `tahun` (its own, or the template's). Says in one warning
    per list which pemda run on the template. Returns rows per table."""
    replacements = []
    national = {WILAYAH: store.wilayah(), NOMENKLATUR: store.nomenklatur(), OPD_STANDAR: store.opd_standar()}
    for table, frame in national.items():
        if _count(engine, table.name) != len(frame):
            replacements.append((table, {}, frame))
    for kode in pemda:
        replacements += pemda_replacements(kode, store.pemda_lists(kode, tahun))
    for notice in store.template_notices([store.reference_status(kode, tahun) for kode in pemda]):
        log.warning(notice)
    replace_slice(engine, replacements)
    return {t.name: _count(engine, t.name) for t in (*national, *store.LIST_TABLES.values())}
