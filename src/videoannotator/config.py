"""Every setting in one place: a default, an environment variable (VA_<NAME>), one doc line.

``Settings.from_env()`` reads the environment; the CLI and server may override fields.
``va config`` prints them all. A test checks each field here is documented in docs/config.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar, overload

_T = TypeVar("_T")


def _default_home() -> str:
    return str(Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "videoannotator")


def _default_cache() -> str:
    return str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "videoannotator")


@overload
def setting(default: Callable[[], _T], doc: str) -> _T: ...
@overload
def setting(default: _T, doc: str) -> _T: ...
def setting(default: Any, doc: str) -> Any:
    """A dataclass field carrying its one-line doc (``default``: a value, or a function that makes one)."""
    if callable(default):
        return field(default_factory=default, metadata={"doc": doc})
    return field(default=default, metadata={"doc": doc})


@dataclass
class Settings:
    home: str = setting(_default_home, "Workspace directory: catalog, vectors, thumbnails, models.")
    cache: str = setting(
        _default_cache,
        "Cache: downloaded sample media, the default model's class vectors, evaluation embeddings and results.",
    )
    embedder: str = setting(
        "",
        "Embedder: empty = the workspace's own (new workspaces: 'conse-effnet-minilm', offline); or 'hf:<hub id or local dir>'.",
    )
    device: str = setting("cpu", "Torch device for embedding: 'cpu', 'cuda', 'cuda:1', ...")
    batch_size: int = setting(32, "Frames per embedding batch.")
    frames_per_clip: int = setting(3, "Frames sampled per clip (spread over the clip) and mean-pooled into its vector.")
    min_shot_seconds: float = setting(0.5, "Shots shorter than this are merged into their neighbour.")
    max_clip_seconds: float = setting(10.0, "Long shots are split into clips of at most this many seconds.")
    shot_detector: str = setting(
        "auto",
        "Shot detector: 'auto' (transnetv2 where VA_DEVICE is a GPU and the transnetv2 extra is installed, else adaptive), 'adaptive' (content change against its neighbours: few false cuts on motion), 'content' (fast; misses cuts between similar-looking shots), 'content-edges' (also finds those, but cuts on animation), 'transnetv2' (a network: best on dissolves and fades; ~1x real time on 2 CPU cores).",
    )
    shot_threshold: float = setting(
        0.0,
        "Detector threshold (lower finds more cuts); 0 = the detector's default (adaptive 3, content 27, content-edges 15: PySceneDetect's scales; transnetv2 0.5, a probability).",
    )
    detect_width: int = setting(160, "Frames are downscaled to this width for shot detection.")
    thumb_width: int = setting(
        320,
        "Width of clip thumbnails and grid previews in pixels (the player's rendition is 640 px, or the source's width).",
    )
    max_pixels: int = setting(
        8192 * 8192,
        "Pixel budget: a video whose picture (width x height) is larger is refused at ingest with one line; the default admits 8K (7680x4320) and 8192x8192. Pictures above 2048 wide are decoded at reduced size where the codec allows (MPEG-1/2/4, MJPEG).",
    )

    threshold_rule: str = setting(
        "f1",
        "How a Build picks its decision threshold on out-of-fold scores: 'f1' (the F1-best), 'precision>=0.9' or 'recall>=0.8' (any target).",
    )
    drift_warn_psi: float = setting(
        0.25,
        "Monitoring warns when a deployed version's new scores drift this far from its corpus (PSI; 0.1 small, 0.25 large).",
    )
    min_live_precision: float = setting(
        0.7, "Monitoring warns when the live precision measured on the production feed's annotations falls below this."
    )

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            env = os.environ.get("VA_" + f.name.upper())
            if env is not None:
                values[f.name] = _coerce(f.type, env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def docs(cls) -> list[tuple[str, str, object, str]]:
        """(name, env var, default, doc) for each setting."""
        out: list[tuple[str, str, object, str]] = []
        for f in fields(cls):
            default = f.default_factory() if callable(f.default_factory) else f.default
            out.append((f.name, "VA_" + f.name.upper(), default, f.metadata["doc"]))
        return out


def _coerce(type_name: str | type[Any], raw: str) -> int | float | str:
    t = type_name if isinstance(type_name, str) else type_name.__name__
    if t == "int":
        return int(raw)
    if t == "float":
        return float(raw)
    return raw
