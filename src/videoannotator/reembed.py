"""Recompute every clip vector with another embedder, keeping clips, ids and annotations.

Frames are taken again at each clip's recorded sample positions (one decode per video);
the new matrix is written beside the old one and swapped in atomically at the end, so an
interrupted reembed leaves the workspace as it was.
"""

from __future__ import annotations

import os

import numpy as np
from av.video.reformatter import VideoReformatter

from .embed.base import l2_normalise
from .errors import MediaError
from .media.probe import open_container, video_stream


def frames_at(path: str, indices: set[int], width: int) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    last = max(indices)
    scaler = VideoReformatter()
    with open_container(path) as container:
        stream = video_stream(container, path)
        stream.thread_type = "AUTO"
        for i, frame in enumerate(container.decode(stream)):
            if i in indices:
                h = max(2, int(round(frame.height * width / frame.width)) // 2 * 2)
                out[i] = scaler.reformat(frame, width=width, height=h, format="rgb24").to_ndarray()
            if i >= last:
                break
    return out


def reembed(ws, embedder, progress: bool = True) -> dict:
    from tqdm.auto import tqdm

    n = ws.clip_count()
    tmp = ws.home / "vectors.f32.reembed"
    out = np.memmap(tmp, mode="w+", dtype=np.float32, shape=(max(n, 1), embedder.dim))
    fdim = int(embedder.feature_dim)
    ftmp = ws.home / "features.f32.reembed"
    fout = np.memmap(ftmp, mode="w+", dtype=np.float32, shape=(max(n, 1), fdim)) if fdim else None
    for video in tqdm(ws.videos(), desc="reembed", unit="video", disable=not progress):
        clips = ws.catalog.query("SELECT id, sample_frames FROM clips WHERE video_id=? ORDER BY position", (video["id"],))
        wanted = {int(f) for c in clips for f in c["sample_frames"].split(",") if f}
        try:
            frames = frames_at(video["path"], wanted, ws.settings.thumb_width)
        except MediaError as exc:
            raise MediaError(f"reembed needs the original video files: {exc.message}") from None
        for c in clips:
            picks = [frames[int(f)] for f in c["sample_frames"].split(",") if f and int(f) in frames]
            if not picks:
                raise MediaError(f"{video['path']}: changed since ingest (frames missing); re-ingest it")
            vectors, raw = embedder.encode_images_with_features(picks)
            out[c["id"]] = l2_normalise(vectors.mean(axis=0, keepdims=True))[0]
            if fout is not None:
                fout[c["id"]] = embedder.classifier_features(raw.mean(axis=0, keepdims=True))[0]
    _finish(out, tmp, n * embedder.dim * 4)
    del out
    if fout is not None:
        _finish(fout, ftmp, n * fdim * 4)
        del fout
    with ws.write_lock():
        # Both files are complete; the catalog's meta says which widths they have. A crash
        # between the renames and the commit leaves meta naming the old widths: rerun reembed.
        if fout is not None:
            os.replace(ftmp, ws.home / "features.f32")
        else:
            (ws.home / "features.f32").unlink(missing_ok=True)
        os.replace(tmp, ws.home / "vectors.f32")
        with ws.catalog.transaction() as db:
            ws.catalog.set_meta("embedder", embedder.name, db)
            ws.catalog.set_meta("dim", embedder.dim, db)
            ws.catalog.set_meta("feature_dim", fdim, db)
            db.execute("UPDATE clips SET embedder = ?", (embedder.name,))
        (ws.home / "clips.index").unlink(missing_ok=True)  # an ANN index over the old vectors
    ws.reopen(embedder)
    return {"clips": n, "embedder": embedder.name, "dim": embedder.dim, "feature_dim": fdim}


def _finish(mm: np.memmap, path, size: int) -> None:
    mm.flush()
    with open(path, "r+b") as fh:
        fh.truncate(size)
        os.fsync(fh.fileno())
