"""Each pemda's own reference: import of the files a Bappeda has (checked, all or nothing), versions by tahun,
the template said out loud, OPD routing with Renja evidence, pagu against the ceiling, and a real region run end
to end."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from reference import store
from rkpd.cli import app
from schemas import OPD, RENJA, RUN, USULAN
from tasks.deliver.opd_extracts import write_opd_extracts
from tasks.deliver.run_report import write_run_report
from tasks.errors import ReferenceImportError
from tasks.extract.reference import check_files
from tasks.load.reference import import_reference
from tasks.map.opd import named_opd, opd_alternatif, route_opd
from warehouse.bulk import replace_slice
from warehouse.db import create_engine, scoped_engine
from warehouse.migrate import upgrade
from warehouse.models import TABLES

SUMBER = Path(store.DATA) / "sumber"
BU_OPD = SUMBER / "opd_bengkulu_utara_17_03_tahun_2026.csv"
BU_RENJA = SUMBER / "renja_2026_bengkulu_utara_subkegiatan.csv"
KSB_OPD = SUMBER / "opd_sumbawa_barat_52_07_pokir2023.csv"
DINKES, RSUD_ARGA_MAKMUR = "1.02.0.00.0.00.01.0000", "1.02.0.00.0.00.01.0002"
TPHP, PERKEBUNAN = "3.27.0.00.0.00.01.0000", "3.27.0.00.0.00.02.0000"


@pytest.fixture
def reference_dir(tmp_path, monkeypatch) -> Path:
    """An empty reference folder of the data directory, for one test."""
    folder = tmp_path / "reference"
    monkeypatch.setenv("RKPD_REFERENCE_DIR", str(folder))
    return folder


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _bu_rows(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT COUNT(*) FROM {table} WHERE kode_pemda = '17.03'")).scalar_one()


# --- versions ---------------------------------------------------------------------------------------
def test_renja_in_force_is_the_latest_of_tahun_at_most():
    bu = store.renja("17.03", 2026)
    assert list(bu.columns) == RENJA.column_names
    raw = pd.read_csv(BU_RENJA, dtype=str)
    opd = pd.read_csv(BU_OPD, dtype=str)
    assert bu.n_lokasi.sum() == len(raw) == 2189  # every Renja line counted once
    assert bu.pagu_indikatif.sum() == raw.pagu_indikatif.astype(float).sum() == 1_371_641_789_761
    assert set(bu.kode_skpd) <= set(opd.kode_skpd)  # Puskesmas lines count for their Dinas Kesehatan
    assert not bu.duplicated(["kode_skpd", "kode_sub_kegiatan"]).any()
    assert len(store.renja("17.03", 2027)) == len(bu)  # last year's Renja is the evidence of the next
    assert store.renja("17.03", 2025).empty and list(store.renja("17.03", 2025).columns) == RENJA.column_names
    assert store.renja("18.02", 2025).empty


def test_an_imported_version_wins_at_its_tahun(reference_dir):
    own = RENJA.conform(
        pd.DataFrame(
            {
                "kode_pemda": ["17.03"],
                "tahun": [2027],
                "kode_skpd": ["1.03.0.00.0.00.01.0000"],
                "kode_sub_kegiatan": ["1.03.10.2.01.0032"],
                "n_lokasi": [1],
            }
        )
    )
    path = store.list_path(reference_dir, "17.03", 2027, "renja")
    path.parent.mkdir(parents=True)
    path.write_text(store.list_csv(RENJA, own), encoding="utf-8")
    assert store.renja("17.03", 2027).kode_sub_kegiatan.tolist() == ["1.03.10.2.01.0032"]
    assert store.renja("17.03", None).kode_sub_kegiatan.tolist() == ["1.03.10.2.01.0032"]
    assert len(store.renja("17.03", 2026)) == 2131  # the shipped 2026 Renja still holds for 2026


def test_shipped_regions_are_what_the_import_makes_of_their_sources():
    """The package's lists of the real regions are the checked import of the files in reference/sumber."""
    for kode, tahun, files in (
        ("17.03", 2026, {"opd": BU_OPD, "renja": BU_RENJA}),
        ("52.07", 2023, {"opd": KSB_OPD}),
    ):
        checked = check_files(kode, tahun, files)
        for name, frame in checked.frames.items():
            shipped = store.read_list(store.LIST_TABLES[name], store.in_force(kode, name, tahun))
            pd.testing.assert_frame_equal(shipped, frame.reset_index(drop=True), check_dtype=False)


def test_the_template_is_said_out_loud_and_real_codes_are_kept():
    own = store.reference_status("17.03", 2026)
    assert (own["opd"].source, own["renja"].source, own["kamus"].source) == ("shipped", "shipped", "template")
    assert own["pagu_opd"].source == "none" and own.on_template == ("kamus",)
    assert len(own.notices()) == 1 and "kamus usulan" in own.notices()[0] and "--kamus FILE" in own.notices()[0]
    bu = store.opd("17.03", 2026)
    assert bu.set_index("kode_skpd").loc["7.01.0.00.0.00.01.0000", "kode_kecamatan"] == "17.03.07"  # Kota Arga Makmur
    kamus = store.kamus("17.03", 2026)
    assert kamus.kode_skpd.isin(bu.kode_skpd).all() and (kamus.tahun_mulai == 2026).all()
    before = store.reference_status("17.03", 2025)  # the 2026 SOTK does not hold for 2025
    assert set(before.on_template) == {"opd", "kamus"} and len(before.notices()) == 2
    assert store.reference_status("18.02", 2025).on_template == ()
    kab_kota = store.wilayah().query("tingkat == 'kabkota'").kode.drop_duplicates().head(30)
    said = store.template_notices([store.reference_status(kode, 2025) for kode in ("18.02", *kab_kota)])
    assert len(said) == 2, said  # a national run says it in one line per list, not two per pemda
    assert said[0].startswith(f"30 pemda tahun 2025 ({', '.join(kab_kota[:10])} and 20 more): the OPD master")
    assert "--pemda KODE --tahun 2025 --opd FILE" in said[0] and "(18.02" not in said[0]
    metro = store.opd("18.72", 2025)  # no list of its own: the template's dinas and its own kecamatan
    assert set(metro.kode_kecamatan.dropna()) == {f"18.72.0{i}" for i in range(1, 6)}
    ksb = store.opd("52.07", 2026).set_index("kode_skpd")
    assert ksb.loc["7.01.0.00.0.00.01.0003", "kode_kecamatan"] == "52.07.02"  # a kelurahan of Taliwang


# --- routing ----------------------------------------------------------------------------------------
def test_route_opd_chooses_by_renja_evidence_over_many_pemda():
    frame = pd.DataFrame(
        {
            "kode_pemda": ["17.03", "17.03", "17.03", "17.03", "52.07", "18.72", "17.03", "17.03"],
            "tahun": [2026, 2026, 2026, 2026, 2026, 2025, 2026, 2026],
            "kode_bidang_urusan": ["3.27", "3.27", "7.01", "1.05", "1.02", "7.01", None, "3.27"],
            "kode_sub_kegiatan": [
                "3.27.02.2.01.0002",  # both Tanaman Pangan and Perkebunan carry it: the default, the other listed
                "3.27.07.2.01.0001",  # only Perkebunan's Renja has it
                None,
                "1.05.03.2.02.0020",  # BPBD's, not Satpol PP's
                None,
                None,
                None,
                "3.27.07.2.01.0099",  # unknown sub kegiatan: its kegiatan is Perkebunan's and Tanaman Pangan's
            ],
            "kode_kecamatan": [None, None, "17.03.07", None, None, "18.72.03", None, None],
        },
        index=list("abcdefgh"),
    )
    routed = route_opd(frame)
    assert routed.index.tolist() == list("abcdefgh")
    assert routed.kode_opd.tolist()[:6] == [
        TPHP,
        PERKEBUNAN,
        "7.01.0.00.0.00.01.0000",  # Kecamatan Arga Makmur, as the real list codes it
        "1.05.0.00.0.00.02.0000",
        "1.02.0.00.0.00.01.0000",
        "7.01.0.00.0.00.03.0000",  # a pemda on the template: kecamatan in wilayah order
    ]
    assert pd.isna(routed.kode_opd["g"])
    assert routed.opd_alternatif["a"] == PERKEBUNAN and routed.opd_alternatif["b"] == TPHP
    assert routed.opd_alternatif["e"] == "1.02.0.00.0.00.02.0000"  # the RSUD, not the nine Puskesmas sub-units
    assert pd.isna(routed.opd_alternatif["c"])
    chosen = pd.Series([PERKEBUNAN, None], index=["a", "g"], dtype="string")
    assert opd_alternatif(routed.loc[["a", "g"]], chosen).tolist()[0] == TPHP  # the routed one becomes the other


def test_the_usulan_words_choose_among_units_with_the_same_evidence():
    """Bengkulu Utara: Tanaman Pangan and Perkebunan both carry 3.27.02.2.01.0002 in the Renja; the object of the
    usulan decides (a commodity of the plantation list, or a word of the OPD's name), an address does not, and
    evidence still outranks words (3.27.07.2.01.0001 is only Perkebunan's)."""
    texts = pd.Series(
        [
            "bantuan bibit sawit unggul utk petani swadaya",  # sawit: Perkebunan's
            "bibit jagung utk petani lahan kering",  # jagung: Tanaman Pangan's
            "bibit jagung di belakang kebun kopi pak lurah",  # kopi only in the address
            "pelatihan pakan ternak dari limbah sawit",  # pakan, ternak: two words against one
            "bantuan bibit",  # nothing named: the default
            "bantuan bibit sapi",  # named, but the Renja names only Perkebunan for this sub kegiatan
        ]
    )
    frame = pd.DataFrame(
        {
            "kode_pemda": "17.03",
            "tahun": 2026,
            "kode_bidang_urusan": "3.27",
            "kode_sub_kegiatan": ["3.27.02.2.01.0002"] * 5 + ["3.27.07.2.01.0001"],
            "kode_kecamatan": None,
        }
    )
    named = named_opd(frame, texts)
    assert named.tolist()[:4] == [PERKEBUNAN, TPHP, TPHP, TPHP] and pd.isna(named[4])
    routed = route_opd(frame.assign(kode_opd_teks=named))
    assert routed.kode_opd.tolist() == [PERKEBUNAN, TPHP, TPHP, TPHP, TPHP, PERKEBUNAN]
    assert routed.opd_alternatif[0] == TPHP  # the other carrier stays listed


def test_a_sub_unit_is_chosen_only_where_the_renja_names_it():
    renja = store.renja("17.03", 2026)
    carriers = renja.groupby("kode_sub_kegiatan").kode_skpd.agg(["nunique", "first"])
    only_rsud = carriers[(carriers["nunique"] == 1) & (carriers["first"] == RSUD_ARGA_MAKMUR)].index[0]
    frame = pd.DataFrame(
        {
            "kode_pemda": "17.03",
            "tahun": 2026,
            "kode_bidang_urusan": "1.02",
            "kode_sub_kegiatan": [only_rsud, "1.02.02.2.01.0001"],
            "kode_kecamatan": None,
        }
    )
    routed = route_opd(frame)
    assert routed.kode_opd.tolist() == [RSUD_ARGA_MAKMUR, DINKES]


# --- import ------------------------------------------------------------------------------------------
def test_import_writes_folder_and_warehouse(tmp_path, reference_dir):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    upgrade(engine)
    kamus = _write(
        tmp_path / "kamus.csv",
        "id_kamus,giat_teks,kodeprogram,nama_skpd,satuan,anggaran,id_jenis_usul,jenis_usulan\n"
        '101,Rehabilitasi Jalan Desa,1.03.10,Dinas Pekerjaan Umum dan Penataan Ruang,Meter,"1.250.000",8,FISIK\n'
        "102,Bantuan Bibit Sawit,,Dinas Perkebunan,Paket,5000000,13,barang\n",
    )
    pagu = _write(
        tmp_path / "pagu.csv",
        "jenis_pagu;kode;nama;pagu\n"
        "opd;1.03.0.00.0.00.01.0000;;Rp 2.000.000.000\n"
        "kecamatan;;Kota Arga Makmur;750000000\n",
    )
    result = import_reference(
        "17.03", 2026, {"opd": BU_OPD, "renja": BU_RENJA, "kamus": kamus, "pagu": pagu}, reference_dir, engine
    )
    assert result.rows == {"opd": 54, "kamus": 2, "renja": 2131, "pagu_opd": 1, "pagu_kecamatan": 1}
    assert any("43 row(s) name 43 sub kegiatan newer" in note for note in result.notes)
    got = store.kamus("17.03", 2026).set_index("id_kamus")
    assert got.loc["101", ["kode_bidang_urusan", "stream", "jenis_usulan", "harga_satuan"]].tolist() == [
        "1.03",
        "musrenbang",
        "fisik",
        1_250_000,
    ]
    assert got.loc["102", ["kode_skpd", "stream", "kode_bidang_urusan"]].tolist() == [PERKEBUNAN, "pokir", "3.27"]
    assert store.reference_status("17.03", 2026).on_template == ()
    assert store.pagu_kecamatan("17.03", 2026).kode_kecamatan.tolist() == ["17.03.07"]
    assert store.pagu_opd("17.03", 2027).empty  # a ceiling holds for its tahun only
    assert {_bu_rows(engine, t) for t in ("ref_opd", "ref_renja", "ref_kamus")} == {54, 2131, 2}
    folder = reference_dir / "17.03" / "2026"
    assert (folder / "sumber" / "opd" / BU_OPD.name).read_bytes() == BU_OPD.read_bytes()
    assert not [p for p in reference_dir.joinpath("17.03").iterdir() if p.name.startswith(".")]  # no staging left
    # a later import of one list keeps the others
    import_reference("17.03", 2026, {"pagu": pagu}, reference_dir, engine)
    assert len(store.kamus("17.03", 2026)) == 2 and _bu_rows(engine, "ref_kamus") == 2
    engine.dispose()


BAD_FILES = {
    # kind: (file name, content, the words every problem line must hold)
    "missing column": (
        "opd",
        "opd.csv",
        "kode_skpd,singkatan\n1.02.0.00.0.00.01.0000,Dinkes\n",
        "missing column nama_skpd",
    ),
    "duplicate kode": (
        "opd",
        "opd.csv",
        "kode_skpd,nama_skpd\n1.02.0.00.0.00.01.0000,Dinas Kesehatan\n1.02.0.00.0.00.01.0000,Dinkes lagi\n",
        "row 3, field kode_skpd: duplicate kode SKPD '1.02.0.00.0.00.01.0000' (also at row 2)",
    ),
    "malformed kode": (
        "opd",
        "opd.csv",
        "kode_skpd,nama_skpd\n1.02.0.00.0.00.01.0000,Dinas Kesehatan\n1.02.01,Dinas Lain\n",
        "row 3, field kode_skpd: malformed kode '1.02.01'",
    ),
    "unknown bidang": (
        "opd",
        "opd.csv",
        "kode_skpd,nama_skpd\n1.02.0.00.0.00.01.0000,Dinas Kesehatan\n1.02.9.99.0.00.02.0000,Dinas Aneh\n",
        "row 3, field kode_skpd: kode SKPD '1.02.9.99.0.00.02.0000' names bidang '9.99' (slot 2), not a bidang urusan",
    ),
    "unknown sub kegiatan": (
        "renja",
        "renja.csv",
        "kode_skpd,kode_sub_kegiatan,pagu_indikatif\n1.03.0.00.0.00.01.0000,1.03.10.2.99.0001,100000\n",
        "row 2, field kode_sub_kegiatan: unknown sub kegiatan '1.03.10.2.99.0001'",
    ),
    "OPD not in the list": (
        "renja",
        "renja.csv",
        "kode_skpd,kode_sub_kegiatan\n9.99.0.00.0.00.01.0000,1.03.10.2.01.0032\n",
        "row 2, field kode_skpd: '9.99.0.00.0.00.01.0000' (nor its unit) is not in the OPD list of 17.03 for 2026",
    ),
    "empty file": ("kamus", "kamus.csv", "id_kamus,giat_teks,satuan,kode_skpd\n", "the file holds no data rows"),
    "bad pagu": (
        "pagu",
        "pagu.csv",
        "jenis_pagu,kode,pagu\nopd,1.03.0.00.0.00.01.0000,-5\n",
        "row 2, field pagu: negative amount '-5'",
    ),
    "unknown jenis pagu": (
        "pagu",
        "pagu.csv",
        "jenis_pagu,kode,pagu\nprovinsi,17,5000\n",
        "row 2, field jenis_pagu: 'provinsi' is neither opd nor kecamatan",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_named_and_nothing_is_imported(case, tmp_path, reference_dir):
    kind, name, content, expected = BAD_FILES[case]
    bad = _write(tmp_path / name, content)
    engine = create_engine(f"sqlite:///{tmp_path / 'w.sqlite'}")
    upgrade(engine)
    files = {"renja": BU_RENJA, kind: bad} if kind != "renja" else {"opd": BU_OPD, kind: bad}
    with pytest.raises(ReferenceImportError) as caught:
        import_reference("17.03", 2026, files, reference_dir, engine)
    lines = caught.value.problems
    assert any(line.startswith(f"{bad}: ") and expected in line for line in lines), lines
    assert not reference_dir.exists() or not any(reference_dir.rglob("*.csv"))  # no list written
    assert {_bu_rows(engine, t) for t in ("ref_opd", "ref_renja", "ref_kamus", "ref_pagu_opd")} == {0}
    engine.dispose()


def test_bad_rows_of_an_excel_file_name_the_sheet(tmp_path, reference_dir):
    path = tmp_path / "opd.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        pd.DataFrame({"Kode SKPD": ["1.02.0.00.0.00.01.0000", "x"], "Nama SKPD": ["Dinas Kesehatan", ""]}).to_excel(
            writer, sheet_name="SKPD", index=False, startrow=2
        )
    with pytest.raises(ReferenceImportError) as caught:
        check_files("17.03", 2026, {"opd": path})
    assert f"{path}: row 5 of sheet SKPD, field nama_skpd: missing value" in caught.value.problems
    assert (
        f"{path}: row 5 of sheet SKPD, field kode_skpd: malformed kode 'x' (expected e.g. 1.02.0.00.0.00.01.0000)"
        in (caught.value.problems)
    )


def test_a_new_opd_list_may_not_orphan_what_was_imported_for_its_tahun(tmp_path, reference_dir):
    import_reference("17.03", 2026, {"opd": BU_OPD, "renja": BU_RENJA}, reference_dir, None)
    smaller = _write(tmp_path / "opd.csv", "kode_skpd,nama_skpd\n1.02.0.00.0.00.01.0000,Dinas Kesehatan\n")
    with pytest.raises(ReferenceImportError) as caught:
        import_reference("17.03", 2026, {"opd": smaller}, reference_dir, None)
    assert "import it again together with the OPD list (--renja)" in caught.value.problems[0]
    assert len(store.opd("17.03", 2026)) == 54


# --- pagu against the ceiling ------------------------------------------------------------------------
def _usulan(rows: list[tuple]) -> pd.DataFrame:
    """Accepted usulan of 17.03 in 2026: (level, id, kode_opd_akhir, kode_kecamatan, anggaran)."""
    frame = pd.DataFrame(rows, columns=["level", "id_usulan", "kode_opd_akhir", "kode_kecamatan", "anggaran"])
    return USULAN.conform(
        frame.assign(
            tahun=2026,
            kode_pemda="17.03",
            stream="musrenbang",
            uraian_usulan="x",
            status="diterima",
            source="csv",
            source_file="f.csv",
            source_row=range(2, 2 + len(frame)),
            run_id="r",
        )
    )


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_pagu_over_and_under_the_ceiling_show_in_the_views(backend, tmp_path, reference_dir, request):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    pupr, dinsos = "1.03.0.00.0.00.01.0000", "1.06.0.00.0.00.01.0000"
    pagu = _write(
        tmp_path / "pagu.csv",
        "jenis_pagu,kode,nama,pagu,sumber\n"
        f"opd,{pupr},,1000000000,SE Bupati 12/2025\n"
        f"opd,{dinsos},,500000000,SE Bupati 12/2025\n"
        "kecamatan,17.03.07,,300000000,SE Bupati 12/2025\n"
        "kecamatan,,Kerkap,900000000,SE Bupati 12/2025\n",
    )
    with scoped_engine(url) as engine:
        upgrade(engine)
        import_reference("17.03", 2026, {"pagu": pagu}, reference_dir, engine)
        usulan = _usulan(
            [
                ("kabkota", "1", pupr, "17.03.07", 700_000_000),
                ("kabkota", "2", pupr, "17.03.07", 600_000_000),  # PUPR: 1.3 bn against 1 bn
                ("kabkota", "3", dinsos, "17.03.07", 100_000_000),  # Dinsos: 0.1 bn against 0.5 bn
                ("forum_opd", "1", pupr, "17.03.07", 700_000_000),
                ("kecamatan", "1", pupr, "17.03.07", 400_000_000),  # Kota Arga Makmur: 0.4 bn against 0.3 bn
            ]
        )
        replace_slice(engine, [(USULAN, {"kode_pemda": "17.03"}, usulan)])
        replace_slice(engine, [(OPD, {"kode_pemda": "17.03"}, store.opd("17.03", 2026))])
        with engine.begin() as connection:
            opd = pd.read_sql(sa.text("SELECT * FROM v_pagu_opd WHERE kode_pemda = '17.03'"), connection)
            kec = pd.read_sql(sa.text("SELECT * FROM v_pagu_kecamatan WHERE kode_pemda = '17.03'"), connection)
            run = dict(run_id="r", tahun=2026, started_at=datetime.now(UTC), run_status="success")
            connection.execute(sa.insert(TABLES[RUN.name]).values(run))
        report = write_run_report(engine, "r", tmp_path / "report").read_text(encoding="utf-8")
        extracts = {m["kode_skpd"]: m for m in write_opd_extracts(engine, 2026, "17.03", tmp_path / "extracts")}
    opd = opd.set_index(["level", "kode_opd"])
    assert opd.loc[("kabkota", pupr), ["n_diterima", "over_pagu"]].tolist() == [2, 1]
    assert float(opd.loc[("kabkota", pupr), "sisa_pagu"]) == -300_000_000
    assert float(opd.loc[("kabkota", pupr), "share_of_pagu"]) == pytest.approx(1.3)
    assert opd.loc[("kabkota", dinsos), "over_pagu"] == 0 and float(opd.loc[("kabkota", dinsos), "sisa_pagu"]) == 4e8
    assert opd.loc[("forum_opd", pupr), "over_pagu"] == 0 and opd.loc[("forum_opd", dinsos), "n_diterima"] == 0
    assert opd.loc[("kabkota", pupr), "nama_opd"] == "Dinas Pekerjaan Umum dan Penataan Ruang"
    kec = kec.set_index("kode_kecamatan")
    assert kec.loc["17.03.07", "over_pagu"] == 1 and float(kec.loc["17.03.07", "sisa_pagu"]) == -100_000_000
    kerkap = store.pagu_kecamatan("17.03", 2026).set_index("sumber").kode_kecamatan.iloc[1]
    assert kec.loc[kerkap, "over_pagu"] == 0 and kec.loc[kerkap, "n_diterima"] == 0
    # the run report shows the use of the ceilings: 2 OPD and 2 kecamatan with a pagu, PUPR and Arga Makmur over
    pagu_section = report[report.index("7. Pagu indikatif") :]
    assert "<b>2</b> melebihi pagu" in pagu_section
    over = pagu_section[pagu_section.index("melebihi pagu") :]
    assert over.index(pupr) < over.index("17.03.07")  # the larger excess (0.3 bn) first
    assert "Rp 1.300.000.000" in over and "130,00" in over and "133,33" in over
    assert "Rp 1.000.000.000" in pagu_section and "Rp 1.500.000.000" in pagu_section  # pagu of both OPD
    # and so do the OPD extracts, with the kamus on the template
    assert (extracts[pupr]["pagu"], extracts[pupr]["over_pagu"], extracts[dinsos]["over_pagu"]) == (1e9, True, False)
    title = openpyxl.load_workbook(
        tmp_path
        / "extracts"
        / "2026"
        / "17_03"
        / extracts[pupr]["folder"]
        / f"usulan_{extracts[pupr]['folder']}_2026.xlsx",
        read_only=True,
    ).worksheets[0]
    line = next(title.iter_rows(min_row=3, max_row=3, values_only=True))[0]
    assert line == (
        "Pagu indikatif Rp 1.000.000.000 · diterima di Musrenbang kab/kota Rp 1.300.000.000 (130,0% dari pagu) · "
        "MELEBIHI PAGU · kamus usulan memakai template 18.02, bukan milik pemda"
    )
    said = report[report.index("Referensi template") : report.index("1. Baris dibaca")]
    assert "17.03 tahun 2026: the kamus usulan" in said and "OPD master" not in said  # its own OPD list is shipped


# --- a real region end to end ------------------------------------------------------------------------
def test_bengkulu_utara_runs_on_its_own_opd_list(prefect_server, tmp_path, monkeypatch):
    """`rkpd reference import` of the real OPD list and Renja (copies of the shipped files), `rkpd sample`, then
    the run: every loaded usulan's OPD, awal and akhir, is one of Bengkulu Utara's real kode SKPD."""
    import sample
    from flows.annual import annual_run

    data = tmp_path / "data"
    monkeypatch.setenv("RKPD_DATA_DIR", str(data))
    monkeypatch.setenv("RKPD_REFERENCE_DIR", str(data / "reference"))
    opd_file, renja_file = shutil.copy(BU_OPD, tmp_path), shutil.copy(BU_RENJA, tmp_path)
    url = f"sqlite:///{data / 'warehouse.sqlite'}"
    result = CliRunner().invoke(
        app,
        ["reference", "import", "--pemda", "17.03", "--tahun", "2026", "--opd", opd_file, "--renja", renja_file],
        env={"RKPD_WAREHOUSE_URL": url},
    )
    assert result.exit_code == 0, result.output
    assert (data / "reference" / "17.03" / "2026" / "opd.csv").exists()
    sample.generate(data / "sample" / "inbox", tahun=2026, pemda=("17.03",), seed=7)
    report = annual_run(
        tahun=2026, inbox=data / "sample" / "inbox", lake_root=data / "lake", warehouse_url=url, extracts=False
    )
    assert report.balanced and not report.failures
    real = set(pd.read_csv(BU_OPD, dtype=str).kode_skpd)
    with scoped_engine(url) as engine, engine.connect() as connection:
        usulan = pd.read_sql(
            sa.text("SELECT level, kode_opd_awal, kode_opd_akhir, opd_alternatif FROM usulan"), connection
        )
    assert len(usulan) > 5000
    for column in ("kode_opd_awal", "kode_opd_akhir"):
        assert set(usulan[column].dropna()) <= real
    assert usulan.kode_opd_akhir.notna().mean() > 0.99
    carried = set(usulan.kode_opd_akhir)
    assert {TPHP, PERKEBUNAN, "7.01.0.00.0.00.01.0000", "7.01.0.00.0.00.19.0000"} <= carried  # real, not renumbered
    assert usulan.opd_alternatif.notna().any()
