"""Build: fit a label's classifier on its annotations, score the corpus, make the four feeds.

``build_model`` is pure computation over arrays (no SQL, no files): the workspace reads
the annotations and the vector matrix, calls it, and stores what it returns.

What one build recomputes, and what it does not:
- the annotated rows are gathered from the memory-mapped matrix (m x d, not N x d);
- the fit (scikit-learn's lbfgs logistic regression) is warm-started from the previous
  version's weights (``previous``): after a few new annotations the optimum barely moves;
- cross-validation folds are warm-started from the fresh fit;
- the corpus is scored once, in float32 chunks over the memmap (no copy of the matrix);
- the scores are calibrated with Platt scaling fitted on the cross-validation's
  out-of-fold logits (``calibrate.fit_platt``: two parameters, a few thousand points at
  most), and the version's threshold is chosen on the calibrated out-of-fold
  probabilities by ``threshold_rule`` (``threshold.choose_threshold``, default the
  F1-best); ``model.threshold`` is that probability threshold as a logit
  (``Calibration.logit_for``), so ``decision.is_positive(logit, model.threshold)`` stays
  the one decision rule and ``calibration.probability(logit)`` is what people see. Without
  cross-validation (fewer than 5 positives or negatives) the calibration is the identity
  and the threshold p = 0.5, i.e. logit 0.0, each with a note saying why;
- the feeds select with ``argpartition`` over the scores; the borderline feed is the clips
  closest to the model's threshold;
- the corpus clusters for the diversity score belong to the corpus, not the label: pass
  the cached ``clusters`` (``BuildResult.clusters`` of any earlier build) to skip k-means.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput, NotReady
from .calibrate import Calibration, fit_platt, identity
from .classifier import LinearProbe, score_corpus, single_thread_blas
from .decision import is_positive
from .diversity import DEFAULT_CLUSTERS, diversity, fit_clusters
from .feeds import FEEDS
from .metrics import DEFAULT_BOOTSTRAP, cross_validated
from .threshold import DEFAULT_RULE, DEFAULT_THRESHOLD_BOOTSTRAP, ThresholdChoice, choose_threshold, parse_rule
from .threshold import fallback as fallback_threshold

__all__ = ["BuildResult", "ProbeModel", "build_model", "positions_of"]

NOT_READY_MESSAGE = (
    "Build needs at least one positive and one negative annotation; "
    "have {pos} positive and {neg} negative. Annotate some clips first "
    "(search, then mark clips positive and negative)."
)


@dataclass
class ProbeModel:
    """A fitted linear model: score = vector @ coef + intercept (a logit); positive if > threshold."""

    coef: npt.NDArray[np.float64]
    intercept: float
    threshold: float = 0.0
    C: float = 1.0

    @property
    def dim(self) -> int:
        return int(self.coef.shape[0])

    def decision_function(self, X: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
        return score_corpus(X, self.coef, self.intercept)

    def predict(self, X: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        """True where the clip is positive: ``is_positive(score, self.threshold)``."""
        return is_positive(self.decision_function(X), self.threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "coef": [float(v) for v in self.coef],
            "intercept": float(self.intercept),
            "threshold": float(self.threshold),
            "C": float(self.C),
            "dim": self.dim,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeModel:
        return cls(
            coef=np.asarray(data["coef"], dtype=np.float64),
            intercept=float(data["intercept"]),
            threshold=float(data.get("threshold", 0.0)),
            C=float(data.get("C", 1.0)),
        )


@dataclass
class BuildResult:
    """Everything one build produces; ``scores`` and the feeds are aligned with ``ids``.

    ``calibration`` turns ``scores`` (logits) into the probabilities people see;
    ``threshold`` is the chosen probability threshold with the precision and recall to
    expect (its ``logit`` equals ``model.threshold``). Both are also in ``metrics`` as
    dicts, under "calibration" and "threshold".
    """

    model: ProbeModel
    scores: npt.NDArray[np.float32]  # float32 (N,) logits for every clip
    metrics: dict[str, Any]  # counts, cross-validated AP or reason, diversity
    feeds: dict[str, npt.NDArray[Any]]  # feed name -> ids, annotated excluded
    timings_ms: dict[str, float]  # stage -> milliseconds, plus "total"
    clusters: npt.NDArray[np.float32] | None = field(default=None, repr=False)  # corpus centroids, to cache
    calibration: Calibration = field(default_factory=lambda: identity("not calibrated"))
    threshold: ThresholdChoice = field(default_factory=lambda: fallback_threshold(DEFAULT_RULE, "not chosen", 0, 0))


def positions_of(ids: npt.ArrayLike, wanted: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Row index in ``ids`` of each of ``wanted``; InvalidInput names ids not in the corpus.

    O(m log N) when ``ids`` is sorted (the catalog's order); otherwise one argsort.
    """
    ids = np.asarray(ids)
    wanted = np.asarray(wanted)
    if ids.size and np.all(ids[1:] > ids[:-1]):
        pos = np.searchsorted(ids, wanted)
    else:
        sorter = np.argsort(ids, kind="stable")
        pos = sorter[np.minimum(np.searchsorted(ids, wanted, sorter=sorter), max(ids.size - 1, 0))]
    pos = np.minimum(pos, max(ids.size - 1, 0))
    missing = ~(ids[pos] == wanted) if ids.size else np.ones(wanted.shape, bool)
    if missing.any():
        sample = ", ".join(str(v) for v in wanted[missing][:5])
        raise InvalidInput(
            f"{int(missing.sum())} annotated clip id(s) are not in the corpus "
            f"(e.g. {sample}); re-ingest or remove those annotations"
        )
    return pos


def _previous_weights(previous: Any, dim: int) -> tuple[npt.NDArray[np.float64] | None, float | None]:
    if previous is None:
        return None, None
    model = getattr(previous, "model", previous)
    if isinstance(model, dict):
        model = ProbeModel.from_dict(model)
    coef = getattr(model, "coef", None)
    if coef is None:
        coef = getattr(model, "coef_", None)
    intercept = getattr(model, "intercept", getattr(model, "intercept_", 0.0))
    if coef is None or np.asarray(coef).reshape(-1).shape != (dim,):
        return None, None  # another embedder / dimension: start cold
    return np.asarray(coef, dtype=np.float64).reshape(-1), float(np.asarray(intercept).reshape(-1)[0])


def build_model(
    X_all: npt.NDArray[Any],
    ids: npt.ArrayLike,
    labeled_ids: npt.ArrayLike,
    labels: npt.ArrayLike,
    seed: int = 0,
    previous: Any = None,
    n_feed: int = 100,
    clusters: npt.NDArray[np.float32] | None = None,
    *,
    C: float = 1.0,
    exclude_ids: npt.ArrayLike | None = None,
    cv_splits: int = 5,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    n_clusters: int = DEFAULT_CLUSTERS,
    threshold_rule: str = DEFAULT_RULE,
    compact: Any = None,
) -> BuildResult:
    """Fit, score every clip, measure, and make the four feeds.

    X_all: (N, d) float32 matrix, typically a read-only ``np.memmap``; ids: (N,) clip ids
    aligned with its rows; labeled_ids / labels: the annotated clips and their 0/1 values
    (1 = positive); previous: the previous ``ProbeModel``/``BuildResult`` (warm start);
    clusters: cached corpus centroids, computed (and returned) when None; exclude_ids:
    more ids to keep out of the feeds (e.g. skipped clips). Feeds exclude every annotated
    clip. threshold_rule: how the version's threshold is chosen on the calibrated
    out-of-fold probabilities ("f1", "precision>=P", "recall>=R"; see ``learn.threshold``).
    compact: a ``vectors.compact.CompactMatrix`` holding the same rows as int8 codes: the
    corpus is then scored from it (approximate logits within ``error_bound`` of the float32
    ones) and the score feeds re-score their candidates exactly against ``X_all``
    (``learn/rescore.py``); the returned scores are exact for those candidates, and
    ``metrics["scan"]`` says how many there were and whether every feed is guaranteed exact.
    Raises ``NotReady`` unless there is at least one positive and one negative, and
    ``InvalidInput`` for a threshold rule it does not know.
    """
    parse_rule(threshold_rule)  # a bad setting fails before any work
    t_start = time.perf_counter()
    timings: dict[str, float] = {}

    def lap(stage: str, since: float) -> float:
        now = time.perf_counter()
        timings[stage] = round((now - since) * 1000, 2)
        return now

    labeled_ids = np.asarray(labeled_ids).reshape(-1)
    y = np.asarray(labels).reshape(-1)
    if labeled_ids.shape != y.shape:
        raise InvalidInput(f"labeled_ids and labels differ in length ({labeled_ids.size} vs {y.size})")
    if not np.isin(y, (0, 1)).all():
        raise InvalidInput("labels must be 0 (negative) or 1 (positive)")
    y = y.astype(np.int64)
    n_pos, n_neg = int(y.sum()), int(y.size - y.sum())
    if n_pos == 0 or n_neg == 0:
        raise NotReady(NOT_READY_MESSAGE.format(pos=n_pos, neg=n_neg))
    if np.unique(labeled_ids).size != labeled_ids.size:
        raise InvalidInput("labeled_ids must be unique (aggregate annotators' values first)")
    ids = np.asarray(ids)
    if X_all.ndim != 2 or X_all.shape[0] != ids.shape[0]:
        raise InvalidInput(f"X_all {X_all.shape} and ids {ids.shape} do not align")

    t = time.perf_counter()
    pos = positions_of(ids, labeled_ids)
    if compact is None:
        order = np.argsort(pos, kind="stable")  # read the memmap in file order
        X_lab = np.empty((pos.size, X_all.shape[1]), dtype=np.float32)
        X_lab[order] = X_all[pos[order]]
    else:  # a large corpus: read exactly these rows, keep the page cache for the int8 copy
        from ..vectors.compact import read_rows

        X_lab = read_rows(X_all, pos)
    t = lap("gather", t)

    coef0, b0 = _previous_weights(previous, X_all.shape[1])
    with single_thread_blas():
        probe = LinearProbe(C=C, random_state=seed).fit(X_lab, y, coef_init=coef0, intercept_init=b0)
        t = lap("fit", t)
        model = ProbeModel(coef=probe.coef_, intercept=probe.intercept_, threshold=0.0, C=C)

        if compact is None:
            scores = score_corpus(X_all, probe.coef_, probe.intercept_)
        else:
            scores = compact.scores(X_all.shape[0], probe.coef_, probe.intercept_)
        t = lap("score", t)

        cv, oof = cross_validated(
            X_lab,
            y,
            n_splits=cv_splits,
            seed=seed,
            C=C,
            n_bootstrap=n_bootstrap,
            coef_init=probe.coef_,
            intercept_init=probe.intercept_,
        )
        t = lap("cv", t)

        if oof is None:
            why = f"no out-of-fold scores: {cv.get('reason')}"
            calibration = identity(f"{why}; scores are sigmoid(logit)", 0, n_pos, n_neg)
            choice = fallback_threshold(threshold_rule, f"{why}; threshold p = 0.5", n_pos, n_neg)
        else:
            calibration = fit_platt(oof, y)
            choice = choose_threshold(
                calibration.probability(oof), y, threshold_rule, n_bootstrap=DEFAULT_THRESHOLD_BOOTSTRAP, seed=seed
            )
        choice = replace(choice, logit=calibration.logit_for(choice.probability))
        model.threshold = float(choice.logit if choice.logit is not None else 0.0)
        t = lap("calibrate", t)

        if clusters is None:
            clusters = fit_clusters(X_all, k=n_clusters, seed=seed)
            t = lap("clusters", t)
        spread = diversity(X_lab, y, clusters)
        t = lap("diversity", t)

    exclude = labeled_ids if exclude_ids is None else np.union1d(labeled_ids, np.asarray(exclude_ids))
    scan: dict[str, Any] | None = None
    if compact is None:
        feeds = {
            name: feed(scores, ids, n_feed, seed, exclude=exclude, threshold=model.threshold)
            for name, feed in FEEDS.items()
        }
    else:
        from .rescore import exact_scores, rescored_feeds

        feeds, rows, exact, scan = rescored_feeds(
            scores,
            compact.error_bound(probe.coef_),
            exact_scores(X_all, probe.coef_, probe.intercept_),
            ids,
            n_feed,
            seed,
            exclude=exclude,
            threshold=model.threshold,
            outliers=compact.outliers,
            sigma=compact.error_sigma(probe.coef_),
        )
        scores[rows] = exact
        scan = {"kind": "int8", **scan, "rescored": int(rows.size)}
    t = lap("feeds", t)

    metrics = {
        "n_labeled": int(y.size),
        "n_positive": n_pos,
        "n_negative": n_neg,
        "fit_iterations": int(probe.n_iter_),
        "warm_start": coef0 is not None,
        "cv": cv,
        "diversity": spread,
        "calibration": calibration.to_dict(),
        "threshold": choice.to_dict(),
    }
    if scan is not None:
        metrics["scan"] = scan
    timings["total"] = round((time.perf_counter() - t_start) * 1000, 2)
    return BuildResult(
        model=model,
        scores=scores,
        metrics=metrics,
        feeds=feeds,
        timings_ms=timings,
        clusters=clusters,
        calibration=calibration,
        threshold=choice,
    )
