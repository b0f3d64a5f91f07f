"""The review queue: usulan the pipeline could not map with confidence, exported to Excel for planners,
corrected there, and imported back as verified mappings that override the model and train it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from reference import store
from reference.store import NOMENKLATUR_VERSIONS, version_for
from schemas import LEVELS, MAPPING_VERIFIED
from tasks.errors import SourceError
from tasks.map.context import RegionFrames, opd_kode_of, opd_nama_of, region_frames
from tasks.validate.domain import codes_in_force
from warehouse.bulk import upsert_rows, utcnow
from warehouse.models import TABLES

# Review file columns: (header, usulan column). The planner's answers follow, in the yellow columns.
QUEUE_COLUMNS = (
    ("ID Usulan", "id_usulan"),
    ("Tahun", "tahun"),
    ("Stream", "stream"),
    ("Level", "level"),
    ("Kecamatan", "nama_kecamatan"),
    ("Desa/Kelurahan", "nama_desa"),
    ("Lokasi", "lokasi"),
    ("Uraian Usulan", "uraian_usulan"),
    ("Permasalahan", "permasalahan"),
    ("Volume", "volume"),
    ("Satuan", "satuan"),
    ("Anggaran (Rp)", "anggaran"),
    ("OPD Tujuan Awal", "nama_opd_awal"),
    ("Saran Bidang", "saran_bidang"),
    ("Saran Sub Kegiatan", "saran_sub_kegiatan"),
    ("Saran OPD", "saran_opd_nama"),
    ("Bidang Alternatif", "kode_bidang_alternatif"),
    ("OPD Alternatif", "opd_alternatif"),
    ("Keyakinan", "mapping_confidence"),
    ("Alasan Review", "alasan_review"),
)
ANSWER_COLUMNS = ("Bidang Urusan (benar)", "Sub Kegiatan (benar)", "OPD (benar)", "Catatan", "Diperiksa oleh")
ANSWER_FIELDS = dict(
    zip(ANSWER_COLUMNS, ("kode_bidang_urusan", "kode_sub_kegiatan", "kode_opd", "catatan", "verified_by"))
)
SHEET = "Review"
INSTRUCTIONS = (
    "Petunjuk pengisian lembar Review",
    "",
    "1. Setiap baris adalah satu usulan yang belum dapat dipetakan dengan yakin oleh sistem, pada level (forum) "
    "tertinggi yang dicapainya.",
    "2. Baca Uraian Usulan, Permasalahan, Lokasi dan Anggaran; kolom Saran berisi usulan sistem, kolom Alternatif "
    "pilihan lain.",
    "3. Isi kolom kuning: Bidang Urusan (benar) wajib, pilih dari daftar; Sub Kegiatan (benar) boleh kosong; "
    "OPD (benar) pilih dari daftar, atau ketik nama, singkatan, atau kode SKPD.",
    "4. Baris yang kolom Bidang Urusan (benar)-nya kosong tidak diimpor. Jangan mengubah ID Usulan, Tahun, Stream "
    "dan Level.",
    "5. Simpan berkas, lalu jalankan perintah di bawah ini di folder proyek. Baris yang ditolak disebutkan nomor "
    "barisnya beserta alasannya; perbaiki lalu impor lagi.",
    "6. Koreksi berlaku untuk level usulan itu pada run berikutnya dan tidak mengubah keputusan forum.",
)


def _text_cell(cell, value) -> None:
    """A value that stays text in Excel: never a formula, whatever it starts with."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def read_verified(engine: sa.Engine, kode_pemda: str) -> pd.DataFrame:
    table = TABLES[MAPPING_VERIFIED.name]
    with engine.connect() as connection:
        frame = pd.read_sql(sa.select(table).where(table.c.kode_pemda == kode_pemda), connection)
    return MAPPING_VERIFIED.conform(frame)


def review_queue(engine: sa.Engine, tahun: int, kode_pemda: str) -> pd.DataFrame:
    """Unmapped usulan of the tahun, one row per usulan at the highest level it reached."""
    usulan = TABLES["usulan"]
    extra = ("kode_kecamatan", "kode_opd_awal", "saran_bidang_urusan", "saran_opd")
    columns = [usulan.c[c] for _, c in QUEUE_COLUMNS if c in usulan.c] + [usulan.c[c] for c in extra]
    with engine.connect() as connection:
        rows = pd.read_sql(
            sa.select(*columns).where(
                usulan.c.tahun == tahun, usulan.c.kode_pemda == kode_pemda, usulan.c.mapping_method.is_(None)
            ),
            connection,
        )
    rows["_order"] = rows.level.map({level: i for i, level in enumerate(LEVELS)})
    return rows.sort_values("_order").drop_duplicates(["stream", "id_usulan"], keep="last").drop(columns="_order")


def export_review(
    engine: sa.Engine, tahun: int, kode_pemda: str, out: Path, classifier=None, command: str | None = None
) -> int:
    """Write the review workbook (sheet Review, then Petunjuk with `command`, the line that imports it back,
    and the lists behind the drop-downs); returns the number of usulan in it."""
    queue = review_queue(engine, tahun, kode_pemda).sort_values(
        ["mapping_confidence", "id_usulan"], na_position="first"
    )
    nomenklatur = store.nomenklatur()
    nomenklatur = nomenklatur[nomenklatur.versi == version_for(NOMENKLATUR_VERSIONS, tahun).versi]
    names = nomenklatur.set_index("kode").nama
    names = names[~names.index.duplicated()]
    frames = region_frames([kode_pemda], tahun)

    def nama_of(kode: pd.Series) -> pd.Series:
        return opd_nama_of(frames, pd.Series(kode_pemda, index=kode.index), kode.astype("string"))

    saran_bidang = queue.saran_bidang_urusan.astype("string")
    saran_sub = queue.saran_sub_kegiatan.astype("string")
    if classifier is not None and len(queue):
        guess = classifier.predict(queue.uraian_usulan.reset_index(drop=True))
        saran_bidang = saran_bidang.fillna(pd.Series(guess.kode_bidang_urusan.to_numpy(), index=queue.index))
        saran_sub = saran_sub.fillna(pd.Series(guess.kode_sub_kegiatan.to_numpy(), index=queue.index))
        confidence = pd.Series(guess.confidence.round(2).to_numpy(), index=queue.index)
        queue["mapping_confidence"] = queue.mapping_confidence.fillna(confidence)
    queue["saran_bidang"] = (saran_bidang + " " + saran_bidang.map(names).fillna("")).str.strip()
    queue["saran_sub_kegiatan"] = saran_sub
    queue["saran_opd_nama"] = nama_of(queue.saran_opd)
    queue["nama_opd_awal"] = queue.nama_opd_awal.fillna(nama_of(queue.kode_opd_awal))
    bidang = nomenklatur[nomenklatur.tingkat == "bidang"][["kode", "nama"]].drop_duplicates("kode")
    master = frames.opd[["kode_skpd", "nama_skpd", "singkatan"]]

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    headers = [h for h, _ in QUEUE_COLUMNS] + list(ANSWER_COLUMNS)
    sheet.append(headers)
    for i, record in enumerate(queue.to_dict("records"), start=2):
        for j, (_, column) in enumerate(QUEUE_COLUMNS, start=1):
            value = record.get(column)
            _text_cell(sheet.cell(i, j), None if value is None or pd.isna(value) else value)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[1][len(QUEUE_COLUMNS) :]:
        cell.fill = PatternFill("solid", fgColor="FFF2CC")
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    for j, header in enumerate(headers, start=1):
        wide = header in ("Uraian Usulan", "Permasalahan", "Alasan Review", "Saran Bidang", "OPD (benar)")
        sheet.column_dimensions[get_column_letter(j)].width = 40 if wide else 16
    last = max(len(queue), 1) + 1

    help_sheet = workbook.create_sheet("Petunjuk")
    for line in (*INSTRUCTIONS, "", command or f"rkpd review import {out} --pemda {kode_pemda}"):
        help_sheet.append([line])
    help_sheet.column_dimensions["A"].width = 120
    help_sheet["A1"].font = Font(bold=True)

    lists = workbook.create_sheet("Daftar Bidang")
    lists.append(["Bidang Urusan", "Kode"])
    for kode, nama in bidang.itertuples(index=False):
        lists.append([f"{kode} {nama}", kode])
    opd_sheet = workbook.create_sheet("Daftar OPD")
    opd_sheet.append(["OPD", "Kode SKPD", "Singkatan"])
    for kode, nama, singkatan in master.itertuples(index=False):
        opd_sheet.append([nama, kode, None if pd.isna(singkatan) else singkatan])
    answer = {h: get_column_letter(len(QUEUE_COLUMNS) + k) for k, h in enumerate(ANSWER_COLUMNS, start=1)}
    for column, source, count in (
        (answer[ANSWER_COLUMNS[0]], "'Daftar Bidang'!$A$2:$A$", len(bidang)),
        (answer[ANSWER_COLUMNS[2]], "'Daftar OPD'!$A$2:$A$", len(master)),
    ):
        # a typed name, singkatan or kode is accepted too: the list proposes, it does not refuse
        choice = DataValidation(type="list", formula1=f"={source}{count + 1}", allow_blank=True, showErrorMessage=False)
        sheet.add_data_validation(choice)
        choice.add(f"{column}2:{column}{last}")
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    return len(queue)


@dataclass
class ImportResult:
    imported: int = 0
    problems: list[str] = field(default_factory=list)  # "row 7: ..." for rows not imported


def _was_queued(engine: sa.Engine, kode_pemda: str) -> set[tuple[int, str, str, str]]:
    """(tahun, stream, level, id_usulan) of every usulan row that waits for review or was corrected in one."""
    usulan = TABLES["usulan"]
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(usulan.c.tahun, usulan.c.stream, usulan.c.level, usulan.c.id_usulan).where(
                usulan.c.kode_pemda == kode_pemda,
                sa.or_(usulan.c.mapping_method.is_(None), usulan.c.mapping_method == "koreksi_planner"),
            )
        )
        return {(int(t), s, lv, i) for t, s, lv, i in rows}


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def import_review(engine: sa.Engine, path: Path, kode_pemda: str) -> ImportResult:
    """Read planners' answers; valid ones become verified mappings for their level, the others are named by row
    (in Indonesian). An OPD may be given by name, singkatan or kode SKPD; an id that was never in the review
    queue of the pemda is refused."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip/xml errors of its own
        raise SourceError(path, f"berkas tidak dapat dibuka sebagai Excel: {exc}") from None
    try:
        if SHEET not in book.sheetnames:
            raise SourceError(path, f"bukan berkas review: tidak ada lembar {SHEET!r}")
        rows = list(book[SHEET].iter_rows(values_only=True))
    finally:
        book.close()  # a read-only workbook keeps its file open until closed
    header = [_cell_text(h) for h in (rows[0] if rows else [])]
    needed = ("ID Usulan", "Tahun", "Stream", "Level", "Uraian Usulan", ANSWER_COLUMNS[0])
    missing = [h for h in needed if h not in header]
    if missing:
        raise SourceError(path, f"bukan berkas review: kolom {', '.join(missing)} tidak ada")
    at = {h: header.index(h) for h in header if h}
    queued = _was_queued(engine, kode_pemda)
    frames: dict[int, RegionFrames] = {}  # the pemda's OPD list of each tahun met
    result, good = ImportResult(), []
    for number, values in enumerate(rows[1:], start=2):
        row = {h: _cell_text(values[j]) if j < len(values) else "" for h, j in at.items()}
        if not row[ANSWER_COLUMNS[0]]:
            continue
        where = f"{Path(path).name} baris {number}"
        try:
            tahun = int(float(row["Tahun"]))
        except ValueError:
            result.problems.append(f"{where}: Tahun {row['Tahun']!r} bukan angka")
            continue
        if (tahun, row["Stream"], row["Level"], row["ID Usulan"]) not in queued:
            result.problems.append(
                f"{where}: ID Usulan {row['ID Usulan']!r} ({row['Stream']}, {row['Level']}, {tahun}) tidak pernah ada "
                f"di antrean review {kode_pemda}"
            )
            continue
        _, bidang_codes, sub_codes = codes_in_force(tahun)
        bidang = row[ANSWER_COLUMNS[0]].split()[0]
        sub = row.get(ANSWER_COLUMNS[1], "").split()[0] if row.get(ANSWER_COLUMNS[1]) else None
        typed_opd = row.get(ANSWER_COLUMNS[2], "")
        kode_opd = None
        opd = frames.setdefault(tahun, region_frames([kode_pemda], tahun))
        if typed_opd:
            given = pd.Series([typed_opd.split()[0]]), pd.Series([typed_opd])
            found = opd_kode_of(opd, pd.Series([kode_pemda]), *given).iloc[0]
            kode_opd = None if pd.isna(found) else str(found)
        if bidang not in bidang_codes:
            result.problems.append(f"{where}: bidang urusan '{bidang}' tidak ada dalam nomenklatur tahun {tahun}")
        elif sub and (sub not in sub_codes or not sub.startswith(bidang)):
            result.problems.append(f"{where}: sub kegiatan '{sub}' bukan sub kegiatan bidang {bidang} tahun {tahun}")
        elif typed_opd and kode_opd is None:
            result.problems.append(f"{where}: OPD '{typed_opd}' tidak dikenal di {kode_pemda}")
        elif kode_opd and bidang not in set(
            opd.opd.set_index("kode_skpd").loc[kode_opd, list(store.BIDANG_SLOTS)].dropna()
        ):
            result.problems.append(f"{where}: OPD '{typed_opd}' ({kode_opd}) tidak mengampu bidang {bidang}")
        else:
            good.append(
                {
                    "kode_pemda": kode_pemda,
                    "tahun": tahun,
                    "stream": row["Stream"],
                    "id_usulan": row["ID Usulan"],
                    "level": row["Level"],
                    "uraian_usulan": row["Uraian Usulan"],
                    "kode_bidang_urusan": bidang,
                    "kode_sub_kegiatan": sub,
                    "kode_opd": kode_opd,
                    "catatan": row.get("Catatan") or None,
                    "verified_by": row.get("Diperiksa oleh") or None,
                    "verified_at": utcnow(),
                    "source_file": Path(path).name,
                }
            )
    if good:
        upsert_rows(engine, MAPPING_VERIFIED, pd.DataFrame(good))
    result.imported = len(good)
    return result
