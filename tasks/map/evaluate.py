"""Accuracy of the whole text mapping, measured as a planner sees it: labelled usulan go through
`rkpd mapping predict` (the run's mapping entry point) and its answers are compared with the labels.

Labelled files: `tests/data/eval_usulan.csv` (18.02, every row in scope) and `tests/data/eval_usulan_independen.csv`
(18.02 and 17.03, with `kasus`, `bidang_alternatif`, `kewenangan`; see tests/data/README.md). Rows of kasus
`luar_kewenangan` and `tidak_jelas` are out of scope: they should wait for review.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tasks.map.context import MappingContext
from tasks.map.predict import predict_frame
from tasks.map.text import LOW_CONFIDENCE

IN_SCOPE = ("jelas", "sulit", "alamat")
OUT_OF_SCOPE = ("luar_kewenangan", "tidak_jelas")
CURVE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
CHOSEN = "klasifikasi"  # the one method whose rows a threshold decides


@dataclass
class MappingReport:
    name: str
    rows: int
    summary: pd.DataFrame  # one row per pemda and "semua": the headline figures
    per_bagian: pd.DataFrame  # the headline figures per part of the file (`bagian`: dev read while developing, uji not)
    per_kasus: pd.DataFrame  # top-1 and auto-mapped share per kasus
    per_bidang: pd.DataFrame  # precision and recall of auto-mapped rows per true bidang
    curve: pd.DataFrame  # coverage and precision of in-scope rows if the threshold were t
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    results: pd.DataFrame = field(default_factory=pd.DataFrame)


def _labels(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column, default in (("kasus", "jelas"), ("bidang_alternatif", ""), ("kewenangan", "kabkota")):
        if column not in out:
            out[column] = default
    if "kode_pemda" not in out:
        out["kode_pemda"] = "18.02"
    return out.fillna("")


def predict_labelled(frame: pd.DataFrame, context: MappingContext) -> pd.DataFrame:
    """Labels side by side with predict's answers (prefixed `hasil_`), per pemda; `context` holds every pemda of
    the frame (see `tasks.map.predict.prediction_context`)."""
    frame = _labels(frame)
    parts = []
    for kode_pemda, rows in frame.groupby("kode_pemda", sort=True):
        given = pd.DataFrame({"uraian": rows["uraian_usulan"].to_numpy()})
        if "nama_kecamatan" in rows:
            given["kecamatan"] = rows["nama_kecamatan"].to_numpy()
        found = {"uraian_usulan": "uraian"} | ({"nama_kecamatan": "kecamatan"} if "kecamatan" in given else {})
        answer = predict_frame(given, found, kode_pemda, context).drop(columns=list(given.columns))
        answer.index = rows.index
        parts.append(pd.concat([rows, answer.add_prefix("hasil_")], axis=1))
    return pd.concat(parts).loc[frame.index]


def _share(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else float("nan")


def _figures(r: pd.DataFrame) -> dict[str, float]:
    scope = r[r.kasus.isin(IN_SCOPE)]
    outside = r[r.kasus.isin(OUT_OF_SCOPE)]
    right = scope.hasil_kode_bidang_urusan.eq(scope.kode_bidang_urusan).fillna(False)
    auto = ~scope.hasil_perlu_review.astype(bool)
    right_opd = scope.hasil_kode_skpd.eq(scope.kode_opd).fillna(False)
    luar = outside[outside.kasus == "luar_kewenangan"]
    sub = scope.get("kode_sub_kegiatan", pd.Series("", index=scope.index)).fillna("")
    labelled = sub != ""
    return {
        "baris": len(r),
        "bidang top-1": _share(right),
        "OPD top-1": _share(right_opd),
        "auto-mapped": _share(auto),
        "presisi auto": _share(right[auto]),
        "OPD benar | bidang benar (auto)": _share(right_opd[auto & right]),
        "luar lingkup auto-mapped": _share(~outside.hasil_perlu_review.astype(bool)),
        "kewenangan luar dikenali": _share(luar.hasil_kewenangan.eq(luar.kewenangan).fillna(False)),
        "sub kegiatan tepat": _share(scope.hasil_kode_sub_kegiatan[labelled].eq(sub[labelled]).fillna(False)),
    }


def _per_bidang(scope: pd.DataFrame) -> pd.DataFrame:
    auto = ~scope.hasil_perlu_review.astype(bool)
    right = scope.hasil_kode_bidang_urusan.eq(scope.kode_bidang_urusan).fillna(False)
    truth = scope.kode_bidang_urusan
    predicted = scope.hasil_kode_bidang_urusan.where(auto)
    bidang = sorted(set(truth) - {""})
    rows = []
    for b in bidang:
        mapped_as_b = predicted == b
        rows.append(
            {
                "bidang": b,
                "baris": int((truth == b).sum()),
                "auto sbg bidang ini": int(mapped_as_b.sum()),
                "presisi": _share(right[mapped_as_b]),
                "recall": _share((right & auto)[truth == b]),
            }
        )
    return pd.DataFrame(rows).set_index("bidang")


def _curve(scope: pd.DataFrame) -> pd.DataFrame:
    """Coverage and precision if classifier rows were mapped from confidence t on (rows mapped otherwise, and
    rows held for review for another reason than low confidence, stay as they are)."""
    method = scope.hasil_mapping_method.fillna("")
    low = scope.hasil_alasan_review.fillna("").str.startswith(LOW_CONFIDENCE)
    by_confidence = (method == CHOSEN) | (scope.hasil_perlu_review.astype(bool) & low)
    held = scope.hasil_perlu_review.astype(bool) & ~by_confidence
    right = scope.hasil_kode_bidang_urusan.eq(scope.kode_bidang_urusan).fillna(False)
    confidence = scope.hasil_confidence.astype(float).fillna(0.0)
    rows = []
    for t in CURVE:
        auto = ~held & (~by_confidence | (confidence >= t))
        rows.append({"ambang": t, "auto-mapped": _share(auto), "presisi auto": _share(right[auto])})
    return pd.DataFrame(rows).set_index("ambang")


def pemda_of(frame: pd.DataFrame) -> list[str]:
    """The pemda of a labelled file (18.02 where it names none)."""
    return sorted(set(_labels(frame).kode_pemda))


def evaluate_mapping(name: str, frame: pd.DataFrame, context: MappingContext, top: int = 12) -> MappingReport:
    r = predict_labelled(frame, context)
    summary = pd.DataFrame({**{p: _figures(g) for p, g in r.groupby("kode_pemda")}, "semua": _figures(r)}).T
    parts = r.groupby(r["bagian"].replace("", "-")) if "bagian" in r else ()
    per_bagian = pd.DataFrame({b: _figures(g) for b, g in parts}).T
    scope = r[r.kasus.isin(IN_SCOPE)]
    right = scope.hasil_kode_bidang_urusan.eq(scope.kode_bidang_urusan).fillna(False)
    alternative = scope.hasil_kode_bidang_urusan.eq(scope.bidang_alternatif).fillna(False)
    auto = ~r.hasil_perlu_review.astype(bool)
    per_kasus = pd.DataFrame(
        {
            "baris": r.groupby("kasus").size(),
            "bidang top-1": right.groupby(scope.kasus).mean(),
            "top-1 atau alternatif": (right | alternative).groupby(scope.kasus).mean(),
            "auto-mapped": auto.groupby(r.kasus).mean(),
        }
    )
    wrong = scope[~right]
    pairs = (
        pd.DataFrame({"true": wrong.kode_bidang_urusan, "predicted": wrong.hasil_kode_bidang_urusan.fillna("-")})
        .value_counts()
        .head(top)
    )
    return MappingReport(
        name=name,
        rows=len(r),
        summary=summary,
        per_bagian=per_bagian,
        per_kasus=per_kasus,
        per_bidang=_per_bidang(scope),
        curve=_curve(scope),
        confusions=[(t, p, int(n)) for (t, p), n in pairs.items()],
        results=r,
    )


def _table(frame: pd.DataFrame) -> list[str]:
    shown = frame.copy()
    for column in shown.columns:
        values = shown[column]
        if values.dtype.kind == "f" or values.map(lambda v: isinstance(v, float)).all():
            numbers = values.astype(float)
            whole = np.isclose(numbers, numbers.round()) & (numbers.abs() > 1)
            shown[column] = [f"{v:,.0f}" if w else ("-" if v != v else f"{v:.1%}") for v, w in zip(numbers, whole)]
    return ["    " + line for line in shown.to_string().splitlines()]


def format_mapping_report(report: MappingReport, per_bidang: bool = True) -> str:
    lines = [f"{report.name}: {report.rows:,} usulan", "  per pemda:"]
    lines += _table(report.summary)
    if len(report.per_bagian) > 1:  # a file in parts: the part read while developing beside the one never read
        lines += ["  per bagian (dev: dibaca saat pengembangan; uji: hanya angkanya):", *_table(report.per_bagian)]
    lines += ["  per kasus:", *_table(report.per_kasus)]
    lines += ["  coverage/presisi jika ambang keyakinan klasifikasi = t (baris dalam lingkup):", *_table(report.curve)]
    if per_bidang:
        lines += ["  per bidang (auto-mapped):", *_table(report.per_bidang)]
    lines += ["  bidang paling tertukar (benar -> saran: baris):"]
    lines += [f"    {t} -> {p}: {n}" for t, p, n in report.confusions] or ["    tidak ada"]
    return "\n".join(lines)
