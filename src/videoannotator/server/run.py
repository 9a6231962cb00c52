"""``serve(workspace, host, port, token)``: check the address and token, then run uvicorn.

The access log never shows the token: ``/?token=T`` (the one-time page link) is logged
as ``/?token=[redacted]`` (``RedactTokens``, installed by ``log_config()``)."""

from __future__ import annotations

import copy
import logging
import re
import sys
from typing import TYPE_CHECKING, Any

from .security import check_bind

if TYPE_CHECKING:
    from ..workspace import Workspace

TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&#\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    """'/?token=abc&x=1' -> '/?token=[redacted]&x=1'."""
    return TOKEN_IN_QUERY.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Rewrites uvicorn's access records ('%s - "%s %s HTTP/%s" %d') before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging setup, with the access log's tokens redacted."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["loggers"]["uvicorn.access"].setdefault("filters", []).append("redact_tokens")
    return config


def serve(
    workspace: Workspace, host: str = "127.0.0.1", port: int = 8765, token: str | None = None, log_level: str = "info"
) -> None:
    """Serve until interrupted. A non-loopback ``host`` without ``token`` raises VAError, unless
    the workspace is in team mode (it has users), where a server token is refused instead."""
    team = workspace.team_mode
    check_bind(host, token, team=team)
    import uvicorn

    from .app import create_app

    app = create_app(workspace, token=token, warm=True)  # the text model loads while the page opens
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    if team:
        url += "?token=<your token>  (team mode: each user opens it once with their own token)"
    print(f"Video Annotator: {url}  (workspace {workspace.home}; Ctrl-C stops)", file=sys.stderr, flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=log_config(),
        server_header=False,
        proxy_headers=False,
    )
