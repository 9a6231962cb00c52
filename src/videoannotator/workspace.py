"""The one object the CLI, the HTTP server and the evaluation harness open: ``Workspace(home)``.

All state lives under ``home``: ``catalog.sqlite`` (videos, clips, labels, annotations),
``vectors.f32`` (clip vectors in the text/image space that search uses, row = clip id),
``features.f32`` (the embedder's classifier features, same rows, where it has them: what
Build trains on), ``thumbs/``, ``previews/`` and ``models/``.

The matrices (and the ANN index, and the cached corpus clusters) belong to a *generation*
recorded in the catalog's meta: 0 names them ``vectors.f32`` / ``features.f32`` /
``clips.index``, generation g > 0 ``vectors.g<g>.f32`` and so on. ``va reembed`` writes the
next generation beside the current one and its meta commit is the switch, so a crash at any
moment opens one consistent generation; files of other generations are removed afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .catalog.filelock import FileLock
from .catalog.sqlite.catalog import Catalog
from .catalog.sqlite.paths import absolutise_video_paths
from .config import Settings
from .errors import DiskFull, EmbedderMismatch, NotFound, VAError
from .vectors.memmap import VectorStore

DEFAULT_EMBEDDER = "conse-effnet-minilm"


class Workspace:
    def __init__(self, home: str | Path | None = None, settings: Settings | None = None, embedder=None):
        """Open (or create) the workspace at ``home``.

        ``embedder``: a name to insist on, or an ``Embedder`` instance (tests, harness).
        Asking for another embedder than the one that made the stored vectors raises
        EmbedderMismatch, which names ``va reembed`` as the way to switch.
        """
        self.settings = settings or Settings.from_env()
        self.home = Path(home or self.settings.home).expanduser().resolve()
        try:
            for sub in ("thumbs", "previews", "models"):
                (self.home / sub).mkdir(parents=True, exist_ok=True)
            self.catalog = Catalog(self.home / "catalog.sqlite")
        except (OSError, sqlite3.Error) as exc:
            free = _free_bytes(self.home)
            if free is not None and free < 1 << 20:  # SQLite says "disk I/O error" when it cannot even open
                raise DiskFull(f"cannot open the workspace {self.home}: its disk is full ({free:,} bytes free); "
                               "free some space, then run the command again (nothing stored is lost)") from None
            reason = getattr(exc, "strerror", None) or str(exc)
            raise VAError(f"cannot use {self.home} as a workspace ({reason}); pick another --home or VA_HOME") from None
        absolutise_video_paths(self.catalog)  # rows from before paths were stored absolute
        self._embedder = embedder if embedder is not None and not isinstance(embedder, str) else None
        wanted = embedder if isinstance(embedder, str) else (self._embedder.name if self._embedder else self.settings.embedder)
        stored = self.catalog.get_meta("embedder")
        if stored and wanted and wanted != stored and self.clip_count():
            raise EmbedderMismatch(
                f"this workspace's {self.clip_count()} clips were embedded with {stored!r}, not {wanted!r}; "
                f"drop --embedder to use {stored!r}, or run `va reembed --embedder {wanted}` to recompute them"
            )
        self.embedder_name = wanted or stored or DEFAULT_EMBEDDER
        self._vectors: VectorStore | None = None
        self._features: VectorStore | None = None
        self._generation = 0  # of the open matrices
        self._lock = threading.RLock()  # lazy embedder / index: the server calls from many threads
        self._write_lock = FileLock(self.home / ".write.lock")
        self._open_stored()
        self._tidy()

    # -- embedder and vectors ------------------------------------------------------------
    @property
    def embedder(self):
        """The embedder, loaded on first use (the default model takes seconds to load)."""
        with self._lock:
            if self._embedder is None:
                from .embed import get_embedder

                self._embedder = get_embedder(self.embedder_name, device=self.settings.device,
                                              batch_size=self.settings.batch_size)
            return self._embedder

    @property
    def dim(self) -> int:
        dim = self.catalog.get_meta("dim")
        return int(dim) if dim is not None else int(self.embedder.dim)

    @property
    def generation(self) -> int:
        """The generation of the stored matrices the catalog names (see the module doc)."""
        return int(self.catalog.get_meta("generation") or 0)

    def matrix_path(self, kind: str, generation: int | None = None) -> Path:
        """``vectors`` or ``features`` file of a generation (default: the current one)."""
        g = self.generation if generation is None else int(generation)
        return self.home / (f"{kind}.f32" if g == 0 else f"{kind}.g{g}.f32")

    def index_path(self, generation: int | None = None) -> Path:
        g = self.generation if generation is None else int(generation)
        return self.home / ("clips.index" if g == 0 else f"clips.g{g}.index")

    def _open_vectors(self, dim: int) -> VectorStore:
        if self._vectors is None or self._vectors.dim != dim:
            self._vectors = VectorStore(self.matrix_path("vectors", self._generation), dim)
        return self._vectors

    def vectors(self) -> np.ndarray:
        """(clips, dim) float32 memory-mapped matrix; row i is clip i."""
        self._follow_generation()
        if self._vectors is None:  # nothing ingested yet
            return np.zeros((0, self._known_dim()), dtype=np.float32)
        return self._vectors.matrix(self.clip_count())

    def _follow_generation(self) -> None:
        """Another process's `va reembed` switched generations: reopen the new matrices."""
        if self._vectors is not None and self.generation != self._generation:
            self.reopen()

    @property
    def feature_dim(self) -> int:
        """Width of the stored classifier features; 0 where the classifier trains on the
        vectors (an embedder without features, or a workspace ingested before they existed)."""
        return int(self.catalog.get_meta("feature_dim") or 0)

    @property
    def train_space(self) -> str:
        """What Build trains on here: 'features' (features.f32) or 'vectors' (vectors.f32)."""
        return "features" if self.feature_dim else "vectors"

    def _open_features(self, dim: int) -> VectorStore:
        if self._features is None or self._features.dim != dim:
            self._features = VectorStore(self.matrix_path("features", self._generation), dim)
        return self._features

    def reopen(self, embedder=None) -> None:
        """Forget the open matrices and index (after ``va reembed`` replaced them)."""
        with self._lock:
            if embedder is not None:
                self._embedder, self.embedder_name = embedder, embedder.name
            elif self.catalog.get_meta("embedder") not in (None, self.embedder_name):
                self._embedder, self.embedder_name = None, self.catalog.get_meta("embedder")
            self._vectors = self._features = None
            self._index = None
            self._open_stored()

    def _open_stored(self) -> bool:
        """Open the vector (and feature) matrices the catalog's meta names; False if none yet."""
        dim = self.catalog.get_meta("dim")
        self._generation = self.generation
        if dim is None:
            return False
        self._open_vectors(int(dim))
        if self.feature_dim:
            self._open_features(self.feature_dim)
        return True

    def _tidy(self) -> None:
        """Drop matrix rows a crash left uncommitted and files of other generations — only if
        the write lock is free this instant: an ingest holding it may be between its append and
        its commit, and those rows are not garbage (the next append drops real leftovers)."""
        try:
            with self.write_lock(blocking=False) as held:
                if held:
                    self._drop_uncommitted_rows()
                    self._remove_other_generations()
        except OSError:
            pass  # a read-only workspace (a mounted backup, say) is still readable

    def _drop_uncommitted_rows(self) -> None:
        """Under the write lock: cut every matrix of the current generation to the catalog's clips."""
        rows, g = self.clip_count(), self.generation
        for kind in ("vectors", "features"):
            path = self.matrix_path(kind, g)
            if path.exists():
                if self.catalog.get_meta("dim") is None or (kind == "features" and not self.feature_dim):
                    os.truncate(path, 0)  # a first ingest that never committed
                else:
                    dim = int(self.catalog.get_meta("dim")) if kind == "vectors" else self.feature_dim
                    VectorStore(path, dim).drop_rows_after(rows)
        if self._vectors is not None:
            self._vectors._mmap = None
        if self._features is not None:
            self._features._mmap = None

    def _remove_other_generations(self) -> None:
        """Under the write lock: files of generations the catalog does not name (a reembed that
        crashed before its switch, or one that switched and crashed before cleaning up)."""
        keep = {self.matrix_path(k).name for k in ("vectors", "features")} | {self.index_path().name}
        for pattern in ("vectors*.f32", "features*.f32", "clips*.index"):
            for path in self.home.glob(pattern):
                if path.name not in keep:
                    path.unlink(missing_ok=True)
        for path in (self.home / "models").glob("clusters-*.npy"):
            if not path.name.startswith(f"clusters-g{self.generation}-"):
                path.unlink(missing_ok=True)

    def train_vectors(self) -> np.ndarray:
        """(clips, d) matrix the classifier trains on and scores: the features where stored."""
        self._follow_generation()
        if self._features is None:
            return self.vectors()
        return self._features.matrix(self.clip_count())

    # -- catalog reads --------------------------------------------------------------------
    def clip_count(self) -> int:
        return int(self.catalog.scalar("SELECT COALESCE(MAX(id) + 1, 0) FROM clips"))

    def info(self) -> dict:
        return {
            "home": str(self.home),
            "videos": int(self.catalog.scalar("SELECT COUNT(*) FROM videos")),
            "clips": int(self.catalog.scalar("SELECT COUNT(*) FROM clips")),
            "vectors": int(self.vectors().shape[0]),
            "embedder": self.embedder_name,
            "dim": int(self.catalog.get_meta("dim") or 0) or self._known_dim(),
            "trains_on": self.train_space if self.clip_count() else None,
            "feature_dim": self.feature_dim,
            "schema_version": self.catalog.schema_version,
        }

    def _known_dim(self) -> int:
        # An empty workspace knows its embedder's dimension without loading the model.
        if self.embedder_name == DEFAULT_EMBEDDER:
            return 384
        return int(self.embedder.dim)

    def videos(self) -> list[dict]:
        rows = self.catalog.query(
            "SELECT v.*, (SELECT COUNT(*) FROM clips c WHERE c.video_id = v.id) AS clips FROM videos v ORDER BY v.id"
        )
        return [dict(r) for r in rows]

    def clip(self, clip_id: int) -> dict:
        row = self.catalog.query(
            "SELECT c.*, v.path AS video_path, v.content_hash FROM clips c JOIN videos v ON v.id = c.video_id WHERE c.id = ?",
            (int(clip_id),),
        )
        if not row:
            raise NotFound(f"no clip with id {clip_id}; `va info` shows how many clips this workspace has")
        return dict(row[0])

    def thumb_path(self, clip: dict) -> Path:
        return self.home / "thumbs" / f"{clip['content_hash'][:16]}-{clip['position']:05d}.jpg"

    # -- writes ---------------------------------------------------------------------------
    @contextmanager
    def write_lock(self, blocking: bool = True):
        """Serialises matrix appends + catalog commits across processes (two `va ingest`s, a
        reembed, a backup). Non-blocking: yields False when another holder has it."""
        with self._write_lock.hold(blocking) as held:
            yield held

    def ingest(self, paths, progress: bool = True, on_event=None):
        """Ingest files, folders or globs; see ``ingest.ingest_paths``."""
        from .ingest.pipeline import ingest_paths

        return ingest_paths(self, paths, progress=progress, on_event=on_event)

    def commit_video(self, info, content_hash: str, clips: list, vectors: np.ndarray,
                     features: np.ndarray | None = None) -> int:
        """Store one video, its clips, their vectors and (where the workspace keeps them) their
        classifier features atomically; returns the video id.

        The rows are appended and fsynced before the catalog commits the clips that point at
        them, so a crash leaves only unreferenced rows, dropped by the next writer. Returns
        None, storing nothing, when another process committed the same content meanwhile."""
        vectors = np.asarray(vectors, dtype=np.float32)
        with self.write_lock():
            if self.has_video(content_hash):
                return None
            if self.generation != self._generation:  # a reembed switched generations meanwhile
                raise EmbedderMismatch("the workspace was re-embedded while this ingest ran; run the same "
                                       "`va ingest` again to embed the rest with the new embedder")
            first = self.clip_count()
            new_workspace = not self.catalog.get_meta("embedder")
            feature_dim = (features.shape[1] if features is not None else 0) if new_workspace else self.feature_dim
            if feature_dim:
                if features is None or features.shape != (len(vectors), feature_dim):
                    got = None if features is None else features.shape
                    raise ValueError(f"this workspace keeps ({len(vectors)}, {feature_dim}) features; got {got}")
                self._open_features(feature_dim).append(np.asarray(features, dtype=np.float32), at_row=first)
            store = self._open_vectors(vectors.shape[1])
            try:
                store.append(vectors, at_row=first)
                video_id = self._commit_clips(info, content_hash, clips, first, vectors.shape[1], feature_dim,
                                              new_workspace)
            except BaseException:  # a full disk, Ctrl-C: leave no rows the catalog does not reference
                for opened in (self._vectors, self._features):
                    if opened is not None and opened.path.exists():
                        opened.drop_rows_after(first)
                raise
        return video_id

    def _commit_clips(self, info, content_hash, clips, first, dim, feature_dim, new_workspace) -> int:
        """The catalog half of ``commit_video``: the video and its clips in one transaction."""
        from .catalog.sqlite.catalog import utc_now

        with self.catalog.transaction() as db:
            if new_workspace:
                self.catalog.set_meta("embedder", self.embedder_name, db)
                self.catalog.set_meta("dim", dim, db)
                self.catalog.set_meta("feature_dim", feature_dim, db)
            cur = db.execute(
                "INSERT INTO videos(path, content_hash, duration, fps, width, height, frame_count, size_bytes, codec, ingested_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                (info.path, content_hash, info.duration, info.fps, info.width, info.height, info.frame_count,
                 info.size_bytes, info.codec, utc_now()),
            )
            video_id = cur.lastrowid
            db.executemany(
                "INSERT INTO clips(id, video_id, position, start_s, end_s, start_frame, end_frame, sample_frames, embedder)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (first + i, video_id, i, c.start, c.end, c.start_frame, c.end_frame,
                     ",".join(map(str, c.sample_frames)), self.embedder_name)
                    for i, c in enumerate(clips)
                ],
            )
        return video_id

    def has_video(self, content_hash: str) -> bool:
        return self.catalog.scalar("SELECT 1 FROM videos WHERE content_hash = ?", (content_hash,)) is not None

    # -- the annotation loop (see loop.py) --------------------------------------------------
    @property
    def labels(self):
        from .catalog.sqlite.labels import Labels

        return Labels(self.catalog)

    @property
    def annotations(self):
        from .catalog.sqlite.annotations import Annotations

        return Annotations(self.catalog)

    @property
    def models(self):
        from .catalog.sqlite.models import ModelVersions

        return ModelVersions(self.catalog, self.home / "models")

    def label_summary(self, label) -> dict:
        """A label with its annotation counts and its model versions."""
        lab = self.labels.get(label)
        _, _, counts = self.annotations.training_set(lab["id"])
        return {**lab, "counts": counts, "versions": self.models.list(lab["id"])}

    def annotate(self, label, clip_ids, value, annotator="default", source="cli", model_version=None) -> list[dict]:
        return self.annotations.add(self.labels.get(label)["id"], clip_ids, value, annotator, source, model_version)

    def undo(self, label, annotator="default", clip_id=None) -> dict:
        return self.annotations.undo(self.labels.get(label)["id"], annotator, clip_id)

    def search(self, text=None, clip_id=None, k=20, offset=0, label=None, hide_annotated=False) -> list[dict]:
        from . import loop

        return loop.search(self, text, clip_id, k, offset, label, hide_annotated)

    def build(self, label, seed=0, n_feed=100) -> dict:
        from . import loop

        return loop.build(self, label, seed, n_feed)

    def feed(self, label, name, n=20, offset=0, seed=0, version=None) -> dict:
        from . import loop

        return loop.feed(self, label, name, n, offset, seed, version)

    def review(self, label, filter="all") -> dict:
        from . import loop

        return loop.review(self, label, filter)

    def export_model(self, label, version=None) -> dict:
        from . import loop

        return loop.export_model(self, label, version)

    def export_annotations(self, label, events=False) -> list[dict]:
        from . import loop

        return loop.export_annotations(self, label, events)

    # -- keeping the data safe (see backup.py, importer.py) -----------------------------------
    def backup(self, dest, progress: bool = True) -> dict:
        """A consistent copy of this (possibly busy) workspace in ``dest``, with a manifest."""
        from .backup import backup

        return backup(self, dest, progress=progress)

    @classmethod
    def restore(cls, src, home, progress: bool = True, settings: Settings | None = None) -> dict:
        """Bring the backup ``src`` back into the new or empty ``home``, checking every file."""
        from .backup import restore

        return restore(src, home, progress=progress, settings=settings)

    def import_annotations(self, label, path, annotator: str | None = None) -> dict:
        """Read back what ``va export`` wrote (annotations or events, JSONL or CSV) into ``label``."""
        from .importer import import_annotations

        return import_annotations(self, label, path, annotator=annotator)

    def index(self):
        """The vector index over all clips (exact for small corpora, ANN above), brought up
        to date with the matrix: only rows added since the last call are indexed."""
        from .search import open_index

        with self._lock:
            n = self.clip_count()
            cached = getattr(self, "_index", None)
            if cached is None or cached[0] != n:
                index = open_index(self.index_path(), np.arange(n, dtype=np.int64), self.vectors())
                self._index = (n, index)
            return self._index[1]

    def clusters(self):
        """Cached k-means centroids of the corpus (diversity score), or None: the build then fits
        them and ``remember_clusters`` keeps them, on disk, until the corpus grows."""
        path = self._clusters_path()
        return np.load(path) if path.exists() else None

    def _clusters_path(self) -> Path:
        return self.home / "models" / f"clusters-g{self.generation}-{self.train_space}-{self.clip_count()}.npy"

    def remember_clusters(self, centroids) -> None:
        """Keep the centroids for this corpus size. Two processes may do this at once: each
        writes its own temporary file and renames it, so a reader sees one whole file."""
        if centroids is None:
            return
        path = self._clusters_path()
        if not path.exists():
            for old in path.parent.glob("clusters-*.npy"):
                old.unlink(missing_ok=True)
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npy")
            try:
                np.save(tmp, np.asarray(centroids, dtype=np.float32))
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)


def _free_bytes(path: Path) -> int | None:
    """Free space on the filesystem holding ``path`` (or its nearest existing parent)."""
    import shutil

    for candidate in (path, *path.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None
