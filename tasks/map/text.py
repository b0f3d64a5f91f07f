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


def _lookups(
    kode_pemda: str,
    tahun: int,
    classifier: Classifier,
    texts: pd.Series,
    keys: np.ndarray,
    normalised: pd.Series,
    best: np.ndarray,
) -> dict[str, np.ndarray]:
    """What deciding the distinct texts of one pemda needs from its own references, one value per text: the
    entry whose kamus name the text is (its text_key `keys`), the jurisdiction rule of the text, the fuzzy kamus
    match of its normalised form, and whether an OPD of the pemda carries the bidang the classifier gives
    (`best`)."""
    index = kamus_index(kode_pemda, tahun, classifier.normaliser)
    entries = index.kamus  # the usable entries, one per id_kamus
    found: dict[str, np.ndarray] = {"exact": index.by_name.reindex(keys).to_numpy(dtype=object)}
    fuzzy = index.match(normalised)
    found["fuzzy"] = fuzzy.id_kamus.to_numpy(dtype=object, na_value=np.nan)
    found["fuzzy_score"] = fuzzy.kamus_score.to_numpy(dtype=float)
    for which in ("exact", "fuzzy"):  # the entry's bidang and sub kegiatan
        entry = entries.reindex(pd.Series(found[which]).fillna("").to_numpy())
        found[f"{which}_bidang"] = entry.kode_bidang_urusan.to_numpy(dtype=object)
        found[f"{which}_sub"] = entry.kode_sub_kegiatan.to_numpy(dtype=object)
    rule = jurisdiction(texts, classifier.normaliser)
    found["kewenangan"] = rule.kewenangan.to_numpy()
    found["rule_bidang"] = rule.kode_bidang_urusan.to_numpy()
    found["rule_alasan"] = rule.alasan_review.to_numpy()
    carried = training.bidang_of_pemda(kode_pemda, tahun)
    found["not_carried"] = np.array([b not in carried for b in best], dtype=bool)
    return found


def _decide(
    normalised: pd.Series,
    predicted: pd.DataFrame,
    found: dict[str, np.ndarray],
    threshold: np.ndarray,
    model_version: np.ndarray,
) -> pd.DataFrame:
    """The decision for distinct texts of any number of pemda (one row each, positional), given their
    normalised form, the classifier's prediction of it, what their pemda's references give (`_lookups`), and
    the threshold and model version of their pemda's classifier."""
    n = len(normalised)
    out = {c: np.full(n, None, dtype=object) for c in OUTPUT_COLUMNS}  # filled by masks, typed at the end
    mapping_confidence = np.full(n, np.nan)
    names = _bidang_names()
    out["kewenangan"] = found["kewenangan"]
    out["kode_bidang_alternatif"] = predicted.kode_bidang_alternatif.to_numpy(dtype=object, copy=True)
    confidence = predicted.confidence.to_numpy()
    best, runner_up = _codes(predicted.kode_bidang_urusan), _codes(predicted.kode_bidang_alternatif)

    # 1. exact kamus name, 2. jurisdiction, 3. fuzzy kamus
    is_exact = ~pd.isna(found["exact"])
    outside = (found["kewenangan"] != KABKOTA) & ~is_exact
    is_fuzzy = ~pd.isna(found["fuzzy"]) & ~is_exact & ~outside
    # a fuzzy match gives way to a classifier sure of another bidang: the match reads the address as much as the
    # object (a road "ke" a mosque can meet a mosque's entry), the classifier weighs the object
    is_fuzzy &= ~((best != _codes(pd.Series(found["fuzzy_bidang"]))) & (confidence >= threshold))
    hit = is_exact | is_fuzzy
    out["id_kamus"][is_exact] = found["exact"][is_exact]
    out["id_kamus"][is_fuzzy] = found["fuzzy"][is_fuzzy]
    kamus_bidang = np.where(is_exact, found["exact_bidang"], found["fuzzy_bidang"])
    out["kode_bidang_urusan"][hit] = kamus_bidang[hit]
    out["kode_sub_kegiatan"][hit] = np.where(is_exact, found["exact_sub"], found["fuzzy_sub"])[hit]
    out["mapping_method"][is_exact] = "kamus"
    out["mapping_method"][is_fuzzy] = "kamus_fuzzy"
    mapping_confidence[is_exact] = 1.0
    mapping_confidence[is_fuzzy] = found["fuzzy_score"][is_fuzzy] / 100
    out["mapping_version"][hit] = out["mapping_method"][hit]
    # the classifier's other opinion is the alternative of a kamus match
    other = np.where(best != np.where(hit, _codes(pd.Series(kamus_bidang)), ""), best, runner_up)
    out["kode_bidang_alternatif"][hit] = other[hit]

    # 4. classifier, and the review queue with its reasons and suggestions
    rest = ~hit & ~outside
    empty = (normalised.fillna("") == "").to_numpy()
    not_carried = found["not_carried"]
    sure = rest & ~empty & (confidence >= threshold) & ~not_carried
    sub_kegiatan = predicted.kode_sub_kegiatan.to_numpy(dtype=object)
    out["mapping_method"][sure] = "klasifikasi"
    out["kode_bidang_urusan"][sure] = best[sure]
    out["kode_sub_kegiatan"][sure] = sub_kegiatan[sure]
    classified = (rest | outside) & ~empty
    mapping_confidence[classified] = confidence[classified]
    out["mapping_version"][rest | outside] = model_version[rest | outside]
    waiting = ~hit & ~sure & ~outside
    out["saran_bidang_urusan"][waiting] = best[waiting]
    out["saran_sub_kegiatan"][waiting] = sub_kegiatan[waiting]
    out["saran_bidang_urusan"][outside] = found["rule_bidang"][outside]
    out["alasan_review"][outside] = found["rule_alasan"][outside]
    alternatif = predicted.kode_bidang_alternatif.to_numpy(dtype=object)
    out["alasan_review"][waiting] = [
        EMPTY
        if e
        else (
            f"bidang {b} ({names.get(b, b)}) tidak diampu OPD mana pun di pemda ini"
            if nc
            else f"{LOW_CONFIDENCE} ({c:.2f} < ambang {t:.2f}): saran {b} {names.get(b, b)}, alternatif {a}"
        )
        for e, nc, b, c, t, a in zip(
            empty[waiting],
            not_carried[waiting],
            best[waiting],
            confidence[waiting],
            threshold[waiting],
            alternatif[waiting],
            strict=True,
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
    if not pemda:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in OUTPUT_COLUMNS}, index=frame.index)
    # the distinct texts of every pemda, one after another, decided together
    distinct = pd.concat([texts for _, _, _, texts, _ in pemda], ignore_index=True)
    keys = text_key(distinct).to_numpy(dtype=object)
    normalised = pd.concat([normalised for *_, normalised in pemda], ignore_index=True)
    guesses = pd.concat([predicted[kode_pemda] for kode_pemda, *_ in pemda], ignore_index=True)
    best = _codes(guesses.kode_bidang_urusan)
    found: dict[str, list[np.ndarray]] = {}
    thresholds, versions, take, start = [], [], [], 0
    for kode_pemda, _, codes, texts, pemda_normalised in pemda:
        classifier = classifiers[kode_pemda]
        at = slice(start, start + len(texts))
        part = _lookups(str(kode_pemda), tahun, classifier, texts, keys[at], pemda_normalised, best[at])
        for name, values in part.items():
            found.setdefault(name, []).append(values)
        thresholds.append(np.full(len(texts), classifier.threshold if threshold is None else threshold))
        versions.append(np.full(len(texts), classifier.model_version, dtype=object))
        take.append(codes + start)
        start += len(texts)
    decided = _decide(
        normalised,
        guesses,
        {name: np.concatenate(values) for name, values in found.items()},
        np.concatenate(thresholds),
        np.concatenate(versions),
    )
    out = decided.iloc[np.concatenate(take)]
    out.index = np.concatenate([index for _, index, _, _, _ in pemda])
    return out.reindex(frame.index)[list(OUTPUT_COLUMNS)]
