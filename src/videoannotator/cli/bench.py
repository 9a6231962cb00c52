"""`va bench ingest|loop|search|search-cold|annotate|api`: the benchmarks of docs/benchmarks.md.

The figures are for pasting into the docs: every benchmark prints one JSON document (``--json``
is accepted everywhere; only `bench ingest` has a plain-text form without it).
"""

from __future__ import annotations

import sys

import click

from ..names import DEFAULT_DIM
from .app import Context, cli, echo_json, emit, json_option

ALWAYS_JSON = "(Always JSON; kept for symmetry.)"


def _csv(value: str, cast=str) -> tuple:
    return tuple(cast(v.strip()) for v in value.split(",") if v.strip())


@cli.group()
def bench():
    """Benchmarks (print figures; see docs/benchmarks.md)."""


@bench.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@json_option()
@click.option("--repeats", default=1, show_default=True, help="Fresh workspaces to ingest into; medians reported.")
@click.pass_obj
def bench_ingest(obj: Context, paths, as_json, repeats):
    """Ingest PATHS into fresh temporary workspaces; report real-time factor and stage split."""
    from ..bench.ingest import run

    emit(run(paths, obj.settings, repeats=repeats), as_json)


@bench.command("loop")
@click.option("--clips", default=500_000, show_default=True, help="Synthetic corpus size.")
@click.option("--dim", default=DEFAULT_DIM, show_default=True, help="Vector dimension (the default embedder's).")
@click.option("--annotations", default=1000, show_default=True, help="Annotated clips per build.")
@click.option("--repeats", default=7, show_default=True, help="Timed builds (median reported).")
@click.option("--queries", default=200, show_default=True, help="Text-search queries timed.")
@click.option("--seed", default=0, show_default=True)
@click.option("--skip-search", is_flag=True, help="Only the build benchmark.")
@json_option(ALWAYS_JSON)
def bench_loop(clips, dim, annotations, repeats, queries, seed, skip_search, as_json):
    """Build (fit + score + metrics + four feeds) and text-search speed on synthetic unit vectors."""
    from ..bench import loop as loop_bench

    result = {"build": loop_bench.run(clips=clips, dim=dim, annotations=annotations, repeats=repeats, seed=seed)}
    if not skip_search:
        from ..bench import search as search_bench

        result["search"] = search_bench.run(clips=clips, dim=dim, queries=queries, seed=seed)
    echo_json(result)


@bench.command("score")
@click.option("--clips", default=200_000, show_default=True, help="Synthetic clips: half corpus, half new.")
@click.option("--labels", "n_labels", default=3, show_default=True, help="Deployed labels scoring the new clips.")
@click.option("--repeats", default=5, show_default=True, help="Timed runs (median reported).")
@click.option("--seed", default=0, show_default=True)
@json_option(ALWAYS_JSON)
def bench_score(clips, n_labels, repeats, seed, as_json):
    """Scoring speed of deployed versions on already-embedded clips: clips x labels per second."""
    from ..bench import score as score_bench

    echo_json(score_bench.run(clips=clips, labels=n_labels, repeats=repeats, seed=seed))


@bench.command("search")
@click.option("--clips", default=500_000, show_default=True, help="Synthetic corpus size.")
@click.option("--dim", default=DEFAULT_DIM, show_default=True, help="Vector dimension (the default embedder's).")
@click.option("--queries", default=200, show_default=True, help="Queries timed.")
@click.option("-k", "k", default=100, show_default=True, help="Results per query (recall@k).")
@click.option("--seed", default=0, show_default=True)
@click.option("--noise", default=1.5, show_default=True, help="Clustered corpus noise norm; higher is harder.")
@click.option("--data", default="clustered,random", show_default=True, help="Comma-separated: clustered, random.")
@click.option("--nprobe-sweep", default="", help="Comma-separated nprobe values to also measure, e.g. 16,32,64,128.")
@json_option(ALWAYS_JSON)
def bench_search(clips, dim, queries, k, seed, noise, data, nprobe_sweep, as_json):
    """Exact against ANN search: latency, recall@k against exact, ANN build time, memory."""
    from ..bench import search as search_bench

    echo_json(search_bench.run(clips, dim, queries, k, seed, _csv(data), _csv(nprobe_sweep, int), noise))


@bench.command("annotate")
@click.option("--writers", default=20, show_default=True, help="Writer processes posting annotations.")
@click.option("--each", default=500, show_default=True, help="Annotations each writer posts.")
@click.option("--rounds", default=2, show_default=True, help="FULL/NORMAL pairs, alternated; medians reported.")
@click.option("--clips", default=50, show_default=True, help="Clips in the fresh benchmark workspace.")
@click.option(
    "--catalog-url",
    envvar="VA_CATALOG_URL",
    default=None,
    help="A PostgreSQL URL: each round also runs the load there (its own schema, dropped after). Env VA_CATALOG_URL.",
)
@json_option(ALWAYS_JSON)
def bench_annotate(writers, each, rounds, clips, catalog_url, as_json):
    """Annotation load over loopback HTTP: the real server on a fresh workspace, N writer
    processes; acknowledged, stored, lost, duplicated, throughput, p50/p95 latency, with the
    catalog at synchronous=FULL (the default) and NORMAL, alternated, and on PostgreSQL when
    given a URL (scripts/start-postgres starts a throwaway one)."""
    from ..bench.annotate import run

    echo_json(run(writers=writers, each=each, rounds=rounds, clips=clips, catalog_url=catalog_url))


@bench.command("gpu")
@click.option("--batch", default=1024, show_default=True, help="Images per image-tower batch.")
@click.option("--seconds", default=5.0, show_default=True, help="How long the image tower is timed.")
@click.option("--media", "media_dir", default=None, help="Videos (default: the sample media).")
@json_option(ALWAYS_JSON)
@click.pass_obj
def bench_gpu(obj: Context, batch, seconds, media_dir, as_json):
    """On a GPU machine (va --device cuda bench gpu): the image tower's images/s in fp16,
    decoding frames/s per core, ingest clips/s with and without decode processes (docs/ray.md)."""
    from ..bench.scale_ingest import gpu_check

    echo_json(gpu_check(media_dir, device=obj.settings.device, batch=batch, seconds=seconds))


@bench.command("api")
@click.argument("videos", nargs=-1, required=True)
@click.option("--requests", default=10_000, show_default=True, help="Run until at least this many requests.")
@click.option("--max-examples", default=100, show_default=True, help="Examples per operation and phase, per run.")
@json_option(ALWAYS_JSON)
def bench_api(videos, requests, max_examples, as_json):
    """The HTTP API against its own OpenAPI schema (schemathesis, every check) on a fresh
    workspace holding VIDEOS; exit status 1 when anything failed."""
    from ..bench.api import bench as run

    result = run(videos, requests=requests, max_examples=max_examples)
    echo_json(result)
    if result["server_errors"] or result["check_failures"] or result["engine_errors"]:
        sys.exit(1)


@bench.command("scale")
@click.option(
    "--sizes",
    default="500000,2000000",
    show_default=True,
    help="Comma-separated corpus sizes. The default stops at 2M: 10,000,000 took 19 minutes here "
    "on 2 cores (writing 17 GB of features, the int8 copy, the IVF index, exact ground truth) and needs "
    "~25 GB free in --tmp.",
)
@click.option("--annotations", default=1000, show_default=True, help="Annotated clips per build.")
@click.option("--repeats", default=5, show_default=True, help="Warm builds timed (median reported).")
@click.option("--queries", default=100, show_default=True, help="Text-search queries timed.")
@click.option("--nprobe", default=None, type=int, help="IVF lists visited per query (default: the index's own).")
@click.option("--seed", default=0, show_default=True)
@click.option("--shards", default=8, show_default=True, help="Shards of the sharding simulation (0: none).")
@click.option("--skip-search", is_flag=True, help="Only the Build benchmark.")
@click.option("--skip-ingest", is_flag=True, help="Leave out ingest throughput (Ray 1 and 2 workers vs local).")
@click.option("--media", "media_dir", default=None, help="Videos for the ingest part (default: the sample media).")
@click.option("--tmp", default=None, help="Folder for the synthetic matrices (default: the system's temp folder).")
@json_option(ALWAYS_JSON)
def bench_scale(
    sizes, annotations, repeats, queries, nprobe, seed, shards, skip_search, skip_ingest, media_dir, tmp, as_json
):
    """Build (int8 scan + float32 re-scoring) and text search at 500k / 2M / 10M synthetic
    clips, and ingest throughput with 1 and 2 Ray workers against the local engine: one JSON
    object (figures in docs/benchmarks.md)."""
    from ..bench import scale as scale_bench

    echo_json(
        scale_bench.run(
            sizes=_csv(sizes, int),
            annotations=annotations,
            repeats=repeats,
            queries=queries,
            seed=seed,
            nprobe=nprobe,
            shards=shards,
            skip_search=skip_search,
            skip_ingest=skip_ingest,
            media_dir=media_dir,
            tmp=tmp,
        )
    )


@bench.command("search-cold")
@click.option("--runs", default=5, show_default=True, help="Timed cold processes per command and tree.")
@click.option("--query", default="a ship at sea", show_default=True, help="The text `va search` looks for.")
@click.option(
    "--tree",
    "trees",
    multiple=True,
    metavar="NAME=SRC",
    help="Also time the package in SRC (a checkout's src folder, e.g. a git worktree of an older commit).",
)
@json_option(ALWAYS_JSON)
@click.pass_obj
def bench_search_cold(obj: Context, runs, query, trees, as_json):
    """Cold `va search "text"` on the --home workspace: fresh processes, medians in seconds
    and peak memory, beside `va info` (the floor: python, click, numpy, the catalog).

    One untimed run of each command first fills the page cache; the runs then alternate
    between commands and trees, so a change of machine load hits them alike."""
    import os
    import platform
    import statistics
    from pathlib import Path

    from ..errors import InvalidInput
    from ..workspace import workspace_exists

    if runs < 1:
        raise InvalidInput(f"--runs must be at least 1, got {runs}")
    home = Path(obj.settings.home).expanduser().resolve()
    if not workspace_exists(home):
        raise InvalidInput(f"no workspace at {home}; ingest some videos into it first (va --home {home} ingest ...)")
    sources: dict[str, str | None] = {"this": None}
    for tree in trees:
        name, sep, src = tree.partition("=")
        if not sep or not name or not (Path(src) / "videoannotator" / "__init__.py").is_file():
            raise InvalidInput(f"--tree {tree!r}: give NAME=SRC, SRC a folder holding the videoannotator package")
        sources[name] = str(Path(src).resolve())
    commands = {"search": ["search", query, "-k", "20"], "info": ["info"]}
    timings: dict[str, dict[str, list[tuple[float, float]]]] = {t: {c: [] for c in commands} for t in sources}
    load_before = os.getloadavg()
    for repeat in range(runs + 1):
        for tree, src in sources.items():
            for command, args in commands.items():
                seconds, peak_mb = _cold_run(home, args, src)
                if repeat:  # the first round only warms the page cache
                    timings[tree][command].append((seconds, peak_mb))

    def summary(measured: list[tuple[float, float]]) -> dict:
        return {
            "median_s": round(statistics.median(s for s, _ in measured), 3),
            "runs_s": [round(s, 3) for s, _ in measured],
            "peak_mib": round(statistics.median(m for _, m in measured)),
        }

    echo_json(
        {
            "query": query,
            "home": str(home),
            "runs": runs,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "load_before": load_before,
                "load_after": os.getloadavg(),
            },
            "trees": {
                tree: {"src": src or "installed", **{c: summary(timings[tree][c]) for c in commands}}
                for tree, src in sources.items()
            },
        }
    )


def _cold_run(home, args: list[str], src: str | None) -> tuple[float, float]:
    """One fresh `va --home HOME ARGS` process: (wall seconds, peak resident MiB)."""
    import os
    import subprocess
    import tempfile
    import time

    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    argv = [sys.executable, "-c", "from videoannotator.cli import main; main()", "--home", str(home), *args]
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            stderr.seek(0)
            tail = stderr.read().decode(errors="replace").strip().splitlines()[-1:]
            raise click.ClickException(f"`va {' '.join(args)}` failed ({process.returncode}): {' '.join(tail)}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports KiB
