"""The part colour palettes of the original demos, and d3's colour formulas they come from."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from person_segmentation._constants import NUM_PARTS

UInt8Array = npt.NDArray[np.uint8]

# d3's cubehelix -> RGB conversion (d3-color, after Green 2011), in numpy. Hue in degrees,
# saturation, lightness; returns float RGB in 0..255 (not yet rounded or clamped).
_CUBEHELIX_A, _CUBEHELIX_B, _CUBEHELIX_C, _CUBEHELIX_D, _CUBEHELIX_E = (
    -0.14861,
    +1.78277,
    -0.29227,
    -0.90649,
    +1.97294,
)


def cubehelix_to_rgb(h: npt.ArrayLike, s: npt.ArrayLike, l: npt.ArrayLike) -> npt.NDArray[np.float64]:  # noqa: E741
    hue = np.radians(np.asarray(h, dtype=np.float64) + 120.0)
    light = np.asarray(l, dtype=np.float64)
    amp = np.asarray(s, dtype=np.float64) * light * (1.0 - light)
    cos_h, sin_h = np.cos(hue), np.sin(hue)
    r = light + amp * (_CUBEHELIX_A * cos_h + _CUBEHELIX_B * sin_h)
    g = light + amp * (_CUBEHELIX_C * cos_h + _CUBEHELIX_D * sin_h)
    b = light + amp * (_CUBEHELIX_E * cos_h)
    return 255.0 * np.stack([r, g, b], axis=-1)


def to_rgb8(rgb: npt.NDArray[np.float64]) -> UInt8Array:
    """d3's rgb formatting: round to the nearest integer, clamp to 0..255."""
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def interpolate_cubehelix_long(
    start: tuple[float, float, float], end: tuple[float, float, float], t: npt.ArrayLike
) -> UInt8Array:
    """d3.interpolateCubehelixLong(cubehelix(*start), cubehelix(*end))(t) for an array of t:
    hue, saturation and lightness linearly interpolated (the hue the "long" way, without
    wrapping), gamma 1. Returns uint8 RGB of shape t.shape + (3,)."""
    tt = np.asarray(t, dtype=np.float64)[..., np.newaxis]
    hsl = np.asarray(start, dtype=np.float64) + tt * (np.asarray(end, dtype=np.float64) - np.asarray(start))
    return to_rgb8(cubehelix_to_rgb(hsl[..., 0], hsl[..., 1], hsl[..., 2]))


def interpolate_warm(t: npt.ArrayLike) -> UInt8Array:
    """d3.interpolateWarm: purple -> red/orange -> yellow-green."""
    return interpolate_cubehelix_long((-100.0, 0.75, 0.35), (80.0, 1.50, 0.8), t)


def interpolate_cool(t: npt.ArrayLike) -> UInt8Array:
    """d3.interpolateCool: purple -> blue -> green."""
    return interpolate_cubehelix_long((260.0, 0.75, 0.35), (80.0, 1.50, 0.8), t)


def interpolate_rainbow(t: npt.ArrayLike) -> UInt8Array:
    """d3.interpolateRainbow (t in 0..1): warm for t <= 0.5, then cool backwards."""
    tt = np.asarray(t, dtype=np.float64)
    ts = np.abs(tt - 0.5)
    return to_rgb8(cubehelix_to_rgb(360.0 * tt - 100.0, 1.5 - 1.5 * ts, 0.8 - 0.9 * ts))


def _frozen(array: npt.ArrayLike) -> UInt8Array:
    out = np.array(array, dtype=np.uint8)
    out.setflags(write=False)
    return out


#: Part colour palettes of the original demos, each a read-only uint8 array (24, 3) indexed by
#: part id:
#:
#: * ``"rainbow"``: the demo's default, the 24 triples of REFERENCE.md section 6. They are
#:   d3's ``interpolateRainbow(i / 24)``, i = 0..23 (reproduced exactly by the cubehelix
#:   formula above; checked in the tests). Its first half is d3's ``interpolateWarm``:
#:   rainbow[0] = warm(0) = (110, 64, 170) and rainbow[12] = warm(1) = (175, 240, 91).
#: * ``"warm"``: the demo's palette of that name (person-segmentation/BodyPix
#:   ``demos/part_color_scales.js``). Despite the name it is *not* d3's ``interpolateWarm``
#:   but ``interpolateCool(i / 24)``, i = 0..23: purple (110, 64, 170) through blue to green
#:   (155, 243, 88). Computed here from d3's cubehelix formula; it matches the demo's
#:   hard-coded list to within 1 per channel (the demo's own rounding).
PALETTES: dict[str, UInt8Array] = {
    "rainbow": _frozen(
        [
            (110, 64, 170),
            (143, 61, 178),
            (178, 60, 178),
            (210, 62, 167),
            (238, 67, 149),
            (255, 78, 125),
            (255, 94, 99),
            (255, 115, 75),
            (255, 140, 56),
            (239, 167, 47),
            (217, 194, 49),
            (194, 219, 64),
            (175, 240, 91),
            (135, 245, 87),
            (96, 247, 96),
            (64, 243, 115),
            (40, 234, 141),
            (28, 219, 169),
            (26, 199, 194),
            (33, 176, 213),
            (47, 150, 224),
            (65, 125, 224),
            (84, 101, 214),
            (99, 81, 195),
        ]
    ),
    "warm": _frozen(interpolate_cool(np.arange(NUM_PARTS) / NUM_PARTS)),
}
