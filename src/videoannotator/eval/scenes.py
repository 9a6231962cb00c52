"""Generated suites that look like the paper's labels: camera motion, shot scale, rare labels,
several subjects per clip.

Each generator writes ``n_videos`` H.264 videos (320x240, 25 fps) and a ``truth.json`` in
the workspace-suite format of ``eval/slideshow.py`` (labels with description and keywords;
shots with video, start, end, start_frame, end_frame, labels; cuts per video; fps), plus
what each shot shows (``move``, ``scale``, ``subjects``, ...). Same seed, same bytes of
truth; different seeds draw different images (``scene_render``: disjoint Fashion-MNIST
blocks, and disjoint photo halves for an even and an odd seed). Decisions are made on
seed 1, numbers reported on seed 0.

camera-motion  photos and Fashion-MNIST items on textured/coloured backdrops, filmed
               static, panning (left/right/up/down, slow or fast), zooming (in/out) or
               handheld (small fast shake). Labels pan, zoom, handheld; static is negative
               for all. Every photo appears with every move, items are drawn independently
               of it, every move frames the scene alike, and 40% of shots, whatever the
               move, have an item crossing the scene: object motion that is not camera
               motion. Only the camera's motion tells the labels apart.
shot-scale     each subject (a tinted, textured Fashion-MNIST item or a photo cut-out)
               three times: filling the frame (close-up), smaller (medium), small (wide),
               against a photo (40%) or a texture or gradient. Labels close-up and wide;
               medium is negative for both (the hard case between them). Sizes: ``SCALES``.
rare           Fashion-MNIST items on backdrops, moving cameras, photo shots with no item;
               8 labels, three of them (trousers, sandal, ankle-boot) on 2.5% of shots,
               spread evenly over the videos.
multi-subject  one item, two items side by side (the shot has both items' labels), or two
               items joined by a slow dissolve: a cut the product's shot detection misses on
               purpose, so the truth records one shot with both items' labels and no cut.
footage        the held-back suite as the issue describes it: 8 one-class labels (trousers,
               pullover, dress, coat, sandal, shirt, sneaker, bag) on about 4% of shots each;
               30% photo shots and the T-shirts and ankle boots carry none; one item, two side
               by side or two joined by a dissolve (a missed cut); moving cameras.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInput
from . import scene_render as sr
from .scene_render import Image8

FPS = 25

MOTION_LABELS = {
    "pan": (
        "The camera pans or tilts: it turns sideways or up and down, so the whole scene slides across the frame",
        ("pan", "panning shot", "camera pans", "tilt", "sweeping camera"),
    ),
    "zoom": (
        "The camera zooms in or out: the scene steadily grows or shrinks in the frame",
        ("zoom", "zoom in", "zoom out", "push in", "pull back"),
    ),
    "handheld": (
        "Handheld camera: the picture shakes and jitters a little all the time, as when the camera is held by hand",
        ("handheld", "shaky camera", "camera shake", "jittery footage"),
    ),
}
SCALE_LABELS = {
    "close-up": (
        "A close-up: the subject fills the frame, seen from very near",
        ("close-up", "closeup", "detail shot", "tight shot"),
    ),
    "wide": (
        "A wide shot: the subject is small in a large setting, seen from far away",
        ("wide shot", "long shot", "establishing shot", "seen from afar"),
    ),
}
# The subject's size per scale: close-up, its bounding box 0.9-1.3x as large as it takes to
# cover the frame (a close crop); medium and wide, 35-70% and 8-22% of as large as fits in it.
SCALES = {"close-up": (0.9, 1.3), "medium": (0.35, 0.7), "wide": (0.08, 0.22)}
SCALE_PHOTO_BACKDROP = 0.4  # shot-scale: share of shots set against a photo rather than a texture or gradient


def subject_height(scale: str, subject_hw: tuple[int, int], view_wh: tuple[float, float], u: float) -> float:
    """The height to paste a subject of shape ``subject_hw`` at, for ``scale``; u in [0, 1] picks in its range."""
    lo, hi = SCALES[scale]
    factor = lo + (hi - lo) * u
    (h, w), (vw, vh) = subject_hw, view_wh
    fit = min(vh / h, vw / w) if scale != "close-up" else max(vh / h, vw / w)
    return factor * fit * h


RARE_SHARE = 0.025  # of shots, for each rare label


@dataclass
class Shot:
    """One planned shot: its length, labels, what the truth records, and how to draw it."""

    n: int
    labels: tuple[str, ...]
    draw: Callable[[], list[Image8]]
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """A generated suite before any frame is drawn: its videos' shots and its labels."""

    suite: str
    seed: int
    videos: list[list[Shot]]
    labels: Mapping[str, tuple[str, tuple[str, ...]]]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SuiteSpec:
    plan: Callable[..., Plan]
    videos: int
    shots: int
    about: str


def _fashion_labels() -> dict[str, tuple[str, tuple[str, ...], tuple[int, ...]]]:
    from .fashion import CONCEPTS

    return {c.name: (c.description, c.keywords, c.classes) for c in CONCEPTS if c.rare_rate is None}


def _length(rng: np.random.Generator, seconds: tuple[float, float]) -> int:
    return round(rng.uniform(*seconds) * FPS)


def _truth(plan: Plan) -> dict[str, Any]:
    """The truth file's content for a plan (shots back to back in each video, hard cuts between)."""
    truth: dict[str, Any] = {
        "suite": plan.suite,
        "seed": plan.seed,
        "labels": {name: {"description": d, "keywords": list(k)} for name, (d, k) in plan.labels.items()},
        "shots": [],
        "cuts": {},
        "fps": FPS,
        "params": {
            "videos": len(plan.videos),
            "shots": max((len(v) for v in plan.videos), default=0),
            **plan.extra,
        },
    }
    for v, shots in enumerate(plan.videos):
        name = f"{plan.suite}-{v:02d}.mp4"
        start = 0
        cuts = []
        for shot in shots:
            if start:
                cuts.append(start)
            truth["shots"].append(
                {
                    "video": name,
                    "start_frame": start,
                    "end_frame": start + shot.n,
                    "start": round(start / FPS, 4),
                    "end": round((start + shot.n) / FPS, 4),
                    "labels": sorted(shot.labels),
                    **shot.info,
                }
            )
            start += shot.n
        truth["cuts"][name] = cuts
    return truth


def _write(folder: str | os.PathLike[str], plan: Plan) -> Path:
    """Draw and encode every video of a plan, then write its truth.json (with what drawing measured)."""
    from .slideshow import write_video

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for v, shots in enumerate(plan.videos):

        def frames(shots: list[Shot] = shots) -> Iterator[Image8]:
            for shot in shots:
                drawn = shot.draw()
                if len(drawn) != shot.n:
                    raise AssertionError(f"a shot drew {len(drawn)} frames, planned {shot.n}")
                yield from drawn

        write_video(folder / f"{plan.suite}-{v:02d}.mp4", frames(), FPS)
    out = folder / "truth.json"
    out.write_text(json.dumps(_truth(plan), indent=1))
    return out


def _chunks(shots: list[Shot], n_videos: int) -> list[list[Shot]]:
    per = -(-len(shots) // n_videos)
    return [shots[i * per : (i + 1) * per] for i in range(n_videos)]


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([abs(int(k)) for k in key])


# --- camera-motion -------------------------------------------------------------------------


def _items_canvas(
    rng: np.random.Generator, subjects: list[tuple[Image8, sr.Alpha]], heights: list[float], xs: list[float]
) -> tuple[Image8, np.ndarray, str]:
    """A backdrop with cut-outs pasted at canvas-centre height, at x = xs (shares of the width)."""
    canvas, kind = sr.background(rng)
    W, H = sr.CANVAS
    alpha = np.zeros((H, W), dtype=np.float32)
    for subject, h, x in zip(subjects, heights, xs):
        a = sr.paste(canvas, subject, x * W, H / 2 + rng.uniform(-0.05, 0.05) * H, h)
        alpha = np.maximum(alpha, a)
    return canvas, alpha, kind


def _motion_shot(
    seed: int, i: int, n: int, move: str, source: str | tuple[int, ...], items: np.ndarray, mover: int | None
) -> list[Image8]:
    """Shot i of the camera-motion suite: a photo, or items (block positions) on a backdrop;
    ``mover``, an item (block position) crossing the scene whatever the camera does."""
    rng = _rng(102, seed, i)
    if isinstance(source, str):
        canvas = sr.photo_scene(rng, source)
    else:
        subs = [sr.fashion_subject(rng, items[j]) for j in source]
        xs = [0.5] if len(subs) == 1 else list(np.linspace(0.3, 0.7, len(subs)))
        heights = [sr.CANVAS[1] * rng.uniform(0.3, 0.55) for _ in subs]
        canvas, _, _ = _items_canvas(rng, subs, heights, [x + rng.uniform(-0.08, 0.08) for x in xs])
    path = sr.camera_path(move, n, rng)
    moving = None
    if mover is not None:
        subject = sr.sized(sr.fashion_subject(rng, items[mover]), sr.CANVAS[1] * rng.uniform(0.2, 0.4))
        moving = (subject, sr.subject_track(rng, path, n, MOVER_SPEED))
    return sr.film(canvas, path, mover=moving)


MOVER_SHARE = 0.4  # camera-motion: shots with an item crossing the scene (object motion, not camera motion)
MOVER_SPEED = (1.0, 5.0)  # frame pixels a frame


def plan_camera_motion(
    seed: int = 0,
    n_videos: int = 8,
    shots_per_video: int = 75,
    images_dir: str | None = None,
) -> Plan:
    """Videos whose shots differ only in how the camera moves; returns truth.json."""
    plan = _rng(101, seed)
    total = n_videos * shots_per_video
    photos = sr.photo_names(seed)
    items, _ = sr.fashion_block(seed, images_dir)
    item_rows = sr.fashion_rows(seed)
    kinds = ("pan", "zoom", "handheld", "static")
    # Every (motion, source) pair equally often, in a random order.
    combos = [(m, s) for m in kinds for s in ("photo", "items")]
    order = [combos[i] for i in plan.permutation(np.resize(np.arange(len(combos)), total))]
    seen = dict.fromkeys(kinds, 0)
    next_item = 0
    shots: list[Shot] = []
    for i, (kind, source) in enumerate(order):
        move = {
            "pan": ("pan-left", "pan-right", "pan-up", "pan-down")[int(plan.integers(4))],
            "zoom": ("zoom-in", "zoom-out")[int(plan.integers(2))],
        }.get(kind, kind)
        n = _length(plan, (1.6, 3.0))
        info: dict[str, Any] = {"move": move}
        if source == "photo":
            # Each motion kind walks the photos in turn: every photo gets every motion.
            name = photos[(seen[kind] + i) % len(photos)]
            seen[kind] += 1
            info["subjects"] = [f"photo:{name}"]
        else:
            k = int(plan.integers(1, 4))
            picked = tuple(range(next_item, next_item + k))
            next_item += k
            info["subjects"] = [f"fashion:{int(item_rows[j])}" for j in picked]
        source_of = info["subjects"][0].split(":", 1)[1] if source == "photo" else picked
        mover = None
        if plan.uniform() < MOVER_SHARE:
            mover = next_item
            next_item += 1
            info["mover"] = f"fashion:{int(item_rows[mover])}"
        draw = functools.partial(_motion_shot, seed, i, n, move, source_of, items, mover)
        shots.append(Shot(n, () if kind == "static" else (kind,), draw, info))
    return Plan("camera-motion", seed, _chunks(shots, n_videos), MOTION_LABELS)


# --- shot-scale ----------------------------------------------------------------------------


def _subject(seed: int, key: str, items: np.ndarray, index_of: dict[int, int]) -> tuple[Image8, sr.Alpha]:
    """The cut-out of subject ``key`` - the same colours and crop every time it is drawn."""
    kind, ident = key.split(":", 1)
    if kind == "fashion":
        return sr.fashion_subject(_rng(202, seed, int(ident)), items[index_of[int(ident)]], detail=True)
    name, _, variant = ident.partition("#")
    return sr.photo_subject(_rng(203, seed, sr.PHOTO_INDEX[name], int(variant or 0)), name)


def _scale_shot(
    seed: int,
    i: int,
    n: int,
    key: str,
    scale: str,
    move: str,
    backdrop: str | None,
    info: dict[str, Any],
    items: np.ndarray,
    index_of: dict[int, int],
) -> list[Image8]:
    """Shot i of the shot-scale suite: subject ``key`` at ``scale`` on a backdrop (a photo, or
    a texture or gradient); records the subject's share of the frame in ``info``."""
    rng = _rng(204, seed, i)
    W, H = sr.CANVAS
    path = sr.camera_path(move, n, rng, width=(0.55, 0.68), centre=(W / 2, H / 2))
    cx, cy, w = path[0]
    vw, vh = w, w * sr.FRAME[1] / sr.FRAME[0]
    subject = _subject(seed, key, items, index_of)
    height = subject_height(scale, subject[1].shape, (vw, vh), rng.uniform())
    sw = height * subject[0].shape[1] / subject[0].shape[0]
    if scale == "close-up":
        ox, oy = rng.uniform(-0.08, 0.08, 2) * (vw, vh)
    else:
        room_x, room_y = max(0.0, (vw - sw) / 2 - 0.06 * vw), max(0.0, (vh - height) / 2 - 0.06 * vh)
        ox, oy = rng.uniform(-room_x, room_x), rng.uniform(-room_y, room_y)
    if backdrop:
        canvas = sr.photo_scene(rng, backdrop)
    else:
        canvas, info["background"] = sr.background(rng)
    alpha = sr.paste(canvas, subject, cx + ox, cy + oy, height)
    info["subject_share"] = round(sr.view_share(alpha, path), 4)
    return sr.film(canvas, path)


def plan_shot_scale(
    seed: int = 0,
    n_videos: int = 8,
    shots_per_video: int = 75,
    images_dir: str | None = None,
) -> Plan:
    """Each subject as a close-up, a medium and a wide shot, in shuffled order; returns truth.json."""
    plan = _rng(201, seed)
    total = n_videos * shots_per_video
    photos = sr.photo_names(seed)
    items, _ = sr.fashion_block(seed, images_dir)
    item_rows = sr.fashion_rows(seed)
    index_of = {int(r): j for j, r in enumerate(item_rows)}
    n_subjects = -(-total // 3)
    keys: list[str] = []
    for s in range(n_subjects):
        if plan.uniform() < 0.3:
            keys.append(f"photo:{photos[s % len(photos)]}#{s}")
        else:
            keys.append(f"fashion:{int(item_rows[s])}")
    planned = [(key, scale) for key in keys for scale in SCALES]
    planned = [planned[j] for j in plan.permutation(len(planned))][:total]
    shots: list[Shot] = []
    for i, (key, scale) in enumerate(planned):
        n = _length(plan, (1.2, 2.6))
        move = "handheld" if plan.uniform() < 0.35 else "static"
        backdrop = photos[int(plan.integers(len(photos)))] if plan.uniform() < SCALE_PHOTO_BACKDROP else None
        info: dict[str, Any] = {"scale": scale, "move": move, "subjects": [key]}
        if backdrop:
            info["background"] = f"photo:{backdrop}"
        draw = functools.partial(_scale_shot, seed, i, n, key, scale, move, backdrop, info, items, index_of)
        shots.append(Shot(n, () if scale == "medium" else (scale,), draw, info))
    return Plan("shot-scale", seed, _chunks(shots, n_videos), SCALE_LABELS)


# --- rare and multi-subject: Fashion-MNIST items in moving shots ---------------------------

LABEL_MOVES = ("static", "static", "handheld", "zoom-in", "zoom-out")


def _items_shot(
    seed: int, salt: int, n: int, move: str, rows: list[int], items: np.ndarray, index_of: dict[int, int]
) -> list[Image8]:
    """Items side by side on a backdrop, the camera held on them (static, handheld or zoom)."""
    rng = _rng(salt, seed, *rows, n)
    W, H = sr.CANVAS
    path = sr.camera_path(move, n, rng, width=(0.55, 0.7), centre=(W / 2, H / 2))
    vw = float(path[:, 2].min())
    vh = vw * sr.FRAME[1] / sr.FRAME[0]
    subs = [sr.fashion_subject(rng, items[index_of[r]]) for r in rows]
    k = len(subs)
    heights = [vh * rng.uniform(0.45, 0.7) if k == 1 else vh * rng.uniform(0.4, 0.55) for _ in subs]
    if k == 1:
        xs = [0.5 + rng.uniform(-0.12, 0.12) * vw / W]
    else:
        xs = [0.5 + (j - (k - 1) / 2) * 0.46 * vw / W for j in range(k)]
    canvas, _, _ = _items_canvas(rng, subs, heights, xs)
    return sr.film(canvas, path)


def _photo_shot(seed: int, salt: int, n: int, move: str, name: str) -> list[Image8]:
    rng = _rng(salt, seed, sr.PHOTO_INDEX[name], n)
    return sr.film(sr.photo_scene(rng, name), sr.camera_path(move, n, rng))


RARE_LABELS = ("upper-body", "shirt", "dress", "bag", "footwear", "trousers", "sandal", "ankle-boot")
RARE_CLASSES = (1, 5, 9)  # trousers, sandal, ankle-boot: each on RARE_SHARE of shots
COMMON_CLASSES = (0, 2, 3, 4, 6, 7, 8)
PHOTO_SHARE = 0.2  # rare suite: shots of a photo, with no item and no label


def plan_rare(
    seed: int = 0,
    n_videos: int = 8,
    shots_per_video: int = 100,
    images_dir: str | None = None,
) -> Plan:
    """8 Fashion-MNIST labels, three of them on 2.5% of shots; photo shots show none."""
    plan = _rng(301, seed)
    total = n_videos * shots_per_video
    fl = _fashion_labels()
    labels = {name: fl[name] for name in RARE_LABELS if name in fl}
    labels["sandal"] = ("Sandals", ("sandal", "flip-flop"), (5,))
    labels["ankle-boot"] = ("Ankle boots", ("ankle boot", "boot"), (9,))
    items, classes = sr.fashion_block(seed, images_dir)
    item_rows = sr.fashion_rows(seed)
    index_of = {int(r): j for j, r in enumerate(item_rows)}
    by_class = {c: [int(item_rows[j]) for j in np.flatnonzero(classes == c)] for c in range(10)}
    n_rare = max(1, int(total * RARE_SHARE))
    photos_per_video = int(shots_per_video * PHOTO_SHARE)
    # Rare shots spread evenly: the r-th shot of a rare class goes to video (r + class) % n_videos.
    per_video: list[list[tuple[str, int]]] = [[] for _ in range(n_videos)]
    for c in RARE_CLASSES:
        for r in range(n_rare):
            per_video[(r + c) % n_videos].append(("item", c))
    photos = sr.photo_names(seed)
    for v in range(n_videos):
        per_video[v] += [("photo", int(plan.integers(len(photos)))) for _ in range(photos_per_video)]
        while len(per_video[v]) < shots_per_video:
            per_video[v].append(("item", int(COMMON_CLASSES[int(plan.integers(len(COMMON_CLASSES)))])))
        per_video[v] = [per_video[v][j] for j in plan.permutation(len(per_video[v]))]
    taken = dict.fromkeys(range(10), 0)
    videos: list[list[Shot]] = []
    for v, planned in enumerate(per_video):
        shots: list[Shot] = []
        for kind, what in planned:
            n = _length(plan, (1.2, 2.6))
            move = LABEL_MOVES[int(plan.integers(len(LABEL_MOVES)))]
            if kind == "photo":
                name = photos[what]
                salt = 302 + 1000 * v + len(shots)
                draw = functools.partial(_photo_shot, seed, salt, n, move, name)
                shots.append(Shot(n, (), draw, {"move": move, "subjects": [f"photo:{name}"]}))
                continue
            if taken[what] >= len(by_class[what]):
                raise InvalidInput(f"the rare suite ran out of Fashion-MNIST images of class {what}; ask fewer shots")
            row = by_class[what][taken[what]]
            taken[what] += 1
            names = tuple(name for name, (_, _, cls) in labels.items() if what in cls)
            draw = functools.partial(_items_shot, seed, 303, n, move, [row], items, index_of)
            shots.append(Shot(n, names, draw, {"move": move, "subjects": [f"fashion:{row}"], "classes": [what]}))
        videos.append(shots)
    return Plan("rare", seed, videos, {k: (d, kw) for k, (d, kw, _) in labels.items()}, {"rare_share": RARE_SHARE})


def _dissolve_shot(
    seed: int,
    hold_a: int,
    fade: int,
    hold_b: int,
    moves: tuple[str, str],
    rows: tuple[int, int],
    items: np.ndarray,
    index_of: dict[int, int],
) -> list[Image8]:
    """Item A, a slow cross-fade, item B: one shot to the product's shot detection."""
    first = _items_shot(seed, 404, hold_a + fade, moves[0], [rows[0]], items, index_of)
    second = _items_shot(seed, 405, fade + hold_b, moves[1], [rows[1]], items, index_of)
    return sr.cross_fade(first, second, fade)


MULTI_KINDS = (("single", 0.55), ("side-by-side", 0.25), ("dissolve", 0.2))


def _fashion_shot(
    plan: np.random.Generator,
    kind: str,
    move: str,
    take: Callable[[], tuple[int, set[str]]],
    info: dict[str, Any],
    salts: tuple[int, int, int],
    seconds: tuple[float, float],
    items: np.ndarray,
    index_of: dict[int, int],
) -> tuple[int, set[str], Callable[[], list[Image8]]]:
    """A shot of Fashion-MNIST items for the multi-subject and footage suites: one item
    ("single"), two side by side ("side-by-side"), or two joined by a dissolve that hides a cut
    (anything else; ``info["missed_cut"]`` = frames into the shot to the dissolve's middle).
    ``salts`` = (seed, single's salt, side-by-side's salt). Returns (frames, label names, draw)."""
    seed, single_salt, pair_salt = salts
    if kind == "single":
        row, names = take()
        n = _length(plan, seconds)
        info["subjects"] = [f"fashion:{row}"]
        return n, names, functools.partial(_items_shot, seed, single_salt, n, move, [row], items, index_of)
    (r1, n1), (r2, n2) = take(), take()
    info["subjects"] = [f"fashion:{r1}", f"fashion:{r2}"]
    if kind == "side-by-side":
        n = _length(plan, seconds)
        return n, n1 | n2, functools.partial(_items_shot, seed, pair_salt, n, move, [r1, r2], items, index_of)
    hold_a, hold_b = _length(plan, (0.8, 1.4)), _length(plan, (0.8, 1.4))
    fade = _length(plan, (1.0, 1.6))
    move_b = LABEL_MOVES[int(plan.integers(len(LABEL_MOVES)))]
    info["missed_cut"] = hold_a + fade // 2
    draw = functools.partial(_dissolve_shot, seed, hold_a, fade, hold_b, (move, move_b), (r1, r2), items, index_of)
    return hold_a + fade + hold_b, n1 | n2, draw


def plan_multi_subject(
    seed: int = 0,
    n_videos: int = 8,
    shots_per_video: int = 75,
    images_dir: str | None = None,
) -> Plan:
    """Shots of one item, two side by side, or two joined by a dissolve (a missed cut)."""
    plan = _rng(401, seed)
    fl = _fashion_labels()
    items, classes = sr.fashion_block(seed, images_dir)
    item_rows = sr.fashion_rows(seed)
    index_of = {int(r): j for j, r in enumerate(item_rows)}
    next_item = 0

    def take() -> tuple[int, set[str]]:
        nonlocal next_item
        if next_item >= len(item_rows):
            raise InvalidInput("the multi-subject suite ran out of Fashion-MNIST images; ask fewer shots")
        j = next_item
        next_item += 1
        return int(item_rows[j]), {name for name, (_, _, cls) in fl.items() if int(classes[j]) in cls}

    kinds = [k for k, _ in MULTI_KINDS]
    weights = np.asarray([w for _, w in MULTI_KINDS])
    videos: list[list[Shot]] = []
    for _v in range(n_videos):
        shots: list[Shot] = []
        for _s in range(shots_per_video):
            kind = kinds[int(plan.choice(len(kinds), p=weights))]
            move = LABEL_MOVES[int(plan.integers(len(LABEL_MOVES)))]
            info: dict[str, Any] = {"kind": kind, "move": move}
            n, names, draw = _fashion_shot(plan, kind, move, take, info, (seed, 402, 403), (1.2, 2.6), items, index_of)
            shots.append(Shot(n, tuple(sorted(names)), draw, info))
        videos.append(shots)
    return Plan("multi-subject", seed, videos, {k: (d, kw) for k, (d, kw, _) in fl.items()})


FOOTAGE_LABELS: dict[str, tuple[str, tuple[str, ...], tuple[int, ...]]] = {
    "trousers": ("Trousers: long pants", ("trousers", "jeans", "pants"), (1,)),
    "pullover": ("A pullover: a knitted sweater", ("pullover", "sweater", "jumper"), (2,)),
    "dress": ("A dress", ("dress", "gown", "frock"), (3,)),
    "coat": ("A coat or a jacket", ("coat", "jacket", "overcoat"), (4,)),
    "sandal": ("Sandals", ("sandal", "flip-flop"), (5,)),
    "shirt": ("A shirt with a collar and buttons", ("shirt", "blouse", "collar"), (6,)),
    "sneaker": ("Sneakers: sports shoes", ("sneaker", "running shoe", "trainer"), (7,)),
    "bag": ("A bag", ("handbag", "purse", "bag", "tote"), (8,)),
}
FOOTAGE_KINDS = (("photo", 0.3), ("single", 0.45), ("side-by-side", 0.15), ("dissolve", 0.1))
FOOTAGE_LABELLED_SHARE = 0.042  # of items, for each labelled class; the rest are T-shirts and ankle boots


def plan_footage(
    seed: int = 0,
    n_videos: int = 8,
    shots_per_video: int = 100,
    images_dir: str | None = None,
) -> Plan:
    """Like the held-back suite: 8 one-class labels on about 4% of shots each, photo shots with
    no label, one or two items a shot, dissolves that hide a cut, moving cameras."""
    plan = _rng(501, seed)
    items, classes = sr.fashion_block(seed, images_dir)
    item_rows = sr.fashion_rows(seed)
    index_of = {int(r): j for j, r in enumerate(item_rows)}
    by_class = {c: [int(item_rows[j]) for j in np.flatnonzero(classes == c)] for c in range(10)}
    taken = dict.fromkeys(range(10), 0)
    labelled = [c for _, _, cls in FOOTAGE_LABELS.values() for c in cls]
    others = [c for c in range(10) if c not in labelled]
    p_class = np.asarray([FOOTAGE_LABELLED_SHARE if c in labelled else 0.0 for c in range(10)])
    p_class[others] = (1 - p_class.sum()) / len(others)
    photos = sr.photo_names(seed)

    def take() -> tuple[int, set[str]]:
        c = int(plan.choice(10, p=p_class))
        if taken[c] >= len(by_class[c]):
            raise InvalidInput("the footage suite ran out of Fashion-MNIST images; ask fewer shots")
        row = by_class[c][taken[c]]
        taken[c] += 1
        return row, {name for name, (_, _, cls) in FOOTAGE_LABELS.items() if c in cls}

    kinds = [k for k, _ in FOOTAGE_KINDS]
    weights = np.asarray([w for _, w in FOOTAGE_KINDS])
    videos: list[list[Shot]] = []
    for v in range(n_videos):
        shots: list[Shot] = []
        for _s in range(shots_per_video):
            kind = kinds[int(plan.choice(len(kinds), p=weights))]
            move = LABEL_MOVES[int(plan.integers(len(LABEL_MOVES)))]
            info: dict[str, Any] = {"kind": kind, "move": move}
            names: set[str] = set()
            draw: Callable[[], list[Image8]]
            if kind == "photo":
                name = photos[int(plan.integers(len(photos)))]
                n = _length(plan, (1.2, 3.0))
                info["subjects"] = [f"photo:{name}"]
                draw = functools.partial(_photo_shot, seed, 502 + 1000 * v + len(shots), n, move, name)
            else:
                n, names, draw = _fashion_shot(
                    plan, kind, move, take, info, (seed, 503, 504), (1.2, 3.0), items, index_of
                )
            shots.append(Shot(n, tuple(sorted(names)), draw, info))
        videos.append(shots)
    return Plan("footage", seed, videos, {k: (d, kw) for k, (d, kw, _) in FOOTAGE_LABELS.items()})


SCENE_SUITES: dict[str, SuiteSpec] = {
    "camera-motion": SuiteSpec(plan_camera_motion, 8, 75, "pan / zoom / handheld / static shots of photos and items"),
    "shot-scale": SuiteSpec(plan_shot_scale, 8, 75, "each subject as a close-up, a medium and a wide shot"),
    "rare": SuiteSpec(plan_rare, 8, 100, "8 labels, three on 2.5% of shots"),
    "multi-subject": SuiteSpec(plan_multi_subject, 8, 75, "one or two items a shot; dissolves that hide a cut"),
    "footage": SuiteSpec(plan_footage, 8, 100, "like the held-back suite: 8 labels on ~4% of shots, missed cuts"),
}


def plan(
    suite: str,
    seed: int = 0,
    n_videos: int | None = None,
    shots_per_video: int | None = None,
    images_dir: str | None = None,
) -> Plan:
    """Suite ``suite``'s plan (sizes default to the suite's); nothing is drawn yet."""
    spec = SCENE_SUITES.get(suite)
    if spec is None:
        raise InvalidInput(f"unknown generated suite {suite!r}; one of {', '.join(SCENE_SUITES)}")
    videos = spec.videos if n_videos is None else n_videos
    shots = spec.shots if shots_per_video is None else shots_per_video
    if videos < 1 or shots < 1:
        raise InvalidInput("a generated suite needs at least one video of one shot")
    return spec.plan(seed, videos, shots, images_dir)


def plan_truth(suite: str, seed: int = 0, n_videos: int | None = None, shots_per_video: int | None = None) -> dict:
    """The truth a suite would get, without drawing a frame (what was drawn, e.g. subject_share, is absent)."""
    return _truth(plan(suite, seed, n_videos, shots_per_video))


def generate(
    suite: str,
    folder: str | os.PathLike[str],
    seed: int = 0,
    n_videos: int | None = None,
    shots_per_video: int | None = None,
    images_dir: str | None = None,
) -> Path:
    """Write suite ``suite``'s videos and truth.json to ``folder``; returns the truth file."""
    return _write(folder, plan(suite, seed, n_videos, shots_per_video, images_dir))
