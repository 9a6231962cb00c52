"""The player's rendition of a clip: larger than the grid's 320-px preview (640 px, never
wider than the source shows it) and with the source's sound (Opus), rendered on first
request and kept under ``previews/`` beside the small ones.

Why a rendition and not the source file: Chromium plays none of the MPEG program streams
(.mpg) or Theora (.ogg) files a catalog holds, and the source would have to be seeked to
the clip and stopped at its end in the page. Rendering 8 s at 640 px with sound took
0.4-0.8 s on the 2-core development machine (the 320-px silent preview 0.1-0.3 s).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from .preview import preview_size, render_preview
from .probe import open_container, video_stream

PLAYER_WIDTH = 640
_LOCKS = [threading.Lock() for _ in range(64)]  # one render per clip at a time; memory does not grow with clips


def player_width(src_path: str | Path, wanted: int = PLAYER_WIDTH) -> int:
    """``wanted``, or the source's displayed width when that is smaller (no upscaling)."""
    with open_container(src_path) as source:
        stream = video_stream(source, src_path)
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            return wanted
        shown, _ = preview_size(width, height, stream.sample_aspect_ratio, width)
    return min(wanted, shown)


def player_preview_path(home: Path, clip_id: int, width: int = PLAYER_WIDTH) -> Path:
    return home / "previews" / f"{int(clip_id)}-w{int(width)}-sound.webm"


def player_preview(home: Path, clip: dict[str, Any], width: int = PLAYER_WIDTH) -> Path:
    """The clip (a catalog row: id, video_path, start_s, end_s) as the player's WebM, cached."""
    path = player_preview_path(home, clip["id"], width)
    if not path.is_file():
        with _LOCKS[int(clip["id"]) % len(_LOCKS)]:
            if not path.is_file():  # another request may have rendered it while this one waited
                out_width = player_width(clip["video_path"], width)
                render_preview(clip["video_path"], clip["start_s"], clip["end_s"], path, out_width, audio=True)
    return path
