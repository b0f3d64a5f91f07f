"""Per-OPD extracts of the sample run, on SQLite and the real PostgreSQL: every file of every OPD opened
and checked against the warehouse with SQL written independently of tasks/extracts.py."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from schemas import USULAN
from tasks.deliver.opd_extracts import HEADER_ROW, LABELS, SHEETS, write_opd_extracts
from tests.sample_run import SAMPLE_RUN_GROUP
from warehouse.db import create_engine

pytestmark = SAMPLE_RUN_GROUP  # the session's sample run: all on one xdist worker

TAHUN, PEMDA = 2025, "18.02"
DINKES = "1.02.0.00.0.00.01.0000"
PERSONAL = USULAN.personal_columns
RANK = (
    "CASE {a}.level WHEN 'desa' THEN 0 WHEN 'kecamatan' THEN 1 WHEN 'forum_opd' THEN 2 WHEN 'kabkota' THEN 3 "
    "WHEN 'provinsi' THEN 4 WHEN 'nasional' THEN 5 END"
)
# An usulan's row at the highest level it reached: no row of a higher level of the same stream carries its
# id_usulan or names it as id_usulan_asal.
TOP_ROWS = f"""
SELECT u.stream, u.id_usulan, u.level, u.kode_opd_akhir, u.status, u.anggaran FROM usulan u
WHERE u.tahun = :t AND u.kode_pemda = :p
  AND NOT EXISTS (SELECT 1 FROM usulan h WHERE h.tahun = u.tahun AND h.stream = u.stream
                  AND h.id_usulan = u.id_usulan AND {RANK.format(a="h")} > {RANK.format(a="u")})
  AND NOT EXISTS (SELECT 1 FROM usulan h WHERE h.tahun = u.tahun AND h.stream = u.stream
                  AND h.id_usulan_asal = u.id_usulan AND {RANK.format(a="h")} > {RANK.format(a="u")})"""
FOLDER_NAME = re.compile(r"^([0-9A-Za-z-]+_)?[0-9]+(_[0-9]+)+$")  # singkatan_kode: letters, digits, '-', '_'
FILE_NAME = re.compile(r"^(usulan_[0-9A-Za-z_-]+_\d{4}\.(xlsx|csv|parquet)|manifest\.json)$")
STREAMS = {label: code for code, label in LABELS["stream"].items()}


@dataclass
class Extracted:
    backend: str
    url: str
    root: Path
    manifests: list[dict]
    run_id: str
    seconds: float
    top: pd.DataFrame  # the warehouse's answer (independent SQL): one row per usulan at its highest level
    _files: dict = field(default_factory=dict)

    def files(self, folder: Path) -> tuple[pd.DataFrame, pa.Table, openpyxl.Workbook]:
        """csv, parquet and workbook of an OPD folder, opened once per module."""
        if folder not in self._files:
            self._files[folder] = read_files(folder)
        return self._files[folder]


def query(url: str, sql: str, **params) -> pd.DataFrame:
    engine = create_engine(url)
    with engine.connect() as c:
        frame = pd.read_sql(sa.text(sql), c, params=params)
    engine.dispose()
    return frame


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def extracted(request, tmp_path_factory) -> Extracted:
    tmp = tmp_path_factory.mktemp(f"extracts_{request.param}")
    run = request.getfixturevalue(f"sample_run_{request.param}")
    url, report = run.url, run.report
    engine = create_engine(url)
    started = time.perf_counter()
    manifests = write_opd_extracts(engine, TAHUN, PEMDA, tmp / "extracts", run_id=report.run_id)
    seconds = time.perf_counter() - started
    engine.dispose()
    print(f"\n[{request.param}] {len(manifests)} OPD extracts in {seconds:.2f} s")
    top = query(url, TOP_ROWS, t=TAHUN, p=PEMDA)
    top["anggaran"] = top.anggaran.astype(float)
    top = top[~((top.level == "desa") & (top.status == "ditolak"))]  # rejected at desa: they reached no OPD
    return Extracted(request.param, url, tmp / "extracts", manifests, report.run_id, seconds, top)


def opd_dirs(ex: Extracted) -> list[Path]:
    return sorted(p for p in (ex.root / str(TAHUN) / "18_02").iterdir() if p.is_dir())


def read_files(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, openpyxl.Workbook]:
    stem = f"usulan_{folder.name}_{TAHUN}"
    csv = pd.read_csv(folder / f"{stem}.csv", sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    parquet = pq.read_table(folder / f"{stem}.parquet")
    return csv, parquet, openpyxl.load_workbook(folder / f"{stem}.xlsx")


def sheet_frame(ws) -> pd.DataFrame:
    """The table of a sheet: under the title block, without the total row."""
    rows = list(ws.iter_rows(values_only=True))
    assert str(rows[-1][0]).startswith("Total (")
    return pd.DataFrame(rows[HEADER_ROW + 1 : -1], columns=rows[HEADER_ROW])


def sheet_rows(book) -> pd.DataFrame:
    """The usulan of an extract workbook: the accepted and the rejected sheet."""
    return pd.concat([sheet_frame(book[SHEETS[0]]), sheet_frame(book[SHEETS[1]])], ignore_index=True)


def csv_number(text: str) -> float:
    return float(text.replace(",", ".")) if text else 0.0


# --- tests -------------------------------------------------------------------------------------------
def test_one_folder_per_opd_with_usulan_and_an_index(extracted):
    top = extracted.top
    expected = set(top.kode_opd_akhir.dropna())
    folders = opd_dirs(extracted)
    assert {m["kode_skpd"] for m in extracted.manifests} == expected
    assert {f.name for f in folders} == {m["folder"] for m in extracted.manifests}
    for m in extracted.manifests:  # the OPD's singkatan, then its kode
        short = re.sub(r"[^0-9A-Za-z]+", "-", m["singkatan"]).strip("-")
        assert m["folder"] == f"{short}_{m['kode_skpd'].replace('.', '_')}", m["folder"]
    index = json.loads((extracted.root / str(TAHUN) / "18_02" / "index.json").read_text(encoding="utf-8"))
    assert index["run_id"] == extracted.run_id and index["kode_pemda"] == PEMDA
    assert sorted(e["folder"] for e in index["opd"]) == [f.name for f in folders]
    in_no_folder = index["tanpa_opd"] + sum(index["opd_di_luar_master"].values())
    assert sum(e["rows"] for e in index["opd"]) + in_no_folder == len(top)
    assert len(top) + index["ditolak_di_desa"] == index["usulan"]
    for entry in index["opd"]:
        manifest = extracted.root / str(TAHUN) / "18_02" / entry["manifest"]
        assert hashlib.sha256(manifest.read_bytes()).hexdigest() == entry["manifest_sha256"]
    # only code characters in folder and file names
    for folder in folders:
        assert FOLDER_NAME.match(folder.name), folder.name
        assert all(FILE_NAME.match(f.name) for f in folder.iterdir()), list(folder.iterdir())
    assert not [p for p in (extracted.root / str(TAHUN)).iterdir() if p.name.startswith(".")], "staging left over"
    assert extracted.seconds < 30


def test_every_extract_matches_the_warehouse(extracted):
    top = extracted.top
    for folder in opd_dirs(extracted):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        kode = manifest["kode_skpd"]
        mine = top[top.kode_opd_akhir == kode]
        ids = set(zip(mine.stream, mine.id_usulan))
        csv, parquet, book = extracted.files(folder)
        rows = sheet_rows(book)
        pq_frame = parquet.to_pandas()
        csv, rows = (f.assign(**{"Jenis Usulan": f["Jenis Usulan"].map(STREAMS)}) for f in (csv, rows))
        for name, frame, opd_col, id_cols in (
            ("csv", csv, "Kode OPD", ("Jenis Usulan", "ID Usulan")),
            ("xlsx", rows, "Kode OPD", ("Jenis Usulan", "ID Usulan")),
            ("parquet", pq_frame, "kode_opd_akhir", ("stream", "id_usulan")),
        ):
            assert len(frame) == len(mine), (kode, name)
            assert set(frame[opd_col]) == {kode}, (kode, name)
            assert set(zip(frame[id_cols[0]], frame[id_cols[1]])) == ids, (kode, name)
        total = round(mine.anggaran.sum(), 2)
        accepted = round(mine.anggaran[mine.status == "diterima"].sum(), 2)
        assert round(sum(csv_number(v) for v in csv["Anggaran (Rp)"]), 2) == total, kode
        assert round(float(rows["Anggaran (Rp)"].fillna(0).sum()), 2) == total, kode
        assert round(float(sum(v for v in pq_frame.anggaran if v is not None)), 2) == total, kode
        assert round(manifest["anggaran"], 2) == total
        # per sub kegiatan: every row once, accepted value as in the warehouse
        sub = sheet_frame(book[SHEETS[2]])
        assert int(sub["Jumlah Usulan"].sum()) == len(mine)
        assert round(float(sub["Anggaran Diterima (Rp)"].sum()), 2) == accepted
        # rows sorted by kecamatan, desa, prioritas
        keys = list(
            zip(
                csv["Kode Kecamatan"].replace("", "~"),
                csv["Kode Desa/Kelurahan"].replace("", "~"),
                [int(p) if p else 10**9 for p in csv["Prioritas"]],
            )
        )
        assert keys == sorted(keys), kode
        # manifest: files, row counts and checksums
        assert manifest["run_id"] == extracted.run_id and manifest["tahun"] == TAHUN
        assert manifest["nomenklatur_versi"] == "sipd-ri-2026" and manifest["nama_skpd"]
        for entry in manifest["files"]:
            data = (folder / entry["name"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["name"]
            assert entry["rows"] == len(mine)
        assert {e["name"].rsplit(".", 1)[1] for e in manifest["files"]} == {"xlsx", "csv", "parquet"}


def test_ringkasan_agrees_with_the_planner_view(extracted):
    rekap = query(
        extracted.url,
        "SELECT kode_opd_akhir, level, stream, n_usulan, anggaran_usulan, n_diterima, "
        "n_ditolak FROM v_rekap_opd WHERE tahun = :t AND kode_pemda = :p",
        t=TAHUN,
        p=PEMDA,
    )
    labels = {
        "desa": "Musrenbang Desa/Kelurahan",
        "kecamatan": "Musrenbang Kecamatan",
        "forum_opd": "Forum Perangkat Daerah",
        "kabkota": "Musrenbang RKPD Kabupaten/Kota",
        "provinsi": "Musrenbang RKPD Provinsi",
    }
    for folder in opd_dirs(extracted):
        kode = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["kode_skpd"]
        summary = sheet_frame(extracted.files(folder)[2][SHEETS[3]])
        summary = summary[summary["Jenis Usulan"] != "semua"]
        summary = summary.assign(**{"Jenis Usulan": summary["Jenis Usulan"].map(STREAMS)})
        view = rekap[rekap.kode_opd_akhir == kode]
        got = {
            (r["Level"], r["Jenis Usulan"]): (
                r["Jumlah Usulan"],
                round(float(r["Anggaran Usulan (Rp)"]), 2),
                r["Jumlah Diterima"],
                r["Jumlah Ditolak"],
            )
            for _, r in summary.iterrows()
        }
        want = {
            (labels[r.level], r.stream): (
                int(r.n_usulan),
                round(float(r.anggaran_usulan), 2),
                int(r.n_diterima),
                int(r.n_ditolak),
            )
            for r in view.itertuples()
        }
        assert got == want, kode


def test_no_personal_data_in_any_file(extracted):
    personal = query(extracted.url, "SELECT DISTINCT pengusul, kontak_pengusul FROM usulan WHERE tahun = :t", t=TAHUN)
    names = {v.strip() for v in personal.pengusul.dropna() if v.strip()}
    contacts = {re.sub(r"\D", "", v) for v in personal.kontak_pengusul.dropna()} - {""}
    assert names and contacts
    distinctive = {" ".join(v.split()) for v in names if len(v.split()) >= 2}
    banned_headers = {c.lower() for c in PERSONAL} | {
        "pengusul",
        "kontak",
        "kontak pengusul",
        "nik",
        "telepon",
        "no hp",
        "nama pengusul",
    }
    for folder in opd_dirs(extracted):
        csv, parquet, book = extracted.files(folder)
        cells: list[str] = []
        headers = [*csv.columns, *parquet.schema.names]
        for ws in book.worksheets:
            values = list(ws.iter_rows(values_only=True))
            headers += [str(h) for h in values[HEADER_ROW]]
            # the title block names the OPD from its master (test_workbook_layout), which an institution that
            # proposed may share; the usulan's own cells start at the header
            cells += [v for row in values[HEADER_ROW:] for v in row if isinstance(v, str)]
        cells += [v for column in csv.columns for v in csv[column] if v]
        for column in parquet.schema.names:
            cells += [v for v in parquet.column(column).to_pylist() if isinstance(v, str)]
        assert not {h.lower() for h in headers} & banned_headers, folder.name
        assert not set(cells) & names, (folder.name, set(cells) & names)
        # a proposer's name inside a longer text (word n-grams) or a phone number / NIK anywhere
        grams = set()
        for cell in set(cells):
            words = cell.split()
            for i in range(len(words)):
                for j in range(i + 2, min(i + 7, len(words)) + 1):
                    grams.add(" ".join(words[i:j]))
        assert not grams & distinctive, (folder.name, grams & distinctive)
        digits = {re.sub(r"\D", "", m) for cell in cells for m in re.findall(r"\+?\d[\d\s.\-]{7,}\d", cell)}
        assert not digits & contacts, (folder.name, digits & contacts)
        raw = b"".join((folder / n).read_bytes() for n in ("manifest.json",))
        assert b"pengusul" not in raw


def test_workbook_layout(extracted):
    """Print-ready for an OPD team: title block, header repeated on every page, landscape fitted to the width,
    a total row, labels instead of codes, whole volumes without a decimal point, confidence to two decimals."""
    header_row = HEADER_ROW + 1  # 1-based
    for folder in opd_dirs(extracted):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        book = extracted.files(folder)[2]
        assert book.sheetnames == list(SHEETS)
        for ws in book.worksheets:
            where = (folder.name, ws.title)
            assert ws["A1"].value == f"Usulan Musrenbang untuk RKPD {TAHUN}: {manifest['nama_skpd']}", where
            assert ws["A1"].font.b and "Kabupaten Lampung Tengah (18.02)" in ws["A2"].value, where
            assert f"run {extracted.run_id}" in ws["A2"].value and "WIB" in ws["A2"].value, where
            assert ws["A3"].value == "Pagu indikatif OPD ini belum diimpor untuk tahun ini", where  # no pagu given
            assert ws.freeze_panes == f"A{header_row + 1}", where
            assert ws.auto_filter.ref and ws.auto_filter.ref.startswith(f"A{header_row}:"), where
            assert ws.print_title_rows == f"${header_row}:${header_row}", where
            assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage, where
            assert ws.page_setup.fitToHeight == 0, where  # one page wide, as long as needed
            assert str(ws.cell(ws.max_row, 1).value).startswith("Total ("), where
            widths = [d.width for d in ws.column_dimensions.values() if d.width]
            assert widths and max(widths) <= 61
        ws = book[SHEETS[0]]
        header = [c.value for c in ws[header_row]]
        for name in (
            "ID Usulan",
            "Kecamatan",
            "Desa/Kelurahan",
            "Uraian Usulan",
            "Volume",
            "Satuan",
            "Anggaran (Rp)",
            "Status",
            "Alasan",
            "Sub Kegiatan",
            "Level Terakhir",
        ):
            assert name in header
        rows = sheet_frame(ws)
        assert set(rows["Status"]) <= {"Diterima", "Diusulkan"}  # labels, and no rejection here
        assert set(sheet_frame(book[SHEETS[1]])["Status"]) <= {"Ditolak"}
        assert "Musrenbang Desa/Kelurahan" not in set(sheet_frame(book[SHEETS[1]])["Level Terakhir"])
        assert set(rows["Metode Pemetaan"].dropna()) <= set(LABELS["method"].values())
        assert set(rows["Level Terakhir"]) <= set(LABELS["level"].values())
        assert all(v == round(v, 2) for v in rows["Keyakinan Pemetaan"].dropna())
        money = header.index("Anggaran (Rp)") + 1
        volume = header.index("Volume") + 1
        code_columns = [
            header.index(h) + 1
            for h in ("ID Usulan", "Kode Kecamatan", "Kode Desa/Kelurahan", "Kode Sub Kegiatan", "Kode OPD")
        ]
        for row in ws.iter_rows(min_row=header_row + 1, max_row=min(ws.max_row - 1, 60)):
            cell = row[money - 1]
            if cell.value is not None:
                assert "#,##0" in cell.number_format and "Rp" in cell.number_format
                assert isinstance(cell.value, (int, float))
            v = row[volume - 1]
            if isinstance(v.value, (int, float)) and float(v.value).is_integer():
                assert v.number_format == "#,##0", v.number_format  # "75", never "75."
            for j in code_columns:  # codes stay text
                assert row[j - 1].value is None or row[j - 1].data_type == "s"
        total = ws.cell(ws.max_row, money).value
        assert round(total, 2) == round(float(rows["Anggaran (Rp)"].fillna(0).sum()), 2)
        for ws_name, column in ((SHEETS[2], "Anggaran (Rp)"), (SHEETS[3], "Anggaran Usulan (Rp)")):
            ws = book[ws_name]
            j = [c.value for c in ws[header_row]].index(column)
            assert "Rp" in ws.cell(row=header_row + 1, column=j + 1).number_format


def test_codes_stay_text_in_parquet_and_csv(extracted):
    folder = opd_dirs(extracted)[0]
    csv, parquet, _ = extracted.files(folder)
    for column in ("id_usulan", "kode_kecamatan", "kode_desa", "kode_sub_kegiatan", "kode_opd_akhir"):
        assert str(parquet.schema.field(column).type) == "string", column
    assert str(parquet.schema.field("anggaran").type).startswith("decimal")
    assert csv["Kode Kecamatan"].str.fullmatch(r"\d{2}\.\d{2}\.\d{2}|").all()
    assert (folder / f"usulan_{folder.name}_{TAHUN}.csv").read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("extracted", ["sqlite"], indirect=True)
def test_dalam_review_lists_unmapped_usulan_first_targeted_at_or_suggested_for_the_opd(extracted, tmp_path):
    """Unmap three usulan in a copy of the SQLite warehouse: they leave the OPD's main sheet and show up
    under "Dalam Review" of the OPD first targeted, and the one suggested for Dinas Kesehatan under its OPD too."""
    source = Path(make_url(extracted.url).database)
    copy = tmp_path / "w.sqlite"
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    url = f"sqlite:///{copy}"
    picked = query(
        url,
        "SELECT stream, id_usulan, kode_opd_awal FROM usulan WHERE tahun = :t AND level = 'kabkota' "
        "AND kode_opd_awal = '1.03.0.00.0.00.01.0000' AND NOT EXISTS (SELECT 1 FROM usulan p WHERE "
        "p.level = 'provinsi' AND p.id_usulan = usulan.id_usulan) ORDER BY id_usulan LIMIT 3",
        t=TAHUN,
    )
    assert len(picked) == 3
    engine = create_engine(url)
    # usulan the sample run itself left waiting for review (the mapping's own queue) stay where they were
    write_opd_extracts(engine, TAHUN, PEMDA, tmp_path / "before", run_id="test")
    before = tmp_path / "before" / str(TAHUN) / "18_02"
    without_opd = json.loads((before / "index.json").read_text(encoding="utf-8"))["tanpa_opd"]
    waiting = set(sheet_frame(read_files(before / "DPUPR_1_03_0_00_0_00_01_0000")[2]["Dalam Review"])["ID Usulan"])
    waiting_dinkes = sheet_frame(read_files(before / "Dinkes_1_02_0_00_0_00_01_0000")[2]["Dalam Review"])
    with engine.begin() as c:
        for r in picked.itertuples():
            c.execute(
                sa.text(
                    "UPDATE usulan SET mapping_method = NULL, kode_opd_akhir = NULL, mapping_confidence = "
                    "0.2 WHERE stream = :s AND id_usulan = :i AND level = 'kabkota'"
                ),
                {"s": r.stream, "i": r.id_usulan},
            )
        c.execute(
            sa.text("UPDATE usulan SET saran_opd = :o, alasan_review = 'keyakinan rendah' WHERE id_usulan = :i"),
            {"o": DINKES, "i": picked.id_usulan[0]},
        )
    write_opd_extracts(engine, TAHUN, PEMDA, tmp_path / "out", run_id="test")
    engine.dispose()
    folder = tmp_path / "out" / str(TAHUN) / "18_02" / "DPUPR_1_03_0_00_0_00_01_0000"
    csv, _, book = read_files(folder)
    review = sheet_frame(book["Dalam Review"])
    assert set(review["ID Usulan"]) == set(picked.id_usulan) | waiting
    picked_rows = review[review["ID Usulan"].isin(picked.id_usulan)]
    assert set(picked_rows["Kode OPD Awal"]) == {"1.03.0.00.0.00.01.0000"}
    assert review["Metode Pemetaan"].isna().all()
    assert not set(csv["ID Usulan"]) & set(picked.id_usulan)
    suggested = sheet_frame(
        read_files(tmp_path / "out" / str(TAHUN) / "18_02" / "Dinkes_1_02_0_00_0_00_01_0000")[2]["Dalam Review"]
    )
    added = suggested[~suggested["ID Usulan"].isin(waiting_dinkes["ID Usulan"])]
    assert added["ID Usulan"].tolist() == [picked.id_usulan[0]] and len(suggested) == len(waiting_dinkes) + 1
    assert added[["Saran OPD", "Alasan Review"]].values.tolist() == [[DINKES, "keyakinan rendah"]]
    index = json.loads((tmp_path / "out" / str(TAHUN) / "18_02" / "index.json").read_text(encoding="utf-8"))
    assert index["tanpa_opd"] == without_opd + 3
    shutil.rmtree(tmp_path / "out")
