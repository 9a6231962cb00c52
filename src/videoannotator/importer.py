"""``import_annotations(ws, label, path)``: read back what ``va export`` wrote.

Two kinds of file, each as JSONL or CSV (the kind is told by the columns):

- **annotations** (``--what annotations``): one row per clip with its current value and,
  in JSONL, every annotator's vote. Each vote becomes one event here (source ``import``),
  so the label's current values equal the exported ones. CSV carries no votes: a row
  becomes one vote by ``annotator`` (default: $VA_ANNOTATOR or the login name), and an
  ``unresolved`` row (a tie, which one vote cannot express) is reported, not imported.
- **events** (``--what events``): the raw log, replayed in order with its annotators,
  sources and times (undo links follow; model versions, which belong to the other
  workspace, are dropped).

Which clip here a row means:
- rows that carry ``content_hash`` and ``position`` (every row ``va export`` writes, of
  either kind) are matched by those: the video's content and the clip's place in it,
  whatever the clip ids.
- older annotation rows carry the video's path and the clip's time range. The video is the
  one stored under that path, else (where the file is at that path on this machine) the one
  with its content hash, else the one video with that file name; the clip is the one of
  that video spanning the same time range (to the millisecond).
- older event rows carry only clip ids: they import into a workspace whose clip ids agree
  with the source's (a restored backup, or the same files ingested in the same order with
  the same settings); an id missing here is reported.
- Rows that match no clip are each reported on one line and nothing is imported.

Importing the same file again adds nothing: an event already here (same clip, annotator,
value, source and time) is skipped, and so is a vote the annotator's current value already
equals.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, TypeVar

from .catalog.rules import aggregate, check_annotator, utc_now
from .errors import ImportMismatch, InvalidInput, NotFound

if TYPE_CHECKING:
    from .catalog.base import ClipLookup
    from .workspace import Workspace

#: One row of an export file (a JSON object, or a CSV row by header), and its events.
Row = dict[str, Any]
Rows = list[tuple[int, Row]]  # (line number, row)
Event = dict[str, Any]
_T = TypeVar("_T")

MAX_ROWS = 2_000_000
MAX_ID = 2**62
GUARDED = ("=", "+", "-", "@", "\t", "\r")  # what export.to_csv prefixes with a quote
CURRENT_VALUES = ("positive", "negative", "skip", "unresolved")
EVENT_VALUES = ("positive", "negative", "skip", "cleared")


def import_annotations(
    ws: Workspace, label: str | int, path: str | os.PathLike[str], annotator: str | None = None
) -> dict[str, Any]:
    """Import an export of annotations or events into ``label`` (created if missing), all or
    nothing; returns what was read, added and left out."""
    path = Path(path)
    rows, fmt = read_rows(path)
    kind = _kind(rows, path)
    lookup = ws.catalog.lookup()
    if kind == "annotations":
        events, problems, left_out = _from_current(rows, lookup, annotator)
        skip = "same_value"
    else:
        events, problems = _from_events(rows, lookup)
        left_out, skip = [], "same_event"
    if problems:
        raise ImportMismatch(
            f"{len(problems)} of {len(rows)} rows of {path} match no clip in this workspace (listed above); "
            "nothing was imported; ingest the missing videos (with the same settings) and import again",
            problems,
        )
    try:
        target = ws.labels.get(label)
        created = False
    except NotFound:
        if not isinstance(label, str):
            raise  # an id names an existing label; only a name can be created
        target, created = ws.labels.create(label), True
    stored = ws.annotations.import_events(target["id"], events, skip=skip)
    return {
        "label": target["name"],
        "created_label": created,
        "file": str(path),
        "format": fmt,
        "kind": kind,
        "rows": len(rows),
        "events_added": stored["added"],
        "events_present": stored["present"],
        "clips": len({e["clip_id"] for e in events}),
        "not_imported": left_out,
    }


# -- reading ----------------------------------------------------------------------------------
def read_rows(path: Path) -> tuple[Rows, str]:
    """(line number, row) pairs and the format, 'jsonl' or 'csv'; CSV cells un-guarded."""
    if not path.is_file():
        raise InvalidInput(f"no file {path}; give a file written by `va export LABEL --what annotations|events`")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text; give a file written by `va export`") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path} ({exc.strerror or exc})") from None
    suffix = path.suffix.lower()
    fmt = (
        "csv"
        if suffix == ".csv"
        else "jsonl"
        if suffix in (".jsonl", ".ndjson", ".json")
        else "jsonl"
        if text.lstrip()[:1] == "{"
        else "csv"
    )
    rows = _jsonl_rows(text, path) if fmt == "jsonl" else _csv_rows(text, path)
    if not rows:
        raise InvalidInput(f"{path} holds no rows; export some annotations first")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"{path} holds over {MAX_ROWS:,} rows; split it and import the parts")
    return rows, fmt


def _jsonl_rows(text: str, path: Path) -> Rows:
    rows: Rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            row = None
        if not isinstance(row, dict):
            raise InvalidInput(f"{path} line {n} is not a JSON object; give a file written by `va export`")
        rows.append((n, row))
    return rows


def _csv_rows(text: str, path: Path) -> Rows:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: Rows = []
    try:
        for row in reader:
            if None in row or None in row.values():
                raise InvalidInput(
                    f"{path} line {reader.line_num} has {'more' if None in row else 'fewer'} cells "
                    "than the header; give a file written by `va export`"
                )
            rows.append((reader.line_num, {k: unguard(v) for k, v in row.items()}))
    except csv.Error as exc:
        raise InvalidInput(f"{path} line {reader.line_num} is not valid CSV ({exc})") from None
    return rows


def unguard(cell: str) -> str:
    """Undo export.to_csv's formula guard: "'=x" was "=x" (a text cell starting = + - @)."""
    if cell[:1] == "'" and cell[1:2] in GUARDED and cell[1:2] != "":
        return cell[1:]
    return cell


def _kind(rows: Rows, path: Path) -> str:
    keys = set(rows[0][1])
    if {"clip_id", "value", "annotator", "created_at"} <= keys:
        return "events"
    if {"clip_id", "value"} <= keys:
        return "annotations"
    raise InvalidInput(
        f"{path} has columns {', '.join(sorted(keys))[:200]}: neither an annotations nor an events "
        "export (needs clip_id and value; events also annotator and created_at)"
    )


# -- rows -> events ---------------------------------------------------------------------------
def _from_current(rows: Rows, lookup: ClipLookup, annotator: str | None) -> tuple[list[Event], list[str], list[str]]:
    from .catalog.rules import check_editor

    default_annotator = check_editor(annotator)
    now = utc_now()
    events: list[Event] = []
    problems: list[str] = []
    left_out: list[str] = []
    seen: dict[int, int] = {}  # clip id -> line
    hashes: dict[str, str | None] = {}  # video path -> content hash
    for n, row in rows:
        value = _choice(row.get("value"), CURRENT_VALUES, "value", n)
        votes = row.get("votes")
        if votes is not None:
            if not isinstance(votes, dict) or not votes:
                raise InvalidInput(f"line {n}: votes must be an object of annotator: value")
            votes = {
                check_annotator(a): _choice(v, ("positive", "negative", "skip"), "vote", n) for a, v in votes.items()
            }
            if aggregate(votes.values()) != value:
                raise InvalidInput(
                    f"line {n}: the votes {votes} make {aggregate(votes.values())!r}, not {value!r}; "
                    "the file was edited or damaged"
                )
        clip_id, why = _match_current(row, n, lookup, hashes)
        if clip_id is None:
            problems.append(f"line {n}: clip {row.get('clip_id')} ({_where(row)}): {why}")
            continue
        if clip_id in seen:
            problems.append(f"line {n}: the same clip here as line {seen[clip_id]} ({_where(row)})")
            continue
        seen[clip_id] = n
        if votes is None:
            if value == "unresolved":
                left_out.append(
                    f"line {n}: clip {row.get('clip_id')} is unresolved (a tie), which CSV cannot "
                    "carry without the votes; import the JSONL export to keep it"
                )
                continue
            votes = {default_annotator: value}
        for who, vote in sorted(votes.items()):
            events.append({"clip_id": clip_id, "value": vote, "annotator": who, "source": "import", "created_at": now})
    return events, problems, left_out


def _match_current(row: Row, n: int, lookup: ClipLookup, hashes: dict[str, str | None]) -> tuple[int | None, str]:
    """This workspace's clip for an annotation row, or (None, why)."""
    from .ingest.pipeline import content_hash

    if row.get("content_hash") and row.get("position") not in (None, ""):
        video_id = lookup.video_by_hash(str(row["content_hash"]))
        if video_id is None:
            return None, "no video here with that content hash"
        clip_id = lookup.clip_by_position(video_id, _int(row["position"], "position", n))
        return (clip_id, "") if clip_id is not None else (None, "the video here has no clip at that position")
    video = row.get("video")
    if not video or row.get("start") in (None, "") or row.get("end") in (None, ""):
        raise InvalidInput(f"line {n}: an annotations row needs video, start and end (as `va export` writes them)")
    video = str(video)
    start, end = _float(row["start"], "start", n), _float(row["end"], "end", n)
    video_id = lookup.video_by_path(video)
    if video_id is None and Path(video).is_file():
        if video not in hashes:
            try:
                hashes[video] = content_hash(Path(video))
            except Exception:  # noqa: BLE001 - an unreadable file just does not match by content
                hashes[video] = None
        known_hash = hashes[video]
        video_id = lookup.video_by_hash(known_hash) if known_hash else None
    if video_id is None:
        named = lookup.videos_named(PurePath(video).name)
        if len(named) > 1:
            return None, f"{len(named)} videos here are named {PurePath(video).name!r}; cannot tell which"
        video_id = named[0] if named else None
    if video_id is None:
        return None, "no video here with that path, content or file name"
    clip_id = lookup.clip_at(video_id, start, end)
    if clip_id is None:
        return None, "the video is here but no clip of it spans that time (ingested with other settings?)"
    return clip_id, ""


def _from_events(rows: Rows, lookup: ClipLookup) -> tuple[list[Event], list[str]]:
    events: list[Event] = []
    for n, row in rows:
        event: Event = {
            "clip_id": _int(row.get("clip_id"), "clip_id", n),
            "value": _choice(row.get("value"), EVENT_VALUES, "value", n),
            "annotator": _checked(check_annotator, row.get("annotator"), n),
            "source": str(row.get("source") or "import")[:64],
            "created_at": str(row.get("created_at") or "").strip(),
            "ref": _int(row["id"], "id", n) if row.get("id") not in (None, "") else None,
            "undoes": _int(row["undoes"], "undoes", n) if row.get("undoes") not in (None, "") else None,
            "line": n,
        }
        if not event["created_at"] or len(event["created_at"]) > 40:
            raise InvalidInput(
                f"line {n}: created_at must be the event's time as exported, e.g. 2026-12-02T18:00:00.000+00:00"
            )
        events.append(event)
    if all(e["ref"] is not None for e in events):
        events.sort(key=lambda e: e["ref"])  # the log's order, whatever the file's
    problems: list[str] = []
    by_line = dict(rows)
    by_id: list[Event] = []
    for e in events:
        row = by_line[e["line"]]
        if row.get("content_hash") and row.get("position") not in (None, ""):  # a file that names the clip
            clip_id, why = _match_current(row, e["line"], lookup, {})
            if clip_id is None:
                problems.append(f"line {e['line']}: clip {e['clip_id']}: {why}")
            else:
                e["clip_id"] = clip_id
        else:
            by_id.append(e)
    here = lookup.existing_ids(e["clip_id"] for e in by_id)
    problems += [
        f"line {e['line']}: clip {e['clip_id']} is not in this workspace (event files match clips by "
        "id; see `va import --help`)"
        for e in by_id
        if e["clip_id"] not in here
    ]
    return events, problems


def _where(row: Row) -> str:
    if row.get("video"):
        try:
            return f"{row['video']} {float(row['start']):.3f}-{float(row['end']):.3f} s"
        except (TypeError, ValueError, KeyError):
            return str(row["video"])
    return "no video named"


def _choice(value: object, allowed: Sequence[str], what: str, n: int) -> str:
    v = str(value or "").strip().lower()
    if v not in allowed:
        raise InvalidInput(f"line {n}: {what} {value!r} is not one of {', '.join(allowed)}")
    return v


def _int(value: object, what: str, n: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"line {n}: {what} {value!r} is not a whole number")
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_ID:
        raise InvalidInput(f"line {n}: {what} {value!r} is not a whole number from 0 to {MAX_ID}")
    return int(text)


def _float(value: Any, what: str, n: int) -> float:  # Any: float() takes whatever the file holds
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or abs(number) > 1e9:
        raise InvalidInput(f"line {n}: {what} {value!r} is not a time in seconds")
    return number


def _checked(check: Callable[[Any], _T], value: object, n: int) -> _T:
    try:
        return check(value)
    except InvalidInput as exc:
        raise InvalidInput(f"line {n}: {exc.message}") from None
