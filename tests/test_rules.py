"""Each domain and contract rule on rows that break it: the exact rule, field and reason recorded."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from reference import store
from schemas import USULAN
from tasks.validate.domain import check_in_force, normalise_satuan
from tasks.validate.rules import RULES, ValidationConfig
from tests.stages import files_frame, issues_by_row, run_level
from warehouse import lake

HEADER = (
    "ID Usulan;Kecamatan;Desa/Kelurahan;Usulan;Kamus Usulan;Volume;Satuan;Anggaran;Prioritas;Status;Alasan;"
    "Kode Sub Kegiatan;Kode Bidang Urusan\n"
)
KAMUS = store.kamus("18.02").set_index("nama_kamus")
ROAD = "Rehabilitasi Jalan Lingkungan Permukiman"
PRICE = int(KAMUS.loc[ROAD, "harga_satuan"])

# row number in the file (header = 1) -> (cells after the id, the rule it breaks, the field)
ROWS = {
    2: (f"Kalirejo;Kalirejo;rehab jalan dusun 1;{ROAD};100;Meter;{100 * PRICE};1;Diterima;;;", None, None),
    3: (f"Kalirejo;Kalirejo;rehab jalan dusun 2;{ROAD};50;mtr;{50 * PRICE};2;Diterima;;;", None, None),
    4: (
        f"Kalirejo;Kalirejo;rehab jalan dusun 3;{ROAD};50;lonjor;{50 * PRICE};3;Diterima;;;",
        "satuan_unknown",
        "satuan",
    ),
    5: (f"Kalirejo;Kalirejo;rehab jalan dusun 4;{ROAD};;Meter;{50 * PRICE};4;Diterima;;;", "volume_missing", "volume"),
    6: (
        f"Kalirejo;Kalirejo;rehab jalan dusun 5;{ROAD};100;Meter;1000;5;Diterima;;;",
        "anggaran_implausible",
        "anggaran",
    ),
    7: (
        f"Kalirejo;Kalirejo;rehab jalan dusun 6;{ROAD};10;Meter;{10 * PRICE};1;Diterima;;;",
        "prioritas_duplicate",
        "prioritas",
    ),
    8: (
        f"Kalirejo;Kalirejo;Rehab Jalan Dusun 1;{ROAD};100;Meter;{100 * PRICE};7;Diterima;;;",
        "duplicate_text",
        "uraian_usulan",
    ),
    9: (f"Kalirejo;Kalirejo;rehab jalan dusun 8;{ROAD};10;Meter;{10 * PRICE};8;Ditolak;;;", "alasan_missing", "alasan"),
    10: (
        f"Kalirejo;Kalirejo;rehab jalan dusun 9;{ROAD};10;Meter;{10 * PRICE};9;Ditolak;sudah diusulkan tahun lalu;;",
        None,
        None,
    ),
    11: (
        "Kalirejo;Kalirejo;pagar makam;;1;Paket;5000000;10;Diterima;;1.03.99.2.99.9999;1.03",
        "sub_kegiatan_unknown",
        "kode_sub_kegiatan",
    ),
    12: (
        "Kalirejo;Kalirejo;bantuan entah apa;;1;Paket;5000000;11;Diterima;;;9.99",
        "bidang_unknown",
        "kode_bidang_urusan",
    ),
    13: (f"Kalirejo;Kalirejo;rehab jalan dusun 10;{ROAD};10;Meter;-5000000;12;Diterima;;;", "out_of_range", "anggaran"),
    14: ("Kalirejo;Kalirejo;;;1;Unit;100000;13;Diterima;;;", "missing_value", "uraian_usulan"),
    15: (
        f"Kalirejo;Kalirejo;rehab jalan dusun 11;{ROAD};10;Meter;{10 * PRICE};14;Entahlah;;;",
        "unknown_status",
        "status",
    ),
    16: (
        f"Kalirejo;Kalirejo;rehab jalan dusun 12;{ROAD};banyak;Meter;{10 * PRICE};15;Diterima;;;",
        "not_a_number",
        "volume",
    ),
    17: (
        f"Kalirejo;Kalirejoo Baru;rehab jalan dusun 13;{ROAD};10;Meter;{10 * PRICE};16;Diterima;;;",
        "wilayah_unknown",
        "nama_desa",
    ),
}


def write(path: Path, rows: dict[int, tuple], prefix: str = "18020090") -> Path:
    lines = [HEADER] + [f"{prefix}{n:02d};{cells}\n" for n, (cells, _, _) in rows.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return path


def run_slice(path: Path, level: str, engine, config: ValidationConfig | None = None, lake_root: Path | None = None):
    """One slice of one file through every stage and published; returns (issues with source_row, published
    rows, load log)."""
    files = files_frame([path], path.parent, level)
    extraction, ruled, publication = run_level(files, engine, lake_root or path.parent / "lake", config)
    return issues_by_row(extraction, ruled), ruled.publishable, publication.log, ruled


@pytest.fixture
def engine(sqlite_warehouse):
    return sqlite_warehouse


def test_every_rule_is_recorded_with_its_field_and_reason(tmp_path, engine):
    issues, rows, _, ruled = run_slice(write(tmp_path / "desa.csv", ROWS), "desa", engine)
    for source_row, (_, rule, field) in ROWS.items():
        got = issues[issues.source_row == source_row]
        if rule is None:
            assert got.empty, (source_row, got[["rule", "field"]].to_dict("records"))
            continue
        assert got[["rule", "field"]].values.tolist() == [[rule, field]], source_row
        assert got.severity.item() == RULES[rule].severity
        assert got.reason_id.item() and got.reason_en.item()
        loaded = source_row in set(rows.source_row)
        assert loaded == (RULES[rule].severity == "warning"), source_row

    by_row = issues.set_index("source_row")
    assert by_row.loc[4, "reason_en"] == "Satuan 'lonjor' is not a known unit"
    assert (
        by_row.loc[6, "reason_id"]
        == f"Anggaran Rp 1,000 tidak wajar untuk volume x harga satuan kamus (100 x Rp {PRICE:,})"
    )
    assert by_row.loc[7, "reason_en"] == "Prioritas 1 is used more than once in forum 18.02.01.2003"
    assert by_row.loc[8, "reason_en"] == "The same usulan is already recorded for the same desa (id 1802009002)"
    assert by_row.loc[12, "reason_en"] == "Bidang urusan 9.99 is not in the nomenclature of tahun 2025"
    assert by_row.loc[13, "reason_id"] == "anggaran = -5000000 di luar rentang wajar (0 .. 1,000,000,000,000)"
    assert "Kalirejo" in by_row.loc[17, "reason_en"]  # the nearest candidate is named

    clean = rows.set_index("source_row")
    assert clean.loc[3, "satuan"] == "Meter"  # 'mtr' normalised
    assert pd.isna(clean.loc[2, "quality_flags"]) and clean.loc[4, "quality_flags"] == "satuan_unknown"
    raw_clean = ruled.checked.rows.set_index("source_row").loc[2]
    for column in ("uraian_usulan", "volume", "anggaran", "prioritas", "status"):
        assert clean.loc[2, column] == raw_clean[column]  # clean rows pass untouched


def test_history_rules_lineage_and_repeats(tmp_path, engine):
    lake_root = tmp_path / "lake"
    run_slice(write(tmp_path / "d" / "desa.csv", {2: ROWS[2]}), "desa", engine, lake_root=lake_root)
    earlier = USULAN.conform(
        pd.DataFrame(
            {
                "id_usulan": ["77"],
                "tahun": [2024],
                "level": ["kabkota"],
                "stream": ["musrenbang"],
                "kode_pemda": ["18.02"],
                "kode_desa": ["18.02.01.2003"],
                "uraian_usulan": ["Pembangunan Sumur Bor"],
                "status": ["diterima"],
                "source": ["excel"],
                "source_file": ["x"],
                "source_row": [2],
                "run_id": ["old"],
            }
        )
    )
    key = {"tahun": 2024, "level": "kabkota", "kode_pemda": "18.02", "source": "excel"}
    lake.stage_slices(lake_root, "old", [(USULAN, earlier, [key])]).swap_in()  # an earlier year, in the lake
    kecamatan = {
        2: ROWS[2],  # same id as at desa: traced
        3: (ROWS[3][0], "lineage_missing", "id_usulan_asal"),  # never raised at desa
        4: (
            "Kalirejo;Kalirejo;pembangunan sumur bor;;1;Unit;35000000;5;Diterima;;;",
            "repeat_accepted",
            "uraian_usulan",
        ),
    }
    issues, rows, _, _ = run_slice(
        write(tmp_path / "k" / "kec.csv", kecamatan), "kecamatan", engine, lake_root=lake_root
    )
    assert issues[["source_row", "rule", "field"]].values.tolist() == [
        [3, "lineage_missing", "id_usulan_asal"],
        [4, "lineage_missing", "id_usulan_asal"],
        [4, "repeat_accepted", "uraian_usulan"],
    ]
    assert issues.reason_en.tolist()[0] == "The source usulan 1802009003 is not found at the desa forum"
    assert issues.reason_en.tolist()[2] == "This usulan was already accepted in tahun 2024"
    assert rows.source_row.tolist() == [2] and rows.id_usulan_asal.tolist() == ["1802009002"]


def test_severity_override_and_stopped_slice(tmp_path, engine):
    strict = ValidationConfig(severity={"alasan_missing": "error"})
    _, rows, _, _ = run_slice(write(tmp_path / "a" / "desa.csv", {9: ROWS[9], 10: ROWS[10]}), "desa", engine, strict)
    assert rows.source_row.tolist() == [
        3
    ]  # line 3 holds ROWS[10]; the rejection without alasan is kept out under the override

    bad = {
        n: (f"Kalirejo;Atlantis;usulan {n};;1;Unit;100000;{n};Diterima;;;", "wilayah_unknown", "nama_desa")
        for n in range(2, 12)
    }
    good = {n: (f"Kalirejo;Kalirejo;usulan {n};;1;Unit;100000;{n};Diterima;;;", None, None) for n in range(12, 32)}
    lake_root = tmp_path / "lake"
    _, rows, log, ruled = run_slice(write(tmp_path / "b" / "desa.csv", bad | good), "desa", engine, lake_root=lake_root)
    (why,) = ruled.stopped.values()
    assert "33%" in why and "most: wilayah_unknown on nama_desa, 10 rows" in why
    assert set(log.load_status) == {"stopped"} and log.message.str.contains("33%").all()
    with engine.connect() as connection:
        published = connection.exec_driver_sql("SELECT uraian_usulan FROM usulan").scalars().all()
        summary = connection.exec_driver_sql(
            "SELECT sum(failed) FROM quality_summary WHERE rule = 'wilayah_unknown'"
        ).scalar_one()
    assert published == ["rehab jalan dusun 9"]  # the slice keeps its previous state: nothing new published
    assert summary == 10 and not (lake_root / "usulan").exists()


def test_satuan_variants_and_codes_in_force():
    canonical, unknown = normalise_satuan(pd.Series(["mtr", "M", "unit", "Klpk", "m²", "bh", "lonjor", None]))
    assert canonical.tolist()[:6] == ["Meter", "Meter", "Unit", "Kelompok", "M2", "Buah"]
    assert unknown.tolist() == [False] * 6 + [True, False]
    added = store.wilayah().pipe(
        lambda w: set(w.kode[w.versi == "kepmendagri-2025"]) - set(w.kode[w.versi == "kepmendagri-2022"])
    )
    code = sorted(c for c in added if c.count(".") == 3)[0]
    frame = USULAN.conform(
        pd.DataFrame(
            {
                "kode_desa": [code, "18.02.01.2001"],
                "kode_kecamatan": [None, None],
                "kode_bidang_urusan": [None, None],
                "kode_sub_kegiatan": [None, None],
            }
        )
    )
    issues = pd.concat(check_in_force(frame, 2025))
    assert issues[["row", "rule", "field", "value"]].values.tolist() == [[0, "wilayah_not_in_force", "kode_desa", code]]
    assert pd.concat(check_in_force(frame, 2026)).empty
