"""The annotation loop over a workspace: search, annotate, build, feeds, review, export.

Thin glue between the catalog (store/), the pure learning code (learn/) and the vector
index (search/); the Workspace methods call these functions one-to-one.
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import InvalidInput, NotReady

FEED_NAMES = ("top_positive", "top_negative", "borderline", "random")
MAX_PAGE = 1000


def _page(k, offset):
    k, offset = int(k), int(offset)
    if not 1 <= k <= MAX_PAGE:
        raise InvalidInput(f"k must be between 1 and {MAX_PAGE}, got {k}")
    if offset < 0:
        raise InvalidInput(f"offset must be >= 0, got {offset}")
    return k, offset


def annotated_ids(ws, label_id: int) -> np.ndarray:
    """Every clip with a current value for the label (positive, negative, skip, unresolved)."""
    return np.fromiter(ws.annotations.current(label_id).keys(), dtype=np.int64)


def describe_clips(ws, clip_ids, scores=None) -> list[dict]:
    clip_ids = [int(c) for c in clip_ids]
    if not clip_ids:
        return []
    rows = ws.catalog.query(
        f"SELECT c.id, c.video_id, c.position, c.start_s, c.end_s, v.path FROM clips c JOIN videos v ON v.id = c.video_id"
        f" WHERE c.id IN ({','.join('?' * len(clip_ids))})", clip_ids)
    by_id = {r["id"]: r for r in rows}
    out = []
    for i, clip_id in enumerate(clip_ids):
        r = by_id[clip_id]
        item = {"clip_id": clip_id, "video": r["path"], "video_id": r["video_id"], "start": round(r["start_s"], 3),
                "end": round(r["end_s"], 3)}
        if scores is not None:
            item["score"] = round(float(scores[i]), 5)
        out.append(item)
    return out


# -- search ------------------------------------------------------------------------------
def search(ws, text: str | None = None, clip_id: int | None = None, k: int = 20, offset: int = 0,
           label=None, hide_annotated: bool = False) -> list[dict]:
    k, offset = _page(k, offset)
    if (text is None) == (clip_id is None):
        raise InvalidInput("search needs either a text query or a clip id (more like this clip)")
    if text is not None:
        text = str(text).strip()
        if not text or len(text) > 1000:
            raise InvalidInput("the search text must be 1-1,000 characters")
        query = ws.embedder.encode_texts([text])[0]
    else:
        query = np.asarray(ws.vectors()[ws.clip(clip_id)["id"]], dtype=np.float32)
    exclude = set()
    if clip_id is not None:
        exclude.add(int(clip_id))
    if hide_annotated:
        if label is None:
            raise InvalidInput("hide_annotated needs a label")
        exclude |= set(annotated_ids(ws, ws.labels.get(label)["id"]).tolist())
    ids, scores = ws.index().search(query, k, exclude=np.fromiter(exclude, dtype=np.int64) if exclude else None,
                                    offset=offset)
    return describe_clips(ws, ids, scores)


# -- build ---------------------------------------------------------------------------------
def build(ws, label, seed: int = 0, n_feed: int = 100) -> dict:
    from ..learn.build import ProbeModel, build_model

    label = ws.labels.get(label)
    label_id = label["id"]
    last_event = ws.annotations.last_event_id(label_id)
    ids, ys, counts = ws.annotations.training_set(label_id, up_to_id=last_event or None)
    if counts["positive"] == 0 or counts["negative"] == 0:
        raise NotReady(
            f"build needs at least one positive and one negative annotation for {label['name']!r} "
            f"(has {counts['positive']} positive, {counts['negative']} negative); annotate some clips first"
        )
    started = time.perf_counter()
    X = ws.train_vectors()
    previous = ws.models.latest_or_none(label_id)
    warm = None
    if previous is not None and fits_workspace(ws, previous):
        warm = ProbeModel(coef=previous["coef"], intercept=previous["intercept"], threshold=previous["threshold"])
    skip_ids = np.setdiff1d(annotated_ids(ws, label_id), np.asarray(ids, dtype=np.int64))
    result = build_model(
        X, np.arange(X.shape[0], dtype=np.int64), np.asarray(ids, dtype=np.int64), np.asarray(ys, dtype=np.int8),
        seed=seed, previous=warm, n_feed=n_feed, clusters=ws.clusters(), exclude_ids=skip_ids,
    )
    ws.remember_clusters(result.clusters)
    metrics = dict(result.metrics)
    metrics["counts"] = {**counts, **metrics.get("counts", {})}
    metrics["change"] = _change(ws, previous, result.scores, metrics)
    snapshot = {"last_annotation_id": last_event, "positives": [i for i, y in zip(ids, ys) if y == 1],
                "negatives": [i for i, y in zip(ids, ys) if y == 0]}
    model = ws.models.save(label_id, ws.embedder_name, result.model.coef, result.model.intercept,
                           result.model.threshold, result.scores, last_event, snapshot, metrics,
                           trained_on=ws.train_space)
    feeds = {name: list(map(int, feed_ids)) for name, feed_ids in result.feeds.items()}
    timings = dict(result.timings_ms)
    timings["total"] = round((time.perf_counter() - started) * 1000, 1)
    return {"label": label["name"], "version": model["version"], "metrics": metrics, "feeds": feeds,
            "timings_ms": timings}


def _change(ws, previous, scores, metrics) -> dict | None:
    """How this build differs from the last one: AP delta and clips whose side flipped."""
    if previous is None:
        return None
    old = ws.models.scores(previous)
    n = min(len(old), len(scores))
    flipped = int(np.count_nonzero((old[:n] > previous["threshold"]) != (scores[:n] > 0)))
    old_ap = (previous["metrics"].get("cv") or {}).get("ap")
    new_ap = (metrics.get("cv") or {}).get("ap")
    return {
        "previous_version": previous["version"],
        "clips_flipped": flipped,
        "ap_delta": None if old_ap is None or new_ap is None else round(new_ap - old_ap, 4),
        "new_annotations": metrics["counts"]["positive"] + metrics["counts"]["negative"]
        - len(previous["snapshot"]["positives"]) - len(previous["snapshot"]["negatives"]),
    }


def fits_workspace(ws, model: dict) -> bool:
    """Whether the version can score this workspace's clips: same embedder, trained on the
    same kind of vectors (features or search vectors) of the same width."""
    return (model["embedder"] == ws.embedder_name and model.get("trained_on", "vectors") == ws.train_space
            and model["dim"] == ws.train_vectors().shape[1])


def _require_fit(ws, model: dict, label_name: str) -> None:
    if not fits_workspace(ws, model):
        raise NotReady(
            f"version {model['version']} of {label_name!r} was built on {model['embedder']} "
            f"{model.get('trained_on', 'vectors')} ({model['dim']}-d), which this workspace no longer has "
            f"(it holds {ws.embedder_name} {ws.train_space}, e.g. after `va reembed`); "
            f"build the label again: `va build {label_name}`")


def model_scores(ws, model: dict, label_name: str = "this label") -> np.ndarray:
    """The version's corpus scores, extended to clips ingested after it was built."""
    from ..learn.classifier import score_corpus

    scores = ws.models.scores(model)
    n = ws.clip_count()
    if len(scores) < n:
        _require_fit(ws, model, label_name)
        extra = score_corpus(ws.train_vectors()[len(scores):n], model["coef"], model["intercept"])
        scores = np.concatenate([scores, np.asarray(extra, dtype=np.float32)])
    return scores


# -- feeds ---------------------------------------------------------------------------------
def feed(ws, label, name: str, n: int = 20, offset: int = 0, seed: int = 0, version: int | None = None) -> dict:
    from ..learn.feeds import FEEDS

    n, offset = _page(n, offset)
    if name not in FEEDS:
        raise InvalidInput(f"unknown feed {name!r}; choose one of: {', '.join(FEED_NAMES)}")
    label = ws.labels.get(label)
    model = ws.models.get(label["id"], version)
    scores = model_scores(ws, model, label["name"])
    ids = np.arange(len(scores), dtype=np.int64)
    picked = FEEDS[name](scores, ids, n, seed, exclude=annotated_ids(ws, label["id"]), offset=offset)
    return {"label": label["name"], "feed": name, "version": model["version"], "offset": offset,
            "clips": describe_clips(ws, picked, scores[picked])}


def score_histogram(ws, label, bins: int = 40, version: int | None = None) -> dict:
    """How the model's scores spread over the whole corpus (the page's histogram): counts per
    bin for every clip, and for the label's current positive and negative annotations."""
    bins = int(bins)
    if not 2 <= bins <= 200:
        raise InvalidInput(f"bins must be between 2 and 200, got {bins}")
    label = ws.labels.get(label)
    model = ws.models.get(label["id"], version)
    scores = model_scores(ws, model, label["name"])
    finite = scores[np.isfinite(scores)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    threshold = float(model["threshold"])
    low, high = min(low, threshold), max(high, threshold)  # the threshold is always on the axis
    if high - low < 1e-6:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    current = ws.annotations.current(label["id"])

    def counts(values) -> list[int]:
        return np.histogram(values[np.isfinite(values)], bins=edges)[0].tolist()

    def annotated(value) -> np.ndarray:
        return scores[np.fromiter((c for c, v in current.items() if v["value"] == value), dtype=np.int64)]

    return {"label": label["name"], "version": model["version"], "threshold": threshold,
            "edges": [round(float(e), 5) for e in edges], "clips": counts(scores),
            "positive": counts(annotated("positive")), "negative": counts(annotated("negative"))}


# -- review --------------------------------------------------------------------------------
REVIEW_FILTERS = ("all", "positive", "negative", "skip", "unresolved", "model_disagrees", "annotators_disagree")


def review(ws, label, filter: str = "all") -> dict:
    if filter not in REVIEW_FILTERS:
        raise InvalidInput(f"unknown review filter {filter!r}; choose one of: {', '.join(REVIEW_FILTERS)}")
    label = ws.labels.get(label)
    current = ws.annotations.current(label["id"])
    model = ws.models.latest_or_none(label["id"])
    scores = None
    if model is not None:
        try:
            scores = model_scores(ws, model, label["name"])
        except NotReady:  # a version from before a reembed: review the annotations without scores
            scores = None
    clip_ids = sorted(current)
    items = describe_clips(ws, clip_ids, scores[clip_ids] if scores is not None and clip_ids else None)
    out = []
    for item in items:
        entry = current[item["clip_id"]]
        votes = entry["votes"]
        value = entry["value"]
        score = item.get("score")
        item.update(value=value, votes=votes,
                    annotators_disagree=len({v for v in votes.values() if v != "skip"}) > 1,
                    model_disagrees=score is not None and value in ("positive", "negative")
                    and (score > 0) != (value == "positive"))
        if filter == "all":
            keep = True
        elif filter in ("model_disagrees", "annotators_disagree"):
            keep = item[filter]
        else:
            keep = value == filter
        if keep:
            out.append(item)
    return {"label": label["name"], "version": model["version"] if model else None, "filter": filter,
            "annotations": out}


# -- export --------------------------------------------------------------------------------
def export_model(ws, label, version: int | None = None) -> dict:
    label = ws.labels.get(label)
    model = ws.models.get(label["id"], version)
    return {
        "label": label["name"], "description": label["description"], "keywords": label["keywords"],
        "version": model["version"], "embedder": model["embedder"], "trained_on": model.get("trained_on", "vectors"),
        "dim": model["dim"],
        "weights": [round(float(w), 7) for w in model["coef"]], "intercept": model["intercept"],
        "threshold": model["threshold"],
        "score": ("logit = weights . clip_features + intercept, clip_features being the embedder's classifier "
                  "features (Embedder.classifier_features of the clip's mean frame features)"
                  if model.get("trained_on") == "features" else
                  "logit = weights . clip_vector + intercept") + "; positive if logit > threshold",
        "metrics": model["metrics"], "created_at": model["created_at"],
        "annotation_snapshot": model["snapshot"],
    }


def export_annotations(ws, label, events: bool = False) -> list[dict]:
    """Current values per clip (or the raw event log). Every row names its clip by content too
    (the video's ``content_hash`` and the clip's ``position``), so ``va import`` finds the same
    clip in a workspace whose clip ids differ."""
    label = ws.labels.get(label)
    if events:
        rows = ws.annotations.events(label["id"])
        origin = _clip_origins(ws, {r["clip_id"] for r in rows})
        return [{**r, **origin[r["clip_id"]]} for r in rows]
    current = ws.annotations.current(label["id"])
    items = describe_clips(ws, sorted(current))
    origin = _clip_origins(ws, current)
    for item in items:
        item.update(label=label["name"], value=current[item["clip_id"]]["value"], votes=current[item["clip_id"]]["votes"],
                    **origin[item["clip_id"]])
    return items


def _clip_origins(ws, clip_ids) -> dict[int, dict]:
    clip_ids = sorted(int(c) for c in clip_ids)
    out: dict[int, dict] = {}
    for start in range(0, len(clip_ids), 900):  # SQLite's bound-parameter limit
        part = clip_ids[start:start + 900]
        for r in ws.catalog.query(
                f"SELECT c.id, c.position, v.content_hash FROM clips c JOIN videos v ON v.id = c.video_id"
                f" WHERE c.id IN ({','.join('?' * len(part))})", part):
            out[r["id"]] = {"content_hash": r["content_hash"], "position": r["position"]}
    return out


# -- one clip across labels (the paper's Fig. 2) ---------------------------------------------
def clip_labels(ws, clip_id: int) -> dict:
    """One clip with, for every label, its latest model's score and the clip's current value."""
    from ..learn.classifier import score_corpus, sigmoid

    clip = ws.clip(clip_id)
    labels = []
    for label in ws.labels.list():
        model = ws.models.latest_or_none(label["id"])
        current = ws.annotations.current(label["id"]).get(clip["id"])
        item = {"label": label["name"], "annotation": current["value"] if current else None,
                "version": None, "score": None, "probability": None, "threshold": None, "positive": None}
        if model is not None:
            if clip["id"] < model["clips_scored"]:  # read one float, not the whole score file
                path = ws.models.scores_path(label["id"], model["version"])
                score = float(np.memmap(path, dtype=np.float32, mode="r", shape=(model["clips_scored"],))[clip["id"]])
            elif fits_workspace(ws, model):  # ingested after this version was built
                score = float(score_corpus(ws.train_vectors()[clip["id"]:clip["id"] + 1], model["coef"],
                                           model["intercept"])[0])
            else:  # built before a reembed: no score until the label is built again
                item.update(version=model["version"], threshold=model["threshold"])
                labels.append(item)
                continue
            item.update(version=model["version"], score=round(score, 5),
                        probability=round(float(sigmoid(np.float64(score))), 5),
                        threshold=model["threshold"], positive=score > model["threshold"])
        labels.append(item)
    return {**describe_clips(ws, [clip["id"]])[0], "position": clip["position"],
            "start_frame": clip["start_frame"], "end_frame": clip["end_frame"], "labels": labels}
