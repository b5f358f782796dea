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

Bounds: every blur amount (``background_blur_amount``, ``edge_blur_amount``, ``mask_blur``, the
``sigma`` of :func:`blur_radius`) is at most :data:`MAX_BLUR_AMOUNT` (100) pixels, and
``pixel_cell_width`` at most :data:`MAX_PIXEL_CELL_WIDTH` (65536); larger values raise
``ValueError``. A blur's cost grows with its amount (the kernel is 6 to 8 amounts wide), so an
unbounded amount could run for minutes or exhaust memory inside OpenCV; at the maximum a
1920x1080 frame takes seconds (the time grows with the image's area too; figures in
docs/reliability.md). The command line allows 0..20.

Masks: the person masks given to :func:`draw_bokeh_effect` and :func:`replace_background`
are what ``estimate_person_segmentation`` returns (integer or bool, values 0/1); a float
"soft" mask with values in 0..1 (e.g. temporally smoothed scores) is accepted too and used
directly as the blending weight. Feathered edges without a separate blur: pass
``soft_alpha(net.estimate_person_probability(image))`` (or ``result.probability`` of
``net.segment``) with ``edge_blur_amount=0``; the alpha then follows the network's own
confidence across the edge instead of a blur of uniform width.

Poses and people (BodyPix 2): :func:`draw_keypoints`, :func:`draw_skeleton` and
:func:`draw_poses` draw one or several poses (PoseNet's skeleton, :data:`POSE_SKELETON`), person
``i`` in colour ``i`` of :func:`person_colors`; :func:`to_colored_people_image` and
:func:`draw_people` colour each person's mask in the same colours::

    >>> from person_segmentation import bodypix
    >>> people = bodypix.load().segment_multi_person(image)             # doctest: +SKIP
    >>> out = render.draw_people(image, people)   # masks + skeletons   # doctest: +SKIP

Why one module (about 1000 lines): it is the port of the original's complete drawing API
(``toMaskImageData`` ... ``blurBodyPart``), the effects built only from it, and the pose and
people drawings of BodyPix 2 (PoseNet's ``drawKeypoints``/``drawSkeleton``), so a user finds
every drawing function in ``render``; the argument checks and palettes live elsewhere
(``_checks``, ``_palettes``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from person_segmentation import _checks
from person_segmentation._constants import (
    DEFAULT_FACE_BLUR,
    DEFAULT_MIN_KEYPOINT_SCORE,
    MAX_BLUR_AMOUNT,
    MAX_PEOPLE,
    MAX_PIXEL_CELL_WIDTH,
    NUM_PARTS,
    PERSON_COLORS,
    POSE_SKELETON,
)
from person_segmentation._palettes import PALETTES

__all__ = [
    "EFFECTS",
    "MAX_BLUR_AMOUNT",
    "MAX_PEOPLE",
    "MAX_PIXEL_CELL_WIDTH",
    "PALETTES",
    "PERSON_COLORS",
    "POSE_SKELETON",
    "Effect",
    "Renderer",
    "blur_body_part",
    "blur_radius",
    "cover",
    "draw_bokeh_effect",
    "draw_keypoints",
    "draw_mask",
    "draw_people",
    "draw_pixelated_mask",
    "draw_poses",
    "draw_skeleton",
    "person_colors",
    "replace_background",
    "soft_alpha",
    "to_colored_part_image",
    "to_colored_people_image",
    "to_mask_image",
]


Color = Sequence[int]
#: A palette name of :data:`PALETTES`, or a (24, 3) array of RGB colours.
PaletteName = Literal["rainbow", "warm"]
Palette = PaletteName | npt.ArrayLike
UInt8Array = npt.NDArray[np.uint8]


def _check_palette(palette: object) -> UInt8Array:
    if isinstance(palette, str):
        if palette not in PALETTES:
            raise ValueError(f"palette must be one of {sorted(PALETTES)} or a (24, 3) array, got {palette!r}")
        return PALETTES[palette]
    return _checks.check_palette_array(palette)


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------
def blur_radius(sigma: float, dtype: npt.DTypeLike = np.float32) -> int:
    """How far (in pixels) a blur of standard deviation ``sigma`` reaches: half the kernel size
    ``cv2.GaussianBlur(x, (0, 0), sigma)`` picks for arrays of that dtype (``round(2 * 3 *
    sigma + 1) | 1`` for uint8, ``round(2 * 4 * sigma + 1) | 1`` otherwise). A pixel further than
    that (in x or in y) from every changed pixel is not touched by the blur. 0 for sigma 0.
    ``sigma`` is a blur amount in 0..MAX_BLUR_AMOUNT (ValueError outside)."""
    sigma = _checks.check_blur_amount(sigma, "sigma")
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
    packed: np.uint32 = np.array(color, dtype=np.uint8).view(np.uint32)[0]
    return packed


def _unpack_rgba(packed: npt.NDArray[np.uint32]) -> UInt8Array:
    """(H, W) uint32 from :func:`_pack_rgba` -> uint8 (H, W, 4) RGBA (a view, no copy)."""
    return np.ascontiguousarray(packed).view(np.uint8).reshape(*packed.shape, 4)


# --------------------------------------------------------------------------------------------
# Mask and part images
# --------------------------------------------------------------------------------------------
def soft_alpha(probability: np.ndarray, threshold: float = 0.5, softness: float = 0.25) -> npt.NDArray[np.float32]:
    """A blending alpha (float32 (H, W) in 0..1) from a person probability: a linear ramp of
    width ``softness`` (in probability units) centred on ``threshold``,
    ``clip((probability - threshold) / softness + 0.5, 0, 1)``; ``softness=0`` gives the hard
    mask ``probability > threshold`` (as 0.0/1.0) exactly, ``softness=1`` a wide feather.
    Pass it as the ``mask`` of :func:`draw_bokeh_effect` or :func:`replace_background`
    (with ``edge_blur_amount=0``: the edge is feathered by the network's confidence itself).

    Args:
        probability: float (H, W) in [0, 1] (``estimate_person_probability``).
        threshold: the mask's threshold, in [0, 1] (alpha is 0.5 there).
        softness: the ramp's width, in [0, 1].
    Raises:
        TypeError, ValueError: a non-float or out-of-range probability, or bad numbers.
    """
    p = _checks.check_probability(probability)
    t = np.float32(_checks.check_threshold(threshold, "threshold"))
    width = _checks.check_softness(softness)
    if width == 0:
        hard: npt.NDArray[np.float32] = (p > t).astype(np.float32)
        return hard
    alpha: npt.NDArray[np.float32] = (p - t) * np.float32(1.0 / width) + np.float32(0.5)
    np.clip(alpha, 0.0, 1.0, out=alpha)
    return alpha


def to_mask_image(mask: np.ndarray, foreground: Color = (0, 0, 0, 0), background: Color = (0, 0, 0, 255)) -> UInt8Array:
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
    mask = _checks.check_mask(mask, "mask")
    fg = _pack_rgba(_checks.check_color(foreground, "foreground", 4))
    bg = _pack_rgba(_checks.check_color(background, "background", 4))
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
    parts = _checks.check_parts(parts)
    colors = _check_palette(palette)
    bg = _checks.check_color(background, "background", 3)
    bg_alpha = _checks.check_byte(background_alpha, "background_alpha")
    part_alpha = _checks.check_byte(alpha, "alpha")
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
    image: np.ndarray, mask_image: np.ndarray, opacity: float = 0.7, mask_blur: float = 0, flip_horizontal: bool = False
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
            transparent pixels do not bleed black into the edges); at most MAX_BLUR_AMOUNT (100).
        flip_horizontal: mirror the result left-right (for a mirrored webcam view).

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError: wrong type or dtype of an argument.
        ValueError: wrong shape, ``mask_image`` of another size than ``image``, ``opacity``
            outside 0..1, ``mask_blur`` outside 0..MAX_BLUR_AMOUNT (100).
    """
    image = _checks.check_image(image)
    mask_image = _checks.check_mask_image(mask_image, image)
    opacity = _checks.check_real(opacity, "opacity", 0.0, 1.0)
    mask_blur = _checks.check_blur_amount(mask_blur, "mask_blur")
    flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
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
        pixel_cell_width: int in 1..MAX_PIXEL_CELL_WIDTH (65536), the side of a cell in pixels
            (1 = no pixelation; a cell at least as wide as the image covers all of it).
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError: wrong type or dtype of an argument.
        ValueError: wrong shape, sizes differ, ``opacity`` outside 0..1,
            ``pixel_cell_width`` outside 1..MAX_PIXEL_CELL_WIDTH.
    """
    image = _checks.check_image(image)
    mask_image = _checks.check_mask_image(mask_image, image)
    opacity = _checks.check_real(opacity, "opacity", 0.0, 1.0)
    cell = _checks.check_pixel_cell_width(pixel_cell_width)
    flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
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
        background_blur_amount: 0..MAX_BLUR_AMOUNT (100), sigma in pixels of the background
            blur (0 = none).
        edge_blur_amount: 0..MAX_BLUR_AMOUNT (100), sigma in pixels of the mask's feathering
            (0 = hard edge).
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError: wrong type or dtype of an argument.
        ValueError: wrong shape, sizes differ, mask values out of range, blur amounts outside
            0..MAX_BLUR_AMOUNT (or NaN).
    """
    image = _checks.check_image(image)
    mask = _checks.check_mask(mask, "mask", soft=True)
    _checks.check_same_size(mask, "mask", image)
    background_sigma = _checks.check_blur_amount(background_blur_amount, "background_blur_amount")
    edge_sigma = _checks.check_blur_amount(edge_blur_amount, "edge_blur_amount")
    flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
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
        background_blur_amount: 0..MAX_BLUR_AMOUNT (100), sigma in pixels of the blur of the parts.
        edge_blur_amount: 0..MAX_BLUR_AMOUNT (100), sigma in pixels of the feathering of their
            outline.
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError: wrong type or dtype of an argument.
        ValueError: wrong shape, sizes differ, part ids out of range, blur amounts outside
            0..MAX_BLUR_AMOUNT (or NaN).
    """
    image = _checks.check_image(image)
    parts = _checks.check_parts(parts)
    _checks.check_same_size(parts, "parts", image)
    ids = _checks.check_part_ids(part_ids)
    background_sigma = _checks.check_blur_amount(background_blur_amount, "background_blur_amount")
    edge_sigma = _checks.check_blur_amount(edge_blur_amount, "edge_blur_amount")
    flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
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
        edge_blur_amount: 0..MAX_BLUR_AMOUNT (100), sigma in pixels of the mask's feathering
            (0 = hard edge).
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError: wrong type or dtype of an argument.
        ValueError: wrong shape, sizes differ (image/mask), mask or colour values out of
            range, ``edge_blur_amount`` outside 0..MAX_BLUR_AMOUNT (or NaN).
    """
    image = _checks.check_image(image)
    mask = _checks.check_mask(mask, "mask", soft=True)
    _checks.check_same_size(mask, "mask", image)
    edge_sigma = _checks.check_blur_amount(edge_blur_amount, "edge_blur_amount")
    flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
    height, width = image.shape[:2]
    if isinstance(background, np.ndarray) and background.ndim != 1:
        back = _checks.check_image(background, "background")
        if back.shape[:2] != (height, width):
            shrink = back.shape[0] >= height and back.shape[1] >= width
            interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            resized = cv2.resize(np.ascontiguousarray(back), (width, height), interpolation=interpolation)
            back = np.asarray(resized, dtype=np.uint8).reshape(height, width, 3)
    else:
        color = _checks.check_color(background, "background", 3)
        back = np.empty_like(image)
        back[...] = color
    return _finish(_blend(image, back, _alpha_from_mask(mask, edge_sigma)), flip_horizontal)


# --------------------------------------------------------------------------------------------
# Effects: what the command line (and the webcam) draw on every frame
# --------------------------------------------------------------------------------------------
#: The effects by name, as the command line's ``--effect`` spells them.
EFFECTS = ("mask", "parts", "bokeh", "blur-faces", "replace=IMG", "replace=#RRGGBB")
EffectName = Literal["mask", "parts", "bokeh", "blur-faces", "replace"]


@dataclass(frozen=True)
class Effect:
    """An effect drawn over a frame (a frozen dataclass).

    Attributes:
        name: "mask", "parts", "bokeh", "blur-faces" or "replace".
        color: the RGB background of ``replace=#RRGGBB``.
        image: the background image file of ``replace=IMG``.
    """

    name: EffectName
    color: tuple[int, int, int] | None = None
    image: Path | None = None

    @property
    def needs_parts(self) -> bool:
        return self.name in ("parts", "blur-faces")

    @property
    def label(self) -> str:
        """The part of output file names that says what was rendered."""
        return {"mask": "mask-overlay", "parts": "parts-overlay", "replace": "replaced"}.get(self.name, self.name)

    @classmethod
    def parse(cls, text: str) -> Effect:
        """An effect from its spelling (``"bokeh"``, ``"replace=#00b140"``, ``"replace=beach.jpg"``).

        Raises:
            TypeError: ``text`` is not a str.
            ValueError: an unknown effect, a malformed colour or a missing background file.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str such as 'bokeh' or 'replace=#00b140', got {text!r}")
        simple: dict[str, EffectName] = {"mask": "mask", "parts": "parts", "bokeh": "bokeh", "blur-faces": "blur-faces"}
        if text in simple:
            return cls(simple[text])
        if text.startswith("replace="):
            value = text[len("replace=") :]
            if re.fullmatch(r"#[0-9a-fA-F]{6}", value):
                return cls("replace", color=(int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)))
            if value.startswith("#"):
                raise ValueError(f"replace=#RRGGBB needs six hex digits, got {value!r}")
            if not value:
                raise ValueError("replace= needs an image file or a #RRGGBB colour")
            if not Path(value).is_file():
                raise ValueError(f"background image not found: {value!r}")
            return cls("replace", image=Path(value))
        raise ValueError(f"unknown effect {text!r}; choose from {', '.join(EFFECTS)}")


def cover(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scale ``image`` to cover (height, width) keeping its aspect ratio, centre-cropped.

    The image is scaled whole and then cropped, except where that scaled copy would exceed
    four times the output's area (a background much wider or taller than the frame): then the
    part that is kept is cropped first and scaled alone, so memory stays bounded by the output.

    Args:
        image: uint8 (h, w, 3) RGB.
        height, width: the output's size, ints in 1..MAX_IMAGE_SIDE.

    Returns:
        uint8 (height, width, 3) RGB.

    Raises:
        TypeError: ``image`` is not a uint8 array, or a side is not an int.
        ValueError: ``image`` is not (h, w, 3), or a side is outside 1..MAX_IMAGE_SIDE.
    """
    image = _checks.check_image(image)
    height = _checks.check_size_side(height, "height")
    width = _checks.check_size_side(width, "width")
    h, w = image.shape[:2]
    scale = max(height / h, width / w)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    new_h, new_w = max(height, round(h * scale)), max(width, round(w * scale))
    if new_h * new_w > 4 * height * width:  # crop the kept part first, then scale only it
        keep_h, keep_w = min(h, max(1, round(height / scale))), min(w, max(1, round(width / scale)))
        top, left = (h - keep_h) // 2, (w - keep_w) // 2
        kept = np.ascontiguousarray(image[top : top + keep_h, left : left + keep_w])
        return np.asarray(cv2.resize(kept, (width, height), interpolation=interpolation)).reshape(height, width, 3)
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    top, left = (new_h - height) // 2, (new_w - width) // 2
    return np.ascontiguousarray(resized[top : top + height, left : left + width])


class Renderer:
    """Turns (frame, mask, parts) into the RGB frame an effect (or no effect) asks for.

    The options are checked here, as the drawing functions check them: ``opacity`` in 0..1,
    ``background_blur``, ``face_blur`` and ``edge_blur`` in 0..MAX_BLUR_AMOUNT.
    ``background_blur`` is the blur of ``bokeh``; ``face_blur`` (default
    ``DEFAULT_FACE_BLUR``, 15 px) the blur of ``blur-faces``, strong enough that a face 100-300
    px tall is no longer recognisable (BodyPix's 3 px default of :func:`blur_body_part` only
    softens it; raise it for larger faces).

    Raises:
        TypeError: an option of the wrong type.
        ValueError: an option out of range, or the background image of ``replace=IMG``
            cannot be read.
    """

    def __init__(
        self,
        effect: Effect | None,
        *,
        palette: PaletteName = "rainbow",
        opacity: float = 0.7,
        background_blur: float = 3,
        edge_blur: float = 3,
        mirror: bool = False,
        face_blur: float = DEFAULT_FACE_BLUR,
    ) -> None:
        from person_segmentation._image import read_image

        if effect is not None and not isinstance(effect, Effect):
            raise TypeError(f"effect must be None or an Effect, got {type(effect).__name__}")
        if not isinstance(palette, str) or palette not in PALETTES:
            raise ValueError(f"palette must be one of {sorted(PALETTES)}, got {palette!r}")
        self.effect = effect
        self.palette: PaletteName = palette
        self.opacity = _checks.check_real(opacity, "opacity", 0.0, 1.0)
        self.background_blur = _checks.check_blur_amount(background_blur, "background_blur")
        self.edge_blur = _checks.check_blur_amount(edge_blur, "edge_blur")
        self.face_blur = _checks.check_blur_amount(face_blur, "face_blur")
        self.mirror = _checks.check_bool(mirror, "mirror")
        self._background = None
        if effect is not None and effect.image is not None:
            try:
                self._background = read_image(effect.image)
            except (ValueError, OSError) as exc:
                raise ValueError(f"cannot read the replacement background: {exc}") from exc
        self._covered: dict[tuple[int, int], np.ndarray] = {}

    @property
    def needs_parts(self) -> bool:
        return self.effect.needs_parts if self.effect is not None else False

    def _background_for(self, height: int, width: int) -> np.ndarray | tuple[int, int, int]:
        if self._background is None:
            assert self.effect is not None and self.effect.color is not None
            return self.effect.color
        if (height, width) not in self._covered:
            self._covered[(height, width)] = cover(self._background, height, width)
        return self._covered[(height, width)]

    def __call__(
        self, frame: np.ndarray, mask: np.ndarray, parts: np.ndarray | None, *, raw_parts: bool = False
    ) -> np.ndarray:
        """RGB uint8 (H, W, 3). Without an effect: the mask as white on black, or (``raw_parts``)
        the parts in the palette's colours on black."""
        flip = self.mirror
        effect = self.effect
        if effect is None:
            if raw_parts:
                assert parts is not None
                out = to_colored_part_image(parts, palette=self.palette)[:, :, :3]
            else:
                out = np.repeat((mask * 255).astype(np.uint8)[:, :, np.newaxis], 3, axis=2)
            return np.ascontiguousarray(out[:, ::-1] if flip else out)
        if effect.name == "mask":
            return np.asarray(draw_mask(frame, to_mask_image(mask), opacity=self.opacity, flip_horizontal=flip))
        if effect.name == "parts":
            assert parts is not None
            colored = to_colored_part_image(parts, palette=self.palette)
            return np.asarray(draw_mask(frame, colored, opacity=self.opacity, flip_horizontal=flip))
        if effect.name == "bokeh":
            return np.asarray(
                draw_bokeh_effect(
                    frame,
                    mask,
                    background_blur_amount=self.background_blur,
                    edge_blur_amount=self.edge_blur,
                    flip_horizontal=flip,
                )
            )
        if effect.name == "blur-faces":
            assert parts is not None
            return np.asarray(
                blur_body_part(
                    frame,
                    parts,
                    part_ids=(0, 1),
                    background_blur_amount=self.face_blur,
                    edge_blur_amount=self.edge_blur,
                    flip_horizontal=flip,
                )
            )
        if effect.name == "replace":
            background = self._background_for(frame.shape[0], frame.shape[1])
            return np.asarray(
                replace_background(frame, mask, background, edge_blur_amount=self.edge_blur, flip_horizontal=flip)
            )
        raise AssertionError(effect)  # pragma: no cover


# --------------------------------------------------------------------------------------------
# Poses and people (BodyPix 2, issue 13)
# --------------------------------------------------------------------------------------------
def person_colors(count: int) -> UInt8Array:
    """``count`` distinct RGB colours, one per person: person ``i`` always gets colour ``i``.

    The first nine are :data:`PERSON_COLORS` (d3's category10 without its grey); the next ones
    walk the hue circle by the golden angle (saturation 0.85, value 0.95), so that neighbours in
    the list stay far apart.

    Args:
        count: the number of people, an int in 0..MAX_PEOPLE (1000).

    Returns:
        uint8 (count, 3).

    Raises:
        TypeError: ``count`` is not an int.
        ValueError: ``count`` is outside 0..MAX_PEOPLE.
    """
    count = _checks.check_int(count, "count", 0, MAX_PEOPLE)
    table = np.zeros((count, 3), dtype=np.uint8)
    fixed = min(count, len(PERSON_COLORS))
    table[:fixed] = np.array(PERSON_COLORS, dtype=np.uint8).reshape(-1, 3)[:fixed]
    if count > fixed:
        golden = (np.sqrt(5.0) - 1.0) / 2.0
        hue = (np.arange(fixed, count) * golden) % 1.0
        hsv = np.stack([hue * 180.0, np.full_like(hue, 0.85 * 255), np.full_like(hue, 0.95 * 255)], axis=-1)
        rgb = cv2.cvtColor(np.floor(hsv + 0.5).astype(np.uint8)[np.newaxis], cv2.COLOR_HSV2RGB)
        table[fixed:] = np.asarray(rgb, dtype=np.uint8).reshape(-1, 3)
    return table


def _colors_for(colors: object, count: int) -> UInt8Array:
    return person_colors(count) if colors is None else _checks.check_person_colors(colors, count)


#: Coordinates are clamped to this many pixels beyond the image before drawing (far outside, a
#: point is invisible anyway; OpenCV takes 32-bit integer coordinates).
_DRAW_MARGIN = 1 << 20


def _pixel(y: float, x: float) -> tuple[int, int]:
    """(x, y) as OpenCV's integer point: rounded to the nearest pixel (halves up), clamped."""
    return (
        int(np.clip(np.floor(x + 0.5), -_DRAW_MARGIN, _DRAW_MARGIN)),
        int(np.clip(np.floor(y + 0.5), -_DRAW_MARGIN, _DRAW_MARGIN)),
    )


def _drawable(keypoint: npt.NDArray[np.float64], min_score: float) -> bool:
    """A keypoint [y, x, score] is drawn when its position is finite and its score >= min_score
    (a NaN score never is)."""
    return bool(np.isfinite(keypoint[0]) and np.isfinite(keypoint[1]) and keypoint[2] >= min_score)


def _pose_options(
    image: object, poses: object, min_score: object, min_pose_score: object, colors: object
) -> tuple[UInt8Array, npt.NDArray[np.float64], UInt8Array, float]:
    """Checked (image copy, keypoints of the poses kept, their colours, min_score)."""
    checked = _checks.check_image(image)
    keypoints, scores = _checks.check_poses(poses)
    min_score = _checks.check_interval(min_score, "min_score")
    min_pose_score = _checks.check_interval(min_pose_score, "min_pose_score")
    table = _colors_for(colors, len(keypoints))
    kept = scores >= min_pose_score
    return np.array(checked, copy=True, order="C"), keypoints[kept], table[kept], min_score


def _draw_skeleton(out: UInt8Array, keypoints: np.ndarray, colors: UInt8Array, min_score: float, width: int) -> None:
    for pose, color in zip(keypoints, colors, strict=True):
        rgb = tuple(int(c) for c in color)
        for a, b in POSE_SKELETON:
            if _drawable(pose[a], min_score) and _drawable(pose[b], min_score):
                cv2.line(out, _pixel(pose[a][0], pose[a][1]), _pixel(pose[b][0], pose[b][1]), rgb, width, cv2.LINE_8)


def _draw_keypoints(out: UInt8Array, keypoints: np.ndarray, colors: UInt8Array, min_score: float, radius: int) -> None:
    for pose, color in zip(keypoints, colors, strict=True):
        rgb = tuple(int(c) for c in color)
        for keypoint in pose:
            if _drawable(keypoint, min_score):
                cv2.circle(out, _pixel(keypoint[0], keypoint[1]), radius, rgb, cv2.FILLED, cv2.LINE_8)


def draw_keypoints(
    image: np.ndarray,
    poses: object,
    *,
    min_score: float = DEFAULT_MIN_KEYPOINT_SCORE,
    min_pose_score: float = 0.0,
    colors: object = None,
    radius: int = 3,
    flip_horizontal: bool = False,
) -> UInt8Array:
    """The image with the keypoints of one or several poses drawn as filled dots.

    Pose ``i`` is drawn in colour ``i`` (:func:`person_colors` by default, the colours of
    :func:`to_colored_people_image` for the same people). A keypoint is drawn when its score is
    at least ``min_score`` and its position is finite; points outside the image are clipped.
    Positions are rounded to the nearest pixel (halves up).

    Args:
        image: uint8 (H, W, 3) RGB.
        poses: one pose or a sequence of them: ``bodypix.Pose`` objects (or anything with
            ``.score`` and 17 ``.keypoints`` having ``.x``, ``.y``, ``.score``), people of
            ``segment_multi_person*`` (their ``.pose``), or float [y, x, score] arrays of shape
            (17, 3) or (n, 17, 3) in image pixels (``_core.bodypix_decode_poses``' layout).
            At most MAX_PEOPLE (1000).
        min_score: keypoints with a lower score are not drawn, in [0, 1].
        min_pose_score: poses with a lower pose score are not drawn (their colour stays
            theirs), in [0, 1]; poses given as arrays have no pose score and are always drawn.
        colors: None (:func:`person_colors`) or one (r, g, b) colour per pose (a sequence or an
            (n, 3) integer array, ints 0..255).
        radius: the dots' radius in pixels, 1..MAX_POSE_LINE_WIDTH (256).
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB (a new array; ``image`` is not modified).

    Raises:
        TypeError: wrong type of an argument (e.g. a pose without keypoints).
        ValueError: wrong shape, a pose without 17 keypoints, a score threshold outside [0, 1],
            fewer colours than poses, a colour outside 0..255, ``radius`` out of range.
    """
    out, keypoints, table, min_score = _pose_options(image, poses, min_score, min_pose_score, colors)
    radius = _checks.check_line_width(radius, "radius")
    flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
    _draw_keypoints(out, keypoints, table, min_score, radius)
    return _finish(out, flip_horizontal)


def draw_skeleton(
    image: np.ndarray,
    poses: object,
    *,
    min_score: float = DEFAULT_MIN_KEYPOINT_SCORE,
    min_pose_score: float = 0.0,
    colors: object = None,
    thickness: int = 2,
    flip_horizontal: bool = False,
) -> UInt8Array:
    """The image with the skeleton of one or several poses drawn as lines.

    The bones are :data:`POSE_SKELETON`, PoseNet's and BodyPix 2's connected keypoint pairs
    (shoulders, elbows, wrists, hips, knees, ankles; the face has no bones). A bone is drawn
    when both its keypoints have a score of at least ``min_score`` and finite positions (as
    BodyPix's ``getAdjacentKeyPoints``). Pose ``i`` is drawn in colour ``i``.

    Args:
        image: uint8 (H, W, 3) RGB.
        poses: as :func:`draw_keypoints`.
        min_score: bones with an end scoring lower are not drawn, in [0, 1].
        min_pose_score: as :func:`draw_keypoints`.
        colors: as :func:`draw_keypoints`.
        thickness: the lines' width in pixels, 1..MAX_POSE_LINE_WIDTH (256).
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB (a new array).

    Raises:
        TypeError, ValueError: as :func:`draw_keypoints` (``thickness`` for ``radius``).
    """
    out, keypoints, table, min_score = _pose_options(image, poses, min_score, min_pose_score, colors)
    thickness = _checks.check_line_width(thickness, "thickness")
    flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
    _draw_skeleton(out, keypoints, table, min_score, thickness)
    return _finish(out, flip_horizontal)


def draw_poses(
    image: np.ndarray,
    poses: object,
    *,
    min_score: float = DEFAULT_MIN_KEYPOINT_SCORE,
    min_pose_score: float = 0.0,
    colors: object = None,
    radius: int = 3,
    thickness: int = 2,
    flip_horizontal: bool = False,
) -> UInt8Array:
    """The image with each pose's skeleton and then its keypoints drawn (both of
    :func:`draw_skeleton` and :func:`draw_keypoints`, the dots on top), pose ``i`` in colour ``i``.

    Args and Raises: as :func:`draw_keypoints` and :func:`draw_skeleton`.

    Returns:
        uint8 (H, W, 3) RGB (a new array).
    """
    out, keypoints, table, min_score = _pose_options(image, poses, min_score, min_pose_score, colors)
    radius = _checks.check_line_width(radius, "radius")
    thickness = _checks.check_line_width(thickness, "thickness")
    flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
    _draw_skeleton(out, keypoints, table, min_score, thickness)
    _draw_keypoints(out, keypoints, table, min_score, radius)
    return _finish(out, flip_horizontal)


def to_colored_people_image(
    people: object,
    height: int,
    width: int,
    *,
    colors: object = None,
    background: Color = (0, 0, 0),
    background_alpha: int = 0,
    alpha: int = 255,
) -> UInt8Array:
    """An RGBA image of several people's masks, person ``i`` in colour ``i``.

    Where masks overlap (BodyPix 2's never do) the later person wins. Draw it over the photo
    with :func:`draw_mask`; :func:`draw_people` does both, with the poses.

    Args:
        people: an (n, H, W) array of 0/1 masks, or a sequence of (H, W) 0/1 masks or of people
            of ``segment_multi_person`` (their ``.mask``) / ``segment_multi_person_parts``
            (``.parts >= 0``); at most MAX_PEOPLE (1000).
        height, width: the image's size (each mask must have it), ints in 1..MAX_IMAGE_SIDE.
        colors: None (:func:`person_colors`) or one (r, g, b) colour per person.
        background: (r, g, b) ints 0..255 where there is nobody.
        background_alpha: alpha 0..255 where there is nobody (0: transparent).
        alpha: alpha 0..255 of the people's colours.

    Returns:
        uint8 (H, W, 4) RGBA.

    Raises:
        TypeError: wrong type of an argument.
        ValueError: a mask of another size or not 0/1, fewer colours than people, a colour or
            alpha outside 0..255, a side out of range.
    """
    height = _checks.check_size_side(height, "height")
    width = _checks.check_size_side(width, "width")
    shape_of = np.empty((height, width, 0), dtype=np.uint8)  # only its shape is read
    masks = _checks.check_people_masks(people, shape_of)
    table = _colors_for(colors, len(masks))
    bg = _checks.check_color(background, "background", 3)
    bg_alpha = _checks.check_byte(background_alpha, "background_alpha")
    person_alpha = _checks.check_byte(alpha, "alpha")
    index = np.full((height, width), len(masks), dtype=np.intp)  # len(masks) = nobody
    for i, mask in enumerate(masks):
        index[mask] = i
    rgba = np.empty((len(masks) + 1, 4), dtype=np.uint8)
    rgba[: len(masks), :3] = table
    rgba[: len(masks), 3] = person_alpha
    rgba[len(masks)] = (*bg, bg_alpha)
    return _unpack_rgba(rgba.view(np.uint32)[:, 0][index])


def draw_people(
    image: np.ndarray,
    people: object,
    *,
    poses: object = None,
    colors: object = None,
    opacity: float = 0.7,
    min_score: float = DEFAULT_MIN_KEYPOINT_SCORE,
    radius: int = 3,
    thickness: int = 2,
    outline: Color | None = (255, 255, 255),
    flip_horizontal: bool = False,
) -> UInt8Array:
    """The image with each person's mask drawn over it in a colour of its own, and each
    person's pose skeleton and keypoints on top in the same colour (outlined, so that they
    stand out from the person's mask).

    Args:
        image: uint8 (H, W, 3) RGB.
        people: as :func:`to_colored_people_image` (masks, or the people that
            ``segment_multi_person*`` returns).
        poses: the poses to draw, one per person, as :func:`draw_keypoints` takes them; None:
            the people's own ``.pose`` where every person has one, else no poses. Pass ``[]`` to
            draw the masks only.
        colors: None (:func:`person_colors`) or one (r, g, b) colour per person.
        opacity: 0..1, how strongly the masks' colours are drawn (as :func:`draw_mask`).
        min_score, radius, thickness: as :func:`draw_poses`.
        outline: an (r, g, b) colour drawn one pixel around the skeletons and keypoints
            (default white), or None for none.
        flip_horizontal: mirror the result left-right.

    Returns:
        uint8 (H, W, 3) RGB.

    Raises:
        TypeError, ValueError: as :func:`to_colored_people_image`, :func:`draw_mask` and
            :func:`draw_poses`; also when ``poses`` holds more poses than there are people.
    """
    image = _checks.check_image(image)
    masks = _checks.check_people_masks(people, image)
    table = _colors_for(colors, len(masks))
    opacity = _checks.check_real(opacity, "opacity", 0.0, 1.0)
    flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
    edge = None if outline is None else _checks.check_color(outline, "outline", 3)
    radius = _checks.check_line_width(radius, "radius")
    thickness = _checks.check_line_width(thickness, "thickness")
    min_score = _checks.check_interval(min_score, "min_score")
    if poses is None:
        own = [getattr(p, "pose", None) for p in people] if isinstance(people, Sequence) else []
        poses = own if own and all(p is not None for p in own) else []
    keypoints, _ = _checks.check_poses(poses)
    if len(keypoints) > len(masks):
        raise ValueError(f"poses must hold at most one pose per person ({len(masks)}), got {len(keypoints)}")
    overlay = to_colored_people_image(masks, image.shape[0], image.shape[1], colors=table)
    out = np.asarray(draw_mask(image, overlay, opacity=opacity))
    if len(keypoints):
        out = np.array(out, copy=True, order="C")
        if edge is not None:  # the same drawing one pixel wider in the outline colour, underneath
            under = np.array([edge] * len(keypoints), dtype=np.uint8).reshape(-1, 3)
            _draw_skeleton(out, keypoints, under, min_score, thickness + 2)
            _draw_keypoints(out, keypoints, under, min_score, radius + 1)
        _draw_skeleton(out, keypoints, table[: len(keypoints)], min_score, thickness)
        _draw_keypoints(out, keypoints, table[: len(keypoints)], min_score, radius)
    return _finish(out, flip_horizontal)
