"""What the table classes (``catalog/sqlite/{videos,labels,annotations,...}.py``) need from a SQL
store, whichever database holds it: SQLite (``sqlite/catalog.py``) or PostgreSQL
(``postgres/store.py``).

The table classes write one dialect: ``?`` placeholders (the PostgreSQL store turns them into
``%s``), ``INSERT ... RETURNING id`` (never ``lastrowid``; SQLite >= 3.35 has RETURNING), rows
that answer both ``row[0]`` and ``row["name"]`` and turn into a dict with ``dict(row)``, and
``transaction()`` for every write: one writer at a time, as SQLite's BEGIN IMMEDIATE is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

# What ``execute`` binds: positional values (a tuple or list) or named ones.
Params = Sequence[Any] | Mapping[str, Any]


class Cursor(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, parameters: Params = ..., /) -> Cursor: ...
    def executemany(self, sql: str, parameters: Iterable[Params], /) -> Cursor: ...


class Store(Protocol):
    def connection(self) -> Connection: ...
    def transaction(self) -> AbstractContextManager[Connection]: ...
    def query(self, sql: str, params: Params = ()) -> list[Any]: ...
    def scalar(self, sql: str, params: Params = ()) -> Any: ...
    def get_meta(self, key: str, default: Any = None) -> Any: ...
    def set_meta(self, key: str, value: object, db: Connection | None = None) -> None: ...


def inserted_id(cursor: Cursor) -> int:
    """The id an ``INSERT ... RETURNING id`` produced."""
    row = cursor.fetchone()
    return int(row[0])


class MetaValues:
    """The schema version and the meta values, the same SQL on both stores (a mixin: the store
    gives ``scalar`` and ``connection``)."""

    def scalar(self, sql: str, params: Params = ()) -> Any:
        raise NotImplementedError

    def connection(self) -> Any:
        raise NotImplementedError

    @property
    def schema_version(self) -> int:
        return int(self.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    def get_meta(self, key: str, default: Any = None) -> Any:
        value = self.scalar("SELECT value FROM meta WHERE key=?", (key,))
        return default if value is None else value

    def set_meta(self, key: str, value: object, db: Connection | None = None) -> None:
        (db or self.connection()).execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, str(value)),
        )
