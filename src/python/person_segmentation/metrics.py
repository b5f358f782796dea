"""Accuracy of person masks against ground truth: person IoU and the boundary F-score.

    >>> import numpy as np
    >>> from person_segmentation import metrics
    >>> truth = np.zeros((4, 4), np.uint8); truth[1:3, 1:3] = 1
    >>> metrics.person_iou(truth, truth)
    1.0

Ground truth comes in many encodings; :func:`read_ground_truth` turns each into a
:class:`GroundTruth`: a boolean person mask and a boolean ``valid`` map (False on void
pixels, which every metric ignores). The encodings (``GT_ENCODINGS``) are those of
``golden2/index.json``'s ``gt_encoding`` field:

* ``"binary255"``: an 8-bit grey PNG with 0 = background and 255 = person (also 0/1); any
  non-zero value is a person.
* ``"voc"``: a PASCAL VOC palette PNG of class ids: person = 15, 255 = void (ignored), every
  other id background.
* ``"alpha"``: an RGBA (or LA) matte: person where alpha >= 128.
* ``"parsing"``: a CIHP / LIP human-parsing label PNG: any label > 0 is a person.
* ``"auto"``: guessed from the file: palette (``P``) images are VOC; images with alpha are
  mattes; grey images whose values are only {0, 255} or {0, 1} are binary; other grey
  images are parsing labels.

Person IoU: ``|P & G| / |P | G|`` over the valid pixels (1.0 when both are empty).

Boundary F-score (the DAVIS boundary measure F of Perazzi et al., CVPR 2016, as in the DAVIS
benchmark's ``db_eval_boundary``): the boundary of each mask is its one-pixel-wide outline (a pixel
of the mask with a 4-neighbour outside it, or on the image border); a predicted boundary pixel
is correct when a ground-truth boundary pixel lies within ``tolerance`` pixels (Euclidean
distance; a disc), and vice versa. Precision = correct predicted boundary pixels / predicted
boundary pixels, recall = matched ground-truth boundary pixels / ground-truth boundary pixels,
F = 2PR / (P + R). The tolerance is ``BOUNDARY_TOLERANCE`` (0.008) of the image diagonal,
rounded up to whole pixels (at least 1), DAVIS' default bound_th. Boundary pixels that are
void in the ground truth are left out of both counts (the 255 band VOC draws along every
object's outline is void: there the predicted boundary is not judged). Conventions for empty
boundaries: both empty -> F = 1; one empty -> F = 0. The Berkeley (BSDS) benchmark matches
boundaries one to one (a bipartite matching); DAVIS and this module use the distance rule
(every boundary pixel within the tolerance of the other boundary counts), which is what
the DAVIS code's dilation-based ``f_measure`` computes, too (a disc of ``x^2 + y^2 <= r^2``,
as scikit-image's ``disk``). DAVIS' ``seg2bmap`` marks the pixel on one side of each label change; this
module marks the inner side (pixels of the mask), which differs by at most one pixel.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Literal, cast

import cv2
import numpy as np
import numpy.typing as npt

from person_segmentation import _checks, _image
from person_segmentation._constants import (
    BOUNDARY_TOLERANCE,
    GT_ALPHA_THRESHOLD,
    GT_ENCODINGS,
    GT_VOC_PERSON,
    GT_VOC_VOID,
)

__all__ = [
    "BOUNDARY_TOLERANCE",
    "GT_ENCODINGS",
    "BoundaryScore",
    "GroundTruth",
    "MaskScore",
    "boundary_f_score",
    "boundary_tolerance_pixels",
    "ground_truth_from_array",
    "mask_boundary",
    "person_iou",
    "read_ground_truth",
    "score_mask",
]

GtEncoding = Literal["auto", "binary255", "voc", "alpha", "parsing"]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class GroundTruth:
    """A ground-truth person mask.

    Attributes:
        person: bool (H, W), True on person pixels.
        valid: bool (H, W), False on void pixels (ignored by every metric).
        encoding: the encoding it was read with (never ``"auto"``).
    """

    person: BoolArray
    valid: BoolArray
    encoding: str


@dataclass(frozen=True)
class BoundaryScore:
    """The boundary F-score of one mask and its parts.

    Attributes:
        f: 2 * precision * recall / (precision + recall) (1.0 when both boundaries are empty).
        precision: the fraction of predicted boundary pixels near a ground-truth boundary.
        recall: the fraction of ground-truth boundary pixels near a predicted boundary.
        tolerance: the matching distance in pixels.
    """

    f: float
    precision: float
    recall: float
    tolerance: int


@dataclass(frozen=True)
class MaskScore:
    """Person IoU and boundary F-score of one predicted mask (see :func:`score_mask`)."""

    iou: float
    boundary: BoundaryScore


def _as_bool(value: object, name: str) -> BoolArray:
    array = _checks.check_mask(value, name, soft=False)
    return np.asarray(array != 0, dtype=np.bool_)


def _masks(predicted: object, truth: object, valid: object) -> tuple[BoolArray, BoolArray, BoolArray]:
    """``(predicted, truth, valid)`` checked as bool (H, W) masks of one shape (``valid``
    None: everywhere)."""
    p = _as_bool(predicted, "predicted")
    t = _as_bool(truth, "truth")
    _checks.check_same_shape(p, "predicted", t.shape, "truth")
    if valid is None:
        return p, t, np.ones(t.shape, dtype=np.bool_)
    v = _as_bool(valid, "valid")
    _checks.check_same_shape(v, "valid", t.shape, "truth")
    return p, t, v


def ground_truth_from_array(array: object, encoding: GtEncoding = "auto", *, mode: str | None = None) -> GroundTruth:
    """A :class:`GroundTruth` from decoded label values.

    Args:
        array: uint8 (H, W) labels / grey values, or (H, W, 4) / (H, W, 2) with alpha last
            (mattes); (H, W, 3) colour is refused (a VOC palette PNG must be read as its
            indices: Pillow's mode ``P``, which :func:`read_ground_truth` does).
        encoding: one of ``GT_ENCODINGS`` (see the module's docstring).
        mode: the Pillow mode it came from (only used by ``"auto"``: ``"P"`` means VOC).
    Raises:
        TypeError: not an integer array.
        ValueError: a shape the encoding cannot read, an unknown encoding, or (``"auto"``)
            values that fit no encoding.
    """
    chosen = _checks.check_choice(encoding, "encoding", GT_ENCODINGS)
    values = _checks.check_label_array(array, "array")
    if chosen == "auto":
        chosen = _guess_encoding(values, mode)
    if chosen == "alpha":
        if values.ndim != 3 or values.shape[2] not in (2, 4):
            raise ValueError(f"an 'alpha' matte must have shape (H, W, 4) or (H, W, 2), got shape {values.shape}")
        alpha = values[..., -1]
        return GroundTruth(alpha >= GT_ALPHA_THRESHOLD, np.ones(alpha.shape, np.bool_), "alpha")
    if values.ndim != 2:
        raise ValueError(f"a {chosen!r} ground truth must have shape (H, W), got shape {values.shape}")
    if chosen == "voc":
        return GroundTruth(values == GT_VOC_PERSON, values != GT_VOC_VOID, "voc")
    return GroundTruth(values != 0, np.ones(values.shape, np.bool_), chosen)


def _guess_encoding(values: np.ndarray, mode: str | None) -> str:
    if mode == "P":
        return "voc"
    if values.ndim == 3:
        if values.shape[2] in (2, 4):
            return "alpha"
        raise ValueError(
            f"cannot guess the encoding of a ground truth of shape {values.shape} (mode {mode!r}): colour images "
            "are not a ground-truth encoding; pass encoding="
        )
    present = set(np.unique(values).tolist())
    if present <= {0, 255} or present <= {0, 1}:
        return "binary255"
    return "parsing"


def read_ground_truth(path: str | os.PathLike[str], encoding: GtEncoding = "auto") -> GroundTruth:
    """Read a ground-truth PNG (or any image file Pillow reads) as a :class:`GroundTruth`.

    Palette images are read as their indices (not their colours); ``"alpha"`` keeps the alpha
    channel; other encodings read the image as 8-bit grey values (``L``) when it is not one
    already (a 1-bit mask becomes 0/255).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a regular file (a FIFO, device, directory...), not an image, or values
            that fit no encoding (see :func:`ground_truth_from_array`).
    """
    import PIL.Image

    name = _checks.check_file_path(path)
    chosen = _checks.check_choice(encoding, "encoding", GT_ENCODINGS)
    try:
        with _image.open_regular_file(name, "ground-truth file") as file, PIL.Image.open(file) as image:
            image.load()
            mode = image.mode
            has_alpha = "A" in mode or (mode != "P" and "transparency" in image.info)
            if chosen == "alpha" or (chosen == "auto" and has_alpha):
                array, mode = np.asarray(image.convert("RGBA")), "RGBA"
            elif mode in ("P", "L"):  # palette images as their indices
                array = np.asarray(image)
            elif mode.startswith("I"):  # 16/32-bit labels as they are
                array, mode = np.asarray(image).astype(np.int64), "I"
            else:  # 1-bit (0/255), RGB...
                array, mode = np.asarray(image.convert("L")), "L"
    except PIL.UnidentifiedImageError as exc:
        raise ValueError(f"{name!r} is not an image file Pillow can read: {exc}") from None
    return ground_truth_from_array(array, cast(GtEncoding, chosen), mode=mode)


def person_iou(predicted: object, truth: object, valid: object = None) -> float:
    """Intersection over union of two (H, W) person masks (0/1 or bool) over the pixels where
    ``valid`` (default: everywhere); 1.0 when both masks are empty there.

    Raises:
        TypeError, ValueError: not (H, W) 0/1 masks, or sizes that differ.
    """
    p, t, v = _masks(predicted, truth, valid)
    union = int(np.count_nonzero((p | t) & v))
    if union == 0:
        return 1.0
    return int(np.count_nonzero(p & t & v)) / union


def boundary_tolerance_pixels(height: int, width: int, fraction: float = BOUNDARY_TOLERANCE) -> int:
    """The boundary matching distance for an image: ``ceil(fraction * diagonal)``, at least 1."""
    h = _checks.check_size_side(height, "height")
    w = _checks.check_size_side(width, "width")
    f = _checks.check_boundary_fraction(fraction)
    return max(1, math.ceil(f * math.hypot(h, w)))


def mask_boundary(mask: object) -> BoolArray:
    """The one-pixel-wide inner boundary of an (H, W) mask: its pixels with a 4-neighbour
    outside the mask; pixels on the image border count as boundary (the outside of the image
    is background, as in DAVIS' seg2bmap)."""
    m = _as_bool(mask, "mask").astype(np.uint8)
    eroded = cv2.erode(
        m, np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0
    )
    return np.asarray((m != 0) & (eroded == 0), dtype=np.bool_)


def _near(boundary: BoolArray, tolerance: int) -> BoolArray:
    """Pixels within ``tolerance`` (Euclidean) of a boundary pixel: dilation by a disc."""
    offsets = np.arange(-tolerance, tolerance + 1)
    disc = (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= tolerance * tolerance).astype(np.uint8)
    return np.asarray(cv2.dilate(boundary.astype(np.uint8), disc) != 0, dtype=np.bool_)


def boundary_f_score(
    predicted: object, truth: object, valid: object = None, *, tolerance: int | None = None
) -> BoundaryScore:
    """The boundary F-score of ``predicted`` against ``truth`` (see the module's docstring).

    Args:
        predicted, truth: (H, W) person masks, 0/1 or bool.
        valid: bool (H, W), False on void pixels (default: all valid).
        tolerance: the matching distance in pixels, >= 0 (default: see
            :func:`boundary_tolerance_pixels`).
    Raises:
        TypeError, ValueError: not (H, W) 0/1 masks, sizes that differ, a bad tolerance.
    """
    p, t, v = _masks(predicted, truth, valid)
    if tolerance is None:
        radius = boundary_tolerance_pixels(int(t.shape[0]), int(t.shape[1]))
    else:
        radius = _checks.check_int(tolerance, "tolerance", 0)
    bp = mask_boundary(p) & v
    bt = mask_boundary(t) & v
    n_p = int(np.count_nonzero(bp))
    n_t = int(np.count_nonzero(bt))
    if n_p == 0 and n_t == 0:
        return BoundaryScore(1.0, 1.0, 1.0, radius)
    if n_p == 0 or n_t == 0:
        return BoundaryScore(0.0, 1.0 if n_p == 0 else 0.0, 1.0 if n_t == 0 else 0.0, radius)
    precision = int(np.count_nonzero(bp & _near(bt, radius))) / n_p
    recall = int(np.count_nonzero(bt & _near(bp, radius))) / n_t
    f = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return BoundaryScore(f, precision, recall, radius)


def score_mask(predicted: object, truth: GroundTruth) -> MaskScore:
    """Person IoU and boundary F-score of ``predicted`` against a :class:`GroundTruth`."""
    if not isinstance(truth, GroundTruth):
        raise TypeError(f"truth must be a GroundTruth (see read_ground_truth), got {type(truth).__name__}")
    return MaskScore(
        person_iou(predicted, truth.person, truth.valid), boundary_f_score(predicted, truth.person, truth.valid)
    )
