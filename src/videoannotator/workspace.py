"""The one object the CLI, the HTTP server and the evaluation harness open: ``Workspace(home)``.

Every use case is a method here (or in a service module it calls: ``ingest/``, ``loop/``,
``backup.py``, ``importer.py``); the shells parse and format, nothing more. All state lives
under ``home``: the catalog (``catalog/``: videos, clips, labels, annotations, model versions),
the clip matrices (``vectors/``: ``vectors.f32`` for search, ``features.f32`` for Build, named
by generation), the ANN index, ``thumbs/``, ``previews/`` and ``models/``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .catalog import Catalog, open_catalog
from .catalog.base import Annotations, ClipRecord, Labels, ModelVersions, VideoRecord
from .config import Settings
from .errors import DiskFull, EmbedderMismatch, NotFound, VAError
from .names import DEFAULT_DIM, DEFAULT_EMBEDDER
from .vectors.matrices import Matrices

if TYPE_CHECKING:
    from .embed.base import Embedder
    from .embed.registry import TextEncoder
    from .engines import Engine
    from .ingest.pipeline import IngestReport
    from .search.base import VectorIndex

PREVIEW_LOCK_STRIPES = 64


def workspace_exists(home: str | Path) -> bool:
    """Whether ``home`` holds a workspace already (its SQLite catalog, or the record of its
    PostgreSQL one), without creating anything."""
    from .catalog import catalog_exists

    return catalog_exists(Path(home).expanduser())


class Workspace:
    def __init__(
        self, home: str | Path | None = None, settings: Settings | None = None, embedder: str | Embedder | None = None
    ):
        """Open (or create) the workspace at ``home``.

        ``embedder``: a name to insist on, or an ``Embedder`` instance (tests, harness).
        Asking for another embedder than the one that made the stored vectors raises
        EmbedderMismatch, which names ``va reembed`` as the way to switch.
        """
        self.settings = settings or Settings.from_env()
        self.home = Path(home or self.settings.home).expanduser().resolve()
        self.catalog: Catalog = _open(self.home)
        from .catalog.sqlite.paths import absolutise_video_paths

        absolutise_video_paths(self.catalog)  # rows from before paths were stored absolute
        self._embedder = embedder if embedder is not None and not isinstance(embedder, str) else None
        wanted = (
            embedder
            if isinstance(embedder, str)
            else (self._embedder.name if self._embedder else self.settings.embedder)
        )
        stored = self.catalog.get_meta("embedder")
        if stored and wanted and wanted != stored and self.clip_count():
            raise EmbedderMismatch(
                f"this workspace's {self.clip_count()} clips were embedded with {stored!r}, not {wanted!r}; "
                f"drop --embedder to use {stored!r}, or run `va reembed --embedder {wanted}` to recompute them"
            )
        self.embedder_name: str = wanted or stored or DEFAULT_EMBEDDER
        self._lock = threading.RLock()  # lazy embedder / index: the server calls from many threads
        self._preview_locks = [threading.Lock() for _ in range(PREVIEW_LOCK_STRIPES)]
        self._index: tuple[int, VectorIndex] | None = None
        self._text_lock = threading.Lock()  # one text-model load, however many threads ask
        self._text_encoder: TextEncoder | None = None
        self._text_loading = False
        self.matrices = Matrices(self.home, self.catalog)
        self._tidy()

    # -- embedder and matrices -------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The embedder, loaded on first use (the default model takes seconds to load)."""
        with self._lock:
            if self._embedder is None:
                from .embed import get_embedder

                self._embedder = get_embedder(
                    self.embedder_name, device=self.settings.device, batch_size=self.settings.batch_size
                )
            return self._embedder

    @property
    def text_encoder(self) -> TextEncoder:
        """What encodes text queries, loaded on first use: the embedder itself where it is
        loaded (or was given), else only what a query needs (``embed.get_text_encoder``: for
        the default embedder, MiniLM in numpy — no torch, no image network). Threads asking
        while it loads wait for that one load."""
        with self._text_lock:
            if self._text_encoder is None:
                embedder = self._embedder
                if embedder is not None:
                    self._text_encoder = embedder
                else:
                    from .embed import get_text_encoder

                    self._text_loading = True
                    try:
                        self._text_encoder = get_text_encoder(
                            self.embedder_name, device=self.settings.device, batch_size=self.settings.batch_size
                        )
                    finally:
                        self._text_loading = False
            return self._text_encoder

    @property
    def text_model_state(self) -> str:
        """'cold' (not loaded), 'loading' or 'ready': whether a text search answers at once."""
        if self._text_encoder is not None:
            return "ready"
        return "loading" if self._text_loading else "cold"

    def warm_text_model(self) -> threading.Thread:
        """Load the text encoder in a background thread (the server, at start), so the first
        search does not wait; a search arriving meanwhile waits for this same load. Then the
        rest of a search's first call: its modules (≈1 s of imports on 2 cores) and the index.
        A load that fails leaves the state 'cold': the next search loads again and says why."""

        def load() -> None:
            try:
                self.text_encoder  # noqa: B018 - the property loads it
                from .loop import search  # noqa: F401 - imported now rather than by the first search

                self.index()
            except Exception as exc:  # noqa: BLE001 - the search that needs it says why again
                import logging

                logging.getLogger(__name__).warning("could not load the text model: %s", exc)

        thread = threading.Thread(target=load, name="va-warm-text-model", daemon=True)
        thread.start()
        return thread

    @property
    def dim(self) -> int:
        return self.matrices.stored_dim() or int(self.embedder.dim)

    @property
    def generation(self) -> int:
        """The generation of the stored matrices the catalog names (see vectors/matrices.py)."""
        return self.matrices.stored_generation()

    def matrix_path(self, kind: str, generation: int | None = None) -> Path:
        return self.matrices.path(kind, generation)

    def index_path(self, generation: int | None = None) -> Path:
        return self.matrices.index_path(generation)

    @property
    def feature_dim(self) -> int:
        """Width of the stored classifier features; 0 where the classifier trains on the
        vectors (an embedder without features, or a workspace ingested before they existed)."""
        return self.matrices.feature_dim()

    @property
    def feature_blocks(self) -> str:
        """The stored features' blocks (features/blocks.py), as ``name:width:weight,...``
        (``semantic:384:1,motion:12:1,...``); '' where Build trains on the vectors."""
        from .features.blocks import format_layout, stored_layout

        return format_layout(stored_layout(self.catalog.get_meta, self.feature_dim)) if self.feature_dim else ""

    @property
    def train_space(self) -> str:
        """What Build trains on here: 'features' (features.f32) or 'vectors' (vectors.f32)."""
        return "features" if self.feature_dim else "vectors"

    def vectors(self) -> npt.NDArray[np.float32]:
        """(clips, dim) float32 memory-mapped matrix; row i is clip i."""
        self._follow_generation()
        matrix = self.matrices.read("vectors", self.clip_count())
        return np.zeros((0, self._known_dim()), dtype=np.float32) if matrix is None else matrix

    def train_vectors(self) -> npt.NDArray[np.float32]:
        """(clips, d) matrix the classifier trains on and scores: the features where stored."""
        self._follow_generation()
        matrix = self.matrices.read("features", self.clip_count())
        return self.vectors() if matrix is None else matrix

    def _follow_generation(self) -> None:
        """Another process's `va reembed` switched generations: reopen the new matrices."""
        if self.matrices.stale():
            self.reopen()

    def reopen(self, embedder: Embedder | None = None) -> None:
        """Forget the open matrices and index (after ``va reembed`` replaced them)."""
        with self._lock:
            if embedder is not None:
                self._embedder, self.embedder_name = embedder, embedder.name
            elif self.catalog.get_meta("embedder") not in (None, self.embedder_name):
                self._embedder, self.embedder_name = None, self.catalog.get_meta("embedder")
            if embedder is not None or (self._text_encoder and self._text_encoder.name != self.embedder_name):
                with self._text_lock:  # queries for the new embedder: its own text encoder
                    self._text_encoder = None
            self._index = None
            self.matrices.open_stored()

    def _tidy(self) -> None:
        """Drop matrix rows a crash left uncommitted and files of other generations — only if
        the write lock is free this instant: an ingest holding it may be between its append and
        its commit, and those rows are not garbage (the next append drops real leftovers)."""
        try:
            with self.write_lock(blocking=False) as held:
                if held:
                    self.matrices.drop_uncommitted_rows(self.clip_count())
                    self.matrices.remove_other_generations(self.home / "models")
        except OSError:
            pass  # a read-only workspace (a mounted backup, say) is still readable

    def _known_dim(self) -> int:
        # An empty workspace knows its embedder's dimension without loading the model.
        return self.matrices.stored_dim() or (
            DEFAULT_DIM if self.embedder_name == DEFAULT_EMBEDDER else int(self.embedder.dim)
        )

    # -- the catalog: videos and clips ---------------------------------------------------------
    def clip_count(self) -> int:
        return self.catalog.videos.clip_count()

    def info(self) -> dict[str, Any]:
        counts = self.catalog.videos.counts()
        return {
            "home": str(self.home),
            "videos": counts["videos"],
            "clips": counts["clips"],
            "vectors": int(self.vectors().shape[0]),
            "embedder": self.embedder_name,
            "dim": self._known_dim(),
            "trains_on": self.train_space if self.clip_count() else None,
            "feature_dim": self.feature_dim,
            "feature_blocks": self.feature_blocks or None,
            "schema_version": self.catalog.schema_version,
        }

    def videos(self) -> list[dict[str, Any]]:
        return self.catalog.videos.list()

    def video_shots(self, video_id: int, n: int = 12) -> dict[str, Any]:
        """Up to ``n`` of a video's shots spread evenly over it (the Videos page's strip)."""
        from .loop.library import video_shots

        return video_shots(self, video_id, n)

    def label_cards(self) -> list[dict[str, Any]]:
        """Every label with its counts, latest version and AP, and live version (the home page)."""
        from .loop.library import label_cards

        return label_cards(self)

    def clip(self, clip_id: int) -> dict[str, Any]:
        clip = self.catalog.videos.clip(int(clip_id))
        if clip is None:
            count = self.clip_count()
            if not count:
                raise NotFound(f"no clip with id {clip_id}: this workspace has no clips yet; `va ingest` adds videos")
            raise NotFound(
                f"no clip with id {clip_id}: this workspace's clips are 0-{count - 1}; "
                "ids are the numbers `va search`, `va feed` and `va review` print first"
            )
        return clip

    def clip_spans(self) -> list[dict[str, Any]]:
        """Every clip's id, start_s, end_s and video path (the evaluation harness's truth files)."""
        return self.catalog.videos.spans()

    def has_video(self, content_hash: str) -> bool:
        return self.catalog.videos.has(content_hash)

    def thumb_path(self, clip: dict[str, Any]) -> Path:
        return self.home / "thumbs" / f"{clip['content_hash'][:16]}-{clip['position']:05d}.jpg"

    def thumbnail(self, clip_id: int) -> Path:
        """The clip's JPEG thumbnail, made at ingest."""
        path = self.thumb_path(self.clip(clip_id))
        if not path.is_file():
            raise NotFound(f"clip {clip_id} has no thumbnail file; ingest its video again to make it")
        return path

    def preview(self, clip_id: int) -> Path:
        """The clip as a short silent WebM, rendered on first use and kept under previews/.
        One render per clip at a time (striped locks: memory does not grow with the clips)."""
        from .media.preview import render_preview

        clip = self.clip(clip_id)
        path = self.home / "previews" / f"{clip['id']}.webm"
        if not path.is_file():
            with self._preview_locks[clip["id"] % len(self._preview_locks)]:
                if not path.is_file():  # another request may have rendered it while we waited
                    render_preview(clip["video_path"], clip["start_s"], clip["end_s"], path, self.settings.thumb_width)
        return path

    def player_preview(self, clip_id: int) -> Path:
        """The player's rendition of the clip: 640 px (never wider than the source shows it),
        with the source's sound; rendered on first use and kept under previews/."""
        from .media.player_preview import player_preview

        return player_preview(self.home, self.clip(clip_id))

    # -- writes: ingest, reembed ---------------------------------------------------------------
    @contextmanager
    def write_lock(self, blocking: bool = True) -> Iterator[bool]:
        """Serialises matrix appends + catalog commits across processes (two `va ingest`s, a
        reembed, a backup). Non-blocking: yields False when another holder has it."""
        with self.catalog.write_lock(blocking) as held:
            yield held

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        progress: bool = True,
        on_event: Any = None,
        engine: Engine | None = None,
    ) -> IngestReport:
        """Ingest files, folders or globs (see ``ingest/pipeline.py``)."""
        from .ingest.pipeline import ingest_paths
        from .score.production import score_new_clips

        before = self.clip_count()
        report = ingest_paths(self, paths, progress=progress, on_event=on_event, engine=engine)
        if report.ingested and self.catalog.deployments.live():
            report.scored = score_new_clips(self, before, self.clip_count(), "ingest")
        return report

    def commit_video(
        self,
        video: VideoRecord,
        clips: Sequence[ClipRecord],
        vectors: npt.ArrayLike,
        features: npt.ArrayLike | None = None,
        feature_blocks: str | None = None,
    ) -> int | None:
        """Store one video, its clips, their vectors and (where the workspace keeps them) their
        classifier features atomically; returns the video id — the one writer of every engine.

        The rows are appended and fsynced before the catalog commits the clips that point at
        them, so a crash leaves only unreferenced rows, dropped by the next writer. Returns
        None, storing nothing, when another process committed the same content meanwhile."""
        vectors = np.asarray(vectors, dtype=np.float32)
        features = None if features is None else np.asarray(features, dtype=np.float32)
        with self.write_lock():
            if self.has_video(video["content_hash"]):
                return None
            if self.matrices.stale():  # a reembed switched generations meanwhile
                raise EmbedderMismatch(
                    "the workspace was re-embedded while this ingest ran; run the same "
                    "`va ingest` again to embed the rest with the new embedder"
                )
            first = self.clip_count()
            new_workspace = not self.catalog.get_meta("embedder")
            feature_dim = (features.shape[1] if features is not None else 0) if new_workspace else self.feature_dim
            if not new_workspace and feature_dim and features is not None and feature_blocks:
                # ``features`` in layout ``feature_blocks``: keep the blocks this workspace stores
                from .features.blocks import convert, parse_layout, stored_layout

                features = convert(
                    features, parse_layout(feature_blocks), stored_layout(self.catalog.get_meta, feature_dim)
                )
            if feature_dim:
                if features is None or features.shape != (len(vectors), feature_dim):
                    got = None if features is None else features.shape
                    raise ValueError(f"this workspace keeps ({len(vectors)}, {feature_dim}) features; got {got}")
                self.matrices.store("features", feature_dim).append(features, at_row=first)
            try:
                self.matrices.store("vectors", vectors.shape[1]).append(vectors, at_row=first)
                meta = (
                    {"embedder": self.embedder_name, "dim": vectors.shape[1], "feature_dim": feature_dim}
                    | ({"feature_blocks": feature_blocks} if feature_blocks and feature_dim else {})
                    if new_workspace
                    else None
                )
                video_id = self.catalog.videos.add(video, clips, first, self.embedder_name, meta)
            except BaseException:  # a full disk, Ctrl-C: leave no rows the catalog does not reference
                self.matrices.drop_rows_after(first)
                raise
        return video_id

    def reembed(self, embedder: str | Embedder, progress: bool = True) -> dict[str, Any]:
        """Recompute every clip's vectors with another embedder, keeping clips and annotations."""
        from .ingest.reembed import reembed

        if isinstance(embedder, str):
            from .embed import get_embedder

            embedder = get_embedder(embedder, device=self.settings.device, batch_size=self.settings.batch_size)
        return reembed(self, embedder, progress=progress)

    # -- labels and annotations ------------------------------------------------------------------
    @property
    def labels(self) -> Labels:
        return self.catalog.labels

    @property
    def annotations(self) -> Annotations:
        return self.catalog.annotations

    @property
    def models(self) -> ModelVersions:
        return self.catalog.models

    def create_label(self, name: str, description: str = "", keywords: Any = None) -> dict[str, Any]:
        return self.catalog.labels.create(name, description, keywords)

    def label(self, name_or_id: str | int) -> dict[str, Any]:
        return self.catalog.labels.get(name_or_id)

    def list_labels(self, include_archived: bool = False) -> list[dict[str, Any]]:
        return self.catalog.labels.list(include_archived=include_archived)

    def update_label(self, label: str | int, **changes: Any) -> dict[str, Any]:
        """Rename, edit the guideline or (un)archive (``name``, ``description``, ``keywords``,
        ``archived``, ``editor``); the label's history keeps what it was."""
        return self.catalog.labels.update(label, **changes)

    def label_history(self, label: str | int) -> list[dict[str, Any]]:
        """Every edit of the label's guideline, newest first."""
        return self.catalog.labels.history(self.label(label)["id"])

    def label_summary(self, label: str | int) -> dict[str, Any]:
        """A label with its annotation counts and its model versions."""
        lab = self.label(label)
        _, _, counts = self.catalog.annotations.training_set(lab["id"])
        return {
            **lab,
            "counts": counts,
            "versions": self.catalog.models.list(lab["id"]),
            "next": self.next_feed(lab["id"], counts),
        }

    def next_feed(self, label: str | int, counts: dict[str, int] | None = None) -> dict[str, Any]:
        """Where the label's next annotations should come from and why (``learn.next_feed``):
        ``{"feed": "search" | a feed name, "reason", "hunting"}``."""
        from .learn.next_feed import suggest

        label_id = self.label(label)["id"]
        if counts is None:
            counts = self.catalog.annotations.training_set(label_id)[2]
        found = self.catalog.annotations.found_by_source(label_id)
        return suggest(counts["positive"], counts["negative"], found=found).as_dict()

    def annotate(
        self,
        label: str | int,
        clip_ids: Any,
        value: str,
        annotator: str = "default",
        source: str = "cli",
        model_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> list[dict[str, Any]]:
        return self.catalog.annotations.add(
            self.label(label)["id"], clip_ids, value, annotator, source, model_version, idempotency_key=idempotency_key
        )

    def undo(self, label: str | int, annotator: str = "default", clip_id: int | None = None) -> dict[str, Any]:
        return self.catalog.annotations.undo(self.label(label)["id"], annotator, clip_id)

    # -- team mode: users and their tokens (team.py) -----------------------------------------
    def add_user(self, name: str) -> dict[str, Any]:
        """A new user and their token (shown this once: only its hash is stored)."""
        from .team import new_token, token_hash

        token = new_token()
        return {**self.catalog.users.add(name, token_hash(token)), "token": token}

    def list_users(self) -> list[dict[str, Any]]:
        return self.catalog.users.list()

    def revoke_user(self, name: str) -> dict[str, Any]:
        """The user's token stops working at once; their name stays in the event log."""
        return self.catalog.users.revoke(name)

    def user_for_token(self, token: str) -> dict[str, Any] | None:
        """The active user whose token this is (team mode), else None."""
        from .team import token_hash

        return self.catalog.users.by_token_hash(token_hash(token)) if token else None

    @property
    def team_mode(self) -> bool:
        """True once the workspace has an active user: the server then takes names from tokens."""
        return self.catalog.users.active_count() > 0

    # -- the annotation loop (loop/) -------------------------------------------------------------
    def search(
        self,
        text: str | None = None,
        clip_id: int | None = None,
        k: int = 20,
        offset: int = 0,
        label: str | int | None = None,
        hide_annotated: bool = False,
    ) -> list[dict[str, Any]]:
        """Clips like ``text`` (or like clip ``clip_id``), most similar first; with ``label``, each
        also carries the label's latest calibrated probability."""
        from .loop.clips import with_probabilities
        from .loop.search import search

        found = search(self, text, clip_id, k, offset, label, hide_annotated)
        return with_probabilities(self, found, label) if label is not None else found

    def build(self, label: str | int, seed: int = 0, n_feed: int = 100) -> dict[str, Any]:
        from .loop.build import build

        return build(self, label, seed, n_feed)

    def feed(
        self, label: str | int, name: str, n: int = 20, offset: int = 0, seed: int = 0, version: int | None = None
    ) -> dict[str, Any]:
        from .loop.feeds import feed

        return feed(self, label, name, n, offset, seed, version)

    def score_histogram(self, label: str | int, bins: int = 40, version: int | None = None) -> dict[str, Any]:
        from .loop.feeds import score_histogram

        return score_histogram(self, label, bins, version)

    def model_scores(self, label: str | int, version: int | None = None) -> npt.NDArray[np.float32]:
        """The version's score for every clip (clips ingested after it was built included)."""
        from .loop.scores import model_scores

        lab = self.label(label)
        return model_scores(self, self.catalog.models.get(lab["id"], version), lab["name"])

    def review(self, label: str | int, filter: str = "all") -> dict[str, Any]:
        from .loop.review import review

        return review(self, label, filter)

    def clip_labels(self, clip_id: int) -> dict[str, Any]:
        """One clip with, for every label, its latest model's score and the clip's current value."""
        from .loop.clips import clip_labels

        return clip_labels(self, clip_id)

    def export_model(self, label: str | int, version: int | None = None) -> dict[str, Any]:
        """The self-contained model artifact (``videoannotator.score`` applies it with numpy)."""
        from .registry.artifact import build_artifact

        return build_artifact(self, label, version)

    def export_annotations(self, label: str | int, events: bool = False) -> list[dict[str, Any]]:
        from .loop.export import export_annotations

        return export_annotations(self, label, events)

    # -- production: the registry, scoring, monitoring (registry/, score/, monitor/) ----------
    def versions(self, label: str | int) -> dict[str, Any]:
        """Every version of the label, the live one, and who deployed what when."""
        from .registry.versions import versions

        return versions(self, label)

    def deploy(
        self, label: str | int, version: int | None = None, deployer: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        """Put a version (default: the latest) into production; says which production
        decisions change. ``dry_run``: only say."""
        from .registry.versions import deploy

        return deploy(self, label, version, deployer, dry_run)

    def rollback(self, label: str | int, deployer: str | None = None) -> dict[str, Any]:
        from .registry.versions import rollback

        return rollback(self, label, deployer)

    def model_card(self, label: str | int) -> dict[str, Any]:
        from .registry.card import model_card

        return model_card(self, label)

    def score(
        self,
        paths: Sequence[str | os.PathLike[str]],
        labels: Sequence[str] | None = None,
        progress: bool = True,
        engine: Engine | None = None,
    ) -> dict[str, Any]:
        """Ingest what is new (on ``engine``: local by default, or Ray), then score every clip of
        the videos with the deployed versions: one row per clip × label."""
        from .score.production import score_paths

        return score_paths(self, paths, labels, progress=progress, engine=engine)

    def score_videos(self, video_ids: Sequence[int], labels: Sequence[str] | None = None) -> dict[str, Any]:
        """Score the clips of videos already in the catalog (by id) with the deployed versions."""
        from .score.production import score_videos

        return score_videos(self, video_ids, labels)

    def segments(self, label: str | int, video: str | int | None = None) -> dict[str, Any]:
        """The live version's above-threshold segments of one video or of all."""
        from .score.production import label_segments

        return label_segments(self, label, video)

    def export_segments(self, label: str | int, fmt: str, video: str | int | None = None) -> str:
        """The live version's segments as OpenTimelineIO, a CMX 3600 EDL, CSV or JSON text."""
        from .score.production import export_segments

        return export_segments(self, label, fmt, video)

    def timeline_png(self, video: str | int, labels: Sequence[str] | None = None) -> bytes:
        """The video's timeline drawn: one row per deployed label over the video's time."""
        from .score.production import timeline_png

        return timeline_png(self, video, labels)

    def timeline(self, video: str | int, labels: Sequence[str] | None = None) -> dict[str, Any]:
        """A video's clips with each deployed label's probability and segments."""
        from .score.production import resolve_video, video_tracks

        return video_tracks(self, resolve_video(self, video), labels)

    def monitor(self, label: str | int | None = None) -> dict[str, Any]:
        """Per deployed version: drift, positive rate per batch, live precision and recall."""
        from .monitor.report import monitor

        return monitor(self, label)

    def production_feed(self, label: str | int, n: int = 20, seed: int = 0) -> dict[str, Any]:
        from .monitor.report import production_feed

        return production_feed(self, label, n, seed)

    # -- keeping the data safe (backup.py, importer.py) -------------------------------------------
    def backup(self, dest: str | Path, progress: bool = True) -> dict[str, Any]:
        """A consistent copy of this (possibly busy) workspace in ``dest``, with a manifest."""
        from .backup import backup

        return backup(self, dest, progress=progress)

    @classmethod
    def restore(
        cls, src: str | Path, home: str | Path, progress: bool = True, settings: Settings | None = None
    ) -> dict[str, Any]:
        """Bring the backup ``src`` back into the new or empty ``home``, checking every file."""
        from .backup import restore

        return restore(src, home, progress=progress, settings=settings)

    def import_annotations(self, label: str | int, path: str | Path, annotator: str | None = None) -> dict[str, Any]:
        """Read back what ``va export`` wrote (annotations or events, JSONL or CSV) into ``label``."""
        from .importer import import_annotations

        return import_annotations(self, label, path, annotator=annotator)

    # -- the vector index and the corpus clusters ------------------------------------------------
    def index(self) -> VectorIndex:
        """The vector index over all clips (exact for small corpora, ANN above), brought up
        to date with the matrix: only rows added since the last call are indexed."""
        from .search import open_index

        with self._lock:
            n = self.clip_count()
            if self._index is None or self._index[0] != n:
                self._index = (n, open_index(self.index_path(), np.arange(n, dtype=np.int64), self.vectors()))
            return self._index[1]

    def clusters(self) -> npt.NDArray[np.float32] | None:
        """Cached k-means centroids of the corpus (diversity score), or None: the build then fits
        them and ``remember_clusters`` keeps them, on disk, until the corpus grows."""
        path = self._clusters_path()
        return np.load(path) if path.exists() else None

    def _clusters_path(self) -> Path:
        return self.home / "models" / f"clusters-g{self.generation}-{self.train_space}-{self.clip_count()}.npy"

    def remember_clusters(self, centroids: npt.ArrayLike | None) -> None:
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


def _open(home: Path) -> Catalog:
    """The workspace's folders and catalog, or one line saying why not."""
    try:
        for sub in ("thumbs", "previews", "models"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        return open_catalog(home)
    except VAError:
        raise
    except Exception as exc:  # noqa: BLE001 - OSError, or the catalog backend's own error
        free = _free_bytes(home)
        if free is not None and free < 1 << 20:  # SQLite says "disk I/O error" when it cannot even open
            raise DiskFull(
                f"cannot open the workspace {home}: its disk is full ({free:,} bytes free); "
                "free some space, then run the command again (nothing stored is lost)"
            ) from None
        reason = getattr(exc, "strerror", None) or str(exc)
        raise VAError(f"cannot use {home} as a workspace ({reason}); pick another --home or VA_HOME") from None


def _free_bytes(path: Path) -> int | None:
    """Free space on the filesystem holding ``path`` (or its nearest existing parent)."""
    import shutil

    for candidate in (path, *path.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None
