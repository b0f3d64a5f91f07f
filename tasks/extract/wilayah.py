"""Resolve kecamatan and desa/kelurahan names to kode wilayah, by normalised name within the parent.

Names are matched in every regulation version (so a 2022 name still finds its code after a 2025
rename) after normalisation: case, punctuation, spacing, the words "kecamatan/desa/kelurahan/kampung"
in front, and common abbreviations (Gn. -> Gunung). A name that does not match exactly is never
guessed: the row is quarantined with the nearest candidates in its reason.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict

import pandas as pd

from reference import store
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


def name_key(name: str) -> str:
    """'Kec. Gn. Sugih' -> 'gunungsugih'; 'Sri Way Langsep' and 'Sriwaylangsep' share a key."""
    words = re.sub(r"[^0-9a-z]+", " ", str(name).lower()).split()
    text = _PREFIX.sub("", " ".join(words)) if len(words) > 1 else " ".join(words)
    return "".join(_ABBREVIATIONS.get(w, w) for w in text.split())


class WilayahResolver:
    """Name-to-code index of one kabupaten/kota across every shipped regulation version."""

    def __init__(self, kode_pemda: str):
        w = store.wilayah()
        w = w[w.kode.str.startswith(kode_pemda + ".")]
        self.kode_pemda = kode_pemda
        self.kecamatan: dict[str, set[str]] = defaultdict(set)
        self.desa_in: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.desa_any: dict[str, set[str]] = defaultdict(set)
        self.names: dict[str, str] = {}
        for kode, tingkat, nama, induk in w[["kode", "tingkat", "nama", "kode_induk"]].itertuples(index=False):
            key = name_key(nama)
            self.names.setdefault(kode, nama)
            if tingkat == "kecamatan":
                self.kecamatan[key].add(kode)
            elif tingkat == "desa":
                self.desa_in[induk][key].add(kode)
                self.desa_any[key].add(kode)

    def _candidates(self, key: str, index: dict[str, set[str]]) -> str:
        close = difflib.get_close_matches(key, list(index), n=3, cutoff=0.7)
        names = sorted({self.names[k] for c in close for k in index[c]})
        return f" (kandidat / candidates: {', '.join(names)})" if names else ""

    def _one(self, kec: str, desa: str) -> tuple[str | None, str | None, tuple | None]:
        """(kode_kecamatan, kode_desa, problem) where problem = (rule, field, value, detail)."""
        kode_kec = None
        if kec:
            found = self.kecamatan.get(name_key(kec), set())
            if len(found) != 1:
                return None, None, self._problem(found, "nama_kecamatan", kec, self.kecamatan)
            kode_kec = next(iter(found))
        if not desa:
            return kode_kec, None, None
        index = self.desa_in[kode_kec] if kode_kec else self.desa_any
        found = index.get(name_key(desa), set())
        if len(found) != 1:
            return kode_kec, None, self._problem(found, "nama_desa", desa, index)
        kode_desa = next(iter(found))
        return kode_desa.rsplit(".", 1)[0], kode_desa, None

    def _problem(self, found: set[str], field: str, value: str, index: dict) -> tuple:
        if found:
            names = ", ".join(f"{self.names[k]} ({k})" for k in sorted(found))
            return "wilayah_ambiguous", field, value, names
        return "wilayah_unknown", field, value, self._candidates(name_key(value), index)

    def resolve(self, staged: pd.DataFrame, desa_required: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Fill kode_kecamatan / kode_desa of `staged`; return it with the rows that could not be resolved."""
        kec = staged["nama_kecamatan"].fillna("").astype(str)
        desa = staged["nama_desa"].fillna("").astype(str)
        pairs = pd.DataFrame({"kec": kec, "desa": desa})
        unique = pairs.drop_duplicates()
        results = {(k, d): self._one(k, d) for k, d in unique.itertuples(index=False)}
        resolved = [results[(k, d)] for k, d in zip(kec, desa)]
        out = staged.copy()
        out["kode_kecamatan"] = pd.array([r[0] for r in resolved], dtype="string")
        out["kode_desa"] = pd.array([r[1] for r in resolved], dtype="string")
        issues = []
        problems = pd.Series([r[2] for r in resolved], index=staged.index)
        for rule_field, group in problems.dropna().groupby(problems.dropna().map(lambda p: (p[0], p[1]))):
            rule, field = rule_field
            issues.append(issues_frame(group.index, rule, field, group.map(lambda p: p[2]), group.map(lambda p: p[3])))
        if desa_required:
            missing = (desa == "") & problems.isna()
            issues.append(issues_frame(staged.index[missing], "missing_value", "nama_desa", None))
        return out, concat_issues(issues)
