"""A video's timeline as a PNG: each label's probability over the video's time (matplotlib, Agg).

One row per label (its version in the row's title): the calibrated probability of each clip
as a step line over the clip's [start, end] (filled below), the threshold as a dashed line,
the segments shaded. The x axis is the video's time with timecode tick labels (m:ss, or
h:mm:ss past an hour). Drawn on a ``Figure`` with the Agg canvas directly, so it needs no
display, leaves pyplot's global state alone and is safe in a server thread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MultipleLocator

from ._files import write_with

__all__ = ["tick_step", "timecode", "timeline_png"]

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f")
_TICK_STEPS = (1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
_GAP = 0.05  # seconds: clips further apart than this are not joined by the step line


def timecode(seconds: float, _pos: object = None) -> str:
    """``m:ss`` (``h:mm:ss`` from one hour on) for a tick label."""
    total = max(round(seconds), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def tick_step(duration: float, most: int = 12) -> float:
    """Seconds between time ticks: a round step (1 s, 5 s, 15 s, 1 min, 5 min, ...) giving at most ``most`` ticks."""
    for step in _TICK_STEPS:
        if duration / step <= most:
            return step
    return float(math.ceil(duration / most / 3600) * 3600)


def _steps(clips: Sequence[Mapping[str, Any]]) -> tuple[list[float], list[float]]:
    """x, y of the step line: two points per clip, a NaN break where clips do not touch."""
    xs: list[float] = []
    ys: list[float] = []
    last_end: float | None = None
    for clip in sorted(clips, key=lambda c: float(c["start"])):
        start, end, p = float(clip["start"]), float(clip["end"]), float(clip["probability"])
        if last_end is not None and start - last_end > _GAP:
            xs.append(math.nan)
            ys.append(math.nan)
        xs += [start, end]
        ys += [p, p]
        last_end = end
    return xs, ys


def timeline_png(timeline: Mapping[str, Any], path: str | Path, *, width: float = 12.0, dpi: int = 100) -> None:
    """Draw ``timeline`` to the PNG file ``path`` (written whole or not at all).

    ``timeline``: ``{"video": str, "duration": seconds, "tracks": [{"label", "version",
    "threshold", "clips": [{"clip_id", "start", "end", "probability"}], "segments":
    [{"start", "end", ...}]}]}`` (probabilities and threshold calibrated, in [0, 1]).
    ``width`` in inches; each label's row is 1.5 inches high.
    """
    tracks = list(timeline.get("tracks", []))
    duration = float(timeline.get("duration") or 0.0)
    if duration <= 0:
        ends = [float(c["end"]) for t in tracks for c in t.get("clips", [])]
        duration = max(ends, default=1.0) or 1.0
    rows = max(len(tracks), 1)
    fig = Figure(figsize=(width, 0.9 + 1.5 * rows), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    title = str(timeline.get("video", ""))
    if len(title) > 90:
        title = title[:60] + "…" + title[-29:]
    fig.suptitle(title, fontsize=13, fontweight="bold", x=0.01, ha="left")
    if not tracks:
        axes[0].text(0.5, 0.5, "no labels to draw", ha="center", va="center", transform=axes[0].transAxes)
        axes[0].set_yticks([])
    for i, (ax, track) in enumerate(zip(axes, tracks)):
        color = _PALETTE[i % len(_PALETTE)]
        segments = list(track.get("segments", []))
        for segment in segments:
            ax.axvspan(float(segment["start"]), float(segment["end"]), color=color, alpha=0.18, lw=0)
        xs, ys = _steps(track.get("clips", []))
        if xs:
            ax.plot(xs, ys, color=color, lw=1.6, solid_joinstyle="miter")
            ax.fill_between(xs, ys, 0, color=color, alpha=0.06, lw=0)
        threshold = track.get("threshold")
        if threshold is not None:
            ax.axhline(float(threshold), color="#333333", ls="--", lw=1.0)
            ax.text(
                1.002, float(threshold), f"{float(threshold):.2f}", transform=ax.get_yaxis_transform(),
                va="center", ha="left", fontsize=8, color="#333333",
            )  # fmt: skip
        version = track.get("version")
        name = f"{track.get('label', '')}" + (f"  v{version}" if version is not None else "")
        count = len(segments)
        ax.set_title(
            f"{name} — {count} segment{'' if count == 1 else 's'}", loc="left", fontsize=10, color=color, pad=3
        )
        ax.set_ylim(0, 1.02)
        ax.set_yticks([0, 0.5, 1])
        ax.set_ylabel("probability", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(axis="x", color="#dddddd", lw=0.6)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    if tracks:
        fig.legend(
            handles=[
                Line2D([], [], color="#555555", lw=1.6, label="probability (per clip)"),
                Line2D([], [], color="#333333", ls="--", lw=1.0, label="threshold"),
                Patch(color="#555555", alpha=0.25, lw=0, label="segment (above threshold)"),
            ],
            loc="outside lower right", ncols=3, fontsize=8, frameon=False,
        )  # fmt: skip
    last = axes[-1]
    last.set_xlim(0, duration)
    last.xaxis.set_major_locator(MultipleLocator(tick_step(duration)))
    last.xaxis.set_major_formatter(FuncFormatter(timecode))
    last.set_xlabel("time", fontsize=9)
    write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))
