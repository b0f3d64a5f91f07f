"""The annual run end to end on the generated sample: SQLite and the real PostgreSQL alike."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from flows.annual import annual_run
from rkpd.cli import app
from schemas import QUARANTINE, USULAN
from tests.checksums import warehouse_checksums
from tests.sample_run import SAMPLE_RUN_GROUP
from warehouse.db import scoped_engine
from warehouse.lake import read_dataset

pytestmark = SAMPLE_RUN_GROUP  # the session's sample run: all on one xdist worker

TAHUN, PEMDA = 2025, "18.02"
CHECKSUMS = Path(__file__).parent / "data" / "sample_warehouse_checksums.json"
DATA_TABLES = ("usulan", "quarantine", "mapping_verified", "ref_opd", "ref_kamus")  # not the runs' own records


def manifest(inbox: Path) -> dict:
    return json.loads((inbox / str(TAHUN) / PEMDA / "_generated.json").read_text())


@contextmanager
def postgres_connections():
    """Counts of PostgreSQL connections the pools of this process open and close meanwhile."""
    import psycopg

    counts = Counter()

    def opened(connection, _record):
        counts["opened"] += isinstance(connection, psycopg.Connection)

    def closed(connection, _record):
        counts["closed"] += isinstance(connection, psycopg.Connection)

    sa.event.listen(sa.pool.Pool, "connect", opened)
    sa.event.listen(sa.pool.Pool, "close", closed)
    try:
        yield counts
    finally:
        sa.event.remove(sa.pool.Pool, "connect", opened)
        sa.event.remove(sa.pool.Pool, "close", closed)


def query(url: str, sql: str) -> pd.DataFrame:
    with scoped_engine(url) as engine, engine.connect() as connection:
        return pd.read_sql(sa.text(sql), connection)


def warehouse_state(url: str) -> pd.DataFrame:
    return query(
        url,
        "SELECT level, source, count(*) AS n, sum(anggaran) AS anggaran, "
        "count(kode_opd_akhir) AS with_opd FROM usulan GROUP BY level, source ORDER BY level, source",
    )


def check_run(report, inbox: Path, url: str, lake: Path) -> None:
    """Counts add up per file, every planted defect is where it should be, lake = warehouse."""
    made = manifest(inbox)
    files = report.files.set_index("source_file")
    assert report.balanced and not report.failures
    for f in made["files"]:
        got = files.loc[f"{TAHUN}/{PEMDA}/{f['path']}"]
        assert got.rows_read == f["data_rows"], f["path"]
        assert got.rows_loaded + got.rows_quarantined == got.rows_read
        expected_out = {d["row"] for d in f["defects"] if d["expected"] == "quarantine"}
        assert got.rows_quarantined >= len(expected_out), f["path"]

    quarantine = query(url, "SELECT source_file, source_row, rule, field, reason_id, reason_en FROM quarantine")
    quarantined = set(zip(quarantine.source_file, quarantine.source_row))
    loaded = query(url, "SELECT source_file, source_row FROM usulan")
    loaded_rows = set(zip(loaded.source_file, loaded.source_row))
    for f in made["files"]:
        name = f"{TAHUN}/{PEMDA}/{f['path']}"
        for d in f["defects"]:
            where = (name, d["row"])
            if d["expected"] == "quarantine":
                assert where in quarantined and where not in loaded_rows, (d, name)
            else:
                assert where in loaded_rows, (d, name)
    assert quarantine.reason_id.str.len().min() > 0 and quarantine.reason_en.str.len().min() > 0

    totals = report.files[["rows_read", "rows_loaded", "rows_quarantined"]].sum()
    assert totals.rows_loaded == len(loaded)
    assert read_dataset(lake, USULAN).num_rows == len(loaded)
    assert read_dataset(lake, QUARANTINE).num_rows == len(quarantine)
    per_level = report.per_level().groupby("level").rows_read.sum().to_dict()
    expected = {}
    for f in made["files"]:
        expected[f["level"]] = expected.get(f["level"], 0) + f["data_rows"]
    assert per_level == expected


def test_annual_run_on_sqlite_is_complete_and_idempotent(sample_run_sqlite, sample_inbox, tmp_path):
    first, url, lake = sample_run_sqlite.report, sample_run_sqlite.url, sample_run_sqlite.lake
    check_run(first, sample_inbox, url, lake)
    # the warehouse the sample leaves, table by table, is the one recorded before the set-based engine (with the
    # text mapping of issue 17: 1,031 free-text rows matched by kamus_fuzzy, 5 of them to another bidang and OPD;
    # then concepts of abbreviations and derived words: the same bidang and OPD for every row, one row kamus_fuzzy
    # instead of klasifikasi, the classifier's confidences, runner-ups and model version new)
    assert warehouse_checksums(url) == json.loads(CHECKSUMS.read_text())
    state = warehouse_state(url)
    assert set(state.level) == {"desa", "kecamatan", "forum_opd", "kabkota", "provinsi"}
    mapped = query(url, "SELECT mapping_method, count(*) AS n FROM usulan GROUP BY mapping_method")
    by_method = dict(zip(mapped.mapping_method.fillna("none"), mapped.n))
    assert by_method["kamus"] > 0.5 * mapped.n.sum()
    lineage = query(
        url,
        "SELECT count(*) AS n FROM usulan k LEFT JOIN usulan d ON d.id_usulan = k.id_usulan_asal "
        "AND d.level = 'desa' WHERE k.level = 'kecamatan' AND d.id_usulan IS NULL",
    )
    assert lineage.n.item() == 0  # every kecamatan usulan traces to its desa usulan

    again = sample_run_sqlite.copy(tmp_path / "again")  # re-runs change a copy, not the session's run
    url, lake = again.url, again.lake
    second = annual_run(tahun=TAHUN, inbox=sample_inbox, lake_root=lake, warehouse_url=url, force=True, extracts=False)
    pd.testing.assert_frame_equal(warehouse_state(url), state)
    assert second.files[["rows_read", "rows_loaded", "rows_quarantined"]].equals(
        first.files[["rows_read", "rows_loaded", "rows_quarantined"]]
    )
    assert set(second.files.load_status) == {"loaded"}
    assert read_dataset(lake, USULAN).num_rows == state.n.sum()
    recorded = json.loads(CHECKSUMS.read_text())
    assert warehouse_checksums(url, DATA_TABLES) == {t: recorded[t] for t in DATA_TABLES}  # forced: the same data

    third = annual_run(tahun=TAHUN, inbox=sample_inbox, lake_root=lake, warehouse_url=url, extracts=False)
    assert set(third.files.load_status) == {"unchanged"} and third.balanced
    assert third.files.rows_read.sum() == first.files.rows_read.sum()
    pd.testing.assert_frame_equal(warehouse_state(url), state)
    assert query(url, "SELECT count(*) AS n FROM etl_run WHERE run_status = 'success'").n.item() == 3


@pytest.mark.postgres
def test_annual_run_on_postgres_matches_sqlite(sample_run_postgres, sample_run_sqlite, sample_inbox):
    pg_url, lake = sample_run_postgres.url, sample_run_postgres.lake
    check_run(sample_run_postgres.report, sample_inbox, pg_url, lake)
    state = warehouse_state(pg_url)
    with postgres_connections() as connections:  # a re-run with nothing changed leaves the warehouse as it was
        annual_run(tahun=TAHUN, inbox=sample_inbox, lake_root=lake, warehouse_url=pg_url, extracts=False)
    assert connections["opened"] > 0 and connections["opened"] == connections["closed"], (
        f"the run left {connections['opened'] - connections['closed']} warehouse connections open"
    )
    pd.testing.assert_frame_equal(warehouse_state(pg_url), state)

    other = warehouse_state(sample_run_sqlite.url)
    assert state[["level", "source", "n", "with_opd"]].equals(other[["level", "source", "n", "with_opd"]])
    assert (state.anggaran.astype(float).round(2) == other.anggaran.astype(float).round(2)).all()
    assert warehouse_checksums(pg_url, DATA_TABLES) == warehouse_checksums(sample_run_sqlite.url, DATA_TABLES)


def test_broken_file_is_reported_and_the_rest_goes_on(prefect_server, sample_inbox, tmp_path):
    """A file that cannot be read is named with its problem and counted as failed; the other files of its
    slice, and every other slice, still publish."""
    inbox = tmp_path / "inbox"
    shutil.copytree(sample_inbox, inbox)
    broken = inbox / str(TAHUN) / PEMDA / "kecamatan" / "susulan_kecamatan.xlsx"
    broken.write_bytes(b"PK\x03\x04 truncated")
    (inbox / str(TAHUN) / PEMDA / "catatan").mkdir()
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    args = [
        "run",
        "--tahun",
        str(TAHUN),
        "--inbox",
        str(inbox),
        "--lake",
        str(tmp_path / "lake"),
        "--warehouse-url",
        url,
    ]
    result = runner.invoke(app, [*args, "--no-extracts"])
    assert result.exit_code == 1, result.output
    assert "susulan_kecamatan.xlsx" in result.output and "cannot open the workbook" in result.output
    assert "Traceback" not in result.output
    assert "unknown level folder" in result.output  # the stray folder is reported, not silently skipped
    good = manifest(inbox)["totals"]["kecamatan"]["data_rows"]
    log = query(
        url,
        "SELECT source_file, load_status, rows_read, rows_loaded, rows_quarantined, rows_failed, "
        "message FROM etl_load_log WHERE level = 'kecamatan' ORDER BY load_status",
    )
    assert log.load_status.tolist() == ["failed", "loaded"]
    assert log.rows_read.tolist()[1] == good == log.rows_loaded[1] + log.rows_quarantined[1]
    assert "cannot open the workbook" in log.message[0] and log.rows_read[0] == log.rows_failed[0] == 0
    loaded = query(url, "SELECT count(*) AS n FROM usulan WHERE level = 'kecamatan'").n.item()
    assert loaded == log.rows_loaded[1]  # the good file of the slice published beside the broken one

    result = runner.invoke(app, [*args, "--no-extracts", "--strict"])  # --strict holds the slice back instead
    assert result.exit_code == 1, result.output
    log = query(
        url,
        "SELECT load_status FROM etl_load_log WHERE level = 'kecamatan' AND run_id = "
        "(SELECT max(run_id) FROM etl_load_log) ORDER BY load_status",
    )
    assert log.load_status.tolist() == ["failed", "held_back"]
    assert query(url, "SELECT count(*) AS n FROM usulan WHERE level = 'kecamatan'").n.item() == loaded


def test_changed_file_replaces_only_its_slice(sample_run_sqlite, sample_inbox, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(sample_inbox, inbox)  # copytree keeps the files' times: the copy is unchanged to the planner
    run = sample_run_sqlite.copy(tmp_path / "run")
    url, lake = run.url, run.lake
    before = warehouse_state(url).set_index(["level", "source"])

    provinsi = next((inbox / str(TAHUN) / PEMDA / "provinsi").glob("*.csv"))
    lines = provinsi.read_bytes().splitlines(keepends=True)
    provinsi.write_bytes(b"".join(lines[:-1]))  # the region re-sends the list with one usulan less
    desa_usulan = query(
        url,
        "SELECT d.id_usulan, d.uraian_usulan, k.source_row AS kecamatan_row FROM usulan AS d "
        "LEFT JOIN usulan AS k ON k.level = 'kecamatan' AND k.kode_pemda = d.kode_pemda "
        "AND k.id_usulan_asal = d.id_usulan WHERE d.level = 'desa' AND d.kode_desa = '18.02.01.2001' "
        "ORDER BY d.id_usulan",
    )
    unique = desa_usulan[~desa_usulan.uraian_usulan.str.lower().duplicated(keep=False)]
    origin = unique[unique.kecamatan_row.isna()].iloc[0]  # never reached the kecamatan forum's SIPD export
    exported = unique[unique.kecamatan_row.notna()].iloc[0]  # in the SIPD export beside the annex
    annex = inbox / str(TAHUN) / PEMDA / "kecamatan" / "berita-acara" / "lampiran_v_kalirejo.csv"
    annex.parent.mkdir()
    annex.write_text(
        "BERITA ACARA MUSRENBANG KECAMATAN KALIREJO\nLampiran V: Daftar usulan yang belum diakomodir\n\n"
        "No;Desa/Kelurahan;Uraian Kegiatan;Volume;Satuan;Alasan Belum Diakomodir\n"
        f"1;Sri Way Langsep;{origin.uraian_usulan.upper()};1;Unit;melebihi pagu indikatif kecamatan\n"
        "2;Sri Way Langsep;Pembangunan gedung serbaguna kampung;1;Unit;bukan usulan desa\n"
        f"3;Sri Way Langsep;{exported.uraian_usulan};1;Unit;melebihi pagu indikatif kecamatan\n",
        encoding="utf-8",
    )

    report = annual_run(tahun=TAHUN, inbox=inbox, lake_root=lake, warehouse_url=url)
    status = {level: set(s) for level, s in report.files.groupby("level").load_status}
    assert status["provinsi"] == {"loaded"} and status["desa"] == {"unchanged"}
    assert status["kecamatan"] == {"loaded"}  # the forum's sources are read together (deduplicated together)
    after = warehouse_state(url).set_index(["level", "source"])
    assert after.loc[("provinsi", "csv"), "n"] == before.loc[("provinsi", "csv"), "n"] - 1
    pd.testing.assert_frame_equal(
        after.drop(index=[("provinsi", "csv"), ("kecamatan", "berita-acara")]),
        before.drop(index=[("provinsi", "csv")]),
        check_dtype=False,
    )
    annexed = query(
        url, "SELECT status, alasan, kode_desa, source_row, id_usulan_asal FROM usulan WHERE source = 'berita-acara'"
    )
    assert annexed.to_dict("records") == [
        {
            "status": "ditolak",
            "alasan": "melebihi pagu indikatif kecamatan",
            "kode_desa": "18.02.01.2001",
            "source_row": 5,
            "id_usulan_asal": origin.id_usulan,
        }
    ]  # traced by desa and text
    twice = query(url, "SELECT source_row, reason_en FROM quarantine WHERE rule = 'duplicate_source'")
    assert twice.source_row.tolist() == [7]  # the annex row of an usulan the SIPD export already holds
    assert f"row {int(exported.kecamatan_row)}" in twice.reason_en.item() and "counted once" in twice.reason_en.item()
    untraced = query(
        url, "SELECT rule, source_row FROM quarantine WHERE source = 'berita-acara' AND severity = 'error'"
    )
    assert untraced.to_dict("records") == [
        {"rule": "lineage_missing", "source_row": 6},
        {"rule": "duplicate_source", "source_row": 7},
    ]


def test_the_quality_record_is_written_when_its_process_has_died(sample_run_sqlite, tmp_path, caplog):
    """Great Expectations runs in a process beside the flow; if that process died, the record, Data Docs and
    quality page are still written (in the flow's process), and the next run has a new process beside it."""
    from flows.annual import quality_process, quality_report

    run = sample_run_sqlite.copy(tmp_path / "run")
    run_id = run.report.run_id
    quality_dir = tmp_path / "quality"
    pool = quality_process()
    pool.submit(int).result()  # its process is up
    for process in list(pool._processes.values()):
        process.kill()
        process.join()
    page, problems = quality_report.fn(run.url, run_id, quality_dir)
    assert "quality process stopped" in caplog.text
    assert page == quality_dir / f"quality_{run_id}.html" and run_id in page.read_text(encoding="utf-8")
    assert problems == []
    assert quality_process() is not pool
    caplog.clear()
    assert quality_report.fn(run.url, run_id, tmp_path / "again")[0].exists()
    assert "quality process stopped" not in caplog.text


def test_the_contract_record_finds_a_row_that_breaks_the_contract_in_the_warehouse(sample_run_sqlite, tmp_path):
    """Great Expectations validates, in SQL, the rows the run loaded: a row changed in the warehouse after the
    load (a prioritas below 1) is found and counted, on exactly the run's rows, also by the checkpoint registered
    in an earlier validation; the view it reads is gone afterwards."""
    from tasks.validate.gx import RUN_VIEW, validate_warehouse

    run = sample_run_sqlite.copy(tmp_path / "run")
    run_id = run.report.run_id
    with scoped_engine(run.url) as engine, engine.begin() as connection:
        loaded = connection.execute(sa.text("SELECT count(*) FROM usulan WHERE run_id = :r"), {"r": run_id}).scalar()
        connection.execute(
            sa.text(
                "UPDATE usulan SET prioritas = -3 WHERE run_id = :r AND id_usulan = (SELECT min(id_usulan) "
                "FROM usulan WHERE run_id = :r AND level = 'desa') AND level = 'desa'"
            ),
            {"r": run_id},
        )
    record = validate_warehouse(run.url, run_id, tmp_path / "quality")
    assert not record.success and record.rows == loaded
    assert [(column, count) for _, column, count in record.failed] == [("prioritas", 1)]
    assert "prioritas (1 rows)" in record.problems()[0]
    again = validate_warehouse(run.url, run_id, tmp_path / "quality")  # the checkpoint registered above, reused
    assert (again.success, again.rows, again.failed) == (record.success, record.rows, record.failed)
    with scoped_engine(run.url) as engine:
        assert RUN_VIEW not in sa.inspect(engine).get_view_names()
