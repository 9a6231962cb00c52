"""`va backup|restore|import`: keeping a workspace's data safe; `va users`: who is who in team mode."""

from __future__ import annotations

import click

from ..errors import ImportMismatch
from .app import Context, cli, emit, json_option, restore_workspace


@cli.command("backup")
@click.argument("dest", type=click.Path(file_okay=False))
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@json_option()
@click.pass_obj
def backup_cmd(obj: Context, dest, quiet, as_json):
    """Copy the workspace into DEST (a new or empty directory), safely while it is in use.

    The catalog is copied with SQLite's online backup (everything committed, write-ahead log
    included; a PostgreSQL catalog in one snapshot, into the same SQLite file), the vectors, features, models, thumbnails and index under the workspace's
    write lock, and a manifest.json with every file's size and checksum is written last.
    Annotating can go on meanwhile; ingest and reembed wait. previews/ is left out: a cache
    the server renders again on demand. Bring it back with `va --home NEW restore DEST`.

    Example:  va --home ~/my-workspace backup ~/backups/monday
    """
    result = obj.existing_workspace().backup(dest, progress=not quiet and not as_json)
    emit(result, as_json)


@cli.command("restore")
@click.argument("src", type=click.Path(file_okay=False))
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@json_option()
@click.pass_obj
def restore_cmd(obj: Context, src, quiet, as_json):
    """Restore the backup SRC into --home, which must be new or empty.

    Every file is checked against the backup's manifest while it is copied; a missing or
    altered file stops the restore (naming it) and leaves --home empty. Then the workspace
    is opened and its counts checked. Example:  va --home ~/restored restore ~/backups/monday
    """
    result = restore_workspace(src, obj.settings, progress=not quiet and not as_json)
    emit(result, as_json)


@cli.command("import")
@click.argument("label_name", metavar="LABEL")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--annotator",
    "-a",
    default=None,
    help="CSV annotations carry no votes: whose vote each row becomes (env VA_ANNOTATOR; default: your login name).",
)
@json_option()
@click.pass_obj
def import_cmd(obj: Context, label_name, file, annotator, as_json):
    """Import a file `va export` wrote (annotations or events, JSONL or CSV) into LABEL.

    The label is created if missing. Rows find their clip here by the video's content and the
    clip's position in it (both in every export), so the videos may have been ingested in
    another order; files from before exports carried them match annotation rows by video
    path/content/name and time range, event rows by clip id. Rows matching no clip are
    listed one per line and nothing is imported. Importing the same file twice adds nothing.
    CSV annotations carry no votes: each row becomes one vote by --annotator, and a tie
    (unresolved) is reported, not imported; JSONL keeps every vote.
    """
    try:
        result = obj.workspace.import_annotations(label_name, file, annotator)
    except ImportMismatch as exc:
        for line in exc.problems:
            click.echo(line, err=True)
        raise
    if as_json:
        emit(result, True)
        return
    for line in result["not_imported"]:
        click.echo(f"not imported: {line}", err=True)
    created = " (new label)" if result["created_label"] else ""
    click.echo(
        f"{result['label']}{created}: {result['rows']} {result['kind']} rows from {result['format']}, "
        f"{result['events_added']} events added, {result['events_present']} already here, "
        f"{len(result['not_imported'])} not imported"
    )


@cli.group()
def users():
    """Team mode: one token per person; the server takes each vote's annotator from it."""


@users.command("add")
@click.argument("name")
@json_option()
@click.pass_obj
def users_add(obj: Context, name, as_json):
    """Add a user and print their token, once (only its hash is kept).

    The first user turns team mode on: from then on the server (`va serve`, which may then
    listen beyond localhost without --token) answers only requests that carry a user's token,
    and records that user as the annotator of every vote, undo, deploy and label edit.
    Example:  va users add ana   (then ana opens http://HOST:8765/?token=THE_TOKEN once)
    """
    ws = obj.existing_workspace()
    first = not ws.team_mode
    user = ws.add_user(name)
    if as_json:
        emit(user, True)
        return
    click.echo(f"added {user['name']}; their token (shown only now, keep it secret):")
    click.echo(user["token"])
    if first:
        click.echo(
            "team mode is on: restart `va serve` without --token; every request now needs a user's token", err=True
        )


@users.command("list")
@json_option()
@click.pass_obj
def users_list(obj: Context, as_json):
    """Every user, active or revoked (never their tokens)."""
    rows = obj.existing_workspace().list_users()
    if as_json:
        emit(rows, True)
        return
    if not rows:
        click.echo("no users: the workspace is not in team mode (`va users add NAME` starts it)")
    for row in rows:
        state = f"revoked {row['revoked_at']}" if row["revoked_at"] else "active"
        click.echo(f"{row['name']:<24} {state:<40} added {row['created_at']}")


@users.command("revoke")
@click.argument("name")
@json_option()
@click.pass_obj
def users_revoke(obj: Context, name, as_json):
    """Stop NAME's token at once (their votes stay, under their name)."""
    emit(obj.existing_workspace().revoke_user(name), as_json)
