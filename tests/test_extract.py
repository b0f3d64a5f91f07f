"""Readers and parsers on real files: encodings, delimiters, offset headers, broken files."""

import json

import pandas as pd
import pytest
import xlsxwriter

from tasks.errors import SourceError
from tasks.extract.discover import FILE_ID, SIZE
from tasks.extract.parse import parse_koefisien, parse_numbers
from tasks.extract.read import CHUNKS_PER_WORKER, chunks
from tasks.extract.readers import read_source
from tasks.extract.staging import concat_fields, file_fields, generated_id, stage_fields

KEY = {"tahun": 2025, "level": "kecamatan", "stream": "musrenbang", "kode_pemda": "18.02", "source": "csv"}


def stage(raw, source_file: str):
    """One file's rows staged into the contract, and their parse issues."""
    return stage_fields(concat_fields([file_fields(raw, KEY, source_file)]), KEY["level"])


def test_windows_1252_semicolon_csv(tmp_path):
    path = tmp_path / "desa.csv"
    text = (
        "No;ID Usulan;Kecamatan;Desa/Kelurahan;Usulan;Volume;Satuan;Perkiraan Biaya (Rp);Hasil Musyawarah\n"
        "1;1802000001;Kalirejo;Sri Way Langsep;Rehab jalan – dusun café;100 Meter;;1.250.000;Diterima\n"
        ";;;;;;;;\n"
        "2;1802000002;Kalirejo;Kalirejo;Sumur bor;2;Unit;Rp 70.000.000,00;Ditolak\n"
    )
    path.write_bytes(text.encode("cp1252"))
    raw = read_source(path)
    assert (raw.encoding, raw.delimiter) == ("cp1252", ";")
    assert raw.source_row.tolist() == [2, 3, 4]
    staged, issues = stage(raw, "desa.csv")
    assert staged.loc[0, "uraian_usulan"] == "Rehab jalan – dusun café"
    assert staged.loc[0, "volume"] == 100 and staged.loc[0, "satuan"] == "Meter"
    assert staged.loc[2, "anggaran"] == 70_000_000
    assert staged["status"].tolist() == ["diterima", "diusulkan", "ditolak"]
    assert issues[["row", "rule"]].values.tolist() == [[1, "empty_row"]]
    assert staged.loc[0, "id_usulan_asal"] == "1802000001"  # the same SIPD record rose from desa


def test_utf8_bom_comma_csv_with_title_rows(tmp_path):
    path = tmp_path / "annex.csv"
    path.write_bytes(
        "\ufeffDAFTAR PRIORITAS USULAN\nKecamatan Kalirejo\n\n"
        "No,Kecamatan,Desa,Uraian Usulan,Volume,Satuan,Anggaran\n"
        '1,Kalirejo,Kalirejo,"Pemb. TPT, dusun 2",50,Meter,"25.000.000"\n'.encode("utf-8")
    )
    raw = read_source(path)
    assert raw.encoding == "utf-8-sig" and raw.delimiter == ","
    assert raw.source_row.tolist() == [5]
    staged, issues = stage(raw, "2025/18.02/kecamatan/annex.csv")
    made = staged.loc[0, "id_usulan"]  # no id column: stable per file and row, scoped to the pemda
    assert made == generated_id("18.02", "2025/18.02/kecamatan/annex.csv", pd.Series([5])).item()
    assert made.startswith("18.02-") and made.endswith("-5") and len(made) <= 64
    assert generated_id("18.72", "2025/18.72/kecamatan/annex.csv", pd.Series([5])).item() != made
    assert staged.loc[0, "anggaran"] == 25_000_000 and issues.empty


def test_sipd_excel_with_title_rows_and_coordinates(tmp_path):
    path = tmp_path / "sipd.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("Usulan")
    sheet.merge_range(0, 0, 0, 6, "DAFTAR USULAN HASIL MUSRENBANG KECAMATAN")
    sheet.write_row(3, 0, ["No", "ID Usulan", "Usulan", "Alamat", "Kecamatan", "Kelurahan", "Anggaran", "Status"])
    sheet.write_row(
        4,
        0,
        [
            1,
            1802000123,
            "Rehabilitasi Jalan",
            "Dusun II RT 002, -4.812345, 105.234567",
            "Kalirejo",
            "Kalirejo",
            "Rp 1.250.000,00",
            "Disetujui",
        ],
    )
    workbook.close()
    raw = read_source(path)
    assert raw.source_row.tolist() == [5] and raw.source_sheet.tolist() == ["Usulan"]
    staged, _issues = stage(raw, "sipd.xlsx")
    row = staged.iloc[0]
    assert row["id_usulan"] == "1802000123" and row["anggaran"] == 1_250_000
    assert (row["latitude"], row["longitude"], row["lokasi"]) == (-4.812345, 105.234567, "Dusun II RT 002")


def test_json_pages(tmp_path):
    path = tmp_path / "page.json"
    path.write_text(
        json.dumps(
            {
                "success": True,
                "data": [
                    {
                        "id_usulan": 1,
                        "detail_camatteks": "Kalirejo",
                        "giat_teks": "Pembangunan Sumur Bor",
                        "koefisien": "2 Unit",
                        "anggaran": 70000000,
                        "status_usul_teks": "Ditolak",
                        "tolak_teks": "duplikasi",
                    }
                ],
            }
        )
    )
    staged, _issues = stage(read_source(path), "page.json")
    assert staged.loc[0, "uraian_usulan"] == "Pembangunan Sumur Bor"
    assert (staged.loc[0, "volume"], staged.loc[0, "satuan"], staged.loc[0, "alasan"]) == (2, "Unit", "duplikasi")


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("empty.csv", b"", "empty"),
        ("junk.csv", bytes(range(256)) * 4, "not a text file"),
        ("truncated.xlsx", b"PK\x03\x04" + b"\x00" * 100, "cannot open the workbook"),
        ("noheader.csv", b"a,b,c\n1,2,3\n", "no header row"),
        ("bad.json", b"{not json", "not valid JSON"),
    ],
)
def test_broken_files_give_one_clear_message(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceError) as info:
        read_source(path)
    assert problem in str(info.value) and name in str(info.value)


def test_missing_usulan_column_is_named(tmp_path):
    path = tmp_path / "nousulan.csv"
    path.write_text("No,Kecamatan,Desa,Volume\n1,Kalirejo,Kalirejo,2\n")
    with pytest.raises(SourceError, match="missing required column"):
        stage(read_source(path), "nousulan.csv")


def test_number_formats():
    values = pd.Series(["1.250.000", "Rp 1.250.000,00", "1,5", "1,250,000.50", "12.5", "Rp. 500.000,-", "abc"])
    parsed, bad = parse_numbers(values)
    assert parsed.tolist()[:6] == [1_250_000, 1_250_000, 1.5, 1_250_000.5, 12.5, 500_000]
    assert bad.tolist() == [False] * 6 + [True]
    volume, satuan, bad = parse_koefisien(pd.Series(["100 Meter", "2,5 M2", "7"]), pd.Series(["", "", "Unit"]))
    assert volume.tolist() == [100, 2.5, 7] and satuan.tolist() == ["Meter", "M2", "Unit"]


def test_chunks_are_runs_of_consecutive_files_of_similar_size():
    """The workers' chunks put one after the other are the files in file order (no reordering of a level's
    rows after reading), each file once, and of similar size; a large file makes a run of its own."""
    sizes = [5, 1, 1, 1, 40, 1, 1, 1, 1, 1, 9, 8, 7, 6, 5, 4]
    files = pd.DataFrame({FILE_ID: range(len(sizes)), SIZE: sizes}).sample(frac=1, random_state=3)
    parts = chunks(files, workers=2)
    order = [i for part in parts for i in part[FILE_ID]]
    assert order == sorted(files[FILE_ID])
    totals = [int(part[SIZE].sum()) for part in parts]
    assert 2 <= len(parts) <= CHUNKS_PER_WORKER * 2
    assert 40 in totals  # the large file alone
    assert max(t for t in totals if t != 40) <= 2 * sum(sizes) / (CHUNKS_PER_WORKER * 2)
