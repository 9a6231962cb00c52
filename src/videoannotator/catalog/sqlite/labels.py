"""Labels: one binary concept each, with the guideline (description, keywords) annotators see."""

from __future__ import annotations

import builtins
import json
from typing import Any

from ...errors import Conflict, InvalidInput, NotFound
from ...names import MAX_ID
from ..base import Row, Rows
from ..rules import check_keywords as _keywords
from ..rules import utc_now, validate_name
from ..sql import Store as Catalog
from ..sql import inserted_id


def _row(r: Any) -> Row:
    return {
        "id": r["id"],
        "name": r["name"],
        "description": r["description"],
        "keywords": json.loads(r["keywords"]),
        "archived": bool(r["archived"]),
        "created_at": r["created_at"],
        "updated_at": r["updated_at"],
    }


class Labels:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def create(self, name: str, description: str = "", keywords: Any = None) -> Row:
        name = validate_name(name)
        if len(description or "") > 5000:
            raise InvalidInput("description: at most 5,000 characters")
        now = utc_now()
        with self.catalog.transaction() as db:
            if db.execute("SELECT 1 FROM labels WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"a label named {name!r} exists already; pick another name or use it")
            cur = db.execute(
                "INSERT INTO labels(name, description, keywords, created_at, updated_at) VALUES (?,?,?,?,?)"
                " RETURNING id",
                (name, description or "", json.dumps(_keywords(keywords)), now, now),
            )
            label_id = inserted_id(cur)
        return self.get(label_id)

    def get(self, name_or_id: str | int) -> Row:
        """By name first (a workspace from before names were refused as all digits may hold
        one), then by id: an int, or a string of ASCII digits (not '²', which isdigit() takes)."""
        by_id = isinstance(name_or_id, int) and not isinstance(name_or_id, bool)
        rows = [] if by_id else self._by_name(name_or_id)
        text = str(name_or_id)
        if not rows and (by_id or (text.isascii() and text.isdigit())) and 0 <= int(text) <= MAX_ID:
            rows = self.catalog.query("SELECT * FROM labels WHERE id = ?", (int(text),))
        if not rows:
            raise NotFound(f"no label {name_or_id!r}; `va label list` shows the labels, `va label create` makes one")
        return _row(rows[0])

    def _by_name(self, name: object) -> builtins.list[Any]:
        return self.catalog.query("SELECT * FROM labels WHERE name = ?", (str(name),))

    def list(self, include_archived: bool = False) -> Rows:
        sql = "SELECT * FROM labels" + ("" if include_archived else " WHERE archived = 0")
        # By name, ignoring ASCII case (SQLite's NOCASE order), sorted here: PostgreSQL's
        # case-insensitive collation (ICU) orders punctuation differently.
        return sorted((_row(r) for r in self.catalog.query(sql)), key=lambda label: label["name"].lower())

    def update(
        self,
        name_or_id: str | int,
        *,
        name: str | None = None,
        description: str | None = None,
        keywords: Any = None,
        archived: bool | None = None,
        editor: str | None = None,
    ) -> Row:
        """Rename, edit the guideline or (un)archive. The values the label had before are kept in
        its history (who: ``editor``, default $VA_ANNOTATOR or the login name; when; old text),
        in the same transaction as the change (``va label history``)."""
        from ..rules import check_editor
        from .label_history import record_edit

        label = self.get(name_or_id)
        editor = check_editor(editor)
        fields: builtins.list[str] = []
        params: builtins.list[object] = []
        if name is not None:
            new = validate_name(name)
            if new.lower() != label["name"].lower() and self._by_name(new):
                raise Conflict(f"a label named {new!r} exists already")
            fields.append("name = ?")
            params.append(new)
        if description is not None:
            fields.append("description = ?")
            params.append(str(description))
        if keywords is not None:
            fields.append("keywords = ?")
            params.append(json.dumps(_keywords(keywords)))
        if archived is not None:
            fields.append("archived = ?")
            params.append(int(bool(archived)))
        if fields:
            with self.catalog.transaction() as db:
                before = db.execute("SELECT * FROM labels WHERE id = ?", (label["id"],)).fetchone()
                db.execute(
                    f"UPDATE labels SET {', '.join(fields)}, updated_at = ? WHERE id = ?",
                    (*params, utc_now(), label["id"]),
                )
                record_edit(
                    db, before, db.execute("SELECT * FROM labels WHERE id = ?", (label["id"],)).fetchone(), editor
                )
        return self.get(label["id"])

    def history(self, label_id: int) -> Rows:
        """Every edit of the label's guideline, newest first (``label_history.history``)."""
        from .label_history import history

        return history(self.catalog, label_id)
