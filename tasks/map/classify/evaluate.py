"""Accuracy of a classifier on a labelled frame of usulan (see tests/data/eval_usulan.csv).

OPD accuracy maps the predicted bidang to an OPD of the pemda's master: the OPD whose bidang_urusan_1..3 holds the
bidang; where several do (1.05 Satpol PP / BPBD, 7.01 kecamatan) the one the row names wins if it carries the bidang.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from reference import store


@dataclass
class EvaluationReport:
    model_version: str
    rows: int
    threshold: float
    bidang_accuracy: float
    opd_accuracy: float
    coverage: float  # share of rows with confidence >= threshold
    covered_accuracy: float  # bidang accuracy among covered rows
    covered_opd_accuracy: float
    sub_kegiatan_accuracy: float  # among rows labelled with a sub kegiatan
    sub_kegiatan_filled: float  # share of those rows given any sub kegiatan
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # (true, predicted, count), worst first
    per_bidang: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows, accuracy per true bidang
    predictions: pd.DataFrame = field(default_factory=pd.DataFrame)


def opd_carriers(kode_pemda: str) -> dict[str, list[str]]:
    """Bidang -> kode_skpd of the OPD carrying it, in master order."""
    carriers: dict[str, list[str]] = {}
    for row in store.opd(kode_pemda).itertuples():
        for bidang in (row.bidang_urusan_1, row.bidang_urusan_2, row.bidang_urusan_3):
            if isinstance(bidang, str):
                carriers.setdefault(bidang, []).append(row.kode_skpd)
    return carriers


def opd_for(bidang: pd.Series, named_opd: pd.Series, kode_pemda: str) -> pd.Series:
    """OPD of each predicted bidang, preferring the named OPD when it carries that bidang."""
    carriers = opd_carriers(kode_pemda)

    def pick(b, named):
        options = carriers.get(b, []) if isinstance(b, str) else []
        return named if named in options else (options[0] if options else pd.NA)

    return pd.Series([pick(b, o) for b, o in zip(bidang, named_opd)], index=bidang.index, dtype="string")


def _mean(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else float("nan")


def evaluate(classifier, eval_frame: pd.DataFrame, threshold: float = 0.5, top: int = 10) -> EvaluationReport:
    """Top-1 bidang and OPD accuracy, coverage at `threshold`, accuracy on covered rows, and top confusions."""
    predicted = classifier.predict(eval_frame["uraian_usulan"])
    truth = eval_frame["kode_bidang_urusan"].astype("string")
    named = eval_frame["kode_opd"].astype("string") if "kode_opd" in eval_frame else pd.Series(pd.NA, index=truth.index)
    opd = opd_for(predicted["kode_bidang_urusan"], named, classifier.kode_pemda)
    right = (predicted["kode_bidang_urusan"] == truth).fillna(False).astype(bool)
    right_opd = (opd == named).fillna(False).astype(bool)
    covered = predicted["confidence"] >= threshold
    sub_truth = (
        eval_frame.get("kode_sub_kegiatan", pd.Series("", index=truth.index)).astype("string").replace("", pd.NA)
    )
    labelled = sub_truth.notna()
    sub_right = (predicted["kode_sub_kegiatan"] == sub_truth).fillna(False).astype(bool)

    wrong = pd.DataFrame({"true": truth[~right], "predicted": predicted["kode_bidang_urusan"][~right].fillna("-")})
    pairs = wrong.value_counts().head(top)
    per_bidang = (
        pd.DataFrame({"true": truth, "right": right}).groupby("true")["right"].agg(rows="size", accuracy="mean")
    )
    return EvaluationReport(
        model_version=str(predicted["model_version"].iloc[0]) if len(predicted) else "",
        rows=len(eval_frame),
        threshold=threshold,
        bidang_accuracy=_mean(right),
        opd_accuracy=_mean(right_opd),
        coverage=_mean(covered),
        covered_accuracy=_mean(right[covered]),
        covered_opd_accuracy=_mean(right_opd[covered]),
        sub_kegiatan_accuracy=_mean(sub_right[labelled]),
        sub_kegiatan_filled=_mean(predicted["kode_sub_kegiatan"][labelled].notna()),
        confusions=[(t, p, int(n)) for (t, p), n in pairs.items()],
        per_bidang=per_bidang.sort_values("rows", ascending=False),
        predictions=pd.concat(
            [eval_frame, predicted.add_prefix("predicted_"), opd.rename("predicted_kode_opd")], axis=1
        ),
    )


def format_report(report: EvaluationReport) -> str:
    """Plain-text summary for the CLI."""
    lines = [
        f"classifier {report.model_version} on {report.rows} usulan",
        f"  bidang urusan top-1 accuracy   {report.bidang_accuracy:6.1%}",
        f"  OPD top-1 accuracy             {report.opd_accuracy:6.1%}",
        f"  coverage at confidence >= {report.threshold:.2f} {report.coverage:6.1%}",
        f"  bidang accuracy on covered     {report.covered_accuracy:6.1%}",
        f"  OPD accuracy on covered        {report.covered_opd_accuracy:6.1%}",
        f"  sub kegiatan exact (labelled)  {report.sub_kegiatan_accuracy:6.1%}  "
        f"(given for {report.sub_kegiatan_filled:.0%})",
        "  most confused bidang (true -> predicted: rows):",
    ]
    lines += [f"    {t} -> {p}: {n}" for t, p, n in report.confusions] or ["    none"]
    return "\n".join(lines)
