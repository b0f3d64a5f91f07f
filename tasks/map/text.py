"""The text side of the mapping, for many rows of several pemda at once: `map_texts`.

Per pemda, each distinct text is decided once, in this order:
1. kamus: the text is a kamus name of an entry that speaks for the pemda (case and punctuation ignored);
2. jurisdiction: a proposal that is the provinsi's or the pusat's work (UU 23/2014, `tasks.map.kewenangan`) waits
   for review with "bukan kewenangan kabupaten/kota (...)" and is never given a local bidang;
3. kamus_fuzzy: a resident's phrasing of a kamus item (`tasks.map.kamus_match`; an ambiguous match goes on, and so
   does a match of another bidang than the one the classifier gives at or above its threshold);
4. klasifikasi: the text classifier, when its confidence reaches the threshold chosen for the target precision on
   cross-validated folds (`Classifier.threshold`) and some OPD of the pemda carries the bidang.
The rest waits for review (mapping_method empty) with the reason and the best suggestion (saran_*). Choosing the
OPD is not done here (`tasks.map.opd`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import numpy as np
import pandas as pd

from reference import store
from schemas.fields import columns
from tasks.map.classify import training
from tasks.map.classify.model import Classifier
from tasks.map.kamus_match import kamus_index
from tasks.map.kewenangan import KABKOTA, jurisdiction
from tasks.map.opd import text_key

OUTPUT_COLUMNS = tuple(
    c.name
    for c in columns(
        "kode_bidang_urusan",
        "kode_sub_kegiatan",
        "id_kamus",
        "mapping_method",
        "mapping_confidence",
        "mapping_version",
        "kode_bidang_alternatif",
        "kewenangan",
        "alasan_review",
        "saran_bidang_urusan",
        "saran_sub_kegiatan",
    )
)
LOW_CONFIDENCE = "keyakinan rendah"  # start of the review reason a lower threshold would have mapped
EMPTY = "teks usulan kosong atau tanpa kata bermakna"
_OBJECT_COLUMNS = ("kewenangan", "kode_bidang_alternatif")  # kept as the arrays they come from (not typed)


def _codes(values: pd.Series) -> np.ndarray:
    """Codes as an object array with "" for missing ones (comparable element-wise)."""
    return values.astype("string").fillna("").to_numpy(dtype=object)


@cache
def _bidang_names() -> dict[str, str]:
    names = store.bidang_urusan()
    return dict(zip(names.kode_bidang_urusan, names.nama_bidang_urusan.str.title()))


def _decide_pemda(
    texts: pd.Series,
    normalised: pd.Series,
    predicted: pd.DataFrame,
    kode_pemda: str,
    tahun: int,
    classifier: Classifier,
    threshold: float,
) -> pd.DataFrame:
    """The decision for the distinct texts of one pemda (index: the texts' positions), given their normalised
    form and the classifier's prediction of it (both in the texts' order)."""
    n = len(texts)
    out = {c: np.full(n, None, dtype=object) for c in OUTPUT_COLUMNS}  # filled by masks, typed at the end
    mapping_confidence = np.full(n, np.nan)

    # 1. exact kamus name
    index = kamus_index(kode_pemda, tahun, classifier.normaliser)
    entries = index.kamus  # the usable entries, one per id_kamus
    exact = text_key(texts.reset_index(drop=True)).map(index.by_name)

    # 2. jurisdiction, 3. fuzzy kamus
    rule = jurisdiction(texts.reset_index(drop=True), classifier.normaliser)
    fuzzy = index.match(normalised)
    names = _bidang_names()
    carried = training.bidang_of_pemda(kode_pemda, tahun)

    out["kewenangan"] = rule.kewenangan.to_numpy()
    out["kode_bidang_alternatif"] = predicted.kode_bidang_alternatif.to_numpy(copy=True)
    is_exact = exact.notna().to_numpy()
    outside = (rule.kewenangan != KABKOTA).to_numpy() & ~is_exact
    is_fuzzy = fuzzy.id_kamus.notna().to_numpy() & ~is_exact & ~outside
    # a fuzzy match gives way to a classifier sure of another bidang: the match reads the address as much as the
    # object (a road "ke" a mosque can meet a mosque's entry), the classifier weighs the object
    fuzzy_bidang = _codes(entries.kode_bidang_urusan.reindex(fuzzy.id_kamus.fillna("").to_numpy()))
    overruled = (_codes(predicted.kode_bidang_urusan) != fuzzy_bidang) & (predicted.confidence.to_numpy() >= threshold)
    is_fuzzy &= ~overruled
    kid = exact.where(is_exact, fuzzy.id_kamus.where(is_fuzzy)).astype("string")
    hit = is_exact | is_fuzzy
    entry = entries.reindex(kid.fillna("").to_numpy())
    out["id_kamus"][hit] = kid[hit].to_numpy()
    out["kode_bidang_urusan"][hit] = entry.kode_bidang_urusan.to_numpy()[hit]
    out["kode_sub_kegiatan"][hit] = entry.kode_sub_kegiatan.to_numpy()[hit]
    out["mapping_method"][is_exact] = "kamus"
    out["mapping_method"][is_fuzzy] = "kamus_fuzzy"
    mapping_confidence[is_exact] = 1.0
    mapping_confidence[is_fuzzy] = fuzzy.kamus_score.to_numpy()[is_fuzzy] / 100
    out["mapping_version"][hit] = out["mapping_method"][hit]
    # the classifier's other opinion is the alternative of a kamus match
    best, runner_up = _codes(predicted.kode_bidang_urusan), _codes(predicted.kode_bidang_alternatif)
    other = np.where(best != _codes(pd.Series(out["kode_bidang_urusan"], dtype="string")), best, runner_up)
    out["kode_bidang_alternatif"][hit] = other[hit]

    # 4. classifier, and the review queue with its reasons and suggestions
    rest = ~hit & ~outside
    bidang = best
    confidence = predicted.confidence.to_numpy()
    empty = (normalised.fillna("") == "").to_numpy()
    not_carried = np.array([b not in carried for b in bidang], dtype=bool)
    sure = rest & ~empty & (confidence >= threshold) & ~not_carried
    sub_kegiatan = predicted.kode_sub_kegiatan.to_numpy()
    out["mapping_method"][sure] = "klasifikasi"
    out["kode_bidang_urusan"][sure] = bidang[sure]
    out["kode_sub_kegiatan"][sure] = sub_kegiatan[sure]
    classified = (rest | outside) & ~empty
    mapping_confidence[classified] = confidence[classified]
    out["mapping_version"][rest | outside] = classifier.model_version
    review = ~hit & ~sure
    waiting = review & ~outside
    out["saran_bidang_urusan"][waiting] = bidang[waiting]
    out["saran_sub_kegiatan"][waiting] = sub_kegiatan[waiting]
    out["saran_bidang_urusan"][outside] = rule.kode_bidang_urusan.to_numpy()[outside]
    out["alasan_review"][outside] = rule.alasan_review.to_numpy()[outside]
    alternatif = predicted.kode_bidang_alternatif.to_numpy()
    out["alasan_review"][waiting] = [
        EMPTY
        if e
        else (
            f"bidang {b} ({names.get(b, b)}) tidak diampu OPD mana pun di pemda ini"
            if nc
            else f"{LOW_CONFIDENCE} ({c:.2f} < ambang {threshold:.2f}): saran {b} {names.get(b, b)}, alternatif {a}"
        )
        for e, nc, b, c, a in zip(
            empty[waiting], not_carried[waiting], bidang[waiting], confidence[waiting], alternatif[waiting]
        )
    ]
    for column in ("saran_bidang_urusan", "saran_sub_kegiatan", "kode_bidang_alternatif"):
        out[column][empty & rest] = pd.NA
    frame = pd.DataFrame(
        {c: out[c] if c in _OBJECT_COLUMNS else pd.array(out[c], dtype="string") for c in OUTPUT_COLUMNS}
    )
    frame["mapping_confidence"] = pd.array(mapping_confidence, dtype="Float64")
    return frame


_FITTED_PARTS = ("features", "estimator", "sub_docs", "sub_codes", "sub_bidang")


def _fit_of(classifier: Classifier) -> tuple:
    """What a classifier's prediction of a normalised text depends on: pemda whose classifiers share one fit
    (the same training rows, see tasks.map.classify) predict the same text alike. A classifier without these
    parts (a stand-in) is a group of its own."""
    parts = [getattr(classifier, name, None) for name in _FITTED_PARTS]
    if any(part is None for part in parts):
        return (id(classifier),)
    verified = tuple(sorted(classifier.verified.items(), key=lambda item: item[0]))
    return (*map(id, parts), classifier.temperature, verified, repr(sorted(classifier.params.items())))


def _predictions(normalised: dict[str, pd.Series], classifiers: Mapping[str, Classifier]) -> dict[str, pd.DataFrame]:
    """The classifier's prediction of each pemda's normalised texts (index: the texts' positions); the distinct
    texts of pemda whose classifiers share one fit are classified once, together."""
    groups: dict[tuple, list[str]] = {}
    for kode_pemda in normalised:
        groups.setdefault(_fit_of(classifiers[kode_pemda]), []).append(kode_pemda)
    out = {}
    for members in groups.values():
        together = pd.concat([normalised[k] for k in members], ignore_index=True)
        codes, distinct = pd.factorize(together.fillna(""), sort=False)
        predicted = classifiers[members[0]].predict_normalised(pd.Series(distinct, dtype="string"))
        start = 0
        for kode_pemda in members:
            at = codes[start : start + len(normalised[kode_pemda])]
            out[kode_pemda] = predicted.iloc[at].reset_index(drop=True)
            start += len(at)
    return out


def map_texts(
    frame: pd.DataFrame,
    tahun: int,
    classifiers: Mapping[str, Classifier],
    threshold: float | None = None,
) -> pd.DataFrame:
    """The text mapping of every row of `frame` (columns kode_pemda, uraian_usulan; index kept), each distinct text
    of a pemda decided once. `classifiers` holds the classifier of each pemda; `threshold` overrides the
    classifier's own review threshold."""
    pemda = []
    for kode_pemda, rows in frame.groupby("kode_pemda", sort=False):
        texts = rows["uraian_usulan"].astype("string").fillna("")
        codes, distinct = pd.factorize(texts, sort=False)
        distinct = pd.Series(distinct, dtype="string")
        pemda.append((kode_pemda, rows.index, codes, distinct, classifiers[kode_pemda].normaliser(distinct)))
    predicted = _predictions({k: normalised for k, _, _, _, normalised in pemda}, classifiers)
    parts = []
    for kode_pemda, index, codes, distinct, normalised in pemda:
        classifier = classifiers[kode_pemda]
        decided = _decide_pemda(
            distinct,
            normalised,
            predicted[kode_pemda],
            str(kode_pemda),
            tahun,
            classifier,
            classifier.threshold if threshold is None else threshold,
        )
        part = decided.iloc[codes].reset_index(drop=True)
        part.index = index
        parts.append(part)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in OUTPUT_COLUMNS}, index=frame.index)
    return pd.concat(parts).reindex(frame.index)[list(OUTPUT_COLUMNS)]
