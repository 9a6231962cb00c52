"""``serve(workspace, host, port, token)``: check the address and token, then run uvicorn."""

from __future__ import annotations

import sys

from .security import check_bind


def serve(workspace, host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
          log_level: str = "info") -> None:
    """Serve until interrupted. A non-loopback ``host`` without ``token`` raises VAError."""
    check_bind(host, token)
    import uvicorn

    from .app import create_app

    app = create_app(workspace, token=token)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    print(f"Video Annotator: {url}  (workspace {workspace.home}; Ctrl-C stops)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False, proxy_headers=False)
