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


def catalog_url(url: str | None = None) -> str:
    """The catalog URL in force: ``url``, else $VA_CATALOG_URL, else '' (SQLite in the workspace)."""
    return (url if url is not None else os.environ.get(URL_ENV, "")).strip()


def open_catalog(home: Path, synchronous: str = "FULL", url: str | None = None) -> Catalog:
    """The workspace's catalog. ``synchronous`` is SQLite's durability level (PostgreSQL's
    commits are durable as the server is configured); ``url``: see ``catalog_url``."""
    url = catalog_url(url)
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


def catalog_exists(home: Path, url: str | None = None) -> bool:
    """Whether ``home`` is a workspace already: its catalog.sqlite, or (PostgreSQL) its id file."""
    home = Path(home)
    if catalog_url(url).lower().startswith(("postgresql:", "postgres:")):
        from .postgres.url import ID_FILE

        return (home / ID_FILE).is_file()
    return (home / "catalog.sqlite").is_file()


__all__ = ["Catalog", "catalog_exists", "catalog_url", "open_catalog"]
