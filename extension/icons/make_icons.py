"""Draw the extension's icons: a white keyhole on a rounded teal square.

A keyhole because the extension answers "who can get in". The PNGs are committed; this
script only says how they were made (no image library needed: shapes are sampled
4x4 per pixel for smooth edges, and the PNG is written with zlib).

    python extension/icons/make_icons.py
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

SIZES = (16, 32, 48, 128)
TEAL = (11, 85, 99)
WHITE = (255, 255, 255)
SAMPLES = 4


def _inside_square(x: float, y: float, radius: float = 0.2) -> bool:
    """A rounded square filling the unit square."""
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def _inside_keyhole(x: float, y: float) -> bool:
    if math.hypot(x - 0.5, y - 0.4) <= 0.16:
        return True
    if 0.4 <= y <= 0.78:
        half = 0.06 + (y - 0.4) * 0.18
        return abs(x - 0.5) <= half
    return False


def _pixel(px: int, py: int, size: int) -> tuple[int, int, int, int]:
    square = hole = 0
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            x = (px + (sx + 0.5) / SAMPLES) / size
            y = (py + (sy + 0.5) / SAMPLES) / size
            if _inside_square(x, y):
                square += 1
                if _inside_keyhole(x, y):
                    hole += 1
    total = SAMPLES * SAMPLES
    if not square:
        return (0, 0, 0, 0)
    mix = hole / square
    rgb = tuple(round(t * (1 - mix) + w * mix) for t, w in zip(TEAL, WHITE, strict=True))
    return (rgb[0], rgb[1], rgb[2], round(255 * square / total))


def png(size: int) -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(_pixel(x, y, size)) for x in range(size)) for y in range(size)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    here = Path(__file__).resolve().parent
    for size in SIZES:
        (here / f"icon{size}.png").write_bytes(png(size))


if __name__ == "__main__":
    main()
