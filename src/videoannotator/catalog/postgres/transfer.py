"""Rows between a PostgreSQL catalog and an SQLite file of the same schema.

``to_sqlite``: ``va backup`` of a PostgreSQL workspace writes its catalog as ``catalog.sqlite``
(one consistent snapshot: a REPEATABLE READ transaction), so every backup restores anywhere.
``from_sqlite``: a fresh schema whose workspace folder holds a ``catalog.sqlite`` (a restored
backup, or a SQLite workspace moving to PostgreSQL) takes its rows, ids kept.
``from_schema``: a fresh schema of a copied workspace folder takes the original schema's rows.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from ...errors import VAError
from ..sqlite.catalog import Catalog as SQLiteStore
from ..sqlite.migrations import MIGRATIONS
from ..sqlite.snapshot import synced_size
from .store import Connection, PostgresStore

CHUNK = 5000
BINDING = "catalog_workspace"  # the meta key naming the workspace a schema belongs to


def _tables(db: sqlite3.Connection) -> list[str]:
    """The schema's tables in creation order (parents before the tables that refer to them)."""
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name != 'schema_migrations' ORDER BY rowid"
    ).fetchall()
    return [r[0] for r in rows]


def to_sqlite(store: PostgresStore, target: Path) -> int:
    """Write the catalog as it is now into a new SQLite file at ``target``; returns its size."""
    SQLiteStore(target).close()  # the same migrations: the same tables, empty
    dst = sqlite3.connect(str(target), isolation_level=None)
    src = store.connect()
    try:
        src.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        dst.execute("BEGIN")
        for table in _tables(dst):
            cur = src.raw.cursor(name=f"va_copy_{table}")  # server-side: a table never sits in memory whole
            cur.execute(f"SELECT * FROM {table} ORDER BY 1")
            insert = ""
            while rows := cur.fetchmany(CHUNK):
                if not insert:
                    columns = [c.name for c in cur.description or ()]
                    insert = f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
                dst.executemany(insert, [tuple(r) for r in rows])
            cur.close()
        dst.execute("DELETE FROM meta WHERE key = ?", (BINDING,))
        dst.execute("COMMIT")
        src.execute("COMMIT")
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    return synced_size(target)


def from_sqlite(db: Connection, source: Path) -> dict[str, int]:
    """Inside the caller's transaction on the (empty) schema: every row of the SQLite catalog at
    ``source``, ids kept, and the identity sequences moved past them; returns rows per table."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    counts: dict[str, int] = {}
    try:
        for table in _tables(src):
            cur = src.execute(f"SELECT * FROM {table} ORDER BY 1")
            columns = [c[0] for c in cur.description]
            insert = f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            counts[table] = 0
            while rows := cur.fetchmany(CHUNK):
                db.executemany(insert, [_values(r) for r in rows])
                counts[table] += len(rows)
            if "id" in columns:
                db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false)"
                    f" FROM {table}"
                )
        db.execute("DELETE FROM meta WHERE key = ?", (BINDING,))
    finally:
        src.close()
    return counts


def _values(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)


def _migration_tables() -> list[str]:
    """The migrations' tables in creation order (parents first)."""
    return [name for _, sql in MIGRATIONS for name in re.findall(r"CREATE TABLE (\w+)", sql)]


def schema_exists(db: Connection, schema: str) -> bool:
    return bool(db.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?)", (schema,)).fetchone()[0])


def from_schema(db: Connection, source: str, target: str) -> None:
    """Inside the caller's transaction on the (empty) ``target``: every row of ``source`` (both
    made by the same migrations), ids kept, identity sequences moved past them."""
    versions = [
        db.execute(f'SELECT COALESCE(MAX(version), 0) FROM "{schema}".schema_migrations').fetchone()[0]
        for schema in (source, target)
    ]
    if versions[0] != versions[1]:
        raise VAError(
            f"this workspace folder is a copy of the one whose catalog is in schema {source!r}, which is at "
            f"schema version {versions[0]}, not {versions[1]}; open the original once with this version first"
        )
    for table in _migration_tables():
        db.execute(f'INSERT INTO "{target}".{table} SELECT * FROM "{source}".{table}')
        has_id = db.execute(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
            " AND column_name = 'id')",
            (target, table),
        ).fetchone()[0]
        if has_id:
            db.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{target}\".{table}', 'id'), COALESCE(MAX(id), 0) + 1,"
                f' false) FROM "{target}".{table}'
            )
    db.execute("DELETE FROM meta WHERE key = ?", (BINDING,))
