"""Recognise a resident's phrasing of a kamus item: a normalised fuzzy match with a score.

A normalised text (see normalise: no place names, stemmed, abbreviations expanded, object and address words) is
compared with every normalised kamus name and resident phrasing of the entries that speak for the pemda
(training.speaks_for: its own kamus, or template entries its Renja carries), by rapidfuzz's token sort ratio
(0-100; word order and typos tolerated). A text matches an entry when its best score reaches MIN_SCORE and beats the
best score of every other entry by MARGIN; otherwise the match is ambiguous or absent and the text goes on to the
classifier. MIN_SCORE and MARGIN were chosen on the kamus itself, each phrasing matched against all the others
(`leave_one_out`): right bidang on every match (286 in 18.02, 137 in 17.03), the right entry on 94 % and 93 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from reference import store
from tasks.map.classify import training
from tasks.map.classify.normalise import SEPARATOR, Normaliser
from tasks.map.opd import text_key

MIN_SCORE = 80
MARGIN = 8
COLUMNS = ["id_kamus", "kamus_score"]


def object_part(normalised: pd.Series) -> pd.Series:
    """The words of a normalised text, object and address together (an address can change the topic: "siring di
    sawah" is not "siring")."""
    return normalised.fillna("").str.replace(SEPARATOR, " ", regex=False)


@dataclass
class KamusIndex:
    """Normalised kamus names and phrasings of one pemda, with the entry each belongs to."""

    texts: np.ndarray
    entries: np.ndarray  # id_kamus per text
    kamus: pd.DataFrame  # usable entries, indexed by id_kamus
    by_name: pd.Series  # id_kamus by the text_key of its name (names two entries share left out)

    def scores(self, objects: list[str]) -> np.ndarray:
        """Best score per (text, entry): rows = objects, columns = self.kamus.index."""
        if not len(self.texts) or not objects:
            return np.zeros((len(objects), len(self.kamus)), dtype=np.uint8)
        raw = process.cdist(objects, list(self.texts), scorer=fuzz.token_sort_ratio, dtype=np.uint8, workers=1)
        columns = self.kamus.index.get_indexer(self.entries)
        best = np.zeros((len(objects), len(self.kamus)), dtype=np.uint8)
        for column in np.unique(columns):
            best[:, column] = raw[:, columns == column].max(axis=1)
        return best

    def match(self, normalised: pd.Series, min_score: int = MIN_SCORE, margin: int = MARGIN) -> pd.DataFrame:
        """id_kamus (empty when no unambiguous match) and the best score, per normalised text (index kept)."""
        objects = object_part(normalised)
        if self.kamus.empty:  # no kamus entry speaks for the pemda
            return pd.DataFrame({"id_kamus": pd.array([pd.NA] * len(objects), dtype="string"), "kamus_score": 0},
                                index=normalised.index)  # fmt: skip
        codes, distinct = pd.factorize(objects, sort=False)
        best = self.scores([str(t) for t in distinct])
        entry, score = decide(best, min_score, margin)
        ids = np.where(entry >= 0, self.kamus.index.to_numpy()[np.maximum(entry, 0)], None) if len(entry) else entry
        out = pd.DataFrame(
            {"id_kamus": pd.array(ids[codes] if len(codes) else [], dtype="string"), "kamus_score": score[codes]},
            index=normalised.index,
        )
        out.loc[objects.eq("").to_numpy(), "id_kamus"] = pd.NA
        return out


def decide(best: np.ndarray, min_score: int, margin: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of an entry score matrix: the matched column (-1 when below min_score or within margin of the
    runner-up entry) and the best score."""
    if not best.size:
        return np.full(len(best), -1), np.zeros(len(best), dtype=np.uint8)
    order = np.sort(best, axis=1)
    top = order[:, -1]
    second = order[:, -2] if best.shape[1] > 1 else np.zeros(len(best), dtype=np.uint8)
    chosen = best.argmax(axis=1)
    sure = (top >= min_score) & (top.astype(int) - second.astype(int) >= margin)
    return np.where(sure, chosen, -1), top


@lru_cache(maxsize=store.PEMDA_CACHE)  # every pemda of a national run: a level maps them all
def kamus_index(kode_pemda: str, tahun: int, normaliser: Normaliser) -> KamusIndex:
    """The pemda's kamus names and phrasings (placeholders blank), normalised with its normaliser."""
    kamus = training.usable_kamus(kode_pemda, tahun)
    if kamus.empty:  # no entry speaks for the pemda (a template kamus its Renja does not carry): nothing to read
        nothing = np.array([], dtype=object)
        return KamusIndex(nothing, nothing, kamus.set_index("id_kamus"), pd.Series(nothing, index=nothing))
    phrases = training.kamus_phrases(kamus, blank_placeholders=True)
    objects = object_part(normaliser(phrases.text))
    keep = (objects != "").to_numpy()
    entries = kamus.drop_duplicates("id_kamus").set_index("id_kamus")
    by_name = pd.Series(entries.index.to_numpy(), index=text_key(entries.nama_kamus.reset_index(drop=True)))
    return KamusIndex(
        objects[keep].to_numpy(dtype=object),
        phrases.id_kamus[keep].to_numpy(dtype=object),
        entries,
        by_name[~by_name.index.duplicated(keep=False)],
    )


def leave_one_out(index: KamusIndex, min_score: int, margin: int) -> dict[str, float]:
    """Each kamus text matched against all the others (its own row left out): the share matched and the share
    of matches whose entry has the text's bidang."""
    raw = process.cdist(list(index.texts), list(index.texts), scorer=fuzz.token_sort_ratio, dtype=np.uint8, workers=1)
    np.fill_diagonal(raw, 0)
    columns = index.kamus.index.get_indexer(index.entries)
    best = np.zeros((len(index.texts), len(index.kamus)), dtype=np.uint8)
    for column in np.unique(columns):
        best[:, column] = raw[:, columns == column].max(axis=1)
    entry, _ = decide(best, min_score, margin)
    matched = entry >= 0
    bidang = index.kamus.kode_bidang_urusan.to_numpy()
    right = bidang[np.maximum(entry, 0)] == bidang[columns]
    return {
        "texts": len(entry),
        "matched": float(matched.mean()),
        "right bidang": float(right[matched].mean()) if matched.any() else float("nan"),
        "right entry": float((entry == columns)[matched].mean()) if matched.any() else float("nan"),
    }
