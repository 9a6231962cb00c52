"""Drawing generated footage: image sources, backgrounds, subjects, and a moving camera.

The generated suites (``eval/scenes.py``) build each shot as a *canvas* - a still larger
than the frame (a photo, or subjects pasted on a background) - and film it through a
*camera path*: one view box per frame, in canvas pixels. Moving the box pans, shrinking it
zooms in, jittering it is a handheld camera. Everything is drawn from a numpy Generator,
so a seed gives the same pixels every time.

Sources (all installed from package registries, none downloaded at run time):

- Fashion-MNIST items (Debian ``dataset-fashion-mnist``), tinted and cut out by their own
  intensity, as *subjects*. Seed s takes its own block of images (``fashion_block``), so
  seed 0 (the report set) and seed 1 (the decision set) share no item.
- scikit-image's photos (``skimage.data``), as *scenes* and photo cut-outs; they come in
  pairs of which even seeds take the first and odd seeds the second (``photo_names``).
- scikit-image's textures (grass, gravel, brick), tinted, and noisy colour gradients, as
  *backgrounds*. Backgrounds are shared by all seeds: they never carry a label.
"""

from __future__ import annotations

import colorsys
import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput

Image8 = npt.NDArray[np.uint8]  # RGB (H, W, 3)
Alpha = npt.NDArray[np.float32]  # (H, W) in [0, 1]
Path3 = npt.NDArray[np.float64]  # (n, 3): view box centre x, centre y, width (canvas pixels)

FRAME = (320, 240)  # output width, height
CANVAS = (640, 480)  # a scene is drawn at twice the frame so camera moves resample real detail

# Photo pairs: even seeds take the first of each pair, odd seeds the second (near-duplicates
# such as chelsea/cat sit on one side only; cat is left out).
PHOTO_PAIRS = (
    ("astronaut", "chelsea"),
    ("coffee", "rocket"),
    ("camera", "hubble_deep_field"),
    ("immunohistochemistry", "retina"),
    ("coins", "clock"),
    ("moon", "page"),
    ("colorwheel", "cell"),
)
PHOTO_INDEX = {name: 2 * i + side for i, pair in enumerate(PHOTO_PAIRS) for side, name in enumerate(pair)}
TEXTURES = ("grass", "gravel", "brick")
# Fashion-MNIST blocks: images of the reversed sample order from FASHION_FIRST on, BLOCK a
# seed (the Fashion-MNIST suite samples from the front of the order, the slideshow suite
# from the first few thousand of the reversed one).
FASHION_FIRST = 10_000
FASHION_BLOCK = 5_000

MOVES = ("static", "pan-left", "pan-right", "pan-up", "pan-down", "zoom-in", "zoom-out", "handheld")


def _skimage_data() -> Any:
    try:
        import skimage.data
    except ImportError:
        raise InvalidInput(
            "the generated scene suites draw photos and textures from scikit-image: pip install 'videoannotator[eval]' (scikit-image)"
        ) from None
    return skimage.data


def _as_rgb(image: npt.ArrayLike) -> Image8:
    a = np.asarray(image)
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype != np.uint8:
        a = np.clip(a * (255.0 if a.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return np.ascontiguousarray(a[:, :, :3])


@functools.cache
def photo(name: str) -> Image8:
    """A scikit-image photo as RGB uint8."""
    return _as_rgb(getattr(_skimage_data(), name)())


@functools.cache
def texture(name: str) -> npt.NDArray[np.float32]:
    """A scikit-image texture as grey floats in [0, 1]."""
    return np.asarray(getattr(_skimage_data(), name)(), dtype=np.float32) / 255.0


def photo_names(seed: int) -> tuple[str, ...]:
    """The photos seed ``seed`` may show (disjoint for an even and an odd seed)."""
    return tuple(pair[seed % 2] for pair in PHOTO_PAIRS)


def fashion_block(seed: int, images_dir: str | None = None) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Seed ``seed``'s own Fashion-MNIST images (28x28 grey, light on black) and classes.

    Returns (images, classes) of FASHION_BLOCK images; keys are their rows in the full set
    (``fashion_rows``). Seeds 0-9 get disjoint blocks; seed 10 reuses seed 0's.
    """
    images, classes = _fashion_images(images_dir)
    rows = fashion_rows(seed, len(images))
    return images[rows], classes[rows]


@functools.cache
def _fashion_images(images_dir: str | None) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    from . import fashion

    return fashion.load_images(images_dir or fashion.DEFAULT_DIR)


def fashion_rows(seed: int, total: int = 70_000) -> npt.NDArray[np.int64]:
    from . import fashion

    order = fashion.sample_order(total)[::-1]
    blocks = (total - FASHION_FIRST) // FASHION_BLOCK
    start = FASHION_FIRST + (seed % blocks) * FASHION_BLOCK
    return np.asarray(order[start : start + FASHION_BLOCK], dtype=np.int64)


def random_colour(rng: np.random.Generator, sat: tuple[float, float], val: tuple[float, float]) -> np.ndarray:
    r, g, b = colorsys.hsv_to_rgb(float(rng.uniform()), float(rng.uniform(*sat)), float(rng.uniform(*val)))
    return np.asarray([r, g, b], dtype=np.float32)


def _resize(a: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W[, 3]) float or uint8 array to (width, height) = size, bicubic."""
    from PIL import Image

    if a.dtype == np.uint8:
        return np.asarray(Image.fromarray(a).resize(size, Image.Resampling.BICUBIC))
    if a.ndim == 2:
        return np.asarray(Image.fromarray(a.astype(np.float32), mode="F").resize(size, Image.Resampling.BICUBIC))
    return np.stack([_resize(a[:, :, c], size) for c in range(a.shape[2])], axis=2)


def background(rng: np.random.Generator, size: tuple[int, int] = CANVAS) -> tuple[Image8, str]:
    """A backdrop: a tinted texture (grass, gravel, brick) or a noisy colour gradient."""
    w, h = size
    if rng.uniform() < 0.6:
        name = TEXTURES[int(rng.integers(len(TEXTURES)))]
        t = texture(name)
        side = int(rng.integers(180, t.shape[0] + 1))
        y, x = (int(rng.integers(0, t.shape[i] - side + 1)) for i in (0, 1))
        crop = _resize(t[y : y + side, x : x + side], (w, h))
        tint = random_colour(rng, (0.15, 0.6), (0.55, 1.0))
        lift = random_colour(rng, (0.0, 0.4), (0.0, 0.25))
        rgb = crop[:, :, None] * tint[None, None, :] + lift[None, None, :]
        kind = f"texture:{name}"
    else:
        a = random_colour(rng, (0.1, 0.8), (0.2, 0.95))
        b = random_colour(rng, (0.1, 0.8), (0.2, 0.95))
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h) * 0.5 + 0.5
        ramp = (ramp - ramp.min()) / max(1e-6, float(ramp.max() - ramp.min()))
        blobs = _resize(rng.normal(0, 1, (6, 8)).astype(np.float32), (w, h)) * 0.04
        rgb = a[None, None, :] * (1 - ramp[:, :, None]) + b[None, None, :] * ramp[:, :, None] + blobs[:, :, None]
        kind = "gradient"
    rgb = rgb + rng.normal(0, 0.02, rgb.shape[:2])[:, :, None]
    return np.clip(rgb * 255, 0, 255).astype(np.uint8), kind


def photo_scene(rng: np.random.Generator, name: str, size: tuple[int, int] = CANVAS) -> Image8:
    """A photo filling the canvas: a random crop at the canvas's aspect, maybe mirrored, re-lit."""
    im = photo(name)
    w, h = size
    ph, pw = im.shape[:2]
    aspect = w / h
    cw = min(pw, ph * aspect) * rng.uniform(0.7, 1.0)
    ch = cw / aspect
    x = rng.uniform(0, pw - cw)
    y = rng.uniform(0, ph - ch)
    from PIL import Image

    out = np.asarray(
        Image.fromarray(im).resize(size, Image.Resampling.BICUBIC, box=(x, y, x + cw, y + ch)), dtype=np.float32
    )
    if rng.uniform() < 0.5:
        out = out[:, ::-1]
    out = out * rng.uniform(0.8, 1.15) + rng.uniform(-15, 15)
    return np.clip(out, 0, 255).astype(np.uint8)


def fashion_subject(rng: np.random.Generator, item: npt.ArrayLike, detail: bool = False) -> tuple[Image8, Alpha]:
    """A Fashion-MNIST item (light on black) as a tinted cut-out: colour and alpha, 28x28 upscaled 4x
    (8x with ``detail``, which also weaves a texture crop into the shading: a close-up shows grain,
    not a smooth blob)."""
    side = 224 if detail else 112
    g = _resize(np.asarray(item, dtype=np.float32) / 255.0, (side, side))
    g = np.clip(g, 0, 1)
    alpha = np.clip(g * 2.2, 0, 1).astype(np.float32)
    colour = random_colour(rng, (0.2, 0.8), (0.35, 0.95))
    shade = 0.35 + 0.65 * g
    if detail:
        t = texture(TEXTURES[int(rng.integers(len(TEXTURES)))])
        crop = int(rng.integers(64, 160))
        y, x = (int(rng.integers(0, t.shape[i] - crop)) for i in (0, 1))
        grain = _resize(t[y : y + crop, x : x + crop], (side, side))
        shade = shade * (0.75 + 0.5 * grain)
    rgb = np.clip(shade[:, :, None] * colour[None, None, :] * 255, 0, 255).astype(np.uint8)
    return _trim(rgb, alpha)


def photo_subject(rng: np.random.Generator, name: str) -> tuple[Image8, Alpha]:
    """A photo cut-out: a random region of the photo with a soft oval edge (a vignette)."""
    im = photo(name)
    ph, pw = im.shape[:2]
    side = min(ph, pw) * rng.uniform(0.45, 0.75)
    cw, ch = side * rng.uniform(0.8, 1.2), side
    x = rng.uniform(0, max(0.0, pw - cw))
    y = rng.uniform(0, max(0.0, ph - ch))
    from PIL import Image

    size = (round(160 * cw / ch), 160)
    rgb = np.asarray(Image.fromarray(im).resize(size, Image.Resampling.BICUBIC, box=(x, y, x + cw, y + ch)))
    yy, xx = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32)
    r = np.sqrt(((xx + 0.5) / size[0] * 2 - 1) ** 2 + ((yy + 0.5) / size[1] * 2 - 1) ** 2)
    alpha = np.clip((1.0 - r) / 0.15, 0, 1).astype(np.float32)
    return _trim(rgb, alpha)


def _trim(rgb: Image8, alpha: Alpha) -> tuple[Image8, Alpha]:
    """Crop a cut-out to the bounding box of its visible pixels."""
    ys, xs = np.nonzero(alpha > 0.05)
    if ys.size == 0:
        return rgb, alpha
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return np.ascontiguousarray(rgb[y0:y1, x0:x1]), np.ascontiguousarray(alpha[y0:y1, x0:x1])


def sized(subject: tuple[Image8, Alpha], height: float) -> tuple[np.ndarray, np.ndarray]:
    """A cut-out resized so its bounding box is ``height`` pixels high: (float RGB, alpha)."""
    rgb, alpha = subject
    h = max(2, round(height))
    w = max(2, round(h * rgb.shape[1] / rgb.shape[0]))
    return _resize(rgb, (w, h)).astype(np.float32), np.clip(_resize(alpha, (w, h)), 0, 1)


def blend(canvas: Image8, subject: tuple[np.ndarray, np.ndarray], cx: float, cy: float) -> Alpha:
    """Alpha-blend a sized cut-out onto ``canvas`` (in place) centred at (cx, cy); returns the
    canvas-sized alpha of what was pasted."""
    rgb_s, a_s = subject
    h, w = a_s.shape
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    H, W = canvas.shape[:2]
    cx0, cy0, cx1, cy1 = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    full = np.zeros((H, W), dtype=np.float32)
    if cx0 >= cx1 or cy0 >= cy1:
        return full
    sub_a = a_s[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    sub_rgb = rgb_s[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
    region = canvas[cy0:cy1, cx0:cx1].astype(np.float32)
    mixed = region * (1 - sub_a[:, :, None]) + sub_rgb * sub_a[:, :, None]
    canvas[cy0:cy1, cx0:cx1] = np.clip(mixed, 0, 255).astype(np.uint8)
    full[cy0:cy1, cx0:cx1] = sub_a
    return full


def paste(canvas: Image8, subject: tuple[Image8, Alpha], cx: float, cy: float, height: float) -> Alpha:
    """Alpha-blend a cut-out onto ``canvas`` (in place), its bounding box ``height`` pixels
    high, centred at (cx, cy); returns the canvas-sized alpha of what was pasted."""
    return blend(canvas, sized(subject, height), cx, cy)


# --- the camera ---------------------------------------------------------------------------


def _ease(n: int) -> np.ndarray:
    """0 -> 1 over n frames: half linear, half smoothstep (a pan starts and ends gently)."""
    t = np.linspace(0.0, 1.0, n)
    return 0.5 * t + 0.5 * t * t * (3 - 2 * t)


def camera_path(
    move: str,
    n: int,
    rng: np.random.Generator,
    canvas: tuple[int, int] = CANVAS,
    frame: tuple[int, int] = FRAME,
    width: tuple[float, float] | None = None,
    centre: tuple[float, float] | None = None,
) -> Path3:
    """One view box per frame for ``move`` (one of MOVES): (centre x, centre y, width) rows.

    Every move draws its box width from one range (50-70% of the canvas; ``width``
    overrides it), so the framing does not tell moves apart. static  a fixed box;
    pan-*  the box travels 10-34% of the canvas width (20-30% of its height up or down):
    0.6-8 frame pixels a frame over 1.6-3 s; zoom-*  the box shrinks (in) or grows (out)
    by 1.25-1.8x about a fixed centre, its geometric mean the drawn width; handheld  a
    fixed box shaken by a fast random walk (1-4 frame pixels RMS) and a slow sway.
    ``centre`` places static, handheld and zoom boxes (the label suites frame their subject).
    """
    W, H = canvas
    aspect = frame[1] / frame[0]
    e = _ease(n)
    path = np.zeros((n, 3))

    def centre_for(w: float, margin: float = 0.0) -> tuple[float, float]:
        h = w * aspect
        if centre is not None:
            cx = float(np.clip(centre[0], w / 2 + margin, W - w / 2 - margin))
            cy = float(np.clip(centre[1], h / 2 + margin, H - h / 2 - margin))
            return cx, cy
        return rng.uniform(w / 2 + margin, W - w / 2 - margin), rng.uniform(h / 2 + margin, H - h / 2 - margin)

    # One view width for every move (its mean, for a zoom), so the framing does not tell moves apart.
    w = W * rng.uniform(*(width or (0.5, 0.7)))
    if move in ("static", "handheld"):
        margin = 0.05 * W if move == "handheld" else 0.0
        w = min(w, W - 2 * margin - 1)
        cx, cy = centre_for(w, margin)
        path[:] = (cx, cy, w)
        if move == "handheld":
            px = w / frame[0]  # canvas pixels per frame pixel
            rms = rng.uniform(1.0, 4.0) * px
            phi = 0.55
            jit = np.zeros((n, 2))
            step = rng.normal(0, rms * np.sqrt(1 - phi * phi), (n, 2))
            for i in range(1, n):
                jit[i] = phi * jit[i - 1] + step[i]
            t = np.arange(n) / 25.0
            f, ph = rng.uniform(0.4, 0.9), rng.uniform(0, 2 * np.pi, 2)
            sway = 0.7 * rms * np.stack([np.sin(2 * np.pi * f * t + ph[0]), np.cos(2 * np.pi * f * t + ph[1])], 1)
            path[:, :2] += np.clip(jit + sway, -margin, margin)
            path[:, 2] *= 1 + rng.normal(0, 0.003, n)
    elif move in ("pan-left", "pan-right"):
        travel = min(W * rng.uniform(0.1, 0.34), W - w - 2)
        x_lo = rng.uniform(w / 2, W - w / 2 - travel)
        cy = rng.uniform(w * aspect / 2, H - w * aspect / 2)
        xs = x_lo + travel * (e if move == "pan-right" else 1 - e)
        path[:, 0], path[:, 1], path[:, 2] = xs, cy, w
    elif move in ("pan-up", "pan-down"):
        h = w * aspect
        travel = min(H * rng.uniform(0.1, 0.3), H - h - 2)
        y_lo = rng.uniform(h / 2, H - h / 2 - travel)
        cx = rng.uniform(w / 2, W - w / 2)
        ys = y_lo + travel * (e if move == "pan-down" else 1 - e)
        path[:, 0], path[:, 1], path[:, 2] = cx, ys, w
    elif move in ("zoom-in", "zoom-out"):
        r = np.sqrt(rng.uniform(1.25, 1.8))
        big, small = min(w * r, W - 2), w / r
        cx, cy = centre_for(big)
        w0, w1 = (big, small) if move == "zoom-in" else (small, big)
        path[:, 0], path[:, 1], path[:, 2] = cx, cy, w0 * (w1 / w0) ** e
    else:
        raise InvalidInput(f"unknown camera move {move!r}; one of {', '.join(MOVES)}")
    return path


def film(
    canvas: Image8,
    path: Path3,
    frame: tuple[int, int] = FRAME,
    mover: tuple[tuple[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> list[Image8]:
    """The frames a camera following ``path`` sees of ``canvas``; ``mover`` = (a sized cut-out,
    its (n, 2) centres in canvas pixels) is a subject moving in the scene, drawn on each frame."""
    from PIL import Image

    img = Image.fromarray(canvas)
    aspect = frame[1] / frame[0]
    out = []
    for i, (cx, cy, w) in enumerate(path):
        h = w * aspect
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if mover is not None:
            scene = canvas.copy()
            blend(scene, mover[0], *mover[1][i])
            img = Image.fromarray(scene)
        out.append(np.asarray(img.resize(frame, Image.Resampling.BILINEAR, box=box)))
    return out


def subject_track(
    rng: np.random.Generator, path: Path3, n: int, speed: tuple[float, float], frame: tuple[int, int] = FRAME
) -> np.ndarray:
    """Centres (n, 2) of a subject crossing the view of ``path``'s middle frame in a straight line
    at ``speed`` frame pixels a frame (mostly sideways, a little up or down)."""
    cx, cy, w = path[len(path) // 2]
    px = w / frame[0]
    v = rng.uniform(*speed) * px
    angle = rng.uniform(-0.35, 0.35) + (np.pi if rng.uniform() < 0.5 else 0.0)
    step = np.array([np.cos(angle), np.sin(angle)]) * v
    t = np.arange(n) - (n - 1) / 2
    offset = rng.uniform(-0.15, 0.15, 2) * np.array([w, w * frame[1] / frame[0]])
    return np.asarray([cx, cy]) + offset + t[:, None] * step[None, :]


def view_share(alpha: Alpha, path: Path3, frame: tuple[int, int] = FRAME) -> float:
    """Share of the middle frame's area covered by a pasted subject (its alpha in the view box)."""
    cx, cy, w = path[len(path) // 2]
    h = w * frame[1] / frame[0]
    H, W = alpha.shape
    x0, x1 = int(max(0, cx - w / 2)), int(min(W, cx + w / 2))
    y0, y1 = int(max(0, cy - h / 2)), int(min(H, cy + h / 2))
    return float(alpha[y0:y1, x0:x1].sum() / max(1.0, w * h))


def cross_fade(a: Sequence[Image8], b: Sequence[Image8], overlap: int) -> list[Image8]:
    """``a`` then ``b``, their last/first ``overlap`` frames blended linearly (a dissolve)."""
    if overlap <= 0:
        return [*a, *b]
    out = list(a[:-overlap])
    for i in range(overlap):
        t = (i + 1) / (overlap + 1)
        mix = a[len(a) - overlap + i].astype(np.float32) * (1 - t) + b[i].astype(np.float32) * t
        out.append(np.clip(mix + 0.5, 0, 255).astype(np.uint8))
    out.extend(b[overlap:])
    return out
