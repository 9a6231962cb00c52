"""Summaries of an experiment: medians, VA's gain over the baselines, a Markdown table, a plot.

The headline number is the paper's: per budget, the median over labels of
AP(va) - AP(best baseline), where the best baseline is chosen per label *after* seeing
the held-out results (the strictest comparison for VA). Its 95% interval resamples the
labels. Gains against each baseline, and against the single baseline with the best
median, are reported beside it.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: An experiment's results (``simulate.run_experiment``): the JSON written to results.json.
Results = dict[str, Any]

N_LABEL_BOOTSTRAP = 2000


def _labels(out: Results) -> dict[str, dict[str, Any]]:
    return {name: lab for name, lab in out["labels"].items() if not lab.get("skipped")}


def _ap(lab: dict[str, Any], method: str, budget: int | str) -> float | None:
    entry = lab["methods"].get(method, {}).get(str(budget))
    return None if entry is None else entry["ap"]


def summarise(out: Results) -> dict[str, Any]:
    methods = out["config"]["method_names"]
    budgets = out["config"]["budgets"]
    labels = _labels(out)
    va_methods = [m for m in methods if m == "va" or m.startswith("va:")]
    baselines = [m for m in methods if m not in va_methods]
    median_ap: dict[str, dict[str, float | None]] = {}
    for m in methods:
        median_ap[m] = {}
        for b in budgets:
            vals = [v for v in (_ap(lab, m, b) for lab in labels.values()) if v is not None]
            median_ap[m][str(b)] = round(float(np.median(vals)), 4) if vals else None
    gains: dict[str, dict[str, dict[str, Any]]] = {}
    rng = np.random.default_rng(0)
    for va in va_methods:
        gains[va] = {}
        for b in budgets:
            rows: list[tuple[float, dict[str, Any]]] = []  # (va's AP, every baseline's AP: none missing)
            for lab in labels.values():
                v = _ap(lab, va, b)
                base = {m: _ap(lab, m, b) for m in baselines}
                if v is None or not base or any(x is None for x in base.values()):
                    continue
                rows.append((v, base))
            if not rows:
                continue
            best = np.array([v - max(base.values()) for v, base in rows])
            idx = rng.integers(0, best.size, size=(N_LABEL_BOOTSTRAP, best.size))
            low, high = np.percentile(np.median(best[idx], axis=1), [2.5, 97.5])
            top_single = max(baselines, key=lambda m: ap if (ap := median_ap[m][str(b)]) is not None else -1)
            gains[va][str(b)] = {
                "labels": int(best.size),
                "vs_best_baseline": round(float(np.median(best)), 4),
                "vs_best_baseline_ci": [round(float(low), 4), round(float(high), 4)],
                "labels_won": int((best > 0).sum()),
                "vs": {m: round(float(np.median([v - base[m] for v, base in rows])), 4) for m in baselines},
                "best_single_baseline": top_single,
                "vs_best_single_baseline": round(float(np.median([v - base[top_single] for v, base in rows])), 4),
            }
    return {
        "labels": len(labels),
        "skipped": sorted(set(out["labels"]) - set(labels)),
        "median_ap": median_ap,
        "gain": gains,
        "baselines": baselines,
        "va_methods": va_methods,
    }


def _fmt(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _signed(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:+.1f}"


def gains_lines(out: Results) -> list[str]:
    """The per-budget median gains, one line each (what `va eval` prints)."""
    lines = []
    for va, by_budget in out["summary"]["gain"].items():
        for b, g in by_budget.items():
            lo, hi = g["vs_best_baseline_ci"]
            lines.append(
                f"{va} @ {b:>5} annotations: median AP gain over the best baseline "
                f"{_signed(g['vs_best_baseline'])} points (95% CI {_signed(lo)} to {_signed(hi)}; "
                f"wins {g['labels_won']}/{g['labels']} labels)"
            )
    return lines


def markdown(out: Results) -> str:
    s = out["summary"]
    cfg = out["config"]
    budgets = [str(b) for b in cfg["budgets"]]
    lines = [f"# Evaluation: {out['suite']}", ""]
    lines.append(
        f"{out['dataset']['clips']} clips, {s['labels']} labels; classifier trained on "
        f"`{cfg['train_on']}` ({out['dataset']['train_dim']}-d), C={cfg['C']}; va: k={cfg['k']} per round, "
        f"feed mix {', '.join(cfg['mixes'])}, reward {cfg['reward']}; {cfg['seeds']} seeds; held-out "
        f"{cfg['heldout']:.0%} of each label's clips (split seed {cfg['split_seed']}); annotator noise "
        f"{cfg['noise']}."
    )
    if s["skipped"]:
        lines.append(f"Skipped labels: {', '.join(s['skipped'])}.")
    lines += [
        "",
        "## Median AP over labels",
        "",
        "| method | " + " | ".join(budgets) + " |",
        "|---|" + "---:|" * len(budgets),
    ]
    for m, by in s["median_ap"].items():
        lines.append(f"| {m} | " + " | ".join(_fmt(by[b]) for b in budgets) + " |")
    for va, by in s["gain"].items():
        base = s["baselines"]
        lines += [
            "",
            f"## {va}: median AP gain over the best baseline (AP points)",
            "",
            "Per label, the best of " + ", ".join(base) + " at that budget (chosen after the fact); "
            "the interval resamples labels.",
            "",
            "| annotations | gain | 95% CI | labels won | " + " | ".join(f"vs {m}" for m in base) + " |",
            "|---:|---:|---|---:|" + "---:|" * len(base),
        ]
        for b in budgets:
            g = by.get(b)
            if g is None:
                continue
            lo, hi = g["vs_best_baseline_ci"]
            lines.append(
                f"| {b} | {_signed(g['vs_best_baseline'])} | [{_signed(lo)}, {_signed(hi)}] | "
                f"{g['labels_won']}/{g['labels']} | " + " | ".join(_signed(g["vs"][m]) for m in base) + " |"
            )
    lines += [
        "",
        "## Per label: mean AP over seeds [mean per-seed bootstrap 95% interval]",
        "",
        "| label (held-out positives / clips) | method | " + " | ".join(budgets) + " |",
        "|---|---|" + "---|" * len(budgets),
    ]
    for name, lab in out["labels"].items():
        info = lab["info"]
        head = f"{name} ({info['heldout_positives']}/{info['heldout']})"
        if lab.get("skipped"):
            lines.append(f"| {head} | skipped: {lab['skipped']} |" + " |" * len(budgets))
            continue
        for m in cfg["method_names"]:
            cells = []
            for b in budgets:
                e = lab["methods"].get(m, {}).get(b)
                cells.append("–" if e is None else f"{e['ap']:.3f} [{e['ap_low']:.2f}, {e['ap_high']:.2f}]")
            lines.append(f"| {head} | {m} | " + " | ".join(cells) + " |")
            head = ""
    feeds = _feed_shares(out)
    if feeds:
        lines += [
            "",
            "## Where va's annotations came from (share of feed-picked clips, all labels and seeds)",
            "",
            "| method | search, before the first build | top_positive | top_negative | borderline | random |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for m, share in feeds.items():
            lines.append(
                f"| {m} | {share['search']:.0%} | "
                + " | ".join(f"{share.get(a, 0):.0%}" for a in ("top_positive", "top_negative", "borderline", "random"))
                + " |"
            )
    builds = _build_ms(out)
    if builds:
        lines += [
            "",
            "Median time of one Build (fit, score, cross-validation, feeds) in va's loop: "
            + ", ".join(f"{m} {ms:.0f} ms" for m, ms in builds.items())
            + ".",
        ]
    t = out.get("timings_s", {})
    mach = out.get("machine", {})
    lines += [
        "",
        f"Machine: {mach.get('cpus')} CPUs ({mach.get('cpu')}), load average before "
        f"{mach.get('load_avg_1m_before')}; times (s): " + ", ".join(f"{k} {v}" for k, v in t.items()) + ".",
    ]
    return "\n".join(lines) + "\n"


def _build_ms(out: Results) -> dict[str, float]:
    per_method: dict[str, list[float]] = {}
    for lab in _labels(out).values():
        for m, traces in lab.get("va_traces", {}).items():
            per_method.setdefault(m, []).extend(t["build_ms_median"] for t in traces if t.get("build_ms_median"))
    return {m: float(np.median(v)) for m, v in per_method.items() if v}


def _feed_shares(out: Results) -> dict[str, dict[str, float]]:
    shares: dict[str, dict[str, int]] = {}
    for lab in _labels(out).values():
        for m, traces in lab.get("va_traces", {}).items():
            acc = shares.setdefault(m, {"search": 0})
            for tr in traces:
                acc["search"] += tr.get("before_first_build", 0)
                for arm, n in tr.get("feed_clips", {}).items():
                    acc[arm] = acc.get(arm, 0) + n
    result: dict[str, dict[str, float]] = {}
    for m, acc in shares.items():
        total = sum(acc.values())
        if total:
            result[m] = {a: n / total for a, n in acc.items()}
    return result


def plot(out: Results, path: str | os.PathLike[str]) -> Path:
    """AP against annotations: the median over labels per method (left), and each label (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = out["summary"]
    budgets = out["config"]["budgets"]
    labels = _labels(out)
    methods = out["config"]["method_names"]
    ncols = min(5, max(1, len(labels)))
    nrows = -(-len(labels) // ncols)
    fig = plt.figure(figsize=(6 + 2.6 * ncols, max(4.5, 2.3 * nrows)), constrained_layout=True)
    grid = fig.add_gridspec(max(1, nrows), 2 + ncols, width_ratios=[1.2, 1.2] + [1] * ncols)
    colours = {m: plt.cm.tab10(i % 10) for i, m in enumerate(methods)}

    def draw(ax: Axes, series: Callable[[str, int], float | None], title: str, small: bool = False) -> None:
        for m in methods:
            xs = [b for b in budgets if series(m, b) is not None]
            ys = [y for y in (series(m, b) for b in xs) if y is not None]  # all of them: xs has no gaps
            if not xs:
                continue
            style = "--" if m == "zero-shot" else "-"
            ax.plot(
                xs,
                ys,
                style,
                marker="" if m == "zero-shot" else "o",
                ms=3 if small else 5,
                color=colours[m],
                label=m,
                lw=2.2 if m.startswith("va") else 1.4,
            )
        ax.set_xscale("log")
        ax.set_xticks(budgets)
        ax.set_xticklabels([str(b) for b in budgets], fontsize=7 if small else 9, rotation=0 if not small else 45)
        ax.minorticks_off()
        ax.set_ylim(0, 1.02)
        ax.set_title(title, fontsize=9 if small else 11)
        ax.grid(alpha=0.3)

    main = fig.add_subplot(grid[:, :2])
    draw(main, lambda m, b: s["median_ap"][m].get(str(b)), f"{out['suite']}: median AP over {len(labels)} labels")
    main.set_xlabel("annotations")
    main.set_ylabel("average precision (held-out)")
    main.legend(loc="lower right", fontsize=9)
    for i, (name, lab) in enumerate(labels.items()):
        ax = fig.add_subplot(grid[i // ncols, 2 + i % ncols])
        draw(ax, functools.partial(_ap, lab), f"{name} ({lab['info']['heldout_positive_rate']:.0%} pos)", small=True)
    out_path = Path(path)
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def write_outputs(out: Results, folder: str | os.PathLike[str]) -> dict[str, str]:
    """results.json, results.md and ap-vs-annotations.png in ``folder``; returns their paths."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": folder / "results.json",
        "markdown": folder / "results.md",
        "plot": folder / "ap-vs-annotations.png",
    }
    out["outputs"] = {k: str(v) for k, v in paths.items()}
    paths["json"].write_text(json.dumps(out, indent=1, default=_jsonable))
    paths["markdown"].write_text(markdown(out))
    plot(out, paths["plot"])
    return {k: str(v) for k, v in paths.items()}


def _jsonable(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
