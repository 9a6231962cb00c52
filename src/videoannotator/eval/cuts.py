"""Shot detection against known cuts: match detected cut frames to true ones, score a truth file.

Frames are 0-based in decode order; a cut c means frame c is the first frame of a new shot,
as the detectors report. Two kinds of truth file:

* a workspace-suite labels file (``eval.slideshow``): ``"cuts": {VIDEO: [frame, ...]}``, or
  no ``"cuts"`` and ``"shots"`` with ``video`` and ``start_frame`` (the cuts are then the
  start frames of each video's shots after its first). Videos lie beside the file.
* a hand-marked file (``data/sample-media-cuts.json``, ``--sample-media``): per video its
  size, SHA-256 and frame count (a different file is refused), hard ``cuts``, gradual
  ``transitions`` [first, last] (one detected cut anywhere inside is a hit, further ones are
  absorbed) and ``ambiguous`` ranges (a detection there is neither a hit nor false).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput

if TYPE_CHECKING:
    from ..config import Settings

SAMPLE_TRUTH = Path(__file__).parent / "data" / "sample-media-cuts.json"
Range = tuple[int, int]


@dataclass
class VideoTruth:
    name: str
    cuts: list[int]
    transitions: list[Range] = field(default_factory=list)
    ambiguous: list[Range] = field(default_factory=list)
    frames: int | None = None
    fps: float | None = None
    size: int | None = None
    sha256: str | None = None

    @property
    def boundaries(self) -> int:
        return len(self.cuts) + len(self.transitions)


def _ranges(value: Any, where: str) -> list[Range]:
    try:
        out = [(int(a), int(b)) for a, b in value or []]
    except (TypeError, ValueError):
        raise InvalidInput(f"{where}: ranges must be [first, last] frame pairs") from None
    if any(a > b for a, b in out):
        raise InvalidInput(f"{where}: a range [first, last] has first > last")
    return out


def load_truth(path: str | os.PathLike[str]) -> dict[str, VideoTruth]:
    """The videos of a truth file and their boundaries; one clear line when it has none to give."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a readable JSON truth file ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: a truth file is a JSON object")
    if isinstance(data.get("videos"), dict):  # hand-marked
        out: dict[str, VideoTruth] = {}
        for name, v in data["videos"].items():
            out[name] = VideoTruth(
                name,
                sorted(int(c) for c in v.get("cuts", [])),
                _ranges(v.get("transitions"), f"{path}: {name} transitions"),
                _ranges(v.get("ambiguous"), f"{path}: {name} ambiguous"),
                v.get("frames"),
                v.get("fps"),
                v.get("size"),
                v.get("sha256"),
            )
        return out
    if isinstance(data.get("cuts"), dict):
        return {video: VideoTruth(video, sorted(int(c) for c in cuts)) for video, cuts in data["cuts"].items()}
    starts: dict[str, list[int]] = {}
    for shot in data.get("shots") or []:
        if not isinstance(shot, dict) or "video" not in shot or shot.get("start_frame") is None:
            starts.clear()
            break
        starts.setdefault(str(shot["video"]), []).append(int(shot["start_frame"]))
    if not starts:
        raise InvalidInput(
            f'{path} has no cut frames: give "cuts": {{video: [frame, ...]}}, or "shots" that each '
            'carry "video" and "start_frame"'
        )
    return {video: VideoTruth(video, sorted(set(s))[1:]) for video, s in starts.items()}


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_media(truth: dict[str, VideoTruth], folder: Path) -> None:
    """Refuse, in one line, a missing video or one that is not the file the truth was marked on."""
    for name, t in truth.items():
        path = folder / name
        if not path.is_file():
            raise InvalidInput(f"{path} is missing: fetch the sample media first (make media)")
        if t.size is not None and path.stat().st_size != t.size:
            raise InvalidInput(
                f"{path} is not the file the cuts were marked on ({path.stat().st_size} bytes, expected "
                f"{t.size}): its frame numbers would not apply; fetch it again (make media)"
            )
        if t.sha256 is not None and file_digest(path) != t.sha256:
            raise InvalidInput(
                f"{path} is not the file the cuts were marked on (SHA-256 differs): its frame numbers "
                "would not apply; fetch it again (make media)"
            )


def match_cuts(
    true_cuts: Iterable[int],
    detected: Iterable[int],
    tolerance: int = 2,
    transitions: Iterable[Sequence[int]] = (),
    ambiguous: Iterable[Sequence[int]] = (),
) -> dict[str, Any]:
    """Recall/precision of detected cut frames against true boundaries.

    A hard cut c is hit by a detection within +-tolerance frames; a transition [a, b] by one
    within [a - tolerance, b + tolerance] (more detections there are ``absorbed``). A
    detection within an ambiguous range (+-tolerance) that hit nothing is ``ignored``. Every
    detection left over is ``spurious``. Each detection hits at most one boundary.
    """
    windows: list[tuple[int, int, float, str]] = [
        (int(c) - tolerance, int(c) + tolerance, int(c), "cut") for c in true_cuts
    ]
    windows += [(int(a) - tolerance, int(b) + tolerance, (int(a) + int(b)) / 2, "transition") for a, b in transitions]
    windows.sort()
    dets = sorted(int(d) for d in detected)
    used: set[int] = set()
    matched = 0
    missed: list[int] = []
    missed_transitions: list[list[int]] = []
    for lo, hi, centre, kind in windows:
        free = [j for j, d in enumerate(dets) if j not in used and lo <= d <= hi]
        if free:
            used.add(min(free, key=lambda j: abs(dets[j] - centre)))
            matched += 1
        elif kind == "cut":
            missed.append(int(centre))
        else:
            missed_transitions.append([lo + tolerance, hi - tolerance])
    absorbed = [
        d
        for j, d in enumerate(dets)
        if j not in used and any(a - tolerance <= d <= b + tolerance for a, b in transitions)
    ]
    ignored = [
        d
        for j, d in enumerate(dets)
        if j not in used and d not in absorbed and any(a - tolerance <= d <= b + tolerance for a, b in ambiguous)
    ]
    spurious = [d for j, d in enumerate(dets) if j not in used and d not in absorbed and d not in ignored]
    true = len(windows)
    recall = matched / true if true else 1.0
    precision = matched / (matched + len(spurious)) if matched + len(spurious) else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "true": true,
        "detected": len(dets),
        "matched": matched,
        "spurious_count": len(spurious),
        "recall": round(recall, 4),
        "precision": round(precision, 4),
        "f1": round(f1, 4),
        "missed": missed,
        "missed_transitions": missed_transitions,
        "spurious": spurious,
        "absorbed": absorbed,
        "ignored": ignored,
    }


def _prf(matched: int, true: int, spurious: int) -> dict[str, float]:
    recall = matched / true if true else 1.0
    precision = matched / (matched + spurious) if matched + spurious else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"recall": round(recall, 4), "precision": round(precision, 4), "f1": round(f1, 4)}


def parse_detector(spec: str) -> tuple[str, float]:
    """``NAME`` or ``NAME:THRESHOLD`` (e.g. ``content-edges:12``); 0 = the detector's default."""
    name, _, threshold = spec.strip().partition(":")
    try:
        return name, float(threshold) if threshold else 0.0
    except ValueError:
        raise InvalidInput(f"detector {spec!r}: the threshold after ':' must be a number") from None


def score_cuts(
    truth_file: str | os.PathLike[str],
    settings: Settings | None = None,
    tolerance: int = 2,
    *,
    media_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Run the product's shot detection (the VA_SHOT_* settings) on each video of a truth file; score its cuts.

    Videos are looked for in ``media_dir`` (default: beside the truth file). A hand-marked
    truth file's videos must be the very files it was marked on (size and SHA-256).
    """
    from ..config import Settings
    from ..ingest.embedding import segment_options
    from ..media.segment import SegmentStats, segment
    from ..media.shots import resolve_name

    truth_path = Path(truth_file)
    truth = load_truth(truth_path)
    folder = Path(media_dir).expanduser() if media_dir is not None else truth_path.parent
    check_media(truth, folder)
    settings = settings or Settings.from_env()
    detector = resolve_name(settings.shot_detector, settings.device)
    options = segment_options(settings)
    options.detector = detector
    per_video: dict[str, dict[str, Any]] = {}
    totals = {"matched": 0, "true": 0, "detected": 0, "spurious_count": 0}
    seconds = decode_s = detect_s = 0.0
    for name, t in truth.items():
        stats = SegmentStats()
        info, clips = segment(folder / name, options, stats)
        for _ in clips:
            pass
        if t.frames is not None and stats.frames != t.frames:
            raise InvalidInput(
                f"{folder / name}: decoded {stats.frames} frames, the truth was marked on {t.frames}: "
                "this decoder numbers frames differently, so the cut frames would not apply"
            )
        result = match_cuts(t.cuts, stats.cuts, tolerance, t.transitions, t.ambiguous)
        duration = stats.frames / info.fps if info.fps else 0.0
        result["cuts"] = list(stats.cuts)
        result["seconds"] = round(duration, 2)
        result["decode_s"] = round(stats.decode_s, 3)
        result["detect_s"] = round(stats.detect_s, 3)
        per_video[name] = result
        for key in totals:
            totals[key] += result[key]
        seconds += duration
        decode_s += stats.decode_s
        detect_s += stats.detect_s
    return {
        "detector": detector,
        "threshold": settings.shot_threshold,
        "tolerance_frames": tolerance,
        **totals,
        **_prf(totals["matched"], totals["true"], totals["spurious_count"]),
        "seconds": round(seconds, 1),
        "detect_x_realtime": round(seconds / detect_s, 1) if detect_s else None,
        "decode_detect_x_realtime": round(seconds / (decode_s + detect_s), 1) if decode_s + detect_s else None,
        "videos": per_video,
    }


def score_detectors(
    truth_file: str | os.PathLike[str],
    detectors: Sequence[str],
    settings: Settings | None = None,
    tolerance: int = 2,
    *,
    media_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """``score_cuts`` once per detector (``NAME`` or ``NAME:THRESHOLD``), each on the same videos."""
    from dataclasses import replace

    from ..config import Settings
    from ..media.shots import resolve_name

    settings = settings or Settings.from_env()
    for spec in detectors:  # an unknown name is refused before any video is read
        resolve_name(parse_detector(spec)[0], settings.device)
    results = []
    started = time.perf_counter()
    for spec in detectors:
        name, threshold = parse_detector(spec)
        result = score_cuts(
            truth_file, replace(settings, shot_detector=name, shot_threshold=threshold), tolerance, media_dir=media_dir
        )
        result["spec"] = spec
        results.append(result)
    return {
        "truth": str(truth_file),
        "tolerance_frames": tolerance,
        "detectors": results,
        "seconds_total": round(time.perf_counter() - started, 1),
    }
