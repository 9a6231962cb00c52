"""The HTTP server: a JSON API, clip media and the page over one Workspace.

``create_app(workspace, token=None)`` builds the FastAPI app; ``serve(...)`` runs it.
"""

from .app import create_app
from .run import serve

__all__ = ["create_app", "serve"]
