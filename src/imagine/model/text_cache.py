"""MiniLM token states for every training caption, computed once and cached on disk.

Why: the frozen encoder costs more per batch than the small UNet on a CPU, and its output
never changes. Captions are de-duplicated, encoded in batches, trimmed to the longest
caption (padding beyond it is masked anyway) and kept as float16 (~L*384*2 bytes each).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch

log = logging.getLogger(__name__)


@dataclass
class CaptionStates:
    """``states[u]`` / ``mask[u]`` of unique caption ``u``; ``row_to_unique[row]`` maps rows to them."""

    states: torch.Tensor  # float16 [U, L, 384]
    mask: torch.Tensor  # int64 [U, L]
    row_to_unique: torch.Tensor  # int64 [N]
    empty_states: torch.Tensor  # float16 [L, 384]
    empty_mask: torch.Tensor  # int64 [L]

    def lookup(self, rows: list[int], drop: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """States and masks of ``rows``; rows where ``drop`` is True get the empty prompt (CFG)."""
        u = self.row_to_unique[torch.as_tensor(rows)]
        states = self.states[u].float()
        mask = self.mask[u].clone()
        if bool(drop.any()):
            states[drop] = self.empty_states.float()
            mask[drop] = self.empty_mask
        return states, mask


def _key(captions: list[str], max_length: int) -> str:
    h = hashlib.sha256(f"minilm:{max_length}\n".encode())
    for c in captions:
        h.update(c.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def encode_captions(
    captions: list[str], encoder, *, cache_dir: Path | None = None, batch_size: int = 256, progress: bool = False
) -> CaptionStates:
    """Encode ``captions`` (one per dataset row) with ``encoder`` (a MiniLMTextEncoder), using the cache."""
    max_length = encoder.config.max_length
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"captions-{_key(captions, max_length)}.pt"
        if path.is_file():
            return CaptionStates(**torch.load(path, weights_only=True))
    unique = sorted(set(captions))
    lengths = [int(m.sum()) for m in encoder.tokenize(unique, padding="longest")[1]] if unique else [2]
    # Encode in order of length so each batch pads only to its own longest caption.
    order = sorted(range(len(unique)), key=lambda i: (lengths[i], unique[i]))
    unique = [unique[i] for i in order]
    index = {c: i for i, c in enumerate(unique)}
    width = max(max(lengths), 2)
    states = torch.zeros(len(unique), width, 384, dtype=torch.float16)
    mask = torch.zeros(len(unique), width, dtype=torch.int64)
    from imagine.progress import progress_bar

    with progress_bar(disable=not progress, transient=True) as bar:
        task = bar.add_task("encoding captions", total=len(unique))
        for start in range(0, len(unique), batch_size):
            chunk = unique[start : start + batch_size]
            s, m = encoder.encode(chunk, padding="longest")
            states[start : start + len(chunk), : s.shape[1]] = s.to(torch.float16)
            mask[start : start + len(chunk), : m.shape[1]] = m
            bar.advance(task, len(chunk))
    es, em = encoder.empty_states()
    result = CaptionStates(
        states=states,
        mask=mask,
        row_to_unique=torch.tensor([index[c] for c in captions], dtype=torch.int64),
        empty_states=es[0, :width].to(torch.float16),
        empty_mask=em[0, :width].clone(),
    )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(result.__dict__, tmp)
        os.replace(tmp, path)
    log.info("encoded %d unique captions (of %d rows), %d tokens wide", len(unique), len(captions), width)
    return result
