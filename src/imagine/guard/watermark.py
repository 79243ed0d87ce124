"""Invisible watermark: a keyed, periodic spread-spectrum tile in the luminance, 64 payload bits.

Why hand-written: ``invisible-watermark``'s dwtDct dies at JPEG 90, dwtDctSvd on any resize or crop,
and its learned RivaGAN on crops, flips and rotations (all measured: benchmarks/watermark_baseline.py).
The design follows the periodic-pattern marks of Kalker et al. and Kutter's autocorrelation sync:

* The mark is a ``TILE`` x ``TILE`` tile repeated over the whole picture, with the tile period fixed
  in picture units (``TILE`` px when the longer side is ``GRID`` px, proportionally more above).
  The tile is band-limited to wavelengths of 4-32 px; each rfft bin of the tile in that band is
  either a sync bin (keyed phase, fixed sign) or carries one coded bit (keyed phase, sign = bit).
* Payload: 32-bit generation id + 16-bit model id + CRC-16, protected by a rate-1/2 convolutional
  code (K=7, the 171/133 pair) and soft Viterbi decoding; "found" requires the CRC to check.
* Detection undoes the geometry in three steps, each cheap with FFTs:
  1. scale and rotation: a periodic pattern puts peaks in the picture's autocorrelation at the
     lattice vectors; the lattice (period, angle mod 90 degrees) is read off a polar grid of the
     whitened autocorrelation, so resizing, rotation and any crop or padding are found at once;
  2. translation: the picture, resampled so the period is ``TILE`` again, is folded modulo the
     tile (crops and pastes become a cyclic shift), and an FFT correlation with the sync bins
     scores all ``TILE``^2 shifts at once, each bin weighted by the host noise around it;
  3. mirror: the same for the horizontally flipped fold.
  Folding sums every tile, so half a picture still carries the whole payload.
* Presence is the sync peak's z-score against ``DEFAULT_THRESHOLD``, calibrated as the 0.1%
  false-positive point on never-marked pictures (`imagine eval watermark`), AND a valid CRC.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import ndimage

from imagine.config import WATERMARK_THRESHOLD

GRID = 256  # longer side (px) at which the tile period is TILE px
TILE = 80
BAND = (TILE / 32, TILE / 5.8)  # radius in cycles per tile: wavelengths 5.8-32 px at GRID
PAYLOAD_BITS = 48
CRC_BITS = 16
CODE_BITS = PAYLOAD_BITS + CRC_BITS
CONV_K = 7
CONV_POLYS = (0o171, 0o133)
CODED_BITS = len(CONV_POLYS) * (CODE_BITS + CONV_K - 1)
SYNC_FRACTION = 0.25
DEFAULT_STRENGTH = 3.0  # RMS of the added luminance, 8-bit levels: PSNR = 20 log10(255 / 3) = 38.6 dB
# Sync z-score above which a mark (with a valid CRC) is declared present; its home is the settings.
DEFAULT_THRESHOLD = WATERMARK_THRESHOLD
ANALYSIS_MAX = 640  # pictures are shrunk to at most this side before detection
PERIOD_RANGE = (20.0, 200.0)  # tile periods (analysed px) the lattice search covers
CANDIDATES = 4
REFINE_TOP = 2
REFINE_STEPS = tuple((dp, da) for dp in (-0.006, 0.0, 0.006) for da in (-0.3, 0.0, 0.3) if dp or da)
JPEG_GRID_STEP = TILE // 16  # tile bins (multiples of TILE / 16 cycles) left empty: see _layout
BIN_CLIP = 4.0  # a single bin may count at most this many host-noise units (periodic artefacts)  # lattice hypotheses tried, strongest first
# Contrast masking: the mark grows with local luminance activity (std, 8-bit levels), up to MASK_MAX_GAIN.
MASK_ACTIVITY = 12.0
MASK_MAX_GAIN = 3.0
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class Payload:
    """What the mark carries: which generation (32 bits) from which model (16 bits)."""

    generation: int
    model: int

    def __post_init__(self) -> None:
        if not 0 <= self.generation < 2**32:
            raise ValueError(f"generation id must fit in 32 bits, got {self.generation}")
        if not 0 <= self.model < 2**16:
            raise ValueError(f"model id must fit in 16 bits, got {self.model}")

    @property
    def hex(self) -> str:
        return f"{self.generation:08x}-{self.model:04x}"


@dataclass(frozen=True)
class Detection:
    """Result of `detect`. ``present`` only when the sync score clears the threshold AND the payload's
    CRC checks, so a detection always says whose mark it is."""

    present: bool
    score: float  # sync peak z-score of the best hypothesis; compare with ``threshold``
    threshold: float
    payload: Payload | None  # set exactly when ``present``
    bits: tuple[int, ...] | None  # the decoded 64 code bits at the best hypothesis
    scale: float  # period found / period embedded at this size (1.0: unscaled)
    angle: float  # degrees the picture was turned (counter-clockwise)
    flipped: bool

    @property
    def confidence(self) -> float:
        """Phi(score - threshold) when a payload was read, else 0."""
        if self.payload is None:
            return 0.0
        return float(1.0 - 0.5 * math.erfc(-(self.threshold - self.score) / math.sqrt(2)))


def model_id16(model_id: str) -> int:
    """A stable 16-bit id for a model name or hash."""
    return int.from_bytes(hashlib.sha256(model_id.encode()).digest()[:2], "big")


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def encode_bits(payload: Payload) -> np.ndarray:
    """The 64 code bits: 48 payload bits then their CRC-16."""
    raw = payload.generation.to_bytes(4, "big") + payload.model.to_bytes(2, "big")
    word = int.from_bytes(raw, "big") << CRC_BITS | crc16(raw)
    return np.array([(word >> (CODE_BITS - 1 - i)) & 1 for i in range(CODE_BITS)], dtype=np.int8)


def decode_bits(bits: np.ndarray) -> Payload | None:
    word = 0
    for b in bits:
        word = word << 1 | int(b)
    raw, crc = (word >> CRC_BITS).to_bytes(6, "big"), word & 0xFFFF
    if crc16(raw) != crc:
        return None
    return Payload(int.from_bytes(raw[:4], "big"), int.from_bytes(raw[4:], "big"))


# ---- convolutional code ----------------------------------------------------------------------

_STATES = 1 << (CONV_K - 1)


def _parity(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    out = np.zeros_like(x)
    while x.any():
        out ^= x & 1
        x >>= 1
    return out


@lru_cache(maxsize=1)
def _trellis() -> tuple[np.ndarray, np.ndarray]:
    """(predecessor states (S, 2), branch output signs (S, 2, n)) for next state n reached with input n & 1."""
    nxt = np.arange(_STATES)
    preds = np.stack([nxt >> 1, (nxt >> 1) | (_STATES >> 1)], axis=1)
    reg = ((preds << 1) | (nxt[:, None] & 1)) & ((1 << CONV_K) - 1)
    signs = np.stack([1 - 2 * _parity(reg & g) for g in CONV_POLYS], axis=-1).astype(np.float64)
    return preds, signs


def conv_encode(bits: np.ndarray) -> np.ndarray:
    """Rate-1/2 convolutional code with CONV_K - 1 zero tail bits."""
    state, out = 0, []
    for b in list(bits) + [0] * (CONV_K - 1):
        reg = ((state << 1) | int(b)) & ((1 << CONV_K) - 1)
        out += [bin(reg & g).count("1") & 1 for g in CONV_POLYS]
        state = reg & (_STATES - 1)
    return np.array(out, dtype=np.int8)


def viterbi_decode(soft: np.ndarray) -> np.ndarray:
    """Maximum-likelihood input bits for ``soft`` (CODED_BITS values, > 0 meaning a 0 bit)."""
    preds, signs = _trellis()
    n = len(CONV_POLYS)
    steps = soft.reshape(-1, n)
    metric = np.full(_STATES, -np.inf)
    metric[0] = 0.0
    choices = np.empty((len(steps), _STATES), dtype=np.int8)
    for t, s in enumerate(steps):
        cand = metric[preds] + signs @ s  # (S, 2)
        choices[t] = np.argmax(cand, axis=1)
        metric = cand[np.arange(_STATES), choices[t]]
    state, bits = 0, []  # the zero tail ends in state 0
    for t in range(len(steps) - 1, -1, -1):
        bits.append(state & 1)
        state = preds[state, choices[t, state]]
    return np.array(bits[::-1][: len(steps) - (CONV_K - 1)], dtype=np.int8)


# ---- the tile --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Keyed assignment of the tile's rfft2 bins: sync bins and coded-bit bins, with phases."""

    sync: tuple[np.ndarray, np.ndarray]  # (rows, cols)
    sync_phase: np.ndarray
    bits: tuple[np.ndarray, np.ndarray]
    bits_phase: np.ndarray
    bit_of: np.ndarray  # coded bit carried by each entry of ``bits``


@lru_cache(maxsize=8)
def _layout(key: str) -> _Layout:
    rows, cols, radii = [], [], []
    for r in range(TILE):
        fy = r if r < TILE // 2 else r - TILE
        for c in range(1, TILE // 2):  # skip the real-only columns 0 and Nyquist
            if fy % JPEG_GRID_STEP == 0 and c % JPEG_GRID_STEP == 0:
                continue  # JPEG's 8 px block grid lands here when a 0.5x copy is re-encoded
            if BAND[0] <= math.hypot(fy, c) < BAND[1]:
                rows.append(r)
                cols.append(c)
                radii.append(math.hypot(fy, c))
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(f"imagine-wm2:{key}".encode()).digest()[:8], "big"))
    rows_a, cols_a, radii_a = np.array(rows), np.array(cols), np.array(radii)
    order = rng.permutation(len(rows_a))
    n_sync = int(len(order) * SYNC_FRACTION)
    sync, rest = order[:n_sync], order[n_sync:]
    # Deal the remaining bins to coded bits from the lowest radius up, a fresh keyed order each round,
    # so every bit owns bins across the band (a resize that kills the top of the band hurts all bits alike).
    rest = rest[np.argsort(radii_a[rest], kind="stable")]
    rounds = -(-len(rest) // CODED_BITS)
    if len(rest) < CODED_BITS:
        raise RuntimeError("frequency band too narrow for the payload")
    bit_of = np.concatenate([rng.permutation(CODED_BITS) for _ in range(rounds)])[: len(rest)]
    phases = rng.uniform(0, 2 * np.pi, len(rows_a))
    return _Layout(
        sync=(rows_a[sync], cols_a[sync]), sync_phase=phases[sync],
        bits=(rows_a[rest], cols_a[rest]), bits_phase=phases[rest], bit_of=bit_of,
    )


def tile(payload: Payload, key: str) -> np.ndarray:
    """The TILE x TILE pattern (float64, unit std) that carries ``payload``."""
    lay = _layout(key)
    signs = 1.0 - 2.0 * conv_encode(encode_bits(payload))  # bit 0 -> +1, bit 1 -> -1
    spec = np.zeros((TILE, TILE // 2 + 1), dtype=np.complex128)
    spec[lay.sync] = np.exp(1j * lay.sync_phase)
    spec[lay.bits] = signs[lay.bit_of] * np.exp(1j * lay.bits_phase)
    t = np.fft.irfft2(spec, s=(TILE, TILE))
    return t / t.std()


def masking(luma: np.ndarray, *, activity: float = MASK_ACTIVITY, max_gain: float = MASK_MAX_GAIN) -> np.ndarray:
    """Per-pixel gain >= 1: texture hides a stronger mark (contrast masking), flat areas get the least."""
    mean = ndimage.gaussian_filter(luma, 4.0)
    local_std = np.sqrt(np.maximum(ndimage.gaussian_filter(luma * luma, 4.0) - mean * mean, 0.0))
    return np.clip(local_std / activity, 1.0, max_gain).astype(np.float32)


def pattern(payload: Payload, key: str, size: tuple[int, int]) -> np.ndarray:
    """The tiled pattern for a ``size`` = (width, height) picture: period TILE * max(size) / GRID px, unit std."""
    w, h = size
    unit = max(w, h) / GRID
    t = tile(payload, key)
    if unit <= 1.0:
        return np.tile(t, (-(-h // TILE), -(-w // TILE)))[:h, :w].astype(np.float32)
    reps_h, reps_w = -(-math.ceil(h / unit) // TILE) + 1, -(-math.ceil(w / unit) // TILE) + 1
    base = np.tile(t, (reps_h, reps_w)).astype(np.float32)
    big = Image.fromarray(base, mode="F").resize((round(base.shape[1] * unit), round(base.shape[0] * unit)),
                                                 Image.Resampling.BICUBIC)
    return np.asarray(big)[:h, :w]


def embed(image: Image.Image, payload: Payload, key: str, strength: float = DEFAULT_STRENGTH) -> Image.Image:
    """``image`` (RGB, any size) with the mark added equally to R, G and B (a pure luminance change).

    The mark's RMS is ``strength`` (8-bit levels) whatever the content, so the PSNR is fixed at about
    20 log10(255 / strength); contrast masking only moves it from flat areas into texture.
    """
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    h, w = rgb.shape[:2]
    wm = pattern(payload, key, (w, h)) * masking(rgb @ LUMA)
    wm *= strength / max(float(np.sqrt((wm * wm).mean())), 1e-9)
    out = np.clip(np.rint(rgb + wm[..., None]), 0, 255).astype(np.uint8)
    return Image.fromarray(out, mode="RGB")


# ---- detection -------------------------------------------------------------------------------


def _analysed(image: Image.Image) -> tuple[np.ndarray, float]:
    """(whitened luminance, analysed px per picture px): shrunk to ANALYSIS_MAX, high-passed, contrast-normalised.

    Dividing by the local activity weights every region by how clean it is (flat areas carry the mark
    almost noise-free, edges mostly host); clipping keeps a few strong edges from dominating.
    """
    image = image.convert("RGB")
    factor = 1.0
    if max(image.size) > ANALYSIS_MAX:
        factor = ANALYSIS_MAX / max(image.size)
        image = image.resize((max(1, round(image.width * factor)), max(1, round(image.height * factor))),
                             Image.Resampling.BOX)
    y = np.asarray(image, dtype=np.float32) @ LUMA
    hp = y - ndimage.gaussian_filter(y, 4.0)
    local = np.sqrt(ndimage.gaussian_filter(hp * hp, 6.0) + 1.0)
    z = hp / local
    return np.clip(z, -3.0, 3.0).astype(np.float64), factor


def _lattice_candidates(z: np.ndarray, priors: list[float], k: int = CANDIDATES) -> list[tuple[float, float]]:
    """(period, angle) hypotheses: the ``priors`` (unrotated), then up to ``k`` places where the
    autocorrelation of ``z`` shows a square lattice, strongest first, each with the fundamentals it implies."""
    h, w = z.shape
    lo, hi = PERIOD_RANGE
    lag = int(hi * 1.5) + 2
    spec = np.fft.rfft2(z - z.mean(), s=(h + lag, w + lag))
    power = np.abs(spec) ** 2
    fy = np.fft.fftfreq(h + lag)[:, None]
    fx = np.fft.rfftfreq(w + lag)[None, :]
    radius = np.hypot(fy, fx)
    power[(radius < 0.02) | (radius > 0.45)] = 0.0
    acf = np.fft.irfft2(power, s=(h + lag, w + lag))
    acf = np.fft.fftshift(acf)
    cy, cx = (h + lag) // 2, (w + lag) // 2
    periods = np.exp(np.arange(math.log(lo), math.log(hi), 0.008))
    angles = np.deg2rad(np.arange(-45.0, 45.0, 0.5))
    p, a = np.meshgrid(periods, angles, indexing="ij")
    score = np.zeros_like(p)
    for vx, vy in ((np.cos(a), np.sin(a)), (-np.sin(a), np.cos(a))):
        score += ndimage.map_coordinates(acf, [cy + p * vy, cx + p * vx], order=1, mode="constant")
    # A lattice peak stands out against the ACF at the same period in other directions (the host's own
    # ACF is mostly isotropic); normalising per period keeps long lags (small overlaps) comparable.
    med = np.median(score, axis=1, keepdims=True)
    mad = np.median(np.abs(score - med), axis=1, keepdims=True) * 1.4826 + 1e-12
    score = (score - med) / mad
    peaks = score == ndimage.maximum_filter(score, size=(5, 5), mode="wrap")  # angles wrap around
    pi, ai = np.nonzero(peaks)
    order = np.argsort(score[pi, ai])[::-1]
    out: list[tuple[float, float]] = []

    def add(cand: tuple[float, float]) -> None:
        if lo <= cand[0] <= hi and all(abs(math.log(cand[0] / o[0])) > 0.02 or abs(cand[1] - o[1]) > 1.0 for o in out):
            out.append(cand)

    for prior in priors:
        add((prior, 0.0))
    for j in order[:k]:
        period, angle = float(periods[pi[j]]), float(np.rad2deg(angles[ai[j]]))
        # The strongest lattice peak may be a harmonic of the tile: try the fundamentals it implies as well.
        add((period, angle))
        add((period / 2, angle))
        add((period / math.sqrt(2), (angle + 90.0) % 90.0 - 45.0))
    return out


def _resampled(z: np.ndarray, period: float, angle: float) -> np.ndarray:
    """``z`` scaled by TILE / period and turned back by ``angle`` degrees (zeros outside the picture)."""
    h, w = z.shape
    s = TILE / period
    th = math.radians(angle)
    oh, ow = (max(TILE, int(math.ceil((abs(h * math.cos(th)) + abs(w * math.sin(th))) * s))),
              max(TILE, int(math.ceil((abs(w * math.cos(th)) + abs(h * math.sin(th))) * s))))
    # output (row, col) -> input: centre-aligned rotation by +angle (image axes: y down) and scale 1/s
    c, sn = math.cos(th), math.sin(th)
    matrix = np.array([[c, sn], [-sn, c]]) / s
    centre_in = np.array([(h - 1) / 2, (w - 1) / 2])
    centre_out = np.array([(oh - 1) / 2, (ow - 1) / 2])
    offset = centre_in - matrix @ centre_out
    return ndimage.affine_transform(z, matrix, offset=offset, output_shape=(oh, ow), order=1, cval=0.0)


def _folded_spectrum(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(spectrum of ``y`` folded modulo the tile, host noise magnitude per bin).

    Folding modulo the tile samples the full spectrum at every n-th bin, where the periodic mark
    lives; the bins in between hold only host content, so their mean power around each mark bin
    estimates the host noise there.
    """
    h, w = y.shape
    nh, nw = -(-h // TILE) * TILE, -(-w // TILE) * TILE
    full = np.fft.rfft2(y, s=(nh, nw))
    sh, sw = nh // TILE, nw // TILE
    power = np.abs(full) ** 2
    rows = np.arange(0, nh, sh)[:, None]
    cols = np.arange(0, TILE // 2 + 1)[None, :] * sw
    around = sum(power[(rows + dr) % nh, np.clip(cols + dc, 0, full.shape[1] - 1)]
                 for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc)
    host = np.sqrt(around / 8.0) + 1e-9
    return full[::sh, ::sw], host


def _read(spectrum: tuple[np.ndarray, np.ndarray], lay: _Layout) -> tuple[float, np.ndarray]:
    """(sync z-score, soft coded bits) at the best cyclic shift, refined to a fraction of a pixel."""
    spec, host = spectrum
    ratio = np.abs(spec) / host
    spec = spec * (np.minimum(ratio, BIN_CLIP) / np.maximum(ratio, 1e-12))  # now |spec / host| <= BIN_CLIP
    g = np.zeros_like(spec)
    g[lay.sync] = spec[lay.sync] / host[lay.sync] * np.exp(-1j * lay.sync_phase)
    corr = np.fft.irfft2(g, s=(TILE, TILE))
    py, px = np.unravel_index(int(np.argmax(corr)), corr.shape)
    z = float((corr[py, px] - corr.mean()) / (corr.std() + 1e-12))

    def vertex(m1: float, c0: float, p1: float) -> float:
        den = m1 - 2 * c0 + p1
        return 0.0 if den >= 0 else float(np.clip(0.5 * (m1 - p1) / den, -0.5, 0.5))

    dy = py + vertex(corr[(py - 1) % TILE, px], corr[py, px], corr[(py + 1) % TILE, px])
    dx = px + vertex(corr[py, (px - 1) % TILE], corr[py, px], corr[py, (px + 1) % TILE])
    r, c = lay.bits
    fy = np.where(r < TILE // 2, r, r - TILE)
    shift = np.exp(2j * np.pi * (fy * dy + c * dx) / TILE)
    votes = np.real(spec[lay.bits] / host[lay.bits] * np.exp(-1j * lay.bits_phase) * shift)
    soft = np.bincount(lay.bit_of, weights=votes, minlength=CODED_BITS)
    return z, soft


def detect(image: Image.Image, key: str, *, threshold: float = DEFAULT_THRESHOLD,
           candidates: int = CANDIDATES) -> Detection:
    """Find the lattice, then the shift and mirror; stop at the first hypothesis that is present with a valid CRC."""
    lay = _layout(key)
    z, factor = _analysed(image)
    # As delivered (or cropped) the period is TILE * max(1, side / GRID); a plain downscale shrinks it with
    # the side; a GRID-sized picture pasted into a larger one keeps TILE.
    expected = TILE * max(1.0, max(image.size) / GRID) * factor
    priors = [expected, TILE * max(image.size) / GRID * factor, TILE * factor]
    best: Detection | None = None
    tried: list[tuple[float, float, float, bool]] = []  # (score, period, angle, flipped)

    def attempt(period: float, angle: float, flips: tuple[bool, ...]) -> Detection | None:
        nonlocal best
        turned = _resampled(z, period, angle)
        for flipped in flips:
            score, soft = _read(_folded_spectrum(turned[:, ::-1] if flipped else turned), lay)
            bits = viterbi_decode(soft)
            payload = decode_bits(bits) if score >= threshold else None
            found = Detection(present=payload is not None, score=score, threshold=threshold, payload=payload,
                              bits=tuple(int(b) for b in bits), scale=round(period / expected, 4),
                              angle=round(-angle if flipped else angle, 2), flipped=flipped)
            tried.append((score, period, angle, flipped))
            if found.present:
                return found
            if best is None or score > best.score:
                best = found
        return None

    for period, angle in _lattice_candidates(z, priors, candidates):
        if (found := attempt(period, angle, (False, True))) is not None:
            return found
    # The lattice estimate is good to about a sample of the search grid; polish the two best hypotheses.
    for _, period, angle, flipped in sorted(tried, reverse=True)[:REFINE_TOP]:
        for dp, da in REFINE_STEPS:
            if (found := attempt(period * (1 + dp), angle + da, (flipped,))) is not None:
                return found
    assert best is not None
    return best
