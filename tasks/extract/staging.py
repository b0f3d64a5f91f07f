"""Turn a raw table of text cells into rows of the usulan contract, collecting parse issues."""

from __future__ import annotations

import pandas as pd

from schemas import USULAN
from schemas.sources import REKOMENDASI_OF_LEVEL, TITLE_STATUS, target_of
from tasks.batch import SliceKey
from tasks.errors import SourceError
from tasks.extract import parse
from tasks.extract.readers import RawTable
from tasks.quarantine import concat_issues, issues_frame

TEXT_FIELDS = ("id_usulan", "id_usulan_asal", "pengusul", "kontak_pengusul", "uraian_usulan", "permasalahan",
               "nama_kecamatan", "nama_desa", "nama_opd_awal", "nama_opd_akhir", "kode_opd_akhir", "alasan",
               "id_kamus", "nama_kamus", "kode_bidang_urusan", "kode_sub_kegiatan")


def _fields(cells: pd.DataFrame) -> dict[str, pd.Series]:
    """Source columns by contract target; several columns of one target are coalesced in order."""
    out: dict[str, pd.Series] = {}
    for header in cells.columns:
        target = target_of(header.split(".")[0] if header.rsplit(".", 1)[-1].isdigit() else header)
        if target is None:
            continue
        values = cells[header].astype("string").str.strip()
        out[target] = values if target not in out else out[target].where(out[target] != "", values)
    return out


def title_status(titles: pd.Series) -> pd.Series:
    """Status implied by an annex title ('... usulan yang belum diakomodir') or '' when none is."""
    titles = titles.reset_index(drop=True).fillna("").str.lower()
    status = pd.Series("", index=titles.index, dtype="string")
    for pattern, value in reversed(TITLE_STATUS):  # first pattern wins: apply it last
        status = status.mask(titles.str.contains(pattern, regex=True), value)
    return status


def stage(raw: RawTable, key: SliceKey, source_file: str, run_id: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staged usulan rows (contract columns, index = position in `raw.cells`) and their parse issues."""
    cells = raw.cells.reset_index(drop=True)
    f = _fields(cells)
    if "uraian_usulan" not in f and "nama_kamus" not in f:
        raise SourceError(source_file, "missing required column: the usulan text (e.g. 'Usulan' or 'Uraian Usulan')")
    n = len(cells)
    blank = pd.Series([""] * n, dtype="string")
    get = lambda name: f.get(name, blank)  # noqa: E731
    issues = []
    empty = cells.eq("").all(axis=1) if n else pd.Series([], dtype=bool)
    issues.append(issues_frame(cells.index[empty], "empty_row", None, None))
    live = ~empty

    def bad(mask: pd.Series, rule: str, field: str, values: pd.Series) -> None:
        mask = mask & live
        issues.append(issues_frame(cells.index[mask], rule, field, values[mask]))

    out = pd.DataFrame({name: get(name) for name in TEXT_FIELDS})
    out["uraian_usulan"] = out["uraian_usulan"].where(out["uraian_usulan"] != "", out["nama_kamus"])
    if "id_usulan" not in f:  # annexes without an id: stable per file and row
        out["id_usulan"] = source_file.rsplit("/", 1)[-1] + "#" + raw.source_row.astype(str).to_numpy()

    out["volume"], out["satuan"], vol_bad = parse.parse_koefisien(get("volume"), get("satuan"))
    bad(vol_bad, "not_a_number", "volume", get("volume"))
    out["anggaran"], ang_bad = parse.parse_numbers(get("anggaran"))
    bad(ang_bad, "not_a_number", "anggaran", get("anggaran"))
    out["prioritas"], pri_bad = parse.parse_integers(get("prioritas"))
    bad(pri_bad, "not_a_number", "prioritas", get("prioritas"))
    out["tanggal_usul"], date_bad = parse.parse_dates(get("tanggal_usul"))
    bad(date_bad, "bad_date", "tanggal_usul", get("tanggal_usul"))

    out["lokasi"], lat_in_text, lon_in_text = parse.extract_coordinates(get("lokasi"))
    for name, fallback in (("latitude", lat_in_text), ("longitude", lon_in_text)):
        parsed, wrong = parse.parse_numbers(get(name))
        bad(wrong, "not_a_number", name, get(name))
        out[name] = parsed.fillna(fallback)

    status_text = get("status_teks")
    rekom = f.get(REKOMENDASI_OF_LEVEL.get(key.level, ""))
    if rekom is not None:
        status_text = status_text.where(status_text != "", rekom)
    if raw.title is not None:  # berita acara annexes carry the decision in their title
        status_text = status_text.where(status_text != "", title_status(raw.title).reindex(status_text.index).fillna(""))
    out["status"], status_bad = parse.parse_status(status_text)
    bad(status_bad, "unknown_status", "status", status_text)

    sub = parse.code_at_start(get("sub_kegiatan_teks"))
    out["kode_sub_kegiatan"] = out["kode_sub_kegiatan"].where(out["kode_sub_kegiatan"] != "", sub)
    bidang = parse.code_at_start(get("bidang_urusan_teks")).str[:4]
    out["kode_bidang_urusan"] = out["kode_bidang_urusan"].where(out["kode_bidang_urusan"] != "", bidang)
    if "id_usulan_asal" not in f and key.stream == "musrenbang" and key.level != "desa":
        out["id_usulan_asal"] = out["id_usulan"]  # SIPD keeps one record as it rises through the forums

    text_columns = [c.name for c in USULAN.columns if c.kind in ("text", "code") and c.name in out]
    out[text_columns] = out[text_columns].replace("", pd.NA)
    out = out.assign(tahun=key.tahun, level=key.level, stream=key.stream, kode_pemda=key.kode_pemda,
                     source=key.source, source_file=source_file, source_sheet=raw.source_sheet.to_numpy(),
                     source_row=raw.source_row.to_numpy(), run_id=run_id)
    return USULAN.conform(out), concat_issues(issues)
