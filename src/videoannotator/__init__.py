"""Video Annotator: build binary video classifiers from shots, VLM search and active learning."""

__version__ = "0.1.0"

__all__ = ["Workspace", "__version__"]


def __getattr__(name):
    # Lazy so that `import videoannotator.config` stays light (no torch import).
    if name == "Workspace":
        from .workspace import Workspace

        return Workspace
    raise AttributeError(name)
