"""`va deploy|rollback|versions|card|score|timeline|monitor|production-feed|videos`: models in
production — put a version live, score new footage, read a video's timeline, watch the live
version and feed its edge cases back into the loop."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from ..names import PRODUCTION_SOURCE, SCORE_FORMATS
from .app import PAGE, SEED, VERSION, Context, cli, emit, engine_options, json_option, make_engine, printable


def _names(value: str | None) -> list[str] | None:
    """``L1,L2`` → ["L1", "L2"]; None when not given."""
    if value is None:
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise click.UsageError("--labels needs at least one label name, e.g. --labels ships,sea")
    return names


def _tc(seconds: float) -> str:
    """A time as m:ss.s (h:mm:ss.s from one hour on)."""
    tenths = max(round(float(seconds) * 10), 0)
    whole, tenth = divmod(tenths, 10)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}.{tenth}" if hours else f"{minutes}:{secs:02d}.{tenth}"


def _p(value) -> str:
    return "-" if value is None else f"{float(value):.2f}"


def _interval(pair) -> str:
    return "" if not pair else f" ({float(pair[0]):.2f}–{float(pair[1]):.2f})"


def _decisions(changes: dict) -> str:
    return (
        "production decisions"
        if changes["scope"] == "production"
        else "clip decisions (nothing scored in production yet)"
    )


def _changed_clips(clips: list, limit: int = 10) -> None:
    for c in clips[:limit]:
        side = "negative → positive" if c.get("now_positive") else "positive → negative"
        click.echo(
            f"  {c['clip_id']:>8}  p={float(c['probability']):.2f}  {side:<20} "
            f"{c['start']:>8.2f}-{c['end']:<8.2f} {printable(c['video'])}"
        )
    if len(clips) > limit:
        click.echo(f"  … and {len(clips) - limit} more (--json lists up to {len(clips)})")


# -- the registry ------------------------------------------------------------------------------


@cli.command()
@click.argument("label")
@click.option("--version", type=VERSION, default=None, help="The version to put live (default: the latest).")
@click.option("--dry-run", is_flag=True, help="Only say which production decisions the switch would change.")
@json_option()
@click.pass_obj
def deploy(obj: Context, label, version, dry_run, as_json):
    """Put a version of the label into production (a running server follows at once).

    With a version live already, says how many production decisions the switch changes:
    `va deploy ships --dry-run` first to see them, then `va deploy ships`."""
    result = obj.workspace.deploy(label, version, dry_run=dry_run)
    if as_json:
        emit(result, True)
        return
    name, v, was, changes = result["label"], result["version"], result["previous"], result["changes"]
    if dry_run:
        head = f"{name} v{v} would go live" + (
            f" (v{was} is live now)" if was is not None else " (nothing is live now)"
        )
        if was == v:
            head = f"{name} v{v} is live already; deploying it again changes nothing"
    else:
        head = f"{name} v{v} is live" + (f" (was v{was})" if was is not None and was != v else "")
        if was == v:
            head += " (it was already)"
    if changes is None:
        click.echo(head)
        return
    n, k = changes["decisions"], changes["changed"]
    up, down = changes["became_positive"], changes["became_negative"]
    if dry_run:
        click.echo(
            f"{head}; it would change {k} of {n} {_decisions(changes)}: {up} would become positive, {down} negative"
        )
    else:
        click.echo(f"{head}; {k} of {n} {_decisions(changes)} changed: {up} became positive, {down} negative")
    _changed_clips(changes["clips"])
    if dry_run:
        click.echo(f"  deploy it: va deploy {shlex.quote(name)} --version {v}")


@cli.command()
@click.argument("label")
@json_option()
@click.pass_obj
def rollback(obj: Context, label, as_json):
    """Make the version that was live before the current one live again."""
    result = obj.workspace.rollback(label)
    emit(
        result,
        as_json,
        lambda r: click.echo(f"{r['label']} v{r['version']} is live again (rolled back from v{r['previous']})"),
    )


@cli.command()
@click.argument("label")
@json_option()
@click.pass_obj
def versions(obj: Context, label, as_json):
    """Every model version of the label (AP, threshold, which one is live) and who deployed what when."""
    result = obj.workspace.versions(label)
    if as_json:
        emit(result, True)
        return
    rows = result["versions"]
    if not rows:
        click.echo(f"{result['label']}: no version yet; annotate, then `va build {shlex.quote(result['label'])}`")
        return
    click.echo(f"{'version':>7}  {'created':<20}  {'AP':>5}  {'threshold p':>11}  live")
    for v in rows:
        threshold = (v.get("threshold") or {}).get("probability")
        marker = "* live" if v["live"] else ("  was live" if v.get("ever_deployed") else "")
        click.echo(
            f"{'v' + str(v['version']):>7}  {str(v['created_at'])[:19]:<20}  {_p(v.get('ap')):>5}  "
            f"{_p(threshold):>11}  {marker}"
        )
    history = result["deployments"]
    click.echo("deployments:" if history else "deployments: none yet (`va deploy LABEL`)")
    for d in history:
        note = f"  ({printable(d['note'])})" if d.get("note") else ""
        click.echo(f"  {str(d['created_at'])[:19]}  {printable(d['deployer'])}  {d['action']} v{d['version']}{note}")


@cli.command()
@click.argument("label")
@json_option()
@click.pass_obj
def card(obj: Context, label, as_json):
    """The label's model card: a verdict and why, AP per version, what changed, what to expect."""
    c = obj.workspace.model_card(label)
    if as_json:
        emit(c, True)
        return
    live = f"v{c['live']} live" if c.get("live") is not None else "nothing deployed"
    click.echo(f"{c['label']} ({live})")
    if c.get("description"):
        click.echo(f"  {printable(c['description'])}")
    click.echo(f"verdict: {c['verdict']}")
    if c.get("why"):
        click.echo(f"  {c['why']}")
    trend = [_p(ap) for ap in c.get("ap_trend") or []]
    if trend:
        click.echo(f"AP per version: {' → '.join(trend)}")
    if c.get("since_last"):
        click.echo(f"since last: {c['since_last']}")
    if c.get("expect"):
        click.echo(f"what to expect: {c['expect']}")
    counts = c.get("annotations") or {}
    if counts:
        click.echo("annotations: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    sources = c.get("sources") or {}
    if sources:
        click.echo("sources: " + ", ".join(f"{printable(k)} {n}" for k, n in sources.items()))


# -- scoring and timelines -----------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--labels", "label_names", default=None, help="Comma-separated labels (default: every deployed label).")
@click.option("--all-deployed", is_flag=True, help="Every deployed label (the default; says so explicitly).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The table to write: FILE.parquet or FILE.csv (one row per clip × label).",
)
@json_option("Print the summary (not the rows) as one JSON document.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@engine_options
@click.pass_obj
def score(
    obj: Context, paths, label_names, all_deployed, out, as_json, quiet, engine_name, address, workers, decode_workers
):
    """Score video files with the deployed versions: ingests what is new, then writes one row per
    clip × label (video, clip_id, start, end, label, version, probability, positive).

    \b
    Examples:  va score ~/footage/new/ --labels ships,sea --out scores.parquet
               va score --engine ray --address HEAD:6379 /shared/new/ --out scores.parquet"""
    if label_names is not None and all_deployed:
        raise click.UsageError("give --labels or --all-deployed, not both")
    target = Path(out)
    if target.suffix.lower() not in SCORE_FORMATS:
        raise click.UsageError(f"--out must end in {' or '.join(SCORE_FORMATS)}, not {target.name!r}")
    engine = make_engine(engine_name, address, workers, decode_workers)
    result = obj.workspace.score(paths, _names(label_names), progress=not quiet and not as_json, engine=engine)
    from ..score import write_rows

    rows = result["rows"]
    write_rows(rows, target)
    summary = {
        "labels": result["labels"],
        "videos": result["videos"],
        "clips": sum(int(v["clips"]) for v in result["videos"]),
        "rows": len(rows),
        "positives": sum(1 for r in rows if r["positive"]),
        "out": str(target),
        "ingest": result["ingest"],
    }
    if as_json:
        emit(summary, True)
    else:
        scored = ", ".join(f"{x['label']} v{x['version']}" for x in summary["labels"])
        click.echo(
            f"scored {len(summary['videos'])} videos, {summary['clips']} clips with {scored}: "
            f"{summary['rows']} rows ({summary['positives']} positive) → {printable(target)}"
        )
    failed = (result.get("ingest") or {}).get("failed") or []
    for entry in failed:
        click.echo(f"error: {printable(entry.get('error', entry))}", err=True)
    if failed:
        raise SystemExit(1)


@cli.command()
@click.argument("video")
@click.option("--labels", "label_names", default=None, help="Comma-separated labels (default: every deployed label).")
@click.option("--png", type=click.Path(dir_okay=False), default=None, help="Also draw the timeline to this PNG file.")
@json_option()
@click.pass_obj
def timeline(obj: Context, video, label_names, png, as_json):
    """A video's timeline: per deployed label its segments (clips above the threshold).

    VIDEO: a video id, the path of a file in the workspace or its file name (`va videos`)."""
    result = obj.workspace.timeline(video, _names(label_names))
    if png is not None:
        from ..score import timeline_png

        timeline_png(result, png)
    if as_json:
        emit(result, True)
        return
    click.echo(f"{printable(result['video'])} (video {result['video_id']}, {_tc(result['duration'])})")
    if not result["tracks"]:
        click.echo("  no deployed label; `va deploy LABEL` puts one into production")
    for track in result["tracks"]:
        segments = track["segments"]
        click.echo(
            f"  {track['label']} v{track['version']} (threshold p={float(track['threshold']):.2f}): "
            f"{len(segments)} segment{'' if len(segments) == 1 else 's'}"
        )
        for s in segments:
            click.echo(
                f"    {_tc(s['start']):>9} – {_tc(s['end']):<9}  peak {float(s['peak']):.2f}  "
                f"mean {float(s['mean']):.2f}  {len(s['clips'])} clip{'' if len(s['clips']) == 1 else 's'}"
            )
    if png is not None:
        click.echo(f"drawn → {printable(png)}")


@cli.command()
@json_option()
@click.pass_obj
def videos(obj: Context, as_json):
    """Every video in the workspace: id, file, duration, clips, when it was ingested."""
    rows = obj.workspace.videos()
    if as_json:
        emit(rows, True)
        return
    if not rows:
        click.echo("no videos yet; `va ingest PATH` adds some")
    for v in rows:
        click.echo(
            f"{v['id']:>6}  {_tc(v['duration']):>9}  {v['clips']:>5} clips  {str(v['ingested_at'])[:19]}  "
            f"{printable(v['path'])}"
        )


# -- monitoring and the fix loop -----------------------------------------------------------------


@cli.command()
@click.argument("label", required=False)
@json_option()
@click.pass_obj
def monitor(obj: Context, label, as_json):
    """Per deployed label: drift against the corpus it was built on, production positive rate
    per batch, live precision and recall from the annotated production feed. Warnings first."""
    result = obj.workspace.monitor(label)
    if as_json:
        emit(result, True)
        return
    reports = result["labels"]
    if not reports:
        click.echo("no deployed label; `va deploy LABEL` puts one into production")
        return
    warned = [(r["label"], w) for r in reports for w in r["warnings"]]
    for name, warning in warned:
        click.echo(f"WARNING {name}: {warning}")
    if warned:
        click.echo("")
    for r in reports:
        click.echo(f"{r['label']} v{r['version']} (threshold p={float(r['threshold']):.2f})")
        psi = r["drift"]["psi"]
        click.echo(
            f"  drift: PSI {_p(psi)} (warning above {r['drift']['warn_above']})"
            + ("" if psi is not None else " — nothing scored in production yet")
        )
        prod, built = r["production"], r["built_on"]
        click.echo(
            f"  production: {prod['clips']} clips, positive rate {_p(prod['positive_rate'])} "
            f"(built on {built['clips']} clips: {_p(built['positive_rate'])})"
        )
        for b in prod["batches"][-10:]:
            click.echo(
                f"    batch {b['id']:>4}  {str(b['created_at'])[:19]}  {b['source']:<7} {b['clips']:>6} clips  "
                f"positive rate {_p(b['positive_rate'])}"
            )
        if len(prod["batches"]) > 10:
            click.echo(f"    … {len(prod['batches']) - 10} earlier batches (--json lists them all)")
        lv = r["live"]
        judged = sum(lv["annotated"].values())
        if lv["precision"] is None and lv["recall"] is None:
            click.echo(
                f"  live precision/recall: not yet — annotate the production feed "
                f"(`va production-feed {shlex.quote(r['label'])}`)"
            )
        else:
            click.echo(
                f"  live precision {_p(lv['precision'])}{_interval(lv['precision_interval'])}, "
                f"recall {_p(lv['recall'])}{_interval(lv['recall_interval'])} from {judged} annotated production clips"
            )


@cli.command("production-feed")
@click.argument("label")
@click.option("-n", type=PAGE, default=20, show_default=True, help="How many clips.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@json_option()
@click.pass_obj
def production_feed(obj: Context, label, n, seed, as_json):
    """Production clips to annotate: a random sample above and below the live threshold.

    Annotating them (`va annotate LABEL IDS positive --source production`) measures live
    precision and recall and feeds the next Build."""
    result = obj.workspace.production_feed(label, n, seed)
    if as_json:
        emit(result, True)
        return
    clips = result["clips"]
    pool = result["pool"]
    click.echo(
        f"{result['label']} v{result['version']}: {len(clips)} production clips to annotate "
        f"(of {pool['above']} above and {pool['below']} below the threshold that nobody has annotated)"
    )
    for c in clips:
        side = "above" if c["above_threshold"] else "below"
        click.echo(
            f"{c['clip_id']:>8}  p={float(c['probability']):.2f} {side}  {c['start']:>8.2f}-{c['end']:<8.2f} "
            f"{printable(c['video'])}"
        )
    if clips:
        ids = " ".join(str(c["clip_id"]) for c in clips[:3])
        click.echo(
            f"annotate: va annotate {shlex.quote(result['label'])} {ids} … positive|negative "
            f"--source {PRODUCTION_SOURCE}"
        )
