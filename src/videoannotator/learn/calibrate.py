"""Calibrated probabilities: Platt scaling of a Build's out-of-fold logits.

A Build's logistic regression is regularised and class-balanced, so ``sigmoid(logit)`` is
not a probability anyone should read (on the page it sat between 0.33 and 0.67). Platt
scaling fits a one-dimensional logistic regression on the cross-validation's out-of-fold
decision values (scores of clips the fold's model did not train on)::

    p = sigmoid(a * logit + b)

with Platt's smoothed targets, (n+ + 1) / (n+ + 2) for positives and 1 / (n- + 2) for
negatives, so perfectly separated out-of-fold scores still give a finite slope. The fit is
Newton's method on the two parameters (a few iterations over at most a few thousand
points: well under a millisecond).

The calibration is monotone increasing (``a > 0`` is enforced), so a probability threshold
p is the same decision as the logit threshold ``logit_for(p)``: the product keeps deciding
in logit space (``decision.is_positive(logit, model.threshold)``) and shows probabilities.
With too little to fit (fewer than ``MIN_POINTS`` points, one class only, or a fit that is
not increasing) the calibration is the identity, a=1, b=0 (p = sigmoid(logit), today's
scores), and ``note`` says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import expit  # type: ignore[import-untyped, unused-ignore]

from ..errors import InvalidInput

__all__ = ["MIN_POINTS", "Calibration", "fit_platt", "identity"]

# Fewer out-of-fold points than this: no fit, the identity.
MIN_POINTS = 4
# Newton's method: stop when the step is below this (in a and b), or after _MAX_ITER steps.
_TOL = 1e-10
_MAX_ITER = 100
# A tiny ridge on (a, b) keeps the Hessian invertible on degenerate inputs (all logits equal).
_RIDGE = 1e-9


@dataclass(frozen=True)
class Calibration:
    """``p = sigmoid(a * logit + b)``; ``method`` is "platt" or "identity" (then ``note`` says why)."""

    a: float = 1.0
    b: float = 0.0
    method: str = "identity"
    n: int = 0  # out-of-fold points the fit used
    n_positive: int = 0
    n_negative: int = 0
    note: str | None = None

    def probability(self, logits: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Calibrated probabilities of ``logits`` (any shape), float32."""
        z = np.asarray(logits, dtype=np.float64)
        out: npt.NDArray[np.float32] = expit(self.a * z + self.b).astype(np.float32)
        return out

    def logit_for(self, p: float) -> float:
        """The logit whose calibrated probability is ``p`` (0 < p < 1): (logit(p) - b) / a."""
        p = float(p)
        if not 0.0 < p < 1.0:
            raise InvalidInput(f"a probability threshold must be strictly between 0 and 1; got {p}")
        return (math.log(p) - math.log1p(-p) - self.b) / self.a

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "a": float(self.a),
            "b": float(self.b),
            "n": int(self.n),
            "n_positive": int(self.n_positive),
            "n_negative": int(self.n_negative),
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Calibration:
        """The inverse of ``to_dict``; None or {} (a version from before calibration): identity."""
        if not data:
            return identity("no calibration stored (a version from before calibrated scores)")
        a = float(data.get("a", 1.0))
        if not (math.isfinite(a) and a > 0):
            raise InvalidInput(f"a stored calibration needs a positive slope a; got {a}")
        return cls(
            a=a,
            b=float(data.get("b", 0.0)),
            method=str(data.get("method", "platt")),
            n=int(data.get("n", 0)),
            n_positive=int(data.get("n_positive", 0)),
            n_negative=int(data.get("n_negative", 0)),
            note=data.get("note"),
        )


def identity(note: str, n: int = 0, n_positive: int = 0, n_negative: int = 0) -> Calibration:
    """The identity calibration (p = sigmoid(logit)), with the reason."""
    return Calibration(1.0, 0.0, "identity", n, n_positive, n_negative, note)


def fit_platt(decision: npt.ArrayLike, y: npt.ArrayLike) -> Calibration:
    """Fit ``p = sigmoid(a * decision + b)`` to 0/1 labels ``y`` (Platt 1999, smoothed targets).

    ``decision``: out-of-fold logits (never scores of clips the model trained on: those are
    overconfident). Falls back to the identity, saying why in ``note``, with fewer than
    ``MIN_POINTS`` finite points, a single class, or a slope that is not positive.
    """
    z = np.asarray(decision, dtype=np.float64).reshape(-1)
    t01 = np.asarray(y).reshape(-1)
    if z.shape != t01.shape:
        raise InvalidInput(f"decision values and labels differ in length ({z.size} vs {t01.size})")
    keep = np.isfinite(z)
    z, pos = z[keep], t01[keep] == 1
    n = int(z.size)
    n_pos = int(pos.sum())
    n_neg = n - n_pos
    if n < MIN_POINTS:
        return identity(f"calibration needs at least {MIN_POINTS} out-of-fold scores; have {n}", n, n_pos, n_neg)
    if n_pos == 0 or n_neg == 0:
        return identity(
            f"calibration needs positive and negative out-of-fold scores; have {n_pos} positive, {n_neg} negative",
            n,
            n_pos,
            n_neg,
        )
    target = np.where(pos, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    # Start from the identity's neighbourhood, rescaled so a * z has unit spread, and the
    # intercept at the prior log-odds.
    spread = float(np.std(z)) or 1.0
    a, b = 1.0 / spread, math.log((n_pos + 1.0) / (n_neg + 1.0))
    converged = False
    for _ in range(_MAX_ITER):
        p = expit(a * z + b)
        r = p - target
        w = np.maximum(p * (1.0 - p), 1e-12)
        g_a, g_b = float(r @ z) + _RIDGE * a, float(r.sum()) + _RIDGE * b
        h_aa = float(w @ (z * z)) + _RIDGE
        h_ab = float(w @ z)
        h_bb = float(w.sum()) + _RIDGE
        det = h_aa * h_bb - h_ab * h_ab
        if not det > 0:
            break
        step_a = (h_bb * g_a - h_ab * g_b) / det
        step_b = (h_aa * g_b - h_ab * g_a) / det
        # Halve the step until the loss does not increase (Newton can overshoot far out).
        loss = _loss(z, target, a, b)
        scale = 1.0
        while scale > 1e-6 and _loss(z, target, a - scale * step_a, b - scale * step_b) > loss + 1e-12:
            scale *= 0.5
        a, b = a - scale * step_a, b - scale * step_b
        if abs(scale * step_a) < _TOL and abs(scale * step_b) < _TOL:
            converged = True
            break
    if not (math.isfinite(a) and math.isfinite(b)):
        return identity("calibration did not converge (non-finite fit); scores are sigmoid(logit)", n, n_pos, n_neg)
    if a <= 0:
        return identity(
            f"calibration slope was not positive (a={a:.3g}: out-of-fold scores do not rank positives higher); "
            "scores are sigmoid(logit)",
            n,
            n_pos,
            n_neg,
        )
    note = None if converged else f"Newton's method stopped after {_MAX_ITER} steps"
    return Calibration(float(a), float(b), "platt", n, n_pos, n_neg, note)


def _loss(z: npt.NDArray[np.float64], target: npt.NDArray[np.float64], a: float, b: float) -> float:
    """Cross-entropy of sigmoid(a z + b) against the (smoothed) targets, plus the ridge."""
    s = a * z + b
    # log(1 + exp(s)) - target * s, stably.
    value = float(np.sum(np.logaddexp(0.0, s) - target * s))
    return value + 0.5 * _RIDGE * (a * a + b * b)
