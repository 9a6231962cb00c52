"""`va label|search|annotate|undo|build|feed|review|export|serve`: the loop from a terminal."""

from __future__ import annotations

import json
import shlex
import sys

import click

from ..names import (
    CURRENT_VALUES,
    EXPORT_FORMATS,
    EXPORT_WHAT,
    FEED_NAMES,
    REVIEW_FILTERS,
    SEGMENT_FORMATS,
    VOTE_VALUES,
)
from .app import (
    CLIP_ID,
    OFFSET,
    PAGE,
    SEED,
    VERSION,
    Context,
    choice,
    cli,
    echo_json,
    emit,
    json_option,
    printable,
    probability,
    table,
)

ANNOTATOR_HELP = "Who is annotating (env VA_ANNOTATOR; default: your login name)."


def _annotator(value):
    import getpass
    import os

    return value or os.environ.get("VA_ANNOTATOR") or getpass.getuser() or "default"


def _clips_table(clips, similarity: bool = False):
    """Search and feed results: the clip id, its score and where it is. ``p`` is the label's
    calibrated probability, as the page shows it (``--json`` has the raw logit as ``score``);
    a text search's ``similarity`` is the cosine between the query and the clip."""
    if not clips:
        click.echo("(no clips)")
        return
    with_p = any("probability" in c for c in clips)
    headers = ["clip", *(["similarity"] if similarity else []), *(["p"] if with_p else []), "time (s)", "video"]
    rows = [
        [
            c["clip_id"],
            *([f"{c['score']:.3f}"] if similarity else []),
            *([probability(c)] if with_p else []),
            f"{c['start']:.2f}-{c['end']:.2f}",
            c["video"],
        ]
        for c in clips
    ]
    table(headers, rows, right=range(len(headers) - 1))


@cli.group()
def label():
    """Create and manage labels (one binary classifier each)."""


@label.command("create")
@click.argument("name")
@click.option("--description", "-d", default="", help="The guideline: what counts as positive.")
@click.option("--keywords", "-k", default="", help="Comma-separated keywords, e.g. 'Landscapes, Buildings'.")
@json_option()
@click.pass_obj
def label_create(obj: Context, name, description, keywords, as_json):
    """Create a label, e.g. va label create establishing-shot -d "Extremely wide shot ..." -k "Landscapes, Buildings"."""
    emit(obj.workspace.create_label(name, description, keywords), as_json)


@label.command("list")
@click.option("--all", "include_archived", is_flag=True, help="Include archived labels.")
@json_option()
@click.pass_obj
def label_list(obj, include_archived, as_json):
    """List labels."""
    labels = obj.workspace.list_labels(include_archived)
    if as_json:
        emit(labels, True)
        return
    for lab in labels:
        flag = " (archived)" if lab["archived"] else ""
        click.echo(f"{lab['name']}{flag}: {lab['description']}  [{', '.join(lab['keywords'])}]")


@label.command("show")
@click.argument("name")
@json_option()
@click.pass_obj
def label_show(obj, name, as_json):
    """Show a label: guideline, counts, model versions, next step."""
    emit(obj.workspace.label_summary(name), as_json, _label_block)


SHOWN_VERSIONS = 10  # `label show` lists the latest ten; --json has them all


def _label_block(lab):
    """`va label show` for people: the guideline, the counts, the versions as a table, the next step."""
    flag = " (archived)" if lab["archived"] else ""
    click.echo(
        f"{printable(lab['name'])}{flag}: label {lab['id']}, created {str(lab['created_at'])[:16].replace('T', ' ')}"
    )
    if lab["description"]:
        click.echo(f"  guideline:   {printable(lab['description'])}")
    if lab["keywords"]:
        click.echo(f"  keywords:    {printable(', '.join(lab['keywords']))}")
    c = lab["counts"]
    total = sum(c.values())
    parts = [f"{c[k]} {k}" for k in CURRENT_VALUES if c.get(k) or k in VOTE_VALUES[:2]]
    click.echo(f"  annotations: {total:,} ({', '.join(parts)})")
    versions = lab["versions"]
    if not versions:
        click.echo(f"  model:       none yet (va build {shlex.quote(lab['name'])})")
    else:
        click.echo(f"  versions:    {len(versions)}")
        rows = [_version_row(v) for v in versions[-SHOWN_VERSIONS:]]
        click.echo("")
        table(
            ["version", "built", "annotations", "AP (95% interval)", "threshold p", "clips scored"],
            rows,
            right=(0, 2, 4, 5),
        )
        if len(versions) > SHOWN_VERSIONS:
            click.echo(f"  ... {len(versions) - SHOWN_VERSIONS} earlier (--json lists them all)")
        click.echo("")
    nxt = lab.get("next")
    if nxt:
        click.echo(f"  next:        {printable(_next_command({'next': nxt, 'label': lab['name']}))}")


def _version_row(v):
    m = v["metrics"]
    counts = m.get("counts") or {}
    cv = m.get("cv") or {}
    ap = f"{cv['ap']:.3f} ({cv['ap_low']:.2f}-{cv['ap_high']:.2f})" if cv.get("ap") is not None else "-"
    threshold = (m.get("threshold") or {}).get("probability")
    return [
        v["version"],
        str(v["created_at"])[:16].replace("T", " "),
        f"{counts.get('positive', 0)}+ {counts.get('negative', 0)}-",
        ap,
        "-" if threshold is None else f"{threshold:.2f}",
        f"{v['clips_scored']:,}",
    ]


@label.command("rename")
@click.argument("name")
@click.argument("new_name")
@json_option()
@click.pass_obj
def label_rename(obj, name, new_name, as_json):
    """Rename a label (annotations and models follow)."""
    emit(obj.workspace.update_label(name, name=new_name), as_json)


@label.command("edit")
@click.argument("name")
@click.option("--description", "-d", default=None)
@click.option("--keywords", "-k", default=None)
@json_option()
@click.pass_obj
def label_edit(obj, name, description, keywords, as_json):
    """Change a label's description or keywords."""
    emit(obj.workspace.update_label(name, description=description, keywords=keywords), as_json)


@label.command("archive")
@click.argument("name")
@click.option("--undo", is_flag=True, help="Bring an archived label back.")
@json_option()
@click.pass_obj
def label_archive(obj, name, undo, as_json):
    """Archive a label (hidden from lists; nothing is deleted)."""
    emit(obj.workspace.update_label(name, archived=not undo), as_json)


@label.command("history")
@click.argument("name")
@json_option()
@click.pass_obj
def label_history(obj, name, as_json):
    """Every edit of the label's name, description, keywords or archived flag, newest first."""
    ws = obj.workspace
    current = ws.label(name)["name"]
    entries = ws.label_history(name)
    if as_json:
        emit({"label": current, "history": entries}, True)
        return
    if not entries:
        click.echo(f"{current}: never edited")
    for e in entries:
        click.echo(f"{e['edited_at']}  {e['editor']}  changed {', '.join(e['changed'])}")
        for field in e["changed"]:
            old, new = e["before"][field], (e["after"] or {}).get(field)
            click.echo(f"    {field}: {json.dumps(old)} -> {json.dumps(new)}")


@cli.command()
@click.argument("text", required=False)
@click.option("--like", "clip_id", type=CLIP_ID, default=None, help="Find clips similar to this clip id instead.")
@click.option("--label", "-l", default=None, help="With --hide-annotated: the label whose annotated clips to hide.")
@click.option("--hide-annotated", is_flag=True, help="Leave out clips already annotated for --label.")
@click.option("-k", type=PAGE, default=20, show_default=True, help="How many clips.")
@click.option("--offset", type=OFFSET, default=0, show_default=True, help="Skip this many (paging).")
@json_option()
@click.pass_obj
def search(obj, text, clip_id, label, hide_annotated, k, offset, as_json):
    """Find clips by text (zero-shot) or by example (--like CLIP_ID).

    Examples:  va search "a ship at sea" -k 10     va search --like 12
    """
    clips = obj.workspace.search(text, clip_id, k, offset, label, hide_annotated)
    emit(clips, as_json, lambda found: _clips_table(found, similarity=True))


@cli.command()
@click.argument("label")
@click.argument("clip_ids", nargs=-1, type=CLIP_ID, required=True)
@click.argument("value", type=choice(VOTE_VALUES))
@click.option("--annotator", "-a", default=None, help=ANNOTATOR_HELP)
@click.option("--source", default="cli", help="Where the clip was shown (search, a feed name, review).")
@json_option()
@click.pass_obj
def annotate(obj, label, clip_ids, value, annotator, source, as_json):
    """Annotate clips for a label: va annotate LABEL CLIP_ID... positive|negative|skip."""
    events = obj.workspace.annotate(label, list(clip_ids), value, _annotator(annotator), source)
    emit(events if as_json else {"annotated": len(events), "value": value, "label": label}, as_json)


@cli.command()
@click.argument("label")
@click.option("--clip", "clip_id", type=CLIP_ID, default=None, help="Undo the latest annotation of this clip only.")
@click.option("--annotator", "-a", default=None, help=ANNOTATOR_HELP)
@json_option()
@click.pass_obj
def undo(obj, label, clip_id, annotator, as_json):
    """Undo your latest annotation on a label (appends an event; history is kept)."""
    emit(obj.workspace.undo(label, _annotator(annotator), clip_id), as_json)


@cli.command()
@click.argument("label")
@click.option("--seed", type=SEED, default=0, show_default=True)
@json_option()
@click.pass_obj
def build(obj, label, seed, as_json):
    """Train the label's classifier on its annotations, score every clip, show the four feeds."""
    result = obj.workspace.build(label, seed=seed)
    if as_json:
        emit(result, True)
        return
    m = result["metrics"]
    click.echo(f"{result['label']} version {result['version']}: {json.dumps(m.get('counts'))}")
    cv = m.get("cv") or {}
    if cv.get("ap") is not None:
        click.echo(f"  cross-validated AP: {cv['ap']:.3f} (95% interval {cv['ap_low']:.3f}-{cv['ap_high']:.3f})")
    else:
        click.echo(f"  cross-validated AP: not yet ({cv.get('reason')})")
    for name, ids in result["feeds"].items():
        click.echo(f"  {name:<13} {' '.join(map(str, ids[:10]))}{' ...' if len(ids) > 10 else ''}")
    click.echo(f"  next: {_next_command(result)}")


def _next_command(result: dict) -> str:
    """The build's suggestion (learn/next_feed.py) as the command that follows it."""
    nxt, label = result["next"], shlex.quote(result["label"])
    if nxt["feed"] == "search":
        where = f'`va search "..." --label {label} --hide-annotated`'
    else:
        where = f"`va feed {label} {nxt['feed']}`"
    return f"{nxt['reason']}: annotate ~10 clips from {where}, then build again"


@cli.command()
@click.argument("label")
@click.argument("name", required=False, default="borderline", type=choice(FEED_NAMES))
@click.option("-n", type=PAGE, default=20, show_default=True)
@click.option("--offset", type=OFFSET, default=0, show_default=True)
@click.option("--seed", type=SEED, default=0, show_default=True)
@json_option()
@click.pass_obj
def feed(obj, label, name, n, offset, seed, as_json):
    """Show one feed of the label's latest model (annotated clips left out).

    NAME defaults to borderline, the clips the model is least sure of: annotating those and
    building again every ~10 annotations taught the model fastest (docs/evaluation.md)."""
    result = obj.workspace.feed(label, name, n, offset, seed)
    emit(result, as_json, lambda r: _clips_table(r["clips"]))


@cli.command()
@click.argument("label")
@click.option("--filter", "filter_", default="all", show_default=True, type=choice(REVIEW_FILTERS))
@json_option()
@click.pass_obj
def review(obj, label, filter_, as_json):
    """Every annotation of the label with the latest model's score beside it."""
    result = obj.workspace.review(label, filter_)

    def human(r):
        rows = [
            [
                a["clip_id"],
                a["value"],
                probability(a),
                f"{a['start']:.2f}-{a['end']:.2f}",
                a["video"],
                ", ".join(
                    flag
                    for flag, on in (
                        ("model disagrees", a["model_disagrees"]),
                        ("annotators disagree", a["annotators_disagree"]),
                    )
                    if on
                ),
            ]
            for a in r["annotations"]
        ]
        if rows:
            table(["clip", "value", "p", "time (s)", "video", "note"], rows, right=(0, 2, 3))
        n = len(rows)
        shown = "" if filter_ == "all" else f" (filter {filter_})"
        model = f", p from version {r['version']}" if r.get("version") else ", no model yet"
        click.echo(f"{n:,} clip{'' if n == 1 else 's'}{shown}{model if n else ''}")

    emit(result, as_json, human)


@cli.command()
@click.argument("label")
@click.option("--what", type=choice(EXPORT_WHAT), default="annotations", show_default=True)
@click.option(
    "--format",
    "fmt",
    type=choice(dict.fromkeys((*EXPORT_FORMATS, *SEGMENT_FORMATS))),
    default=None,
    help="annotations/events: jsonl (default; one JSON object a line), json (one JSON array) or csv; "
    "model: json (default; one JSON object) or jsonl (the same object on one line); "
    "segments: otio (default; an OpenTimelineIO timeline, one marker per segment), edl (a CMX 3600 EDL, "
    "one edit per segment), csv or json.",
)
@json_option("Same as --format json: one JSON document.")
@click.option("--version", type=VERSION, default=None, help="Model version (default: latest).")
@click.option("--video", default=None, help="segments: one video (id, path or file name; default: every video).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="segments: write to this file instead of standard output.",
)
@click.pass_obj
def export(obj, label, what, fmt, as_json, version, video, out):
    """Export a label's annotations (current values or the raw event log), its model as JSON, or
    the live version's segments for editing tools (OpenTimelineIO, EDL, CSV)."""
    if as_json:
        if fmt not in (None, "json"):
            raise click.UsageError(f"--json is --format json; it cannot go with --format {fmt}")
        fmt = "json"
    if what != "segments" and (video is not None or out is not None):
        raise click.UsageError("--video and --out go with --what segments")
    if what != "segments" and fmt in SEGMENT_FORMATS and fmt not in EXPORT_FORMATS:
        raise click.UsageError(f"--format {fmt} goes with --what segments")
    ws = obj.workspace
    if what == "segments":
        if version is not None:
            raise click.UsageError("segments come from the live version; `va deploy LABEL --version N` first")
        if fmt not in (None, *SEGMENT_FORMATS):
            raise click.UsageError(f"segments export as {', '.join(SEGMENT_FORMATS)}, not {fmt}")
        _export_segments(ws.export_segments(label, fmt or SEGMENT_FORMATS[0], video), out)
        return
    if what == "model":
        if fmt == "csv":
            raise click.UsageError("a model exports as json or jsonl, not csv")
        model = ws.export_model(label, version)
        click.echo(json.dumps(model) if fmt == "jsonl" else json.dumps(model, indent=2))
        return
    rows = ws.export_annotations(label, events=(what == "events"))
    fmt = fmt or "jsonl"
    if fmt == "csv":
        from ..export import to_csv

        sys.stdout.write(to_csv(rows))
    elif fmt == "json":
        echo_json(rows)
    else:
        for row in rows:
            click.echo(json.dumps(row))


def _export_segments(text, out):
    """A segments document (OTIO, EDL, CSV or JSON text): to ``out``, or to stdout."""
    from pathlib import Path

    if out is None:
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but localhost needs --token, or users (team mode: `va users add NAME`).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option(
    "--token", envvar="VA_TOKEN", default=None, help="Access token required on non-local addresses (env VA_TOKEN)."
)
@click.pass_obj
def serve(obj, host, port, token):
    """Serve the HTTP API (and the page) for this workspace.

    Alone: on 127.0.0.1, no token needed. Shared: `--host 0.0.0.0 --token T`, everyone opens
    http://HOST:8765/?token=T once. A team: give each person a user (`va users add NAME` prints
    their token); the server then records each vote under the name of the token that sent it."""
    from ..server.run import serve as run

    run(obj.workspace, host=host, port=port, token=token)
