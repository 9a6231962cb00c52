"""Embedders: the real offline default on real photos, the hf: loading path, the registry."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch

from videoannotator.embed import DEFAULT_EMBEDDER, Embedder, get_embedder
from videoannotator.embed.efficientnet_lite import head_projection
from videoannotator.errors import InvalidInput

PHOTOS = {"a cat": skimage.data.chelsea, "a cup of coffee": skimage.data.coffee, "a rocket": skimage.data.rocket}
# ImageNet-1k indices: 281 tabby, 282 tiger cat, 285 Egyptian cat; 504 coffee mug, 967 espresso, 968 cup.
CAT_CLASSES = {281, 282, 285}
COFFEE_CLASSES = {504, 967, 968}


def assert_unit_rows(x: np.ndarray, dim: int, n: int):
    assert x.dtype == np.float32 and x.shape == (n, dim)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)


@pytest.fixture(scope="session")
def default_embedder() -> Embedder:
    # The registry shares this instance with every other test module that asks for it.
    return get_embedder(DEFAULT_EMBEDDER)


@pytest.fixture(scope="session")
def photos() -> list[np.ndarray]:
    return [load() for load in PHOTOS.values()]


# --- the offline default: ConSE over EfficientNet-Lite0 + MiniLM ------------------------


@pytest.mark.slow
def test_default_embedder_ranks_each_photo_first_for_its_query(default_embedder, photos):
    texts = default_embedder.encode_texts(list(PHOTOS))
    images = default_embedder.encode_images(photos)
    scores = texts @ images.T  # one space: cosine of unit vectors
    assert list(scores.argmax(axis=1)) == [0, 1, 2], np.round(scores, 3)  # text → image
    assert list(scores.argmax(axis=0)) == [0, 1, 2], np.round(scores, 3)  # image → text
    assert np.diag(scores).min() > 0.4, np.round(scores, 3)


@pytest.mark.slow
def test_default_embedder_output_contract(default_embedder, photos):
    assert default_embedder.name == "conse-effnet-minilm" and default_embedder.dim == 384
    assert_unit_rows(default_embedder.encode_texts(["a cat", "night city"]), 384, 2)
    joint, features = default_embedder.encode_images_with_features(photos)
    assert_unit_rows(joint, 384, 3)
    assert features.dtype == np.float32 and features.shape == (3, 1280)
    np.testing.assert_allclose(default_embedder.encode_images(photos), joint, atol=1e-5)
    # What the classifier trains on: the features projected onto the ImageNet head's top
    # directions (orthonormal, the same basis every time), as unit rows.
    assert default_embedder.feature_dim == 384
    train = default_embedder.classifier_features(features)
    assert_unit_rows(train, 384, 3)
    P = default_embedder.projection
    np.testing.assert_allclose(P.T @ P, np.eye(384), atol=1e-4)
    np.testing.assert_array_equal(P, head_projection(384))
    # The projection keeps most of each feature vector's length (the head's subspace is where they live).
    kept = np.linalg.norm(features @ P, axis=1) / np.linalg.norm(features, axis=1)
    assert kept.min() > 0.5, kept
    # One (n, H, W, 3) array, a grayscale frame, and nothing at all are accepted too.
    stacked = np.stack([photos[0][:200, :300], photos[1][:200, :300]])
    assert_unit_rows(default_embedder.encode_images(stacked), 384, 2)
    assert_unit_rows(default_embedder.encode_images([skimage.data.camera()]), 384, 1)
    assert default_embedder.encode_images([]).shape == (0, 384)
    assert default_embedder.encode_texts([]).shape == (0, 384)


def test_frames_must_be_rgb_uint8():
    from videoannotator.embed.conse import frames_to_batch

    assert frames_to_batch([np.zeros((30, 50, 3), np.uint8)]).shape == (1, 3, 224, 224)
    with pytest.raises(InvalidInput, match="uint8"):
        frames_to_batch([np.zeros((30, 50, 3), np.float32)])
    with pytest.raises(InvalidInput, match="shape"):
        frames_to_batch([np.zeros((30, 50, 2), np.uint8)])


@pytest.mark.slow
def test_efficientnet_lite0_classifies_the_photos():
    from videoannotator.embed.conse import frames_to_batch
    from videoannotator.embed.efficientnet_lite import (
        IMAGENET_MEAN,
        IMAGENET_STD,
        load_efficientnet_lite0,
    )

    pixels = frames_to_batch([skimage.data.chelsea(), skimage.data.coffee()]).float() / 255
    x = (pixels - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    plain, fused = load_efficientnet_lite0(fuse=False), load_efficientnet_lite0(fuse=True)
    with torch.inference_mode():
        features, logits = plain(x)
        fused_features, fused_logits = fused(x.contiguous(memory_format=torch.channels_last))
    assert features.shape == (2, 1280) and logits.shape == (2, 1000)
    cat, coffee = logits.argmax(dim=1).tolist()
    assert cat in CAT_CLASSES and coffee in COFFEE_CLASSES
    # Folding BatchNorm into the convs must not change what the network computes.
    torch.testing.assert_close(fused_features, features, atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(fused_logits, logits, atol=1e-3, rtol=1e-3)


# --- hf: CLIP-family models through transformers -----------------------------------------


def test_hf_clip_loads_a_local_directory_and_encodes(tiny_clip_dir, photos):
    embedder = get_embedder(f"hf:{tiny_clip_dir}")
    assert embedder.name == f"hf:{tiny_clip_dir}" and embedder.dim == 24
    assert_unit_rows(embedder.encode_images(photos), 24, 3)
    assert_unit_rows(embedder.encode_texts(["a cat", "a cup of coffee", "a rocket", "night city"]), 24, 4)
    assert get_embedder(f"hf:{tiny_clip_dir}") is embedder  # one instance per (name, device)


def test_hf_clip_missing_model_says_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(InvalidInput, match="no model directory"):
        get_embedder(f"hf:{tmp_path / 'nowhere'}")
    monkeypatch.delenv("VA_HF_ALLOW_DOWNLOAD", raising=False)
    with pytest.raises(InvalidInput, match="VA_HF_ALLOW_DOWNLOAD=1") as caught:
        get_embedder("hf:nobody-va-test/not-a-model")
    assert "\n" not in str(caught.value)


def test_hf_clip_rejects_a_model_without_image_and_text_encoders(tmp_path):
    import transformers

    config = transformers.BertConfig(
        vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8
    )
    transformers.BertModel(config).save_pretrained(tmp_path)
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\ncat")
    transformers.BertTokenizer(str(tmp_path / "vocab.txt")).save_pretrained(tmp_path)
    with pytest.raises(InvalidInput, match="not a CLIP-family model"):
        get_embedder(f"hf:{tmp_path}")


# --- registry ------------------------------------------------------------------------------


def test_unknown_embedder_lists_the_choices():
    with pytest.raises(InvalidInput, match="conse-effnet-minilm.*hf:") as caught:
        get_embedder("clip-vit-b32")
    assert caught.value.status == 422
    with pytest.raises(InvalidInput):
        get_embedder("hf:")


# --- fp16 only where the device is a GPU ---------------------------------------------------


@pytest.mark.slow
def test_the_image_towers_stay_float32_on_cpu(default_embedder, tiny_clip_dir, photos):
    """fp16 (``--device cuda``: batched, half precision) is for GPUs only: on CPU both towers
    keep float32 weights and give float32 unit rows (half on CPU is slow and loses accuracy)."""
    assert default_embedder.device.type == "cpu" and not default_embedder._half
    assert {p.dtype for p in default_embedder.net.parameters()} == {torch.float32}
    clip = get_embedder(f"hf:{tiny_clip_dir}")
    assert {p.dtype for p in clip.model.parameters()} == {torch.float32}
    assert_unit_rows(default_embedder.encode_images(photos), default_embedder.dim, 3)
