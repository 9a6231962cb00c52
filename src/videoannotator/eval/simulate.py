"""Run the experiment: every label x seed x method x budget, AP on a fixed held-out split.

For each label, its universe (the clips judged for it) is split once by a hash of the
clip key (``datasets.heldout_mask``): the held-out part is never in the pool a
strategy picks from, and nothing is tuned on it. A strategy returns training sets per
budget; the measured model is the product's classifier (``learn.classifier.LinearProbe``,
the same fit ``build_model`` does) trained on that set, scored on the held-out clips.
A training set with one class only gives a constant score (AP = the positive rate).

Per (label, method, budget): the mean AP over seeds, each seed's AP, and the mean of the
seeds' percentile-bootstrap 95% intervals over the held-out clips (``learn.metrics.bootstrap_ap``).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial

import numpy as np

from ..errors import InvalidInput
from ..learn.classifier import LinearProbe, score_corpus
from ..learn.metrics import average_precision, bootstrap_ap
from .datasets import Dataset, heldout_mask, resolve_text_vectors
from .strategies import (
    BASELINES,
    DEFAULT_K,
    DEFAULT_MIX,
    DEFAULT_REWARD,
    REWARDS,
    STRATEGIES,
    Pool,
    va_selection,
)

DEFAULT_BUDGETS = (25, 50, 100, 250, 500, 1000)
# What the classifier trains on where a suite has a choice (docs/evaluation-decisions.md, decision 1).
DEFAULT_TRAIN_ON = "features"
METHODS = ("va",) + BASELINES


@dataclass
class EvalConfig:
    """Everything that decides an experiment's numbers (recorded with its results)."""

    budgets: tuple = DEFAULT_BUDGETS
    seeds: int = 3
    methods: tuple = METHODS
    mixes: tuple = (DEFAULT_MIX,)  # one va variant per feed mix
    k: int = DEFAULT_K
    reward: str = DEFAULT_REWARD
    train_on: str | None = None  # None: DEFAULT_TRAIN_ON where the dataset has features, else "joint"
    # Which named feature blocks the classifier trains on, e.g. "semantic,motion:2" (name[:weight]);
    # None: all the dataset stores (the product's). features/blocks.py
    feature_blocks: str | None = None
    C: float = 1.0
    heldout: float = 0.3
    split_seed: int = 0
    n_bootstrap: int = 200
    noise: float = 0.0  # the simulated annotator flips this share of its answers
    jobs: int = 1

    def __post_init__(self):
        self.budgets = tuple(sorted({int(b) for b in self.budgets}))
        if not self.budgets or self.budgets[0] < 1:
            raise InvalidInput("budgets must be positive integers, e.g. 25,50,100")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise InvalidInput(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
        if self.seeds < 1:
            raise InvalidInput("seeds must be at least 1")
        if self.reward not in REWARDS:
            raise InvalidInput(f"reward must be one of {', '.join(REWARDS)}")
        if not 0 <= self.noise < 0.5:
            raise InvalidInput("noise must be in [0, 0.5)")
        if self.feature_blocks is not None:
            from ..features.blocks import parse_selection

            parse_selection(self.feature_blocks)  # a malformed choice fails here, not in a worker
        self.methods = tuple(self.methods)
        self.mixes = tuple(self.mixes)

    def va_names(self) -> list[str]:
        if "va" not in self.methods:
            return []
        return ["va"] if len(self.mixes) == 1 else [f"va:{m}" for m in self.mixes]

    def method_names(self) -> list[str]:
        return self.va_names() + [m for m in self.methods if m != "va"]


@dataclass
class LabelResult:
    name: str
    info: dict
    methods: dict = field(default_factory=dict)  # method -> budget -> stats
    traces: dict = field(default_factory=dict)  # va method -> [trace per seed]
    skipped: str | None = None


def _ap_stats(y_true, scores, n_bootstrap: int) -> tuple[float, float, float]:
    ap = average_precision(y_true, scores)
    boots = bootstrap_ap(y_true, scores, n_bootstrap=n_bootstrap, seed=0)
    boots = boots[np.isfinite(boots)]
    low, high = np.percentile(boots, [2.5, 97.5]) if boots.size else (np.nan, np.nan)
    return ap, float(low), float(high)


def _fit_scores(X_fit, y, X_eval, C) -> np.ndarray:
    if np.unique(y).size < 2:
        return np.zeros(X_eval.shape[0], dtype=np.float32)  # nothing to learn from: no ranking
    probe = LinearProbe(C=C).fit(X_fit, y)
    return score_corpus(X_eval, probe.coef_, probe.intercept_, workers=1)


def _resolved(config: EvalConfig, dataset: Dataset) -> EvalConfig:
    if config.train_on is not None:
        return config
    return replace(config, train_on=DEFAULT_TRAIN_ON if dataset.features is not None else "joint")


def run_label(dataset: Dataset, name: str, config: EvalConfig) -> LabelResult:
    """Every method, seed and budget for one label."""
    config = _resolved(config, dataset)
    concept = dataset.concept(name)
    rows = concept.rows
    held_mask = heldout_mask(dataset.keys[rows], config.heldout, config.split_seed)
    held_rows, pool_rows = rows[held_mask], rows[~held_mask]
    y_held, y_pool = concept.truth(held_rows), concept.truth(pool_rows)
    info = {
        "universe": int(rows.size),
        "pool": int(pool_rows.size),
        "heldout": int(held_rows.size),
        "pool_positives": int(y_pool.sum()),
        "heldout_positives": int(y_held.sum()),
        "heldout_positive_rate": round(float(y_held.mean()), 4) if y_held.size else None,
    }
    result = LabelResult(name, info)
    if y_held.sum() == 0 or y_held.sum() == y_held.size or y_pool.sum() == 0:
        result.skipped = "the held-out split or the pool lacks a positive or a negative; give the label more examples"
        return result
    X_train = dataset.train_matrix(_resolved(config, dataset).train_on or "joint", config.feature_blocks)
    X_pool_train = np.ascontiguousarray(X_train[pool_rows])
    X_held_train = np.ascontiguousarray(X_train[held_rows])
    X_pool_search = np.ascontiguousarray(dataset.vectors[pool_rows])
    text = np.asarray(concept.text_vector, dtype=np.float32)

    per_seed: dict[str, dict[int, list]] = {}

    def record(method, budget, y_fit, scores, stats=None):
        ap, low, high = stats or _ap_stats(y_held, scores, config.n_bootstrap)
        per_seed.setdefault(method, {}).setdefault(budget, []).append((ap, low, high, int(np.sum(y_fit))))

    if "zero-shot" in config.methods:  # no training: the same scores at every budget and seed
        zs = dataset.vectors[held_rows] @ text
        stats = _ap_stats(y_held, zs, config.n_bootstrap)
        for b in config.budgets:
            if b <= pool_rows.size:
                for _ in range(config.seeds):
                    record("zero-shot", b, [], zs, stats)
    for seed in range(config.seeds):
        rng = np.random.default_rng([seed, 7])
        answers = y_pool ^ (rng.random(y_pool.size) < config.noise).astype(np.int8)
        pool = Pool(X_pool_train, X_pool_search, text, annotate=partial(_answer, answers), C=config.C)
        selections = {}
        for method in config.methods:
            if method in STRATEGIES:
                selections[method] = STRATEGIES[method](pool, config.budgets, seed)
        for va_name, mix in zip(config.va_names(), config.mixes):
            sel = va_selection(pool, config.budgets, seed, k=config.k, mix=mix, reward=config.reward)
            selections[va_name] = sel
            result.traces.setdefault(va_name, []).append(sel.trace)
        for method, sel in selections.items():
            for b, positions in sel.sets.items():
                y_fit = answers[positions]
                record(method, b, y_fit, _fit_scores(X_pool_train[positions], y_fit, X_held_train, config.C))
    for method, by_budget in per_seed.items():
        result.methods[method] = {}
        for b, runs in sorted(by_budget.items()):
            aps = np.array([r[0] for r in runs])
            result.methods[method][b] = {
                "ap": round(float(aps.mean()), 4),
                "ap_low": round(float(np.mean([r[1] for r in runs])), 4),
                "ap_high": round(float(np.mean([r[2] for r in runs])), 4),
                "ap_seeds": [round(float(a), 4) for a in aps],
                "train_positives": round(float(np.mean([r[3] for r in runs])), 1),
            }
    return result


_FORK_DATASET: Dataset | None = None


def _run_label_forked(args):
    name, config = args
    return run_label(_FORK_DATASET, name, config)


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def run_experiment(dataset: Dataset, config: EvalConfig | None = None, embedder=None, progress=None) -> dict:
    """The whole experiment over ``dataset``; returns the results (see ``report``)."""
    from . import report

    config = _resolved(config or EvalConfig(), dataset)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    resolve_text_vectors(dataset, embedder)
    names = [c.name for c in dataset.concepts]
    results: list[LabelResult] = []
    jobs = max(1, min(config.jobs, len(names)))
    if jobs > 1:
        import multiprocessing

        global _FORK_DATASET
        _FORK_DATASET = dataset
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as workers:
                for res in workers.imap(_run_label_forked, [(n, config) for n in names]):
                    results.append(res)
                    if progress:
                        progress(res)
        finally:
            _FORK_DATASET = None
    else:
        for name in names:
            res = run_label(dataset, name, config)
            results.append(res)
            if progress:
                progress(res)
    out = {
        "suite": dataset.name,
        "dataset": {
            "name": dataset.name,
            "clips": int(dataset.keys.size),
            "dim": int(dataset.vectors.shape[1]),
            "train_dim": int(
                dataset.train_matrix(_resolved(config, dataset).train_on or "joint", config.feature_blocks).shape[1]
            ),
            "embedder": dataset.embedder,
            "meta": dataset.meta,
        },
        "config": {**asdict(config), "method_names": config.method_names()},
        "labels": {
            r.name: {
                "info": r.info,
                "skipped": r.skipped,
                "methods": {m: {str(b): v for b, v in by.items()} for m, by in r.methods.items()},
                "va_traces": r.traces,
            }
            for r in results
        },
        "machine": {**machine(), "load_avg_1m_before": round(load_before, 2)},
        "timings_s": {"experiment": round(time.perf_counter() - started, 1)},
    }
    out["summary"] = report.summarise(out)
    return out


def _answer(answers: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """The simulated annotator: the (noisy) truth at the pool positions asked about."""
    return answers[np.asarray(positions)]
