"""The catalog: videos, clips, labels, annotations and model versions (``base.Catalog``).

``open_catalog(home)`` opens the workspace's catalog: SQLite (``catalog/sqlite/``, the file
``HOME/catalog.sqlite``) by default, PostgreSQL (``catalog/postgres/``) when ``VA_CATALOG_URL``
(or ``url``) is a ``postgresql://`` URL: the same interface, table classes and migrations.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import VAError
from .base import Catalog

URL_ENV = "VA_CATALOG_URL"


def catalog_url(url: str | None = None, home: Path | None = None) -> str:
    """The catalog URL in force: ``url``, else $VA_CATALOG_URL, else the one a PostgreSQL workspace
    at ``home`` recorded (``.catalog-url``), else '' (SQLite in the workspace)."""
    found = (url if url is not None else os.environ.get(URL_ENV, "")).strip()
    if not found and home is not None:
        from .postgres.url import recorded_url

        found = recorded_url(Path(home))
    return found


def open_catalog(home: Path, synchronous: str = "FULL", url: str | None = None) -> Catalog:
    """The workspace's catalog. ``synchronous`` is SQLite's durability level (PostgreSQL's
    commits are durable as the server is configured); ``url``: see ``catalog_url``."""
    url = catalog_url(url, home)
    if url and not url.lower().startswith("sqlite"):
        from .postgres.url import is_postgres, redact

        if not is_postgres(url):
            raise VAError(
                f"{URL_ENV}={redact(url)!r} is not a catalog URL: leave it unset for SQLite in the workspace, "
                "or give postgresql://USER@HOST[:PORT]/DATABASE[?schema=NAME]"
            )
        from .postgres import open_postgres

        return open_postgres(url, Path(home))
    from .sqlite import SQLiteCatalog

    return SQLiteCatalog(home / "catalog.sqlite", home / "models", synchronous=synchronous)


def catalog_exists(home: Path) -> bool:
    """Whether ``home`` is a workspace already: its catalog.sqlite, or the URL of its PostgreSQL catalog."""
    from .postgres.url import URL_FILE

    home = Path(home)
    return (home / "catalog.sqlite").is_file() or (home / URL_FILE).is_file()


__all__ = ["Catalog", "catalog_exists", "catalog_url", "open_catalog"]
