"""Deployments (which version of a label is live) and score batches (what a live version
scored, when) in SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ...errors import InvalidInput
from ..base import Row, Rows
from ..rules import check_editor, utc_now
from ..sql import Store as Catalog
from ..sql import inserted_id

ACTIONS = ("deploy", "rollback")


class Deployments:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def record(self, label_id: int, version: int, action: str, deployer: str | None, note: str = "") -> Row:
        if action not in ACTIONS:
            raise InvalidInput(f"deployment action must be one of {', '.join(ACTIONS)}, not {action!r}")
        who = check_editor(deployer)
        with self.catalog.transaction() as db:
            cur = db.execute(
                "INSERT INTO deployments(label_id, version, action, deployer, note, created_at) VALUES (?,?,?,?,?,?)"
                " RETURNING id",
                (int(label_id), int(version), action, who, str(note)[:500], utc_now()),
            )
            row = db.execute("SELECT * FROM deployments WHERE id = ?", (inserted_id(cur),)).fetchone()
        return dict(row)

    def current(self, label_id: int) -> Row | None:
        rows = self.catalog.query(
            "SELECT * FROM deployments WHERE label_id = ? ORDER BY id DESC LIMIT 1", (int(label_id),)
        )
        return dict(rows[0]) if rows else None

    def history(self, label_id: int) -> Rows:
        """Every deploy and rollback of the label, oldest first."""
        return [
            dict(r)
            for r in self.catalog.query("SELECT * FROM deployments WHERE label_id = ? ORDER BY id", (int(label_id),))
        ]

    def live(self) -> dict[int, int]:
        """label id -> its live version, for every label with one."""
        rows = self.catalog.query(
            "SELECT d.label_id, d.version FROM deployments d JOIN ("
            " SELECT label_id, MAX(id) AS id FROM deployments GROUP BY label_id) latest ON latest.id = d.id"
        )
        return {int(r["label_id"]): int(r["version"]) for r in rows}


class ScoreBatches:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def add(
        self,
        label_id: int,
        version: int,
        source: str,
        clip_ranges: Sequence[tuple[int, int]],
        clips: int,
        positives: int,
    ) -> Row:
        batch = {
            "label_id": label_id,
            "version": version,
            "source": source,
            "clip_ranges": clip_ranges,
            "clips": clips,
            "positives": positives,
        }
        return self.add_many([batch])[0]

    def add_many(self, batches: Sequence[Row]) -> Rows:
        """Several batches (keys as ``add``'s parameters) in one transaction."""
        now = utc_now()
        ids: list[int] = []
        with self.catalog.transaction() as db:
            for b in batches:
                cur = db.execute(
                    "INSERT INTO score_batches(label_id, version, source, clip_ranges, clips, positives, created_at)"
                    " VALUES (?,?,?,?,?,?,?) RETURNING id",
                    (
                        int(b["label_id"]),
                        int(b["version"]),
                        str(b["source"])[:64],
                        json.dumps([list(r) for r in b["clip_ranges"]]),
                        int(b["clips"]),
                        int(b["positives"]),
                        now,
                    ),
                )
                ids.append(inserted_id(cur))
            rows = [db.execute("SELECT * FROM score_batches WHERE id = ?", (i,)).fetchone() for i in ids]
        return [_batch(r) for r in rows]

    def list(self, label_id: int, version: int | None = None) -> Rows:
        if version is None:
            rows = self.catalog.query("SELECT * FROM score_batches WHERE label_id = ? ORDER BY id", (int(label_id),))
        else:
            rows = self.catalog.query(
                "SELECT * FROM score_batches WHERE label_id = ? AND version = ? ORDER BY id",
                (int(label_id), int(version)),
            )
        return [_batch(r) for r in rows]


def _batch(row: Any) -> Row:
    out: Row = dict(row)
    out["clip_ranges"] = [tuple(r) for r in json.loads(out["clip_ranges"])]
    return out
