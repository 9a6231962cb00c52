"""The `va` group and what every command module shares: options, output, opening the Workspace.

Command modules (ingest, loop, admin, eval, bench) import only from here and register their
commands on ``cli``; ``cli/__init__.py`` imports them all. The commands parse, call the
Workspace and format: no logic lives only in the CLI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import click

from ..config import Settings
from ..engines import ENGINES, Engine, get_engine
from ..errors import VAError, is_disk_full
from ..names import MAX_ID, MAX_PAGE

# Bounded like the HTTP API's parameters, so a 20-digit id is a usage line, not a traceback.
CLIP_ID = click.IntRange(0, MAX_ID)
VERSION = click.IntRange(1, MAX_ID)
PAGE = click.IntRange(1, MAX_PAGE)
OFFSET = click.IntRange(0, 100_000)  # the API's MAX_OFFSET (server/schemas.py)
SEED = click.IntRange(0, 2**32 - 1)


def printable(text) -> str:
    """``text`` safe for one line of terminal output: control characters (a newline in a file
    name, an escape sequence) and undecodable bytes are shown escaped, as Python writes them."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def echo_json(data) -> None:
    """One JSON document on stdout: what every ``--json`` prints."""
    click.echo(json.dumps(data, indent=2, default=str))


def emit(data, as_json: bool, human: Callable | None = None) -> None:
    """``data`` as JSON (``--json``), through ``human``, or as ``key: value`` lines."""
    if as_json:
        echo_json(data)
    elif human is not None:
        human(data)
    else:
        for key, value in data.items():
            click.echo(f"{key:>16}: {value}")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], right: Iterable[int] = ()) -> None:
    """Rows under a header line, columns as wide as their widest cell (``right``: the indexes
    of right-aligned columns, for numbers); the last column is never padded."""
    cells = [[printable(c) for c in headers]] + [[printable(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    align = set(right)
    for row in cells:
        line = "  ".join(
            c.rjust(w) if i in align else (c if i == len(row) - 1 else c.ljust(w))
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        click.echo(line.rstrip())


def probability(item: dict) -> str:
    """The calibrated probability people see on the page, as the tables print it ("-": no model)."""
    p = item.get("probability")
    return "-" if p is None else f"{p:.2f}"


def json_option(help: str = "Print the result as one JSON document.") -> Callable:
    """The ``--json`` flag, spelled the same on every command (parameter ``as_json``)."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def engine_options(fn):
    """--engine, --address, --workers, --decode-workers: where ingest's workers run (engines/)."""
    options = [
        click.option(
            "--engine",
            "engine_name",
            type=click.Choice(ENGINES),
            default="local",
            show_default=True,
            help="Where decoding and embedding run: this process, or Ray (pip install 'videoannotator[ray]').",
        ),
        click.option(
            "--address",
            default=None,
            help="With --engine ray: the cluster to join (`ray start --head` prints it); default: a local Ray.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="With --engine ray: decode tasks and embedding actors at once (default: from the cluster).",
        ),
        click.option(
            "--decode-workers",
            type=click.IntRange(min=0),
            default=None,
            help="With the local engine: decode in this many processes (default: 0 on CPU, the cores less one on a GPU).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def make_engine(engine_name: str, address: str | None, workers: int | None, decode_workers: int | None) -> Engine:
    """The engine the options name; an option of the other engine is a usage error."""
    if engine_name != "ray" and (address or workers):
        raise click.UsageError("--address and --workers go with --engine ray")
    if engine_name == "ray" and decode_workers is not None:
        raise click.UsageError("--decode-workers goes with the local engine (Ray decodes in its own tasks)")
    if engine_name == "ray":
        return get_engine("ray", address=address, workers=workers)
    return get_engine("local", decode_workers=decode_workers)


def choice(names: Iterable[str]) -> click.Choice:
    """A click choice over one of the tuples in ``names.py`` (never a list spelled here)."""
    return click.Choice(tuple(names))


class LazyChoice(click.Choice):
    """A choice whose names come from a module imported only when the names are needed (at
    parse or help time), so `va` starts without loading, e.g., the evaluation harness."""

    def __init__(self, load: Callable[[], Iterable[str]], case_sensitive: bool = True):
        self._load = load
        self._names: tuple[str, ...] | None = None
        self.case_sensitive = case_sensitive

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        if self._names is None:
            self._names = tuple(self._load())
        return self._names

    @choices.setter
    def choices(self, value) -> None:
        self._names = tuple(value)


class Context:
    """``ctx.obj``: the settings from the global options; the Workspace opened on first use."""

    def __init__(self, home, embedder, device):
        self.settings = Settings.from_env(home=home, embedder=embedder, device=device)
        self._ws = None

    @property
    def workspace(self):
        if self._ws is None:
            self._ws = open_workspace(self.settings, embedder=self.settings.embedder or None)
        return self._ws

    def stored_workspace(self):
        """The workspace with its own embedder, whatever --embedder / VA_EMBEDDER say."""
        return open_workspace(replace(self.settings, embedder=""))

    def existing_workspace(self):
        """The workspace at --home, refusing to create an empty one where there is none."""
        home = Path(self.settings.home).expanduser()
        from ..workspace import workspace_exists

        if not workspace_exists(home):
            raise VAError(f"no workspace at {home}; give the workspace's --home (or VA_HOME)")
        return self.workspace


def open_workspace(settings: Settings, embedder=None):
    from ..workspace import Workspace

    return Workspace(settings.home, settings=settings, embedder=embedder)


def restore_workspace(src, settings: Settings, progress: bool) -> dict:
    """``Workspace.restore`` into ``settings.home`` (a classmethod: no workspace to open first)."""
    from ..workspace import Workspace

    return Workspace.restore(src, settings.home, progress=progress, settings=settings)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    envvar="VA_HOME",
    type=click.Path(file_okay=False),
    default=None,
    help="Workspace directory (env VA_HOME; default ~/.local/share/videoannotator).",
)
@click.option("--embedder", default=None, help="Embedder name (env VA_EMBEDDER); default: the workspace's own.")
@click.option("--device", default=None, help="Torch device for embedding: cpu, cuda (env VA_DEVICE).")
@click.version_option(package_name="videoannotator")
@click.pass_context
def cli(ctx, home, embedder, device):
    """Video Annotator: build video classifiers from shots, search and active learning."""
    ctx.obj = Context(home, embedder, device)


def main(argv=None):
    """The console script: one line on stderr for every error a user should see."""
    try:
        cli.main(args=argv, prog_name="va", standalone_mode=False)
    except VAError as exc:
        click.echo(f"error: {printable(exc.message)}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:  # a file write or any catalog backend: is_disk_full knows them
        if not is_disk_full(exc):
            raise
        click.echo(
            "error: the disk is full; nothing of this command was stored (what was stored before is "
            "intact): free some space, then run it again",
            err=True,
        )
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted; everything committed so far is kept (run the same command to resume)", err=True)
        sys.exit(130)
