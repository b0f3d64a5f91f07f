"""Mapping with review: a kamus hit is exact, unknown text lands in review, and a correction imported
from the review workbook changes the next run's result."""

from __future__ import annotations

import shlex
import shutil

import openpyxl
import pandas as pd
from typer.testing import CliRunner

from flows.annual import annual_run
from reference import store
from rkpd.cli import app
from warehouse.db import create_engine

KAMUS = store.kamus("18.02").set_index("id_kamus")
SUMUR = KAMUS[KAMUS.nama_kamus.str.contains("Sumur Bor")].iloc[0]


def query(url: str, sql: str) -> pd.DataFrame:
    with create_engine(url).connect() as connection:
        return pd.read_sql(sql, connection)


def test_review_round_trip(prefect_server, sample_inbox, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(sample_inbox / "2025" / "18.02" / "desa", inbox / "2025" / "18.02" / "desa")
    extra = inbox / "2025" / "18.02" / "desa" / "susulan" / "tambahan.csv"
    extra.parent.mkdir()
    extra.write_text(
        "ID Usulan;Kecamatan;Desa/Kelurahan;Usulan;Kamus Usulan;Volume;Satuan;Perkiraan Biaya (Rp);Hasil Musyawarah\n"
        f"1802999001;Kalirejo;Kalirejo;sumur bor rt 3;{SUMUR.nama_kamus};1;Unit;{int(SUMUR.harga_satuan)};Diterima\n"
        "1802999002;Kalirejo;Kalirejo;asdf qwerty zzz;;1;Paket;5000000;Diterima\n",
        encoding="utf-8",
    )
    url, lake = f"sqlite:///{tmp_path / 'w.sqlite'}", tmp_path / "lake"
    annual_run(tahun=2025, inbox=inbox, lake_root=lake, warehouse_url=url)

    rows = query(url, "SELECT * FROM usulan WHERE id_usulan IN ('1802999001', '1802999002') ORDER BY id_usulan")
    kamus_row, unknown = rows.iloc[0], rows.iloc[1]
    assert (
        kamus_row.mapping_method,
        kamus_row.id_kamus,
        kamus_row.kode_bidang_urusan,
        kamus_row.kode_sub_kegiatan,
        kamus_row.kode_opd_akhir,
        kamus_row.mapping_confidence,
    ) == ("kamus", SUMUR.name, SUMUR.kode_bidang_urusan, SUMUR.kode_sub_kegiatan, SUMUR.kode_skpd, 1.0)
    assert pd.isna(unknown.mapping_method) and pd.isna(unknown.kode_bidang_urusan)  # not forced into a guess
    assert unknown.mapping_confidence < 0.5

    runner = CliRunner(env={"RKPD_WAREHOUSE_URL": url})
    workbook_path = tmp_path / "review.xlsx"
    result = runner.invoke(
        app, ["review", "export", "--tahun", "2025", "--pemda", "18.02", "--out", str(workbook_path)]
    )
    assert result.exit_code == 0, result.output
    command = result.output.strip().splitlines()[-1]  # the line to paste: absolute path and --pemda
    assert command == f"rkpd review import {workbook_path.resolve()} --pemda 18.02"
    workbook = openpyxl.load_workbook(workbook_path)
    sheet = workbook["Review"]
    header = [c.value for c in sheet[1]]
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "1802999002" in ids and "1802999001" not in ids
    line = ids.index("1802999002") + 2
    shown = dict(zip(header, next(sheet.iter_rows(min_row=line, max_row=line, values_only=True))))
    assert shown["Anggaran (Rp)"] == 5_000_000 and shown["Lokasi"] is None and "Permasalahan" in shown
    assert {"Saran Bidang", "Saran OPD", "Bidang Alternatif", "OPD Alternatif", "Alasan Review"} <= set(shown)
    # drop-downs of the region's bidang and OPD on the answer columns; instructions in Indonesian with the command
    lists = {dv.formula1: str(dv.sqref) for dv in sheet.data_validations.dataValidation}
    column = {h: openpyxl.utils.get_column_letter(j) for j, h in enumerate(header, start=1)}
    assert lists[f"='Daftar Bidang'!$A$2:$A${workbook['Daftar Bidang'].max_row}"].startswith(
        column["Bidang Urusan (benar)"] + "2"
    )
    assert lists[f"='Daftar OPD'!$A$2:$A${workbook['Daftar OPD'].max_row}"].startswith(column["OPD (benar)"] + "2")
    help_lines = [r[0] for r in workbook["Petunjuk"].iter_rows(values_only=True) if r[0]]
    assert help_lines[0] == "Petunjuk pengisian lembar Review" and help_lines[-1] == command

    dpupr = store.opd("18.02").set_index("bidang_urusan_1").loc["1.03"]
    sheet.cell(line, header.index("Bidang Urusan (benar)") + 1, "1.03")
    sheet.cell(line, header.index("OPD (benar)") + 1, dpupr.nama_skpd)  # an OPD typed by its name
    sheet.cell(line, header.index("Diperiksa oleh") + 1, "Bidang Infrastruktur Bappeda")
    wrong_line = 2 if line != 2 else 3
    sheet.cell(wrong_line, header.index("Bidang Urusan (benar)") + 1, "9.99")
    never = sheet.max_row + 1  # an id that was never in the queue
    for name, value in (("ID Usulan", "1802000000"), ("Tahun", 2025), ("Stream", "musrenbang"), ("Level", "desa")):
        sheet.cell(never, header.index(name) + 1, value)
    sheet.cell(never, header.index("Uraian Usulan") + 1, "tambahan")
    sheet.cell(never, header.index("Bidang Urusan (benar)") + 1, "1.03")
    workbook.save(workbook_path)
    result = runner.invoke(app, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    assert "1 verified mapping(s) imported" in result.output
    assert (
        f"review.xlsx baris {wrong_line}: bidang urusan '9.99' tidak ada dalam nomenklatur tahun 2025" in result.output
    )
    assert (
        f"review.xlsx baris {never}: ID Usulan '1802000000' (musrenbang, desa, 2025) tidak pernah ada di antrean "
        "review 18.02" in result.output.replace("\n", " ")
    )

    second = annual_run(tahun=2025, inbox=inbox, lake_root=lake, warehouse_url=url)
    assert "unchanged" not in set(second.files.load_status)  # a correction re-maps the pemda's slices
    fixed = query(url, "SELECT * FROM usulan WHERE id_usulan = '1802999002'").iloc[0]
    assert (fixed.mapping_method, fixed.kode_bidang_urusan, fixed.kode_opd_akhir, fixed.mapping_confidence) == (
        "koreksi_planner",
        "1.03",
        dpupr.kode_skpd,
        1.0,
    )
