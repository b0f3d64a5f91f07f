"""Free-text usulan classifier: bidang urusan and sub kegiatan with an honest confidence.

from tasks.map.classify import train, evaluate, format_report
classifier = train(2025, "18.02", verified=None)
classifier.predict(frame["uraian_usulan"])  # kode_bidang_urusan, kode_sub_kegiatan, confidence, model_version
"""

from tasks.map.classify.evaluate import EvaluationReport, evaluate, format_report
from tasks.map.classify.model import Classifier, train, train_cached
from tasks.map.classify.normalise import Normaliser, normalise

__all__ = [
    "Classifier",
    "EvaluationReport",
    "Normaliser",
    "evaluate",
    "format_report",
    "normalise",
    "train",
    "train_cached",
]
