"""Pure statistics for monitoring (numpy only)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

EPS = 1e-4


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, bins: int = 10) -> float | None:
    """Population stability index of ``actual`` against ``expected`` (both probabilities in
    [0, 1]), over ``bins`` quantile bins of ``expected``. 0 = the same distribution; by the
    usual reading < 0.1 small, 0.1–0.25 moderate, > 0.25 large. None if either is empty."""
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    e, a = e[np.isfinite(e)], a[np.isfinite(a)]
    if e.size == 0 or a.size == 0:
        return None
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    e_share = np.bincount(np.searchsorted(edges, e, side="right"), minlength=edges.size + 1) / e.size
    a_share = np.bincount(np.searchsorted(edges, a, side="right"), minlength=edges.size + 1) / a.size
    e_share, a_share = np.maximum(e_share, EPS), np.maximum(a_share, EPS)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """95 % Wilson score interval of a proportion; None when n is 0."""
    if n <= 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def stratified_recall(
    n_above: int,
    pos_above: int,
    neg_above: int,
    n_below: int,
    pos_below: int,
    neg_below: int,
    draws: int = 4000,
    seed: int = 0,
) -> dict[str, float | None]:
    """Recall estimated from two annotated random samples: clips above the threshold (their
    positive share = precision) and below it (the share the model missed). With Beta(1, 1)
    priors on both shares, recall = N_above·p_above / (N_above·p_above + N_below·p_below);
    the interval is the 2.5–97.5 % range of that over posterior draws."""
    if pos_above + neg_above == 0 or (n_below and pos_below + neg_below == 0):
        return {"recall": None, "low": None, "high": None}
    rng = np.random.default_rng(seed)
    p_above = rng.beta(pos_above + 1, neg_above + 1, draws)
    p_below = rng.beta(pos_below + 1, neg_below + 1, draws) if n_below else np.zeros(draws)
    found = n_above * p_above
    recall = found / np.maximum(found + n_below * p_below, 1e-12)
    point_below = pos_below / (pos_below + neg_below) if n_below else 0.0
    point_found = n_above * pos_above / (pos_above + neg_above)
    point = point_found / max(point_found + n_below * point_below, 1e-12)
    return {"recall": float(point), "low": float(np.quantile(recall, 0.025)), "high": float(np.quantile(recall, 0.975))}
