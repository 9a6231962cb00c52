"""Team mode's users: a name and the SHA-256 of their token, never the token itself."""

from __future__ import annotations

from ...errors import Conflict, InvalidInput, NotFound
from ..base import Row, Rows
from ..rules import check_annotator, utc_now
from ..sql import Store as Catalog

COLUMNS = "id, name, created_at, revoked_at"  # never the hash: nothing that lists users shows it


class Users:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def add(self, name: str, token_hash: str) -> Row:
        name = check_annotator(name)
        if len(token_hash) != 64:
            raise InvalidInput("a user's token hash is a SHA-256 hex digest")
        with self.catalog.transaction() as db:
            old = db.execute("SELECT id, revoked_at FROM users WHERE name = ?", (name,)).fetchone()
            if old is not None and old["revoked_at"] is None:
                raise Conflict(
                    f"a user named {name!r} exists already; for a new token: `va users revoke {name}`, "
                    f"then `va users add {name}`"
                )
            if old is not None:  # a revoked user comes back with a new token, under the same name
                db.execute(
                    "UPDATE users SET token_hash = ?, created_at = ?, revoked_at = NULL WHERE id = ?",
                    (token_hash, utc_now(), old["id"]),
                )
            else:
                db.execute(
                    "INSERT INTO users(name, token_hash, created_at) VALUES (?, ?, ?)", (name, token_hash, utc_now())
                )
            row = db.execute(f"SELECT {COLUMNS} FROM users WHERE name = ?", (name,)).fetchone()
        return dict(row)

    def by_token_hash(self, token_hash: str) -> Row | None:
        rows = self.catalog.query(
            f"SELECT {COLUMNS} FROM users WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,)
        )
        return dict(rows[0]) if rows else None

    def list(self) -> Rows:
        return [dict(r) for r in self.catalog.query(f"SELECT {COLUMNS} FROM users ORDER BY id")]

    def revoke(self, name: str) -> Row:
        with self.catalog.transaction() as db:
            row = db.execute(f"SELECT {COLUMNS} FROM users WHERE name = ?", (str(name),)).fetchone()
            if row is None:
                raise NotFound(f"no user named {name!r}; `va users list` shows them")
            if row["revoked_at"] is None:
                db.execute("UPDATE users SET revoked_at = ? WHERE id = ?", (utc_now(), row["id"]))
            row = db.execute(f"SELECT {COLUMNS} FROM users WHERE id = ?", (row["id"],)).fetchone()
        return dict(row)

    def active_count(self) -> int:
        return int(self.catalog.scalar("SELECT COUNT(*) FROM users WHERE revoked_at IS NULL"))
