"""The review queue: usulan the pipeline could not map with confidence, exported to Excel for planners,
corrected there, and imported back as verified mappings that override the model and train it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from reference import store
from reference.store import NOMENKLATUR_VERSIONS, version_for
from schemas import LEVELS, MAPPING_VERIFIED
from tasks.errors import SourceError
from tasks.extract.readers import read_excel
from tasks.validate.domain import codes_in_force
from warehouse.bulk import upsert_rows, utcnow
from warehouse.models import TABLES

# Review file columns: (header, usulan column or None for the planner's answer)
QUEUE_COLUMNS = (
    ("ID Usulan", "id_usulan"),
    ("Tahun", "tahun"),
    ("Stream", "stream"),
    ("Level", "level"),
    ("Kecamatan", "nama_kecamatan"),
    ("Desa/Kelurahan", "nama_desa"),
    ("Uraian Usulan", "uraian_usulan"),
    ("Saran Bidang", "saran_bidang"),
    ("Saran Sub Kegiatan", "saran_sub_kegiatan"),
    ("Keyakinan", "mapping_confidence"),
)
ANSWER_COLUMNS = ("Bidang Urusan (benar)", "Sub Kegiatan (benar)", "Kode OPD (benar)", "Catatan", "Diperiksa oleh")
ANSWER_FIELDS = dict(
    zip(ANSWER_COLUMNS, ("kode_bidang_urusan", "kode_sub_kegiatan", "kode_opd", "catatan", "verified_by"))
)


def read_verified(engine: sa.Engine, kode_pemda: str) -> pd.DataFrame:
    table = TABLES[MAPPING_VERIFIED.name]
    with engine.connect() as connection:
        frame = pd.read_sql(sa.select(table).where(table.c.kode_pemda == kode_pemda), connection)
    return MAPPING_VERIFIED.conform(frame)


def review_queue(engine: sa.Engine, tahun: int, kode_pemda: str) -> pd.DataFrame:
    """Unmapped usulan of the tahun, one row per usulan at the highest level it reached."""
    usulan = TABLES["usulan"]
    columns = [usulan.c[c] for _, c in QUEUE_COLUMNS if c in usulan.c] + [usulan.c.kode_kecamatan]
    with engine.connect() as connection:
        rows = pd.read_sql(
            sa.select(*columns).where(
                usulan.c.tahun == tahun, usulan.c.kode_pemda == kode_pemda, usulan.c.mapping_method.is_(None)
            ),
            connection,
        )
    rows["_order"] = rows.level.map({level: i for i, level in enumerate(LEVELS)})
    return rows.sort_values("_order").drop_duplicates(["stream", "id_usulan"], keep="last").drop(columns="_order")


def export_review(engine: sa.Engine, tahun: int, kode_pemda: str, out: Path, classifier=None) -> int:
    """Write the review workbook; returns the number of usulan in it."""
    queue = review_queue(engine, tahun, kode_pemda).sort_values(
        ["mapping_confidence", "id_usulan"], na_position="first"
    )
    nomenklatur = store.nomenklatur()
    nomenklatur = nomenklatur[nomenklatur.versi == version_for(NOMENKLATUR_VERSIONS, tahun).versi]
    names = nomenklatur.set_index("kode").nama
    if classifier is not None and len(queue):
        guess = classifier.predict(queue.uraian_usulan.reset_index(drop=True))
        queue["saran_bidang"] = (guess.kode_bidang_urusan + " " + guess.kode_bidang_urusan.map(names).fillna("")).values
        queue["saran_sub_kegiatan"] = guess.kode_sub_kegiatan.values
        queue["mapping_confidence"] = guess.confidence.round(2).values
    bidang = nomenklatur[nomenklatur.tingkat == "bidang"][["kode", "nama"]]
    opd = store.opd(kode_pemda)[["kode_skpd", "nama_skpd", "bidang_urusan_1", "bidang_urusan_2", "bidang_urusan_3"]]

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Review"
    headers = [h for h, _ in QUEUE_COLUMNS] + list(ANSWER_COLUMNS)
    sheet.append(headers)
    for record in queue.itertuples(index=False):
        row = record._asdict()
        sheet.append(
            [None if pd.isna(row.get(c)) else row.get(c) for _, c in QUEUE_COLUMNS] + [None] * len(ANSWER_COLUMNS)
        )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for cell in sheet[1][len(QUEUE_COLUMNS) :]:
        cell.fill = PatternFill("solid", fgColor="FFF2CC")
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    for column, width in zip("ABCDEFGHIJKLMNO", (14, 7, 11, 10, 18, 20, 50, 40, 20, 10, 20, 20, 24, 30, 16)):
        sheet.column_dimensions[column].width = width
    lists = workbook.create_sheet("Daftar Bidang")
    lists.append(["Kode", "Bidang Urusan"])
    for kode, nama in bidang.itertuples(index=False):
        lists.append([kode, nama])
    choice = DataValidation(type="list", formula1=f"='Daftar Bidang'!$A$2:$A${len(bidang) + 1}", allow_blank=True)
    sheet.add_data_validation(choice)
    choice.add(f"K2:K{max(len(queue), 1) + 1}")
    opd_sheet = workbook.create_sheet("Daftar OPD")
    opd_sheet.append(["Kode SKPD", "OPD", "Bidang 1", "Bidang 2", "Bidang 3"])
    for record in opd.itertuples(index=False):
        opd_sheet.append([None if pd.isna(v) else v for v in record])
    out.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(out)
    return len(queue)


@dataclass
class ImportResult:
    imported: int = 0
    problems: list[str] = field(default_factory=list)  # "row 7: ..." for rows not imported


def import_review(engine: sa.Engine, path: Path, kode_pemda: str) -> ImportResult:
    """Read planners' answers; valid ones become verified mappings, invalid ones are named by row."""
    raw = read_excel(path)
    cells = raw.cells
    missing = [
        h for h in ("ID Usulan", "Tahun", "Stream", "Level", "Uraian Usulan", ANSWER_COLUMNS[0]) if h not in cells
    ]
    if missing:
        raise SourceError(path, f"not a review file: missing column(s) {', '.join(missing)}")
    answered = cells[cells[ANSWER_COLUMNS[0]].str.strip() != ""]
    result = ImportResult()
    opd = store.opd(kode_pemda).set_index("kode_skpd")
    good = []
    for index, row in answered.iterrows():
        where = f"{Path(path).name} row {raw.source_row[index]}"
        tahun = int(float(row["Tahun"]))
        _, bidang_codes, sub_codes = codes_in_force(tahun)
        bidang = row[ANSWER_COLUMNS[0]].split()[0]
        sub = row[ANSWER_COLUMNS[1]].split()[0] if row[ANSWER_COLUMNS[1]] else None
        kode_opd = row[ANSWER_COLUMNS[2]].split()[0] if row[ANSWER_COLUMNS[2]] else None
        if bidang not in bidang_codes:
            result.problems.append(f"{where}: bidang urusan '{bidang}' is not in the nomenclature of {tahun}")
        elif sub and (sub not in sub_codes or not sub.startswith(bidang)):
            result.problems.append(f"{where}: sub kegiatan '{sub}' is not a sub kegiatan of bidang {bidang} in {tahun}")
        elif kode_opd and (
            kode_opd not in opd.index
            or bidang not in set(opd.loc[kode_opd, ["bidang_urusan_1", "bidang_urusan_2", "bidang_urusan_3"]])
        ):
            result.problems.append(f"{where}: OPD '{kode_opd}' is not an OPD of {kode_pemda} carrying bidang {bidang}")
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
