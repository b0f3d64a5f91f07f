"""`rkpd mapping predict`: map a planner's list of usulan texts exactly as a run maps them.

The input is a CSV or Excel list with a text column (`uraian` or any alias of `uraian_usulan` in
`schemas/sources.py`) and, optionally, the kecamatan/desa (to place 7.01 rows) and a kamus id or name. Its OPD and
bidang columns are not read: predict answers from the text, as the run does for usulan whose forum named no OPD.
The rows become a staged frame of the usulan contract and go through the run's mapping entry point
(`tasks.map.mapping.map_level`, with a context made as the run makes it, `tasks.map.context.prepare_context`);
the answer columns are added to the input's columns. Rows waiting for review carry the best suggestion in the same
columns, with `perlu_review` true and the reason. Planners' verified corrections train the classifier when given,
but are not applied by id: the list's rows are not the warehouse's usulan.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from reference import store
from schemas import MAPPING_VERIFIED, USULAN
from schemas.sources import normalise_header, target_of
from tasks.errors import SourceError
from tasks.extract.wilayah import resolve_wilayah
from tasks.map.context import MappingContext, opd_nama_of, prepare_context
from tasks.map.mapping import map_level

TEXT_HEADER = "uraian"  # besides the aliases of uraian_usulan
INPUT_FIELDS = ("uraian_usulan", "nama_kecamatan", "nama_desa", "id_kamus", "nama_kamus")  # read from the input
# Answer columns: contract fields, besides nama_bidang_urusan, confidence and perlu_review the list needs.
ANSWERS = (
    "kode_bidang_urusan",
    "nama_bidang_urusan",
    "kode_skpd",
    "nama_skpd",
    "kode_sub_kegiatan",
    "confidence",
    "mapping_method",
    "perlu_review",
    "alasan_review",
    "kode_bidang_alternatif",
    "kewenangan",
)


def read_list(path: Path) -> pd.DataFrame:
    """The input list as text cells (header in the first row); one clear error naming the file otherwise."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise SourceError(path, "file not found")
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            frame = pd.read_excel(path, dtype=str, engine="calamine")
        elif suffix in (".csv", ".txt"):
            frame = _read_csv(path)
        else:
            raise SourceError(path, f"unsupported file type {suffix!r} (expected .csv or .xlsx)")
    except (ValueError, pd.errors.ParserError) as exc:
        raise SourceError(path, f"cannot read the list: {exc}") from exc
    return frame.astype("string").fillna("")


def _read_csv(path: Path) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return pd.read_csv(path, dtype=str, sep=None, engine="python", encoding=encoding, keep_default_na=False)
        except UnicodeDecodeError:
            continue
    raise SourceError(path, "unknown text encoding (neither UTF-8 nor Windows-1252)")


def input_columns(frame: pd.DataFrame, path: Path) -> dict[str, str]:
    """Contract field -> input header for the fields predict reads (first matching header wins)."""
    found: dict[str, str] = {}
    for header in frame.columns:
        key = normalise_header(header)
        field = "uraian_usulan" if key == TEXT_HEADER else target_of(header)
        if field in INPUT_FIELDS:
            found.setdefault(field, header)
    if "uraian_usulan" not in found:
        raise SourceError(path, f"no text column: name one '{TEXT_HEADER}' (or 'uraian usulan', 'usulan', ...)")
    return found


def staged_rows(frame: pd.DataFrame, found: dict[str, str], kode_pemda: str, tahun: int) -> pd.DataFrame:
    """The input as staged usulan of one pemda (a kecamatan name that matches no kecamatan stays empty)."""
    rows = pd.DataFrame({field: frame[header].replace("", pd.NA) for field, header in found.items()})
    rows = rows.assign(
        id_usulan=[str(i + 1) for i in range(len(frame))],
        tahun=tahun,
        level="kabkota",
        stream="musrenbang",
        kode_pemda=kode_pemda,
        status="diusulkan",
    )
    staged = USULAN.conform(rows)
    if staged["nama_kecamatan"].notna().any() or staged["nama_desa"].notna().any():
        codes, _ = resolve_wilayah(staged, desa_required=False)
        staged = staged.assign(kode_kecamatan=codes.kode_kecamatan, kode_desa=codes.kode_desa)
    return staged


def prediction_context(
    tahun: int, pemda: list[str], corrections: pd.DataFrame | None, models_dir: Path
) -> MappingContext:
    """The run's mapping context of the pemda (classifiers trained with `corrections`), without applying the
    corrections by id."""
    corrections = MAPPING_VERIFIED.empty_frame() if corrections is None else corrections
    return replace(prepare_context(tahun, pemda, corrections, models_dir), verified=MAPPING_VERIFIED.empty_frame())


def answers(mapped: pd.DataFrame, context: MappingContext) -> pd.DataFrame:
    """The answer columns of mapped rows: the mapping, or for rows waiting for review the best suggestion."""
    review = mapped["mapping_method"].isna()
    bidang = mapped["kode_bidang_urusan"].fillna(mapped["saran_bidang_urusan"].where(review))
    opd = mapped["kode_opd_akhir"].fillna(mapped["saran_opd"].where(review))
    sub = mapped["kode_sub_kegiatan"].fillna(mapped["saran_sub_kegiatan"].where(review))
    names = store.nomenklatur()
    in_force = store.version_for(store.NOMENKLATUR_VERSIONS, context.tahun).versi
    names = names[names.versi == in_force].set_index("kode").nama
    return pd.DataFrame(
        {
            "kode_bidang_urusan": bidang,
            "nama_bidang_urusan": bidang.map(names).astype("string"),
            "kode_skpd": opd,
            "nama_skpd": opd_nama_of(context.frames, mapped.kode_pemda, opd),
            "kode_sub_kegiatan": sub,
            "confidence": mapped["mapping_confidence"].round(3),
            "mapping_method": mapped["mapping_method"],
            "perlu_review": review,
            "alasan_review": mapped["alasan_review"],
            "kode_bidang_alternatif": mapped["kode_bidang_alternatif"],
            "kewenangan": mapped["kewenangan"],
        },
        index=mapped.index,
    )[list(ANSWERS)]


def predict_frame(frame: pd.DataFrame, found: dict[str, str], kode_pemda: str, context: MappingContext) -> pd.DataFrame:
    """The input's columns followed by the answer columns (an input column named like an answer is kept
    under '<name> (masukan)'); `context` holds the pemda (see `prediction_context`)."""
    staged = staged_rows(frame, found, kode_pemda, context.tahun)
    result = answers(map_level(staged, context), context)
    kept = frame.rename(columns={c: f"{c} (masukan)" for c in frame.columns if c in ANSWERS})
    return pd.concat([kept.reset_index(drop=True), result.reset_index(drop=True)], axis=1)


def write_list(frame: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".xlsx", ".xlsm"):
        frame.to_excel(out, index=False, engine="xlsxwriter")
    else:
        frame.to_csv(out, index=False)
