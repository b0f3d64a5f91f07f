"""Map the usulan of a whole level (all slices, all pemda) to bidang urusan, sub kegiatan and OPD.

Three things stay apart: what the forum decided (its status and alasan, and the OPD its source names,
kept in `kode_opd_sumber`), what the pipeline maps, and what a planner corrected. The OPD that carries a row
(`kode_opd_akhir`) is, in this order of strength:
1. sumber: the OPD (and bidang) the forum's own source names: never replaced by a later step;
2. koreksi_planner: a planner's verified correction for that usulan, made at this level or a lower one;
3. kamus: the kamus item, by its id, then by its name (or the usulan text equal to a kamus name);
4. the text (`tasks.map.text.map_texts`): the jurisdiction check (a proposal that is the provinsi's or the
   pusat's work waits for review), kamus_fuzzy (a resident's phrasing of a kamus item), klasifikasi (the text
   model, when its confidence reaches the classifier's threshold and an OPD of the pemda carries the bidang).
Rows none of these reach stay unmapped (mapping_method empty): they are the review queue, each with alasan_review
and the best suggestion (saran_*).
"""

from __future__ import annotations

import pandas as pd

from reference import store
from schemas import LEVELS
from tasks.map.context import (
    MappingContext,
    kecamatan_skpd_of,
    opd_kode_of,
    opd_nama_of,
    route,
    route_sets,
    single_bidang_of,
)
from tasks.map.opd import opd_alternatif, text_key
from tasks.map.text import map_texts

_RANK = {level: i for i, level in enumerate(LEVELS)}


def to_version_of(tahun: int, codes: pd.Series) -> pd.Series:
    """Sub kegiatan codes of the other nomenclature version carried into the tahun's version through the
    crosswalk (names match); codes already in force, or without a match, are returned as they are."""
    target = store.version_for(store.NOMENKLATUR_VERSIONS, tahun).versi
    walk = store.crosswalk()
    walk = walk[walk.versi_to == target].drop_duplicates("kode_from").set_index("kode_from").kode_to
    in_force = store.nomenklatur()
    in_force = set(in_force.kode[(in_force.versi == target) & (in_force.tingkat == "sub_kegiatan")])
    carried = codes.map(walk).astype("string")
    return codes.where(codes.isin(in_force) | carried.isna(), carried)


def _kamus_hits(out: pd.DataFrame, kamus: pd.DataFrame) -> pd.DataFrame:
    """The kamus item of each row (by id, else by kamus name, else by the text equal to a kamus name), as the
    row's kamus columns (missing where none)."""
    kamus = kamus.drop_duplicates(["kode_pemda", "id_kamus"])
    by_id = pd.MultiIndex.from_frame(kamus[["kode_pemda", "id_kamus"]].astype(str))
    names = kamus.assign(key=text_key(kamus.nama_kamus)).drop_duplicates(["kode_pemda", "key"])
    name_index = pd.Series(names.id_kamus.to_numpy(), index=pd.MultiIndex.from_frame(names[["kode_pemda", "key"]]))

    pemda = out.kode_pemda.astype(str)
    given = pd.MultiIndex.from_arrays([pemda, out.id_kamus.fillna("").astype(str)])
    kid = out.id_kamus.where(given.isin(by_id))
    for text in (out.nama_kamus, out.uraian_usulan):
        keys = pd.MultiIndex.from_arrays([pemda, text_key(text)])
        kid = kid.fillna(pd.Series(name_index.reindex(keys).to_numpy(), index=out.index))
    kid = kid.astype("string")
    hits = pd.DataFrame({"kode_pemda": pemda, "id_kamus": kid}).merge(
        kamus.astype({"kode_pemda": str}), on=["kode_pemda", "id_kamus"], how="left"
    )
    hits.index = out.index
    return hits


def _corrections(out: pd.DataFrame, context: MappingContext) -> pd.DataFrame:
    """The verified correction that applies to each row: the usulan's correction made at the row's level or
    the nearest level below it (a correction never reaches down to an earlier forum)."""
    verified = context.verified
    empty = pd.DataFrame(index=out.index, columns=["kode_bidang_urusan", "kode_sub_kegiatan", "kode_opd"])
    if verified is None or verified.empty:
        return empty
    verified = verified[verified.tahun == context.tahun]
    rows = out[["kode_pemda", "stream", "id_usulan", "level"]].astype(object).reset_index()
    found = rows.merge(
        verified.astype({"kode_pemda": object, "stream": object, "id_usulan": object}),
        on=["kode_pemda", "stream", "id_usulan"],
        suffixes=("", "_koreksi"),
    )
    found = found[found.level_koreksi.map(_RANK) <= found.level.map(_RANK)]
    found = found.assign(_r=found.level_koreksi.map(_RANK)).sort_values("_r").drop_duplicates("index", keep="last")
    return found.set_index("index")[["kode_bidang_urusan", "kode_sub_kegiatan", "kode_opd"]].reindex(out.index)


def map_level(staged: pd.DataFrame, context: MappingContext) -> pd.DataFrame:
    """Fill kamus, bidang, sub kegiatan and OPD awal/akhir of a level's rows (any number of slices and pemda),
    with the method, version and confidence of the mapping, keeping the forum's own OPD in kode_opd_sumber."""
    frames = context.frames
    out = staged.copy()
    pemda = out.kode_pemda

    k = _kamus_hits(out, frames.kamus)
    hit = k.id_kamus.notna()
    out["id_kamus"] = k.id_kamus.fillna(out.id_kamus)
    out["nama_kamus"] = out.nama_kamus.fillna(k.nama_kamus.where(hit))
    out["kode_bidang_urusan"] = out.kode_bidang_urusan.fillna(k.kode_bidang_urusan.where(hit))
    out["kode_sub_kegiatan"] = out.kode_sub_kegiatan.fillna(k.kode_sub_kegiatan.where(hit))

    # OPD awal and the forum's own OPD akhir, as the source names them; the kamus names the OPD it goes to
    kecamatan_opd = kecamatan_skpd_of(frames, pemda, out.kode_kecamatan)
    kamus_opd = k.kode_skpd.where(hit).astype("string")
    kamus_opd = kamus_opd.where(~kamus_opd.fillna("").str.startswith("7.01."), kecamatan_opd)
    awal = opd_kode_of(frames, pemda, out.kode_opd_awal, out.nama_opd_awal).fillna(kamus_opd)
    sumber = opd_kode_of(frames, pemda, out.kode_opd_akhir, out.nama_opd_akhir)
    akhir = sumber.fillna(out.kode_opd_akhir).fillna(awal)
    in_master = opd_nama_of(frames, pemda, out.kode_opd_awal).notna()
    out["kode_opd_awal"] = awal.where(awal.notna(), out.kode_opd_awal.where(in_master))
    out["kode_opd_akhir"] = akhir
    out["kode_opd_sumber"] = sumber
    out["nama_opd_awal"] = opd_nama_of(frames, pemda, out.kode_opd_awal).fillna(out.nama_opd_awal)

    by_opd = out.kode_bidang_urusan.isna() & out.kode_opd_akhir.notna()
    out["kode_bidang_urusan"] = out.kode_bidang_urusan.fillna(single_bidang_of(frames, pemda, out.kode_opd_akhir))
    mapped_by_opd = by_opd & out.kode_bidang_urusan.notna()
    method = pd.Series(pd.NA, index=out.index, dtype="string")
    method[hit] = "kamus"
    named = ~hit & (mapped_by_opd | (staged.kode_bidang_urusan.notna() & out.kode_opd_akhir.notna()))
    method[named] = "sumber"

    # a planner's correction, where the forum named no OPD of its own
    fix = _corrections(out, context)
    corrected = fix.kode_bidang_urusan.notna() & sumber.isna()
    if corrected.any():
        carrier = route(
            frames, pemda, fix.kode_bidang_urusan, fix.kode_sub_kegiatan, out.kode_kecamatan, out.uraian_usulan
        ).kode_opd
        out.loc[corrected, "kode_bidang_urusan"] = fix.kode_bidang_urusan[corrected]
        out.loc[corrected, "kode_sub_kegiatan"] = fix.kode_sub_kegiatan[corrected]
        out.loc[corrected, "kode_opd_akhir"] = fix.kode_opd.astype("string").fillna(carrier)[corrected]
        method[corrected] = "koreksi_planner"
    confidence = method.map({"kamus": 1.0, "sumber": 0.9, "koreksi_planner": 1.0}).astype("Float64")
    version = method.copy()

    # the text for the rest; a row it does not map waits for review with its reason and best suggestion
    todo = method.isna() & out.uraian_usulan.notna() & pemda.astype(str).isin(list(context.classifiers))
    text = map_texts(
        out.loc[todo, ["kode_pemda", "uraian_usulan"]], context.tahun, context.classifiers, context.threshold
    )
    rows = text.index[text.mapping_method.notna()]
    for column in ("kode_bidang_urusan", "kode_sub_kegiatan", "id_kamus"):
        out.loc[rows, column] = out.loc[rows, column].fillna(text.loc[rows, column])
    # every row's bidang, sub kegiatan and kecamatan are final now: one routing for all of them (the carrier of
    # the rows the text mapped, the alternatives of every row) and for the suggestion of the rows waiting
    waiting = text.index[text.mapping_method.isna() & text.saran_bidang_urusan.notna() & (text.kewenangan == "kabkota")]
    routed, suggested = route_sets(
        frames,
        (pemda, out.kode_bidang_urusan, out.kode_sub_kegiatan, out.kode_kecamatan, out.uraian_usulan),
        (pemda[waiting], text.loc[waiting, "saran_bidang_urusan"], text.loc[waiting, "saran_sub_kegiatan"],
         out.loc[waiting, "kode_kecamatan"], out.loc[waiting, "uraian_usulan"]),
    )  # fmt: skip
    out.loc[rows, "kode_opd_akhir"] = out.loc[rows, "kode_opd_akhir"].fillna(routed.kode_opd[rows])
    method[text.index] = text.mapping_method
    confidence = text.mapping_confidence.reindex(out.index).astype("Float64").fillna(confidence)
    version = text.mapping_version.reindex(out.index).astype("string").fillna(version)
    for column in (
        "kode_bidang_alternatif",
        "kewenangan",
        "alasan_review",
        "saran_bidang_urusan",
        "saran_sub_kegiatan",
    ):
        out.loc[text.index, column] = text[column]
    out.loc[waiting, "saran_opd"] = suggested.kode_opd

    out["mapping_method"] = method
    out["mapping_confidence"] = confidence
    out["mapping_version"] = version
    out["nama_opd_akhir"] = opd_nama_of(frames, pemda, out.kode_opd_akhir).fillna(out.nama_opd_akhir)
    out["opd_alternatif"] = opd_alternatif(routed, out.kode_opd_akhir)
    out["kode_sub_kegiatan"] = to_version_of(context.tahun, out.kode_sub_kegiatan)
    out["kewenangan"] = out.kewenangan.mask(method.notna() & out.kewenangan.isna(), "kabkota")
    return out
