"""A synthetic dataset whose answers are known: linearly separable concepts with a margin.

Each concept is a random direction u: clips whose cosine with u is in the top
``positive_rate`` are positive, and clips within ``margin`` of the boundary are left out
of its universe, so a linear classifier can rank its held-out clips perfectly (AP 1).
With ``perfect_text=True`` the label's text vector is u itself, so zero-shot ranks
perfectly too; otherwise it is u mixed with noise (``text_noise``).
"""

from __future__ import annotations

import numpy as np

from .datasets import Concept, Dataset


def make_synthetic(
    n: int = 2000,
    dim: int = 32,
    labels: int = 3,
    positive_rate: float = 0.1,
    margin: float = 0.05,
    perfect_text: bool = True,
    text_noise: float = 1.0,
    seed: int = 0,
) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, dim)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    concepts = []
    for i in range(labels):
        u = rng.standard_normal(dim)
        u /= np.linalg.norm(u)
        s = X @ u
        threshold = np.quantile(s, 1 - positive_rate)
        keep = np.abs(s - threshold) >= margin
        pos = np.flatnonzero(keep & (s > threshold))
        neg = np.flatnonzero(keep & (s < threshold))
        text = u if perfect_text else u + text_noise * rng.standard_normal(dim) / np.sqrt(dim)
        concepts.append(
            Concept(
                f"concept-{i}", pos, neg, description=f"synthetic concept {i}", text_vector=np.asarray(text, np.float32)
            )
        )
    return Dataset("synthetic", np.arange(n, dtype=np.int64), X, concepts, meta={"seed": seed})
