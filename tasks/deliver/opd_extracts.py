"""Per-OPD extracts of a tahun: what each Perangkat Daerah receives from the Musrenbang of its pemda, ready to
read and print in Excel.

For every OPD of the pemda's master that carries usulan (or has usulan waiting for review), one folder

    <out_dir>/<tahun>/<kode_pemda 18_02>/<singkatan>_<kode_skpd>/      e.g. DPUPR_1_03_0_00_0_00_01_0000
        usulan_<folder>_<tahun>.xlsx    five sheets: Usulan Diterima, Usulan Ditolak, Per Sub Kegiatan, Ringkasan,
                                        Dalam Review; each with a title block (OPD, pemda, run, date WIB), a
                                        header repeated on every printed page, a total row, landscape fitted to
                                        the page width; labels instead of codes (status, jenis usulan, level,
                                        metode pemetaan), rupiah and whole volumes without a decimal point
        usulan_<folder>_<tahun>.csv     the usulan of both first sheets: UTF-8 with BOM, ';', decimal ',', labels;
                                        no cell starts a spreadsheet formula
        usulan_<folder>_<tahun>.parquet the same rows, contract column names and codes, anggaran decimal
        manifest.json                   run, versions, and name / rows / sha256 of every file

and `<out_dir>/<tahun>/<kode_pemda>/index.json` listing the folders. Folder and file names hold only letters,
digits, '-' and '_' (the singkatan is cleaned, the kode checked). Personal data never leaves the warehouse: the
query selects an allow-list of columns that excludes every `USULAN.personal_columns` (checked at import).

Grain of the extract: one row per usulan, at the highest forum level it reached (the row no higher-level
row descends from: same id_usulan, or named by a higher row's id_usulan_asal). It belongs to the OPD that
carries it at that level (`kode_opd_akhir`). An usulan the desa forum rejected reached no OPD and is left out
(index.json counts them). "Dalam Review" lists the usulan still waiting for a planner whose suggested OPD
(`saran_opd`) or OPD tujuan awal is this OPD (they are in no OPD's main sheet until a planner maps them).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
import xlsxwriter

from reference import store
from schemas import LEVELS, USULAN
from schemas.usulan import LEVEL_LABELS
from tasks.deliver.safe import neutralise_formula

# --- columns -----------------------------------------------------------------------------------------
# (contract column, Indonesian header, kind). The order is the order of the sheet, CSV and parquet.
# kind: code (text, never a number), text, money, number, int, ratio, date, and the codes people read as labels:
# level, stream, status, method (the parquet file keeps the codes).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id_usulan", "ID Usulan", "code"),
    ("stream", "Jenis Usulan", "stream"),
    ("level", "Level Terakhir", "level"),
    ("kode_kecamatan", "Kode Kecamatan", "code"),
    ("nama_kecamatan", "Kecamatan", "text"),
    ("kode_desa", "Kode Desa/Kelurahan", "code"),
    ("nama_desa", "Desa/Kelurahan", "text"),
    ("lokasi", "Lokasi", "text"),
    ("latitude", "Lintang", "number"),
    ("longitude", "Bujur", "number"),
    ("prioritas", "Prioritas", "int"),
    ("uraian_usulan", "Uraian Usulan", "text"),
    ("permasalahan", "Permasalahan", "text"),
    ("id_kamus", "ID Kamus", "code"),
    ("nama_kamus", "Kamus Usulan", "text"),
    ("volume", "Volume", "number"),
    ("satuan", "Satuan", "text"),
    ("anggaran", "Anggaran (Rp)", "money"),
    ("status", "Status", "status"),
    ("alasan", "Alasan", "text"),
    ("tanggal_usul", "Tanggal Usul", "date"),
    ("kode_bidang_urusan", "Kode Bidang Urusan", "code"),
    ("kode_sub_kegiatan", "Kode Sub Kegiatan", "code"),
    ("nama_sub_kegiatan", "Sub Kegiatan", "text"),
    ("kode_opd_awal", "Kode OPD Awal", "code"),
    ("kode_opd_akhir", "Kode OPD", "code"),
    ("mapping_method", "Metode Pemetaan", "method"),
    ("mapping_confidence", "Keyakinan Pemetaan", "ratio"),
)
REVIEW_COLUMNS = (("saran_opd", "Saran OPD", "code"), ("alasan_review", "Alasan Review", "text"))
HEADERS = {name: header for name, header, _ in (*COLUMNS, *REVIEW_COLUMNS)}
KINDS = {name: kind for name, _, kind in (*COLUMNS, *REVIEW_COLUMNS)}
LABELS = {
    "level": LEVEL_LABELS,
    "stream": {"musrenbang": "Musrenbang (aspirasi masyarakat)", "pokir": "Pokir DPRD"},
    "status": {"diterima": "Diterima", "ditolak": "Ditolak", "diusulkan": "Diusulkan"},
    "method": {
        "sumber": "Ditetapkan forum (sumber)",
        "koreksi_planner": "Koreksi planner",
        "kamus": "Kamus usulan",
        "kamus_fuzzy": "Kamus usulan (kemiripan teks)",
        "klasifikasi": "Model teks",
    },
}
# Read from the warehouse: the exported columns that are stored, plus lineage (not exported).
_DERIVED = {"nama_sub_kegiatan"}
_QUERY_COLUMNS = [c for c, _, _ in COLUMNS if c not in _DERIVED] + ["id_usulan_asal", "saran_opd", "alasan_review"]
_PERSONAL = set(USULAN.personal_columns)
assert not _PERSONAL & set(_QUERY_COLUMNS) and not _PERSONAL & set(HEADERS), "personal data in the extract columns"
assert set(_QUERY_COLUMNS) <= {c.name for c in USULAN.columns}, "extract column missing from the contract"

SHEET_ACCEPTED = "Usulan Diterima"
SHEET_REJECTED = "Usulan Ditolak"
SHEET_SUB = "Per Sub Kegiatan"
SHEET_SUMMARY = "Ringkasan"
SHEET_REVIEW = "Dalam Review"
SHEETS = (SHEET_ACCEPTED, SHEET_REJECTED, SHEET_SUB, SHEET_SUMMARY, SHEET_REVIEW)
SHEET_NOTES = {
    SHEET_ACCEPTED: "Usulan yang dibawa OPD ini, pada level tertinggi yang dicapainya, tidak ditolak di level itu.",
    SHEET_REJECTED: "Usulan yang ditolak forum kecamatan atau di atasnya, pada level penolakannya "
    "(usulan yang ditolak di musrenbang desa tidak sampai ke OPD dan tidak dicantumkan).",
    SHEET_SUB: "Usulan diterima dan ditolak per sub kegiatan (nomenklatur tahun ini).",
    SHEET_SUMMARY: "Usulan, diterima dan ditolak per level dan jenis usulan, dari baris OPD ini di setiap level.",
    SHEET_REVIEW: "Usulan yang menunggu review planner dan disarankan ke OPD ini atau ditujukan awal ke OPD ini.",
}
HEADER_ROW = 5  # 0-based: three title lines, the sheet's note and a blank line above the header

JAKARTA = ZoneInfo("Asia/Jakarta")
RUPIAH_FORMAT = '"Rp" #,##0'
MAX_WIDTH = 60
_CODE_NAME = re.compile(r"^[0-9A-Za-z_]+$")
_NAME_PART = re.compile(r"[^0-9A-Za-z]+")
_RANK = {level: i for i, level in enumerate(LEVELS)}


def _rupiah(value) -> str:
    """Rp 1.234.567 (Indonesian thousands separator)."""
    return "Rp " + f"{float(value or 0):,.0f}".replace(",", ".")


def code_name(kode: str) -> str:
    """A folder/file name from a code: dots become underscores; anything but code characters is refused."""
    name = str(kode).replace(".", "_")
    if not _CODE_NAME.match(name):
        raise ValueError(f"{kode!r} is not a code usable as a file name")
    return name


def folder_name(singkatan, kode: str) -> str:
    """'DPUPR_1_03_0_00_0_00_01_0000': the OPD's singkatan (letters and digits only, at most 30) and its kode; the
    kode alone when it has no singkatan."""
    short = _NAME_PART.sub("-", str(singkatan or "") if not pd.isna(singkatan) else "").strip("-")[:30]
    return f"{short}_{code_name(kode)}" if short else code_name(kode)


# --- reading -----------------------------------------------------------------------------------------
def _read_usulan(engine: sa.Engine, tahun: int, kode_pemda: str) -> pd.DataFrame:
    cols = ", ".join(_QUERY_COLUMNS)
    with engine.connect() as c:
        frame = pd.read_sql(
            sa.text(f"SELECT {cols} FROM usulan WHERE tahun = :t AND kode_pemda = :p"),
            c,
            params={"t": tahun, "p": kode_pemda},
        )
    for name in _QUERY_COLUMNS:
        kind = KINDS.get(name, "code")
        if kind in ("money", "number", "ratio"):
            frame[name] = pd.to_numeric(
                frame[name].map(lambda v: float(v) if isinstance(v, Decimal) else v), errors="coerce"
            ).astype("float64")
        elif kind == "int":
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("Int64")
        elif kind == "date":
            dates = pd.to_datetime(
                frame[name].map(lambda v: None if v is None else str(v)[:10]), errors="coerce", format="%Y-%m-%d"
            )
            frame[name] = [None if pd.isna(v) else v.date() for v in dates]
        else:
            frame[name] = frame[name].astype("object").where(frame[name].notna(), None)
    return frame


def highest_level(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep, per usulan, the row of the highest level it reached: drop every row a higher-level row of
    the same stream descends from (same id_usulan, or named by its id_usulan_asal)."""
    if frame.empty:
        return frame
    rank = frame.level.map(_RANK)
    by_id = pd.DataFrame({"stream": frame.stream, "id": frame.id_usulan, "rank": rank})
    by_asal = pd.DataFrame({"stream": frame.stream, "id": frame.id_usulan_asal, "rank": rank}).dropna(subset=["id"])
    top = pd.concat([by_id, by_asal]).groupby(["stream", "id"])["rank"].max()
    key = pd.MultiIndex.from_arrays([frame.stream, frame.id_usulan])
    above = pd.Series(top.reindex(key).to_numpy(), index=frame.index)
    return frame[~(above > rank)]


@dataclass(frozen=True)
class _Names:
    kecamatan: dict[str, str]
    desa: dict[str, str]
    sub_kegiatan: dict[str, str]
    opd: pd.DataFrame
    nomenklatur_versi: str
    wilayah_versi: str
    pemda: str | None = None


def _names(tahun: int, kode_pemda: str) -> _Names:
    wv = store.version_for(store.WILAYAH_VERSIONS, tahun)
    nv = store.version_for(store.NOMENKLATUR_VERSIONS, tahun)
    all_w = store.wilayah()
    all_w = all_w[all_w.versi == wv.versi]
    w = all_w[all_w.kode.str.startswith(kode_pemda + ".")]
    n = store.nomenklatur()
    n = n[(n.versi == nv.versi) & (n.tingkat == "sub_kegiatan")]
    opd = store.opd(kode_pemda, tahun)  # the pemda's OPD list in force for the tahun
    as_dict = lambda f: dict(zip(f.kode.astype(str), f.nama.astype(str)))  # noqa: E731
    pemda = all_w[all_w.kode == kode_pemda].nama
    return _Names(
        as_dict(w[w.tingkat == "kecamatan"]),
        as_dict(w[w.tingkat == "desa"]),
        as_dict(n),
        opd,
        nv.versi,
        wv.versi,
        str(pemda.iloc[0]) if len(pemda) else None,
    )


def _with_names(frame: pd.DataFrame, names: _Names) -> pd.DataFrame:
    """Official names in force for the tahun (the source's spelling where a code has none)."""
    out = frame.copy()
    out["nama_kecamatan"] = [
        names.kecamatan.get(k, s) if k else s for k, s in zip(out.kode_kecamatan, out.nama_kecamatan)
    ]
    out["nama_desa"] = [names.desa.get(k, s) if k else s for k, s in zip(out.kode_desa, out.nama_desa)]
    out["nama_sub_kegiatan"] = [names.sub_kegiatan.get(k) if k else None for k in out.kode_sub_kegiatan]
    return out


def _sorted_rows(frame: pd.DataFrame, extra: list[str] | None = None) -> pd.DataFrame:
    return frame.sort_values(
        ["kode_kecamatan", "kode_desa", "prioritas", "id_usulan"], na_position="last", kind="mergesort"
    )[[c for c, _, _ in COLUMNS] + list(extra or [])].reset_index(drop=True)


# --- sheets ------------------------------------------------------------------------------------------
def _measures(group: pd.DataFrame) -> dict:
    acc, rej = group.status == "diterima", group.status == "ditolak"
    return {
        "Jumlah Usulan": len(group),
        "Anggaran Usulan (Rp)": round(group.anggaran.sum(), 2),
        "Jumlah Diterima": int(acc.sum()),
        "Anggaran Diterima (Rp)": round(group.anggaran[acc].sum(), 2),
        "Jumlah Ditolak": int(rej.sum()),
        "Anggaran Ditolak (Rp)": round(group.anggaran[rej].sum(), 2),
    }


def per_sub_kegiatan(rows: pd.DataFrame) -> pd.DataFrame:
    """The extract's rows grouped by sub kegiatan (name from the nomenclature of the tahun)."""
    if rows.empty:
        return pd.DataFrame(
            columns=[
                "Kode Sub Kegiatan",
                "Sub Kegiatan",
                "Jumlah Usulan",
                "Anggaran (Rp)",
                "Jumlah Diterima",
                "Anggaran Diterima (Rp)",
            ]
        )
    out = []
    for (kode, nama), g in rows.groupby(
        [rows.kode_sub_kegiatan.fillna(""), rows.nama_sub_kegiatan.fillna("")], sort=True
    ):
        m = _measures(g)
        out.append(
            {
                "Kode Sub Kegiatan": kode or None,
                "Sub Kegiatan": nama or ("(belum dipetakan / not mapped)" if not kode else None),
                "Jumlah Usulan": m["Jumlah Usulan"],
                "Anggaran (Rp)": m["Anggaran Usulan (Rp)"],
                "Jumlah Diterima": m["Jumlah Diterima"],
                "Anggaran Diterima (Rp)": m["Anggaran Diterima (Rp)"],
            }
        )
    return pd.DataFrame(out)


def summary(all_levels: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Usulan, diterima and ditolak (count, anggaran) per level and stream of the OPD's rows at each level
    (the v_rekap_opd grain), a subtotal per level when it has several streams, and the usulan of the extract."""
    out = []
    for level in LEVELS:
        at = all_levels[all_levels.level == level]
        if at.empty:
            continue
        streams = sorted(at.stream.unique())
        for stream in streams:
            label = LABELS["stream"].get(stream, stream)
            out.append({"Level": LEVEL_LABELS[level], "Jenis Usulan": label, **_measures(at[at.stream == stream])})
        if len(streams) > 1:
            out.append({"Level": LEVEL_LABELS[level], "Jenis Usulan": "semua", **_measures(at)})
    out.append({"Level": "Total usulan (level terakhir)", "Jenis Usulan": "semua", **_measures(rows)})
    return pd.DataFrame(out)


# --- writers -----------------------------------------------------------------------------------------
def _is_blank(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value) or value is pd.NaT


def _shown(name: str, values: list) -> list:
    """The values of column `name` as the sheet/CSV shows them: labels for codes people read, confidence to two
    decimals, None for a blank."""
    kind = KINDS.get(name)
    if kind in LABELS:
        labels = LABELS[kind]
        return [None if _is_blank(v) else labels.get(v, v) for v in values]
    if kind == "ratio":
        return [None if _is_blank(v) else round(float(v), 2) for v in values]
    return [None if _is_blank(v) else v for v in values]


def _sheet_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with Indonesian headers and displayed values (labels, rounded confidence)."""
    out = pd.DataFrame({HEADERS[c]: _shown(c, rows[c].tolist()) for c in rows.columns}, dtype=object)
    return out if len(rows) else pd.DataFrame(columns=[HEADERS[c] for c in rows.columns])


def _cell_format(kind: str, value, fmt: dict):
    if kind == "number" and float(value).is_integer():
        return fmt["whole"]  # 75, not "75."
    return fmt.get(kind)


def _write_sheet(book, name: str, frame: pd.DataFrame, kinds: dict[str, str], fmt: dict, title: list[str]) -> None:
    """A print-ready sheet: a title block, a bold header repeated on every printed page, typed cells, a total
    row, widths fitted to the content, landscape and fitted to the page width."""
    ws = book.add_worksheet(name)
    for i, line in enumerate([*title, SHEET_NOTES.get(name, "")]):
        ws.write_string(i, 0, line, fmt["title"] if i == 0 else fmt["note"])
    top = HEADER_ROW
    widths = [len(str(c)) for c in frame.columns]
    for j, column in enumerate(frame.columns):
        ws.write_string(top, j, str(column), fmt["header"])
    column_kinds = [kinds.get(c, "text") for c in frame.columns]
    for i, record in enumerate(frame.itertuples(index=False, name=None), start=top + 1):
        for j, value in enumerate(record):
            kind = column_kinds[j]
            if _is_blank(value):
                ws.write_blank(i, j, None, fmt.get(kind))
                continue
            if kind in ("money", "number", "int", "ratio"):
                ws.write_number(i, j, float(value), _cell_format(kind, value, fmt))
                shown = (
                    f"Rp {float(value):,.0f}"
                    if kind == "money"
                    else f"{float(value):.2f}"
                    if kind == "ratio"
                    else f"{float(value):,.6f}".rstrip("0").rstrip(".")
                )
            elif kind == "date":
                ws.write_datetime(i, j, datetime(value.year, value.month, value.day), fmt["date"])
                shown = "2024-01-01"
            else:  # codes and text stay text: never let a code become a number or a date
                ws.write_string(i, j, str(value), fmt.get(kind))
                shown = str(value)
            widths[j] = max(widths[j], len(shown))
    last = top + len(frame)
    total = last + 1
    ws.write_string(total, 0, f"Total ({len(frame)} baris)", fmt["total"])
    for j, column in enumerate(frame.columns):
        if j and (column_kinds[j] == "money" or str(column).startswith("Jumlah")):
            values = pd.to_numeric(frame[column], errors="coerce")
            ws.write_number(total, j, float(values.sum()), fmt["total_" + column_kinds[j]])
    ws.freeze_panes(top + 1, 0)
    ws.autofilter(top, 0, max(last, top + 1), len(frame.columns) - 1)
    ws.repeat_rows(top)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # one page wide, as many pages long as needed
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&L&A&RHalaman &P dari &N")
    for j, width in enumerate(widths):
        ws.set_column(j, j, min(width + 2, MAX_WIDTH))


def _header_kinds(frame: pd.DataFrame) -> dict[str, str]:
    kinds = {HEADERS[c]: KINDS[c] for c in HEADERS}
    for column in frame.columns:
        if "(Rp)" in column:
            kinds[column] = "money"
        elif column.startswith("Jumlah"):
            kinds[column] = "int"
        elif column.startswith("Kode"):
            kinds[column] = "code"
    return kinds


def write_xlsx(path: Path, sheets: dict[str, pd.DataFrame], title: list[str] | None = None) -> None:
    book = xlsxwriter.Workbook(
        str(path),
        {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    fmt = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "note": book.add_format({"italic": True, "font_color": "#44546A"}),
        "header": book.add_format({"bold": True, "bg_color": "#DDE7F0", "border": 1, "text_wrap": False}),
        "total": book.add_format({"bold": True, "top": 1}),
        "total_money": book.add_format({"bold": True, "top": 1, "num_format": RUPIAH_FORMAT}),
        "total_int": book.add_format({"bold": True, "top": 1, "num_format": "#,##0"}),
        "money": book.add_format({"num_format": RUPIAH_FORMAT}),
        "number": book.add_format({"num_format": "#,##0.##"}),
        "whole": book.add_format({"num_format": "#,##0"}),
        "int": book.add_format({"num_format": "0"}),
        "ratio": book.add_format({"num_format": "0.00"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "code": book.add_format({"num_format": "@"}),
    }
    for name, frame in sheets.items():
        _write_sheet(book, name, frame, _header_kinds(frame), fmt, title or [name, ""])
    book.close()


def _csv_text(kind: str, value) -> str | None:
    """Numbers with a decimal comma (what Excel in an Indonesian locale reads); whole numbers without."""
    if _is_blank(value):
        return None
    if kind in ("money", "number", "ratio", "int"):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return (f"{v:.2f}" if kind == "money" else repr(v)).replace(".", ",")
    if kind == "date":
        return value.isoformat()
    return neutralise_formula(str(value))


def write_csv(path: Path, rows: pd.DataFrame) -> None:
    shown = _sheet_frame(rows)
    kinds = _header_kinds(shown)
    text = pd.DataFrame(
        {h: [_csv_text(kinds.get(h, "text"), v) for v in shown[h].tolist()] for h in shown.columns}, dtype=object
    )
    text.to_csv(path, sep=";", index=False, encoding="utf-8-sig", lineterminator="\r\n")


_ARROW = {
    "code": pa.string(),
    "text": pa.string(),
    "level": pa.string(),
    "stream": pa.string(),
    "status": pa.string(),
    "method": pa.string(),
    "number": pa.float64(),
    "ratio": pa.float64(),
    "int": pa.int32(),
    "money": pa.decimal128(18, 2),
    "date": pa.date32(),
}


def write_parquet(path: Path, rows: pd.DataFrame) -> None:
    """Contract column names (machine readers), codes as strings, anggaran as decimal(18,2)."""
    arrays, fields = [], []
    for name in rows.columns:
        kind = KINDS[name]
        values = [None if _is_blank(v) else v for v in rows[name].tolist()]
        if kind == "money":
            values = [None if v is None else Decimal(f"{float(v):.2f}") for v in values]
        elif kind == "int":
            values = [None if v is None else int(v) for v in values]
        elif kind in ("code", "text", *LABELS):
            values = [None if v is None else str(v) for v in values]
        arrays.append(pa.array(values, type=_ARROW[kind]))
        fields.append(pa.field(name, _ARROW[kind], metadata={"header": HEADERS[name]}))
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pagu(engine: sa.Engine, tahun: int, kode_pemda: str) -> pd.DataFrame:
    """Per OPD with a pagu indikatif for the tahun: the pagu and the anggaran accepted at the Musrenbang
    kab/kota against it (v_pagu_opd), indexed by kode_opd."""
    with engine.connect() as c:
        return pd.read_sql(
            sa.text(
                "SELECT kode_opd, pagu, anggaran_diterima, share_of_pagu, over_pagu FROM v_pagu_opd "
                "WHERE tahun = :t AND kode_pemda = :p AND level = 'kabkota' AND pagu IS NOT NULL"
            ),
            c,
            params={"t": tahun, "p": kode_pemda},
        ).set_index("kode_opd")


def pagu_line(pagu: pd.Series | None, on_template: tuple[str, ...]) -> str:
    """The title line on an OPD's ceiling (`pagu`: its row of `_pagu`, None without one) and its use at the
    Musrenbang kab/kota and, when the pemda runs on the template's OPD master or kamus, that it does."""
    if pagu is not None:
        used = float(pagu.anggaran_diterima) / float(pagu.pagu) if float(pagu.pagu) else None
        share = f" ({used * 100:.1f}% dari pagu)".replace(".", ",") if used is not None else ""
        line = (
            f"Pagu indikatif {_rupiah(pagu.pagu)} · diterima di Musrenbang kab/kota {_rupiah(pagu.anggaran_diterima)}"
            f"{share}{' · MELEBIHI PAGU' if pagu.over_pagu == 1 else ''}"
        )
    else:
        line = "Pagu indikatif OPD ini belum diimpor untuk tahun ini"
    said = {"opd": "master OPD", "kamus": "kamus usulan"}
    if on_template:
        template = " dan ".join(said[name] for name in on_template)
        line += f" · {template} memakai template {store.TEMPLATE_PEMDA}, bukan milik pemda"
    return line


def _latest_run(engine: sa.Engine, tahun: int) -> str | None:
    with engine.connect() as c:
        return c.execute(
            sa.text("SELECT run_id FROM etl_run WHERE tahun = :t ORDER BY started_at DESC"), {"t": tahun}
        ).scalar()


# --- the extracts ------------------------------------------------------------------------------------
def write_opd_extracts(
    engine: sa.Engine, tahun: int, kode_pemda: str, out_dir: Path, run_id: str | None = None
) -> list[dict]:
    """Write the extract folder of every OPD of `kode_pemda`'s master that has usulan in `tahun`, and the
    pemda's index.json; return the manifests. The pemda folder is rebuilt as a whole and swapped in at the
    end, so a reader never sees a half-written set and OPDs without usulan any more do not linger."""
    tahun = int(tahun)
    pemda_name = code_name(kode_pemda)
    run_id = run_id or _latest_run(engine, tahun)
    names = _names(tahun, kode_pemda)
    pagu = _pagu(engine, tahun, kode_pemda)
    on_template = store.reference_status(kode_pemda, tahun).on_template
    all_levels = _with_names(_read_usulan(engine, tahun, kode_pemda), names)
    top = highest_level(all_levels)
    # What reached an OPD: an usulan's row at the highest level it reached, unless the desa forum rejected it there.
    rejected_at_desa = (top.level == "desa") & (top.status == "ditolak")
    reached = top[~rejected_at_desa]
    # The review queue's grain (tasks/review.review_queue): unmapped rows, each usulan at the highest level it is
    # unmapped at; listed under the OPD suggested for it and under the OPD first targeted.
    unmapped = highest_level(all_levels[all_levels.mapping_method.isna()])
    review_opd = pd.concat([unmapped.saran_opd, unmapped.kode_opd_awal])

    master = names.opd.sort_values("kode_skpd")
    carried = set(reached.kode_opd_akhir.dropna()) | set(review_opd.dropna())
    created = datetime.now(UTC).replace(microsecond=0)
    created_at = created.isoformat()
    pemda_label = f"{names.pemda} ({kode_pemda})" if names.pemda else kode_pemda

    final = Path(out_dir) / str(tahun) / pemda_name
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{pemda_name}.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    manifests, index_entries = [], []
    empty = all_levels.iloc[:0]
    reached_by_opd = dict(list(reached.groupby("kode_opd_akhir", sort=False)))
    levels_by_opd = dict(list(all_levels.groupby("kode_opd_akhir", sort=False)))
    try:
        for opd in master.itertuples(index=False):
            kode = str(opd.kode_skpd)
            if kode not in carried:
                continue
            name = folder_name(opd.singkatan, kode)
            folder = staging / name
            folder.mkdir()
            rows = _sorted_rows(reached_by_opd.get(kode, empty))
            accepted, rejected = rows[rows.status != "ditolak"], rows[rows.status == "ditolak"]
            mine = unmapped[(unmapped.saran_opd == kode) | (unmapped.kode_opd_awal == kode)]
            opd_review = _sorted_rows(mine, extra=[c for c, _, _ in REVIEW_COLUMNS])
            opd_pagu = pagu.loc[kode] if kode in pagu.index else None
            levels_of_opd = levels_by_opd.get(kode, empty)
            stem = f"usulan_{name}_{tahun}"
            sheets = {
                SHEET_ACCEPTED: _sheet_frame(accepted),
                SHEET_REJECTED: _sheet_frame(rejected),
                SHEET_SUB: per_sub_kegiatan(rows),
                SHEET_SUMMARY: summary(levels_of_opd, rows),
                SHEET_REVIEW: _sheet_frame(opd_review),
            }
            title = [
                f"Usulan Musrenbang untuk RKPD {tahun}: {opd.nama_skpd}",
                f"Pemda {pemda_label} · kode SKPD {kode} · run {run_id or '-'} · dibuat "
                f"{created.astimezone(JAKARTA):%d-%m-%Y %H:%M} WIB · {_rupiah(accepted.anggaran.sum())} diterima, "
                f"{_rupiah(rejected.anggaran.sum())} ditolak",
                pagu_line(opd_pagu, on_template),
            ]
            write_xlsx(folder / f"{stem}.xlsx", sheets, title)
            write_csv(folder / f"{stem}.csv", rows)
            write_parquet(folder / f"{stem}.parquet", rows)
            files = [
                {"name": f"{stem}.xlsx", "rows": len(rows), "sheets": {k: len(v) for k, v in sheets.items()}},
                {"name": f"{stem}.csv", "rows": len(rows)},
                {"name": f"{stem}.parquet", "rows": len(rows)},
            ]
            for entry in files:
                entry["sha256"] = sha256(folder / entry["name"])
                entry["bytes"] = (folder / entry["name"]).stat().st_size
            manifest = {
                "run_id": run_id,
                "tahun": tahun,
                "kode_pemda": kode_pemda,
                "kode_skpd": kode,
                "nama_skpd": str(opd.nama_skpd),
                "singkatan": None if pd.isna(opd.singkatan) else str(opd.singkatan),
                "folder": name,
                "sotk_tahun_mulai": int(opd.tahun_mulai),
                "nomenklatur_versi": names.nomenklatur_versi,
                "wilayah_versi": names.wilayah_versi,
                "created_at": created_at,
                "rows": len(rows),
                "anggaran": round(float(rows.anggaran.sum()), 2),
                "rows_diterima": len(accepted),
                "rows_ditolak": len(rejected),
                "rows_dalam_review": len(opd_review),
                "pagu": None if opd_pagu is None else float(opd_pagu.pagu),
                "anggaran_diterima_kabkota": None if opd_pagu is None else float(opd_pagu.anggaran_diterima),
                "over_pagu": None if opd_pagu is None else bool(opd_pagu.over_pagu == 1),
                "referensi_template": list(on_template),
                "grain": "one row per usulan at the highest forum level it reached, carried by this OPD there "
                "(rejected at the desa forum: not included)",
                "columns": {c: HEADERS[c] for c in rows.columns},
                "files": files,
            }
            (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            manifests.append(manifest)
            index_entries.append(
                {
                    "kode_skpd": kode,
                    "nama_skpd": manifest["nama_skpd"],
                    "folder": name,
                    "rows": manifest["rows"],
                    "anggaran": manifest["anggaran"],
                    "rows_dalam_review": len(opd_review),
                    "manifest": f"{name}/manifest.json",
                    "manifest_sha256": sha256(folder / "manifest.json"),
                }
            )
        in_master = set(master.kode_skpd.astype(str))
        outside = reached[reached.kode_opd_akhir.notna() & ~reached.kode_opd_akhir.isin(in_master)]
        index = {
            "run_id": run_id,
            "tahun": tahun,
            "kode_pemda": kode_pemda,
            "created_at": created_at,
            "nomenklatur_versi": names.nomenklatur_versi,
            "wilayah_versi": names.wilayah_versi,
            "usulan": len(top),
            "ditolak_di_desa": int(rejected_at_desa.sum()),
            "opd": index_entries,
            # What is in no OPD folder, so nothing disappears silently:
            "tanpa_opd": int(reached.kode_opd_akhir.isna().sum()),
            "opd_di_luar_master": {str(k): int(v) for k, v in outside.kode_opd_akhir.value_counts().items()},
        }
        (staging / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=2), encoding="utf-8")
        old = final.parent / f".{pemda_name}.old-{uuid.uuid4().hex[:8]}"
        if final.exists():
            os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifests


def pemdas_of(engine: sa.Engine, tahun: int) -> list[str]:
    """The pemda that have usulan in `tahun`."""
    with engine.connect() as c:
        return [
            r[0]
            for r in c.execute(
                sa.text("SELECT DISTINCT kode_pemda FROM usulan WHERE tahun = :t ORDER BY kode_pemda"),
                {"t": int(tahun)},
            )
        ]
