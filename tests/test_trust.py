"""Figures planners can trust: one usulan counted once across the sources of a forum, a forum's decision never
overwritten by a planner's correction, ids scoped to their pemda, a file that holds only its header never
emptying what was loaded, a key clash quarantined before the load, one run at a time, killed runs recorded."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from reference import store
from rkpd.cli import app
from schemas import MAPPING_VERIFIED, RUN
from tasks.load.runs import WarehouseBusy, warehouse_lock
from tasks.map.context import MappingContext, region_frames
from tests.pg import fresh_schema
from tests.stages import files_frame, run_level
from warehouse.bulk import upsert_rows, utcnow
from warehouse.db import create_engine

KAMUS = store.kamus("18.02").set_index("nama_kamus")
ROAD = "Rehabilitasi Jalan Lingkungan Permukiman"
PRICE = int(KAMUS.loc[ROAD, "harga_satuan"])
DESA = "ID Usulan;Kecamatan;Desa/Kelurahan;Usulan;Kamus Usulan;Volume;Satuan;Anggaran;Prioritas;Status;Alasan\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def desa_rows(n: int, first: int = 1) -> str:
    return "".join(
        f"180200{i:04d};Kalirejo;Kalirejo;rehab jalan dusun {i};{ROAD};10;Meter;{10 * PRICE};{i};Diterima;\n"
        for i in range(first, first + n)
    )


@pytest.fixture
def engine(sqlite_warehouse):
    return sqlite_warehouse


def query(engine, sql: str) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(sa.text(sql), connection)


def test_annex_beside_the_sipd_export_is_counted_once(tmp_path, engine):
    """A kecamatan sends its SIPD export and the berita acara's Lampiran IV of the same forum: each usulan is
    loaded once (from SIPD), the annex copies are quarantined naming the row kept, and the rekap view's
    accepted anggaran is that of the export alone."""
    lake = tmp_path / "lake"
    run_level(files_frame([write(tmp_path / "in" / "desa.csv", DESA + desa_rows(5))], tmp_path, "desa"), engine, lake)
    export = write(tmp_path / "in" / "kecamatan" / "sipd.csv", DESA + desa_rows(4))
    annex = write(
        tmp_path / "in" / "kecamatan" / "berita-acara" / "lampiran_iv.csv",
        "BERITA ACARA MUSRENBANG KECAMATAN KALIREJO\nLampiran IV: Daftar prioritas usulan kecamatan\n"
        "No;Desa/Kelurahan;Kecamatan;Uraian Kegiatan;Volume;Satuan;Anggaran\n"
        + "".join(f"{i};Kalirejo;Kalirejo;Rehab Jalan Dusun {i};10;Meter;{10 * PRICE}\n" for i in (1, 2, 3))
        + f"4;Kalirejo;Kalirejo;rehab jalan dusun 5;10;Meter;{10 * PRICE}\n",  # not in the export
    )
    files = pd.concat(
        [
            files_frame([export], tmp_path, "kecamatan"),
            files_frame([annex], tmp_path, "kecamatan", source="berita-acara").assign(file_id=1),
        ],
        ignore_index=True,
    )
    _, ruled, publication = run_level(files, engine, lake)
    twice = ruled.checked.issues[ruled.checked.issues.rule == "duplicate_source"]
    assert len(twice) == 3
    rows = ruled.checked.rows.loc[twice.row]
    assert set(rows.source) == {"berita-acara"}  # SIPD kept: it carries its own ids
    assert all("sipd.csv baris/row" in r and "counted once" in r for r in twice.reason_en)
    log = publication.log.set_index("source")
    assert (log.loc["berita-acara", "rows_loaded"], log.loc["berita-acara", "rows_quarantined"]) == (1, 3)
    rekap = query(
        engine,
        "SELECT sum(n_diterima) AS n, sum(anggaran_diterima) AS rp FROM v_rekap_kecamatan WHERE level = 'kecamatan'",
    )
    assert rekap.n.item() == 5 and float(rekap.rp.item()) == 5 * 10 * PRICE  # 4 from SIPD + the one only annexed


def test_a_correction_never_replaces_the_forum_opd_decision(tmp_path, engine):
    """A planner corrects an usulan at desa level; the forum OPD level, whose source moved the usulan to the
    kecamatan, keeps the forum's decision; the correction applies at desa and where no forum decided."""
    lake = tmp_path / "lake"
    run_level(files_frame([write(tmp_path / "in" / "desa.csv", DESA + desa_rows(2))], tmp_path, "desa"), engine, lake)
    dpupr = store.opd("18.02").set_index("bidang_urusan_1").loc["1.03", "kode_skpd"]
    kecamatan_skpd = (
        region_frames(["18.02"], 2025).kecamatan_skpd.set_index("kode_kecamatan").loc["18.02.01", "kode_skpd"]
    )
    upsert_rows(
        engine,
        MAPPING_VERIFIED,
        pd.DataFrame(
            [
                {
                    "kode_pemda": "18.02",
                    "tahun": 2025,
                    "stream": "musrenbang",
                    "id_usulan": id_usulan,
                    "level": "desa",
                    "uraian_usulan": "rehab jalan",
                    "kode_bidang_urusan": "1.03",
                    "kode_opd": dpupr,
                    "verified_at": utcnow(),
                    "source_file": "review.xlsx",
                }
                for id_usulan in ("1802000001", "1802000002")
            ]
        ),
    )
    forum = write(
        tmp_path / "in" / "forum_opd.csv",
        "ID Usulan;Kecamatan;Desa/Kelurahan;Usulan;Volume;Satuan;Anggaran;Status;Catatan;OPD Tujuan Akhir\n"
        f"1802000001;Kalirejo;Kalirejo;rehab jalan dusun 1;10;Meter;{10 * PRICE};Diterima;"
        f"Dialihkan ke Kecamatan Kalirejo;Kecamatan Kalirejo\n"
        f"1802000002;Kalirejo;Kalirejo;rehab jalan dusun 2;10;Meter;{10 * PRICE};Diterima;;\n",
    )
    context = MappingContext(
        2025,
        region_frames(["18.02"], 2025),
        query(engine, "SELECT * FROM mapping_verified").pipe(MAPPING_VERIFIED.conform),
    )
    for level, path in (("desa", tmp_path / "in" / "desa.csv"), ("forum_opd", forum)):
        run_level(files_frame([path], tmp_path, level), engine, lake, context=context)
    rows = query(
        engine,
        "SELECT level, id_usulan, kode_opd_akhir, kode_opd_sumber, mapping_method FROM usulan "
        "ORDER BY level, id_usulan",
    ).set_index(["level", "id_usulan"])
    assert rows.loc[("desa", "1802000001"), "kode_opd_akhir"] == dpupr  # corrected where it was made
    assert rows.loc[("desa", "1802000001"), "mapping_method"] == "koreksi_planner"
    moved = rows.loc[("forum_opd", "1802000001")]
    assert (moved.kode_opd_akhir, moved.kode_opd_sumber, moved.mapping_method) == (
        kecamatan_skpd,
        kecamatan_skpd,
        "sumber",
    )  # the forum's own decision stands
    silent = rows.loc[("forum_opd", "1802000002")]
    assert (silent.kode_opd_akhir, silent.mapping_method) == (dpupr, "koreksi_planner")


def test_two_regions_sending_the_same_annex_file_name(tmp_path, engine):
    """Annex rows carry no id; the ids made for them are scoped to the pemda and the file's place, so the same
    template file name from two regions (or two kecamatan folders) loads twice, and views join within a pemda."""
    lake = tmp_path / "lake"
    annex = (
        "Lampiran IV: Daftar prioritas usulan\nNo;Desa/Kelurahan;Kecamatan;Uraian Kegiatan;Volume;Satuan\n"
        "1;{desa};{kec};Pembangunan sumur bor;1;Unit\n"
    )
    frames = []
    for i, (kode, desa, kec) in enumerate((("18.02", "Kalirejo", "Kalirejo"), ("18.72", "Metro", "Metro Pusat"))):
        path = write(
            tmp_path / "2025" / kode / "kecamatan" / "berita-acara" / "lampiran_iv.csv",
            annex.format(desa=desa, kec=kec),
        )
        frames.append(
            files_frame([path], tmp_path, "kecamatan", kode_pemda=kode, source="berita-acara").assign(file_id=i)
        )
    run_level(pd.concat(frames, ignore_index=True), engine, lake)
    loaded = query(engine, "SELECT kode_pemda, id_usulan FROM usulan ORDER BY kode_pemda")
    assert loaded.kode_pemda.tolist() == ["18.02", "18.72"]
    assert loaded.id_usulan[0] != loaded.id_usulan[1]
    assert all(i.startswith(k + "-") for k, i in zip(loaded.kode_pemda, loaded.id_usulan))


def test_a_file_with_only_its_header_never_empties_what_was_loaded(tmp_path, engine):
    lake = tmp_path / "lake"
    path = write(tmp_path / "in" / "desa.csv", DESA + desa_rows(3))
    first = run_level(files_frame([path], tmp_path, "desa"), engine, lake)[2]
    write(path, DESA)  # the region re-sends the template, header only
    previous = first.log[["source_file", "rows_loaded", "run_id"]]
    _, _, again = run_level(files_frame([path], tmp_path, "desa"), engine, lake, previous=previous)
    assert again.log.load_status.tolist() == ["held_back"] and "--allow-empty" in again.log.message.item()
    assert query(engine, "SELECT count(*) AS n FROM usulan").n.item() == 3  # the last good load stays
    _, _, emptied = run_level(files_frame([path], tmp_path, "desa"), engine, lake, previous=previous, allow_empty=True)
    assert emptied.log.load_status.tolist() == ["loaded"]
    assert query(engine, "SELECT count(*) AS n FROM usulan").n.item() == 0


def test_a_key_already_held_by_a_kept_file_is_quarantined_before_the_load(tmp_path, engine):
    """File a.csv fails this run and keeps its last load; b.csv now holds one of a.csv's usulan: that row is
    quarantined as a duplicate key, never refused by the database."""
    lake = tmp_path / "lake"
    a = write(tmp_path / "in" / "desa" / "a.csv", DESA + desa_rows(2))
    b = write(tmp_path / "in" / "desa" / "b.csv", DESA + desa_rows(1, first=5))
    first = run_level(files_frame([a, b], tmp_path, "desa"), engine, lake)[2]
    a.write_bytes(b"\x00\x01 not a csv")
    write(b, DESA + desa_rows(1, first=5) + desa_rows(1, first=2))
    _, _, again = run_level(
        files_frame([a, b], tmp_path, "desa"),
        engine,
        lake,
        previous=first.log[["source_file", "rows_loaded", "run_id"]],
    )
    status = again.log.set_index("source_file")
    assert status.load_status.tolist() == ["failed", "loaded"]
    assert (status.rows_loaded.iloc[1], status.rows_quarantined.iloc[1]) == (1, 1)
    clash = again.quarantine[again.quarantine.rule == "duplicate_key"]
    assert clash.value.tolist() == ["1802000002"] and clash.source_file.tolist() == ["in/desa/b.csv"]
    assert sorted(query(engine, "SELECT id_usulan FROM usulan").id_usulan) == ["1802000001", "1802000002", "1802000005"]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_second_run_waits_or_refuses_with_one_line(backend, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'w.sqlite'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    inbox = tmp_path / "inbox"
    write(inbox / "2025" / "18.02" / "desa" / "desa.csv", DESA + desa_rows(2))
    with warehouse_lock(url):
        started = time.monotonic()
        result = CliRunner().invoke(
            app,
            [
                "run",
                "--tahun",
                "2025",
                "--inbox",
                str(inbox),
                "--lake",
                str(tmp_path / "lake"),
                "--warehouse-url",
                url,
                "--no-extracts",
                "--wait",
                "1",
            ],
        )
    assert result.exit_code == 3, result.output
    assert "not started: the warehouse is busy" in result.output and "Traceback" not in result.output
    assert time.monotonic() - started >= 1  # it waited before refusing


@pytest.mark.postgres
def test_warehouses_in_two_schemas_of_one_database_do_not_block_each_other(pg_server_url):
    with fresh_schema(pg_server_url) as one, fresh_schema(pg_server_url) as other, warehouse_lock(one):
        with warehouse_lock(other):  # taken at once: the lock is the schema's, not the database's
            pass
        with pytest.raises(WarehouseBusy), warehouse_lock(one):
            pass


_KILLED_RUN = """
import sys, time
from pathlib import Path
import flows.steps as steps
import tasks.load.publish as publish
from flows.annual import annual_run

real = publish.load_warehouse
def load_then_hang(publication, engine):
    real(publication, engine)
    print("loaded", flush=True)
    time.sleep(600)
publish.load_warehouse = load_then_hang
annual_run(tahun=2025, inbox=Path(sys.argv[1]), lake_root=Path(sys.argv[2]), warehouse_url=sys.argv[3], extracts=False)
"""


def test_a_killed_run_is_marked_failed_and_the_next_run_sets_lake_and_warehouse_straight(tmp_path, prefect_server):
    """SIGKILL after the warehouse committed a level but before the lake took it: the next run marks the killed
    run failed, removes its staging folder, sees that the lake does not hold what the warehouse holds, reads
    the slice again, and leaves both the same."""
    from flows.annual import annual_run

    inbox, lake, url = tmp_path / "inbox", tmp_path / "lake", f"sqlite:///{tmp_path / 'w.sqlite'}"
    write(inbox / "2025" / "18.02" / "desa" / "desa.csv", DESA + desa_rows(3))
    from prefect.settings import PREFECT_API_URL

    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUN, str(inbox), str(lake), url],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()},  # the session's server, no ephemeral one
    )
    try:
        assert child.stdout.readline().strip() == "loaded"
    finally:
        child.kill()
        child.wait()
    engine = create_engine(url)
    runs = query(engine, f"SELECT run_id, run_status FROM {RUN.name}")
    assert runs.run_status.tolist() == ["running"] and list(lake.glob(".staging-*"))
    report = annual_run(tahun=2025, inbox=inbox, lake_root=lake, warehouse_url=url, extracts=False)
    assert f"run {runs.run_id.item()} had been killed: marked failed" in report.notes
    assert set(report.files.load_status) == {"loaded"}  # not "unchanged": the lake lacked the slice
    assert query(engine, f"SELECT run_status FROM {RUN.name} ORDER BY started_at").run_status.tolist() == [
        "failed",
        "success",
    ]
    assert not list(lake.glob(".staging-*")) and not list(lake.rglob(".*.old-*"))
    from schemas import USULAN
    from warehouse.lake import read_dataset

    assert read_dataset(lake, USULAN).num_rows == query(engine, "SELECT count(*) AS n FROM usulan").n.item() == 3
    engine.dispose()
