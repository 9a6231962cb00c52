"""A label's guideline history: each edit keeps the values the label had before it (name,
description, keywords, archived), who made it and when (table ``label_history``,
migration 4). ``Labels.update`` records an edit in the same transaction as the change."""

from __future__ import annotations

import json
from typing import Any

from ..base import Row, Rows
from ..rules import utc_now
from ..sql import Connection
from ..sql import Store as Catalog

FIELDS = ("name", "description", "keywords", "archived")


def record_edit(db: Connection, before: Any, after: Any, editor: str) -> bool:
    """Inside the update's transaction: keep ``before`` if any guideline field changed."""
    changed = [f for f in FIELDS if before[f] != after[f]]
    if not changed:
        return False
    db.execute(
        "INSERT INTO label_history(label_id, name, description, keywords, archived, changed, editor, edited_at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (
            before["id"],
            before["name"],
            before["description"],
            before["keywords"],
            before["archived"],
            ",".join(changed),
            editor,
            utc_now(),
        ),
    )
    return True


def history(catalog: Catalog, label_id: int) -> Rows:
    """Every edit of the label, newest first: when, who, which fields, and the values before
    and after it (after = the next edit's before, or the label as it is now)."""
    rows = catalog.query("SELECT * FROM label_history WHERE label_id = ? ORDER BY id", (int(label_id),))
    now = catalog.query("SELECT * FROM labels WHERE id = ?", (int(label_id),))
    states = [_values(r) for r in rows] + ([_values(now[0])] if now else [])
    out: Rows = []
    for i, r in enumerate(rows):
        out.append(
            {
                "edited_at": r["edited_at"],
                "editor": r["editor"],
                "changed": r["changed"].split(","),
                "before": states[i],
                "after": states[i + 1] if i + 1 < len(states) else None,
            }
        )
    return out[::-1]


def _values(row: Any) -> Row:
    return {
        "name": row["name"],
        "description": row["description"],
        "keywords": json.loads(row["keywords"]),
        "archived": bool(row["archived"]),
    }
