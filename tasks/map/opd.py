"""Which OPD carries an usulan: routing with evidence over many rows of several pemda.

`route_opd` is the rule, for a frame of any number of rows and pemda (columns kode_pemda, tahun,
kode_bidang_urusan, kode_sub_kegiatan, kode_kecamatan):

- a kecamatan-carried usulan (bidang 7.01) goes to the SKPD of its own kecamatan;
- otherwise the candidates are the OPD of the pemda's list (in force for the tahun) whose kode SKPD names the
  bidang. The deepest evidence wins: the OPD the Renja shows carrying that very sub kegiatan, then the OPD the
  pemda's own kamus gives for it, then the same for its kegiatan, then its program; among OPD with the same
  evidence, the one with more Renja lines (locations) of it. Then, as without evidence: the OPD whose kode names
  the bidang first (slot 1 before 2 and 3), a unit before a sub-unit (UPTD, RSUD, Puskesmas), then kode order.
  (Not the Renja pagu: salaries and large works would decide it, not what the OPD carries for residents);
- `opd_alternatif` lists the other candidates (units, and sub-units the evidence names), best first.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from reference import store
from schemas import KAMUS, OPD, RENJA
from schemas.contract import Table
from tasks.distinct import distinct_rows
from tasks.map.classify import lexicon
from tasks.map.classify.normalise import Normaliser, stem_word

_NO_TAHUN = -1  # a row without tahun: the pemda's newest reference
_LEVELS = (("sub", None), ("kegiatan", r"\.\d{2,4}$"), ("program", r"\.\d\.\d{2}\.\d{2,4}$"))  # evidence depth


def text_key(values: pd.Series) -> pd.Series:
    """Case/punctuation/spacing-insensitive key of a kamus or OPD name (each distinct value worked on once)."""
    values = values.fillna("").astype("string")
    codes, distinct = pd.factorize(values, sort=False)
    keys = pd.Series(distinct, dtype="string").str.lower().str.replace(r"[^0-9a-z]+", " ", regex=True).str.strip()
    return pd.Series(keys.array.take(codes), index=values.index, name=values.name)


def _key(codes: pd.Series, level: str) -> pd.Series:
    """The sub kegiatan code, or its kegiatan or program code."""
    pattern = dict(_LEVELS)[level]
    return codes.astype("string") if pattern is None else codes.astype("string").str.replace(pattern, "", regex=True)


@dataclass(frozen=True)
class Stacked:
    """The routing tables of many pemda, one frame each, with kode_pemda and tahun columns (read only)."""

    candidates: pd.DataFrame  # kode_bidang_urusan, kode_skpd, rank (default order in the pemda's list), unit
    evidence: pd.DataFrame  # key, kode_skpd, renja (lines), kamus (entries), level
    kecamatan: pd.DataFrame  # kode_kecamatan, kode_skpd of that kecamatan
    topics: pd.DataFrame  # kode_bidang_urusan, word, kode_skpd: words of a unit that shares its bidang


def stacked_routing(pairs: pd.DataFrame) -> Stacked:
    """The routing tables of the (kode_pemda, tahun) `pairs` (tahun _NO_TAHUN: the newest), stacked: each level
    of a run routes the same pemda, so the stack is kept until a pemda's reference files change."""
    pairs = pairs.dropna().drop_duplicates()
    keys = tuple(
        (str(kode), int(tahun), store.fingerprint(kode, None if tahun == _NO_TAHUN else int(tahun)))
        for kode, tahun in pairs.itertuples(index=False)
    )
    return _stacked(keys)


@lru_cache(maxsize=1 << 14)
def _name_words(name: str) -> frozenset[str]:
    """The words (and their stems) of an OPD name that say what it carries, with the usulan words that belong
    to them (lexicon.OPD_NAME_TOPICS)."""
    words = {w for w in text_key(pd.Series([name])).iloc[0].split() if w not in lexicon.OPD_NAME_GENERIC}
    words |= {t for w in words for t in lexicon.OPD_NAME_TOPICS.get(w, ())}
    return frozenset(words | {stem_word(w) for w in words})


def _topics(candidates: pd.DataFrame, opd: pd.DataFrame) -> pd.DataFrame:
    """word -> kode_skpd per pemda (and tahun) for the units of a bidang carried by more than one unit (a word
    of two such units of one bidang speaks of neither)."""
    pemda = ["kode_pemda", "tahun"]
    units = candidates[candidates.unit & (candidates.kode_bidang_urusan != store.KECAMATAN_BIDANG)]
    shared = units[units.duplicated([*pemda, "kode_bidang_urusan"], keep=False)]
    names = opd[[*pemda, "kode_skpd", "nama_skpd"]].drop_duplicates([*pemda, "kode_skpd"])
    shared = shared.merge(names, how="left", on=[*pemda, "kode_skpd"])
    words = [sorted(_name_words(name)) if isinstance(name, str) else [] for name in shared.nama_skpd]
    found = shared.assign(word=words).explode("word").dropna(subset=["word"])
    found = found[["kode_bidang_urusan", "word", "kode_skpd", *pemda]]
    found = found.astype(
        {"kode_bidang_urusan": "string", "word": "string", "kode_skpd": "string", "kode_pemda": "string"}
    )
    return found.drop_duplicates([*pemda, "kode_bidang_urusan", "word"], keep=False).reset_index(drop=True)


@lru_cache(maxsize=4)
def _stacked(keys: tuple[tuple[str, int, str], ...]) -> Stacked:
    """The routing tables of the (kode_pemda, tahun, fingerprint) `keys`, worked out for all of them at once.

    - candidates: the OPD whose kode SKPD names a bidang, in the default order (slot 1 before 2 and 3, a unit
      before a sub-unit, then kode), with their rank in the pemda's list and whether they are a unit;
    - evidence: per level (sub kegiatan, kegiatan, program) and key, the Renja lines and own kamus entries of
      each OPD;
    - kecamatan: the SKPD of each kecamatan;
    - topics: `_topics`."""
    pemda = ["kode_pemda", "tahun"]

    def stacked(frames: list[pd.DataFrame], empty: Table) -> pd.DataFrame:
        sizes = [len(f) for f in frames]
        out = pd.concat(frames, ignore_index=True) if frames else empty.empty_frame()
        out["kode_pemda"] = pd.array(np.repeat([k for k, _, _ in keys], sizes), dtype="string")
        out["tahun"] = np.repeat(np.array([t for _, t, _ in keys], dtype=int), sizes)
        return out

    reference = [(kode, None if tahun == _NO_TAHUN else tahun) for kode, tahun, _ in keys]  # as the store asks
    position = {(kode, tahun): i for i, (kode, tahun, _) in enumerate(keys)}  # a pemda's rows kept together

    def positions(frame: pd.DataFrame) -> np.ndarray:
        return np.array([position[pair] for pair in zip(frame.kode_pemda, frame.tahun, strict=True)], dtype=int)

    opd = stacked([store.opd(kode, tahun) for kode, tahun in reference], OPD)
    slots = opd.melt(id_vars=[*pemda, "kode_skpd"], value_vars=list(store.BIDANG_SLOTS), var_name="slot",
                     value_name="kode_bidang_urusan").dropna(subset=["kode_bidang_urusan"])  # fmt: skip
    slots = slots.assign(position=positions(slots), sub_unit=~slots.kode_skpd.str.endswith(".0000"))
    slots = slots.sort_values(["position", "slot", "sub_unit", "kode_skpd"], kind="stable")
    slots = slots.drop_duplicates([*pemda, "kode_bidang_urusan", "kode_skpd"])
    candidates = pd.DataFrame(
        {
            "kode_bidang_urusan": pd.array(slots.kode_bidang_urusan, dtype="string"),
            "kode_skpd": pd.array(slots.kode_skpd, dtype="string"),
            "rank": slots.groupby("position", sort=False).cumcount().to_numpy(),
            "unit": ~slots.sub_unit.to_numpy(dtype=bool),
            "kode_pemda": pd.array(slots.kode_pemda, dtype="string"),
            "tahun": slots.tahun.to_numpy(),
        }
    )
    renja = stacked([store.renja(kode, tahun) for kode, tahun in reference], RENJA)
    own = [store.own_kamus(kode, tahun) for kode, tahun in reference]
    kamus = stacked(
        [k.dropna(subset=["kode_sub_kegiatan"]) if k is not None else KAMUS.empty_frame() for k in own], KAMUS
    )
    parts = []
    for level, _ in _LEVELS:
        for source, lines, entries in (("renja", renja, 0), ("kamus", kamus, 1)):
            parts.append(
                pd.DataFrame(
                    {
                        "level": level,
                        "key": _key(lines.kode_sub_kegiatan, level),
                        "kode_skpd": lines.kode_skpd,
                        "renja": lines.n_lokasi.astype("Int64") if source == "renja" else 0,
                        "kamus": entries,
                        "kode_pemda": lines.kode_pemda,
                        "tahun": lines.tahun,
                    }
                )
            )
    evidence = pd.concat(parts).groupby([*pemda, "level", "key", "kode_skpd"], as_index=False, sort=False).sum()
    evidence = evidence.iloc[np.argsort(positions(evidence), kind="stable")]
    kecamatan = opd[opd.kode_kecamatan.notna() & opd.kode_skpd.str.endswith(".0000")]
    return Stacked(
        candidates,
        evidence[["key", "kode_skpd", "renja", "kamus", "level", *pemda]],
        pd.DataFrame(
            {
                "kode_kecamatan": kecamatan.kode_kecamatan.to_numpy(),
                "kode_skpd": kecamatan.kode_skpd.astype("string").to_numpy(),
                "kode_pemda": pd.array(kecamatan.kode_pemda, dtype="string"),
                "tahun": kecamatan.tahun.to_numpy(),
            }
        ),
        _topics(candidates, opd),
    )


@cache
def _plain_normaliser() -> Normaliser:
    return Normaliser()


@lru_cache(maxsize=1 << 18)
def _object_words(text: str) -> tuple[str, ...]:
    """The words of the object part of a text with their stems (each text worked out once per process: the
    levels of a run carry the same texts up)."""
    words = _plain_normaliser().object_and_address(text)[0].split()
    return tuple(sorted({w for token in words for w in (token, stem_word(token))}))


def named_opd(frame: pd.DataFrame, texts: pd.Series) -> pd.Series:
    """The unit whose name the object of each usulan speaks of, among the units that share the row's bidang
    (columns kode_pemda, tahun, kode_bidang_urusan): the one with the most words in common with the object part of
    the text (before "di", "depan", ...: an address names no OPD), when one has more than the others; else NA.
    Each distinct (pemda, bidang, text) is read once, and only for bidang carried by several units."""
    keys = pd.DataFrame(
        {
            "kode_pemda": frame["kode_pemda"].astype("string").to_numpy(),
            "tahun": pd.to_numeric(frame["tahun"], errors="coerce").fillna(_NO_TAHUN).astype(int).to_numpy(),
            "kode_bidang_urusan": frame["kode_bidang_urusan"].astype("string").to_numpy(),
            "text": texts.astype("string").to_numpy(),
        }
    )
    distinct, at = distinct_rows(keys)
    distinct = distinct.reset_index(drop=True).rename_axis("row").reset_index()
    topics = stacked_routing(distinct[["kode_pemda", "tahun"]]).topics
    named = np.full(len(distinct), None, dtype=object)
    if len(topics):
        shared = topics[["kode_pemda", "tahun", "kode_bidang_urusan"]].drop_duplicates()
        todo = distinct.dropna(subset=["text"]).merge(shared, on=["kode_pemda", "tahun", "kode_bidang_urusan"])
        words = [_object_words(text) for text in todo.text]
        exploded = todo.assign(word=words).explode("word").dropna(subset=["word"])
        hits = exploded.merge(topics, on=["kode_pemda", "tahun", "kode_bidang_urusan", "word"])
        counts = hits.groupby(["row", "kode_skpd"]).size().rename("n").reset_index()
        top = counts[counts.n == counts.groupby("row").n.transform("max")]
        best = top.drop_duplicates("row", keep=False)  # a tie names no unit
        named[best.row.to_numpy()] = best.kode_skpd.to_numpy()
    return pd.Series(named[at], index=frame.index, dtype="string")


def route_opd(frame: pd.DataFrame) -> pd.DataFrame:
    """kode_opd (the OPD that carries each row) and opd_alternatif (the other OPD that could, comma separated
    kode SKPD) for rows of several pemda: columns kode_pemda, tahun (empty: the newest reference),
    kode_bidang_urusan, kode_sub_kegiatan, kode_kecamatan, and optionally kode_opd_teks (`named_opd`). Same index
    as `frame`; NA where no OPD carries it."""
    rows = pd.DataFrame(
        {
            "row": range(len(frame)),
            "kode_pemda": frame["kode_pemda"].astype("string").to_numpy(),
            "tahun": pd.to_numeric(frame["tahun"], errors="coerce").fillna(_NO_TAHUN).astype(int).to_numpy(),
            "kode_bidang_urusan": frame["kode_bidang_urusan"].astype("string").to_numpy(),
            "kode_sub_kegiatan": frame["kode_sub_kegiatan"].astype("string").to_numpy(),
            "kode_kecamatan": frame["kode_kecamatan"].astype("string").to_numpy(),
            "kode_opd_teks": frame.get("kode_opd_teks", pd.Series(pd.NA, index=frame.index))
            .astype("string")
            .to_numpy(),
        }
    )
    out = pd.DataFrame({"kode_opd": pd.NA, "opd_alternatif": pd.NA}, index=rows.row, dtype="string")
    if rows.kode_pemda.isna().all():
        return out.set_axis(frame.index)
    tables = stacked_routing(rows[["kode_pemda", "tahun"]])
    pairs = rows.merge(tables.candidates, on=["kode_pemda", "tahun", "kode_bidang_urusan"])
    pairs = pairs[pairs.kode_bidang_urusan != store.KECAMATAN_BIDANG]
    evidence = tables.evidence
    order = []
    for level, _ in _LEVELS:
        found = evidence[evidence.level == level].drop(columns="level").add_suffix(f"_{level}")
        pairs = pairs.assign(key=_key(pairs.kode_sub_kegiatan, level)).merge(
            found,
            how="left",
            left_on=["kode_pemda", "tahun", "key", "kode_skpd"],
            right_on=[f"kode_pemda_{level}", f"tahun_{level}", f"key_{level}", f"kode_skpd_{level}"],
        )
        for what in ("renja", "kamus"):
            pairs[f"{what}_{level}"] = pairs[f"{what}_{level}"].fillna(0)
        pairs[f"has_{level}"] = (pairs[f"renja_{level}"] > 0).astype(int) * 2 + (pairs[f"kamus_{level}"] > 0)
        order.append(f"has_{level}")
        if level == "sub":
            pairs["named"] = pairs.kode_skpd.eq(pairs.kode_opd_teks).fillna(False).astype(int)
            order.append("named")
    order += [f"renja_{level}" for level, _ in _LEVELS]  # the more evidence first, then the default rank
    pairs = pairs.sort_values(["row", *order, "rank"], ascending=[True, *[False] * len(order), True])
    chosen = pairs.drop_duplicates("row")
    out.loc[chosen.row.to_numpy(), "kode_opd"] = chosen.kode_skpd.to_numpy()
    evidenced = pairs[[f"has_{level}" for level, _ in _LEVELS]].sum(axis=1) > 0
    others = pairs[pairs.duplicated("row") & (pairs.unit | evidenced)]
    listed = others.groupby("row", sort=False).kode_skpd.agg(",".join)
    out.loc[listed.index.to_numpy(), "opd_alternatif"] = listed.to_numpy()
    at_kecamatan = rows.merge(tables.kecamatan, on=["kode_pemda", "tahun", "kode_kecamatan"])
    at_kecamatan = at_kecamatan[at_kecamatan.kode_bidang_urusan == store.KECAMATAN_BIDANG]
    out.loc[at_kecamatan.row.to_numpy(), "kode_opd"] = at_kecamatan.kode_skpd.to_numpy()
    return out.set_axis(frame.index)


def opd_alternatif(routed: pd.DataFrame, chosen: pd.Series) -> pd.Series:
    """The OPD other than `chosen` that could carry each row: the routed OPD and its alternatives (from
    `route_opd`), less the one that carries it; NA when there is none (or nothing carries it). Each distinct
    combination is worked out once."""
    keys = pd.DataFrame(
        {"kode_opd": routed.kode_opd, "opd_alternatif": routed.opd_alternatif, "chosen": chosen}, index=routed.index
    ).astype(object)
    distinct = keys.dropna(subset=["chosen"]).drop_duplicates()
    listed = distinct.kode_opd.fillna("") + "," + distinct.opd_alternatif.fillna("")
    others = [
        ",".join(k for k in dict.fromkeys(codes.split(",")) if k and k != carrier)
        for codes, carrier in zip(listed, distinct.chosen, strict=True)
    ]
    found = keys.merge(distinct.assign(_others=others), how="left", on=list(keys.columns))
    out = pd.Series(found["_others"].to_numpy(), index=routed.index, dtype="string")
    return out.replace("", pd.NA)
