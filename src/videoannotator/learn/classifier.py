"""The per-label classifier: scikit-learn's L2 logistic regression, and corpus scoring.

``LinearProbe`` is ``sklearn.linear_model.LogisticRegression(solver="lbfgs", C=C,
class_weight=...)``, which minimises::

    C * sum_i s_i * log(1 + exp(-t_i * (x_i @ coef + intercept))) + 0.5 * ||coef||^2

(t_i = +-1, s_i the class and sample weights; lbfgs never penalises the intercept). The
wrapper adds what the product needs around it: ``coef_`` as a 1-D vector and
``intercept_`` as a float, a warm start from given weights (the previous model version's),
float64 fitting of float32 vectors (lbfgs on float32 stalls ~1e-4 from the optimum), and
one BLAS thread for the whole fit (``single_thread_blas``).

``score_corpus`` applies a fitted model to a whole (memory-mapped) matrix in chunks.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit  # type: ignore[import-untyped]
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped]
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from .decision import is_positive

__all__ = ["LinearProbe", "NotFittedError", "cross_fit_decision", "score_corpus", "sigmoid", "single_thread_blas"]

# Bytes of the matrix per scoring chunk: big enough that the per-chunk overhead vanishes,
# small enough to balance threads and that a conversion (e.g. a float16 store) never
# materialises the matrix.
SCORE_CHUNK_BYTES = 16 << 20

# lbfgs stops when the largest gradient component of the (sample-weight-normalised)
# objective is below ``tol``: 1e-8 gives probabilities within ~1e-6 of the exact optimum
# (measured at 1,000 x 384). Out-of-fold scores only feed an AP, so the folds stop at
# 1e-6 (logits within ~1e-4, the same ranking).
FIT_TOL = 1e-8
CV_TOL = 1e-6

FloatArray = npt.NDArray[np.floating[Any]]  # float32 or float64
F64Array = npt.NDArray[np.float64]

_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter: threadpool_limits | None = None


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """``threadpool_limits(1)`` for dense linear algebra, re-entrant and cheap when nested.

    Small solves on one BLAS thread: OpenBLAS threads spin and stall when another process
    holds a core (measured: a 1,000 x 384 lbfgs fit 95 ms on two busy cores, 12-24 ms on
    one). Setting the limit scans the loaded libraries (~1 ms), so nested users (a build
    around five CV fits) share the outermost limit; it is process-wide, so the first user
    sets it and the last restores it.
    """
    global _blas_users, _blas_limiter
    with _blas_lock:
        if _blas_users == 0:
            _blas_limiter = threadpool_limits(1)
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limiter is not None:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


def sigmoid(z: npt.ArrayLike) -> FloatArray:
    """The logistic function (``scipy.special.expit``), at least float32."""
    z = np.asarray(z)
    out: FloatArray = expit(z.astype(np.result_type(z.dtype, np.float32), copy=False))
    return out


class LinearProbe(ClassifierMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """Binary L2-regularised logistic regression: scikit-learn's lbfgs ``LogisticRegression``.

    Parameters
    ----------
    C : float, default 1.0
        Inverse regularisation strength, as in scikit-learn's LogisticRegression.
    class_weight : "balanced", dict or None, default "balanced"
        Weights per class; "balanced" uses n_samples / (2 * count(class)).
    max_iter : int, default 1000
        Maximum lbfgs iterations.
    tol : float, default FIT_TOL
        lbfgs's gradient tolerance.
    warm_start : bool, default False
        Start ``fit`` from this estimator's previous ``coef_``/``intercept_``.
    random_state : int or None, default None
        Unused by the deterministic solver; kept for the scikit-learn contract.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    classes_ : ndarray of shape (2,); ``classes_[1]`` is the positive class.
    n_iter_ : int
    """

    coef_: F64Array
    intercept_: float
    classes_: npt.NDArray[Any]
    n_features_in_: int
    n_iter_: int

    def __init__(self, C: float = 1.0, class_weight: str | dict[Any, float] | None = "balanced",
                 max_iter: int = 1000, tol: float = FIT_TOL, warm_start: bool = False,
                 random_state: int | None = None) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None,
            coef_init: npt.ArrayLike | None = None, intercept_init: float | None = None) -> LinearProbe:
        """Fit on X (n, d) and binary y; returns self.

        ``coef_init``/``intercept_init`` start lbfgs from given weights, e.g. the previous
        model version's (ignored when their dimension differs: a new embedder). The
        problem is convex, so the optimum is the same either way; only the steps differ.
        """
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}")
        y = np.asarray(y)
        classes = np.unique(y)
        if len(classes) != 2:
            raise ValueError(
                f"LinearProbe is a binary classifier: y needs exactly 2 classes, got {len(classes)}")
        d = X.shape[1]
        coef0: F64Array | None = None
        b0 = 0.0
        if coef_init is not None:
            coef0 = np.asarray(coef_init, dtype=np.float64).reshape(-1)
            b0 = 0.0 if intercept_init is None else float(intercept_init)
        elif self.warm_start and hasattr(self, "coef_"):
            coef0, b0 = self.coef_, self.intercept_
        if coef0 is not None and coef0.shape != (d,):
            coef0 = None  # a previous model of another dimension (new embedder): start cold
        model = LogisticRegression(solver="lbfgs", C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                                   tol=self.tol, warm_start=coef0 is not None)
        if coef0 is not None:
            model.coef_ = coef0.reshape(1, d).copy()
            model.intercept_ = np.array([b0])
        with single_thread_blas():
            model.fit(X.astype(np.float64, copy=False), y, sample_weight=sample_weight)
        self.coef_ = model.coef_[0].copy()
        self.intercept_ = float(model.intercept_[0])
        self.classes_ = model.classes_
        self.n_features_in_ = d
        self.n_iter_ = int(model.n_iter_[0])
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("This LinearProbe instance is not fitted yet. Call 'fit' with "
                                 "annotated examples first.")

    def decision_function(self, X: npt.ArrayLike) -> FloatArray:
        """Logit of the positive class (``classes_[1]``) for each row of X."""
        self._check_fitted()
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have shape (n, {self.n_features_in_}); got {X.shape}")
        coef = self.coef_.astype(X.dtype) if X.dtype == np.float32 else self.coef_
        out: FloatArray = X @ coef + self.intercept_
        return out

    def predict_proba(self, X: npt.ArrayLike) -> FloatArray:
        """(n, 2) probabilities; the columns follow ``classes_``."""
        p = sigmoid(np.asarray(self.decision_function(X), dtype=np.float64))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: npt.ArrayLike) -> npt.NDArray[Any]:
        """``classes_[1]`` where the logit is positive (``decision.is_positive``, threshold 0)."""
        out: npt.NDArray[Any] = self.classes_[is_positive(self.decision_function(X), 0.0).astype(np.intp)]
        return out


def cross_fit_decision(X: npt.ArrayLike, y: npt.ArrayLike, fold: npt.ArrayLike, C: float = 1.0,
                       class_weight: str | dict[Any, float] | None = "balanced",
                       coef_init: npt.ArrayLike | None = None, intercept_init: float | None = None,
                       max_iter: int = 1000, tol: float = CV_TOL) -> F64Array:
    """Out-of-fold logits: for every fold f, the LinearProbe fitted on the other folds,
    applied to fold f.

    Every fold starts from ``coef_init``/``intercept_init`` (the model fitted on all the
    data, fitted here if not given): a fold's optimum is near it, so lbfgs needs fewer
    steps. ``tol`` is looser than a fit's (see ``CV_TOL``).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    fold = np.asarray(fold)
    if np.unique(y).size != 2:
        raise ValueError("cross_fit_decision needs exactly 2 classes")
    oof = np.empty(X.shape[0])
    with single_thread_blas():
        X64 = X.astype(np.float64, copy=False)
        if coef_init is None:
            full = LinearProbe(C=C, class_weight=class_weight).fit(X64, y)
            coef_init, intercept_init = full.coef_, full.intercept_
        for f in np.unique(fold):
            train = fold != f
            probe = LinearProbe(C=C, class_weight=class_weight, max_iter=max_iter, tol=tol)
            with warnings.catch_warnings():
                # A fold of (nearly) separable data may stop at max_iter; its logits still rank.
                warnings.simplefilter("ignore", ConvergenceWarning)
                probe.fit(X64[train], y[train], coef_init=coef_init, intercept_init=intercept_init)
            oof[~train] = probe.decision_function(X64[~train])
    return oof


def score_corpus(X: npt.NDArray[Any], coef: npt.ArrayLike, intercept: float,
                 out: npt.NDArray[np.float32] | None = None, chunk_bytes: int = SCORE_CHUNK_BYTES,
                 workers: int | None = None) -> npt.NDArray[np.float32]:
    """Logits ``X @ coef + intercept`` for every row of X as float32, in row chunks.

    X may be a read-only ``np.memmap`` (N, d) of float32: each chunk is a view, so no
    copy of the matrix is made and the extra memory is the (N,) output alone. Chunks go
    to ``workers`` Python threads (default: up to 4 cores), each on one BLAS thread:
    the product is memory-bound, and OpenBLAS's own threads spin and stall when another
    process holds a core (measured under load on the 2-core dev machine: 2 BLAS threads
    ~340 ms, 1 BLAS thread ~256 ms, 2 Python threads ~208 ms median at 500k x 384).
    """
    n, d = X.shape
    coef32 = np.asarray(coef, dtype=np.float32).reshape(d)
    result = np.empty(n, dtype=np.float32) if out is None else out
    rows = max(1, chunk_bytes // max(1, d * X.dtype.itemsize))
    starts = range(0, n, rows)
    workers = min(len(starts), workers or min(4, os.cpu_count() or 1))

    def score_chunk(start: int) -> None:
        block = X[start:start + rows]
        if block.dtype != np.float32:
            block = block.astype(np.float32)
        np.dot(block, coef32, out=result[start:start + rows])

    with single_thread_blas():
        if workers <= 1:
            for start in starts:
                score_chunk(start)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(score_chunk, starts))
    result += np.float32(intercept)
    return result
