"""The per-label classifier: L2-regularised logistic regression with the scikit-learn API.

``LinearProbe`` minimises the same objective as scikit-learn's
``LogisticRegression(penalty="l2", C=C, class_weight=...)``::

    C * sum_i s_i * log(1 + exp(-t_i * (x_i @ coef + intercept))) + 0.5 * ||coef||^2

(t_i = +-1, s_i the class and sample weights, the intercept not penalised), so the two
agree to solver tolerance (tests: predicted probabilities within 1e-3; measured ~1e-7).

Solver, chosen by measurement on the 2-core dev machine (1,000 annotations x 384/512
float32; medians under the machine's usual load from other jobs, ~3-4):
- The largest cost was not the algorithm but OpenBLAS threading: with 2 BLAS threads
  on 2 busy cores, sklearn lbfgs took 95 ms (384-d) / 660 ms (512-d); the same fit on
  one BLAS thread 12-24 ms. So all small dense algebra here runs on one BLAS thread.
- At equal accuracy (probabilities within ~1e-7 of the exact optimum), one BLAS
  thread: sklearn lbfgs (tol 1e-8) 32-49 ms, newton-cg (tol 1e-8) 23-30 ms,
  newton-cholesky 54-81 ms, liblinear 37-55 ms (and only ~1e-3 accurate: it penalises
  the intercept); this solver 24-31 ms cold, 21-23 ms warm-started from the previous
  model version. lbfgs at its default tolerance is faster but off by up to 1e-2.
- Five-fold cross-validation with a shared preconditioner (``cross_fit_decision``):
  55-75 ms against 88-91 ms for five sklearn newton-cg fits.
- Importing ``sklearn.linear_model`` takes ~3 s in a fresh process (a CLI ``va build``);
  this module needs numpy and ``scipy.linalg`` only (~0.9 s with the package).

The method: Newton's method whose systems are solved by conjugate gradients,
preconditioned with the Cholesky factor of the Hessian at the start point - one float32
Gram matrix and one Cholesky per fit, then only O(n d) work per CG step.

``score_corpus`` applies a fitted model to a whole (memory-mapped) matrix in chunks.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# Imported here, not lazily: threadpool limits apply to the BLAS libraries loaded when
# they are set, and scipy brings its own OpenBLAS.
from scipy.linalg import cho_factor, cho_solve

__all__ = ["LinearProbe", "NotFittedError", "cross_fit_decision", "score_corpus", "sigmoid", "single_thread_blas"]

# Bytes of the matrix per scoring chunk: big enough that the per-chunk overhead vanishes,
# small enough to balance threads and that a conversion (e.g. a float16 store) never
# materialises the matrix.
SCORE_CHUNK_BYTES = 16 << 20


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter = None


@contextlib.contextmanager
def single_thread_blas():
    """Run dense linear algebra on one BLAS thread (re-entrant, thread-safe, cheap nested).

    OpenBLAS's threaded Cholesky on a ~400x400 matrix is no faster than one thread when
    the machine is idle, and 30x slower when another process competes for the cores
    (measured: 15 ms vs 470 ms median on the 2-core dev machine under load). The limit
    is process-wide (a BLAS setting), so the first user sets it and the last restores it.
    """
    global _blas_users, _blas_limiter
    with _blas_lock:
        if _blas_users == 0:
            try:
                from threadpoolctl import threadpool_limits  # comes with scikit-learn
                _blas_limiter = threadpool_limits(1)
            except ImportError:
                _blas_limiter = None
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limiter is not None:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


class NotFittedError(ValueError, AttributeError):
    """Raised when a LinearProbe is used before ``fit`` (same bases as scikit-learn's)."""


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function (no overflow warnings for large |z|)."""
    z = np.asarray(z)
    out = np.empty_like(z, dtype=np.result_type(z.dtype, np.float32))
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _log1pexp(z: np.ndarray) -> np.ndarray:
    """log(1 + exp(z)) without overflow."""
    return np.logaddexp(0.0, z)


class LinearProbe:
    """Binary L2-regularised logistic regression, fitted by Newton's method.

    Parameters
    ----------
    C : float, default 1.0
        Inverse regularisation strength, as in scikit-learn's LogisticRegression.
    class_weight : "balanced", dict or None, default "balanced"
        Weights per class; "balanced" uses n_samples / (2 * count(class)).
    max_iter : int, default 50
        Maximum Newton iterations.
    tol : float, default 1e-6
        Stop when the Newton decrement (the predicted decrease of the objective)
        is below ``tol`` times the number of samples.
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

    def __init__(self, C=1.0, class_weight="balanced", max_iter=50, tol=1e-6,
                 warm_start=False, random_state=None):
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state

    # --- scikit-learn plumbing (kept minimal so importing this does not import sklearn)
    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in
                ("C", "class_weight", "max_iter", "tol", "warm_start", "random_state")}

    def set_params(self, **params):
        valid = self.get_params()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for LinearProbe; valid: {sorted(valid)}")
            setattr(self, key, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"LinearProbe({args})"

    # --- fitting
    def fit(self, X, y, sample_weight=None, coef_init=None, intercept_init=None):
        """Fit on X (n, d) and binary y; returns self.

        ``coef_init``/``intercept_init`` start Newton from given weights, e.g. the previous
        model version's: after a few new annotations the optimum barely moves, so 1-3
        steps suffice. The result is the same optimum either way (the problem is convex).
        """
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {X.shape}")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},); got {y.shape}")
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinity")
        if self.C <= 0:
            raise ValueError(f"C must be positive; got {self.C}")
        classes, t = np.unique(y, return_inverse=True)
        if len(classes) != 2:
            raise ValueError(
                f"LinearProbe is a binary classifier: y needs exactly 2 classes, got {len(classes)}")
        _, d = X.shape
        weights = self._sample_weights(t, classes, sample_weight)

        if coef_init is not None:
            coef0 = np.asarray(coef_init, dtype=np.float64).reshape(-1)
            b0 = float(intercept_init) if intercept_init is not None else 0.0
        elif self.warm_start and getattr(self, "coef_", None) is not None:
            coef0, b0 = self.coef_, float(self.intercept_)
        else:
            coef0, b0 = None, None
        if coef0 is not None and coef0.shape != (d,):
            coef0 = None  # a previous model of another dimension (new embedder): start cold
        if coef0 is None:
            # The optimum of the intercept-only model: log-odds of the weighted classes.
            pos = weights[t == 1].sum()
            neg = weights[t == 0].sum()
            coef0, b0 = np.zeros(d), float(np.log(pos / neg))
        with single_thread_blas():
            beta, n_iter = _newton_logistic(X, t.astype(np.float64), weights, float(self.C),
                                            np.append(coef0, b0), int(self.max_iter), float(self.tol))
        self.coef_ = beta[:d]
        self.intercept_ = float(beta[d])
        self.classes_ = classes
        self.n_features_in_ = d
        self.n_iter_ = n_iter
        return self

    def _sample_weights(self, t, classes, sample_weight):
        n = t.shape[0]
        weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).copy()
        if weights.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},); got {weights.shape}")
        cw = self.class_weight
        if isinstance(cw, str):
            if cw != "balanced":
                raise ValueError(f"class_weight must be 'balanced', a dict or None; got {cw!r}")
            counts = np.bincount(t, minlength=2)
            weights *= (n / (2.0 * counts))[t]
        elif isinstance(cw, dict):
            weights *= np.array([cw.get(c, 1.0) for c in classes])[t]
        elif cw is not None:
            raise ValueError(f"class_weight must be 'balanced', a dict or None; got {cw!r}")
        return weights

    # --- prediction
    def _check_fitted(self):
        if getattr(self, "coef_", None) is None:
            raise NotFittedError("This LinearProbe instance is not fitted yet. Call 'fit' with "
                                 "annotated examples first.")

    def decision_function(self, X):
        """Logit of the positive class (``classes_[1]``) for each row of X; > 0 means positive."""
        self._check_fitted()
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have shape (n, {self.n_features_in_}); got {X.shape}")
        coef = self.coef_.astype(X.dtype) if X.dtype == np.float32 else self.coef_
        return X @ coef + self.intercept_

    def predict_proba(self, X):
        """(n, 2) probabilities; the columns follow ``classes_``."""
        p = sigmoid(np.asarray(self.decision_function(X), dtype=np.float64))
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def score(self, X, y):
        """Mean accuracy, as scikit-learn classifiers define ``score``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


def _loss_terms(X64, t, beta):
    """Margins z and per-sample losses log(1 + exp(-/+ z)) at beta."""
    z = X64 @ beta[:-1] + beta[-1]
    return z, _log1pexp(np.where(t == 1, -z, z))


def _gradient(X64, t, w, C, beta, z):
    r = C * w * (sigmoid(z) - t)
    grad = np.empty(beta.shape[0])
    grad[:-1] = X64.T @ r + beta[:-1]
    grad[-1] = r.sum()
    return grad


def _weighted_gram(X, h):
    """[X 1]^T diag(h) [X 1] in float64, the O(n d^2) product done in X's dtype."""
    d = X.shape[1]
    sq = np.sqrt(h).astype(X.dtype)
    Xh = X * sq[:, None]
    G = np.empty((d + 1, d + 1))
    G[:d, :d] = Xh.T @ Xh
    col = (X.T @ h.astype(X.dtype)).astype(np.float64)
    G[:d, d] = col
    G[d, :d] = col
    G[d, d] = h.sum()
    return G


def _regulariser(d):
    ridge = np.ones(d + 1)
    ridge[-1] = 1e-10  # intercept unpenalised; the tiny term only guards a degenerate system
    return ridge


def _factor(H):
    """Cholesky factor of H, or None when H is not numerically positive definite."""
    try:
        return cho_factor(H, lower=True, check_finite=False)[0]
    except np.linalg.LinAlgError:
        return None


def _hessian_factor(X, h, ridge):
    """Cholesky factor of [X 1]^T diag(h) [X 1] + diag(ridge), or None if not PD."""
    H = _weighted_gram(X, h)
    H[np.diag_indices(H.shape[0])] += ridge
    return _factor(H)


def _newton_logistic(X, t, w, C, beta, max_iter, tol, factor=None):
    """Newton's method for the L2-regularised logistic loss; returns (beta, iterations).

    beta = [coef..., intercept]. Each Newton system H(beta) s = -grad is solved by
    conjugate gradients preconditioned with one fixed Cholesky factor: the Hessian at
    the start point (``factor``, or computed here). Forming a Hessian is the O(n d^2)
    step (a float32 Gram matrix, then an O(d^3) Cholesky); CG needs only Hessian-vector
    products, two O(n d) matrix-vector products each. Near the start point the
    preconditioner is almost exact, so CG takes 1-5 iterations and a fit forms one
    Hessian instead of one per Newton step. Gradient and objective are float64; an
    Armijo backtracking line search keeps (nearly) separable data from overshooting.
    """
    n, d = X.shape
    X64 = X.astype(np.float64, copy=False)
    ridge = _regulariser(d)
    z, loss = _loss_terms(X64, t, beta)
    f = C * float(w @ loss) + 0.5 * float(beta[:-1] @ beta[:-1])
    if factor is None:
        p = sigmoid(z)
        factor = _hessian_factor(X, C * w * p * (1.0 - p), ridge)
    if factor is not None:
        def precondition(r):
            return _cho_solve(factor, r)
    else:  # Hessian numerically singular at the start: a diagonal preconditioner instead
        inv_diag = 1.0 / (np.append(0.25 * C * ((X64 * X64).T @ w), 0.25 * C * w.sum()) + ridge)

        def precondition(r):
            return inv_diag * r
    it = 0
    for it in range(1, max_iter + 1):
        grad = _gradient(X64, t, w, C, beta, z)
        p = sigmoid(z)
        step = _pcg(X64, C * w * p * (1.0 - p), ridge, grad, precondition)
        decrement = -float(grad @ step)  # ~ grad^T H^-1 grad >= 0
        if decrement / 2.0 <= tol * n:
            beta = beta + step  # the full step is accurate to second order here
            break
        step_size = 1.0
        while True:
            candidate = beta + step_size * step
            z_new, loss = _loss_terms(X64, t, candidate)
            f_new = C * float(w @ loss) + 0.5 * float(candidate[:-1] @ candidate[:-1])
            if f_new <= f - 0.25 * step_size * decrement or step_size < 1e-8:
                break
            step_size *= 0.5
        beta, f, z = candidate, f_new, z_new
    return beta, it


def _pcg(X64, h, ridge, grad, precondition, rtol=1e-3, max_iter=200):
    """Solve H s = -grad, H = [X 1]^T diag(h) [X 1] + diag(ridge), by preconditioned CG."""
    def hessian_times(v):
        u = h * (X64 @ v[:-1] + v[-1])
        out = np.empty_like(v)
        out[:-1] = X64.T @ u
        out[-1] = u.sum()
        out += ridge * v
        return out

    step = np.zeros_like(grad)
    residual = -grad
    zr = precondition(residual)
    direction = zr.copy()
    rz = float(residual @ zr)
    stop = rtol * float(np.linalg.norm(grad))
    for _ in range(max_iter):
        Hd = hessian_times(direction)
        curvature = float(direction @ Hd)
        if curvature <= 0:
            break
        alpha = rz / curvature
        step += alpha * direction
        residual -= alpha * Hd
        if np.linalg.norm(residual) <= stop:
            break
        zr = precondition(residual)
        rz_new = float(residual @ zr)
        direction = zr + (rz_new / rz) * direction
        rz = rz_new
    return step


def cross_fit_decision(X, y, fold, C=1.0, class_weight="balanced", coef_init=None,
                       intercept_init=None, max_iter=50, tol=1e-5) -> np.ndarray:
    """Out-of-fold logits: for every fold f, the LinearProbe optimum fitted on the other
    folds, applied to fold f. The same result as refitting LinearProbe per fold.

    Speed: every fold starts from one point (``coef_init``: the model fitted on all the
    data; fitted here if not given) and shares one preconditioner, the Cholesky factor
    of the all-data Hessian there. A fold's Hessian is ~(k-1)/k of it, so each fold
    costs some CG iterations (O(n d) each) and no O(n d^2) Hessian of its own.
    ``tol`` is 10x looser than a fit's: out-of-fold logits within ~1e-4 of the exact
    optimum (measured 2e-5 at 1,000 x 384) leave the AP unchanged and save a Newton
    step per fold.
    """
    X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    y = np.asarray(y)
    fold = np.asarray(fold)
    classes, t_int = np.unique(y, return_inverse=True)
    if len(classes) != 2:
        raise ValueError("cross_fit_decision needs exactly 2 classes")
    t = t_int.astype(np.float64)
    probe = LinearProbe(C=C, class_weight=class_weight)
    with single_thread_blas():
        if coef_init is None:
            probe.fit(X, y)
            coef_init, intercept_init = probe.coef_, probe.intercept_
        beta0 = np.append(np.asarray(coef_init, dtype=np.float64).reshape(-1),
                          0.0 if intercept_init is None else float(intercept_init))
        X64 = X.astype(np.float64, copy=False)
        p0 = sigmoid(X64 @ beta0[:-1] + beta0[-1])
        weights = probe._sample_weights(t_int, classes, None)
        factor = _hessian_factor(X, C * weights * p0 * (1.0 - p0), _regulariser(X.shape[1]))
        oof = np.empty(X.shape[0])
        for f in np.unique(fold):
            train = fold != f
            w = probe._sample_weights(t_int[train], classes, None)
            beta, _ = _newton_logistic(X[train], t[train], w, C, beta0.copy(), max_iter, tol, factor)
            oof[~train] = X64[~train] @ beta[:-1] + beta[-1]
    return oof


def _cho_solve(L, b):
    """Solve (L L^T) x = b given the lower Cholesky factor L (one LAPACK potrs call)."""
    return cho_solve((L, True), b, check_finite=False)


def score_corpus(X, coef, intercept: float, out: np.ndarray | None = None,
                 chunk_bytes: int = SCORE_CHUNK_BYTES, workers: int | None = None) -> np.ndarray:
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
    if out is None:
        out = np.empty(n, dtype=np.float32)
    rows = max(1, chunk_bytes // max(1, d * X.dtype.itemsize))
    starts = range(0, n, rows)
    workers = min(len(starts), workers or min(4, os.cpu_count() or 1))

    def score_chunk(start):
        block = X[start:start + rows]
        if block.dtype != np.float32:
            block = block.astype(np.float32)
        np.dot(block, coef32, out=out[start:start + rows])

    with single_thread_blas():
        if workers <= 1:
            for start in starts:
                score_chunk(start)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(score_chunk, starts))
    out += np.float32(intercept)
    return out
