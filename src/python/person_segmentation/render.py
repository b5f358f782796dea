"""Drawing segmentation results: mask images, coloured part maps, bokeh, blurred faces.

NumPy in, NumPy out: every image is an RGB ``uint8`` array of shape ``(H, W, 3)``, every
mask image an RGBA ``uint8`` array ``(H, W, 4)``. These are ports of the drawing helpers of
TensorFlow.js person-segmentation / BodyPix (``toMaskImageData``, ``toColoredPartImageData``,
``drawMask``, ``drawPixelatedMask``, ``drawBokehEffect``, ``blurBodyPart``; REFERENCE.md
section 6) without a canvas: the canvas compositing becomes explicit alpha blending in
float32, vectorised over the whole array (no Python loop over pixels).

    >>> import person_segmentation as ps
    >>> from person_segmentation import render
    >>> net = ps.load(0.5)                                              # doctest: +SKIP
    >>> mask = net.estimate_person_segmentation(image)                  # doctest: +SKIP
    >>> out = render.draw_bokeh_effect(image, mask)                     # doctest: +SKIP
    >>> parts = net.estimate_part_segmentation(image)                   # doctest: +SKIP
    >>> out = render.draw_mask(image, render.to_colored_part_image(parts))  # doctest: +SKIP

Why OpenCV (``cv2``) for blurs and resizing: the original blurs with the canvas filter
``blur(Npx)``, a Gaussian whose standard deviation is N pixels. ``cv2.GaussianBlur`` takes
exactly that standard deviation (a true sampled Gaussian kernel, not a box-blur approximation
as in Pillow's ``GaussianBlur``), works on float32 arrays (so masks keep their fractional
alpha and RGBA images can be blurred premultiplied), is SIMD-optimised and multi-threaded,
and is already a dependency of the package for video input/output. Hand-written filters
would be slower and another thing to get wrong.

Blur conventions: ``cv2.GaussianBlur(x, (0, 0), sigma)`` derives the kernel size from
``sigma``: about ``3 * sigma`` pixels either side for uint8 images and ``4 * sigma`` for the
float32 masks (see :func:`blur_radius`). Borders are mirrored (``BORDER_REFLECT_101``), so the
frame's edges do not darken. A blur amount of 0 means no blur.

Masks: the person masks given to :func:`draw_bokeh_effect` and :func:`replace_background`
are what ``estimate_person_segmentation`` returns (integer or bool, values 0/1); a float
"soft" mask with values in 0..1 (e.g. temporally smoothed scores) is accepted too and used
directly as the blending weight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Union

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "PALETTES",
    "blur_body_part",
    "blur_radius",
    "draw_bokeh_effect",
    "draw_mask",
    "draw_pixelated_mask",
    "replace_background",
    "to_colored_part_image",
    "to_mask_image",
]

#: Number of body parts (part ids 0..23).
NUM_PARTS = 24

Color = Sequence[int]
Palette = Union[str, npt.ArrayLike]
UInt8Array = npt.NDArray[np.uint8]

# --------------------------------------------------------------------------------------------
# Palettes
# --------------------------------------------------------------------------------------------
# d3's cubehelix -> RGB conversion (d3-color, after Green 2011), in numpy. Hue in degrees,
# saturation, lightness; returns float RGB in 0..255 (not yet rounded or clamped).
_CUBEHELIX_A, _CUBEHELIX_B, _CUBEHELIX_C, _CUBEHELIX_D, _CUBEHELIX_E = (
    -0.14861,
    +1.78277,
    -0.29227,
    -0.90649,
    +1.97294,
)


def _cubehelix_to_rgb(h: npt.ArrayLike, s: npt.ArrayLike, l: npt.ArrayLike) -> npt.NDArray[np.float64]:  # noqa: E741
    hue = np.radians(np.asarray(h, dtype=np.float64) + 120.0)
    light = np.asarray(l, dtype=np.float64)
    amp = np.asarray(s, dtype=np.float64) * light * (1.0 - light)
    cos_h, sin_h = np.cos(hue), np.sin(hue)
    r = light + amp * (_CUBEHELIX_A * cos_h + _CUBEHELIX_B * sin_h)
    g = light + amp * (_CUBEHELIX_C * cos_h + _CUBEHELIX_D * sin_h)
    b = light + amp * (_CUBEHELIX_E * cos_h)
    return 255.0 * np.stack([r, g, b], axis=-1)


def _to_rgb8(rgb: npt.NDArray[np.float64]) -> UInt8Array:
    """d3's rgb formatting: round to the nearest integer, clamp to 0..255."""
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def _interpolate_cubehelix_long(
    start: tuple[float, float, float], end: tuple[float, float, float], t: npt.ArrayLike
) -> UInt8Array:
    """d3.interpolateCubehelixLong(cubehelix(*start), cubehelix(*end))(t) for an array of t:
    hue, saturation and lightness linearly interpolated (the hue the "long" way, without
    wrapping), gamma 1. Returns uint8 RGB of shape t.shape + (3,)."""
    tt = np.asarray(t, dtype=np.float64)[..., np.newaxis]
    hsl = np.asarray(start, dtype=np.float64) + tt * (np.asarray(end, dtype=np.float64) - np.asarray(start))
    return _to_rgb8(_cubehelix_to_rgb(hsl[..., 0], hsl[..., 1], hsl[..., 2]))


def _interpolate_warm(t: npt.ArrayLike) -> UInt8Array:
    """d3.interpolateWarm: purple -> red/orange -> yellow-green."""
    return _interpolate_cubehelix_long((-100.0, 0.75, 0.35), (80.0, 1.50, 0.8), t)


def _interpolate_cool(t: npt.ArrayLike) -> UInt8Array:
    """d3.interpolateCool: purple -> blue -> green."""
    return _interpolate_cubehelix_long((260.0, 0.75, 0.35), (80.0, 1.50, 0.8), t)


def _interpolate_rainbow(t: npt.ArrayLike) -> UInt8Array:
    """d3.interpolateRainbow (t in 0..1): warm for t <= 0.5, then cool backwards."""
    tt = np.asarray(t, dtype=np.float64)
    ts = np.abs(tt - 0.5)
    return _to_rgb8(_cubehelix_to_rgb(360.0 * tt - 100.0, 1.5 - 1.5 * ts, 0.8 - 0.9 * ts))


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
            (110, 64, 170), (143, 61, 178), (178, 60, 178), (210, 62, 167), (238, 67, 149),
            (255, 78, 125), (255, 94, 99), (255, 115, 75), (255, 140, 56), (239, 167, 47),
            (217, 194, 49), (194, 219, 64), (175, 240, 91), (135, 245, 87), (96, 247, 96),
            (64, 243, 115), (40, 234, 141), (28, 219, 169), (26, 199, 194), (33, 176, 213),
            (47, 150, 224), (65, 125, 224), (84, 101, 214), (99, 81, 195),
        ]
    ),  # fmt: skip
    "warm": _frozen(_interpolate_cool(np.arange(NUM_PARTS) / NUM_PARTS)),
}


# --------------------------------------------------------------------------------------------
# Validation (up front, naming the argument and what was received)
# --------------------------------------------------------------------------------------------
def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__}"


def _check_array(value: object, name: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {_describe(value)}")
    return value


def _check_image(value: object, name: str = "image") -> UInt8Array:
    array = _check_array(value, name)
    if array.dtype != np.uint8:
        raise TypeError(f"{name} must be a uint8 RGB array of shape (H, W, 3), got {_describe(array)}")
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a uint8 RGB array of shape (H, W, 3), got {_describe(array)}")
    return array


def _check_same_size(value: np.ndarray, name: str, image: np.ndarray, image_name: str = "image") -> None:
    if value.shape[:2] != image.shape[:2]:
        raise ValueError(
            f"{name} must have the size (H, W) of {image_name}, {tuple(image.shape[:2])}, "
            f"got {_describe(value)}"
        )


def _check_mask(value: object, name: str = "mask", *, soft: bool = False) -> np.ndarray:
    """A 0/1 mask (bool or integer) of shape (H, W); with ``soft``, floats in 0..1 too."""
    array = _check_array(value, name)
    kinds = "bool or integer, values 0/1" + (", or float with values in 0..1" if soft else "")
    is_float = bool(np.issubdtype(array.dtype, np.floating))
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.integer) or (soft and is_float)):
        raise TypeError(f"{name} must be a (H, W) mask ({kinds}), got {_describe(array)}")
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a (H, W) mask ({kinds}), got {_describe(array)}")
    if is_float:
        if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise ValueError(
                f"{name} must hold values in 0..1, got {_describe(array)} with values in "
                f"{array.min()}..{array.max()} (or non-finite values)"
            )
    elif array.dtype != np.bool_ and (array.min() < 0 or array.max() > 1):
        raise ValueError(
            f"{name} must hold only 0 and 1, got {_describe(array)} with values in {array.min()}..{array.max()}"
        )
    return array


def _check_parts(value: object, name: str = "parts") -> np.ndarray:
    array = _check_array(value, name)
    if array.dtype.kind not in ("i", "u"):
        raise TypeError(f"{name} must be an integer (H, W) array of part ids -1..23, got {_describe(array)}")
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be an integer (H, W) array of part ids -1..23, got {_describe(array)}")
    low, high = int(array.min()), int(array.max())
    if low < -1 or high > NUM_PARTS - 1:
        raise ValueError(
            f"{name} must hold part ids -1..{NUM_PARTS - 1} (-1 = no person), got {_describe(array)} "
            f"with values in {low}..{high}"
        )
    return array


def _check_mask_image(value: object, image: np.ndarray, name: str = "mask_image") -> UInt8Array:
    array = _check_array(value, name)
    if array.dtype != np.uint8:
        raise TypeError(f"{name} must be a uint8 RGBA array of shape (H, W, 4), got {_describe(array)}")
    if array.ndim != 3 or array.shape[2] != 4:
        raise ValueError(f"{name} must be a uint8 RGBA array of shape (H, W, 4), got {_describe(array)}")
    _check_same_size(array, name, image)
    return array


def _check_real(value: object, name: str, low: float, high: float = float("inf")) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not (low <= number <= high):  # also refuses NaN
        bounds = f"in {low:g}..{high:g}" if high != float("inf") else f">= {low:g} (and finite)"
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    if number == float("inf"):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def _check_int(value: object, name: str, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if int(value) < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return int(value)


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def _check_color(value: object, name: str, channels: int) -> tuple[int, ...]:
    what = "(r, g, b, a)" if channels == 4 else "(r, g, b)"
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a colour {what} of ints 0..255, got {type(value).__name__} {value!r}")
    items = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
    if len(items) != channels:
        raise ValueError(f"{name} must be a colour {what} of {channels} ints 0..255, got {len(items)} values {value!r}")
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"{name} must be a colour {what} of ints 0..255, got {value!r}")
        if not 0 <= int(item) <= 255:
            raise ValueError(f"{name} must be a colour {what} of ints 0..255, got {value!r}")
    return tuple(int(item) for item in items)


def _check_byte(value: object, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int in 0..255, got {type(value).__name__} {value!r}")
    if not 0 <= int(value) <= 255:
        raise ValueError(f"{name} must be an int in 0..255, got {value!r}")
    return int(value)


def _check_palette(palette: object) -> UInt8Array:
    if isinstance(palette, str):
        if palette not in PALETTES:
            raise ValueError(f"palette must be one of {sorted(PALETTES)} or a (24, 3) array, got {palette!r}")
        return PALETTES[palette]
    if not isinstance(palette, (np.ndarray, Sequence)):
        raise TypeError(
            f"palette must be a palette name or a (24, 3) array of ints 0..255, got {type(palette).__name__}"
        )
    array = np.asarray(palette)
    if array.dtype.kind not in ("i", "u"):
        raise TypeError(f"palette must be a (24, 3) array of ints 0..255, got {_describe(array)}")
    if array.shape != (NUM_PARTS, 3):
        raise ValueError(
            f"palette must be a (24, 3) array of ints 0..255 (one RGB colour per part), got {_describe(array)}"
        )
    if array.min() < 0 or array.max() > 255:
        raise ValueError(f"palette values must be in 0..255, got values in {array.min()}..{array.max()}")
    return array.astype(np.uint8)


def _check_part_ids(part_ids: object) -> list[int]:
    if isinstance(part_ids, (str, bytes)) or not isinstance(part_ids, (Iterable, np.ndarray)):
        raise TypeError(f"part_ids must be a sequence of part ids 0..23, got {type(part_ids).__name__}")
    ids = list(np.asarray(part_ids).ravel()) if isinstance(part_ids, np.ndarray) else list(part_ids)
    for item in ids:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer)):
            raise TypeError(f"part_ids must be a sequence of int part ids 0..23, got {part_ids!r}")
        if not 0 <= int(item) < NUM_PARTS:
            raise ValueError(f"part_ids must be part ids in 0..{NUM_PARTS - 1}, got {part_ids!r}")
    return [int(item) for item in ids]


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------
def blur_radius(sigma: float, dtype: npt.DTypeLike = np.float32) -> int:
    """How far (in pixels) a blur of standard deviation ``sigma`` reaches: half the kernel size
    ``cv2.GaussianBlur(x, (0, 0), sigma)`` picks for arrays of that dtype (``round(2 * 3 *
    sigma + 1) | 1`` for uint8, ``round(2 * 4 * sigma + 1) | 1`` otherwise). A pixel further than
    that (in x or in y) from every changed pixel is not touched by the blur. 0 for sigma 0."""
    sigma = _check_real(sigma, "sigma", 0.0)
    if sigma == 0:
        return 0
    spread = 3 if np.dtype(dtype) == np.uint8 else 4
    size = int(np.floor(sigma * spread * 2 + 1 + 0.5)) | 1  # cvRound, C-style (halves away from 0)
    return size // 2


def _gaussian(array: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels (0 = none), mirrored borders."""
    if sigma == 0:
        return array
    out = cv2.GaussianBlur(
        np.ascontiguousarray(array), (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101
    )
    return np.asarray(out).reshape(array.shape)  # cv2 drops a trailing channel axis of size 1


def _blend(front: np.ndarray, back: np.ndarray, alpha: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """front * alpha + back * (1 - alpha) in float32 (computed as back + (front - back) * alpha,
    in place); exact where alpha is 0 or 1."""
    out = back.astype(np.float32)
    diff = front.astype(np.float32)
    diff -= out
    diff *= alpha[..., np.newaxis]
    out += diff
    return out


def _finish(out: np.ndarray, flip_horizontal: bool) -> UInt8Array:
    """Round to uint8 (to nearest, halves up) and optionally mirror left-right (as the
    original's mirrored canvas)."""
    if out.dtype != np.uint8:
        out += 0.5
        np.clip(out, 0.0, 255.0, out=out)
        out = out.astype(np.uint8)
    if flip_horizontal:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def _alpha_from_mask(mask: np.ndarray, edge_blur_amount: float) -> npt.NDArray[np.float32]:
    return _gaussian(mask.astype(np.float32), edge_blur_amount)


def _pack_rgba(color: Sequence[int]) -> np.uint32:
    """An RGBA colour as the uint32 whose bytes in memory are r, g, b, a."""
    return np.uint32(np.array(color, dtype=np.uint8).view(np.uint32)[0])


def _unpack_rgba(packed: npt.NDArray[np.uint32]) -> UInt8Array:
    """(H, W) uint32 from :func:`_pack_rgba` -> uint8 (H, W, 4) RGBA (a view, no copy)."""
    return np.ascontiguousarray(packed).view(np.uint8).reshape(*packed.shape, 4)


# --------------------------------------------------------------------------------------------
# Mask and part images
# --------------------------------------------------------------------------------------------
def to_mask_image(
    mask: np.ndarray,
    foreground: Color = (0, 0, 0, 0),
    background: Color = (0, 0, 0, 255),
) -> UInt8Array:
    """An RGBA image of a person mask: ``foreground`` where the mask is 1, ``background`` elsewhere.

    The port of BodyPix's ``toMaskImageData``, with its defaults: transparent on the person,
    opaque black on the background, so that ``draw_mask(image, to_mask_image(mask))`` darkens
    the background. The darkness is applied when drawing, through ``draw_mask``'s
    ``opacity`` (0.7 by default); person-segmentation v0.0.x baked it into the alpha instead
    (JavaScript's ``Math.round(255 * 0.7)`` = 179 on the background, REFERENCE.md section 6;
    note Python's ``round(178.5)`` is 178), which is ``background=(0, 0, 0, 179)`` drawn with
    ``opacity=1``. To mask the person instead of
    the background, swap the two colours.

    Args:
        mask: (H, W) bool or integer array of 0/1 (e.g. ``estimate_person_segmentation``'s).
        foreground: (r, g, b, a) ints 0..255 for mask == 1.
        background: (r, g, b, a) ints 0..255 for mask == 0.

    Returns:
        uint8 (H, W, 4) RGBA.

    Raises:
        TypeError: ``mask`` is not a bool/integer ndarray, or a colour is not 4 ints.
        ValueError: ``mask`` is not 2-D or holds values other than 0/1, a colour value is out
            of 0..255.
    """
    mask = _check_mask(mask, "mask")
    fg = _pack_rgba(_check_color(foreground, "foreground", 4))
    bg = _pack_rgba(_check_color(background, "background", 4))
    return _unpack_rgba(np.where(mask.astype(bool), fg, bg))


def to_colored_part_image(
    parts: np.ndarray,
    palette: Palette = "rainbow",
    background: Color = (0, 0, 0),
    background_alpha: int = 255,
    alpha: int = 255,
) -> UInt8Array:
    """An RGBA image of a part map: each part id in its palette colour.

    The port of ``toColoredPartImageData``: pixel (y, x) is ``palette[parts[y, x]]`` with
    alpha ``alpha`` where ``parts >= 0``, and ``background`` with ``background_alpha`` where
    ``parts == -1`` (no person). Draw it over the photo with :func:`draw_mask` or
    :func:`draw_pixelated_mask`; make the background transparent (``background_alpha=0``)
    to colour only the person.

    Args:
        parts: (H, W) integer array of part ids -1..23 (``estimate_part_segmentation``'s).
        palette: a name in :data:`PALETTES` ("rainbow", "warm") or a (24, 3) integer array of
            RGB colours 0..255 indexed by part id.
        background: (r, g, b) ints 0..255 where there is no person.
        background_alpha: alpha 0..255 where there is no person.
        alpha: alpha 0..255 of the part colours.

    Returns:
        uint8 (H, W, 4) RGBA.

    Raises:
        TypeError: wrong type or dtype of ``parts``, ``palette``, a colour or an alpha.
        ValueError: ``parts`` not 2-D or outside -1..23, unknown palette name, palette not
            (24, 3), a colour or alpha outside 0..255.
    """
    parts = _check_parts(parts)
    colors = _check_palette(palette)
    bg = _check_color(background, "background", 3)
    bg_alpha = _check_byte(background_alpha, "background_alpha")
    part_alpha = _check_byte(alpha, "alpha")
    table = np.empty((NUM_PARTS + 1, 4), dtype=np.uint8)  # row 24 (= index -1) is the background
    table[:NUM_PARTS, :3] = colors
    table[:NUM_PARTS, 3] = part_alpha
    table[NUM_PARTS] = (*bg, bg_alpha)
    packed = table.view(np.uint32)[:, 0]  # one RGBA pixel per uint32: a 4x cheaper lookup
    indices = parts.astype(np.intp)
    indices[indices < 0] = NUM_PARTS
    return _unpack_rgba(packed[indices])


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------
def _over(image: UInt8Array, mask_image: UInt8Array, opacity: float, mask_blur: float) -> npt.NDArray[np.float32]:
    """Canvas 'source-over' of ``mask_image`` drawn with globalAlpha ``opacity`` on ``image``;
    the mask image blurred first as a canvas blurs: premultiplied by its alpha."""
    alpha = mask_image[..., 3].astype(np.float32)
    alpha /= 255.0  # exact at 0 and 255
    if mask_blur == 0:
        # image * (1 - opacity * a) + opacity * a * rgb, as one blend
        alpha *= np.float32(opacity)
        return _blend(mask_image[..., :3], image, alpha)
    premultiplied = mask_image[..., :3].astype(np.float32) * alpha[..., np.newaxis]
    rgba = _gaussian(np.dstack([premultiplied, alpha]), mask_blur)
    premultiplied, alpha = rgba[..., :3], rgba[..., 3]
    weight = alpha * np.float32(-opacity)
    weight += 1.0  # 1 - opacity * a
    out = image.astype(np.float32)
    out *= weight[..., np.newaxis]
    premultiplied *= np.float32(opacity)
    out += premultiplied
    return out


def draw_mask(
    image: np.ndarray,
    mask_image: np.ndarray,
    opacity: float = 0.7,
    mask_blur: float = 0,
    flip_horizontal: bool = False,
) -> UInt8Array:
    """The image with an RGBA mask image drawn over it (BodyPix's ``drawMask``).

    ``out = image * (1 - opacity * a) + opacity * a * rgb`` per pixel, where ``rgb``/``a`` are
    the mask image's colour and alpha (0..1): opacity 0 gives the image, opacity 1 gives the
    mask colour wherever its alpha is 255.

    Args:
        image: uint8 (H, W, 3) RGB.
        mask_image: uint8 (H, W, 4) RGBA, e.g. from :func:`to_mask_image` or
            :func:`to_colored_part_image`.
        opacity: 0..1, how strongly the mask image is drawn.
        mask_blur: standard deviation in pixels of a Gaussian blur of the mask image before
            drawing (0 = none; blurred premultiplied by alpha, as a canvas does, so
            transparent pixels do not bleed black into the edges).
        flip_horizontal: mirror the result left-right (for a mirrored webcam view).

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError: wrong type or dtype of an argument.
        ValueError: wrong shape, ``mask_image`` of another size than ``image``, ``opacity``
            outside 0..1, negative ``mask_blur``.
    """
    image = _check_image(image)
    mask_image = _check_mask_image(mask_image, image)
    opacity = _check_real(opacity, "opacity", 0.0, 1.0)
    mask_blur = _check_real(mask_blur, "mask_blur", 0.0)
    flip_horizontal = _check_bool(flip_horizontal, "flip_horizontal")
    return _finish(_over(image, mask_image, opacity, mask_blur), flip_horizontal)


def draw_pixelated_mask(
    image: np.ndarray,
    mask_image: np.ndarray,
    opacity: float = 0.7,
    pixel_cell_width: int = 10,
    flip_horizontal: bool = False,
) -> UInt8Array:
    """Like :func:`draw_mask`, with the mask image pixelated (BodyPix's ``drawPixelatedMask``).

    The mask image is cut into square cells of ``pixel_cell_width`` pixels starting at the
    top-left corner (the last row/column of cells may be narrower); each cell takes the colour
    and alpha of its top-left pixel (a nearest-neighbour downscale by the cell width followed
    by a nearest-neighbour upscale, done by indexing so cells are exactly that wide), and the
    result is blended over the image as in :func:`draw_mask`. Unlike the original, no white
    grid lines are drawn between the cells.

    Args:
        image: uint8 (H, W, 3) RGB.
        mask_image: uint8 (H, W, 4) RGBA (typically :func:`to_colored_part_image`'s).
        opacity: 0..1, how strongly the mask image is drawn.
        pixel_cell_width: int >= 1, the side of a cell in pixels (1 = no pixelation).
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError: wrong type or dtype of an argument.
        ValueError: wrong shape, sizes differ, ``opacity`` outside 0..1,
            ``pixel_cell_width`` < 1.
    """
    image = _check_image(image)
    mask_image = _check_mask_image(mask_image, image)
    opacity = _check_real(opacity, "opacity", 0.0, 1.0)
    cell = _check_int(pixel_cell_width, "pixel_cell_width", 1)
    flip_horizontal = _check_bool(flip_horizontal, "flip_horizontal")
    height, width = image.shape[:2]
    rows = np.arange(height) // cell * cell
    cols = np.arange(width) // cell * cell
    packed = np.ascontiguousarray(mask_image).view(np.uint32)[..., 0]  # (H, W), one uint32 per pixel
    pixelated = _unpack_rgba(packed[rows[:, np.newaxis], cols[np.newaxis, :]])
    return _finish(_over(image, pixelated, opacity, 0.0), flip_horizontal)


def draw_bokeh_effect(
    image: np.ndarray,
    mask: np.ndarray,
    background_blur_amount: float = 3,
    edge_blur_amount: float = 3,
    flip_horizontal: bool = False,
) -> UInt8Array:
    """The image with its background blurred (BodyPix's ``drawBokehEffect``).

    ``blurred`` = the whole image blurred by a Gaussian of standard deviation
    ``background_blur_amount`` pixels; ``a`` = the mask blurred by ``edge_blur_amount`` (a
    feathered edge; 0 keeps the hard mask); ``out = image * a + blurred * (1 - a)``. With
    ``edge_blur_amount=0`` the person's pixels are exactly the input's.

    Args:
        image: uint8 (H, W, 3) RGB.
        mask: (H, W) person mask: bool/integer 0/1, or float 0..1 (a soft mask).
        background_blur_amount: >= 0, sigma in pixels of the background blur (0 = none).
        edge_blur_amount: >= 0, sigma in pixels of the mask's feathering (0 = hard edge).
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError: wrong type or dtype of an argument.
        ValueError: wrong shape, sizes differ, mask values out of range, negative or
            non-finite blur amounts.
    """
    image = _check_image(image)
    mask = _check_mask(mask, "mask", soft=True)
    _check_same_size(mask, "mask", image)
    background_sigma = _check_real(background_blur_amount, "background_blur_amount", 0.0)
    edge_sigma = _check_real(edge_blur_amount, "edge_blur_amount", 0.0)
    flip_horizontal = _check_bool(flip_horizontal, "flip_horizontal")
    blurred = _gaussian(image, background_sigma)
    return _finish(_blend(image, blurred, _alpha_from_mask(mask, edge_sigma)), flip_horizontal)


def blur_body_part(
    image: np.ndarray,
    parts: np.ndarray,
    part_ids: Iterable[int] = (0, 1),
    background_blur_amount: float = 3,
    edge_blur_amount: float = 3,
    flip_horizontal: bool = False,
) -> UInt8Array:
    """The image with chosen body parts blurred, e.g. faces for privacy (BodyPix's ``blurBodyPart``).

    The same blend as :func:`draw_bokeh_effect` with the roles swapped: ``a`` = the indicator
    of "``parts`` is one of ``part_ids``" blurred by ``edge_blur_amount``, ``out = blurred * a
    + image * (1 - a)``. Pixels further than :func:`blur_radius` (``edge_blur_amount``) from
    every chosen part's pixel are exactly the input's. Part ids 0 and 1 are the left and right
    face.

    Args:
        image: uint8 (H, W, 3) RGB.
        parts: (H, W) integer array of part ids -1..23.
        part_ids: the part ids 0..23 to blur (empty: nothing is blurred).
        background_blur_amount: >= 0, sigma in pixels of the blur of the parts.
        edge_blur_amount: >= 0, sigma in pixels of the feathering of their outline.
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError: wrong type or dtype of an argument.
        ValueError: wrong shape, sizes differ, part ids out of range, negative or non-finite
            blur amounts.
    """
    image = _check_image(image)
    parts = _check_parts(parts)
    _check_same_size(parts, "parts", image)
    ids = _check_part_ids(part_ids)
    background_sigma = _check_real(background_blur_amount, "background_blur_amount", 0.0)
    edge_sigma = _check_real(edge_blur_amount, "edge_blur_amount", 0.0)
    flip_horizontal = _check_bool(flip_horizontal, "flip_horizontal")
    chosen = np.isin(parts, ids)
    if not chosen.any():
        return _finish(image.copy(), flip_horizontal)
    blurred = _gaussian(image, background_sigma)
    return _finish(_blend(blurred, image, _alpha_from_mask(chosen, edge_sigma)), flip_horizontal)


def replace_background(
    image: np.ndarray,
    mask: np.ndarray,
    background: Color | np.ndarray,
    edge_blur_amount: float = 3,
    flip_horizontal: bool = False,
) -> UInt8Array:
    """The person cut out of the image and put on another background (a colour or an image).

    ``a`` = the mask blurred by ``edge_blur_amount``; ``out = image * a + background * (1 -
    a)``. An image background of another size is resized (stretched) to the frame's size
    with ``cv2.INTER_AREA`` when it shrinks in both directions, ``cv2.INTER_LINEAR``
    otherwise; crop it first to keep its aspect ratio.

    Args:
        image: uint8 (H, W, 3) RGB.
        mask: (H, W) person mask: bool/integer 0/1, or float 0..1 (a soft mask).
        background: an (r, g, b) colour of ints 0..255, or a uint8 (h, w, 3) RGB image.
        edge_blur_amount: >= 0, sigma in pixels of the mask's feathering (0 = hard edge).
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError: wrong type or dtype of an argument.
        ValueError: wrong shape, sizes differ (image/mask), mask or colour values out of
            range, negative or non-finite ``edge_blur_amount``.
    """
    image = _check_image(image)
    mask = _check_mask(mask, "mask", soft=True)
    _check_same_size(mask, "mask", image)
    height, width = image.shape[:2]
    if isinstance(background, np.ndarray) and background.ndim != 1:
        back = _check_image(background, "background")
        if back.shape[:2] != (height, width):
            shrink = back.shape[0] >= height and back.shape[1] >= width
            interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            resized = cv2.resize(np.ascontiguousarray(back), (width, height), interpolation=interpolation)
            back = np.asarray(resized, dtype=np.uint8).reshape(height, width, 3)
    else:
        color = _check_color(background, "background", 3)
        back = np.empty_like(image)
        back[...] = color
    edge_sigma = _check_real(edge_blur_amount, "edge_blur_amount", 0.0)
    flip_horizontal = _check_bool(flip_horizontal, "flip_horizontal")
    return _finish(_blend(image, back, _alpha_from_mask(mask, edge_sigma)), flip_horizontal)
