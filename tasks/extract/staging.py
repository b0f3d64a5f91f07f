"""Turn raw tables of text cells into rows of the usulan contract, collecting parse issues.

`file_fields` maps one file's headers onto contract fields and adds its slice and provenance; `stage_fields`
parses the fields of many files of one level at once, so the fixed cost of each vectorised parse is paid once.
Staging only renames, casts and records provenance: decisions (wilayah, mapping, lineage) come later.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import SLICE_KEY, USULAN
from schemas.sources import DECIMAL_COMMA, REKOMENDASI_OF_LEVEL, TITLE_STATUS, target_of
from tasks.errors import SourceError
from tasks.extract import parse
from tasks.extract.readers import RawTable
from tasks.validate.issues import concat_issues, issues_frame

TEXT_FIELDS = (
    "id_usulan",
    "id_usulan_asal",
    "pengusul",
    "kontak_pengusul",
    "uraian_usulan",
    "permasalahan",
    "nama_kecamatan",
    "nama_desa",
    "nama_opd_awal",
    "nama_opd_akhir",
    "kode_opd_akhir",
    "alasan",
    "id_kamus",
    "nama_kamus",
    "kode_bidang_urusan",
    "kode_sub_kegiatan",
)
PROVENANCE = ("source_file", "source_sheet", "source_row")
KEY = (*SLICE_KEY, "stream")
EMPTY, TITLE = "_empty_row", "_title"  # per-row facts of the raw file that staging needs


def _target(header: str) -> str | None:
    """The contract field a header stands for ('Volume.1', a second Volume column, stands for volume too)."""
    return target_of(header.split(".")[0] if header.rsplit(".", 1)[-1].isdigit() else header)


def _fields(table: pa.Table) -> dict[str, pa.Array]:
    """Source columns by contract target; several columns of one target are coalesced in order."""
    out: dict[str, pa.Array] = {}
    for header, column in zip(table.column_names, table.columns):
        target = _target(header)
        if target is None:
            continue
        out[target] = column if target not in out else pc.if_else(pc.equal(out[target], ""), column, out[target])
    return out


def title_status(titles: pd.Series) -> pd.Series:
    """Status implied by an annex title ('... usulan yang belum diakomodir') or '' when none is."""
    titles = titles.reset_index(drop=True).fillna("").str.lower()
    status = pd.Series("", index=titles.index, dtype="string")
    for pattern, value in reversed(TITLE_STATUS):  # first pattern wins: apply it last
        status = status.mask(titles.str.contains(pattern, regex=True), value)
    return status


def generated_id(kode_pemda: str, source_file: str, source_row) -> pd.Series:
    """Ids of rows that carry none (berita acara annexes): stable while the file keeps its place, and scoped
    to the pemda, so two regions or two kecamatan folders sending the same template file name never share
    one. '18.02-3fa9c1d2e0-7' = pemda, sha1 of the file's path, row."""
    where = hashlib.sha1(source_file.encode()).hexdigest()[:10]
    return (f"{kode_pemda}-{where}-" + pd.Series(source_row).astype(str)).astype("string")


def decimal_comma(raw: RawTable, f: dict[str, pa.Array]) -> bool:
    """Whether a file writes decimals with a comma: a ';' file whose volume or anggaran cells show a comma that
    can only be decimal ('0,750', '2,5') and no number grouped in thousands ('1.250.000'); there '2,500' is
    2.5. Decided once per file from all its number cells, so one ambiguous cell follows its neighbours."""
    if raw.delimiter != ";":
        return False
    numbers = [f[name] for name in ("volume", "anggaran") if name in f]
    shows = lambda test: any(pc.any(test(column)).as_py() for column in numbers)  # noqa: E731
    return shows(parse.shows_decimal_comma) and not shows(parse.shows_grouping)


def file_fields(raw: RawTable, key: dict, source_file: str) -> pa.Table:
    """One file's cells by contract field (text), with the defaults that depend on its columns, its slice
    (`key`: tahun, level, kode_pemda, source, stream) and its provenance. Per-value work (parsing) is left
    to `stage_fields`, which runs once over many files."""
    f = _fields(raw.table)
    if "uraian_usulan" not in f and "nama_kamus" not in f:
        raise SourceError(source_file, "missing required column: the usulan text (e.g. 'Usulan' or 'Uraian Usulan')")
    n = raw.table.num_rows
    if "id_usulan" not in f:
        f["id_usulan"] = pa.array(generated_id(key["kode_pemda"], source_file, raw.source_row), type=pa.string())
    if "id_usulan_asal" not in f and key["stream"] == "musrenbang" and key["level"] != "desa":
        f["id_usulan_asal"] = f["id_usulan"]  # SIPD keeps one record as it rises through the forums
    empty = np.ones(n, dtype=bool)
    for column in raw.table.columns:
        empty &= pc.equal(column, "").to_numpy(zero_copy_only=False)
    f[EMPTY] = pa.array(empty)
    f[TITLE] = pa.array(raw.title if raw.title is not None else [None] * n, type=pa.string())
    f[DECIMAL_COMMA] = pa.array(np.full(n, decimal_comma(raw, f)))
    f["source_file"] = pa.array([source_file] * n, type=pa.string())
    f["source_sheet"] = pa.array(raw.source_sheet if raw.source_sheet is not None else [None] * n, type=pa.string())
    f["source_row"] = pa.array(raw.source_row, type=pa.int64())
    for k in KEY:
        f[k] = pa.array([key[k]] * n)
    return pa.table(f)


def concat_fields(parts: list[pa.Table]) -> pd.DataFrame:
    """The fields of many files as one frame: fields a file lacks are blank text."""
    table = pa.concat_tables(parts, promote_options="default")
    keep = (EMPTY, TITLE, DECIMAL_COMMA, *PROVENANCE, *KEY)
    columns = [
        pc.fill_null(c, "") if n not in keep and c.type == pa.string() else c
        for n, c in zip(table.column_names, table.columns)
    ]
    return pa.table(columns, names=table.column_names).to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get)


def stage_fields(fields: pd.DataFrame, level: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staged usulan rows of one level (contract columns, index = position in `fields`) and their parse issues.
    The rows keep their slice (tahun, level, kode_pemda, source, stream) and provenance; no run is named yet."""
    fields = fields.reset_index(drop=True)
    n = len(fields)
    blank = pd.Series([""] * n, dtype="string")
    facts = [EMPTY, TITLE, DECIMAL_COMMA, *PROVENANCE, *KEY]
    texts = fields.drop(columns=facts).fillna("")  # fields a file lacks are blank
    get = lambda name: texts.get(name, blank)  # noqa: E731
    empty = fields[EMPTY].astype(bool) if n else pd.Series([], dtype=bool)
    issues = [issues_frame(fields.index[empty], "empty_row", None, None)]
    live = ~empty

    def bad(mask: pd.Series, rule: str, field: str, values: pd.Series) -> None:
        mask = mask & live
        issues.append(issues_frame(fields.index[mask], rule, field, values[mask]))

    out = pd.DataFrame({name: get(name) for name in TEXT_FIELDS})
    out["uraian_usulan"] = out["uraian_usulan"].where(out["uraian_usulan"] != "", out["nama_kamus"])

    comma = fields[DECIMAL_COMMA].astype(bool)
    out["volume"], out["satuan"], vol_bad = parse.parse_koefisien(get("volume"), get("satuan"), comma)
    bad(vol_bad, "not_a_number", "volume", get("volume"))
    out["anggaran"], ang_bad = parse.parse_numbers(get("anggaran"), comma)
    bad(ang_bad, "not_a_number", "anggaran", get("anggaran"))
    out["prioritas"], pri_bad = parse.parse_integers(get("prioritas"), comma)
    bad(pri_bad, "not_a_number", "prioritas", get("prioritas"))
    out["tanggal_usul"], date_bad = parse.parse_dates(get("tanggal_usul"))
    bad(date_bad, "bad_date", "tanggal_usul", get("tanggal_usul"))

    out["lokasi"], lat_in_text, lon_in_text = parse.extract_coordinates(get("lokasi"))
    for name, fallback in (("latitude", lat_in_text), ("longitude", lon_in_text)):
        parsed, wrong = parse.parse_numbers(get(name))
        bad(wrong, "not_a_number", name, get(name))
        out[name] = parsed.fillna(fallback)

    tahun = fields["tahun"].astype(str)
    said = get("tahun_teks").str.strip()
    said = said.where(said != "", parse.tahun_in_title(fields[TITLE].astype("string")))
    other = live & (said != "") & (said != tahun)
    issues.append(issues_frame(fields.index[other], "tahun_mismatch", "tahun", said[other], tahun[other]))

    status_text = get("status_teks")
    rekom = REKOMENDASI_OF_LEVEL.get(level)
    if rekom in texts:
        status_text = status_text.where(status_text != "", get(rekom))
    if fields[TITLE].notna().any():  # berita acara annexes carry the decision in their title
        status_text = status_text.where(status_text != "", title_status(fields[TITLE].astype("string")))
    out["status"], status_bad = parse.parse_status(status_text)
    bad(status_bad, "unknown_status", "status", status_text)

    sub = parse.code_at_start(get("sub_kegiatan_teks"))
    out["kode_sub_kegiatan"] = out["kode_sub_kegiatan"].where(out["kode_sub_kegiatan"] != "", sub)
    bidang = parse.code_at_start(get("bidang_urusan_teks")).str[:4]
    out["kode_bidang_urusan"] = out["kode_bidang_urusan"].where(out["kode_bidang_urusan"] != "", bidang)

    text_columns = [c.name for c in USULAN.columns if c.kind in ("text", "code") and c.name in out]
    out[text_columns] = out[text_columns].replace("", pd.NA)
    out = out.assign(**{c: fields[c].to_numpy() for c in (*KEY, *PROVENANCE)})
    return USULAN.conform(out), concat_issues(issues)
