"""The player's media: a thumbnail taken in a fade is not black, and the player's rendition
is larger than the grid's preview and carries the source's sound (read back with PyAV).
Real files, the real default model, a real SQLite workspace."""

from __future__ import annotations

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from videos import _textured_scene, write_video

from videoannotator.embed import get_embedder
from videoannotator.media.segment import KEEP_MIDDLE, detail, most_detailed
from videoannotator.server import create_app
from videoannotator.workspace import Workspace

FADE_FRAMES, HOLD_FRAMES = 60, 15  # 2.4 s fading in from black, 0.6 s held: one shot, one clip


def fade_in_frames(size=(160, 120)):
    """A textured scene fading in from black (brightness t^3: dark for most of the fade)."""
    for k, rgb in enumerate(_textured_scene(2, FADE_FRAMES + HOLD_FRAMES, size, seed=0)):
        alpha = min(1.0, k / FADE_FRAMES) ** 3
        yield (rgb.astype(np.float32) * alpha).astype(np.uint8)


@pytest.fixture(scope="module")
def ws(tmp_path_factory, sample_media):
    directory = tmp_path_factory.mktemp("player-media")
    fade = directory / "fade-in.mp4"
    write_video(fade, fade_in_frames())
    workspace = Workspace(directory / "home", embedder=get_embedder("conse-effnet-minilm"))
    workspace.ingest([fade, sample_media / "oa4_launch.webm"], progress=False)
    return workspace


@pytest.fixture(scope="module")
def client(ws):
    with TestClient(create_app(ws), base_url="http://127.0.0.1") as test_client:  # a loopback Host
        yield test_client


def clips_of(ws, name):
    return [c for c in ws.clip_spans() if str(c["path"]).endswith(name)]


def luma(path) -> float:
    return float(np.asarray(Image.open(path).convert("L"), dtype=np.float32).mean())


def test_the_thumbnail_of_a_fade_in_is_not_black(ws):
    (clip,) = clips_of(ws, "fade-in.mp4")  # the fade is one shot
    full = float(np.mean(next(iter(_textured_scene(2, 1, (160, 120), seed=0)))))
    middle = ws.catalog.videos.sample_frames(ws.clip(clip["id"])["video_id"])[0][1][1]
    assert (min(1.0, middle / FADE_FRAMES) ** 3) < 0.25  # the middle sample, the old thumbnail, is dark
    thumb = luma(ws.thumbnail(clip["id"]))
    assert thumb > 0.6 * full, f"thumbnail mean luma {thumb:.0f} of a full-brightness {full:.0f}"


def test_the_middle_frame_stays_unless_another_is_clearly_more_detailed():
    sharp = next(iter(_textured_scene(0, 1, (64, 48), seed=1)))
    softer = (sharp.astype(np.float32) * 0.9).astype(np.uint8)  # 90% of the detail: within the margin
    black = np.zeros_like(sharp)
    assert detail(black) == 0.0 and detail(sharp) > detail(softer) > KEEP_MIDDLE * detail(sharp)
    assert most_detailed([sharp, softer, sharp]) == 1
    assert most_detailed([black, black, sharp]) == 2
    assert most_detailed([sharp, black, black]) == 0
    assert most_detailed([black, black, black]) == 1


def streams(data: bytes, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(data)
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        seconds = container.duration / 1e6
        return video.codec_context.width, (audio.codec_context.name if audio else None), seconds


def test_the_player_rendition_is_larger_and_carries_the_sound(ws, client, tmp_path):
    clip = clips_of(ws, "oa4_launch.webm")[0]
    with av.open(str(clip["path"])) as source:
        assert source.streams.audio  # the source has sound
    small = client.get(f"/media/clips/{clip['id']}/preview.webm")
    large = client.get(f"/media/clips/{clip['id']}/player.webm")
    assert small.status_code == large.status_code == 200 and large.headers["content-type"] == "video/webm"
    small_width, small_audio, _ = streams(small.content, tmp_path, "small.webm")
    large_width, large_audio, seconds = streams(large.content, tmp_path, "large.webm")
    assert (small_width, small_audio) == (320, None)  # the grid's hover preview stays silent
    assert (large_width, large_audio) == (640, "opus")
    assert abs(seconds - (clip["end_s"] - clip["start_s"])) < 0.1
    assert client.get(f"/media/clips/{clip['id']}/player.webm").content == large.content  # cached, not re-rendered


def test_a_silent_source_gives_a_silent_player_rendition_no_wider_than_itself(ws, client, tmp_path):
    (clip,) = clips_of(ws, "fade-in.mp4")
    response = client.get(f"/media/clips/{clip['id']}/player.webm")
    assert response.status_code == 200
    assert streams(response.content, tmp_path, "fade.webm")[:2] == (160, None)  # the source is 160 px wide


def test_an_unknown_clip_has_no_player_rendition(client):
    response = client.get("/media/clips/999999/player.webm")
    assert response.status_code == 404 and "no clip with id 999999" in response.json()["error"]["message"]


def test_the_player_rendition_needs_the_token_when_one_is_set(ws):
    clip = clips_of(ws, "oa4_launch.webm")[0]
    token = "player-test-token-0123456789"
    with TestClient(create_app(ws, token=token), base_url="http://127.0.0.1") as guarded:
        refused = guarded.get(f"/media/clips/{clip['id']}/player.webm")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        allowed = guarded.get(f"/media/clips/{clip['id']}/player.webm", headers={"authorization": f"Bearer {token}"})
        assert allowed.status_code == 200 and allowed.headers["content-type"] == "video/webm"
