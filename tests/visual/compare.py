"""A screenshot against its reviewed reference: the same picture, give or take antialiasing.

Chromium draws the same page the same way on the same machine, but the edges of
glyphs and curves may come out a few levels lighter or darker after a font or
library update. So a pixel counts as changed only when one of its channels differs
by more than ``CHANNEL_TOLERANCE``, and a page passes while fewer than
``MAX_CHANGED_FRACTION`` of its pixels (and never more than ``MAX_CHANGED_PIXELS``)
changed. One changed word changes a few hundred pixels by far more than the
tolerance; a moved column, thousands; a different page height, the size.

A mismatch writes the actual picture and a diff (changed pixels in red over the
faded reference) to a fresh temporary folder that the failure names. With
``ACCESSRECON_UPDATE_REFERENCES=1`` the actual picture replaces the reference
instead: that is the reviewed update, seen in the change's diff.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops

REFERENCES = Path(__file__).parent / "reference"
#: Read once at import: the test environment fixture clears ACCESSRECON_* variables.
UPDATE = os.environ.get("ACCESSRECON_UPDATE_REFERENCES", "") == "1"

CHANNEL_TOLERANCE = 40
MAX_CHANGED_FRACTION = 0.00002
MAX_CHANGED_PIXELS = 60


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Why a screenshot is not its reference, and where to look."""

    name: str
    reason: str
    folder: Path

    def __str__(self) -> str:
        return f"{self.name}: {self.reason} (actual and diff in {self.folder})"


def reference_path(name: str) -> Path:
    return REFERENCES / f"{name}.png"


def changed_pixels(reference: Image.Image, actual: Image.Image) -> Image.Image:
    """A mask (mode ``L``: 255 or 0) of the pixels where a channel differs beyond the
    tolerance."""
    difference = ImageChops.difference(reference.convert("RGB"), actual.convert("RGB"))
    red, green, blue = (
        c.point(lambda v: 255 if v > CHANNEL_TOLERANCE else 0) for c in difference.split()
    )
    return ImageChops.lighter(ImageChops.lighter(red, green), blue)


def allowed_changes(size: tuple[int, int]) -> int:
    return min(MAX_CHANGED_PIXELS, int(size[0] * size[1] * MAX_CHANGED_FRACTION))


def compare(
    name: str, actual_png: bytes, reference: Path | None = None, *, update: bool = UPDATE
) -> Mismatch | None:
    """``None`` when ``actual_png`` matches ``reference`` (by default the reviewed one of
    ``name``); else the mismatch. With ``update`` the reference is rewritten instead."""
    reference = reference or reference_path(name)
    actual = Image.open(io.BytesIO(actual_png)).convert("RGB")
    if update:
        reference.parent.mkdir(parents=True, exist_ok=True)
        actual.save(reference, optimize=True)
        return None
    if not reference.exists():
        return _report(
            name,
            "no reviewed reference yet: run the visual tests with "
            "ACCESSRECON_UPDATE_REFERENCES=1 and review the new picture",
            actual,
            None,
        )
    expected = Image.open(reference).convert("RGB")
    if expected.size != actual.size:
        return _report(
            name,
            f"size {actual.size[0]}x{actual.size[1]}, the reference is "
            f"{expected.size[0]}x{expected.size[1]}",
            actual,
            None,
        )
    mask = changed_pixels(expected, actual)
    changed = mask.histogram()[255]
    if changed <= allowed_changes(actual.size):
        return None
    return _report(
        name,
        f"{changed} pixels differ from the reference (at most "
        f"{allowed_changes(actual.size)} may), in the box {mask.getbbox()}",
        actual,
        _diff_picture(expected, mask),
    )


def _diff_picture(expected: Image.Image, mask: Image.Image) -> Image.Image:
    faded = Image.blend(expected, Image.new("RGB", expected.size, "white"), 0.7)
    red = Image.new("RGB", expected.size, (230, 0, 0))
    return Image.composite(red, faded, mask)


def _report(name: str, reason: str, actual: Image.Image, diff: Image.Image | None) -> Mismatch:
    folder = Path(tempfile.mkdtemp(prefix=f"accessrecon-visual-{name}-"))
    actual.save(folder / f"{name}-actual.png")
    if diff is not None:
        diff.save(folder / f"{name}-diff.png")
    return Mismatch(name, reason, folder)
