"""Contiguous above-threshold clips of a video merged into segments.

A segment is what an editor wants from a deployed label: "from 0:42 to 1:10, establishing
shots, peak 0.97". Clips are positive by the product's one rule
(``videoannotator.learn.decision.is_positive``: probability *above* the threshold); two
positive clips belong to one segment when they are consecutive in the video's clip list and
the second starts at most ``max_gap`` seconds after the first ends (clips are shots, so
neighbours touch; a small tolerance absorbs frame rounding).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..learn.decision import is_positive

__all__ = ["DEFAULT_MAX_GAP", "merge_segments"]

DEFAULT_MAX_GAP = 0.05  # seconds between one clip's end and the next one's start


def merge_segments(
    clips: Iterable[Mapping[str, Any]],
    threshold: float,
    label: str,
    version: int,
    *,
    max_gap: float = DEFAULT_MAX_GAP,
) -> list[dict[str, Any]]:
    """The segments of one video for one label version, in time order.

    ``clips``: the video's clips as ``{clip_id, start, end, probability}`` (seconds; the
    calibrated probability), sorted by start here. ``threshold`` is a probability. Each
    segment is ``{label, version, start, end, peak, mean, clips}``: ``peak`` the highest
    probability, ``mean`` the duration-weighted mean probability (a plain mean when every
    clip lasts zero seconds), ``clips`` the clip ids in time order.
    """
    ordered = sorted(clips, key=lambda c: (float(c["start"]), float(c["end"])))
    segments: list[dict[str, Any]] = []
    run: list[Mapping[str, Any]] = []
    for clip in ordered:
        if not is_positive(float(clip["probability"]), threshold):
            if run:
                segments.append(_segment(run, label, version))
                run = []
            continue
        if run and float(clip["start"]) - float(run[-1]["end"]) > max_gap:
            segments.append(_segment(run, label, version))
            run = []
        run.append(clip)
    if run:
        segments.append(_segment(run, label, version))
    return segments


def _segment(run: list[Mapping[str, Any]], label: str, version: int) -> dict[str, Any]:
    probabilities = [float(c["probability"]) for c in run]
    durations = [max(float(c["end"]) - float(c["start"]), 0.0) for c in run]
    total = sum(durations)
    if total > 0:
        mean = sum(p * d for p, d in zip(probabilities, durations)) / total
    else:
        mean = sum(probabilities) / len(probabilities)
    return {
        "label": label,
        "version": int(version),
        "start": float(run[0]["start"]),
        "end": max(float(c["end"]) for c in run),
        "peak": max(probabilities),
        "mean": mean,
        "clips": [int(c["clip_id"]) for c in run],
    }
