"""The PostgreSQL catalog, for a team: ``VA_CATALOG_URL=postgresql://USER@HOST/DB[?schema=...]``.

The same interface (``catalog.base.Catalog``), the same table classes (``catalog/sqlite/``'s
videos, labels, annotations, ...: they speak a dialect both databases run, see ``catalog/sql.py``)
and the same migrations (translated by ``store.py``). Each workspace's tables live in their own
schema (``url.py``); a schema is bound to the workspace that first used it, and another
workspace is refused. Vectors, features, model scores and thumbnails stay in the workspace
folder (a shared volume for a team). The workspace's write lock is the folder's file lock
*and* a session-level advisory lock on the schema, so two hosts that share the catalog but do
not share flock semantics (NFS) still have one writer at a time.

psycopg 3 is an optional extra: ``pip install 'videoannotator[postgres]'``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from ...errors import MissingDependency, VAError
from ..filelock import FileLock
from ..sqlite import COUNTED_TABLES
from ..sqlite.tables import SharedTables
from . import transfer
from .store import WRITE_LOCK, Connection, PostgresStore
from .url import check_url, parse, record_url, redact

INSTALL = "pip install 'videoannotator[postgres]'"


class PostgresCatalog(SharedTables, PostgresStore):
    def __init__(self, conninfo: str, schema: str, where: str, models_dir: str | Path) -> None:
        super().__init__(conninfo, schema, where)
        self._attach_tables(models_dir)
        self._file_lock = FileLock(Path(models_dir).parent / ".write.lock")

    def write_lock(self, blocking: bool = True) -> AbstractContextManager[bool]:
        return self._hold(blocking)

    @contextmanager
    def _hold(self, blocking: bool) -> Iterator[bool]:
        """The folder's file lock, then the schema's advisory lock on a connection of its own
        (a session lock: it outlives transactions; the connection's end releases it, crash included)."""
        with self._file_lock.hold(blocking) as held:
            if not held:
                yield False
                return
            conn = self.connect(search_path=False)
            try:
                if blocking:
                    conn.execute("SELECT pg_advisory_lock(?, ?)", (WRITE_LOCK, self.key))
                elif not conn.execute("SELECT pg_try_advisory_lock(?, ?)", (WRITE_LOCK, self.key)).fetchone()[0]:
                    yield False
                    return
                yield True
            finally:
                conn.close()  # releases the session's advisory locks

    def size_bytes(self) -> int:
        """The schema's tables and indexes on the server."""
        return int(
            self.scalar(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind = 'r'",
                (self.schema,),
            )
        )

    def snapshot_to(self, target: Path) -> int:
        """One consistent snapshot of the catalog as an SQLite file (``transfer.to_sqlite``)."""
        return transfer.to_sqlite(self, target)

    def table_counts(self) -> dict[str, int]:
        return {t: int(self.scalar(f"SELECT COUNT(*) FROM {t}")) for t in COUNTED_TABLES}

    def bind(self, workspace_id: str, home: Path, copied_from: str | None = None) -> None:
        """Claim the schema for this workspace, or refuse if another workspace holds it. An empty
        schema starts, in the claiming transaction, as a copy of ``copied_from`` (the schema of
        the workspace this folder was copied from), else of a ``catalog.sqlite`` in the folder (a
        restored backup, a SQLite workspace moving here; the file is then set aside)."""
        bound = self.get_meta(transfer.BINDING)
        legacy = home / "catalog.sqlite"
        imported = False
        if bound is None:
            with self.transaction() as db:  # under the write-transaction lock: one claimant wins
                row = db.execute("SELECT value FROM meta WHERE key = ?", (transfer.BINDING,)).fetchone()
                bound = None if row is None else row[0]
                if bound is None:
                    if _empty(db):
                        if copied_from is not None and transfer.schema_exists(db, copied_from):
                            transfer.from_schema(db, copied_from, self.schema)
                        elif legacy.is_file():
                            transfer.from_sqlite(db, legacy)
                            imported = True
                    db.execute("INSERT INTO meta(key, value) VALUES (?, ?)", (transfer.BINDING, workspace_id))
                    bound = workspace_id
        if bound != workspace_id:
            raise VAError(
                f"the PostgreSQL schema {self.schema!r} at {self.where} holds the catalog of another workspace "
                f"(id {bound}; this one is {workspace_id}); give this workspace its own schema "
                "(?schema=va_{workspace} in VA_CATALOG_URL)"
            )
        if imported:
            legacy.rename(home / ".catalog.sqlite.imported")  # out of backups, never read again


def _empty(db: Connection) -> bool:
    row = db.execute(
        "SELECT EXISTS (SELECT 1 FROM meta) OR EXISTS (SELECT 1 FROM videos) OR EXISTS (SELECT 1 FROM labels)"
        " OR EXISTS (SELECT 1 FROM users)"
    ).fetchone()
    return not row[0]


def open_postgres(url: str, home: Path) -> PostgresCatalog:
    """The PostgreSQL catalog ``url`` names for the workspace at ``home``."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise MissingDependency(
            f"VA_CATALOG_URL names a PostgreSQL catalog, which needs psycopg 3: {INSTALL}"
        ) from None
    target = parse(url, home)
    check_url(home, url)
    try:
        catalog = PostgresCatalog(target.conninfo, target.schema, target.where, home / "models")
    except VAError:
        raise
    except Exception as exc:  # noqa: BLE001 - the server's own error, as one line
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise VAError(f"cannot open the PostgreSQL catalog {redact(url)} ({message})") from None
    try:
        catalog.bind(target.workspace_id, home, target.copied_from)
        record_url(home, url)  # only now: a URL that never opened is not remembered
    except BaseException:
        catalog.close()
        raise
    return catalog


__all__ = ["PostgresCatalog", "open_postgres"]
