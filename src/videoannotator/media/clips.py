"""From shots to clips: split long shots evenly, choose which frames represent each clip."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class ClipPlan:
    start_frame: int  # inclusive
    end_frame: int  # exclusive
    sample_frames: list[int] = field(default_factory=list)


def split_shot(start: int, end: int, fps: float, max_clip_seconds: float) -> list[tuple[int, int]]:
    """Split frames [start, end) into the fewest equal clips of at most max_clip_seconds."""
    length = end - start
    if length <= 0:
        return []
    max_frames = max(1, round(max_clip_seconds * fps))
    n = max(1, math.ceil(length / max_frames))
    edges = [start + (length * i) // n for i in range(n + 1)]
    return [(edges[i], edges[i + 1]) for i in range(n) if edges[i + 1] > edges[i]]


def sample_positions(start: int, end: int, k: int) -> list[int]:
    """k frame indices spread over [start, end): the centres of k equal parts."""
    length = end - start
    if length <= 0 or k <= 0:
        return []
    picks = [start + min(length - 1, int((j + 0.5) * length / k)) for j in range(k)]
    return sorted(set(picks))


def nearest_available(wanted: list[int], available: list[int]) -> list[int]:
    """Map each wanted index to the nearest index actually kept (sorted ``available``)."""
    import bisect

    out = []
    for w in wanted:
        i = bisect.bisect_left(available, w)
        best = min(
            (available[j] for j in (i - 1, i) if 0 <= j < len(available)), key=lambda a: abs(a - w), default=None
        )
        if best is not None and best not in out:
            out.append(best)
    return out
