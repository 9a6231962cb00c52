"""The loop through the real `va` console script on a workspace holding real sample media:
label, search, a dozen annotations, build, feeds, review, export, reembed."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from videoannotator import Workspace
from videoannotator.embed import get_embedder

pytestmark = pytest.mark.slow
VA = str(Path(sys.executable).with_name("va"))


@pytest.fixture(scope="module")
def home(tmp_path_factory, freecol, bikes):
    home = tmp_path_factory.mktemp("cli-loop")
    ws = Workspace(home, embedder=get_embedder("conse-effnet-minilm"))
    assert ws.ingest([freecol, bikes], progress=False).ok
    return home


def va(home, *args, ok=True):
    result = subprocess.run([VA, "--home", str(home), *args], capture_output=True, text=True, timeout=600, check=False)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


def va_json(home, *args):
    return json.loads(va(home, *args, "--json").stdout)


def test_label_search_annotate_build_feeds_review_export(home):
    label = va_json(
        home, "label", "create", "ships", "--description", "A sailing ship at sea", "--keywords", "ship, sea"
    )
    assert label["keywords"] == ["ship", "sea"]
    assert "already" in va(home, "label", "create", "ships", ok=False).stderr

    hits = va_json(home, "search", "a sailing ship on the sea", "-k", "12")
    assert len(hits) == 12 and set(hits[0]) >= {"clip_id", "score", "video", "start", "end"}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)

    assert "needs at least one positive" in va(home, "build", "ships", ok=False).stderr
    ids = [h["clip_id"] for h in hits]
    va(home, "annotate", "ships", *map(str, ids[:5]), "positive", "--annotator", "ann")
    va(home, "annotate", "ships", *map(str, ids[5:12]), "negative", "--annotator", "ann")

    result = va_json(home, "build", "ships")
    assert result["version"] == 1
    assert result["metrics"]["counts"]["positive"] == 5 and result["metrics"]["counts"]["negative"] == 7
    assert result["metrics"]["cv"]["ap"] is not None or result["metrics"]["cv"]["reason"]
    assert set(result["feeds"]) == {"top_positive", "top_negative", "borderline", "random"}
    for name, feed_ids in result["feeds"].items():
        assert feed_ids, name
        assert not set(feed_ids) & set(ids), f"{name} shows annotated clips"

    page = va_json(home, "feed", "ships", "borderline", "-n", "3")
    assert len(page["clips"]) == 3 and not {c["clip_id"] for c in page["clips"]} & set(ids)

    review = va_json(home, "review", "ships")
    assert len(review["annotations"]) == 12 and all("score" in a for a in review["annotations"])
    model = json.loads(va(home, "export", "ships", "--what", "model").stdout)
    assert len(model["weights"]) == Workspace(home).feature_dim and model["embedder"]["name"] == "conse-effnet-minilm"
    # Build trained on the stored features: the exported weights reproduce the model's scores
    # from features.f32, not from the search vectors.
    assert model["trained_on"] == "features"
    ws = Workspace(home)
    # The artifact names the feature blocks; a projection of raw pooled features only where the
    # features are that projection alone (features/blocks.py).
    assert model["feature_blocks"] == ws.feature_blocks and ws.feature_blocks.startswith("semantic:384:")
    assert (model["projection"] is None) == ("," in ws.feature_blocks)
    w = np.asarray(model["weights"], np.float32)
    scores = ws.model_scores("ships", model["version"])
    np.testing.assert_allclose(np.asarray(ws.train_vectors()) @ w + model["intercept"], scores, atol=1e-4)
    search_vectors = np.asarray(ws.vectors())
    assert search_vectors.shape[1] != w.size or np.abs(search_vectors @ w + model["intercept"] - scores).max() > 1e-2
    # The artifact alone (numpy) gives the product's calibrated probabilities and decisions.
    from videoannotator.learn.decision import is_positive
    from videoannotator.score import apply_artifact, positive

    probs = apply_artifact(model, np.asarray(ws.train_vectors()), "conse-effnet-minilm")
    expected = ws.models.get(ws.label("ships")["id"], model["version"])
    np.testing.assert_array_equal(positive(model, probs), is_positive(scores, float(expected["threshold"])))
    lines = va(home, "export", "ships").stdout.splitlines()
    assert len(lines) == 12 and json.loads(lines[0])["label"] == "ships"
    csv_text = va(home, "export", "ships", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("clip_id") and len(csv_text.splitlines()) == 13

    va(home, "undo", "ships", "--annotator", "ann")
    assert va_json(home, "label", "show", "ships")["counts"]["negative"] == 6
    second = va_json(home, "build", "ships")
    assert second["version"] == 2 and second["metrics"]["change"]["previous_version"] == 1
    # Five positives in eleven are not rare: the build says to take the borderline feed, with
    # the command that shows it (learn/next_feed.py).
    assert not second["next"]["hunting"] and second["next"]["feed"] == "borderline"
    said = va(home, "build", "ships").stdout
    assert "next: 5 positives and 6 negatives: " in said and "`va feed ships borderline`" in said
    more = list(dict.fromkeys(second["feeds"]["top_negative"] + second["feeds"]["random"]))[:20]
    va(home, "annotate", "ships", *map(str, more + ids[:2]), "negative", "--annotator", "ann")
    third = va_json(home, "build", "ships")  # 3 positives in 17 or more annotations: rare, so hunt for more
    counts = third["metrics"]["counts"]
    assert counts["positive"] == 3 and counts["negative"] == 8 + len(more) and len(more) >= 6
    assert third["next"]["hunting"] and third["next"]["feed"] in ("search", "top_positive")


def test_bad_values_are_one_line_errors(home):
    result = va(home, "feed", "no-such-label", "random", ok=False)
    assert result.returncode != 0 and result.stderr.strip().count("\n") == 0
    assert "no label 'no-such-label'" in result.stderr
    result = va(home, "search", ok=False)
    assert "either a text query or a clip id" in result.stderr


def test_reembed_switches_embedder_and_keeps_annotations(home, tiny_clip_dir, cut_video):
    before = va_json(home, "info")
    counts = va_json(home, "label", "show", "ships")["counts"]
    mismatch = va(home, "--embedder", f"hf:{tiny_clip_dir}", "info", ok=False)
    assert mismatch.returncode != 0 and "va reembed" in mismatch.stderr
    va(home, "reembed", "--embedder", f"hf:{tiny_clip_dir}")
    after = va_json(home, "info")
    assert after["embedder"] == f"hf:{tiny_clip_dir}" and after["dim"] == 24
    assert after["clips"] == after["vectors"] == before["clips"]
    assert (home / "vectors.g1.f32").stat().st_size == before["clips"] * 24 * 4  # the next generation
    assert not (home / "vectors.f32").exists()  # the old one is removed after the switch
    assert va_json(home, "label", "show", "ships")["counts"] == counts
    assert len(va_json(home, "search", "a ship", "-k", "3")) == 3
    # The tiny CLIP has no separate features: they are gone and Build trains on the vectors.
    assert after["trains_on"] == "vectors" and not (home / "features.f32").exists()
    # The old version (the default embedder's features) keeps its stored scores, but cannot
    # score clips ingested now: one clear line, and building again makes a version that can.
    va(home, "ingest", "-q", str(cut_video().path))
    stale = va(home, "feed", "ships", "borderline", "-n", "3", ok=False)
    assert stale.returncode != 0 and "build the label again" in stale.stderr and len(stale.stderr.splitlines()) == 1
    ws = Workspace(home)
    new_clip = ws.clip_count() - 1
    ships = next(x for x in ws.clip_labels(new_clip)["labels"] if x["label"] == "ships")
    assert ships["score"] is None and ships["version"] is not None
    built = va_json(home, "build", "ships")
    assert built["version"] >= 2
    exported = json.loads(va(home, "export", "ships", "--what", "model").stdout)
    assert exported["trained_on"] == "vectors" and len(exported["weights"]) == 24
    default_feed = va_json(home, "feed", "ships", "-n", "3")  # no feed named: borderline
    assert default_feed["feed"] == "borderline" and len(default_feed["clips"]) == 3
