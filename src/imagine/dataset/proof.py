"""Proof of erasure: scan every file under a folder for the bytes and hashes of erased images.

Needles per erased post: its stored PNG bytes, its sha256 (hex text and the raw 32 bytes), its
perceptual hash (hex text), its ``phash_bits`` vector (64 float32 0/1 values) and its crop-robust
fingerprint (window hashes and thumbnail bytes).

Byte needles (all at least 15 bytes): any occurrence covers exactly one 8-byte-aligned file word
inside the needle's 15-byte "anchor" span (taken from a high-entropy part: the middle of the PNG
data, not its common header). Each file is read as aligned uint64 words, looked up among the
anchors' 8 shifted words with one vectorised ``np.isin``, and candidates are confirmed by a full
comparison.
Bit vectors are low-entropy as bytes (only 0.0 and 1.0), so they are found by meaning instead:
the file is read as 4-byte-aligned float32 (Arrow/Lance buffers are aligned), every float is mapped
to one bit (== 1.0), and the 64-bit value starting at every float position is compared with the
needles' phash values; candidates are confirmed byte for byte.

A control - the same needles of a few rows that are still present - must be found, kind by kind,
or the proof reports itself inconclusive (a scan that cannot see the data proves nothing).
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MIN_NEEDLE = 15
ONE_F32 = 0x3F800000
# Kinds a stored row actually holds on disk (the raw digest is searched too, but never stored).
STORED_KINDS = ("png", "sha256_hex", "phash_hex", "phash_bits", "fp_hashes", "fp_thumb")
_MID_ANCHOR = ("png", "fp_hashes", "fp_thumb")  # high-entropy middles; their starts can be common


@dataclass(frozen=True)
class Needle:
    post_id: str
    kind: str  # png | sha256_hex | sha256_raw | phash_hex | phash_bits
    data: bytes

    @property
    def anchor(self) -> int:
        """Start of the 15-byte span whose aligned word is looked up (mid-file for PNGs)."""
        return max(0, min(len(self.data) // 2, len(self.data) - MIN_NEEDLE)) if self.kind in _MID_ANCHOR else 0


def needles_for(row: dict) -> list[Needle]:
    """Needles of one images.lance row (post_id, image, sha256, phash, phash_bits)."""
    pid = row["post_id"]
    out = [Needle(pid, "png", bytes(row["image"])),
           Needle(pid, "sha256_hex", row["sha256"].encode()),
           Needle(pid, "sha256_raw", bytes.fromhex(row["sha256"])),
           Needle(pid, "phash_hex", row["phash"].encode()),
           Needle(pid, "phash_bits", np.asarray(row["phash_bits"], dtype="<f4").tobytes()),
           Needle(pid, "fp_hashes", bytes(row["fp_hashes"])),
           Needle(pid, "fp_thumb", bytes(row["fp_thumb"]))]
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


def _bit_value(needle: Needle) -> int:
    floats = np.frombuffer(needle.data, dtype="<u4")
    if floats.size != 64 or not np.all((floats == 0) | (floats == ONE_F32)):
        raise ValueError(f"phash_bits needle of {needle.post_id} is not 64 floats of 0/1")
    return int(np.packbits(floats == ONE_F32, bitorder="little").view("<u8")[0])


CHUNK = 1 << 23  # words / floats per vectorised step (64 MiB / 32 MiB of file)
LUT_BITS = 22


def _lut(table: np.ndarray) -> np.ndarray:
    """A 4 MiB presence table on the low bits: one gather rejects almost every word."""
    lut = np.zeros(1 << LUT_BITS, dtype=bool)
    lut[(table & np.uint64((1 << LUT_BITS) - 1)).astype(np.int64)] = True
    return lut


def _members(values: np.ndarray, table: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Indices of ``values`` (uint64) found in the sorted ``table``: LUT on the low bits, then search."""
    low = values.view(np.uint32)[::2] if values.flags.c_contiguous else (values & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    cand = np.flatnonzero(lut[low & np.uint32((1 << LUT_BITS) - 1)])
    if cand.size == 0:
        return cand
    pos = np.minimum(np.searchsorted(table, values[cand]), table.size - 1)
    return cand[table[pos] == values[cand]]


def _scan_bytes(mm, size: int, needles: list[Needle], keys: dict, table: np.ndarray, lut: np.ndarray, rel: str,
                out: list[Hit]) -> None:
    words = np.frombuffer(mm, dtype="<u8", count=size // 8)
    for base in range(0, words.size, CHUNK):
        chunk = words[base:base + CHUNK]
        for w in _members(chunk, table, lut):
            pos = (base + int(w)) * 8
            for ni, shift in keys[int(chunk[w])]:
                n = needles[ni]
                start = pos - shift
                if start >= 0 and mm[start:start + len(n.data)] == n.data:
                    out.append(Hit(n.post_id, n.kind, rel, start))
        del chunk
    del words


def _bit_runs(floats: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of every run of >= 64 consecutive floats that are all 0.0 or 1.0."""
    runs = []
    for base in range(0, floats.size, CHUNK):
        # Bits outside 1.0's pattern set -> not 0.0/1.0 (a superset test: runs are only candidates).
        ok = np.concatenate(([False], (floats[base:base + CHUNK] & np.uint32(~ONE_F32 & 0xFFFFFFFF)) == 0, [False]))
        edges = np.flatnonzero(np.diff(ok.astype(np.int8)))
        for s, e in zip(edges[::2], edges[1::2]):
            s, e = base + int(s), base + int(e)
            if runs and runs[-1][1] == s:  # a run continuing across the chunk border
                runs[-1] = (runs[-1][0], e)
            else:
                runs.append((s, e))
    return [(s, e) for s, e in runs if e - s >= 64]


def _scan_bits(mm, size: int, needles: list[Needle], values: dict, table: np.ndarray, lut: np.ndarray, rel: str,
               out: list[Hit]) -> None:
    floats = np.frombuffer(mm, dtype="<u4", count=size // 4)
    for s, e in _bit_runs(floats):
        bits = floats[s:e] == ONE_F32
        for phase in range(8):
            packed = np.packbits(bits[phase:], bitorder="little")  # byte i: floats phase+8i .. +7
            for shift in range(8):
                view = packed[shift:]
                view = view[: (view.size // 8) * 8]
                if view.size == 0:
                    continue
                for c in _members(view.view("<u8"), table, lut):
                    value = int(view[c * 8:(c + 1) * 8].view("<u8")[0])
                    start = (s + phase + 8 * (shift + 8 * int(c))) * 4
                    for ni in values.get(value, []):
                        n = needles[ni]
                        if mm[start:start + len(n.data)] == n.data:
                            out.append(Hit(n.post_id, n.kind, rel, start))
    del floats


def scan(root: Path, needles: list[Needle]) -> ScanResult:
    """Every occurrence of any needle in any regular file under ``root``."""
    result = ScanResult()
    keys: dict[int, list[tuple[int, int]]] = {}
    values: dict[int, list[int]] = {}
    for ni, n in enumerate(needles):
        if n.kind == "phash_bits":
            values.setdefault(_bit_value(n), []).append(ni)
            continue
        for j in range(8):
            k = n.anchor + j
            keys.setdefault(int.from_bytes(n.data[k:k + 8], "little"), []).append((ni, k))
    key_table = np.sort(np.fromiter(keys.keys(), dtype=np.uint64, count=len(keys)))
    lut = _lut(key_table)
    value_table = np.sort(np.fromiter(values.keys(), dtype=np.uint64, count=len(values)))
    value_lut = _lut(value_table)
    for path in _files(root):
        size = path.stat().st_size
        result.files += 1
        result.bytes += size
        if size < MIN_NEEDLE or not needles:
            continue
        rel = str(path.relative_to(root))
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            if keys:
                _scan_bytes(mm, size, needles, keys, key_table, lut, rel, result.hits)
            if values:
                _scan_bits(mm, size, needles, values, value_table, value_lut, rel, result.hits)
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
    control_found: dict[str, int]  # kind -> control posts whose needle of that kind was found

    @property
    def conclusive(self) -> bool:
        return self.control_posts > 0 and all(self.control_found.get(k, 0) == self.control_posts
                                              for k in STORED_KINDS)

    @property
    def erased(self) -> bool:
        """No needle found, and the control shows the scan would have found each kind."""
        return not self.hits and self.conclusive

    def as_dict(self) -> dict:
        return {"files_scanned": self.files_scanned, "bytes_scanned": self.bytes_scanned,
                "posts_checked": self.posts_checked, "needles": self.needles, "hits": len(self.hits),
                "hit_files": sorted({h.path for h in self.hits}),
                "hit_kinds": sorted({h.kind for h in self.hits}), "control_posts": self.control_posts,
                "control_found": self.control_found, "conclusive": self.conclusive, "erased": self.erased}


def prove_absent(root: Path, erased_rows: list[dict], control_rows: list[dict]) -> Proof:
    """Scan ``root`` for the erased rows' needles, with ``control_rows`` (still present) as the control."""
    needles = [n for r in erased_rows for n in needles_for(r)]
    control = [n for r in control_rows for n in needles_for(r) if n.kind in STORED_KINDS]
    res = scan(root, needles + control)
    control_ids = {r["post_id"] for r in control_rows}
    erased_ids = {r["post_id"] for r in erased_rows}
    hits = [h for h in res.hits if h.post_id in erased_ids]
    found: dict[str, set[str]] = {k: set() for k in STORED_KINDS}
    for h in res.hits:
        if h.post_id in control_ids and h.kind in found:
            found[h.kind].add(h.post_id)
    return Proof(res.files, res.bytes, len(erased_rows), len(needles), hits, len(control_ids),
                 {k: len(v) for k, v in found.items()})
