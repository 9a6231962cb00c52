"""Shot detection against known cuts: match detected cut frames to true ones, score a truth file.

A truth file is a workspace-suite labels file (``eval.slideshow``) with ``"cuts": {VIDEO: [frame, ...]}``:
frame c is the first frame of a new shot, 0-based in decode order, as the detectors report it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import Settings


def match_cuts(true_cuts: Iterable[int], detected: Iterable[int], tolerance: int = 2) -> dict[str, Any]:
    """Precision/recall of detected cut frames against true ones, within +-tolerance frames."""
    true_cuts = sorted(int(c) for c in true_cuts)
    detected = sorted(int(c) for c in detected)
    used: set[int] = set()
    matched = 0
    missed: list[int] = []
    for c in true_cuts:
        hit = next((j for j, d in enumerate(detected) if j not in used and abs(d - c) <= tolerance), None)
        if hit is None:
            missed.append(c)
        else:
            used.add(hit)
            matched += 1
    spurious = [d for j, d in enumerate(detected) if j not in used]
    recall = matched / len(true_cuts) if true_cuts else 1.0
    precision = matched / len(detected) if detected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "true": len(true_cuts),
        "detected": len(detected),
        "matched": matched,
        "recall": round(recall, 4),
        "precision": round(precision, 4),
        "f1": round(f1, 4),
        "missed": missed,
        "spurious": spurious,
    }


def score_cuts(
    truth_file: str | os.PathLike[str], settings: Settings | None = None, tolerance: int = 2
) -> dict[str, Any]:
    """Run the product's shot detection on each video of a truth file; score its cuts."""
    from ..config import Settings
    from ..ingest.embedding import segment_options
    from ..media.segment import SegmentStats, segment

    truth_path = Path(truth_file)
    truth = json.loads(truth_path.read_text())
    settings = settings or Settings.from_env()
    per_video: dict[str, dict[str, Any]] = {}
    totals = {"matched": 0, "true": 0, "detected": 0}
    for video, cuts in truth.get("cuts", {}).items():
        stats = SegmentStats()
        _, clips = segment(truth_path.parent / video, segment_options(settings), stats)
        for _ in clips:
            pass
        result = match_cuts(cuts, stats.cuts, tolerance)
        per_video[video] = result
        for key in totals:
            totals[key] += result[key]
    recall = totals["matched"] / totals["true"] if totals["true"] else 1.0
    precision = totals["matched"] / totals["detected"] if totals["detected"] else 1.0
    return {
        "detector": settings.shot_detector,
        "threshold": settings.shot_threshold,
        "tolerance_frames": tolerance,
        **totals,
        "recall": round(recall, 4),
        "precision": round(precision, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "videos": per_video,
    }
