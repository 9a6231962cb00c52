"""The annotation event log and what it means now.

Every action appends a row. A clip's current value *for one annotator* is that annotator's
latest event; the *label's* value for a clip aggregates annotators by majority over
positive/negative votes (ties are unresolved and stay out of training).
"""

from __future__ import annotations

import builtins
import hashlib
import json
from collections import Counter, defaultdict
from typing import Any

from ...errors import Conflict, InvalidInput, NotFound
from ...names import MAX_ID
from ..base import Row, Rows
from ..rules import (
    SOURCES_MAX,
    aggregate,
    check_annotator,
    check_clip_ids,
    check_idempotency_key,
    check_value,
    utc_now,
)
from ..sql import Connection, inserted_id
from ..sql import Store as Catalog


def _fingerprint(
    label_id: int, clip_ids: list[int], value: str, annotator: str, source: str, model_version: int | None
) -> str:
    """What a request asked for, so a reused idempotency key can tell a retry from a new request."""
    request = [label_id, clip_ids, value, annotator, source, model_version]
    return hashlib.sha256(json.dumps(request, separators=(",", ":")).encode("utf-8", "surrogatepass")).hexdigest()


class Annotations:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def add(
        self,
        label_id: int,
        clip_ids: Any,
        value: Any,
        annotator: Any,
        source: str = "cli",
        model_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Rows:
        """Append one event per distinct clip, in one transaction; returns the events.

        With an ``idempotency_key`` the request is stored once: a retry with the same key
        and the same request gets the first call's events back (nothing new is written);
        the same key with a different request is a Conflict."""
        value, annotator = check_value(value), check_annotator(annotator)
        source = str(source or "cli")[:SOURCES_MAX]
        clip_ids = check_clip_ids(clip_ids)
        if model_version is not None and (
            isinstance(model_version, bool)
            or not hasattr(model_version, "__index__")
            or not 1 <= model_version <= MAX_ID
        ):
            raise InvalidInput(f"model version {model_version!r} is not a whole number from 1 to {MAX_ID}")
        request = None
        if idempotency_key is not None:
            idempotency_key = check_idempotency_key(idempotency_key)
            request = _fingerprint(label_id, clip_ids, value, annotator, source, model_version)
        now = utc_now()
        with self.catalog.transaction() as db:
            if idempotency_key is not None:
                earlier = db.execute(
                    "SELECT request, event_ids FROM idempotency_keys WHERE key=?", (idempotency_key,)
                ).fetchone()
                if earlier is not None:
                    if earlier["request"] != request:
                        raise Conflict(
                            f"idempotency key {idempotency_key!r} was used for a different request; "
                            "use a new key for a new request"
                        )
                    return [self._event(i, db) for i in json.loads(earlier["event_ids"])]
            known = {
                r[0]
                for r in db.execute(f"SELECT id FROM clips WHERE id IN ({','.join('?' * len(clip_ids))})", clip_ids)
            }
            missing = [c for c in clip_ids if c not in known]
            if missing:
                raise NotFound(
                    f"no clip with id {missing[0]}; ids are the numbers `va search`, `va feed` and `va review` print first"
                )
            ids: builtins.list[int] = []
            for clip_id in clip_ids:
                cur = db.execute(
                    "INSERT INTO annotations(label_id, clip_id, value, annotator, source, model_version, created_at)"
                    " VALUES (?,?,?,?,?,?,?) RETURNING id",
                    (label_id, clip_id, value, annotator, source, model_version, now),
                )
                ids.append(inserted_id(cur))
            if idempotency_key is not None:
                db.execute(
                    "INSERT INTO idempotency_keys(key, request, event_ids, created_at) VALUES (?,?,?,?)",
                    (idempotency_key, request, json.dumps(ids), now),
                )
        return [self._event(i) for i in ids]

    def undo(self, label_id: int, annotator: Any, clip_id: int | None = None) -> Row:
        """Undo the annotator's latest not-yet-undone event on this label (or on one clip):
        append an event restoring the value they had before it."""
        annotator = check_annotator(annotator)
        with self.catalog.transaction() as db:
            undone = {
                r[0]
                for r in db.execute(
                    "SELECT undoes FROM annotations WHERE label_id=? AND annotator=? AND undoes IS NOT NULL",
                    (label_id, annotator),
                )
            }
            sql = "SELECT * FROM annotations WHERE label_id=? AND annotator=? AND undoes IS NULL"
            params: builtins.list[object] = [label_id, annotator]
            if clip_id is not None:
                sql += " AND clip_id=?"
                params.append(int(clip_id))
            target = next((r for r in db.execute(sql + " ORDER BY id DESC", params) if r["id"] not in undone), None)
            if target is None:
                raise NotFound(f"nothing to undo for annotator {annotator!r} on this label")
            before = db.execute(
                "SELECT value FROM annotations WHERE label_id=? AND annotator=? AND clip_id=? AND id<? ORDER BY id DESC LIMIT 1",
                (label_id, annotator, target["clip_id"], target["id"]),
            ).fetchone()
            cur = db.execute(
                "INSERT INTO annotations(label_id, clip_id, value, annotator, source, model_version, undoes, created_at)"
                " VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                (
                    label_id,
                    target["clip_id"],
                    before[0] if before else "cleared",
                    annotator,
                    "undo",
                    target["model_version"],
                    target["id"],
                    utc_now(),
                ),
            )
            event_id = inserted_id(cur)
        return self._event(event_id)

    def _event(self, event_id: int, db: Connection | None = None) -> Row:
        rows = (db or self.catalog.connection()).execute("SELECT * FROM annotations WHERE id=?", (event_id,)).fetchall()
        return dict(rows[0])

    def events(self, label_id: int, since_id: int = 0) -> Rows:
        return [
            dict(r)
            for r in self.catalog.query(
                "SELECT * FROM annotations WHERE label_id=? AND id>? ORDER BY id", (label_id, since_id)
            )
        ]

    def last_event_id(self, label_id: int) -> int:
        return int(self.catalog.scalar("SELECT COALESCE(MAX(id), 0) FROM annotations WHERE label_id=?", (label_id,)))

    def current(self, label_id: int, up_to_id: int | None = None) -> dict[int, Row]:
        """clip_id -> {"votes": {annotator: value}, "value": aggregated}. ``up_to_id`` replays the log
        to a past moment (the exact snapshot a model version was built on)."""
        sql = (
            "SELECT a.clip_id, a.annotator, a.value FROM annotations a JOIN ("
            " SELECT MAX(id) AS id FROM annotations WHERE label_id=?"
            + (" AND id<=?" if up_to_id else "")
            + " GROUP BY clip_id, annotator) latest ON latest.id = a.id"
        )
        params = (label_id, up_to_id) if up_to_id else (label_id,)
        votes: dict[int, dict[str, str]] = defaultdict(dict)
        for clip_id, annotator, value in self.catalog.query(sql, params):
            if value != "cleared":
                votes[clip_id][annotator] = value
        return {clip: {"votes": v, "value": aggregate(v.values())} for clip, v in votes.items() if v}

    def found_by_source(self, label_id: int) -> dict[str, tuple[int, int]]:
        """source -> (clips whose latest vote from it is positive, clips voted on from it), over
        each (clip, annotator)'s latest vote: where the label's positives have been found (the
        source is what the client said: 'search', a feed name, 'cli', ...)."""
        sql = (
            "SELECT a.source, SUM(CASE WHEN a.value = 'positive' THEN 1 ELSE 0 END), COUNT(*) FROM annotations a JOIN ("
            " SELECT MAX(id) AS id FROM annotations WHERE label_id=? GROUP BY clip_id, annotator) latest"
            " ON latest.id = a.id WHERE a.value IN ('positive', 'negative') GROUP BY a.source"
        )
        return {str(source): (int(pos), int(n)) for source, pos, n in self.catalog.query(sql, (label_id,))}

    def training_set(
        self, label_id: int, up_to_id: int | None = None
    ) -> tuple[builtins.list[int], builtins.list[int], dict[str, int]]:
        """(clip ids, 0/1 labels, counts) from the aggregated current values."""
        current = self.current(label_id, up_to_id)
        ids: builtins.list[int] = []
        ys: builtins.list[int] = []
        counts = Counter(entry["value"] for entry in current.values())
        for clip_id in sorted(current):
            value = current[clip_id]["value"]
            if value in ("positive", "negative"):
                ids.append(clip_id)
                ys.append(1 if value == "positive" else 0)
        return ids, ys, {k: counts.get(k, 0) for k in ("positive", "negative", "skip", "unresolved")}

    def import_events(self, label_id: int, events: Rows, skip: str = "same_event") -> Row:
        """Append imported events in one transaction (all or none), in the order given.

        Each event: clip_id, value (positive/negative/skip/cleared), annotator, source,
        created_at, and optionally ref / undoes (the event's id and the id it undid in the
        file it came from, mapped to ids here). Idempotent: ``skip='same_event'`` leaves out
        an event this label already has (same clip, annotator, value, source and time);
        ``skip='same_value'`` one whose annotator's current value for the clip is that value
        already. Returns {"added", "present", "ids"}."""
        if skip not in ("same_event", "same_value"):
            raise ValueError(f"skip must be same_event or same_value, not {skip!r}")
        added, present = 0, 0
        ids: builtins.list[Any] = []
        here: dict[Any, Any] = {}
        with self.catalog.transaction() as db:
            for e in events:
                if skip == "same_event":
                    row = db.execute(
                        "SELECT id FROM annotations WHERE label_id=? AND clip_id=? AND annotator=? AND value=?"
                        " AND source=? AND created_at=? ORDER BY id LIMIT 1",
                        (label_id, e["clip_id"], e["annotator"], e["value"], e["source"], e["created_at"]),
                    ).fetchone()
                else:
                    row = db.execute(
                        "SELECT id, value FROM annotations WHERE label_id=? AND clip_id=? AND annotator=?"
                        " ORDER BY id DESC LIMIT 1",
                        (label_id, e["clip_id"], e["annotator"]),
                    ).fetchone()
                    row = row if row is not None and row["value"] == e["value"] else None
                if row is not None:
                    present += 1
                    event_id = row["id"]
                else:
                    cur = db.execute(
                        "INSERT INTO annotations(label_id, clip_id, value, annotator, source, model_version, undoes,"
                        " created_at) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                        (
                            label_id,
                            e["clip_id"],
                            e["value"],
                            e["annotator"],
                            str(e["source"])[:SOURCES_MAX],
                            None,
                            here.get(e.get("undoes")),
                            e["created_at"],
                        ),
                    )
                    added += 1
                    event_id = inserted_id(cur)
                if e.get("ref") is not None:
                    here[e["ref"]] = event_id
                ids.append(event_id)
        return {"added": added, "present": present, "ids": ids}
