"""`va ingest|info|reembed|config`: getting videos into a workspace and seeing what it holds."""

from __future__ import annotations

import sys

import click

from ..config import Settings
from .app import Context, cli, emit, engine_options, json_option, make_engine, printable


@cli.command()
@json_option()
@click.pass_obj
def info(obj: Context, as_json):
    """Show what the workspace holds: videos, clips, embedder, vector dimension."""
    emit(obj.workspace.info(), as_json)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@json_option("Print the report as one JSON document.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@engine_options
@click.pass_obj
def ingest(obj: Context, paths, as_json, quiet, engine_name, address, workers, decode_workers):
    """Ingest video files, folders (recursively) or globs: shots, clips, embeddings.

    A file already in the workspace (same content) is skipped. A file that cannot be read
    is reported on one line and the others are still ingested; the exit status is then 1.
    An interrupted run is resumed by running it again.

    \b
    Examples:  va ingest movie.mp4   va ingest ~/footage/   va ingest 'clips/*.mov'
               va ingest --engine ray --address HEAD:6379 /shared/footage/   (docs/ray.md)
    """
    engine = make_engine(engine_name, address, workers, decode_workers)
    report = obj.workspace.ingest(paths, progress=not quiet and not as_json, engine=engine)
    data = report.as_dict()
    if as_json:
        emit(data, True)
    else:
        for entry in report.ingested:
            click.echo(f"ingested {printable(entry['path'])}: {entry['clips']} clips")
        for entry in report.skipped:
            click.echo(f"skipped  {printable(entry['path'])}: {entry['reason']}")
        rt = data["realtime_factor"]
        not_tried = f", {len(report.not_tried)} not tried" if report.not_tried else ""
        click.echo(
            f"{len(report.ingested)} ingested, {len(report.skipped)} skipped, {len(report.failed)} failed{not_tried}; "
            f"{data['clips']} clips in {data['wall_seconds']:.1f} s" + (f" ({rt:.1f}x real time)" if rt else "")
        )
    for entry in report.failed:
        click.echo(f"error: {printable(entry['error'])}", err=True)
    if report.failed:
        sys.exit(1)


@cli.command()
@click.option(
    "--embedder", "new_embedder", required=True, help="The embedder to switch to, e.g. hf:openai/clip-vit-base-patch32."
)
@json_option()
@click.pass_obj
def reembed(obj: Context, new_embedder, as_json):
    """Recompute every clip vector with another embedder (needs the original video files).

    Clips, ids and annotations are kept; an interrupted run leaves the old vectors in place.
    """
    # Opened with its own embedder: the global --embedder names the one being switched away from.
    ws = obj.stored_workspace()
    emit(ws.reembed(new_embedder, progress=not as_json), as_json)


@cli.command()
@json_option()
def config(as_json):
    """List every setting: name, environment variable, default, meaning."""
    rows = [{"name": n, "env": e, "default": d, "doc": doc} for n, e, d, doc in Settings.docs()]
    if as_json:
        emit(rows, True)
    else:
        for r in rows:
            click.echo(f"{r['env']:<22} {str(r['default'])!s:<28} {r['doc']}")
