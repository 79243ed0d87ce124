"""Proof of erasure: scan every file under a folder for the bytes and hashes of erased images.

Needles per erased post: its stored PNG bytes, its sha256 (hex text and the raw 32 bytes), its
perceptual hash (hex text) and its ``phash_bits`` vector (float32 bytes). Every needle is at
least 15 bytes long, so every occurrence fully covers one 8-byte-aligned word of the file; the
scan reads each file as aligned uint64 words, looks them up among the needles' 8 shifted words
with one vectorised ``np.isin``, and confirms each candidate with a full comparison. The same
scan on a few still-present rows (the control) must find them, so a scan that cannot see the
data (compressed or encoded differently) reports itself as inconclusive instead of proving nothing.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MIN_NEEDLE = 15


@dataclass(frozen=True)
class Needle:
    post_id: str
    kind: str  # png | sha256_hex | sha256_raw | phash_hex | phash_bits
    data: bytes


def needles_for(row: dict) -> list[Needle]:
    """Needles of one images.lance row (post_id, image, sha256, phash, phash_bits)."""
    pid = row["post_id"]
    out = [Needle(pid, "png", bytes(row["image"])),
           Needle(pid, "sha256_hex", row["sha256"].encode()),
           Needle(pid, "sha256_raw", bytes.fromhex(row["sha256"])),
           Needle(pid, "phash_hex", row["phash"].encode()),
           Needle(pid, "phash_bits", np.asarray(row["phash_bits"], dtype="<f4").tobytes())]
    for n in out:
        if len(n.data) < MIN_NEEDLE:
            raise ValueError(f"needle {n.kind} of {pid} is shorter than {MIN_NEEDLE} bytes")
    return out


@dataclass
class Hit:
    post_id: str
    kind: str
    path: str
    offset: int


@dataclass
class ScanResult:
    files: int = 0
    bytes: int = 0
    hits: list[Hit] = field(default_factory=list)


def scan(root: Path, needles: list[Needle]) -> ScanResult:
    """Every occurrence of any needle in any regular file under ``root``."""
    result = ScanResult()
    if not needles:
        for path in _files(root):
            result.files += 1
            result.bytes += path.stat().st_size
        return result
    keys: dict[int, list[tuple[int, int]]] = {}
    for ni, n in enumerate(needles):
        for j in range(8):
            word = int.from_bytes(n.data[j:j + 8], "little")
            keys.setdefault(word, []).append((ni, j))
    table = np.fromiter(keys.keys(), dtype=np.uint64, count=len(keys))
    for path in _files(root):
        size = path.stat().st_size
        result.files += 1
        result.bytes += size
        if size < MIN_NEEDLE:
            continue
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            words = np.frombuffer(mm, dtype="<u8", count=size // 8)
            found = np.flatnonzero(np.isin(words, table))
            for w in found:
                pos = int(w) * 8
                for ni, j in keys[int(words[w])]:
                    n = needles[ni]
                    start = pos - j
                    if start >= 0 and mm[start:start + len(n.data)] == n.data:
                        result.hits.append(Hit(n.post_id, n.kind, str(path.relative_to(root)), start))
            del words
    # A needle found at one offset via several words is one hit.
    uniq = {(h.post_id, h.kind, h.path, h.offset): h for h in result.hits}
    result.hits = list(uniq.values())
    return result


def _files(root: Path):
    for dirpath, _dirs, names in os.walk(root):
        for name in sorted(names):
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


@dataclass
class Proof:
    """The report of one erasure proof."""

    files_scanned: int
    bytes_scanned: int
    posts_checked: int
    needles: int
    hits: list[Hit]
    control_posts: int
    control_found: int

    @property
    def conclusive(self) -> bool:
        return self.control_posts > 0 and self.control_found == self.control_posts

    @property
    def erased(self) -> bool:
        """No needle found, and the control shows the scan would have found one."""
        return not self.hits and self.conclusive

    def as_dict(self) -> dict:
        return {"files_scanned": self.files_scanned, "bytes_scanned": self.bytes_scanned,
                "posts_checked": self.posts_checked, "needles": self.needles, "hits": len(self.hits),
                "hit_files": sorted({h.path for h in self.hits}), "control_posts": self.control_posts,
                "control_found": self.control_found, "conclusive": self.conclusive, "erased": self.erased}


def prove_absent(root: Path, erased_rows: list[dict], control_rows: list[dict]) -> Proof:
    """Scan ``root`` for the erased rows' needles, and for the control rows' PNG bytes."""
    needles = [n for r in erased_rows for n in needles_for(r)]
    control = [n for r in control_rows for n in needles_for(r) if n.kind == "png"]
    res = scan(root, needles + control)
    control_ids = {n.post_id for n in control}
    erased_ids = {r["post_id"] for r in erased_rows}
    hits = [h for h in res.hits if h.post_id in erased_ids]
    found_control = {h.post_id for h in res.hits if h.post_id in control_ids and h.kind == "png"}
    return Proof(res.files, res.bytes, len(erased_rows), len(needles), hits, len(control_ids), len(found_control))
