"""Bad input of the corpus kinds (issue 15, point 5), each on a small file of that kind: a record is counted
by its lines, not only by the parser; a malformed or short line is quarantined with its line number while
the other rows load; one stray byte is decoded on its own line only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import xlsxwriter
from typer.testing import CliRunner

from reference import store
from rkpd.cli import app
from tasks.errors import SourceError
from tasks.extract.read import extract_level
from tasks.extract.readers import read_source
from tasks.extract.staging import concat_fields, file_fields, stage_fields
from tests.stages import files_frame, issues_by_row, run_level

KAMUS = store.kamus("18.02").set_index("nama_kamus")
ROAD = "Rehabilitasi Jalan Lingkungan Permukiman"
PRICE = int(KAMUS.loc[ROAD, "harga_satuan"])
HEADER = "ID Usulan,Kecamatan,Desa/Kelurahan,Usulan,Kamus Usulan,Volume,Satuan,Anggaran,Status,Pengusul,Alasan\n"


def line(i: int, sep: str = ",", text: str | None = None) -> str:
    cells = [f"180200{i:04d}", "Kalirejo", "Kalirejo", text or f"rehab jalan dusun {i}", ROAD, "10", "Meter"]
    return sep.join([*cells, str(10 * PRICE), "Diterima", f"Pak Budi {i}", ""]) + "\n"


def stage(raw, source_file: str):
    """One file's rows staged into the contract (a 2025 kecamatan slice), and their parse issues."""
    key = {"tahun": 2025, "level": "kecamatan", "stream": "musrenbang", "kode_pemda": "18.02", "source": "csv"}
    return stage_fields(concat_fields([file_fields(raw, key, source_file)]), key["level"])


@pytest.fixture
def engine(sqlite_warehouse):
    return sqlite_warehouse


def publish_desa(tmp_path: Path, engine, path: Path):
    extraction, ruled, publication = run_level(files_frame([path], tmp_path, "desa"), engine, tmp_path / "lake")
    return issues_by_row(extraction, ruled), publication.log.iloc[0]


def test_a_stray_quote_swallows_no_line(tmp_path, engine):
    """Line 6 opens a quote it never closes: the csv module would take the next lines into that cell. Every
    line is counted, line 6 is quarantined as malformed, the 19 others load; a quoted cell with a line break
    further down stays one record."""
    rows = [line(i) for i in range(1, 21)]
    rows[4] = rows[4].replace("rehab jalan dusun 5", '"rehab jalan dusun 5')
    rows[12] = line(13, text='"rehab jalan\ndusun 13"')
    path = tmp_path / "in" / "quote.csv"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    raw = read_source(path)
    assert raw.source_row.tolist() == [*range(2, 15), *range(16, 23)]  # line 15 is the cell's second line
    issues, log = publish_desa(tmp_path, engine, path)
    bad = issues[issues.rule == "malformed_record"]
    assert bad.source_row.tolist() == [6] and "line 6: unclosed quote" in bad.reason_en.item()
    assert (log.rows_read, log.rows_loaded, log.rows_quarantined) == (20, 19, 1)


def test_an_unquoted_comma_or_a_short_row_quarantines_that_line_only(tmp_path, engine):
    """Line 3 holds an unquoted comma (one field too many), line 5 lacks its last field: both are quarantined
    with their line, never loaded shifted (alasan never receives the proposer's name); the others load."""
    rows = [line(i) for i in range(1, 301)]
    rows[1] = line(2, text="rehab jalan, dusun 2")
    rows[3] = rows[3].rsplit(",", 1)[0] + "\n"  # one field short
    path = tmp_path / "in" / "fields.csv"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    issues, log = publish_desa(tmp_path, engine, path)
    bad = issues[issues.rule == "malformed_record"].sort_values("source_row")
    assert bad.source_row.tolist() == [3, 5]
    assert "line 3: 12 fields where the header has 11" in bad.reason_en.iloc[0]
    assert "line 5: 10 fields where the header has 11" in bad.reason_en.iloc[1]
    assert set(issues.rule) == {"malformed_record"}  # no parse noise from the shifted cells
    assert (log.rows_read, log.rows_loaded, log.rows_quarantined) == (300, 298, 2)


def test_one_stray_byte_is_decoded_on_its_own_line_only(tmp_path, engine):
    """A UTF-8 file with one Windows-1252 byte (0xE9) on line 8: the other lines stay UTF-8, line 8 is read as
    Windows-1252 and loaded with an encoding_fallback warning naming the line and the byte's offset."""
    rows = [line(i, text=f"rehab jalan – gang café {i}").encode() for i in range(1, 21)]
    rows[6] = line(7, text="rehab jalan gang caf\xe9 7").encode("cp1252")
    data = HEADER.encode() + b"".join(rows)
    path = tmp_path / "in" / "byte.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    raw = read_source(path)
    assert raw.encoding == "utf-8"
    texts = raw.cells["Usulan"]
    assert texts[0] == "rehab jalan – gang café 1" and texts[6] == "rehab jalan gang café 7"
    issues, log = publish_desa(tmp_path, engine, path)
    flagged = issues[issues.rule == "encoding_fallback"]
    assert flagged.source_row.tolist() == [8] and flagged.severity.item() == "warning"
    offset = data.index(b"\xe9")
    assert f"line 8, byte 0xE9 at offset {offset}" in flagged.reason_en.item()
    assert (log.rows_read, log.rows_loaded, log.rows_quarantined) == (20, 20, 0)


def test_an_undecodable_byte_is_named_with_its_offset_and_line(tmp_path):
    rows = [line(i, text=f"gang café {i}").encode() for i in range(1, 10)]
    rows[6] = line(7, text="gang caf?").encode().replace(b"?", b"\x81")  # neither UTF-8 nor Windows-1252
    data = HEADER.encode() + b"".join(rows)
    path = tmp_path / "undecodable.csv"
    path.write_bytes(data)
    offset = data.index(b"\x81")
    with pytest.raises(SourceError, match=f"byte 0x81 at offset {offset}, line 8"):
        read_source(path)


def test_a_windows_1252_file_is_still_read_as_a_whole(tmp_path):
    """Windows-1252 throughout, even with one pair of characters that happens to be UTF-8 ('Ã©')."""
    path = tmp_path / "cp1252.csv"
    texts = ["gang café – 1", "gang café 2", "merek CAFÃ© 3"]
    path.write_bytes((HEADER + "".join(line(i, text=t) for i, t in enumerate(texts, 1))).encode("cp1252"))
    raw = read_source(path)
    assert raw.encoding == "cp1252" and raw.problems == [] and raw.cells["Usulan"].tolist() == texts


def test_decimal_commas_are_read_by_the_files_convention(tmp_path):
    """A ';' file whose volumes use decimal commas: '0,750' is 0.75 and '2,500' is 2.5 there. A ',' file, or a
    ';' file whose numbers are grouped by dots ('1.250.000'), keeps the rules: '2,500' is 2500."""
    head = "ID Usulan;Kecamatan;Desa;Usulan;Volume;Satuan;Anggaran\n"
    comma = tmp_path / "comma.csv"
    comma.write_text(head + "1;Kalirejo;Kalirejo;jalan;0,750;Km;5000000\n2;Kalirejo;Kalirejo;jalan;2,500;Km;7000000\n")
    staged, issues = stage(read_source(comma), "comma.csv")
    assert staged.volume.tolist() == [0.75, 2.5] and staged.anggaran.tolist() == [5_000_000, 7_000_000]
    assert issues.empty
    dotted = tmp_path / "dotted.csv"
    dotted.write_text(head + "1;Kalirejo;Kalirejo;jalan;2,500;Meter;1.250.000\n")
    assert stage(read_source(dotted), "dotted.csv")[0].volume.tolist() == [2500]
    plain = tmp_path / "plain.csv"
    plain.write_text(
        head.replace(";", ",")
        + '1,Kalirejo,Kalirejo,jalan,"0,750",Km,5000000\n2,Kalirejo,Kalirejo,jalan,"2,500",Km,1\n'
    )
    assert stage(read_source(plain), "plain.csv")[0].volume.tolist() == [0.75, 2500]


def test_a_tahun_contradicting_the_folder_is_quarantined_naming_both(tmp_path):
    """JSON records that say tahun 2024, and a SIPD workbook titled TAHUN ANGGARAN 2024, in a 2025 folder: the
    rows are quarantined with tahun_mismatch naming both years, never stored as 2025."""
    page = tmp_path / "page.json"
    records = [
        {"id_usulan": i, "tahun": t, "detail_camatteks": "Kalirejo", "giat_teks": "Sumur Bor", "koefisien": "1 Unit"}
        for i, t in ((1, 2024), (2, 2025))
    ]
    page.write_text(json.dumps({"data": records}))
    _, issues = stage(read_source(page), "page.json")
    assert issues[["row", "rule", "value"]].values.tolist() == [[0, "tahun_mismatch", "2024"]]
    assert "tahun 2024 but its folder is tahun 2025" in issues.reason_en.item()

    book = tmp_path / "sipd.xlsx"
    workbook = xlsxwriter.Workbook(book)
    sheet = workbook.add_worksheet("Usulan")
    sheet.write_row(0, 0, ["DAFTAR USULAN HASIL MUSRENBANG KECAMATAN"])
    sheet.write_row(1, 0, ["TAHUN ANGGARAN 2024"])
    sheet.write_row(3, 0, ["ID Usulan", "Usulan", "Kecamatan", "Kelurahan", "Anggaran"])
    sheet.write_row(4, 0, [1802000123, "Rehabilitasi Jalan", "Kalirejo", "Kalirejo", 1000000])
    workbook.close()
    _, issues = stage(read_source(book), "sipd.xlsx")
    assert (
        issues.rule.tolist() == ["tahun_mismatch"]
        and "tahun 2024 but its folder is tahun 2025" in issues.reason_en.item()
    )


def test_workbook_rekap_first_merged_header_and_merged_kecamatan(tmp_path):
    """A rekap sheet placed first (kecamatan totals, no usulan column) and a totals-only sheet are skipped; a
    header of two merged rows gives no phantom row; a kecamatan merged down over its desa fills every row."""
    path = tmp_path / "lampiran.xlsx"
    workbook = xlsxwriter.Workbook(path)
    rekap = workbook.add_worksheet("Rekap")
    rekap.write_row(0, 0, ["Kecamatan", "Desa", "Volume", "Anggaran"])
    rekap.write_row(1, 0, ["Kalirejo", "", 30, 3_000_000])
    totals = workbook.add_worksheet("Jumlah")
    totals.write_row(0, 0, ["Usulan", "Kecamatan", "Volume", "Anggaran"])
    totals.write_row(1, 0, ["JUMLAH", "", 30, 3_000_000])
    sheet = workbook.add_worksheet("Usulan")
    sheet.merge_range(0, 0, 0, 5, "DAFTAR PRIORITAS USULAN KECAMATAN")
    sheet.merge_range(2, 0, 3, 0, "No")
    sheet.merge_range(2, 1, 3, 1, "Uraian Usulan")
    sheet.merge_range(2, 2, 2, 3, "Lokasi")
    sheet.write_row(3, 2, ["Kecamatan", "Desa"])
    sheet.merge_range(2, 4, 3, 4, "Volume")
    sheet.merge_range(2, 5, 3, 5, "Anggaran")
    sheet.merge_range(4, 2, 6, 2, "Kalirejo")
    for i, desa in enumerate(("Kalirejo", "Sri Way Langsep", "Poncowarno")):
        sheet.write_row(4 + i, 0, [i + 1, f"rehab jalan {i + 1}"])
        sheet.write_row(4 + i, 3, [desa, 10, 1_000_000])
    workbook.close()
    raw = read_source(path)
    assert raw.source_sheet.tolist() == ["Usulan"] * 3 and raw.source_row.tolist() == [5, 6, 7]
    staged, issues = stage(raw, "lampiran.xlsx")
    assert staged.nama_kecamatan.tolist() == ["Kalirejo"] * 3
    assert staged.nama_desa.tolist() == ["Kalirejo", "Sri Way Langsep", "Poncowarno"]
    assert staged.status.tolist() == ["diterima"] * 3 and issues.empty  # the title above the header still speaks


def test_missing_api_pages_are_named(tmp_path):
    """Pages 1 and 3 of a listing of 4 (recordsTotal 40) in the inbox: the 20 rows load, and the extraction's
    notes name pages 2 and 4 and the 20 records that are not there."""
    folder = tmp_path / "in" / "forum_opd" / "sipd-api"
    folder.mkdir(parents=True)
    paths = []
    for page in (1, 3):
        data = [
            {
                "id_usulan": 10 * page + i,
                "detail_camatteks": "Kalirejo",
                "giat_teks": "Sumur Bor",
                "koefisien": "1 Unit",
            }
            for i in range(10)
        ]
        path = folder / f"listMonitor_page_{page:03d}.json"
        path.write_text(json.dumps({"success": True, "page": page, "pageSize": 10, "recordsTotal": 40, "data": data}))
        paths.append(path)
    extraction = extract_level(files_frame(paths, tmp_path, "forum_opd", source="sipd-api"), None)
    assert len(extraction.rows) == 20
    assert extraction.notes == [
        "18.02 forum_opd/sipd-api: page(s) 2, 4 of 4 missing: 20 of 40 records (recordsTotal) are not in the inbox"
    ]
    complete = extract_level(files_frame(paths[:1], tmp_path, "forum_opd", source="sipd-api"), None)
    assert len(complete.notes) == 1 and "page(s) 2, 3, 4 of 4 missing: 30 of 40" in complete.notes[0]


def test_a_stopped_slice_names_the_file_and_the_missing_column(tmp_path, engine):
    path = tmp_path / "in" / "nodesa.csv"
    path.parent.mkdir(parents=True)
    rows = "".join(f"180200{i:04d};Kalirejo;rehab jalan {i};10;Meter;1000000\n" for i in range(1, 31))
    path.write_text("ID Usulan;Kecamatan;Usulan;Volume;Satuan;Anggaran\n" + rows)
    _, log = publish_desa(tmp_path, engine, path)
    assert log.load_status == "stopped"
    assert "no nama_desa on any row of in/nodesa.csv: its column is missing or not recognised" in log.message


@pytest.mark.parametrize("case", ["unreachable", pytest.param("missing database", marks=pytest.mark.postgres)])
def test_an_unreachable_or_missing_warehouse_prints_one_line(tmp_path, monkeypatch, case, request):
    if case == "unreachable":
        url, words = "postgresql://postgres:pw@127.0.0.1:1/rkpd", "Connection refused"
    else:  # the real server, a database that is not there
        from sqlalchemy.engine import make_url

        server = make_url(request.getfixturevalue("pg_server_url"))
        url = server.set(database="rkpd_absent", password="pw").render_as_string(hide_password=False)
        words = 'database "rkpd_absent" does not exist'
    (tmp_path / "inbox" / "2025" / "18.02" / "desa").mkdir(parents=True)
    monkeypatch.setenv("RKPD_WAREHOUSE_URL", url)
    result = CliRunner().invoke(app, ["run", "--tahun", "2025", "--inbox", str(tmp_path / "inbox")])
    lines = result.output.strip().splitlines()
    assert result.exit_code == 4 and len(lines) == 1, result.output
    assert lines[0].startswith("not started: the warehouse postgresql+psycopg://postgres") and words in lines[0]
    assert ":pw@" not in lines[0] and "Traceback" not in result.output
