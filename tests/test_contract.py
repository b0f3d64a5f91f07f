"""The contract generates every shape of a table, and the migrations match it."""

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from schemas import ALL_TABLES, USULAN
from schemas.expectations import expectation_specs
from warehouse.db import create_engine
from warehouse.migrate import upgrade
from warehouse.models import metadata


def test_every_shape_has_the_same_columns():
    for table in ALL_TABLES:
        assert table.arrow_schema.names == table.column_names
        assert [c.name for c in table.sqlalchemy(sa.MetaData()).columns] == table.column_names
        assert list(table.empty_frame().columns) == table.column_names
        specs = expectation_specs(table)
        assert specs[0] == ("ExpectTableColumnsToMatchOrderedList", {"column_list": table.column_names})


def test_codes_are_text_and_personal_data_is_marked():
    for name in ("kode_pemda", "kode_kecamatan", "kode_desa", "kode_opd_akhir", "kode_sub_kegiatan", "id_usulan"):
        assert USULAN.arrow_schema.field(name).type == pa.string()
    assert USULAN.personal_columns == ["pengusul", "kontak_pengusul"]
    assert USULAN.arrow_schema.field("pengusul").metadata[b"personal"] == b"true"
    assert "data pribadi" in USULAN.sqlalchemy(sa.MetaData()).c.pengusul.comment


def test_conform_keeps_leading_zeros_and_money_exact():
    frame = USULAN.conform(
        pd.DataFrame({"kode_desa": ["18.02.01.2001"], "anggaran": [1_250_000 + 0.1 + 0.2], "id_usulan": ["0012"]})
    )
    arrow = USULAN.to_arrow(
        frame.assign(
            tahun=2025,
            level="desa",
            stream="musrenbang",
            kode_pemda="18.02",
            uraian_usulan="x",
            status="diterima",
            source="csv",
            source_file="f",
            source_row=2,
            run_id="r",
        )
    )
    assert arrow.column("id_usulan")[0].as_py() == "0012"
    assert str(arrow.column("anggaran")[0].as_py()) == "1250000.30"


def test_migrations_create_exactly_the_contract(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_great_expectations_is_imported_only_by_the_validation_step():
    import subprocess
    import sys

    code = "import sys, flows.annual, rkpd.cli, tasks.validate.gx; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_nomenclature_crosswalk_carries_codes_where_names_match():
    from reference import store
    from tasks.map.mapping import to_version_of

    walk = store.crosswalk()
    n = store.nomenklatur().set_index(["versi", "kode"]).nama
    pair = walk[walk.versi_to == "kepmendagri-050-3708-2020"].iloc[0]
    assert n[(pair.versi_from, pair.kode_from)].lower() == n[(pair.versi_to, pair.kode_to)].lower()
    assert pair.kode_to.count(".") == 5 and len(pair.kode_to.rsplit(".", 1)[1]) == 2  # 2-digit 2019 form
    codes = pd.Series([pair.kode_from, "9.99.99.2.99.9999", None], dtype="string")
    carried = to_version_of(2022, codes)
    assert carried.tolist()[:2] == [pair.kode_to, "9.99.99.2.99.9999"] and pd.isna(carried[2])
    assert to_version_of(2026, codes).tolist()[0] == pair.kode_from  # already in force in 2026
