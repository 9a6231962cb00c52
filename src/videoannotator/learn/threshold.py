"""A model version's threshold, chosen on out-of-fold probabilities from a target.

Rules (the setting's accepted forms):

- ``"f1"``: the threshold with the best F1 on the out-of-fold scores (among equally good
  ones, the highest threshold);
- ``"precision>=P"`` (0 < P <= 1): the lowest threshold whose precision is at least P, so
  the most recall at that precision; when no threshold reaches P, the one with the best
  precision (the most recall among those), and ``note`` says so;
- ``"recall>=R"`` (0 < R <= 1): the highest threshold whose recall is still at least R,
  so the most precision at that recall.

A clip is positive when its probability is *above* the threshold (``decision.is_positive``).
Candidate thresholds sit half-way between consecutive distinct out-of-fold probabilities
(below the lowest one: half of it), so the clips on either side of a threshold are exactly
those the out-of-fold precision and recall counted.

The precision and recall to expect are those of the out-of-fold scores at the chosen
threshold, with 95% percentile-bootstrap intervals over the annotated clips: resampling n
(label, score) pairs with replacement draws the 2x2 table (true/false positives, false/true
negatives) from a multinomial with the observed proportions, so every resample costs one
multinomial draw, whatever n is. The threshold itself is held fixed across resamples (the
intervals describe that version's decision rule), and each interval is widened, if need be,
to contain its point estimate. With no positive or no negative out of fold the threshold is
p = 0.5 and ``note`` says why.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput

__all__ = ["DEFAULT_RULE", "FALLBACK_PROBABILITY", "ThresholdChoice", "choose_threshold", "fallback", "parse_rule"]

DEFAULT_RULE = "f1"
FALLBACK_PROBABILITY = 0.5
DEFAULT_THRESHOLD_BOOTSTRAP = 200
_SMALLEST = 1e-12
_RULE = re.compile(r"^\s*(precision|recall)\s*>=\s*([0-9]*\.?[0-9]+)\s*$")
ACCEPTED_FORMS = '"f1", "precision>=P" or "recall>=R" with 0 < P, R <= 1 (e.g. "precision>=0.9", "recall>=0.8")'


def parse_rule(rule: str) -> tuple[str, float | None]:
    """("f1", None), ("precision", P) or ("recall", R); InvalidInput naming the accepted forms."""
    if not isinstance(rule, str):
        raise InvalidInput(f"threshold rule must be a string: {ACCEPTED_FORMS}; got {rule!r}")
    text = rule.strip().lower()
    if text == "f1":
        return "f1", None
    match = _RULE.match(text)
    if match is not None:
        target = float(match.group(2))
        if 0.0 < target <= 1.0:
            return match.group(1), target
    raise InvalidInput(f"unknown threshold rule {rule!r}: use {ACCEPTED_FORMS}")


def _canonical(kind: str, target: float | None) -> str:
    return "f1" if target is None else f"{kind}>={target:g}"


@dataclass(frozen=True)
class ThresholdChoice:
    """A probability threshold, the rule that chose it, and the precision and recall to expect."""

    probability: float
    rule: str
    precision: float | None = None
    precision_low: float | None = None
    precision_high: float | None = None
    recall: float | None = None
    recall_low: float | None = None
    recall_high: float | None = None
    f1: float | None = None
    n_positive: int = 0
    n_negative: int = 0
    n_bootstrap: int = 0
    note: str | None = None
    # The same threshold on the model's logits (set by the Build: ``Calibration.logit_for``).
    logit: float | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(float(v), 6)

        return {
            "rule": self.rule,
            "probability": r(self.probability),
            "logit": r(self.logit),
            "precision": r(self.precision),
            "precision_low": r(self.precision_low),
            "precision_high": r(self.precision_high),
            "recall": r(self.recall),
            "recall_low": r(self.recall_low),
            "recall_high": r(self.recall_high),
            "f1": r(self.f1),
            "n_positive": int(self.n_positive),
            "n_negative": int(self.n_negative),
            "n_bootstrap": int(self.n_bootstrap),
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThresholdChoice:
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in keys})


def fallback(rule: str, note: str, n_positive: int = 0, n_negative: int = 0) -> ThresholdChoice:
    """p = 0.5, nothing to expect, and why (the rule is validated all the same)."""
    kind, target = parse_rule(rule)
    return ThresholdChoice(
        probability=FALLBACK_PROBABILITY,
        rule=_canonical(kind, target),
        n_positive=n_positive,
        n_negative=n_negative,
        note=note,
    )


def choose_threshold(
    probabilities_oof: npt.ArrayLike,
    y: npt.ArrayLike,
    rule: str = DEFAULT_RULE,
    n_bootstrap: int = DEFAULT_THRESHOLD_BOOTSTRAP,
    seed: int = 0,
) -> ThresholdChoice:
    """The threshold ``rule`` picks on out-of-fold (calibrated) probabilities, with intervals.

    ``y`` is 0/1 (1 = positive). See the module docstring for the rules and the bootstrap.
    """
    kind, target = parse_rule(rule)
    canonical = _canonical(kind, target)
    p = np.asarray(probabilities_oof, dtype=np.float64).reshape(-1)
    labels = np.asarray(y).reshape(-1)
    if p.shape != labels.shape:
        raise InvalidInput(f"probabilities and labels differ in length ({p.size} vs {labels.size})")
    keep = np.isfinite(p)
    p, pos = p[keep], labels[keep] == 1
    n_pos = int(pos.sum())
    n_neg = int(p.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return fallback(
            rule,
            f"choosing a threshold needs positive and negative out-of-fold scores; have {n_pos} positive, "
            f"{n_neg} negative: using p = {FALLBACK_PROBABILITY}",
            n_pos,
            n_neg,
        )

    # Distinct probabilities, highest first; cut j keeps groups 0..j positive.
    order = np.argsort(-p, kind="stable")
    s, t = p[order], pos[order]
    ends = np.append(np.flatnonzero(np.diff(s)), s.size - 1)  # last index of every tie group
    tp = np.cumsum(t)[ends].astype(np.float64)
    predicted = (ends + 1).astype(np.float64)
    precision = tp / predicted
    recall = tp / n_pos
    f1 = 2 * tp / (predicted + n_pos)
    values = s[ends]
    below = np.append(values[1:], 0.0)
    cuts = (values + below) / 2  # threshold of cut j: between group j and group j + 1
    # A lowest probability that underflowed to 0 would make the last cut 0, which has no
    # logit: keep every threshold strictly inside (0, 1).
    cuts = np.maximum(cuts, _SMALLEST)

    note = None
    if kind == "f1":
        j = int(np.argmax(f1))  # first maximum: the highest threshold among the best
    elif kind == "precision":
        assert target is not None
        ok = np.flatnonzero(precision >= target - 1e-12)
        if ok.size:
            j = int(ok[-1])
        else:
            best = precision.max()
            j = int(np.flatnonzero(precision >= best - 1e-12)[-1])
            note = (
                f"no threshold reaches precision {target:g} out of fold (best {best:.3f}); "
                "using the threshold with the best precision"
            )
    else:
        assert target is not None
        j = int(np.flatnonzero(recall >= target - 1e-12)[0])  # recall reaches 1 at the last cut

    threshold = float(cuts[j])
    tp_j = int(tp[j])
    fp_j = int(predicted[j]) - tp_j
    fn_j = n_pos - tp_j
    tn_j = n_neg - fp_j
    prec, rec = float(precision[j]), float(recall[j])
    p_low, p_high, r_low, r_high, used = _intervals(tp_j, fp_j, fn_j, tn_j, n_bootstrap, seed)
    p_low, p_high = _around(prec, p_low, p_high)
    r_low, r_high = _around(rec, r_low, r_high)
    return ThresholdChoice(
        probability=threshold,
        rule=canonical,
        precision=prec,
        precision_low=p_low,
        precision_high=p_high,
        recall=rec,
        recall_low=r_low,
        recall_high=r_high,
        f1=float(f1[j]),
        n_positive=n_pos,
        n_negative=n_neg,
        n_bootstrap=used,
        note=note,
    )


def _intervals(
    tp: int, fp: int, fn: int, tn: int, n_bootstrap: int, seed: int
) -> tuple[float, float, float, float, int]:
    """95% percentile intervals of precision and recall over multinomial resamples of the table."""
    n = tp + fp + fn + tn
    if n_bootstrap <= 0 or n == 0:
        nan = math.nan
        return nan, nan, nan, nan, 0
    rng = np.random.default_rng(seed)
    table = rng.multinomial(n, np.array([tp, fp, fn, tn], dtype=np.float64) / n, size=n_bootstrap)
    b_tp, b_fp, b_fn = table[:, 0], table[:, 1], table[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        b_prec = b_tp / (b_tp + b_fp)
        b_rec = b_tp / (b_tp + b_fn)
    b_prec = b_prec[np.isfinite(b_prec)]
    b_rec = b_rec[np.isfinite(b_rec)]
    p_low, p_high = _percentiles(b_prec)
    r_low, r_high = _percentiles(b_rec)
    return p_low, p_high, r_low, r_high, int(min(b_prec.size, b_rec.size))


def _percentiles(values: npt.NDArray[np.float64]) -> tuple[float, float]:
    if not values.size:
        return math.nan, math.nan
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def _around(point: float, low: float, high: float) -> tuple[float, float]:
    """The interval widened to contain its point estimate (NaN ends: the point)."""
    low = point if math.isnan(low) else min(low, point)
    high = point if math.isnan(high) else max(high, point)
    return low, high
