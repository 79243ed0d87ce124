"""Hostile image files for the upload, dataset and verifier tests (tests/ is on pytest's pythonpath).

Each is a real, well-formed file (valid chunks and CRCs) whose header claims far more pixels than it carries.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache

from PIL import Image


@lru_cache(maxsize=4)
def png_1bit(side: int) -> bytes:
    """A complete ``side`` x ``side`` 1-bit PNG: every row is there, and it compresses to a few KB."""
    row = b"\x00" + bytes((side + 7) // 8)  # filter byte + packed bits
    raw = zlib.compress(row * side, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def png_claiming(width: int, height: int) -> bytes:
    """An 8x8 PNG whose IHDR (with a valid CRC) claims ``width`` x ``height``."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    """A 16x16 JPEG whose start-of-frame segment claims ``width`` x ``height`` (at most 65535 each)."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 30)).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)
