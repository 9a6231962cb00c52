"""The per-label classifier: L2-regularised logistic regression with the scikit-learn API.

``LinearProbe`` minimises the same objective as scikit-learn's
``LogisticRegression(penalty="l2", C=C, class_weight=...)``::

    C * sum_i s_i * log(1 + exp(-t_i * (x_i @ coef + intercept))) + 0.5 * ||coef||^2

(t_i = +-1, s_i the class and sample weights, the intercept not penalised), so the two
agree to solver tolerance. It solves it with a damped Newton method on the (d+1)x(d+1)
system instead of L-BFGS: with ~1,000 annotations and d = 384..1,280 one Newton step is
one float32 ``X.T @ (w * X)`` plus a Cholesky solve, and 5-8 steps (2-3 from a warm
start) reach the optimum. Measured on the 2-core dev machine at 1,000 x 512: lbfgs
~100-320 ms, liblinear ~35-60 ms (and it penalises the intercept), this ~10-25 ms cold and
less warm-started from the previous model version (numbers in docs/benchmarks.md).

``score_corpus`` applies a fitted model to a whole (memory-mapped) matrix in chunks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LinearProbe", "NotFittedError", "score_corpus", "sigmoid"]

# Bytes of the matrix per scoring chunk: big enough that the per-chunk overhead vanishes,
# small enough that a conversion (e.g. a float16 store) never materialises the matrix.
SCORE_CHUNK_BYTES = 64 << 20


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
        n, d = X.shape
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


def _objective(X64, t, w, C, beta):
    z = X64 @ beta[:-1] + beta[-1]
    # log(1 + exp(-z)) for positives, log(1 + exp(z)) for negatives
    loss = _log1pexp(np.where(t == 1, -z, z))
    return C * float(w @ loss) + 0.5 * float(beta[:-1] @ beta[:-1])


def _newton_logistic(X, t, w, C, beta, max_iter, tol):
    """Damped Newton for the L2-regularised logistic loss; returns (beta, iterations).

    beta = [coef..., intercept]. The gradient and objective are in float64; the Hessian
    X^T diag(h) X (the only O(n d^2) step) is formed in the input dtype (float32 is
    twice as fast) and solved in float64 - an inexact Newton step still converges to the
    float64 optimum because the gradient it follows is exact.
    """
    n, d = X.shape
    X64 = X.astype(np.float64, copy=False)
    ridge = np.ones(d + 1)
    ridge[-1] = 1e-10  # intercept unpenalised; the tiny term only guards a degenerate system
    f = _objective(X64, t, w, C, beta)
    it = 0
    for it in range(1, max_iter + 1):
        z = X64 @ beta[:-1] + beta[-1]
        p = sigmoid(z)
        r = C * w * (p - t)
        grad = np.empty(d + 1)
        grad[:-1] = X64.T @ r + beta[:-1]
        grad[-1] = r.sum()
        h = C * w * p * (1.0 - p)
        sq = np.sqrt(h).astype(X.dtype)
        Xh = X * sq[:, None]
        H = np.empty((d + 1, d + 1))
        H[:d, :d] = Xh.T @ Xh
        col = X.T.astype(np.float64) @ h if X.dtype == np.float64 else (X.T @ h.astype(X.dtype)).astype(np.float64)
        H[:d, d] = col
        H[d, :d] = col
        H[d, d] = h.sum()
        H[np.diag_indices(d + 1)] += ridge
        try:
            L = np.linalg.cholesky(H)
            step = -_cho_solve(L, grad)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(H, grad, rcond=None)[0]
        decrement = -float(grad @ step)  # = grad^T H^-1 grad >= 0
        if decrement / 2.0 <= tol * n:
            beta = beta + step  # the full step is accurate to second order here
            break
        # Backtracking (Armijo) line search: the pure Newton step can overshoot on
        # (nearly) separable data, where the loss is far from quadratic.
        step_size = 1.0
        while True:
            candidate = beta + step_size * step
            f_new = _objective(X64, t, w, C, candidate)
            if f_new <= f - 0.25 * step_size * decrement or step_size < 1e-8:
                break
            step_size *= 0.5
        beta, f = candidate, f_new
    return beta, it


def _cho_solve(L, b):
    """Solve (L L^T) x = b with numpy only (two triangular solves via LAPACK-backed solve)."""
    try:
        from scipy.linalg import solve_triangular
    except ImportError:  # scipy comes with scikit-learn; numpy-only fallback
        return np.linalg.solve(L @ L.T, b)
    y = solve_triangular(L, b, lower=True, check_finite=False)
    return solve_triangular(L.T, y, lower=False, check_finite=False)


def score_corpus(X, coef, intercept: float, out: np.ndarray | None = None,
                 chunk_bytes: int = SCORE_CHUNK_BYTES) -> np.ndarray:
    """Logits ``X @ coef + intercept`` for every row of X as float32, in row chunks.

    X may be a read-only ``np.memmap`` (N, d) of float32: each chunk is a view, so no
    copy of the matrix is made and the extra memory is the (N,) output alone.
    """
    n, d = X.shape
    coef32 = np.asarray(coef, dtype=np.float32).reshape(d)
    if out is None:
        out = np.empty(n, dtype=np.float32)
    rows = max(1, chunk_bytes // max(1, d * X.dtype.itemsize))
    for start in range(0, n, rows):
        block = X[start:start + rows]
        if block.dtype != np.float32:
            block = block.astype(np.float32)
        np.dot(block, coef32, out=out[start:start + rows])
    out += np.float32(intercept)
    return out
