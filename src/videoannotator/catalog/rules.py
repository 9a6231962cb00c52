"""The catalog's rules, the same for every backend: what a valid label name, annotator, clip id,
vote, idempotency key or editor is, how votes aggregate, and the catalog's clock."""

from __future__ import annotations

import getpass
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from ..errors import InvalidInput
from ..names import MAX_ID, VOTE_VALUES


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,63}$")


def validate_name(name: object) -> str:
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise InvalidInput("a label needs a name, e.g. establishing-shot")
    if not NAME_RE.match(name):
        raise InvalidInput(
            f"label name {name!r} has odd characters; use up to 64 letters, digits, spaces, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    if name.isdigit():  # NAME_RE admits ASCII digits only
        raise InvalidInput(
            f"label name {name!r} is all digits and would read as a label id; add a letter, e.g. 'shot-{name}'"
        )
    return name


def check_keywords(keywords: str | Iterable[object] | None) -> list[str]:
    if keywords is None:
        return []
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    out = [str(k).strip() for k in keywords if str(k).strip()]
    if any(len(k) > 200 for k in out) or len(out) > 100:
        raise InvalidInput("keywords: at most 100, each under 200 characters")
    return out


VALUES = VOTE_VALUES


SOURCES_MAX = 64


IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, as an HTTP header carries it


def check_value(value: object) -> str:
    v = str(value).strip().lower()
    aliases = {
        "pos": "positive",
        "p": "positive",
        "1": "positive",
        "yes": "positive",
        "neg": "negative",
        "n": "negative",
        "0": "negative",
        "no": "negative",
        "s": "skip",
    }
    v = aliases.get(v, v)
    if v not in VALUES:
        raise InvalidInput(f"annotation value {value!r} is not one of positive, negative, skip")
    return v


def check_annotator(annotator: object) -> str:
    a = str(annotator or "").strip()
    if not a or len(a) > 64 or any(ord(ch) < 32 for ch in a):
        raise InvalidInput("annotator: give a name of 1-64 printable characters")
    return a


def check_clip_ids(clip_ids: object) -> list[int]:
    """Distinct clip ids in the order given; ``True`` is not clip 1, nor is 1.5 or '1'."""
    ids: Sequence[Any] = clip_ids if isinstance(clip_ids, (list, tuple)) else [clip_ids]
    if not ids:
        raise InvalidInput("no clip ids given; ids are the numbers `va search`, `va feed` and `va review` print first")
    for clip_id in ids:
        if isinstance(clip_id, bool) or not hasattr(clip_id, "__index__") or not 0 <= clip_id <= MAX_ID:
            raise InvalidInput(
                f"clip id {clip_id!r} is not a whole number from 0 to {MAX_ID}; "
                "ids are the numbers `va search`, `va feed` and `va review` print first"
            )
    return list(dict.fromkeys(int(c) for c in ids))


def check_idempotency_key(key: object) -> str:
    if not isinstance(key, str) or not IDEMPOTENCY_KEY_RE.match(key):
        raise InvalidInput("idempotency key: give 1-255 printable ASCII characters without spaces, e.g. a UUID")
    return key


def aggregate(values: Iterable[str]) -> str:
    """Majority of positive/negative votes; a tie is 'unresolved'; only skips → 'skip'."""
    c = Counter(values)
    pos, neg = c.get("positive", 0), c.get("negative", 0)
    if pos == neg == 0:
        return "skip"
    if pos == neg:
        return "unresolved"
    return "positive" if pos > neg else "negative"


def check_editor(editor: object) -> str:
    """Who edits: as given, else $VA_ANNOTATOR, else the login name (as `va annotate` does)."""
    if editor is None or editor == "":
        editor = os.environ.get("VA_ANNOTATOR") or _login() or "unknown"
    editor = str(editor).strip()
    if not editor or len(editor) > 64 or any(ord(ch) < 32 for ch in editor):
        raise InvalidInput("editor: give a name of 1-64 printable characters")
    return editor


def _login() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return None
