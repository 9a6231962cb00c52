"""Segments as files that editors and tools import: OpenTimelineIO, CMX 3600 EDL, CSV.

**OTIO** (``segments_timeline``, ``videos_timeline``, ``write_otio``): one video track; one
clip per video, its media an ``ExternalReference`` to the source file with the video's
available range; one marker per segment on that clip — ``name`` = the label, ``marked_range``
= the segment in the source's time at the video's frame rate (whole frames), a colour per
label, ``metadata["videoannotator"]`` = ``{label, version, start, end, peak, mean, clips}``.
An editor sees the source with the label's segments marked on it.

**EDL** (``write_edl``): a CMX 3600 locator (``* LOC: tc COLOR NAME``) carries only a point in
time and an upper-cased name, so markers alone would lose where each segment ends. By
default the EDL is therefore written from ``selects_timeline``: each segment becomes one
edit (source in/out = the segment, cut back to back in the record time, clip name
``"<label> v<version> #<n>"``) with a locator at its start naming the label — an editor
imports the label's selects as a sequence. ``as_edits=False`` writes the markers' timeline
as it is (one edit per video, one locator per segment start). An EDL needs an SMPTE frame
rate: a video at another rate (15 fps, 12.5 fps, ...) is written at the smallest standard
rate that is a multiple of it (30, 25, ...), the same times in seconds; 29.97 and 59.94 fps
with non-drop-frame timecode (see ``edl_rate``).

**CSV** (``segments_csv``): one row per segment.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import re
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

import opentimelineio as otio
from opentimelineio import opentime

from ._files import write_text

__all__ = [
    "edl_rate",
    "label_color",
    "segments_csv",
    "segments_timeline",
    "selects_timeline",
    "videos_timeline",
    "write_edl",
    "write_otio",
]

# Marker colours that read well on a dark editing timeline (no black, no white).
_COLORS = ("RED", "ORANGE", "YELLOW", "GREEN", "CYAN", "BLUE", "PURPLE", "MAGENTA", "PINK")
# SMPTE rates an EDL can carry, in the order tried for a video at another rate.
_EDL_RATES = (24000 / 1001, 24.0, 25.0, 30.0, 48.0, 50.0, 60.0)
_META = "videoannotator"


def label_color(label: str) -> str:
    """The marker colour of a label (an ``otio.schema.MarkerColor`` name), the same in every export."""
    return _COLORS[zlib.crc32(label.encode("utf-8")) % len(_COLORS)]


def _frames(seconds: float, fps: float) -> int:
    return round(float(seconds) * float(fps))


def _url(path: str) -> str:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path):
        return path
    return Path(path).absolute().as_uri()


def _reel(name: str) -> str:
    """An EDL reel name: at most 8 letters and digits (the adapter would keep spaces, which breaks reading)."""
    stem = re.sub(r"[.][a-zA-Z0-9]+$", "", PurePath(name).name)
    return re.sub(r"[^A-Za-z0-9]+", "", stem)[:8].upper() or "AX"


def _video_clip(
    video_name: str, video_path: str, duration: float, fps: float, segments: Sequence[Mapping[str, Any]]
) -> Any:
    fps = float(fps)
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"the frame rate must be a positive number, not {fps!r}")
    total = max(_frames(duration, fps), 1)
    available = opentime.TimeRange(opentime.RationalTime(0, fps), opentime.RationalTime(total, fps))
    reference = otio.schema.ExternalReference(target_url=_url(video_path), available_range=available)
    clip = otio.schema.Clip(name=video_name, media_reference=reference, source_range=available)
    clip.metadata["cmx_3600"] = {"reel": _reel(video_name)}
    clip.metadata[_META] = {"video": video_name, "duration": float(duration), "fps": fps}
    for segment in sorted(segments, key=lambda s: (float(s["start"]), float(s["end"]))):
        start = min(max(_frames(segment["start"], fps), 0), total - 1)
        end = min(max(_frames(segment["end"], fps), start + 1), total)
        label = str(segment["label"])
        marker = otio.schema.Marker(
            name=label,
            marked_range=opentime.TimeRange(opentime.RationalTime(start, fps), opentime.RationalTime(end - start, fps)),
            color=label_color(label),
        )
        marker.metadata[_META] = {
            "label": label,
            "version": int(segment["version"]),
            "start": float(segment["start"]),
            "end": float(segment["end"]),
            "peak": float(segment["peak"]),
            "mean": float(segment["mean"]),
            "clips": [int(c) for c in segment.get("clips", [])],
        }
        clip.markers.append(marker)
    return clip


def segments_timeline(
    video_name: str,
    video_path: str,
    duration: float,
    fps: float,
    segments: Sequence[Mapping[str, Any]],
    *,
    name: str | None = None,
) -> Any:
    """One video's segments as an ``otio.schema.Timeline`` (one clip, one marker per segment).

    ``duration`` in seconds, ``fps`` the video's frame rate (the time base of every range),
    ``segments`` as ``merge_segments`` returns them (any labels and versions).
    """
    return videos_timeline(
        [{"video": video_name, "path": video_path, "duration": duration, "fps": fps, "segments": segments}],
        name=name or f"{video_name} segments",
    )


def videos_timeline(videos: Sequence[Mapping[str, Any]], *, name: str = "videoannotator segments") -> Any:
    """Several videos' segments as one timeline: one clip per video, in the given order.

    Each video is ``{"video": name, "path": file, "duration": seconds, "fps": rate,
    "segments": [...]}``.
    """
    timeline = otio.schema.Timeline(name=name)
    track = otio.schema.Track(name="video", kind=otio.schema.TrackKind.Video)
    labels: set[str] = set()
    for video in videos:
        segments = list(video.get("segments", []))
        labels.update(str(s["label"]) for s in segments)
        track.append(
            _video_clip(str(video["video"]), str(video["path"]), float(video["duration"]), video["fps"], segments)
        )
    timeline.tracks.append(track)
    timeline.metadata[_META] = {"labels": sorted(labels), "colors": {label: label_color(label) for label in labels}}
    return timeline


def selects_timeline(timeline: Any) -> Any:
    """The segments of a markers timeline as edits: one clip per segment, back to back.

    Each edit plays the segment's range of its source (same media reference), is named
    ``"<label> v<version> #<n>"`` (n counts the label's segments from 1) and carries one
    zero-length marker at its start (the label, its colour and metadata).
    """
    selects = otio.schema.Timeline(name=timeline.name)
    selects.metadata.update(copy.deepcopy(dict(timeline.metadata)))
    track = otio.schema.Track(name="selects", kind=otio.schema.TrackKind.Video)
    counts: dict[str, int] = {}
    for source_track in timeline.video_tracks():
        for item in source_track.find_clips():
            for marker in sorted(item.markers, key=lambda m: m.marked_range.start_time.to_seconds()):
                meta = dict(marker.metadata.get(_META, {}))
                label = str(meta.get("label", marker.name))
                counts[label] = counts.get(label, 0) + 1
                version = meta.get("version")
                title = f"{label} v{version} #{counts[label]}" if version is not None else f"{label} #{counts[label]}"
                edit = otio.schema.Clip(
                    name=title,
                    media_reference=copy.deepcopy(item.media_reference),
                    source_range=marker.marked_range,
                )
                edit.metadata.update(copy.deepcopy(dict(item.metadata)))
                at = otio.schema.Marker(
                    name=marker.name,
                    marked_range=opentime.TimeRange(
                        marker.marked_range.start_time, opentime.RationalTime(0, marker.marked_range.start_time.rate)
                    ),
                    color=marker.color,
                )
                at.metadata.update(copy.deepcopy(dict(marker.metadata)))
                edit.markers.append(at)
                track.append(edit)
    selects.tracks.append(track)
    return selects


def write_otio(timeline: Any, path: str | Path) -> None:
    """The timeline as an ``.otio`` JSON file (written whole or not at all)."""
    write_text(path, otio.adapters.write_to_string(timeline, adapter_name="otio_json"))


def edl_rate(fps: float) -> float:
    """The timecode rate ``write_edl`` uses for a video at ``fps``; read the EDL back at it.

    A standard rate stays; 29.97 and 59.94 fps are written with non-drop-frame timecode
    (rate 30 or 60, the same frame numbers: the adapter reads no drop-frame locators);
    another rate becomes the smallest standard rate that is a multiple of it (15 → 30),
    or else the next one above it (same times in seconds).
    """
    fps = float(fps)
    ndf = _ndf_rate(fps)
    if ndf is not None:
        return ndf
    for rate in _EDL_RATES:
        if math.isclose(fps, rate, rel_tol=1e-4):
            return rate
    for rate in _EDL_RATES:  # a multiple of the video's rate: every frame lands on one
        ratio = rate / fps
        if ratio >= 1 and math.isclose(ratio, round(ratio), rel_tol=1e-6):
            return rate
    return next((rate for rate in _EDL_RATES if rate >= fps), _EDL_RATES[-1])


def _ndf_rate(fps: float) -> float | None:
    for nominal in (30.0, 60.0):
        if math.isclose(fps, nominal * 1000 / 1001, rel_tol=1e-4):
            return nominal
    return None


def _to_rate(timeline: Any, rate: float) -> None:
    """Every range of the timeline's clips and markers at the EDL's ``rate``, on whole frames (in place).

    Frame numbers are kept for a 29.97/59.94 clip written at 30/60 (non-drop-frame timecode),
    seconds otherwise.
    """

    def retime(rt: Any) -> Any:
        factor = 1.0 if _ndf_rate(rt.rate) == rate else rate / rt.rate
        return opentime.RationalTime(round(rt.value * factor), rate)

    def rerange(rng: Any) -> Any:
        return opentime.TimeRange(retime(rng.start_time), retime(rng.duration))

    for clip in timeline.find_clips():
        clip.source_range = rerange(clip.source_range)
        reference = clip.media_reference
        if getattr(reference, "available_range", None) is not None:
            reference.available_range = rerange(reference.available_range)
        for marker in clip.markers:
            marker.marked_range = rerange(marker.marked_range)


def write_edl(timeline: Any, path: str | Path, *, as_edits: bool = True) -> None:
    """The timeline as a CMX 3600 EDL (``.edl``), through the ``cmx_3600`` adapter.

    ``as_edits`` (default): one edit per segment (``selects_timeline``), so the EDL keeps
    where each segment starts and ends; otherwise the timeline as it is. The EDL's frame
    rate is the first clip's (made an SMPTE rate if it is not one); read it back with
    ``otio.adapters.read_from_file(path, rate=that rate)``.
    """
    edl = selects_timeline(timeline) if as_edits else copy.deepcopy(timeline)
    clips = list(edl.find_clips())
    if not clips:  # the adapter cannot write an empty track: an EDL with a title and no events
        write_text(path, f"TITLE: {edl.name}\n\n" if edl.name else "")
        return
    rate = edl_rate(float(clips[0].source_range.start_time.rate))
    _to_rate(edl, rate)
    write_text(path, otio.adapters.write_to_string(edl, adapter_name="cmx_3600", rate=rate))


def _cell(value: object) -> object:
    # A text cell starting with = + - @ is a formula to spreadsheet programs (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def segments_csv(segments: Sequence[Mapping[str, Any]], *, video: str | None = None) -> str:
    """One row per segment: [video,] label, version, start, end, duration (seconds), peak, mean, clips.

    Times with millisecond precision, probabilities with four decimals, ``clips`` the clip
    ids separated by spaces. A segment's own ``video`` key fills the column when given.
    """
    with_video = video is not None or any("video" in s for s in segments)
    fields = (["video"] if with_video else []) + [
        "label",
        "version",
        "start",
        "end",
        "duration",
        "peak",
        "mean",
        "clips",
    ]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    for s in segments:
        start, end = float(s["start"]), float(s["end"])
        row: list[object] = [s.get("video", video)] if with_video else []
        row += [
            s["label"],
            int(s["version"]),
            f"{start:.3f}",
            f"{end:.3f}",
            f"{end - start:.3f}",
            f"{float(s['peak']):.4f}",
            f"{float(s['mean']):.4f}",
            " ".join(str(int(c)) for c in s.get("clips", [])),
        ]
        writer.writerow([_cell(v) for v in row])
    return buf.getvalue()
