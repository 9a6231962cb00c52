"""Evaluation datasets: a matrix of clip vectors, their keys, and labelled concepts.

Every suite becomes a ``Dataset``; the experiment never looks further than this.

- ``vectors`` (N, d) float32, unit rows: the joint image-text space. Text search, the
  zero-shot baseline and VA's first round use it.
- ``features`` (N, f), optional: other vectors a classifier may train on (e.g. the
  1,280-d EfficientNet features behind the ConSE vector). ``train_matrix`` picks.
- ``concepts``: one binary label each, with its guideline (description, keywords) and
  the rows known positive and negative. A concept's universe is those rows only: a
  clip nobody judged for the label is never shown to the simulated annotator.
- ``text_vector`` per concept, or ``embedder`` to encode the description and keywords.

The generic format on disk (any user can write it; ``save_generic`` does)::

    DIR/dataset.json   {"format": "videoannotator-eval/1", "name": ..., "embedder": ...,
                        "labels": {NAME: {"description": ..., "keywords": [...],
                                          "positives": [KEY, ...], "negatives": [KEY, ...],
                                          "text_vector": [...]  (optional)}}}
    DIR/vectors.npy    (N, d) float32, row i is the clip keys[i]
    DIR/keys.json      [KEY, ...] (strings or integers), unique
    DIR/features.npy   (N, f) float32, optional

The held-out split is a property of the keys (a hash of key and split seed), so it is
the same for every method, seed and run, whatever order the rows come in.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput, NotFound
from ..features.blocks import Layout, format_layout, select, stored_layout, width_of

if TYPE_CHECKING:
    from ..embed.base import Embedder
    from ..workspace import Workspace

FORMAT = "videoannotator-eval/1"
TRAIN_ON = ("joint", "features", "both")


def _unit_rows(x: npt.ArrayLike) -> npt.NDArray[np.float32]:
    rows = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, np.float32(1e-12))


def _keywords(value: str | Iterable[object] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return [str(k).strip() for k in value if str(k).strip()]


@dataclass
class Concept:
    """One binary label: its guideline and the rows (into the dataset) judged for it."""

    name: str
    positives: npt.NDArray[np.int64]  # rows; any integer array-like, made sorted unique int64
    negatives: npt.NDArray[np.int64]
    description: str = ""
    keywords: list[str] = field(default_factory=list)
    text_vector: npt.NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        self.positives = np.unique(np.asarray(self.positives, dtype=np.int64))
        self.negatives = np.unique(np.asarray(self.negatives, dtype=np.int64))
        self.keywords = _keywords(self.keywords)
        both = np.intersect1d(self.positives, self.negatives)
        if both.size:
            raise InvalidInput(
                f"label {self.name!r}: {both.size} clip(s) are both positive and negative "
                f"(e.g. row {int(both[0])}); keep one value per clip"
            )
        if not self.positives.size or not self.negatives.size:
            raise InvalidInput(
                f"label {self.name!r} needs positive and negative examples; has "
                f"{self.positives.size} positive, {self.negatives.size} negative"
            )

    @property
    def rows(self) -> npt.NDArray[np.int64]:
        return np.union1d(self.positives, self.negatives)

    @property
    def query(self) -> str:
        """The text search a user would run: description, then keywords."""
        parts = [self.description.strip().rstrip(".")] if self.description.strip() else [self.name]
        if self.keywords:
            parts.append(", ".join(self.keywords))
        return ". ".join(parts)

    def truth(self, rows: npt.ArrayLike) -> npt.NDArray[np.int8]:
        """1 for positive rows, 0 for negative ones (rows must be in the universe)."""
        return np.isin(rows, self.positives).astype(np.int8)


@dataclass
class Dataset:
    name: str
    keys: npt.NDArray[Any]  # strings or integers, unique
    vectors: npt.NDArray[np.float32]
    concepts: list[Concept]
    features: npt.NDArray[np.floating[Any]] | None = None
    embedder: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    #: the named blocks of ``features`` (features/blocks.py), where they are the product's
    #: block rows: ``train_matrix`` then uses them as stored and can pick blocks; None: one
    #: unnamed block, made unit rows
    feature_blocks: Layout | None = None

    def __post_init__(self) -> None:
        self.keys = np.asarray(self.keys)
        self.vectors = _unit_rows(self.vectors)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != self.keys.shape[0]:
            raise InvalidInput(
                f"dataset {self.name!r}: vectors {self.vectors.shape} and keys {self.keys.shape} "
                "do not align; row i of the vectors must be keys[i]"
            )
        if self.features is not None and self.features.shape[0] != self.keys.shape[0]:
            raise InvalidInput(f"dataset {self.name!r}: features {self.features.shape} do not align with keys")
        if (
            self.feature_blocks is not None
            and self.features is not None
            and width_of(self.feature_blocks) != self.features.shape[1]
        ):
            raise InvalidInput(
                f"dataset {self.name!r}: the feature blocks are {width_of(self.feature_blocks)} wide, "
                f"the features {self.features.shape[1]}"
            )
        if np.unique(self.keys).size != self.keys.size:
            raise InvalidInput(f"dataset {self.name!r}: keys must be unique")
        n = self.keys.shape[0]
        for c in self.concepts:
            if c.rows.size and (c.rows[0] < 0 or c.rows[-1] >= n):
                raise InvalidInput(f"label {c.name!r} refers to rows outside the dataset")
        self._train: dict[str, npt.NDArray[np.float32]] = {}

    def concept(self, name: str) -> Concept:
        for c in self.concepts:
            if c.name == name:
                return c
        raise NotFound(
            f"no label {name!r} in dataset {self.name!r}; it has: {', '.join(c.name for c in self.concepts)}"
        )

    def select(self, names: Sequence[str] | None) -> Dataset:
        """The same dataset with only the named concepts (in that order)."""
        if not names:
            return self
        picked = [self.concept(n) for n in names]
        return Dataset(
            self.name,
            self.keys,
            self.vectors,
            picked,
            self.features,
            self.embedder,
            dict(self.meta),
            feature_blocks=self.feature_blocks,
        )

    def train_matrix(self, train_on: str = "joint", blocks: str | None = None) -> npt.NDArray[np.float32]:
        """The vectors a classifier trains on: 'joint' (the search space), 'features', or
        'both' (the joint vector and the features side by side, over sqrt 2).

        Features with named blocks (``feature_blocks``) are used as stored — the rows Build
        trains on — or, with ``blocks`` (e.g. ``"semantic,motion:2"``), only the named blocks,
        reweighted where a weight is given (features/blocks.py ``select``). Features without
        named blocks are made unit rows."""
        if train_on not in TRAIN_ON:
            raise InvalidInput(f"train_on must be one of {', '.join(TRAIN_ON)}; got {train_on!r}")
        if train_on == "joint":
            return self.vectors
        if self.features is None:
            raise InvalidInput(f"dataset {self.name!r} has no feature vectors; train on 'joint' (--train-on joint)")
        key = f"{train_on}|{blocks or ''}"
        if key not in self._train:
            if self.feature_blocks is not None:
                feats = np.asarray(self.features, dtype=np.float32)
                if blocks:
                    feats = select(feats, self.feature_blocks, blocks)[0]
            elif blocks:
                raise InvalidInput(
                    f"dataset {self.name!r} has no named feature blocks; leave out --feature-blocks "
                    "(a workspace from before the blocks: `va reembed` computes them)"
                )
            else:
                feats = _unit_rows(self.features)
            if train_on == "features":
                self._train[key] = feats
            else:
                self._train[key] = (np.hstack([self.vectors, feats]) / np.float32(math.sqrt(2))).astype(np.float32)
        return self._train[key]


# -- the held-out split ----------------------------------------------------------------
def heldout_mask(keys: npt.ArrayLike, fraction: float, seed: int = 0) -> npt.NDArray[np.bool_]:
    """True for the keys in the held-out split: a fixed hash of (seed, key) below ``fraction``.

    Depends on the key only, so a key is held out in every run, method and row order.
    """
    if not 0 < fraction < 1:
        raise InvalidInput(f"the held-out fraction must be between 0 and 1, got {fraction}")
    keys = np.asarray(keys)
    if keys.dtype.kind in "iu":
        from ..learn.feeds import random_keys

        u = random_keys(keys, seed).astype(np.float64) / 2.0**64
    else:
        u = (
            np.array(
                [
                    int.from_bytes(hashlib.blake2b(f"{seed}:{k}".encode(), digest_size=8).digest(), "big")
                    for k in keys.tolist()
                ],
                dtype=np.float64,
            )
            / 2.0**64
        )
    return u < fraction


# -- text vectors ------------------------------------------------------------------------
def text_cache_dir() -> Path:
    from ..config import Settings

    return Path(Settings.from_env().cache).expanduser() / "eval" / "text"


def resolve_text_vectors(dataset: Dataset, embedder: Embedder | None = None, cache: bool = True) -> None:
    """Give every concept a unit text vector: its own, or the embedder's encoding of its query.

    ``embedder``: an Embedder instance; otherwise the dataset's named one is loaded only if
    some vector is missing and not cached (on disk, by embedder name and text).
    """
    missing = [c for c in dataset.concepts if c.text_vector is None]
    for c in dataset.concepts:
        if c.text_vector is not None:
            c.text_vector = _unit_rows(np.asarray(c.text_vector, dtype=np.float32).reshape(1, -1))[0]
    if not missing:
        return
    name = getattr(embedder, "name", None) or dataset.embedder
    if not name:
        raise InvalidInput(
            f"labels {', '.join(c.name for c in missing)} have no text_vector and dataset "
            f'{dataset.name!r} names no embedder; add "embedder" or text vectors to dataset.json'
        )
    folder = text_cache_dir()
    todo: list[tuple[Concept, Path]] = []
    for c in missing:
        path = (
            folder
            / f"{name.replace('/', '_').replace(':', '_')}-{hashlib.sha256(c.query.encode()).hexdigest()[:16]}.npy"
        )
        if cache and path.exists():
            try:
                c.text_vector = np.load(path)
                continue
            except (OSError, ValueError):
                pass
        todo.append((c, path))
    if not todo:
        return
    if embedder is None:
        from ..embed import get_embedder

        embedder = get_embedder(name)
    encoded = embedder.encode_texts([c.query for c, _ in todo])
    for (c, path), vec in zip(todo, encoded):
        c.text_vector = _unit_rows(vec.reshape(1, -1))[0]
        if cache:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, c.text_vector)
            except OSError:
                pass  # an unwritable cache only costs encoding again
    first = dataset.concepts[0].text_vector
    assert first is not None  # every concept has its text vector by now
    if dataset.vectors.shape[1] != len(first):
        raise InvalidInput(
            f"text vectors have {len(first)} dimensions but the clip "
            f"vectors {dataset.vectors.shape[1]}; use the embedder that made the vectors"
        )


# -- the generic format ------------------------------------------------------------------
def _rows_of(key_to_row: dict[Any, int], keys: Iterable[Any], label: str, what: str) -> npt.NDArray[np.int64]:
    rows: list[int] = []
    missing: list[Any] = []
    for k in keys:
        row = key_to_row.get(k)
        if row is None:
            row = key_to_row.get(str(k))
        (missing if row is None else rows).append(k if row is None else row)
    if missing:
        raise InvalidInput(
            f"label {label!r}: {len(missing)} {what} key(s) are not in keys.json "
            f"(e.g. {missing[0]!r}); every key must have a vector"
        )
    return np.asarray(rows, dtype=np.int64)


def load_generic(path: str | os.PathLike[str]) -> Dataset:
    """Read the generic format (see the module doc) from a directory or its dataset.json."""
    path = Path(path).expanduser()
    manifest_path = path / "dataset.json" if path.is_dir() else path
    if not manifest_path.exists():
        raise NotFound(
            f"{manifest_path}: no such file; a generic dataset is a folder with dataset.json, "
            "vectors.npy and keys.json (see docs/evaluation.md)"
        )
    folder = manifest_path.parent
    try:
        manifest = json.loads(manifest_path.read_text())
        vectors = np.load(folder / manifest.get("vectors", "vectors.npy"), mmap_mode="r")
        keys = json.loads((folder / manifest.get("keys", "keys.json")).read_text())
        feats_name = manifest.get("features")
        features = np.load(folder / feats_name) if feats_name else None
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{folder}: cannot read the generic dataset ({exc}); see docs/evaluation.md") from None
    key_to_row = {k: i for i, k in enumerate(keys)}
    concepts: list[Concept] = []
    for name, spec in (manifest.get("labels") or {}).items():
        concepts.append(
            Concept(
                name=name,
                description=spec.get("description", ""),
                keywords=spec.get("keywords"),
                positives=_rows_of(key_to_row, spec.get("positives", []), name, "positive"),
                negatives=_rows_of(key_to_row, spec.get("negatives", []), name, "negative"),
                text_vector=np.asarray(spec["text_vector"], np.float32)
                if spec.get("text_vector") is not None
                else None,
            )
        )
    if not concepts:
        raise InvalidInput(f'{manifest_path}: no labels; add a "labels" object (see docs/evaluation.md)')
    return Dataset(
        manifest.get("name", folder.name),
        np.asarray(keys),
        np.asarray(vectors),
        concepts,
        features=features,
        embedder=manifest.get("embedder"),
        meta={"source": str(folder)},
    )


def save_generic(dataset: Dataset, folder: str | os.PathLike[str]) -> Path:
    """Write ``dataset`` in the generic format; returns the dataset.json path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "vectors.npy", np.asarray(dataset.vectors, np.float32))
    keys = dataset.keys.tolist()
    (folder / "keys.json").write_text(json.dumps(keys))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "name": dataset.name,
        "embedder": dataset.embedder,
        "vectors": "vectors.npy",
        "keys": "keys.json",
        "labels": {},
    }
    if dataset.features is not None:
        np.save(folder / "features.npy", np.asarray(dataset.features, np.float32))
        manifest["features"] = "features.npy"
    for c in dataset.concepts:
        spec: dict[str, Any] = {
            "description": c.description,
            "keywords": c.keywords,
            "positives": [keys[i] for i in c.positives],
            "negatives": [keys[i] for i in c.negatives],
        }
        if c.text_vector is not None:
            spec["text_vector"] = [float(v) for v in c.text_vector]
        manifest["labels"][c.name] = spec
    out = folder / "dataset.json"
    out.write_text(json.dumps(manifest))
    return out


# -- the paper's released layout ---------------------------------------------------------
def load_paper(path: str | os.PathLike[str], labels: Iterable[str] | None = None) -> Dataset:
    """The layout of the Video Annotator paper's released data (Ziai & Vartakavi 2024)::

        embeddings.h5         dataset "embeddings": one row per shot-data.csv row
        shot-data.csv         a "key" column
        agg/<label>.json      {"data": [{"key", "agg", "pos_cnt"}, ...]}  (agg: the
                              annotators' aggregated value; the label's universe)
        text-embeddings.json  {label: [floats]}: the label's text vector (zero-shot)
        task_descriptions.json  optional {label: {"description", "keywords"}}

    Needs h5py (``pip install h5py``). ``labels``: names to load (default: every agg file).
    """
    import csv

    folder = Path(path).expanduser()
    for name in ("embeddings.h5", "shot-data.csv", "text-embeddings.json", "agg"):
        if not (folder / name).exists():
            raise NotFound(
                f"{folder / name}: missing; the paper's layout has embeddings.h5, shot-data.csv, "
                "agg/<label>.json and text-embeddings.json"
            )
    try:
        import h5py
    except ImportError:
        raise InvalidInput("reading embeddings.h5 needs h5py: pip install h5py") from None
    with open(folder / "shot-data.csv", newline="") as fh:
        keys = [row["key"] for row in csv.DictReader(fh)]
    with h5py.File(folder / "embeddings.h5", "r") as hf:
        vectors = np.asarray(hf["embeddings"][:], dtype=np.float32)
    if vectors.shape[0] != len(keys):
        raise InvalidInput(f"embeddings.h5 has {vectors.shape[0]} rows but shot-data.csv {len(keys)} keys")
    texts = json.loads((folder / "text-embeddings.json").read_text())
    described: dict[str, Any] = {}  # task_descriptions.json
    if (folder / "task_descriptions.json").exists():
        described = json.loads((folder / "task_descriptions.json").read_text())
    key_to_row = {k: i for i, k in enumerate(keys)}
    names = list(labels) if labels else sorted(p.stem for p in (folder / "agg").glob("*.json"))
    concepts: list[Concept] = []
    dropped: dict[str, int] = {}
    for name in names:
        agg_path = folder / "agg" / f"{name}.json"
        if not agg_path.exists():
            raise NotFound(f"{agg_path}: no such label in the paper's data")
        if name not in texts:
            raise InvalidInput(f"text-embeddings.json has no vector for {name!r}; leave it out with --labels")
        pos: list[int] = []
        neg: list[int] = []
        unknown = 0
        for item in json.loads(agg_path.read_text())["data"]:
            row = key_to_row.get(item["key"])
            if row is None:
                unknown += 1
                continue
            (pos if item["agg"] else neg).append(row)
        if unknown:
            dropped[name] = unknown
        info = described.get(name, {})
        concepts.append(
            Concept(
                name=name,
                positives=np.asarray(pos),
                negatives=np.asarray(neg),
                description=info.get("description", ""),
                keywords=info.get("keywords"),
                text_vector=np.asarray(texts[name], np.float32),
            )
        )
    return Dataset(
        "paper", np.asarray(keys), vectors, concepts, meta={"source": str(folder), "keys_not_in_shot_data": dropped}
    )


# -- a workspace and a labels file ---------------------------------------------------------
def load_workspace(ws: Workspace, labels_file: str | os.PathLike[str]) -> Dataset:
    """An ingested workspace's clips, with ground truth from a labels file (JSON)::

        {"labels": {NAME: {"description": ..., "keywords": [...],
                           "positives": [clip id, ...], "negatives": [clip id, ...]}}}

    or, for videos whose shots are known (e.g. from ``va eval slideshow``)::

        {"labels": {NAME: {"description": ..., "keywords": [...]}},
         "shots": [{"video": "file name", "start": s, "end": e, "labels": [NAME, ...]}]}

    With shots, a clip takes the labels of the shot it overlaps most (matched by the
    video's file name); a clip that overlaps no shot is left out.
    """
    path = Path(labels_file).expanduser()
    try:
        spec = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: cannot read the labels file ({exc})") from None
    vectors = ws.vectors()
    n = vectors.shape[0]
    if n == 0:
        raise InvalidInput(f"workspace {ws.home} has no clips; `va ingest` some videos first")
    labels = spec.get("labels") or {}
    if not labels:
        raise InvalidInput(f'{path}: no "labels" object')
    skipped: dict[str, str] = {}
    concepts: list[Concept] = []
    if spec.get("shots"):
        truth = _clip_truth_from_shots(ws, spec["shots"])
        judged = np.asarray(sorted(truth), dtype=np.int64)
        for name, info in labels.items():
            pos = np.asarray([c for c in judged if name in truth[c]], dtype=np.int64)
            if pos.size in (0, judged.size):  # e.g. missed cuts merged its shots into others
                skipped[name] = f"{pos.size} of {judged.size} clips positive"
                continue
            concepts.append(
                Concept(
                    name=name,
                    positives=pos,
                    negatives=np.setdiff1d(judged, pos),
                    description=info.get("description", ""),
                    keywords=info.get("keywords"),
                )
            )
        if not concepts:
            raise InvalidInput(f"no label of {path} has both positive and negative clips in this workspace")
    else:
        for name, info in labels.items():
            pos = np.asarray(info.get("positives", []), dtype=np.int64)
            neg = np.asarray(info.get("negatives", []), dtype=np.int64)
            bad = np.concatenate([pos, neg])
            bad = bad[(bad < 0) | (bad >= n)]
            if bad.size:
                raise InvalidInput(f"label {name!r}: clip id {int(bad[0])} is not in the workspace (0..{n - 1})")
            concepts.append(
                Concept(
                    name=name,
                    positives=pos,
                    negatives=neg,
                    description=info.get("description", ""),
                    keywords=info.get("keywords"),
                )
            )
    return Dataset(
        f"workspace:{ws.home.name}",
        np.arange(n, dtype=np.int64),
        np.asarray(vectors),
        concepts,
        features=np.asarray(ws.train_vectors()) if ws.feature_dim else None,
        embedder=ws.embedder_name,
        meta={
            "source": str(ws.home),
            "labels_file": str(path),
            "labels_without_examples": skipped,
            "feature_blocks": format_layout(stored_layout(ws.catalog.get_meta, ws.feature_dim)),
        },
        feature_blocks=stored_layout(ws.catalog.get_meta, ws.feature_dim) if ws.feature_dim else None,
    )


def _clip_truth_from_shots(ws: Workspace, shots: Iterable[dict[str, Any]]) -> dict[int, set[str]]:
    by_video: dict[str, list] = {}
    for shot in shots:
        by_video.setdefault(Path(shot["video"]).name, []).append(
            (float(shot["start"]), float(shot["end"]), set(shot.get("labels", [])))
        )
    truth = {}
    for row in ws.clip_spans():
        best, labels = 0.0, None
        for start, end, names in by_video.get(Path(row["path"]).name, []):
            overlap = min(end, row["end_s"]) - max(start, row["start_s"])
            if overlap > best:
                best, labels = overlap, names
        if labels is not None:
            truth[int(row["id"])] = labels
    if not truth:
        raise InvalidInput(
            "no clip of the workspace overlaps a shot of the labels file; are the video file "
            'names in "shots" the ingested ones?'
        )
    return truth
