"""Free-text usulan -> bidang urusan (+ sub kegiatan) with a calibrated confidence.

Bidang: TF-IDF over words and characters (for typos) of the normalised text, and a linear SVM (LinearSVC;
LogisticRegression selectable) with sample weights by source (verified > kamus > Renja > nomenclature). The words of
the address part of a text ("... depan SDN 1", see normalise) count `tail_weight` times as much as the object's.
A background class "umum" learns unspecific texts ("bantuan", "usulan warga", "terlampir") and is never returned.
Confidence = softmax(scores / T), T fitted on kamus phrasings predicted by models that never saw their kamus entry
(folds grouped by kamus entry, so no phrasing of an entry helps predict another), so it reads as the probability
that the bidang is right. On the same out-of-fold predictions the review threshold is chosen: the lowest confidence
from which the auto-mapped rows are right at least `target_precision` of the time. Sub kegiatan: the most similar
labelled text (cosine over the same features) within the predicted bidang, if similar enough. Planner-verified
texts also win by exact (normalised) match. The runner-up bidang is the next most probable one.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
from rapidfuzz import fuzz, process
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from tasks.map.classify import training
from tasks.map.classify.normalise import SEPARATOR, Normaliser

PARAMS = {
    "word_ngrams": (1, 2),
    "char_ngrams": (2, 5),
    "stem": True,
    "tail_weight": 0.4,
    "C": 0.5,
    "estimator": "linear_svc",
    "class_weight": None,
    "weights": {"nomenklatur": 1.0, "renja": 3.0, "kamus_template": 1.0, "kamus": 4.0, "verified": 20.0, "umum": 2.0},
    "calibration_folds": 4,
    "fold_groups": "both",  # "phrasing", "entry" (every phrasing of a kamus entry held out together) or both pooled
    "near_duplicate": 80,  # token sort ratio from which two phrasings count as near-duplicates
    "target_precision": 0.95,
    # a template kamus entry the region's own evidence reads as another bidang takes that bidang when this share of
    # its phrasings agree, with this mean confidence (softmax of scores / region_temperature)
    "relabel_share": 0.8,
    "relabel_confidence": 0.7,
    "region_temperature": 0.25,
    "sub_min_similarity": 0.35,
    "random_state": 0,
    "code": 3,  # bump when the training or prediction code changes results
}
OUTPUT_COLUMNS = ["kode_bidang_urusan", "kode_sub_kegiatan", "confidence", "model_version", "kode_bidang_alternatif"]
_MEMORY: dict[str, Classifier] = {}  # by model version
_FITTED: dict[str, dict] = {}  # fitted parts by fit key
_FIT_LOCK = threading.Lock()


class ObjectFeatures(BaseEstimator, TransformerMixin):
    """TF-IDF of words and characters where the address part of a normalised text ("object | address") counts
    `tail_weight` times as much as the object part; rows are L2-normalised."""

    def __init__(self, union: FeatureUnion, tail_weight: float = 0.4):
        self.union = union
        self.tail_weight = tail_weight

    @staticmethod
    def _parts(texts) -> tuple[list[str], list[str]]:
        split = [str(t).partition(SEPARATOR) for t in texts]
        return [h for h, _, _ in split], [t for _, _, t in split]

    def fit(self, texts, y=None):
        head, tail = self._parts(texts)
        self.union.fit([f"{h} {t}".strip() for h, t in zip(head, tail)])
        return self

    def transform(self, texts):
        head, tail = self._parts(texts)
        x = self.union.transform(head)
        has_tail = np.flatnonzero([bool(t) for t in tail])
        if len(has_tail):
            rows = sparse.csr_matrix(
                (np.ones(len(has_tail)), (has_tail, np.arange(len(has_tail)))), shape=(len(tail), len(has_tail))
            )
            x = x + self.tail_weight * (rows @ self.union.transform([tail[i] for i in has_tail]))
        return normalize(sparse.csr_matrix(x, dtype=np.float32))


def _features(params: dict) -> ObjectFeatures:
    return ObjectFeatures(_union(params), params["tail_weight"])


def _union(params: dict) -> FeatureUnion:
    """Word and character TF-IDF (either can be switched off with None)."""
    parts = []
    if params["word_ngrams"]:
        words = TfidfVectorizer(
            analyzer="word",
            ngram_range=tuple(params["word_ngrams"]),
            sublinear_tf=True,
            token_pattern=r"(?u)\b\w+\b",
            dtype=np.float32,
        )
        parts.append(("words", words))
    if params["char_ngrams"]:
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=tuple(params["char_ngrams"]), sublinear_tf=True, min_df=2, dtype=np.float32
        )
        parts.append(("chars", chars))
    return FeatureUnion(parts)


def _estimator(params: dict):
    if params["estimator"] == "logreg":
        return LogisticRegression(C=params["C"], max_iter=2000, class_weight=params["class_weight"])
    return LinearSVC(C=params["C"], random_state=params["random_state"], class_weight=params["class_weight"])


def _decision(estimator, x) -> np.ndarray:
    """Decision scores, one column per class also for two classes (sklearn gives one column there)."""
    scores = estimator.decision_function(x)
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def _softmax(scores: np.ndarray) -> np.ndarray:
    scores = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return e / e.sum(axis=1, keepdims=True)


def choose_threshold(confidence: np.ndarray, right: np.ndarray, target: float) -> float:
    """The lowest confidence t such that the rows at or above t are right at least `target` of the time
    (1.0, nothing auto-mapped, when no t reaches it)."""
    order = np.argsort(-confidence, kind="stable")
    precision = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    reach = np.flatnonzero(precision >= target)
    if not len(reach):
        return 1.0
    last = reach[-1]  # the largest set of top-confidence rows that still reaches the target
    return float(confidence[order][last])


def fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """Temperature T minimising the log loss of softmax(scores / T) on held-out rows."""
    grid = np.exp(np.linspace(np.log(0.02), np.log(20.0), 161))
    rows = np.arange(len(truth))
    losses = [-np.log(_softmax(scores / t)[rows, truth] + 1e-12).mean() for t in grid]
    return float(grid[int(np.argmin(losses))])


def model_version(frame: pd.DataFrame, normaliser: Normaliser, params: dict, rows_key: tuple | None = None) -> str:
    """Short stable hash of the training rows, the normaliser and the parameters. `rows_key` names what the rows
    are made of, so pemda with the same training rows sort and write them once."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [params, normaliser.signature, sklearn.__version__.rsplit(".", 1)[0]], sort_keys=True, default=list
        ).encode()
    )
    rows = _ROWS.get(rows_key) if rows_key is not None else None
    if rows is None:
        rows = frame.fillna("").sort_values(list(frame.columns)).to_csv(index=False).encode()
        if rows_key is not None:
            _ROWS[rows_key] = rows
    digest.update(rows)
    return digest.hexdigest()[:12]


_ROWS: dict[tuple, bytes] = {}  # training rows as sorted CSV, by what they are made of


@dataclass
class Classifier:
    """A trained bidang/sub kegiatan classifier for one pemda and nomenclature version."""

    tahun: int
    kode_pemda: str
    model_version: str
    normaliser: Normaliser
    features: ObjectFeatures
    estimator: LogisticRegression | LinearSVC
    temperature: float
    threshold: float  # confidence from which the out-of-fold phrasings were right >= target_precision
    cross_validation: dict  # out-of-fold figures: rows, top-1 accuracy, coverage and precision at the threshold
    sub_docs: sparse.csr_matrix  # L2-normalised features of texts that carry a sub kegiatan
    sub_codes: np.ndarray
    sub_bidang: np.ndarray
    verified: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    params: dict = field(default_factory=lambda: dict(PARAMS))
    training_seconds: float = 0.0

    # --- prediction ---------------------------------------------------------------------------------------
    def predict(self, texts: pd.Series) -> pd.DataFrame:
        """Bidang, sub kegiatan, confidence and model version per text (index kept). Each distinct normalised
        text is classified once."""
        raw_codes, raw_distinct = pd.factorize(texts.astype("string").fillna(""), sort=False)
        normalised = self.normaliser(pd.Series(raw_distinct, dtype="string"))
        at = raw_codes if len(raw_codes) else np.empty(0, dtype=np.intp)
        return self.predict_normalised(normalised).iloc[at].set_axis(texts.index)

    def predict_normalised(self, normalised: pd.Series) -> pd.DataFrame:
        """`predict` of texts already normalised with `self.normaliser` (index kept)."""
        norm_codes, distinct = pd.factorize(normalised.fillna(""), sort=False)
        result = self.classify_distinct(np.asarray(distinct, dtype=object))
        at = norm_codes if len(norm_codes) else np.empty(0, dtype=np.intp)
        return pd.DataFrame(
            {
                "kode_bidang_urusan": pd.array(result["bidang"][at], dtype="string"),
                "kode_sub_kegiatan": pd.array(result["sub"][at], dtype="string"),
                "confidence": result["confidence"][at],
                "model_version": pd.array([self.model_version] * len(at), dtype="string"),
                "kode_bidang_alternatif": pd.array(result["runner_up"][at], dtype="string"),
            },
            index=normalised.index,
            columns=OUTPUT_COLUMNS,
        )

    def classify_distinct(self, normalised: np.ndarray) -> dict[str, np.ndarray]:
        """Classify distinct normalised texts; empty texts get no bidang and confidence 0."""
        n = len(normalised)
        bidang = np.full(n, None, dtype=object)
        runner_up = np.full(n, None, dtype=object)
        sub = np.full(n, None, dtype=object)
        confidence = np.zeros(n, dtype=np.float64)
        filled = np.array([bool(t) for t in normalised], dtype=bool)
        if filled.any():
            x = self.features.transform(normalised[filled])
            probability = _softmax(_decision(self.estimator, x) / self.temperature)
            classes = self.estimator.classes_
            ranked = np.argsort(-np.where(classes == training.BACKGROUND, -1.0, probability), axis=1)[:, :2]
            best = ranked[:, 0]
            bidang[filled] = classes[best]
            runner_up[filled] = classes[ranked[:, 1]]
            confidence[filled] = probability[np.arange(len(best)), best]
            sub[filled] = self._nearest_sub(x, bidang[filled])
        for i, text in enumerate(normalised):
            if text in self.verified:
                bidang[i], sub[i] = self.verified[text]
                confidence[i] = 1.0
        return {"bidang": bidang, "sub": sub, "confidence": confidence, "runner_up": runner_up}

    def _nearest_sub(self, x: sparse.csr_matrix, bidang: np.ndarray) -> np.ndarray:
        out = np.full(len(bidang), None, dtype=object)
        for code in np.unique(bidang.astype(str)):
            rows = np.flatnonzero(bidang == code)
            docs = np.flatnonzero(self.sub_bidang == code)
            if not len(docs):
                continue
            similarity = (x[rows] @ self.sub_docs[docs].T).toarray()
            best = similarity.argmax(axis=1)
            good = similarity[np.arange(len(rows)), best] >= self.params["sub_min_similarity"]
            out[rows[good]] = self.sub_codes[docs[best[good]]]
        return out


# --- training -------------------------------------------------------------------------------------------------
def region_labels(
    texts: np.ndarray, labels: np.ndarray, weights: np.ndarray, groups: np.ndarray, template: np.ndarray, params: dict
) -> np.ndarray:
    """Labels where the template kamus gives way to the region's own evidence: a model fitted without the template
    rows (nomenclature, the region's Renja, kamus entries its Renja carries, verified corrections) reads each
    template entry's phrasings; where most of them (relabel_share) point to one other bidang with enough confidence
    (relabel_confidence), the entry takes that bidang ("Pembangunan Jalan Lingkungan Rabat Beton": Perkim in the
    template, PUPR's 1.03 in a region whose Renja has PUPR carry roads)."""
    if not template.any() or template.all():
        return labels
    own = ~template
    features = _features(params)
    estimator = _estimator(params).fit(features.fit_transform(texts[own]), labels[own], sample_weight=weights[own])
    probability = _softmax(_decision(estimator, features.transform(texts[template])) / params["region_temperature"])
    classes = estimator.classes_
    best = np.where(classes == training.BACKGROUND, -1.0, probability).argmax(axis=1)
    read = pd.DataFrame(
        {
            "group": groups[template],
            "label": labels[template],
            "read": classes[best],
            "confidence": probability.max(axis=1),
        }
    )
    out = labels.copy()
    for _, rows in read.groupby("group"):
        counts = rows["read"].value_counts()
        other, share = counts.index[0], counts.iloc[0] / len(rows)
        agree = rows["read"] == other
        if (
            other != rows["label"].iloc[0]
            and share >= params["relabel_share"]
            and rows.loc[agree, "confidence"].mean() >= params["relabel_confidence"]
        ):
            out[np.flatnonzero(template)[rows.index.to_numpy()]] = other
    return out


def _verified_lookup(frame: pd.DataFrame, normalised: pd.Series) -> dict[str, tuple[str, str | None]]:
    """Most frequent verified (bidang, sub kegiatan) per normalised text."""
    rows = frame.assign(key=normalised)[frame.source == "verified"]
    rows = rows[rows.key.fillna("") != ""]
    if rows.empty:
        return {}
    counts = rows.fillna({"kode_sub_kegiatan": ""}).groupby(["key", "kode_bidang_urusan", "kode_sub_kegiatan"]).size()
    counts = counts.reset_index(name="n").sort_values(
        ["key", "n", "kode_bidang_urusan", "kode_sub_kegiatan"], ascending=[True, False, True, True]
    )
    first = counts.drop_duplicates("key")
    return {k: (b, s or None) for k, b, s in zip(first.key, first.kode_bidang_urusan, first.kode_sub_kegiatan)}


def phrasing_groups(texts: np.ndarray, groups: np.ndarray, min_score: int) -> np.ndarray:
    """Fold groups of the held-out rows (kamus phrasings, verified texts): near-duplicates together. Two texts whose
    object parts reach `min_score` (rapidfuzz token sort ratio, the kamus match's own threshold) are linked, across
    entries too, and each connected set is one group; other rows keep "" (always in training)."""
    held = np.flatnonzero(groups != "")
    out = np.full(len(texts), "", dtype=object)
    if not len(held):
        return out
    objects = [str(t).partition(SEPARATOR)[0] for t in texts[held]]
    close = process.cdist(objects, objects, scorer=fuzz.token_sort_ratio, dtype=np.uint8, workers=1) >= min_score
    _, component = connected_components(sparse.csr_matrix(close), directed=False)
    out[held] = [f"p{c}" for c in component]
    return out


def out_of_fold(
    texts: np.ndarray, labels: np.ndarray, weights: np.ndarray, groups: np.ndarray, params: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decision scores of the grouped rows (kamus phrasings, verified texts) by models that never saw their
    group, over one class list: (scores, index of the true class, classes). Folds are grouped by phrasing
    (near-duplicates held out together, see `phrasing_groups`: the kamus knows the topic from other phrasings) or
    by kamus entry (the topic is new to the kamus), or both pooled (`fold_groups`), each row then counted twice."""
    if params["fold_groups"] == "both":
        parts = [
            out_of_fold(texts, labels, weights, groups, {**params, "fold_groups": g}) for g in ("phrasing", "entry")
        ]
        return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), parts[0][2]
    if params["fold_groups"] == "phrasing":
        groups = phrasing_groups(texts, groups, params["near_duplicate"])
    classes = np.unique(labels)
    held = np.flatnonzero(groups != "")
    folds = GroupKFold(n_splits=params["calibration_folds"])
    scores = np.full((len(held), len(classes)), -1e3)
    for _, test in folds.split(held, groups=groups[held]):
        test_rows = held[test]
        train_rows = np.setdiff1d(np.arange(len(texts)), test_rows)
        features = _features(params)
        estimator = _estimator(params).fit(
            features.fit_transform(texts[train_rows]), labels[train_rows], sample_weight=weights[train_rows]
        )
        columns = np.searchsorted(classes, estimator.classes_)
        scores[np.ix_(test, columns)] = _decision(estimator, features.transform(texts[test_rows]))
    return scores, np.searchsorted(classes, labels[held]), classes


def _calibrate(
    texts: np.ndarray, labels: np.ndarray, weights: np.ndarray, groups: np.ndarray, params: dict
) -> tuple[float, float, dict]:
    """Temperature, review threshold and out-of-fold figures from the grouped rows."""
    scores, truth, classes = out_of_fold(texts, labels, weights, groups, params)
    temperature = fit_temperature(scores, truth)
    probability = _softmax(scores / temperature)
    best = np.where(classes == training.BACKGROUND, -1.0, probability).argmax(axis=1)
    confidence = probability[np.arange(len(best)), best]
    right = best == truth
    threshold = choose_threshold(confidence, right, params["target_precision"])
    auto = confidence >= threshold
    figures = {
        "rows": len(right),
        "accuracy": float(right.mean()),
        "coverage": float(auto.mean()),
        "precision": float(right[auto].mean()) if auto.any() else float("nan"),
    }
    return temperature, threshold, figures


def _prepare(tahun: int, kode_pemda: str, verified: pd.DataFrame | None, params: dict):
    """Training rows, the normaliser and the model version they give."""
    frame = training.training_texts(tahun, kode_pemda, verified)
    normaliser = Normaliser(training.keep_words(tahun, kode_pemda), training.place_names(kode_pemda), params["stem"])
    own = training.verified_texts(verified)
    rows_key = (training.reference_key(tahun, kode_pemda), own.fillna("").to_csv(index=False))
    return frame, normaliser, model_version(frame, normaliser, params, rows_key)


def _fit_key(
    texts: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    groups: np.ndarray,
    subs: np.ndarray,
    template: np.ndarray,
    params: dict,
) -> str:
    """Hash of exactly what the fit sees: pemda whose normalised training rows are equal share one fit."""
    digest = hashlib.sha256(
        json.dumps([params, sklearn.__version__.rsplit(".", 1)[0]], sort_keys=True, default=list).encode()
    )
    for column in (texts, labels, weights.astype(str), groups, subs, template):
        digest.update("\x1f".join(map(str, column)).encode() + b"\x1e")
    return digest.hexdigest()[:16]


def _fit(
    texts: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    groups: np.ndarray,
    subs: np.ndarray,
    template: np.ndarray,
    params: dict,
) -> dict:
    """Calibrated estimator, review threshold and sub kegiatan index fitted on normalised texts (template kamus
    rows relabelled by the region's evidence first, see `region_labels`)."""
    relabelled = region_labels(texts, labels, weights, groups, template, params)
    subs = np.where(relabelled == labels, subs, None)
    labels = relabelled
    temperature, threshold, figures = _calibrate(texts, labels, weights, groups, params)
    features = _features(params)
    estimator = _estimator(params).fit(features.fit_transform(texts), labels, sample_weight=weights)
    has_sub = pd.notna(subs)
    return {
        "features": features,
        "estimator": estimator,
        "temperature": temperature,
        "threshold": threshold,
        "cross_validation": figures,
        "sub_docs": features.transform(texts[has_sub]).tocsr(),
        "sub_codes": subs[has_sub],
        "sub_bidang": labels[has_sub],
    }


def _fitted(
    texts: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    groups: np.ndarray,
    subs: np.ndarray,
    template: np.ndarray,
    params: dict,
    cache_dir: Path | None,
) -> dict:
    """The fit for these rows: from this process's memory, else `cache_dir/fit_<key>.joblib`, else fitted
    now and written there atomically (parallel workers never read half a file). Threads wait for one fit."""
    key = _fit_key(texts, labels, weights, groups, subs, template, params)
    with _FIT_LOCK:
        if key in _FITTED:
            return _FITTED[key]
        path = Path(cache_dir) / f"fit_{key}.joblib" if cache_dir else None
        if path is not None and path.exists():
            parts = joblib.load(path)
        else:
            parts = _fit(texts, labels, weights, groups, subs, template, params)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
                joblib.dump(parts, partial, compress=3)
                os.replace(partial, path)
        return _FITTED.setdefault(key, parts)


def train(
    tahun: int,
    kode_pemda: str,
    verified: pd.DataFrame | None = None,
    params: dict | None = None,
    cache_dir: str | Path | None = None,
) -> Classifier:
    """The classifier of a tahun and pemda: its own normaliser (place names, keep words) over a fit that
    is shared with every pemda whose normalised training rows are the same (see `_fitted`)."""
    params = dict(PARAMS if params is None else params)
    frame, normaliser, version = _prepare(tahun, kode_pemda, verified, params)
    if version in _MEMORY:
        return _MEMORY[version]

    started = time.perf_counter()
    normalised = training.normalise_rows(frame, tahun, kode_pemda, normaliser)
    usable = (normalised.fillna("") != "").to_numpy()
    frame, normalised = frame[usable].reset_index(drop=True), normalised[usable].reset_index(drop=True)
    texts = normalised.to_numpy(dtype=object)
    labels = frame.kode_bidang_urusan.to_numpy(dtype=object)
    weights = frame.source.map(params["weights"]).to_numpy(dtype=float)
    groups = frame.group.fillna("").to_numpy(dtype=object)
    subs = frame.kode_sub_kegiatan.astype(object).where(frame.kode_sub_kegiatan.notna(), None).to_numpy()
    template = (frame.source == "kamus_template").to_numpy()
    parts = _fitted(texts, labels, weights, groups, subs, template, params, cache_dir)
    classifier = Classifier(
        tahun=tahun,
        kode_pemda=kode_pemda,
        model_version=version,
        normaliser=normaliser,
        verified=_verified_lookup(frame, normalised),
        params=params,
        **parts,
    )
    classifier.training_seconds = time.perf_counter() - started
    return _MEMORY.setdefault(version, classifier)


def train_cached(
    tahun: int,
    kode_pemda: str,
    verified: pd.DataFrame | None = None,
    cache_dir: str | Path | None = None,
    params: dict | None = None,
) -> Classifier:
    """`train` with its fit cached on disk in `cache_dir` (shared by runs, processes and pemda)."""
    return train(tahun, kode_pemda, verified, params, cache_dir)
