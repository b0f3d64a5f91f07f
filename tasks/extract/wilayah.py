"""Resolve kecamatan and desa/kelurahan names to kode wilayah, by normalised name within the parent.

Names are matched in every regulation version (so a 2022 name still finds its code after a 2025
rename) after normalisation: case, punctuation, spacing, the words "kecamatan/desa/kelurahan/kampung"
in front, and common abbreviations (Gn. -> Gunung). A name that does not match exactly is never
guessed: the row is quarantined with the nearest candidates in its reason.

The resolution is a join: the distinct (pemda, kecamatan, desa) names of a whole level, across regions,
against an index of the reference names of those regions.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

import pandas as pd

from reference import store
from tasks.distinct import distinct_rows
from tasks.validate.issues import concat_issues, issues_frame

_PREFIX = re.compile(r"^(kecamatan|kec|desa|kelurahan|kel|kampung|kampong|kp|tiyuh|pekon|nagari|gampong)\s+")
_ABBREVIATIONS = {
    "gn": "gunung",
    "gng": "gunung",
    "tj": "tanjung",
    "tg": "tanjung",
    "sp": "simpang",
    "kp": "kampung",
    "bd": "bandar",
    "bdr": "bandar",
    "kt": "kota",
    "sei": "sungai",
    "sg": "sungai",
    "kr": "karang",
    "sbr": "sumber",
    "mj": "mulya",
    "ds": "desa",
    "kel": "kelurahan",
}
WILAYAH_RULES = ("wilayah_unknown", "wilayah_ambiguous")
WILAYAH_NAMES = ("kode_pemda", "nama_kecamatan", "nama_desa")  # what resolve_wilayah reads of the rows


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    """'Kec. Gn. Sugih' -> 'gunungsugih'; 'Sri Way Langsep' and 'Sriwaylangsep' share a key."""
    words = re.sub(r"[^0-9a-z]+", " ", str(name).lower()).split()
    text = _PREFIX.sub("", " ".join(words)) if len(words) > 1 else " ".join(words)
    return "".join(_ABBREVIATIONS.get(w, w) for w in text.split())


@lru_cache(maxsize=1)
def _reference() -> pd.DataFrame:
    """Every kecamatan and desa of every version with its pemda and parent (once per process; the name keys
    are made per scope, for the pemda of a run only)."""
    w = store.wilayah()
    w = w[w.tingkat.isin(["kecamatan", "desa"])]
    return pd.DataFrame(
        {
            "kode": w.kode.astype(str).to_numpy(),
            "tingkat": w.tingkat.astype(str).to_numpy(),
            "nama": w.nama.astype(str).to_numpy(),
            "kode_induk": w.kode_induk.astype(str).to_numpy(),
            "kode_pemda": w.kode.astype(str).str[:5].to_numpy(),
        }
    )


@lru_cache(maxsize=8)
def _scope(pemda: frozenset[str]) -> tuple[dict[str, str], pd.DataFrame, pd.DataFrame, dict, dict]:
    """The names of `pemda`'s kecamatan and desa (the first version's name of each code, and each version's
    key), the scopes an unknown name's candidates are looked for in, and each scope's names per key as
    `_candidates` lists them: worked out once per set of pemda (every level of a run has the same)."""
    ref = _reference()
    ref = ref[ref.kode_pemda.isin(pemda)]
    ref = ref.assign(key=ref.nama.map(name_key))  # an empty scope keeps text keys
    first = ref.drop_duplicates("kode")
    first_name = dict(zip(first.kode, first.nama, strict=True))  # the first version's name of a code
    kecamatan = ref[ref.tingkat == "kecamatan"].drop_duplicates(["kode_pemda", "key", "kode"])
    desa_ref = ref[ref.tingkat == "desa"].drop_duplicates(["kode_induk", "key", "kode"])
    scopes = {
        "kec": dict(tuple(kecamatan.groupby("kode_pemda"))),
        "desa_by_kec": dict(tuple(desa_ref.groupby("kode_induk"))),
        "desa_by_pemda": dict(tuple(desa_ref.groupby("kode_pemda"))),
    }
    return first_name, kecamatan, desa_ref, scopes, {}


@lru_cache(maxsize=100_000)
def _close(key: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    """The (up to 3) keys of `choices` closest to `key` (a name unknown at one level is unknown at the next)."""
    return tuple(difflib.get_close_matches(key, list(choices), n=3, cutoff=0.7))


def _candidates(key: str, scope: pd.DataFrame | None, first_name: dict[str, str], listed: dict) -> str:
    """The names of the (up to 3) closest keys of `scope` (columns key, kode); `listed` keeps each scope's
    names per key for the next pair of the same scope (the scopes live as long as `listed`)."""
    if scope is None:
        return ""
    if id(scope) not in listed:
        names: dict[str, set[str]] = {}
        for k, kode in zip(scope.key.tolist(), scope.kode.tolist(), strict=True):
            names.setdefault(k, set()).add(first_name[kode])
        listed[id(scope)] = names
    names = listed[id(scope)]
    found = sorted(set().union(*(names[k] for k in _close(key, tuple(names)))))
    return f" (kandidat / candidates: {', '.join(found)})" if found else ""


def _codes(hits: pd.DataFrame, index: pd.Index) -> tuple[pd.Series, pd.Series]:
    """How many distinct codes each pair found (0 where none) and the code where it found exactly one."""
    found = hits.groupby("index").kode.agg(["nunique", "min"]).reindex(index)
    count = found["nunique"].fillna(0).astype(int)
    return count, found["min"].where(count == 1)


def resolve_wilayah(frame: pd.DataFrame, desa_required: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """kode_kecamatan and kode_desa of every row of `frame` (columns WILAYAH_NAMES;
    any number of pemda), and the issues of the rows whose names do not resolve to exactly one code."""
    kec = frame["nama_kecamatan"].fillna("").astype(str)
    desa = frame["nama_desa"].fillna("").astype(str)
    rows = pd.DataFrame({"kode_pemda": frame["kode_pemda"].astype(str), "kec": kec, "desa": desa}, index=frame.index)
    pairs, pair_of_row = distinct_rows(rows)
    pairs = pairs.reset_index(drop=True)
    pair_of_row = pd.Series(pair_of_row, index=frame.index)
    pairs["kec_key"] = pairs.kec.map(name_key)
    pairs["desa_key"] = pairs.desa.map(name_key)
    first_name, kecamatan, desa_ref, scopes, listed = _scope(frozenset(pairs.kode_pemda))

    # kecamatan by name within the pemda
    has_kec = pairs[pairs.kec != ""]
    kec_hits = has_kec.reset_index().merge(kecamatan, left_on=["kode_pemda", "kec_key"], right_on=["kode_pemda", "key"])
    kec_count, kec_code = _codes(kec_hits, pairs.index)
    kec_ok = (pairs.kec != "") & (kec_count == 1)
    pairs["kode_kecamatan"] = kec_code.where(kec_ok).astype(object).where(kec_ok, None)
    kec_problem = (pairs.kec != "") & ~kec_ok

    # desa by name within the kecamatan found, or within the pemda when the source names no kecamatan
    look = pairs[(pairs.desa != "") & ~kec_problem]
    by_kec = (
        look[look.kode_kecamatan.notna()]
        .reset_index()
        .merge(desa_ref, left_on=["kode_kecamatan", "desa_key"], right_on=["kode_induk", "key"])
    )
    by_pemda = (
        look[look.kode_kecamatan.isna()]
        .reset_index()
        .merge(desa_ref, left_on=["kode_pemda", "desa_key"], right_on=["kode_pemda", "key"])
    )
    desa_hits = pd.concat([by_kec, by_pemda])
    desa_count, desa_code = _codes(desa_hits, pairs.index)
    desa_ok = pairs.index.isin(look.index) & (desa_count == 1)
    pairs["kode_desa"] = desa_code.astype(object).where(desa_ok, None)
    pairs.loc[desa_ok, "kode_kecamatan"] = pairs.loc[desa_ok, "kode_desa"].str.rsplit(".", n=1).str[0]
    desa_problem = pairs.index.isin(look.index) & ~desa_ok

    # the problem of each pair: (rule, field, value, detail); the few problem pairs are looked at one by one,
    # each in its own scope (the pemda's kecamatan, the kecamatan's or the pemda's desa), grouped once
    problems = {}
    bad = pairs.index[kec_problem | desa_problem]
    if len(bad):
        found = {
            "kec": kec_hits[kec_hits["index"].isin(bad)].groupby("index").kode.agg(sorted).to_dict(),
            "desa": desa_hits[desa_hits["index"].isin(bad)].groupby("index").kode.agg(lambda c: sorted(set(c))),
        }
        found["desa"] = found["desa"].to_dict()
        kec_scope, desa_by_kec, desa_by_pemda = scopes["kec"], scopes["desa_by_kec"], scopes["desa_by_pemda"]
    for i, p in zip(
        bad,
        pairs.loc[bad, ["kec", "desa", "kec_key", "desa_key", "kode_pemda", "kode_kecamatan"]].itertuples(),
        strict=True,
    ):
        if kec_problem[i]:
            field, value, codes, key = "nama_kecamatan", p.kec, found["kec"].get(i), p.kec_key
            scope = kec_scope.get(p.kode_pemda)
        else:
            field, value, codes, key = "nama_desa", p.desa, found["desa"].get(i), p.desa_key
            scope = desa_by_kec.get(p.kode_kecamatan) if p.kode_kecamatan else desa_by_pemda.get(p.kode_pemda)
        if codes:
            detail = ", ".join(f"{first_name[k]} ({k})" for k in sorted(codes))
            problems[i] = ("wilayah_ambiguous", field, value, detail)
        else:
            problems[i] = ("wilayah_unknown", field, value, _candidates(key, scope, first_name, listed))

    codes = pairs[["kode_kecamatan", "kode_desa"]].iloc[pair_of_row.to_numpy()].set_axis(frame.index).astype("string")

    problem_of_row = pair_of_row.map(problems).dropna()
    issues = []
    if len(problem_of_row):
        parts = pd.DataFrame(
            problem_of_row.tolist(), index=problem_of_row.index, columns=["rule", "field", "value", "detail"]
        ).sort_index()
        for (rule, field), group in parts.groupby(["rule", "field"], sort=True):
            issues.append(issues_frame(group.index, rule, field, group.value, group.detail))
    if desa_required:
        missing = (desa == "") & ~frame.index.isin(problem_of_row.index)
        issues.append(issues_frame(frame.index[missing], "missing_value", "nama_desa", None))
    return codes, concat_issues(issues)
