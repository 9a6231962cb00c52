"""Synthetic footage for the benchmarks: a video of one-second clips with random unit vectors,
committed as an ingest would (``Workspace.commit_video``), with no file behind it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..workspace import Workspace


def commit_random_video(ws: Workspace, rng: np.random.Generator, name: str, clips: int, dim: int) -> None:
    from ..catalog.base import ClipRecord, VideoRecord

    video: VideoRecord = {
        "path": f"/bench/{name}.mp4",
        "content_hash": f"bench-{name}-{os.urandom(6).hex()}",
        "duration": float(clips),
        "fps": 25.0,
        "width": 160,
        "height": 120,
        "frame_count": 25 * clips,
        "size_bytes": 0,
        "codec": "h264",
    }
    shots: list[ClipRecord] = [
        {
            "start": float(i),
            "end": i + 1.0,
            "start_frame": 25 * i,
            "end_frame": 25 * i + 25,
            "sample_frames": [25 * i + 12],
        }
        for i in range(clips)
    ]
    vectors = rng.normal(size=(clips, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ws.commit_video(video, shots, vectors)
