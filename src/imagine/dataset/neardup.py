"""Crop-robust near-duplicate fingerprints: perceptual hashes of many regions, then a pixel check.

A single perceptual hash of the whole picture misses cropped re-posts (a 10% crop moves a 64-bit
phash 6-24 bits). A fingerprint therefore hashes ``WINDOWS``: the whole frame plus sub-windows at
90, 80 and 70% of each side on a grid of positions. A crop of 10-30% of a picture is then close to
one of the original's windows, and a picture with an added border holds the original in one of
*its* windows, so two fingerprints are compared whole frame against every window, both ways.

Each window's hash is a DCT hash (as ``imagehash.phash``, here on 16 x 16 area-averaged cells of
a 128 x 128 grey version of the image; all windows at once from one integral image, about 0.2 ms
per picture). Windows with almost no structure (flat background) get no hash: on drawn scenes on
flat backgrounds they would match each other across unrelated pictures.

A hash hit is only a candidate. It is confirmed on pixels: the matched region of one image's 32 x 32
RGB thumbnail against the other's whole thumbnail, both area-averaged to 16 x 16 and compared by
RMSE, with a small search over position and scale to absorb the window grid's step.
Thresholds were chosen by measurement (``benchmarks/near_duplicates.py``).

Why our own code rather than a package: imagehash hashes one region per call (50 calls per image
cost about 8 ms), PDQ and pHash are whole-frame hashes with the same crop weakness, and ORB keypoints
find few stable points on flat drawn scenes (see docs/dataset.md for the measured comparison).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

GREY = 128  # side of the grey image the windows are cut from
CELLS = 16  # cells per window side before the DCT
THUMB = 32  # stored thumbnail side (uint8 RGB)
COMPARE = 12  # side at which a candidate is checked on pixels
MIN_STD = 6.0  # grey-level std of a window's cells below which it is "flat" and not hashed


def _windows() -> np.ndarray:
    """(K, 3) windows as (x0, y0, side) in fractions of the frame; window 0 is the whole frame."""
    out = [(0.0, 0.0, 1.0)]
    for side, steps in ((0.9, 3), (0.8, 5), (0.7, 7)):
        for y in np.linspace(0.0, 1.0 - side, steps):
            for x in np.linspace(0.0, 1.0 - side, steps):
                out.append((float(x), float(y), side))
    return np.asarray(out)


WINDOWS = _windows()
K = len(WINDOWS)


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    m = np.cos(np.pi * (2 * np.arange(n)[None, :] + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


_DCT = _dct_matrix(CELLS)[:8]  # the 8 lowest frequencies
_BITS = (1 << np.arange(64, dtype=np.uint64)).astype(np.uint64)


def _edges(windows: np.ndarray, size: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer cell edges (K, cells + 1) along x and y of every window, on a ``size`` grid."""
    t = np.linspace(0.0, 1.0, cells + 1)
    xs = np.rint((windows[:, 0:1] + windows[:, 2:3] * t) * size).astype(np.int64)
    ys = np.rint((windows[:, 1:2] + windows[:, 2:3] * t) * size).astype(np.int64)
    return xs, ys


class _Cells:
    """Precomputed corner offsets and areas for cell means of fixed windows on a fixed grid."""

    def __init__(self, windows: np.ndarray, size: int, cells: int) -> None:
        xs, ys = _edges(windows, size, cells)
        self.flat = (ys[:, :, None] * (size + 1) + xs[:, None, :])  # (K, c+1, c+1) into the integral
        area = np.diff(ys, axis=1)[:, :, None] * np.diff(xs, axis=1)[:, None, :]
        self.inv_area = 1.0 / np.maximum(area, 1)

    def means(self, integral: np.ndarray) -> np.ndarray:
        """(K, c, c) mean of each cell, from an integral image with a zero first row and column."""
        s = integral.ravel().take(self.flat)
        return (s[:, 1:, 1:] - s[:, :-1, 1:] - s[:, 1:, :-1] + s[:, :-1, :-1]) * self.inv_area


def _integral(grey: np.ndarray) -> np.ndarray:
    out = np.zeros((grey.shape[0] + 1, grey.shape[1] + 1), dtype=np.int64)
    np.cumsum(grey, axis=0, dtype=np.int64, out=out[1:, 1:])
    np.cumsum(out[1:, 1:], axis=1, out=out[1:, 1:])
    return out


_FRAME_CELLS = _Cells(WINDOWS, GREY, CELLS)


@dataclass(frozen=True)
class Fingerprint:
    hashes: np.ndarray  # (K,) uint64; 0 = window too flat to hash
    thumb: np.ndarray  # (THUMB, THUMB, 3) uint8 RGB of the whole frame

    def to_bytes(self) -> tuple[bytes, bytes]:
        return self.hashes.astype("<u8").tobytes(), self.thumb.tobytes()

    @classmethod
    def from_bytes(cls, hashes: bytes, thumb: bytes) -> "Fingerprint":
        return cls(np.frombuffer(hashes, dtype="<u8").copy(), np.frombuffer(thumb, dtype=np.uint8).reshape(THUMB, THUMB, 3))


def fingerprint(image: Image.Image) -> Fingerprint:
    """The fingerprint of an upright image (any mode, any size)."""
    rgb = image.convert("RGB")
    small = rgb.resize((GREY, GREY), Image.Resampling.BOX)
    grey = np.asarray(small.convert("L"), dtype=np.uint8)
    cells = _FRAME_CELLS.means(_integral(grey))  # (K, 16, 16)
    flat = (_DCT @ cells @ _DCT.T).reshape(K, 64)  # the 8 x 8 lowest frequencies
    median = np.partition(flat, (31, 32), axis=1)[:, 31:33].mean(axis=1, keepdims=True)
    hashes = ((flat > median).astype(np.uint64) * _BITS).sum(axis=1, dtype=np.uint64)
    hashes[cells.reshape(K, -1).std(axis=1) < MIN_STD] = 0
    f = GREY // THUMB
    thumb = np.asarray(small, np.float32).reshape(THUMB, f, THUMB, f, 3).mean(axis=(1, 3)).round().astype(np.uint8)
    return Fingerprint(hashes, thumb)


def hex64(value: int) -> str:
    return f"{int(value):016x}"


# -- pixel check ------------------------------------------------------------------------------

_SHIFT = 0.04  # first step of the alignment search, in fractions of the frame (about the grid step)


def _thumb_integral(thumb: np.ndarray) -> np.ndarray:
    out = np.zeros((THUMB + 1, THUMB + 1, 3), dtype=np.float64)
    out[1:, 1:] = thumb.astype(np.float64).cumsum(0).cumsum(1)
    return out


def _interp(values: np.ndarray, pos: np.ndarray, axis: int) -> np.ndarray:
    """Linear interpolation of ``values`` at fractional positions along ``axis``."""
    lo = np.clip(np.floor(pos).astype(np.int64), 0, values.shape[axis] - 2)
    w = (pos - lo).reshape([-1 if a == axis else 1 for a in range(values.ndim)])
    return values.take(lo, axis=axis) * (1 - w) + values.take(lo + 1, axis=axis) * w


def _region(integral: np.ndarray, x: float, y: float, side: float) -> np.ndarray:
    """Mean RGB of COMPARE x COMPARE cells of a window, at sub-pixel position (continuous areas)."""
    t = np.linspace(0.0, 1.0, COMPARE + 1)
    ys, xs = (y + side * t) * THUMB, (x + side * t) * THUMB
    s = _interp(_interp(integral, ys, 0), xs, 1)  # (C+1, C+1, 3) integral at the cell corners
    box = s[1:, 1:] - s[:-1, 1:] - s[1:, :-1] + s[:-1, :-1]
    return box / (side * THUMB / COMPARE) ** 2


def region_distance(container: np.ndarray, window: int, whole: np.ndarray) -> float:
    """Smallest RGB RMSE (8-bit levels) of ``whole`` against ``container``'s window, aligned.

    A coarse search around the window (the hash grid's step) and then a finer one in position
    and scale, so a crop at any position and size between the grid's is compared aligned.
    """
    target = _region(_thumb_integral(whole), 0.0, 0.0, 1.0)
    integral = _thumb_integral(container)

    x0, y0, s0 = WINDOWS[window]

    def rmse(x: float, y: float, s: float) -> tuple[float, tuple[float, float, float]]:
        # Within the grid's reach of the window only: farther would align unrelated pictures.
        s = min(max(s, 0.3, s0 - _SHIFT), 1.0, s0 + _SHIFT)
        x, y = min(max(x, x0 - _SHIFT), x0 + _SHIFT), min(max(y, y0 - _SHIFT), y0 + _SHIFT)
        x, y = min(max(x, 0.0), 1.0 - s), min(max(y, 0.0), 1.0 - s)
        return float(np.sqrt(((_region(integral, x, y, s) - target) ** 2).mean())), (x, y, s)

    best, at = rmse(x0, y0, s0)
    for step in (_SHIFT, _SHIFT / 2, _SHIFT / 4, _SHIFT / 8):
        improved = True
        while improved:
            improved = False
            x, y, s = at
            for dx, dy, ds in ((step, 0, 0), (-step, 0, 0), (0, step, 0), (0, -step, 0), (0, 0, step), (0, 0, -step),
                               (-step / 2, -step / 2, step), (step / 2, step / 2, -step)):
                value, where = rmse(x + dx, y + dy, s + ds)
                if value < best - 1e-9:
                    best, at, improved = value, where, True
    return best


# -- matching ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    row: int  # index into the index's rows
    distance: int  # Hamming bits of the best (frame, window) pair
    window: int  # window of the *container* image that holds the other whole frame
    query_contains: bool  # True: the query holds the indexed image (border, zoom out)


class FingerprintIndex:
    """Fingerprints of many images in memory ((K + 128) bytes each), searched by XOR-popcount."""

    def __init__(self, hashes: np.ndarray, thumbs: np.ndarray) -> None:
        self.hashes = np.asarray(hashes, dtype=np.uint64).reshape(-1, K)  # (n, K)
        self.thumbs = np.asarray(thumbs, dtype=np.uint8).reshape(-1, THUMB, THUMB, 3)

    @classmethod
    def from_columns(cls, hashes: list[bytes], thumbs: list[bytes]) -> "FingerprintIndex":
        if not hashes:
            return cls(np.zeros((0, K), np.uint64), np.zeros((0, THUMB, THUMB, 3), np.uint8))
        return cls(np.frombuffer(b"".join(hashes), dtype="<u8").reshape(-1, K),
                   np.frombuffer(b"".join(thumbs), dtype=np.uint8).reshape(-1, THUMB, THUMB, 3))

    def __len__(self) -> int:
        return self.hashes.shape[0]

    def candidates(self, fp: Fingerprint, max_distance: int) -> list[Candidate]:
        """Rows whose whole frame is near one of the query's windows, or whose windows hold the query."""
        best: dict[int, Candidate] = {}
        if not len(self):
            return []
        q_frame = fp.hashes[0]
        if q_frame:  # query whole frame vs every window of every row (query = crop of a row)
            d = np.bitwise_count(self.hashes ^ q_frame)
            d[self.hashes == 0] = 65
            rows, wins = np.nonzero(d <= max_distance)
            for r, w in zip(rows.tolist(), wins.tolist()):
                c = Candidate(r, int(d[r, w]), w, False)
                if r not in best or c.distance < best[r].distance:
                    best[r] = c
        frames = self.hashes[:, 0]
        valid = np.flatnonzero(fp.hashes)
        if valid.size:  # every query window vs the rows' whole frames (row = crop of the query)
            d = np.bitwise_count(frames[:, None] ^ fp.hashes[None, valid])
            d[frames == 0] = 65
            rows, wi = np.nonzero(d <= max_distance)
            for r, j in zip(rows.tolist(), wi.tolist()):
                c = Candidate(r, int(d[r, j]), int(valid[j]), True)
                if r not in best or c.distance < best[r].distance:
                    best[r] = c
        return sorted(best.values(), key=lambda c: (c.distance, c.row))

    def confirm(self, fp: Fingerprint, cand: Candidate) -> float:
        """Pixel distance (RGB RMSE in 8-bit levels at COMPARE^2, 0 = same) of a candidate."""
        if cand.query_contains:
            return region_distance(fp.thumb, cand.window, self.thumbs[cand.row])
        return region_distance(self.thumbs[cand.row], cand.window, fp.thumb)

    def matches(self, fp: Fingerprint, *, max_distance: int | None = None, max_rmse: float | None = None,
                max_candidates: int = 128) -> list[tuple[int, int, float]]:
        """Confirmed near-duplicates of ``fp``: (row, hash distance, pixel RMSE), closest first."""
        max_distance = MAX_DISTANCE if max_distance is None else max_distance
        max_rmse = MAX_RMSE if max_rmse is None else max_rmse
        out = []
        for cand in self.candidates(fp, max_distance)[:max_candidates]:
            rmse = self.confirm(fp, cand)
            if rmse <= max_rmse:
                out.append((cand.row, cand.distance, rmse))
        return sorted(out, key=lambda m: (m[2], m[1], m[0]))


# Thresholds measured with benchmarks/near_duplicates.py (docs/dataset.md).
MAX_DISTANCE = 12  # Hamming bits between a frame hash and a window hash: a candidate
MAX_RMSE = 5.0  # RGB RMSE (8-bit levels, 16 x 16) of the pixel check at or below which it is a match
