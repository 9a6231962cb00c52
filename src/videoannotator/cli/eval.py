"""`va eval`: does active learning beat the baselines? A simulated annotator answers from ground truth."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click

from .app import LazyChoice, cli, emit, json_option

SUITE_HELP = (
    "fashion-mnist (default; Debian dataset-fashion-mnist, embedded once and cached), generic (--data DIR), "
    "paper (--data DIR, the paper's release; needs h5py), workspace (--home + --labels-file), "
    "slideshow (generate videos, ingest, run, score shot detection), camera-motion, shot-scale, rare, "
    "multi-subject, footage (generated footage like the paper's labels, the same path; --seed), synthetic (known answers)."
)


def _csv(value, cast=str):
    return tuple(cast(v.strip()) for v in value.split(",") if v.strip()) if value else ()


def _default_out(settings, suite: str) -> Path:
    return Path(settings.cache).expanduser() / "eval" / "results" / suite


# The harness's own names, read from it when a choice is shown or checked (importing it loads
# numpy: not on every `va` start).
def _suites():
    from ..eval.suites import SUITES

    return SUITES


def _rewards():
    from ..eval.strategies import REWARDS

    return REWARDS


def _train_on():
    from ..eval.datasets import TRAIN_ON

    return TRAIN_ON


def _fashion_features():
    from ..eval.fashion import FEATURE_KINDS

    return FEATURE_KINDS


@cli.group("eval", invoke_without_command=True)
@click.option("--suite", type=LazyChoice(_suites), default="fashion-mnist", show_default=True, help=SUITE_HELP)
@click.option(
    "--data",
    type=click.Path(),
    default=None,
    help="generic/paper: the dataset folder; fashion-mnist: the image folder (default /usr/share/datasets/fashion-mnist).",
)
@click.option(
    "--labels-file", type=click.Path(dir_okay=False), default=None, help="workspace suite: ground truth (JSON)."
)
@click.option("--labels", default=None, help="Comma-separated label names to run (default: all).")
@click.option("--budgets", default=None, help="Annotation budgets, comma-separated (default 25,50,100,250,500,1000).")
@click.option("--seeds", default=3, show_default=True, help="Seeds per label (random draws, random feed, bandits).")
@click.option(
    "--methods",
    default=None,
    help="Comma-separated: va and the baselines random, zero-shot, zs-top, zs+random (default: all).",
)
@click.option(
    "--mix",
    default=None,
    help="va feed mix(es), comma-separated: round-robin, epsilon-greedy, ucb, exp3, "
    "thompson, only:<feed>, hunt[-search|-top_positive]:N:SHARE; several give one va line each. "
    "Default: hunt-top_positive:10:0.25, the product's rule (docs/evaluation-decisions.md, decision 4).",
)
@click.option(
    "--reward",
    type=LazyChoice(_rewards),
    default=None,
    help="Bandit reward: share of a batch the model had wrong, or cross-validated AP change.",
)
@click.option("-k", "--k", "k", type=int, default=None, help="va: annotations per round (between builds). Default: 10.")
@click.option(
    "--train-on",
    type=LazyChoice(_train_on),
    default=None,
    help="Vectors the classifier trains on. Default: features where the suite has them (fashion-mnist, "
    "generic with features.npy), else joint.",
)
@click.option("--C", "C", type=float, default=1.0, show_default=True, help="Classifier inverse regularisation.")
@click.option("--heldout", type=float, default=0.3, show_default=True, help="Share of each label's clips held out.")
@click.option("--split-seed", type=int, default=0, show_default=True, help="Seed of the fixed held-out split.")
@click.option("--noise", type=float, default=0.0, show_default=True, help="Share of answers the annotator gets wrong.")
@click.option("--sample", type=int, default=None, help="fashion-mnist: images to use (default 3000); synthetic: clips.")
@click.option(
    "--sample-offset",
    type=int,
    default=0,
    show_default=True,
    help="fashion-mnist: skip this many images of the fixed order (e.g. confirm on images no decision saw).",
)
@click.option(
    "--fashion-features",
    type=LazyChoice(_fashion_features),
    default="product",
    show_default=True,
    help="fashion-mnist: the features suite trains on: product (the feature blocks Build trains on), "
    "semantic (the 384-d projection alone) or full (all 1,280 EfficientNet features).",
)
@click.option(
    "--videos", type=int, default=None, help="Generated suites: videos to generate (default: the suite's; slideshow 4)."
)
@click.option(
    "--shots", type=int, default=None, help="Generated suites: shots per video (default: the suite's; slideshow 60)."
)
@click.option(
    "--seed",
    "gen_seed",
    type=int,
    default=0,
    show_default=True,
    help="Generated suites: generation seed (which images; 0 = the report set, 1 = the decision set).",
)
@click.option(
    "--feature-blocks",
    default=None,
    help="Feature blocks the classifier trains on, name[:weight] comma-separated, e.g. semantic,motion:2,layout "
    "(features/blocks.py; default: all the suite stores, the product's). Suites with named blocks only.",
)
@click.option(
    "--jobs",
    type=int,
    default=min(4, os.cpu_count() or 1),
    show_default=True,
    help="Labels run in parallel (processes).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for results.json, results.md, ap-vs-annotations.png (default $VA_CACHE/eval/results/<suite>).",
)
@json_option("Print the results as one JSON document.")
@click.option("--quiet", "-q", is_flag=True, help="No progress.")
@click.pass_context
def eval_group(
    ctx,
    suite,
    data,
    labels_file,
    labels,
    budgets,
    seeds,
    methods,
    mix,
    reward,
    k,
    train_on,
    C,
    heldout,
    split_seed,
    noise,
    sample,
    sample_offset,
    fashion_features,
    feature_blocks,
    videos,
    shots,
    gen_seed,
    jobs,
    out,
    as_json,
    quiet,
):
    """Run the evaluation: va against random, zero-shot, zs-top and zs+random per budget.

    AP is measured on a fixed held-out split of each label that no method selects from.
    Writes results.json, results.md (per label and median; median gain of va over the
    best baseline per budget) and ap-vs-annotations.png, and prints the median gains.

    \b
    Examples:
      va eval
      va eval --suite fashion-mnist --json
      va eval --mix round-robin,thompson,ucb --seeds 5
      va --home ws eval --suite workspace --labels-file truth.json --budgets 25,50,100
      va eval --suite camera-motion --seed 1 --split-seed 1   # generated footage; decide on seed 1, report on 0
    """
    if ctx.invoked_subcommand is not None:
        return
    from ..eval import report
    from ..eval.simulate import DEFAULT_BUDGETS, METHODS, EvalConfig, run_experiment
    from ..eval.strategies import DEFAULT_K, DEFAULT_MIX, DEFAULT_REWARD
    from ..eval.suites import GENERATED, load_suite, run_generated

    obj = ctx.obj
    started = time.perf_counter()
    config = EvalConfig(
        budgets=_csv(budgets, int) or DEFAULT_BUDGETS,
        seeds=seeds,
        methods=_csv(methods) or METHODS,
        mixes=_csv(mix) or (DEFAULT_MIX,),
        k=k or DEFAULT_K,
        reward=reward or DEFAULT_REWARD,
        train_on=train_on,
        C=C,
        heldout=heldout,
        split_seed=split_seed,
        noise=noise,
        jobs=jobs,
        feature_blocks=feature_blocks,
    )
    progress = not quiet and not as_json
    names = list(_csv(labels)) or None
    out_dir = Path(out).expanduser() if out else _default_out(obj.settings, suite)

    def tell(res):
        if progress:
            state = f"skipped ({res.skipped})" if res.skipped else "done"
            click.echo(f"  {res.name}: {state}", err=True)

    if suite in GENERATED:
        results = run_generated(
            suite,
            out_dir,
            config,
            n_videos=videos,
            shots_per_video=shots,
            seed=gen_seed,
            settings=obj.settings,
            progress=progress,
            labels=names,
        )
    else:
        t = time.perf_counter()
        dataset = load_suite(
            suite,
            data=data,
            labels_file=labels_file,
            sample=sample,
            workspace=obj.workspace if suite == "workspace" else None,
            device=obj.settings.device,
            progress=progress,
            labels=names,
            offset=sample_offset,
            fashion_features=fashion_features,
        )
        load_s = round(time.perf_counter() - t, 1)
        if progress:
            click.echo(
                f"{dataset.name}: {dataset.keys.size} clips, {len(dataset.concepts)} labels "
                f"(loaded in {load_s} s); running...",
                err=True,
            )
        results = run_experiment(dataset, config, progress=tell)
        results["timings_s"] = {"load_and_embed": load_s, **results["timings_s"]}
    results["timings_s"]["total"] = round(time.perf_counter() - started, 1)
    paths = report.write_outputs(results, out_dir)
    if as_json:
        click.echo(json.dumps(results, indent=1, default=report._jsonable))
        return
    click.echo("\n".join(report.gains_lines(results)))
    if "shot_detection" in results:
        sd = results["shot_detection"]
        click.echo(
            f"shot detection ({sd['detector']}): recall {sd['recall']:.2f}, precision {sd['precision']:.2f} "
            f"over {sd['true']} known cuts"
        )
    click.echo(f"total {results['timings_s']['total']} s; wrote {paths['markdown']}, {paths['plot']}, {paths['json']}")


@eval_group.command("slideshow")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--videos", type=int, default=4, show_default=True)
@click.option("--shots", type=int, default=60, show_default=True, help="Shots (images) per video.")
@click.option("--seed", type=int, default=0, show_default=True)
@json_option()
def eval_slideshow(folder, videos, shots, seed, as_json):
    """Write slideshow videos of Fashion-MNIST images (known cuts and labels) and truth.json to FOLDER.

    Then: va --home H ingest FOLDER; va --home H eval --suite workspace --labels-file FOLDER/truth.json
    """
    from ..eval.slideshow import make_fashion_slideshows

    truth = make_fashion_slideshows(folder, videos, shots, seed)
    data = json.loads(truth.read_text())
    emit(
        {"truth": str(truth), "videos": len(data["cuts"]), "shots": len(data["shots"]), "labels": list(data["labels"])},
        as_json,
    )


def _scene_suites():
    from ..eval.scenes import SCENE_SUITES

    return tuple(SCENE_SUITES)


@eval_group.command("scenes")
@click.argument("suite", type=LazyChoice(_scene_suites))
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--videos", type=int, default=None, help="Videos (default: the suite's).")
@click.option("--shots", type=int, default=None, help="Shots per video (default: the suite's).")
@click.option("--seed", type=int, default=0, show_default=True, help="0 = the report set, 1 = the decision set.")
@json_option()
def eval_scenes(suite, folder, videos, shots, seed, as_json):
    """Write a generated suite's videos and truth.json to FOLDER: camera-motion, shot-scale, rare, multi-subject, footage.

    Then: va --home H ingest FOLDER; va --home H eval --suite workspace --labels-file FOLDER/truth.json
    (or `va eval --suite SUITE --seed N`, which does all of it).
    """
    from ..eval.scenes import generate

    truth = generate(suite, folder, seed, videos, shots)
    data = json.loads(truth.read_text())
    positives = {name: sum(name in s["labels"] for s in data["shots"]) for name in data["labels"]}
    emit(
        {
            "truth": str(truth),
            "videos": len(data["cuts"]),
            "shots": len(data["shots"]),
            "labels": list(data["labels"]),
            "positives": positives,
        },
        as_json,
    )


@eval_group.command("cuts")
@click.argument("truth", type=click.Path(dir_okay=False, exists=True), required=False)
@click.option(
    "--sample-media",
    "sample_media",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[DIR]",
    help="Score the packaged hand-marked cuts of the six sample videos, found in DIR (default $VA_CACHE/media).",
)
@click.option(
    "--detectors",
    default=None,
    help="Comma-separated detectors to compare, each NAME or NAME:THRESHOLD (content, content-edges, adaptive, "
    "transnetv2, auto). Default: the VA_SHOT_* settings.",
)
@click.option("--tolerance", type=int, default=2, show_default=True, help="Frames a detected cut may be off by.")
@json_option()
@click.pass_obj
def eval_cuts(obj, truth, sample_media, detectors, tolerance, as_json):
    """Score shot detection against known cuts: recall, precision, F1 and speed per detector.

    TRUTH: a truth.json with "cuts" {video: [frame, ...]} (or "shots" with start_frame; the
    cuts are then each video's shot starts after its first), videos beside it. --sample-media:
    the hand-marked cuts of the six sample videos (dissolves and fades are ranges: one
    detection inside is a hit; see docs/evaluation.md). --json: one detector's result, or with
    several {"detectors": [...]}.

    \b
    Examples:
      va eval cuts --sample-media
      va eval cuts --sample-media --detectors content,content-edges,adaptive,transnetv2 --json
      va eval cuts runs/slideshow/videos/truth.json --detectors content-edges:12
    """
    from ..errors import InvalidInput
    from ..eval.cuts import SAMPLE_TRUTH, score_detectors

    if (truth is None) == (sample_media is None):
        raise InvalidInput("va eval cuts: give a TRUTH file or --sample-media [DIR], not both or neither")
    media_dir = None
    if sample_media is not None:
        truth = SAMPLE_TRUTH
        media_dir = Path(sample_media or Path(obj.settings.cache).expanduser() / "media")
    specs = [d.strip() for d in (detectors or obj.settings.shot_detector or "auto").split(",") if d.strip()]
    if not detectors and obj.settings.shot_threshold:
        specs = [f"{specs[0]}:{obj.settings.shot_threshold:g}"]
    result = score_detectors(truth, specs, obj.settings, tolerance, media_dir=media_dir)
    if as_json:  # one detector: its result (as before --detectors); several: {"detectors": [...]}
        one = result["detectors"][0] if len(result["detectors"]) == 1 else None
        emit({"truth": result["truth"], **one} if one else result, True)
        return
    rows = result["detectors"]
    videos = list(rows[0]["videos"]) if rows else []
    click.echo(
        f"{'detector':<18} {'recall':>6} {'prec.':>6} {'F1':>6} {'hit/true':>9} {'false':>5} "
        f"{'detect xRT':>10} {'decode+detect xRT':>17}"
    )
    for r in rows:
        name = r["detector"] + (f":{r['threshold']:g}" if r["threshold"] else "")
        click.echo(
            f"{name:<18} {r['recall']:>6.3f} {r['precision']:>6.3f} {r['f1']:>6.3f} "
            f"{str(r['matched']) + '/' + str(r['true']):>9} {r['spurious_count']:>5} "
            f"{r['detect_x_realtime'] or 0:>10.1f} {r['decode_detect_x_realtime'] or 0:>17.1f}"
        )
    if len(videos) > 1:
        click.echo("F1 per video (hit/true, false):")
        for video in videos:
            cells = "  ".join(
                f"{r['videos'][video]['f1']:.2f} ({r['videos'][video]['matched']}/{r['videos'][video]['true']}, "
                f"{r['videos'][video]['spurious_count']})"
                for r in rows
            )
            click.echo(f"  {video:<24} {cells}")
    click.echo(f"{result['truth']}: tolerance {tolerance} frames; {result['seconds_total']} s")
