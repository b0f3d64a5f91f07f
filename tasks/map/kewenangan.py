"""Jurisdiction (kewenangan) of an usulan under UU 23/2014: is it the kabupaten/kota's work at all?

The rules are reference data (`reference/kewenangan/kewenangan_uu23_2014.csv`, sources in reference/NOTICE.md): a
pattern over the object of the text, the level that carries such work (provinsi or pusat), the bidang it belongs
to there, and the reason with its legal basis. A pattern is searched in the object part of the text (before
"di", "depan", "dekat", ...: "halte di depan SMA" is about a halte); for road rules also in the address part when
the object is part of the road ("jembatan di ruas jalan provinsi"), but not after "ke"/"menuju" ("jalan kampung
yang tembus ke jalan nasional" is the kampung's road). A row that matches no rule is the kabupaten/kota's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from reference import store
from tasks.map.classify.normalise import Normaliser

RULES_FILE = store.DATA / "kewenangan" / "kewenangan_uu23_2014.csv"
KABKOTA = "kabkota"
ROAD_OBJECT = re.compile(r"\b(jalan|jembatan|ruas|aspal|hotmix|bahu|trotoar|jalur)\b")
DESTINATION = frozenset(["ke", "menuju", "arah"])
COLUMNS = ["kewenangan", "kode_bidang_urusan", "alasan_review"]


@dataclass(frozen=True)
class Rule:
    name: str
    kewenangan: str
    kode_bidang_urusan: str | None
    pattern: re.Pattern
    unless: re.Pattern | None
    road: bool  # also searched in the address part when the object is part of the road
    alasan: str
    dasar: str

    def reason(self) -> str:
        return f"bukan kewenangan kabupaten/kota (kewenangan {self.kewenangan}: {self.alasan}; {self.dasar})"


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    raw = pd.read_csv(RULES_FILE, dtype=str, keep_default_na=False, encoding="utf-8")
    return tuple(
        Rule(
            r.aturan,
            r.kewenangan,
            r.kode_bidang_urusan or None,
            re.compile(r.pola),
            re.compile(r.kecuali) if r.kecuali else None,
            r.alamat_jalan == "ya",
            r.alasan,
            r.dasar,
        )
        for r in raw.itertuples(index=False)
    )


@lru_cache(maxsize=1)
def _any_rule() -> re.Pattern:
    """One pattern matching wherever some rule's pattern does (most texts match none: one search for them)."""
    return re.compile("|".join(f"(?:{r.pattern.pattern})" for r in rules()))


def rule_for(text: str, normaliser: Normaliser) -> Rule | None:
    """The first rule whose pattern the text's object (or, for road rules, its road address) matches; the pemda's
    place names are left out first ("Kota Gajah" is a kecamatan, not an elephant)."""
    return _rule_of(*normaliser.object_and_address(text))


@lru_cache(maxsize=1 << 16)
def _rule_of(head: str, marker: str, tail: str) -> Rule | None:
    """`rule_for` of a text's object, address marker and address (once the pemda's place names are out): the
    same for every pemda, so searched once per process."""
    whole = " ".join(part for part in (head, marker, tail) if part)
    if not _any_rule().search(whole):
        return None
    road_address = tail if marker not in DESTINATION and ROAD_OBJECT.search(head) else ""
    for rule in rules():
        if rule.unless is not None and rule.unless.search(whole):
            continue
        if rule.pattern.search(head) or (rule.road and road_address and rule.pattern.search(road_address)):
            return rule
    return None


def jurisdiction(texts: pd.Series, normaliser: Normaliser) -> pd.DataFrame:
    """Per text (index kept): kewenangan (kabkota, provinsi or pusat), the bidang the work belongs to when it is
    not the kabupaten/kota's, and the review reason in Indonesian (empty for kabkota). Each distinct text once;
    `normaliser` is the pemda's (its place names)."""
    codes, distinct = pd.factorize(texts.astype("string").fillna(""), sort=False)
    found = [rule_for(t, normaliser) for t in distinct]
    table = pd.DataFrame(
        {
            "kewenangan": [r.kewenangan if r else KABKOTA for r in found],
            "kode_bidang_urusan": [r.kode_bidang_urusan if r else None for r in found],
            "alasan_review": [r.reason() if r else None for r in found],
        },
        dtype="string",
    )
    out = table.iloc[codes].reset_index(drop=True) if len(codes) else table.iloc[:0]
    out.index = texts.index
    return out
