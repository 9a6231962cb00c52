"""Recompute every clip vector with another embedder, keeping clips, ids and annotations.

Frames are taken again at each clip's recorded sample positions (one decode per video). The
new matrices are written as the workspace's next *generation* beside the current one, under
the write lock for the whole run (an ingest started meanwhile waits to commit). The catalog's
meta commit is the switch: a crash before it opens the old generation as if nothing happened,
a crash after it the new one; the files of the other generation are removed afterwards.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from av.video.reformatter import VideoReformatter

from ..embed.base import Embedder, l2_normalise
from ..errors import MediaError
from ..media.probe import open_container, video_stream

if TYPE_CHECKING:
    from ..workspace import Workspace


def frames_at(path: str, indices: set[int], width: int) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    last = max(indices)
    scaler = VideoReformatter()
    with open_container(path) as container:
        stream = video_stream(container, path)
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i in indices:
                h = max(2, round(frame.height * width / frame.width) // 2 * 2)
                out[i] = scaler.reformat(frame, width=width, height=h, format="rgb24").to_ndarray()
            if i >= last:
                break
    return out


def reembed(ws: Workspace, embedder: Embedder, progress: bool = True) -> dict[str, Any]:
    with ws.write_lock():
        result = _reembed_locked(ws, embedder, progress)
    ws.reopen(embedder)
    return result


def _reembed_locked(ws: Workspace, embedder: Embedder, progress: bool) -> dict[str, Any]:
    from tqdm.auto import tqdm

    n = ws.clip_count()
    generation = ws.generation + 1
    fdim = int(embedder.feature_dim)
    vpath, fpath = ws.matrix_path("vectors", generation), ws.matrix_path("features", generation)
    written = [vpath] + ([fpath] if fdim else [])
    try:
        out = np.memmap(vpath, mode="w+", dtype=np.float32, shape=(max(n, 1), embedder.dim))
        fout = np.memmap(fpath, mode="w+", dtype=np.float32, shape=(max(n, 1), fdim)) if fdim else None
        for video in tqdm(ws.videos(), desc="reembed", unit="video", disable=not progress):
            clips = ws.catalog.videos.sample_frames(video["id"])
            wanted = {f for _, frames in clips for f in frames}
            try:
                frames = frames_at(video["path"], wanted, ws.settings.thumb_width)
            except MediaError as exc:
                raise MediaError(f"reembed needs the original video files: {exc.message}") from None
            for clip_id, sample in clips:
                picks = [frames[f] for f in sample if f in frames]
                if not picks:
                    raise MediaError(f"{video['path']}: changed since ingest (frames missing); re-ingest it")
                vectors, raw = embedder.encode_images_with_features(picks)
                out[clip_id] = l2_normalise(vectors.mean(axis=0, keepdims=True))[0]
                if fout is not None and raw is not None:
                    fout[clip_id] = embedder.classifier_features(raw.mean(axis=0, keepdims=True))[0]
        _finish(out, vpath, n * embedder.dim * 4)
        del out
        if fout is not None:
            _finish(fout, fpath, n * fdim * 4)
            del fout
        ws.catalog.videos.switch_embedder(
            embedder.name,
            {  # the switch
                "embedder": embedder.name,
                "dim": embedder.dim,
                "feature_dim": fdim,
                "generation": generation,
            },
        )
    except BaseException:
        if ws.generation != generation:  # the switch did not happen: the new files are litter
            for path in written:
                path.unlink(missing_ok=True)
        raise
    ws.matrices.remove_other_generations(ws.home / "models")
    return {"clips": n, "embedder": embedder.name, "dim": embedder.dim, "feature_dim": fdim, "generation": generation}


def _finish(mm: np.memmap, path: Path, size: int) -> None:
    mm.flush()
    with open(path, "r+b") as fh:
        fh.truncate(size)
        os.fsync(fh.fileno())
