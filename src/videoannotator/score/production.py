"""Scoring with the deployed versions: new footage, whole videos, segments and timelines.

The pure parts — merging clips into segments, the editorial exports, the plot, the table
writer, the artifact — are beside this module; this one reads the workspace.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidInput, NotFound, NotReady
from ..learn.decision import is_positive
from ..loop.scores import model_scores
from ..registry.versions import live, probabilities, require_live, threshold_probability

if TYPE_CHECKING:
    from ..engines import Engine
    from ..ingest.pipeline import IngestReport
    from ..workspace import Workspace


def _ranges(ids: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted clip ids as [first, end) runs."""
    out: list[tuple[int, int]] = []
    for i in sorted({int(c) for c in ids}):
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


def score_clips(
    ws: Workspace,
    label: dict[str, Any],
    model: dict[str, Any],
    clip_ids: Sequence[int],
    source: str,
    record: bool = True,
    cache: dict[tuple[int, int], np.ndarray] | None = None,
    pending: list[dict[str, Any]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The version's calibrated probabilities and decisions for the clips, recorded as one
    score batch (what monitoring reads) unless ``record`` is off. ``cache``: the versions'
    corpus scores, kept across the calls of one request."""
    ids = np.asarray(clip_ids, dtype=np.int64)
    key = (int(label["id"]), int(model["version"]))
    if cache is not None and key in cache:
        all_scores = cache[key]
    else:
        all_scores = model_scores(ws, model, label["name"])
        if cache is not None:
            cache[key] = all_scores
    logits = all_scores[ids]
    positive = is_positive(logits, float(model["threshold"]))
    if ids.size and record:
        batch = {
            "label_id": label["id"],
            "version": model["version"],
            "source": source,
            "clip_ranges": _ranges(ids.tolist()),
            "clips": int(ids.size),
            "positives": int(positive.sum()),
        }
        if pending is None:
            ws.catalog.batches.add_many([batch])
        else:
            pending.append(batch)
    return probabilities(model, logits), positive


def score_new_clips(ws: Workspace, first: int, end: int, source: str = "ingest") -> dict[str, int]:
    """Score clips ``first``…``end - 1`` (just ingested) with every deployed version: the
    ingest hook. Returns label name -> positives among them."""
    out: dict[str, int] = {}
    if end <= first:
        return out
    for label_id, version in ws.catalog.deployments.live().items():
        label = ws.label(label_id)
        if label["archived"]:
            continue
        model = ws.models.get(label_id, version)
        try:
            _, positive = score_clips(ws, label, model, list(range(first, end)), source)
        except NotReady:  # a version from before `va reembed`: it cannot score the new clips
            continue
        out[label["name"]] = int(positive.sum())
    return out


def deployed_labels(ws: Workspace, names: Iterable[str] | None) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(label, live version) for the labels named, or for every deployed label."""
    if names is None:
        pairs = []
        for label_id in sorted(ws.catalog.deployments.live()):
            label = ws.label(label_id)
            if not label["archived"]:
                pairs.append((label, require_live(ws, label)))
        if not pairs:
            raise NotReady("no label has a deployed version; `va deploy LABEL` puts one into production")
        return pairs
    return [(label, require_live(ws, label)) for label in (ws.label(n) for n in names)]


def resolve_video(ws: Workspace, video: str | int) -> dict[str, Any]:
    """A video by id, by path of a file (its content), or by file name."""
    text = str(video)
    videos = ws.videos()
    if isinstance(video, int) and not isinstance(video, bool):
        for v in videos:
            if v["id"] == video:
                return v
        raise NotFound(f"no video with id {video}; `va videos` lists them")
    if text.isascii() and text.isdigit():
        for v in videos:
            if v["id"] == int(text):
                return v
    path = Path(text).expanduser()
    if path.is_file():
        from ..ingest.pipeline import content_hash

        found = ws.catalog.videos.find(content_hash(path))
        if found is not None:
            return found
        raise NotFound(f"{path} is not in this workspace; `va score {path}` ingests and scores it")
    named = [v for v in videos if Path(v["path"]).name == text or v["path"] == text]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise InvalidInput(f"{len(named)} videos are named {text!r}; give the video id (`va videos` lists them)")
    raise NotFound(f"no video {text!r} in this workspace; `va videos` lists them")


def video_rows(
    ws: Workspace,
    video: dict[str, Any],
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
    source: str,
    record: bool = True,
    cache: dict[tuple[int, int], np.ndarray] | None = None,
    pending: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """One row per clip × label: video, clip_id, start, end, label, version, probability, positive."""
    clips = ws.catalog.videos.clips_of(video["id"])
    ids = [c["id"] for c in clips]
    rows: list[dict[str, Any]] = []
    for label, model in pairs:
        probs, positive = score_clips(ws, label, model, ids, source, record, cache, pending)
        for clip, p, pos in zip(clips, probs, positive):
            rows.append(
                {
                    "video": video["path"],
                    "clip_id": int(clip["id"]),
                    "start": round(float(clip["start_s"]), 3),
                    "end": round(float(clip["end_s"]), 3),
                    "label": label["name"],
                    "version": int(model["version"]),
                    "probability": round(float(p), 5),
                    "positive": bool(pos),
                }
            )
    return rows


def score_paths(
    ws: Workspace,
    paths: Sequence[str | os.PathLike[str]],
    labels: Iterable[str] | None = None,
    progress: bool = True,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """`va score`: ingest what is not in the catalog yet (on ``engine``: the local one by
    default, or Ray), then score every clip of the videos with the deployed versions of
    ``labels`` (default: every deployed label)."""
    from ..ingest.paths import expand_paths
    from ..ingest.pipeline import content_hash

    pairs = deployed_labels(ws, labels)
    before = ws.clip_count()
    report: IngestReport = ws.ingest(paths, progress=progress, engine=engine)  # its hook scores the new clips once
    files, _ = expand_paths(paths)
    rows: list[dict[str, Any]] = []
    videos = []
    cache: dict[tuple[int, int], np.ndarray] = {}
    pending: list[dict[str, Any]] = []
    for path in files:
        try:
            video = ws.catalog.videos.find(content_hash(path))
        except Exception:  # noqa: BLE001,S112 - unreadable: already one entry in the ingest report
            continue
        if video is None:
            continue
        videos.append({"path": video["path"], "video_id": video["id"], "clips": video["clips"]})
        new = bool(video["clips"]) and min(c["id"] for c in ws.catalog.videos.clips_of(video["id"])) >= before
        rows += video_rows(ws, video, pairs, "score", record=not new, cache=cache, pending=pending)
    ws.catalog.batches.add_many(pending)
    return {
        "labels": [{"label": lab["name"], "version": m["version"]} for lab, m in pairs],
        "videos": videos,
        "rows": rows,
        "ingest": report.as_dict(),
    }


def score_videos(ws: Workspace, video_ids: Sequence[int], labels: Iterable[str] | None = None) -> dict[str, Any]:
    """Score every clip of catalog videos (by id) with the deployed versions: one row per clip × label."""
    pairs = deployed_labels(ws, labels)
    by_id = {v["id"]: v for v in ws.videos()}
    missing = [i for i in video_ids if i not in by_id]
    if missing:
        raise NotFound(f"no video with id {missing[0]}; `va videos` lists them")
    rows: list[dict[str, Any]] = []
    cache: dict[tuple[int, int], np.ndarray] = {}
    pending: list[dict[str, Any]] = []
    for i in dict.fromkeys(video_ids):
        rows += video_rows(ws, by_id[i], pairs, "score", cache=cache, pending=pending)
    ws.catalog.batches.add_many(pending)
    return {
        "labels": [{"label": lab["name"], "version": m["version"]} for lab, m in pairs],
        "videos": [
            {"path": by_id[i]["path"], "video_id": i, "clips": by_id[i]["clips"]} for i in dict.fromkeys(video_ids)
        ],
        "rows": rows,
    }


def video_tracks(ws: Workspace, video: dict[str, Any], labels: Iterable[str] | None = None) -> dict[str, Any]:
    """A video's timeline: its clips and, per deployed label, each clip's probability and the
    segments above the threshold. Nothing is recorded (reading is not scoring)."""
    from .segments import merge_segments

    pairs = (
        deployed_labels(ws, labels)
        if labels is not None
        else [(ws.label(lid), ws.models.get(lid, v)) for lid, v in sorted(ws.catalog.deployments.live().items())]
    )
    clips = ws.catalog.videos.clips_of(video["id"])
    ids = np.asarray([c["id"] for c in clips], dtype=np.int64)
    tracks = []
    for label, model in pairs:
        if label["archived"]:
            continue
        probs = probabilities(model, model_scores(ws, model, label["name"])[ids])
        threshold = threshold_probability(model)
        points = [
            {
                "clip_id": int(c["id"]),
                "start": round(float(c["start_s"]), 3),
                "end": round(float(c["end_s"]), 3),
                "probability": round(float(p), 5),
            }
            for c, p in zip(clips, probs)
        ]
        tracks.append(
            {
                "label": label["name"],
                "version": int(model["version"]),
                "threshold": round(threshold, 5),
                "clips": points,
                "segments": merge_segments(points, threshold, label["name"], int(model["version"])),
            }
        )
    return {
        "video": video["path"],
        "video_id": video["id"],
        "duration": float(video["duration"]),
        "fps": float(video["fps"]),
        "clips": [
            {"clip_id": int(c["id"]), "start": round(float(c["start_s"]), 3), "end": round(float(c["end_s"]), 3)}
            for c in clips
        ],
        "tracks": tracks,
    }


def label_segments(ws: Workspace, label: str | int, video: str | int | None = None) -> dict[str, Any]:
    """The deployed version's segments of one video, or of every video."""
    lab = ws.label(label)
    model = live(ws, lab["id"]) or require_live(ws, lab)
    videos = [resolve_video(ws, video)] if video is not None else ws.videos()
    out = []
    for v in videos:
        track = video_tracks(ws, v, [lab["name"]])["tracks"][0]
        out.append(
            {
                "video": v["path"],
                "video_id": v["id"],
                "duration": float(v["duration"]),
                "fps": float(v["fps"]),
                "segments": track["segments"],
            }
        )
    return {"label": lab["name"], "version": int(model["version"]), "videos": out}


def export_segments(ws: Workspace, label: str | int, fmt: str, video: str | int | None = None) -> str:
    """The live version's segments as a document editing tools import: an OpenTimelineIO
    timeline (``otio``), a CMX 3600 EDL (``edl``), ``csv`` or ``json``."""
    import json
    import tempfile

    from ..names import SEGMENT_FORMATS
    from .exports import segments_csv, videos_timeline, write_edl, write_otio

    if fmt not in SEGMENT_FORMATS:
        raise InvalidInput(f"segments export as one of {', '.join(SEGMENT_FORMATS)}, not {fmt!r}")
    result = label_segments(ws, label, video)
    if fmt == "json":
        return json.dumps(result, indent=2) + "\n"
    if fmt == "csv":
        return segments_csv([{**s, "video": v["video"]} for v in result["videos"] for s in v["segments"]])
    timeline = videos_timeline(
        [
            {
                "video": Path(v["video"]).name,
                "path": v["video"],
                "duration": v["duration"],
                "fps": v["fps"],
                "segments": v["segments"],
            }
            for v in result["videos"]
        ],
        name=f"{result['label']} v{result['version']} segments",
    )
    with tempfile.TemporaryDirectory(prefix="va-segments-") as tmp:  # the writers write files
        path = Path(tmp) / f"segments.{fmt}"
        (write_otio if fmt == "otio" else write_edl)(timeline, path)
        return path.read_text(encoding="utf-8")


def timeline_png(ws: Workspace, video: str | int, labels: Iterable[str] | None = None) -> bytes:
    """A video's timeline drawn (``plot.timeline_png``), as PNG bytes."""
    import tempfile

    from .plot import timeline_png as draw

    tracks = video_tracks(ws, resolve_video(ws, video), labels)
    with tempfile.TemporaryDirectory(prefix="va-timeline-") as tmp:
        path = Path(tmp) / "timeline.png"
        draw(tracks, path)
        return path.read_bytes()
