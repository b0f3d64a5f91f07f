"""Choose the classifier's features by cross-validation grouped by phrasing.

`python -m tasks.map.classify.select [--pemda 18.02] [--tahun 2026]` fits the candidates below on the training texts
of a pemda. The held-out rows are the kamus names and residents' phrasings (and verified corrections), on 4 folds
grouped as `model.out_of_fold` does: near-duplicate phrasings (token sort ratio >= 80, across entries) are held
out together, so no near-duplicate of a held-out text is seen in training; and, pooled with those, folds that hold
out every phrasing of a kamus entry together (a topic new to the kamus). It prints per candidate: out-of-fold top-1
accuracy, log loss after temperature scaling, and the review threshold for the target precision with the share of
rows it auto-maps. The evaluation sets in tests/data are never read. One fit at a time (CPU-heavy: about 3 s per
fold on 2 cores).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from tasks.map.classify import model, training

CANDIDATES: dict[str, dict] = {
    "chosen": {},
    "folds by phrasing": {"fold_groups": "phrasing"},
    "folds by kamus entry": {"fold_groups": "entry"},
    "words only": {"char_ngrams": None},
    "chars 3-5": {"char_ngrams": (3, 5)},
    "chars 2-4": {"char_ngrams": (2, 4)},
    "words 1": {"word_ngrams": (1, 1)},
    "no stemming": {"stem": False},
    "address as object": {"tail_weight": 1.0},
    "no address": {"tail_weight": 0.0},
    "balanced classes": {"class_weight": "balanced"},
    "C 0.25": {"C": 0.25},
    "C 1": {"C": 1.0},
    "logistic regression": {"estimator": "logreg", "C": 10.0},
}


def rows_for(tahun: int, kode_pemda: str, params: dict) -> tuple[np.ndarray, ...]:
    """Normalised training texts, labels, weights and kamus groups of a pemda, as `model.train` fits them."""
    frame, normaliser, _ = model._prepare(tahun, kode_pemda, None, params)
    normalised = training.normalise_rows(frame, tahun, kode_pemda, normaliser)
    usable = (normalised.fillna("") != "").to_numpy()
    frame, normalised = frame[usable], normalised[usable]
    texts = normalised.to_numpy(dtype=object)
    weights = frame.source.map(params["weights"]).to_numpy(dtype=float)
    groups = frame.group.fillna("").to_numpy(dtype=object)
    template = (frame.source == "kamus_template").to_numpy()
    labels = model.region_labels(
        texts, frame.kode_bidang_urusan.to_numpy(dtype=object), weights, groups, template, params
    )
    return texts, labels, weights, groups


def cross_validate(tahun: int, kode_pemda: str, params: dict) -> dict[str, float]:
    texts, labels, weights, groups = rows_for(tahun, kode_pemda, params)
    scores, truth, classes = model.out_of_fold(texts, labels, weights, groups, params)
    temperature = model.fit_temperature(scores, truth)
    probability = model._softmax(scores / temperature)
    best = np.where(classes == training.BACKGROUND, -1.0, probability).argmax(axis=1)
    confidence = probability[np.arange(len(best)), best]
    right = best == truth
    threshold = model.choose_threshold(confidence, right, params["target_precision"])
    auto = confidence >= threshold
    return {
        "rows": len(right),
        "top-1": right.mean(),
        "log loss": -np.log(probability[np.arange(len(truth)), truth] + 1e-12).mean(),
        "threshold": threshold,
        "auto-mapped": auto.mean(),
        "precision": right[auto].mean() if auto.any() else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pemda", default="18.02")
    parser.add_argument("--tahun", type=int, default=2026)
    parser.add_argument("--only", nargs="*", help="candidate names to run (default: all)")
    args = parser.parse_args()
    results = {}
    for name, change in CANDIDATES.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        results[name] = cross_validate(args.tahun, args.pemda, {**model.PARAMS, **change})
        results[name]["seconds"] = time.perf_counter() - started
        print(name, {k: round(float(v), 3) for k, v in results[name].items()}, flush=True)
    print(pd.DataFrame(results).T.round(3).to_string())


if __name__ == "__main__":
    main()
