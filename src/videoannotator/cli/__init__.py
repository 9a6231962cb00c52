"""The `va` command: parses, calls the Workspace, formats. No logic lives only here."""

from __future__ import annotations

import json
import sqlite3
import sys

import click

from ..config import Settings
from ..errors import VAError


def printable(text) -> str:
    """``text`` safe for one line of terminal output: control characters (a newline in a file
    name, an escape sequence) and undecodable bytes are shown escaped, as Python writes them."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _emit(data, as_json: bool, human=None) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    elif human is not None:
        human(data)
    else:
        for key, value in data.items():
            click.echo(f"{key:>16}: {value}")


class Context:
    def __init__(self, home, embedder, device):
        self.settings = Settings.from_env(home=home, embedder=embedder, device=device)
        self._ws = None

    @property
    def workspace(self):
        if self._ws is None:
            from ..workspace import Workspace

            self._ws = Workspace(self.settings.home, settings=self.settings, embedder=self.settings.embedder or None)
        return self._ws


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", envvar="VA_HOME", type=click.Path(file_okay=False), default=None,
              help="Workspace directory (env VA_HOME; default ~/.local/share/videoannotator).")
@click.option("--embedder", default=None, help="Embedder name (env VA_EMBEDDER); default: the workspace's own.")
@click.option("--device", default=None, help="Torch device for embedding: cpu, cuda (env VA_DEVICE).")
@click.version_option(package_name="videoannotator")
@click.pass_context
def cli(ctx, home, embedder, device):
    """Video Annotator: build video classifiers from shots, search and active learning."""
    ctx.obj = Context(home, embedder, device)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def info(obj: Context, as_json):
    """Show what the workspace holds: videos, clips, embedder, vector dimension."""
    _emit(obj.workspace.info(), as_json)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.pass_obj
def ingest(obj: Context, paths, as_json, quiet):
    """Ingest video files, folders (recursively) or globs: shots, clips, embeddings.

    A file already in the workspace (same content) is skipped. A file that cannot be read
    is reported on one line and the others are still ingested; the exit status is then 1.

    Examples:  va ingest movie.mp4   va ingest ~/footage/   va ingest 'clips/*.mov'
    """
    report = obj.workspace.ingest(paths, progress=not quiet and not as_json)
    data = report.as_dict()
    if as_json:
        _emit(data, True)
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
@click.option("--embedder", "new_embedder", required=True, help="The embedder to switch to, e.g. hf:openai/clip-vit-base-patch32.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def reembed(obj: Context, new_embedder, as_json):
    """Recompute every clip vector with another embedder (needs the original video files).

    Clips, ids and annotations are kept; an interrupted run leaves the old vectors in place.
    """
    from dataclasses import replace

    from ..embed import get_embedder
    from ..ingest.reembed import reembed as run
    from ..workspace import Workspace

    ws = Workspace(obj.settings.home, settings=replace(obj.settings, embedder=""))
    embedder = get_embedder(new_embedder, device=obj.settings.device, batch_size=obj.settings.batch_size)
    _emit(run(ws, embedder, progress=not as_json), as_json)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
def config(as_json):
    """List every setting: name, environment variable, default, meaning."""
    rows = [{"name": n, "env": e, "default": d, "doc": doc} for n, e, d, doc in Settings.docs()]
    if as_json:
        _emit(rows, True)
    else:
        for r in rows:
            click.echo(f"{r['env']:<22} {str(r['default'])!s:<28} {r['doc']}")


@cli.group()
def bench():
    """Benchmarks (print figures; see docs/benchmarks.md)."""


@bench.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--repeats", default=1, show_default=True, help="Fresh workspaces to ingest into; medians reported.")
@click.pass_obj
def bench_ingest(obj: Context, paths, as_json, repeats):
    """Ingest PATHS into fresh temporary workspaces; report real-time factor and stage split."""
    from ..bench.ingest import run

    _emit(run(paths, obj.settings, repeats=repeats), as_json)


@bench.command("loop")
@click.option("--clips", default=500_000, show_default=True, help="Synthetic corpus size.")
@click.option("--dim", default=384, show_default=True, help="Vector dimension (the default embedder's is 384).")
@click.option("--annotations", default=1000, show_default=True, help="Annotated clips per build.")
@click.option("--repeats", default=7, show_default=True, help="Timed builds (median reported).")
@click.option("--queries", default=200, show_default=True, help="Text-search queries timed.")
@click.option("--skip-search", is_flag=True, help="Only the build benchmark.")
@click.option("--json", "as_json", is_flag=True)
def bench_loop(clips, dim, annotations, repeats, queries, skip_search, as_json):
    """Build (fit + score + metrics + four feeds) and text-search speed on synthetic unit vectors."""
    from ..bench import loop as loop_bench

    result = {"build": loop_bench.run(clips=clips, dim=dim, annotations=annotations, repeats=repeats)}
    if not skip_search:
        from ..bench import search as bench_search

        result["search"] = bench_search.run(clips=clips, dim=dim, queries=queries)
    _emit(result, True)  # figures are for pasting into docs: always JSON


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="va", standalone_mode=False)
    except VAError as exc:
        click.echo(f"error: {printable(exc.message)}", err=True)
        sys.exit(2)
    except (OSError, sqlite3.Error) as exc:
        from ..errors import is_disk_full

        if not is_disk_full(exc):
            raise
        click.echo("error: the disk is full; nothing of this command was stored (what was stored before is "
                   "intact): free some space, then run it again", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted; everything committed so far is kept (run the same command to resume)", err=True)
        sys.exit(130)


from . import admin, eval, loop  # noqa: F401,E402  (register their commands on `cli`)
