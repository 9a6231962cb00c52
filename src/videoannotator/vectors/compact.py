"""A compact scan copy of a clip matrix: int8 codes with a per-dimension scale.

Build scores every clip once per build; at 10M clips × 430 features the float32 matrix is
17 GB, more than a 24 GB machine keeps in its page cache beside everything else, and the
scan is memory-bound. The compact copy holds the same rows as int8 codes (a quarter of the
bytes, padded to a multiple of 64 columns for the int8 kernels), so

    x[d] ≈ scale[d] · code[d],   code = round(x / scale) ∈ [-127, 127]

with ``scale[d] = 1.25 · max |x[:, d]| / 127`` over the rows it was made from (room for
rows appended later; a copy with too many clipped rows is written again with a new scale). The float32 file
stays where it is, memory-mapped, and is read only for the candidates a caller re-scores
exactly (``learn/rescore.py``).

A score is then an integer product: the model's weights folded with the scales
(``v = coef · scale``) are split into two int8 columns, ``v ≈ s1·hi + s2·lo``, and one
``torch._int_mm`` (oneDNN: VNNI / AMX int8 where the CPU has them) gives ``codes @ [hi lo]``
as exact int32 sums. ``error_bound`` is a *guarantee* on |approximate − float32| for every
row whose codes were not clipped (rows appended later with a value beyond the scale are
clipped; their rows are kept in ``outliers`` and always re-scored exactly).

Files, beside the float32 matrix ``features.f32``: ``features.i8`` (rows × width int8) and
``features.i8.json`` (dim, width, scale, outliers). Rows are appended in order; the copy
may lag the float32 matrix (``sync`` adds the missing rows).
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import StorageError

#: From this many clips on, Build scans the compact copy (and re-scores candidates in
#: float32); below it, the float32 matrix as before, so small workspaces see no change.
COMPACT_THRESHOLD = 1_000_000

#: Columns are padded to a multiple of this (oneDNN's int8 kernels want it).
PAD = 64

#: The scale is fitted with this much room above the largest value seen, so rows appended
#: later rarely exceed it; a copy whose clipped rows pass ``REFIT_SHARE`` is written again.
HEADROOM = 1.25
REFIT_SHARE = 0.001

#: Rows quantised / scored per step: bounds temporaries (~16 MB of int8 per chunk).
CHUNK_ROWS = 1 << 15


def read_rows(X: npt.NDArray[Any], rows: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """X[rows] as float32 (rows, d), for a few thousand scattered rows of a big matrix.

    Through a memory map, each scattered row faults in a whole large page-cache folio and its
    readahead (measured: 1,000 random rows of a 300k-row float32 map mapped 483 MB; at 10M
    clips the re-scoring reads evicted the int8 copy from the cache). For a memory-mapped
    file this reads exactly each row with ``os.pread`` on a descriptor advised
    POSIX_FADV_RANDOM (no readahead); anything else is indexed as usual."""
    idx = np.asarray(rows, np.int64).reshape(-1)
    base = getattr(X, "base", None)
    if not (isinstance(X, np.memmap) and isinstance(base, mmap.mmap) and X.filename and X.flags.c_contiguous):
        return np.asarray(X[idx], dtype=np.float32)
    if X.dtype != np.float32:
        return np.asarray(X[idx], dtype=np.float32)
    row_bytes = X.shape[1] * 4
    out = np.empty((idx.size, X.shape[1]), np.float32)
    view = out.view(np.uint8).reshape(idx.size, row_bytes)
    order = np.argsort(idx, kind="stable")
    fd = os.open(X.filename, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        start = int(X.offset)
        for i in order.tolist():
            data = os.pread(fd, row_bytes, start + int(idx[i]) * row_bytes)
            if len(data) != row_bytes:
                raise StorageError(f"{X.filename} is shorter than row {int(idx[i])}")
            view[i] = np.frombuffer(data, np.uint8)
    finally:
        os.close(fd)
    return out


def padded_width(dim: int) -> int:
    return -(-int(dim) // PAD) * PAD


def fit_scale(X: npt.NDArray[Any], chunk_rows: int = CHUNK_ROWS * 4) -> npt.NDArray[np.float32]:
    """Per-dimension scale: HEADROOM · max |x| / 127 over all rows of X (one pass, in chunks)."""
    peak = np.zeros(X.shape[1], np.float32)
    for s in range(0, X.shape[0], chunk_rows):
        np.maximum(peak, np.abs(np.asarray(X[s : s + chunk_rows], np.float32)).max(axis=0), out=peak)
    peak[peak == 0] = 1.0  # an all-zero column: any scale quantises it exactly
    return np.asarray(peak * np.float32(HEADROOM / 127), dtype=np.float32)


def quantise(
    block: npt.NDArray[Any], scale: npt.NDArray[np.float32], width: int
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.bool_]]:
    """int8 codes (rows, width) of a float block, zero-padded; and which rows were clipped."""
    q = np.asarray(block, np.float32) / scale
    clipped = (np.abs(q) > 127.5).any(axis=1)
    out = np.zeros((q.shape[0], width), np.int8)
    out[:, : q.shape[1]] = np.clip(np.rint(q), -127, 127)
    return out, clipped


def split_weights(v: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int8], float, npt.NDArray[np.int8], float]:
    """v ≈ s1·hi + s2·lo with hi, lo int8: about 15 bits of the weights' precision."""
    top = float(np.abs(v).max()) if v.size else 0.0
    s1 = top / 127 if top > 0 else 1.0
    hi = np.clip(np.rint(v / s1), -127, 127)
    residual = v - s1 * hi
    s2 = s1 / 254
    lo = np.clip(np.rint(residual / s2), -127, 127)
    return hi.astype(np.int8), s1, lo.astype(np.int8), s2


class CompactMatrix:
    """The int8 scan copy of one float32 clip matrix (see the module docstring)."""

    def __init__(self, path: str | Path, dim: int):
        self.path = Path(path)
        self.meta_path = self.path.with_name(self.path.name + ".json")
        self.dim = int(dim)
        self.width = padded_width(dim)
        self.scale: npt.NDArray[np.float32] | None = None
        self.outliers: npt.NDArray[np.int64] = np.empty(0, np.int64)
        self._map: np.memmap[Any, np.dtype[np.int8]] | None = None
        self._map_rows = -1
        if self.meta_path.exists():
            self._read_meta()

    # -- files ---------------------------------------------------------------------------------
    def _read_meta(self) -> None:
        meta = json.loads(self.meta_path.read_text())
        if int(meta["dim"]) != self.dim or int(meta["width"]) != self.width:
            raise StorageError(f"{self.meta_path} is for {meta['dim']}-d rows, not {self.dim}; delete it to rebuild")
        self.scale = np.asarray(meta["scale"], np.float32)
        self.outliers = np.asarray(meta.get("outliers", []), np.int64)

    def _write_meta(self) -> None:
        assert self.scale is not None
        meta = {
            "dim": self.dim,
            "width": self.width,
            "scale": [float(s) for s in self.scale],
            "outliers": [int(r) for r in self.outliers],
        }
        tmp = self.meta_path.with_name(f".{self.meta_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, self.meta_path)

    def rows_on_disk(self) -> int:
        if self.scale is None:
            return 0
        try:
            return self.path.stat().st_size // self.width
        except FileNotFoundError:
            return 0

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.meta_path.unlink(missing_ok=True)
        self.scale, self._map = None, None

    # -- writing -------------------------------------------------------------------------------
    def sync(self, X: npt.NDArray[Any]) -> int:
        """Bring the copy up to the rows of X (the float32 matrix, memmap fine); return rows added.

        The first call fits the scale on all of X (two passes over it). Concurrent callers
        serialise on a lock file; the copy only ever grows by rows X already has."""
        n = X.shape[0]
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) rows, got {X.shape}")
        if self.rows_on_disk() >= n:
            return 0
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.meta_path.exists():
                self._read_meta()
            else:
                self.path.unlink(missing_ok=True)
                self.scale = fit_scale(X)
                self.outliers = np.empty(0, np.int64)
            have = self.rows_on_disk()
            if have > n:  # the float32 matrix was cut back (a failed ingest): cut the copy too
                os.truncate(self.path, n * self.width)
                self.outliers = self.outliers[self.outliers < n]
                self._write_meta()
                self._map = None
                return 0
            assert self.scale is not None
            if self.path.exists():
                os.truncate(self.path, have * self.width)  # a half row from a crash
            new_outliers = []
            with open(self.path, "ab") as f:
                for s in range(have, n, CHUNK_ROWS):
                    codes, clipped = quantise(X[s : s + CHUNK_ROWS], self.scale, self.width)
                    f.write(codes.tobytes())
                    if clipped.any():
                        new_outliers.append(np.flatnonzero(clipped) + s)
                f.flush()
                os.fsync(f.fileno())
            self.outliers = np.concatenate([self.outliers, *new_outliers]).astype(np.int64)
            self._write_meta()
            self._map = None
            refit = self.outliers.size > max(1000, REFIT_SHARE * n)
        if refit:  # the new rows outgrew the scale: write the copy again, fitted on all rows
            self.remove()
            return self.sync(X)
        return int(n - have)

    # -- reading -------------------------------------------------------------------------------
    def codes(self, rows: int) -> npt.NDArray[np.int8]:
        """A read-only (rows, width) view of the first ``rows`` codes."""
        if self.rows_on_disk() < rows:
            raise StorageError(f"{self.path} holds {self.rows_on_disk()} rows, {rows} wanted; call sync first")
        if rows == 0:
            return np.zeros((0, self.width), np.int8)
        if self._map is None or self._map_rows != rows:
            self._map = np.memmap(self.path, dtype=np.int8, mode="r", shape=(rows, self.width))
            self._map_rows = rows
        return self._map

    def dequantised(self, rows: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """The rows as the copy holds them, in float32 (for tests and error checks)."""
        assert self.scale is not None
        idx = np.asarray(rows, np.int64)
        codes = self.codes(self.rows_on_disk())[idx, : self.dim]
        return (codes.astype(np.float32) * self.scale).astype(np.float32)

    def error_bound(self, coef: npt.ArrayLike) -> float:
        """max over unclipped rows of |approximate score − float32 score| (a guarantee)."""
        assert self.scale is not None
        w = np.abs(np.asarray(coef, np.float64).reshape(-1))
        s = self.scale.astype(np.float64)
        s2 = split_weights(w * s)[3]
        data = float(np.sum(w * s) / 2)  # each code is within half a step of its value
        weights = 127 * self.dim * s2 / 2  # each folded weight within half a step of s2
        top = float(np.sum(w * s * 127.5))  # |float32 dot| ≤ this: its own rounding, with margin
        return data + weights + 1e-5 * top + 1e-6

    def error_sigma(self, coef: npt.ArrayLike) -> float:
        """Standard deviation of the approximate score's error: each code's rounding error is
        uniform on ±scale/2 (variance scale²/12), independent across dimensions."""
        assert self.scale is not None
        v = np.asarray(coef, np.float64).reshape(-1) * self.scale.astype(np.float64)
        return float(np.sqrt(np.sum(v * v) / 12))

    def scores(
        self, rows: int, coef: npt.ArrayLike, intercept: float, workers: int | None = None
    ) -> npt.NDArray[np.float32]:
        """Approximate logits for the first ``rows`` rows: ``codes @ (coef·scale) + intercept``."""
        import torch

        assert self.scale is not None
        codes = self.codes(rows)
        v = np.asarray(coef, np.float64).reshape(-1) * self.scale.astype(np.float64)
        hi, s1, lo, s2 = split_weights(v)
        w8 = np.zeros((self.width, 8), np.int8)  # 8 columns: the kernel's smallest efficient shape
        w8[: self.dim, 0], w8[: self.dim, 1] = hi, lo
        weights = torch.from_numpy(w8)
        out = np.empty(rows, np.float32)
        step = CHUNK_ROWS * 8
        threads = torch.get_num_threads()
        if workers:
            torch.set_num_threads(workers)
        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # a read-only memmap: torch only reads it
                for s in range(0, rows, step):
                    block = codes[s : s + step]
                    if len(block) <= 16:  # the int8 kernel wants more than 16 rows
                        pad = np.zeros((17, self.width), np.int8)
                        pad[: len(block)] = block
                        sums = torch._int_mm(torch.from_numpy(pad), weights).numpy()[: len(block)]
                    else:
                        sums = torch._int_mm(torch.from_numpy(np.asarray(block)), weights).numpy()
                    out[s : s + len(block)] = s1 * sums[:, 0] + s2 * sums[:, 1]
        finally:
            torch.set_num_threads(threads)
        out += np.float32(intercept)
        return out
