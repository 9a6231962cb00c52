"""Export formats shared by the CLI and the server."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence


def to_csv(rows: Sequence[Mapping[str, object]]) -> str:
    """Rows as CSV (the nested ``votes`` column left out), safe to open in a spreadsheet."""
    fields = [k for k in rows[0] if k != "votes"] if rows else ["clip_id"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def _cell(value: object) -> object:
    # A text cell starting with = + - @ is a formula to spreadsheet programs (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
