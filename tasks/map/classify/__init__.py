"""Free-text usulan classifier: bidang urusan and sub kegiatan with an honest confidence.

from tasks.map.classify import train
classifier = train(2025, "18.02", verified=None)
classifier.predict(frame["uraian_usulan"])  # bidang, sub kegiatan, confidence, model version, runner-up bidang
classifier.threshold, classifier.cross_validation  # review threshold for 95 % precision, out-of-fold figures

The mapping's accuracy as a planner sees it: tasks.map.evaluate (`rkpd mapping evaluate`).
"""

from tasks.map.classify.model import Classifier, train, train_cached
from tasks.map.classify.normalise import Normaliser, normalise

__all__ = ["Classifier", "Normaliser", "normalise", "train", "train_cached"]
