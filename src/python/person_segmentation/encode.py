"""Results as image files: the mask and part-map encodings, and the file extensions.

Used by the command line and by :mod:`person_segmentation.ray_data`, so both write the same
files (and by the server, so that it sends the same images). A mask becomes an 8-bit grayscale
image (person = 255); a person probability an 8-bit grayscale image ``round(p * 255)``; a part
map a palette image whose pixel values are the part ids (background = 24, black), coloured with
a palette.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import PIL.Image

from person_segmentation._constants import IMAGE_EXTENSIONS, NUM_PARTS, VIDEO_EXTENSIONS, VIDEO_OUTPUT_EXTENSIONS
from person_segmentation._palettes import PALETTES

__all__ = [
    "IMAGE_EXTENSIONS",
    "RAINBOW",
    "VIDEO_EXTENSIONS",
    "VIDEO_OUTPUT_EXTENSIONS",
    "mask_to_image",
    "palette_colors",
    "parts_to_image",
    "probability_to_image",
    "probability_to_uint8",
]


def palette_colors(name: str) -> tuple[tuple[int, int, int], ...]:
    """The RGB colours of a named palette of :data:`person_segmentation.render.PALETTES`,
    index = part id."""
    return tuple((int(r), int(g), int(b)) for r, g, b in PALETTES[name])


#: The rainbow palette of the original's demos (REFERENCE.md section 6), index = part id.
RAINBOW: tuple[tuple[int, int, int], ...] = palette_colors("rainbow")


def mask_to_image(mask: np.ndarray) -> PIL.Image.Image:
    """uint8 (H, W) 0/1 mask -> 8-bit grayscale image, person = 255."""
    return PIL.Image.fromarray((mask * 255).astype(np.uint8), mode="L")


def probability_to_uint8(probability: np.ndarray) -> np.ndarray:
    """float (H, W) person probability -> uint8 ``round(p * 255)``: clipped to [0, 1], scaled
    in float64 (exact for float32 input) and rounded half to even; 255 = certainly a person."""
    scaled = np.clip(probability, 0.0, 1.0).astype(np.float64) * 255.0
    result: np.ndarray = np.rint(scaled).astype(np.uint8)
    return result


def probability_to_image(probability: np.ndarray) -> PIL.Image.Image:
    """float (H, W) person probability -> 8-bit grayscale image :func:`probability_to_uint8`."""
    return PIL.Image.fromarray(probability_to_uint8(probability), mode="L")


def parts_to_image(parts: np.ndarray, palette: Sequence[Sequence[int]] = RAINBOW) -> PIL.Image.Image:
    """int32 (H, W) part ids (-1 = background) -> palette image: pixel value = part id
    (background = 24, black), coloured with ``palette`` (default: the rainbow palette)."""
    indices = np.where(parts < 0, NUM_PARTS, parts).astype(np.uint8)
    image = PIL.Image.fromarray(indices, mode="P")
    image.putpalette([int(c) for rgb in (*palette, (0, 0, 0)) for c in rgb])
    return image
