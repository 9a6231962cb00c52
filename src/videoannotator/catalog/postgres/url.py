"""``VA_CATALOG_URL``: which PostgreSQL server, database and schema hold a workspace's catalog.

``postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME&...]``. ``schema`` may contain
``{workspace}``, replaced by the workspace's id (a random id kept in ``HOME/.catalog-id``, made
on first use), so one URL serves every workspace of a team or a test run, each in its own
schema; without ``schema`` it is ``va_{workspace}``. Every other query parameter goes to libpq
as it is (``sslmode``, ``connect_timeout``, ...).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ...errors import VAError

ID_FILE = ".catalog-id"  # a dot file: `va backup` leaves it out, so a restore gets a new id
# The URL (without its password) a PostgreSQL workspace was opened with: later opens without
# VA_CATALOG_URL find their catalog, never an empty SQLite one. A dot file: a backup restores anywhere.
URL_FILE = ".catalog-url"
DEFAULT_SCHEMA = "va_{workspace}"
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class Target(NamedTuple):
    conninfo: str  # the URL without ``schema``, for libpq
    schema: str
    where: str  # host:port/database, for messages (never the password)
    workspace_id: str
    copied_from: str | None  # the schema of the workspace this folder is a copy of, if any


def is_postgres(url: str) -> bool:
    return url.split(":", 1)[0].lower() in ("postgresql", "postgres")


def workspace_id(home: Path) -> tuple[str, str | None]:
    """(this workspace folder's id, the id of the folder it is a copy of, or None).

    The id is kept in ``.catalog-id`` with the folder's inode number. A copy of the folder
    (``cp -r``, a restored volume) has another inode: it gets a new id, and so a schema of its
    own, which starts as a copy of the original's (``PostgresCatalog.bind``) — as copying a
    SQLite workspace copies its catalog.sqlite. A move (``mv``) keeps the inode and the id."""
    import fcntl

    path = home / ID_FILE
    inode = home.stat().st_ino
    fd = os.open(home / f"{ID_FILE}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # one process decides, the others read its answer
        try:
            found = path.read_text().split()
        except FileNotFoundError:
            found = []
        old = found[0] if found and re.fullmatch(r"[0-9a-f]{16}", found[0]) else None
        recorded = found[1] if len(found) > 1 else None
        if old is not None and recorded in (f"inode={inode}", None):
            if recorded is None:
                _write_id(home, old, inode)
            return old, None
        new = secrets.token_hex(8)
        _write_id(home, new, inode)
        return new, old
    finally:
        os.close(fd)


def _write_id(home: Path, ws_id: str, inode: int) -> None:
    tmp = home / f"{ID_FILE}.{ws_id}.tmp"
    tmp.write_text(f"{ws_id} inode={inode}\n")
    tmp.replace(home / ID_FILE)


def parse(url: str, home: Path) -> Target:
    """The URL's connection string and this workspace's schema, or one line saying what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise VAError(f"VA_CATALOG_URL is not a valid URL ({exc}); e.g. postgresql://user@host:5432/db") from None
    database = parts.path.lstrip("/")
    if not is_postgres(url) or not parts.hostname or not database:
        raise VAError(
            f"VA_CATALOG_URL must look like postgresql://USER@HOST[:PORT]/DATABASE[?schema=NAME]; got {redact(url)!r}"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [v for k, v in query if k == "schema"]
    template = schemas[-1] if schemas else DEFAULT_SCHEMA
    ws_id, old_id = workspace_id(home)
    schema = template.replace("{workspace}", ws_id)
    copied_from = template.replace("{workspace}", old_id) if old_id and "{workspace}" in template else None
    if not SCHEMA_NAME.fullmatch(schema):
        raise VAError(
            f"schema {schema!r} in VA_CATALOG_URL is not a plain lower-case name (letters, digits, _; at most 63); "
            "e.g. ?schema=va_{workspace}"
        )
    rest = urlencode([(k, v) for k, v in query if k != "schema"], quote_via=quote)
    conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, ""))
    where = f"{parts.hostname}:{port or 5432}/{database}"
    return Target(conninfo, schema, where, ws_id, copied_from)


def redact(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)


def without_password(url: str) -> str:
    """The URL with no password (libpq then takes it from PGPASSWORD or ~/.pgpass)."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1@", url)


def recorded_url(home: Path) -> str:
    try:
        return (home / URL_FILE).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return ""


def check_url(home: Path, url: str) -> None:
    """Refuse a URL that names another catalog than the one this workspace recorded."""
    recorded = recorded_url(home)
    if recorded and recorded != without_password(url):
        raise VAError(
            f"this workspace's catalog is at {recorded} (in {home / URL_FILE}), but VA_CATALOG_URL names "
            f"{redact(url)}; unset VA_CATALOG_URL, or give the recorded URL"
        )


def record_url(home: Path, url: str) -> None:
    """Remember the workspace's catalog URL (once it has opened there)."""
    plain = without_password(url)
    if recorded_url(home) == plain:
        return
    tmp = home / f"{URL_FILE}.{secrets.token_hex(4)}.tmp"
    tmp.write_text(plain + "\n")
    tmp.replace(home / URL_FILE)
