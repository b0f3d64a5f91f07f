"""Map usulan to bidang urusan, sub kegiatan and OPD, in this order:

1. koreksi_planner: a mapping a planner verified for that usulan (imported with `rkpd review import`);
2. kamus: by kamus id, then by the kamus name (or the usulan text equal to a kamus name);
3. sumber: the OPD (and bidang) the source itself names;
4. klasifikasi: the text model, when its confidence reaches the threshold.
Rows none of these reach stay unmapped (mapping_method empty): they are the review queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reference import store
from tasks.map.opd import OpdIndex, opd_alternatif, opd_index, text_key

REVIEW_THRESHOLD = 0.5  # classifier confidence below this goes to review


@dataclass
class MappingContext:
    """What mapping needs besides the rows: verified corrections and the classifier of the tahun."""

    tahun: int
    kode_pemda: str
    verified: pd.DataFrame | None = None  # mapping_verified rows (the tahun's override by id_usulan)
    classifier: object | None = None  # tasks.map.classify.Classifier
    threshold: float = REVIEW_THRESHOLD


def _apply_review(out: pd.DataFrame, context: MappingContext, opd: OpdIndex) -> pd.Series:
    """Apply verified corrections of the tahun by (stream, id_usulan); returns the rows they hit."""
    hit = pd.Series(False, index=out.index)
    if context.verified is None or context.verified.empty:
        return hit
    verified = context.verified[context.verified.tahun == context.tahun].set_index(["stream", "id_usulan"])
    keys = pd.MultiIndex.from_arrays([out.stream.astype(str), out.id_usulan.astype(str)])
    found = verified.reindex(keys)
    found.index = out.index
    hit = found.kode_bidang_urusan.notna()
    out.loc[hit, "kode_bidang_urusan"] = found.kode_bidang_urusan[hit]
    out.loc[hit, "kode_sub_kegiatan"] = found.kode_sub_kegiatan[hit]
    carrier = opd.carrier_of(found.kode_bidang_urusan, found.kode_sub_kegiatan, out.kode_kecamatan)
    out.loc[hit, "kode_opd_akhir"] = found.kode_opd.fillna(carrier)[hit]
    return hit


def _apply_classifier(out: pd.DataFrame, todo: pd.Series, context: MappingContext, opd: OpdIndex) -> None:
    if context.classifier is None or not todo.any():
        return
    predicted = context.classifier.predict(out.loc[todo, "uraian_usulan"])
    sure = predicted.confidence >= context.threshold
    rows = predicted.index[sure]
    out.loc[rows, "kode_bidang_urusan"] = predicted.kode_bidang_urusan[sure]
    out.loc[rows, "kode_sub_kegiatan"] = out.loc[rows, "kode_sub_kegiatan"].fillna(predicted.kode_sub_kegiatan[sure])
    carrier = opd.carrier_of(
        out.loc[rows, "kode_bidang_urusan"], out.loc[rows, "kode_sub_kegiatan"], out.loc[rows, "kode_kecamatan"]
    )
    out.loc[rows, "kode_opd_akhir"] = out.loc[rows, "kode_opd_akhir"].fillna(carrier)
    out["mapping_method"] = out["mapping_method"].mask(out.index.isin(rows), "klasifikasi")
    confidence = predicted.confidence.reindex(out.index)  # below the threshold too: kept for the review queue
    out["mapping_confidence"] = confidence.astype("Float64").fillna(out["mapping_confidence"])
    out["mapping_version"] = predicted.model_version.reindex(out.index).astype("string").fillna(out["mapping_version"])


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


def map_usulan(staged: pd.DataFrame, context: MappingContext) -> pd.DataFrame:
    """Fill kamus, bidang, sub kegiatan and OPD awal/akhir with mapping method, version and confidence."""
    kode_pemda = context.kode_pemda
    kamus = store.kamus(kode_pemda, context.tahun).drop_duplicates("id_kamus").set_index("id_kamus")
    kamus_by_name = pd.Series(kamus.index, index=text_key(kamus["nama_kamus"]))
    kamus_by_name = kamus_by_name[~kamus_by_name.index.duplicated()]
    opd = opd_index(kode_pemda, context.tahun)
    out = staged.copy()

    kid = out["id_kamus"].where(out["id_kamus"].isin(kamus.index))
    kid = kid.fillna(text_key(out["nama_kamus"]).map(kamus_by_name))
    kid = kid.fillna(text_key(out["uraian_usulan"]).map(kamus_by_name)).astype("string")
    hit = kid.notna()
    k = kamus.reindex(kid.fillna("").to_numpy())
    k.index = out.index
    out["id_kamus"] = kid.fillna(out["id_kamus"])
    out["nama_kamus"] = out["nama_kamus"].fillna(k["nama_kamus"].where(hit))
    out["kode_bidang_urusan"] = out["kode_bidang_urusan"].fillna(k["kode_bidang_urusan"].where(hit))
    out["kode_sub_kegiatan"] = out["kode_sub_kegiatan"].fillna(k["kode_sub_kegiatan"].where(hit))

    kecamatan_opd = out["kode_kecamatan"].map(opd.kecamatan_skpd).astype("string")
    kamus_opd = k["kode_skpd"].where(hit).astype("string")
    kamus_opd = kamus_opd.where(~kamus_opd.fillna("").str.startswith("7.01."), kecamatan_opd)
    awal = opd.kode_of(out["kode_opd_awal"], out["nama_opd_awal"]).fillna(kamus_opd)
    source_akhir = opd.kode_of(out["kode_opd_akhir"], out["nama_opd_akhir"])
    akhir = source_akhir.fillna(out["kode_opd_akhir"]).fillna(awal)
    out["kode_opd_awal"] = awal.where(
        awal.notna(), out["kode_opd_awal"].where(out["kode_opd_awal"].isin(opd.opd.index))
    )
    out["kode_opd_akhir"] = akhir
    out["nama_opd_awal"] = opd.nama_of(out["kode_opd_awal"]).fillna(out["nama_opd_awal"])
    out["nama_opd_akhir"] = opd.nama_of(out["kode_opd_akhir"]).fillna(out["nama_opd_akhir"])

    by_opd = out["kode_bidang_urusan"].isna() & out["kode_opd_akhir"].notna()
    out["kode_bidang_urusan"] = out["kode_bidang_urusan"].fillna(opd.single_bidang_of(out["kode_opd_akhir"]))
    mapped_by_opd = by_opd & out["kode_bidang_urusan"].notna()
    out["mapping_method"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out.loc[hit, "mapping_method"] = "kamus"
    out.loc[
        ~hit & (mapped_by_opd | (staged["kode_bidang_urusan"].notna() & out["kode_opd_akhir"].notna())),
        "mapping_method",
    ] = "sumber"
    out["kode_opd_sumber"] = source_akhir
    out["mapping_confidence"] = out["mapping_method"].map({"kamus": 1.0, "sumber": 0.9}).astype("Float64")
    out["mapping_version"] = out["mapping_method"].astype("string")
    reviewed = _apply_review(out, context, opd)
    out["mapping_method"] = out["mapping_method"].mask(reviewed, "koreksi_planner")
    out["mapping_version"] = out["mapping_version"].mask(reviewed, "koreksi_planner")
    out["mapping_confidence"] = out["mapping_confidence"].mask(reviewed, 1.0)
    todo = out["mapping_method"].isna() & out["uraian_usulan"].notna()
    _apply_classifier(out, todo, context, opd)
    out["nama_opd_akhir"] = opd.nama_of(out["kode_opd_akhir"]).fillna(out["nama_opd_akhir"])
    routed = opd.route(out["kode_bidang_urusan"], out["kode_sub_kegiatan"], out["kode_kecamatan"])
    out["opd_alternatif"] = opd_alternatif(routed, out["kode_opd_akhir"])
    out["kode_sub_kegiatan"] = to_version_of(context.tahun, out["kode_sub_kegiatan"])
    out["kewenangan"] = pd.Series("kabkota", index=out.index, dtype="string").where(out["mapping_method"].notna())
    return out
