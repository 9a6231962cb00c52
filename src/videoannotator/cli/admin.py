"""`va backup|restore|import|label history|bench annotate`: keeping a workspace's data safe."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import VAError
from . import _emit, bench, cli
from .loop import label


def _existing_workspace(obj):
    """The workspace at --home, refusing to create an empty one where there is none."""
    home = Path(obj.settings.home).expanduser()
    if not (home / "catalog.sqlite").is_file():
        raise VAError(f"no workspace at {home}; give the workspace's --home (or VA_HOME)")
    return obj.workspace


@cli.command("backup")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def backup_cmd(obj, dest, quiet, as_json):
    """Copy the workspace into DEST (a new or empty directory), safely while it is in use.

    The catalog is copied with SQLite's online backup (everything committed, write-ahead log
    included), the vectors, features, models, thumbnails and index under the workspace's
    write lock, and a manifest.json with every file's size and checksum is written last.
    Annotating can go on meanwhile; ingest and reembed wait. previews/ is left out: a cache
    the server renders again on demand. Bring it back with `va --home NEW restore DEST`.

    Example:  va --home ~/my-workspace backup ~/backups/monday
    """
    result = _existing_workspace(obj).backup(dest, progress=not quiet and not as_json)
    _emit(result, as_json)


@cli.command("restore")
@click.argument("src", type=click.Path(file_okay=False))
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def restore_cmd(obj, src, quiet, as_json):
    """Restore the backup SRC into --home, which must be new or empty.

    Every file is checked against the backup's manifest while it is copied; a missing or
    altered file stops the restore (naming it) and leaves --home empty. Then the workspace
    is opened and its counts checked. Example:  va --home ~/restored restore ~/backups/monday
    """
    from ..workspace import Workspace

    result = Workspace.restore(src, obj.settings.home, progress=not quiet and not as_json, settings=obj.settings)
    _emit(result, as_json)


@cli.command("import")
@click.argument("label_name", metavar="LABEL")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--annotator", "-a", default=None,
              help="CSV annotations carry no votes: whose vote each row becomes (env VA_ANNOTATOR; "
                   "default: your login name).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def import_cmd(obj, label_name, file, annotator, as_json):
    """Import a file `va export` wrote (annotations or events, JSONL or CSV) into LABEL.

    The label is created if missing. Rows find their clip here by the video's content and the
    clip's position in it (both in every export), so the videos may have been ingested in
    another order; files from before exports carried them match annotation rows by video
    path/content/name and time range, event rows by clip id. Rows matching no clip are
    listed one per line and nothing is imported. Importing the same file twice adds nothing.
    CSV annotations carry no votes: each row becomes one vote by --annotator, and a tie
    (unresolved) is reported, not imported; JSONL keeps every vote.
    """
    from ..errors import ImportMismatch

    try:
        result = obj.workspace.import_annotations(label_name, file, annotator)
    except ImportMismatch as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        raise
    if as_json:
        _emit(result, True)
        return
    for line in result["not_imported"]:
        click.echo(f"not imported: {line}", err=True)
    created = " (new label)" if result["created_label"] else ""
    click.echo(f"{result['label']}{created}: {result['rows']} {result['kind']} rows from {result['format']}, "
               f"{result['events_added']} events added, {result['events_present']} already here, "
               f"{len(result['not_imported'])} not imported")


@label.command("history")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def label_history(obj, name, as_json):
    """Every edit of the label's name, description, keywords or archived flag, newest first."""
    from ..catalog.sqlite.label_history import history

    ws = obj.workspace
    lab = ws.labels.get(name)
    entries = history(ws.catalog, lab["id"])
    if as_json:
        _emit({"label": lab["name"], "history": entries}, True)
        return
    if not entries:
        click.echo(f"{lab['name']}: never edited")
    for e in entries:
        click.echo(f"{e['edited_at']}  {e['editor']}  changed {', '.join(e['changed'])}")
        for field in e["changed"]:
            old, new = e["before"][field], (e["after"] or {}).get(field)
            click.echo(f"    {field}: {json.dumps(old)} -> {json.dumps(new)}")


@bench.command("annotate")
@click.option("--writers", default=20, show_default=True, help="Writer processes posting annotations.")
@click.option("--each", default=500, show_default=True, help="Annotations each writer posts.")
@click.option("--rounds", default=2, show_default=True, help="FULL/NORMAL pairs, alternated; medians reported.")
@click.option("--clips", default=50, show_default=True, help="Clips in the fresh benchmark workspace.")
@click.option("--json", "as_json", is_flag=True, help="(Always JSON; kept for symmetry.)")
def bench_annotate(writers, each, rounds, clips, as_json):
    """Annotation load over loopback HTTP: the real server on a fresh workspace, N writer
    processes; acknowledged, stored, lost, duplicated, throughput, p50/p95 latency, with the
    catalog at synchronous=FULL (the default) and NORMAL, alternated."""
    from ..bench.annotate import run

    _emit(run(writers=writers, each=each, rounds=rounds, clips=clips), True)
