"""The learning core of the annotation loop: classifier, feeds, metrics, diversity, build.

Pure computation over numpy arrays (no SQL, no files); the workspace calls it.
"""

from .build import BuildResult, ProbeModel, build_model
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

__all__ = [
    "FEEDS",
    "BuildResult",
    "LinearProbe",
    "ProbeModel",
    "assign",
    "average_precision",
    "borderline_feed",
    "build_model",
    "cross_validated_ap",
    "diversity",
    "fit_clusters",
    "random_feed",
    "score_corpus",
    "top_negative_feed",
    "top_positive_feed",
]
