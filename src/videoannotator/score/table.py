"""Per-clip score rows as a table file: Parquet (pyarrow, typed columns) or CSV, by extension.

One row per clip × label: ``video, clip_id, start, end, label, version, probability,
positive``. The file is written to a temporary file beside the target and renamed, so a
reader never sees half a file and a failed write leaves the old one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ._files import write_text, write_with

__all__ = ["COLUMNS", "write_rows"]

# column → its Arrow type (by name; pyarrow is imported only to write Parquet)
COLUMNS: dict[str, str] = {
    "video": "string",
    "clip_id": "int64",
    "start": "float64",
    "end": "float64",
    "label": "string",
    "version": "int32",
    "probability": "float32",
    "positive": "bool",
}


def write_rows(rows: Sequence[Mapping[str, Any]], path: str | Path) -> None:
    """``rows`` to ``path``: ``.parquet`` or ``.csv`` (any other extension → ``InvalidInput``).

    Each row needs the keys of ``COLUMNS``; other keys are left out. The Parquet columns
    have the declared types (video str, clip_id int64, start/end float64, label str,
    version int32, probability float32, positive bool); CSV has the same header, booleans
    as ``true``/``false``.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InvalidInput(f"cannot write scores to {target.name!r}: the file name must end in .parquet or .csv")
    missing = [c for c in COLUMNS if rows and c not in rows[0]]
    if missing:
        raise InvalidInput(f"score rows lack the column(s) {', '.join(missing)}")
    if suffix == ".parquet":
        _write_parquet(rows, target)
    else:
        write_text(target, _csv(rows))


def _write_parquet(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(name, pa.type_for_alias(kind), nullable=False) for name, kind in COLUMNS.items()])
    columns = {
        "video": [str(r["video"]) for r in rows],
        "clip_id": [int(r["clip_id"]) for r in rows],
        "start": [float(r["start"]) for r in rows],
        "end": [float(r["end"]) for r in rows],
        "label": [str(r["label"]) for r in rows],
        "version": [int(r["version"]) for r in rows],
        "probability": [float(r["probability"]) for r in rows],
        "positive": [bool(r["positive"]) for r in rows],
    }
    table = pa.Table.from_pydict(columns, schema=schema)
    write_with(path, lambda tmp: pq.write_table(table, tmp))


def _csv_cell(value: Any) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    # A text cell starting with = + - @ is a formula to spreadsheet programs (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(COLUMNS))
    for r in rows:
        writer.writerow(
            [
                _csv_cell(str(r["video"])),
                int(r["clip_id"]),
                repr(float(r["start"])),
                repr(float(r["end"])),
                _csv_cell(str(r["label"])),
                int(r["version"]),
                f"{float(r['probability']):.6g}",
                _csv_cell(bool(r["positive"])),
            ]
        )
    return buf.getvalue()
