"""The `va` command: parses, calls the Workspace, formats. No logic lives only here.

``app`` holds the click group and what the commands share; each other module registers one
group of commands on it (importing only ``app``). Importing this package imports them all.
"""

from __future__ import annotations

import click

from . import admin, bench, eval, ingest, loop, production
from .app import cli, main, printable

# One line per command for `va --help` and each group's --help, where the docstring's first
# sentence is longer than click shows (it would cut it to "..." at 80 columns). The
# docstrings stay each command's full help. tests/test_cli.py: no summary is cut.
SUMMARIES = {
    ("annotate",): "Mark clips positive, negative or skip for a label",
    ("backup",): "Copy the workspace, safely while it is in use",
    ("build",): "Train the label's classifier; show its four feeds",
    ("card",): "The label's model card: verdict, AP, what to expect",
    ("config",): "List every setting and its VA_* variable",
    ("deploy",): "Put a version of a label into production",
    ("eval",): "Evaluate: the loop against baselines, on suites",
    ("export",): "Export a label's annotations, model or segments",
    ("feed",): "One feed of the label's latest model",
    ("import",): "Import annotations that `va export` wrote",
    ("info",): "What the workspace holds: videos, clips, embedder",
    ("ingest",): "Cut videos into clips and embed them",
    ("monitor",): "Drift, positive rate and live precision per label",
    ("production-feed",): "Production clips to check (the fix loop)",
    ("reembed",): "Recompute every vector with another embedder",
    ("restore",): "Restore a backup into a new, empty --home",
    ("review",): "Every annotation beside the latest model's view",
    ("rollback",): "Make the version live before the current one live",
    ("score",): "Score videos with the deployed versions",
    ("search",): "Find clips by text or by example",
    ("timeline",): "A video's segments per deployed label",
    ("undo",): "Undo your latest annotation on a label",
    ("users",): "Team mode: one token per person",
    ("versions",): "Every model version of a label; the live one",
    ("videos",): "Every video: id, file, duration, clips",
    ("label", "create"): "Create a label with its guideline",
    ("label", "history"): "Every edit of a label's guideline",
    ("bench", "annotate"): "Annotation load through the API: lost, p95",
    ("bench", "api"): "The API against its OpenAPI schema (schemathesis)",
    ("bench", "gpu"): "Embedding and decoding speed on a GPU",
    ("bench", "ingest"): "Ingest speed on real videos",
    ("bench", "loop"): "Build and search speed at 500k clips",
    ("bench", "scale"): "Build and search at 500k-10M; ingest on Ray",
    ("bench", "score"): "Scoring speed of deployed versions",
    ("bench", "search"): "Exact against ANN search: latency, recall",
    ("bench", "search-cold"): "A cold `va search` process against `va info`",
    ("eval", "cuts"): "Shot detection against known cuts",
    ("eval", "scenes"): "Write a generated suite's videos and truth",
    ("eval", "slideshow"): "Write slideshow videos with known cuts",
}


def _summarise() -> None:
    for path, text in SUMMARIES.items():
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group), path
            command = command.commands[name]
        command.short_help = text


_summarise()

__all__ = ["admin", "bench", "cli", "eval", "ingest", "loop", "main", "printable", "production"]
