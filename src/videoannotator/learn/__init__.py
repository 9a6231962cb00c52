"""The learning core of the annotation loop: classifier, feeds, metrics, diversity, build,
calibration (Platt), thresholds from a target, the model card's verdict.

Pure computation over numpy arrays (no SQL, no files); the workspace calls it.
"""

from .build import BuildResult, ProbeModel, build_model
from .calibrate import Calibration, fit_platt
from .card import verdict
from .classifier import LinearProbe, score_corpus
from .diversity import assign, diversity, fit_clusters
from .feeds import (
    FEEDS,
    borderline_feed,
    random_feed,
    top_negative_feed,
    top_positive_feed,
)
from .metrics import average_precision, cross_validated_ap
from .threshold import ThresholdChoice, choose_threshold

__all__ = [
    "FEEDS",
    "BuildResult",
    "Calibration",
    "LinearProbe",
    "ProbeModel",
    "ThresholdChoice",
    "assign",
    "average_precision",
    "borderline_feed",
    "build_model",
    "choose_threshold",
    "cross_validated_ap",
    "diversity",
    "fit_clusters",
    "fit_platt",
    "random_feed",
    "score_corpus",
    "top_negative_feed",
    "top_positive_feed",
    "verdict",
]
