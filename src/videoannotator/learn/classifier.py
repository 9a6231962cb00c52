"""The per-label classifier: scikit-learn's L2 logistic regression, and corpus scoring.

``LinearProbe`` fits ``sklearn.linear_model.LogisticRegression(solver="lbfgs")`` to the
minimum of::

    C * sum_i s_i * log(1 + exp(-t_i * (x_i @ coef + intercept))) + 0.5 * ||coef||^2

(t_i = +-1, s_i the class and sample weights, the intercept not penalised): scikit-learn's
own objective for ``LogisticRegression(C=C, class_weight=...)``. The wrapper adds what the
product needs: ``coef_`` as a 1-D vector and ``intercept_`` as a float, a warm start from
given weights (the previous model version's), fitting in float64 (on float32 vectors lbfgs
stalls ~1e-4 from the optimum; only the cross-validation folds, which need less, run in
float32) and one BLAS thread (``single_thread_blas``, threadpoolctl's limit).

lbfgs runs on centred, rescaled vectors, x' = (x - mean) * a with a = 1 / RMS(x - mean),
and C' = C / a^2. With coef = a * coef' and intercept = intercept' - mean @ coef this is
the same problem (the intercept is unpenalised, so the centring only moves it; one scalar a
scales ||coef||^2 by a^2, which C' absorbs), so the optimum is the same; but the features
and the intercept's column of ones now have the same scale, and lbfgs needs ~40% fewer
steps for the same accuracy (measured at 1,000 x 384 unit vectors). The tests check the
result against another scikit-learn solver and against the objective's gradient.

``score_corpus`` applies a fitted model to a whole (memory-mapped) matrix in chunks.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit  # type: ignore[import-untyped, unused-ignore]
from sklearn import config_context  # type: ignore[import-untyped, unused-ignore]
from sklearn.base import BaseEstimator, ClassifierMixin  # type: ignore[import-untyped, unused-ignore]
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # type: ignore[import-untyped, unused-ignore]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped, unused-ignore]

from .decision import is_positive

__all__ = ["LinearProbe", "NotFittedError", "cross_fit_decision", "score_corpus", "sigmoid", "single_thread_blas"]

# Bytes of the matrix per scoring chunk: big enough that the per-chunk overhead vanishes,
# small enough to balance threads and that a conversion (e.g. a float16 store) never
# materialises the matrix.
SCORE_CHUNK_BYTES = 16 << 20

# lbfgs stops when the largest gradient component of the (sample-weight-normalised,
# standardised) objective is below ``tol``: 1e-8 gives probabilities within ~1e-7 of the
# exact optimum (measured at 1,000 x 384). Out-of-fold scores feed an AP and the Platt
# calibration (two parameters, insensitive at this accuracy), so the folds stop at 1e-5
# (logits within ~3e-4 of the exact folds' optimum, the same AP to ~1e-5).
FIT_TOL = 1e-8
CV_TOL = 1e-5

FloatArray = npt.NDArray[np.floating[Any]]  # float32 or float64
F64Array = npt.NDArray[np.float64]

_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter: Any = None
_controller: Any = None
_controller_modules = -1


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """``threadpoolctl``'s limit of one thread for BLAS and OpenMP; re-entrant, cheap when nested.

    Small solves on one BLAS thread: OpenBLAS threads spin and stall when another process
    holds a core (measured: a 1,000 x 384 lbfgs fit 95 ms on two busy cores, 12-24 ms on
    one). The limit is process-wide, so the first user sets it and the last restores it.
    ``threadpool_limits(1)`` would scan the loaded libraries on every call (~1 ms, 5 ms the
    first time, a Build's largest fixed cost after the fit); one ``ThreadpoolController``
    is kept instead and rescanned only when a module was imported since (a new native
    library comes with an import).
    """
    global _blas_users, _blas_limiter, _controller, _controller_modules
    with _blas_lock:
        if _blas_users == 0:
            if _controller is None or len(sys.modules) != _controller_modules:
                _controller = ThreadpoolController()
                _controller_modules = len(sys.modules)
            _blas_limiter = _controller.limit(limits=1)
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

    def __init__(
        self,
        C: float = 1.0,
        class_weight: str | dict[Any, float] | None = "balanced",
        max_iter: int = 1000,
        tol: float = FIT_TOL,
        warm_start: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
        coef_init: npt.ArrayLike | None = None,
        intercept_init: float | None = None,
    ) -> LinearProbe:
        """Fit on X (n, d) and binary y; returns self.

        ``coef_init``/``intercept_init`` start lbfgs from given weights, e.g. the previous
        model version's (ignored when their dimension differs: a new embedder). The
        problem is convex, so the optimum is the same either way; only the steps differ.
        """
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}")
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},); got {y.shape}")
        classes, t = np.unique(y, return_inverse=True)
        if len(classes) != 2:
            raise ValueError(f"LinearProbe is a binary classifier: y needs exactly 2 classes, got {len(classes)}")
        if not (self.C > 0 and self.tol > 0 and self.max_iter >= 1):
            raise ValueError(
                f"C and tol must be positive and max_iter at least 1; got C={self.C}, "
                f"tol={self.tol}, max_iter={self.max_iter}"
            )
        d = X.shape[1]
        start: tuple[F64Array, float] | None = None
        if coef_init is not None:
            start = (
                np.asarray(coef_init, dtype=np.float64).reshape(-1),
                0.0 if intercept_init is None else float(intercept_init),
            )
        elif self.warm_start and hasattr(self, "coef_"):
            start = (self.coef_, self.intercept_)
        if start is not None and start[0].shape != (d,):
            start = None  # a previous model of another dimension (new embedder): start cold
        weights = _sample_weights(t, classes, self.class_weight, sample_weight)
        with single_thread_blas():
            space = _Standardised(X)
            coef, intercept, n_iter = space.fit(t, weights, self.C, start, self.tol, self.max_iter)
        self.coef_ = coef
        self.intercept_ = intercept
        self.classes_ = classes
        self.n_features_in_ = d
        self.n_iter_ = n_iter
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError(
                "This LinearProbe instance is not fitted yet. Call 'fit' with annotated examples first."
            )

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


def cross_fit_decision(
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    fold: npt.ArrayLike,
    C: float = 1.0,
    class_weight: str | dict[Any, float] | None = "balanced",
    coef_init: npt.ArrayLike | None = None,
    intercept_init: float | None = None,
    max_iter: int = 1000,
    tol: float = CV_TOL,
) -> F64Array:
    """Out-of-fold logits: for every fold f, the LinearProbe fitted on the other folds,
    applied to fold f.

    The vectors are standardised once for all folds, and every fold starts from
    ``coef_init``/``intercept_init`` (the model fitted on all the data, fitted here if not
    given): a fold's optimum is near it. ``tol`` is looser than a fit's (see ``CV_TOL``).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    fold = np.asarray(fold)
    classes, t = np.unique(y, return_inverse=True)
    if len(classes) != 2:
        raise ValueError("cross_fit_decision needs exactly 2 classes")
    oof = np.empty(X.shape[0])
    with single_thread_blas():
        space = _Standardised(X)
        if coef_init is None:
            coef, intercept, _ = space.fit(
                t, _sample_weights(t, classes, class_weight, None), C, None, FIT_TOL, max_iter
            )
        else:
            coef = np.asarray(coef_init, dtype=np.float64).reshape(-1)
            intercept = 0.0 if intercept_init is None else float(intercept_init)
        for f in np.unique(fold):
            train = fold != f
            w = _sample_weights(t[train], classes, class_weight, None)
            oof[~train] = space.fit_decision(train, t[train], w, C, (coef, intercept), tol, max_iter)
    return oof


def _sample_weights(
    t: npt.NDArray[np.intp],
    classes: npt.NDArray[Any],
    class_weight: str | dict[Any, float] | None,
    sample_weight: npt.ArrayLike | None,
) -> F64Array:
    """Sample weights times class weights, as scikit-learn's ``class_weight`` defines them
    ("balanced": n_samples / (2 * count(class)), unweighted counts)."""
    n = t.shape[0]
    weights = np.ones(n) if sample_weight is None else np.array(sample_weight, dtype=np.float64)
    if weights.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},); got {weights.shape}")
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(f"class_weight must be 'balanced', a dict or None; got {class_weight!r}")
        weights *= (n / (2.0 * np.bincount(t, minlength=2)))[t]
    elif isinstance(class_weight, dict):
        weights *= np.array([class_weight.get(c, 1.0) for c in classes])[t]
    elif class_weight is not None:
        raise ValueError(f"class_weight must be 'balanced', a dict or None; got {class_weight!r}")
    return weights


class _Standardised:
    """X as lbfgs sees it: x' = (x - mean) * scale in float64 (see the module docstring)."""

    def __init__(self, X: npt.NDArray[Any]) -> None:
        # Any mean and any positive scale give the same optimum, so both come cheaply from
        # X itself (float64 column sums, one dot product); only Xs must be float64.
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        n, d = X.shape
        self.mean: F64Array = X.mean(axis=0, dtype=np.float64)
        square_sum = float(np.vdot(X, X))
        if not (np.isfinite(self.mean).all() and np.isfinite(square_sum)):  # a NaN or inf anywhere shows
            raise ValueError("X contains NaN or infinity")
        variance = square_sum / max(n * d, 1) - float(self.mean @ self.mean) / max(d, 1)
        self.scale = 1.0 / np.sqrt(variance) if variance > 1e-12 * square_sum / max(n * d, 1) else 1.0
        Xs = np.subtract(X, self.mean, dtype=np.float64)
        Xs *= self.scale
        self.X: F64Array = Xs
        self._X32: npt.NDArray[np.float32] | None = None

    def fit(
        self,
        t: npt.NDArray[np.intp],
        weights: F64Array,
        C: float,
        start: tuple[F64Array, float] | None,
        tol: float,
        max_iter: int,
    ) -> tuple[F64Array, float, int]:
        """The optimum on all rows, as (coef, intercept, iterations) of the original vectors."""
        coef_s, b_s, n_iter = self._lbfgs(self.X, t, weights, C, start, tol, max_iter)
        coef = coef_s * self.scale
        return coef, b_s - float(self.mean @ coef), n_iter

    def fit_decision(
        self,
        train: npt.NDArray[np.bool_],
        t: npt.NDArray[np.intp],
        weights: F64Array,
        C: float,
        start: tuple[F64Array, float],
        tol: float,
        max_iter: int,
    ) -> F64Array:
        """Fit on the ``train`` rows; the logits of the other rows (the same in either space).

        For out-of-fold scores lbfgs reads the standardised rows in float32: half the
        memory traffic per step (~30% faster folds), and on standardised vectors float32
        holds the loose CV tolerance (logits within ~3e-4 of the exact folds' optimum,
        measured at 1,000 x 384, against ~2e-4 in float64).
        """
        if self._X32 is None:
            self._X32 = self.X.astype(np.float32)
        with warnings.catch_warnings():
            # A fold of (nearly) separable data may stop at max_iter; its logits still rank.
            warnings.simplefilter("ignore", ConvergenceWarning)
            coef_s, b_s, _ = self._lbfgs(self._X32[train], t, weights, C, start, tol, max_iter)
        out: F64Array = self.X[~train] @ coef_s + b_s
        return out

    def _lbfgs(
        self,
        Xs: FloatArray,
        t: npt.NDArray[np.intp],
        weights: F64Array,
        C: float,
        start: tuple[F64Array, float] | None,
        tol: float,
        max_iter: int,
    ) -> tuple[F64Array, float, int]:
        model = LogisticRegression(
            solver="lbfgs", C=C / self.scale**2, tol=tol, max_iter=max_iter, warm_start=start is not None
        )
        if start is not None:
            coef0, b0 = start
            model.coef_ = (coef0 / self.scale).reshape(1, -1)
            model.intercept_ = np.array([b0 + float(self.mean @ coef0)])
        # Inputs are checked above; scikit-learn's own checks cost ~1 ms a fit.
        with config_context(assume_finite=True, skip_parameter_validation=True):
            model.fit(Xs, t, sample_weight=weights)
        return np.array(model.coef_[0], dtype=np.float64), float(model.intercept_[0]), int(model.n_iter_[0])


def score_corpus(
    X: npt.NDArray[Any],
    coef: npt.ArrayLike,
    intercept: float,
    out: npt.NDArray[np.float32] | None = None,
    chunk_bytes: int = SCORE_CHUNK_BYTES,
    workers: int | None = None,
) -> npt.NDArray[np.float32]:
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
        block = X[start : start + rows]
        if block.dtype != np.float32:
            block = block.astype(np.float32)
        np.dot(block, coef32, out=result[start : start + rows])

    with single_thread_blas():
        if workers <= 1:
            for start in starts:
                score_chunk(start)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(score_chunk, starts))
    result += np.float32(intercept)
    return result
