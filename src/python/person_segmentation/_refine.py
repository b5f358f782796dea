"""Edge refinement of a person probability guided by the image: the guided filter.

He, Sun and Tang, "Guided Image Filtering" (ECCV 2010 / TPAMI 2013), the colour-guide form
(section 3.5 of the TPAMI paper): in every ``(2r + 1)^2`` window the output is a linear
function of the RGB guide, ``q = a . I + b``, fitted to the input ``p`` by ridge regression
with regulariser ``eps``; ``a`` and ``b`` are averaged over the windows that cover a pixel.
Box filters (``cv2.boxFilter``, normalised, reflected borders) make it O(1) per pixel
whatever the radius. ``subsample`` > 1 is the fast guided filter (He and Sun, arXiv
1505.00996): the coefficients are fitted on the guide and input shrunk by that factor (radius
shrunk alike) and bilinearly enlarged before ``q = a . I + b`` is formed at full resolution.
OpenCV's own ``cv2.ximgproc.guidedFilter`` is in opencv-contrib only, which the package does
not depend on.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from person_segmentation._constants import GUIDED_EPS, GUIDED_RADIUS_FRACTION, GUIDED_SUBSAMPLE

F32 = npt.NDArray[np.float32]


def _box(x: np.ndarray, radius: int) -> F32:
    size = 2 * radius + 1
    out = cv2.boxFilter(x, cv2.CV_32F, (size, size), normalize=True, borderType=cv2.BORDER_REFLECT)
    return np.asarray(out, dtype=np.float32).reshape(x.shape)


def guided_filter(guide: np.ndarray, source: F32, radius: int, eps: float, subsample: int = 1) -> F32:
    """The guided filter of ``source`` (float32 (H, W)) with the RGB ``guide`` (uint8 (H, W, 3)),
    clipped to [0, 1]. Arguments are checked by the caller."""
    full = guide.astype(np.float32) * np.float32(1.0 / 255.0)
    height, width = int(source.shape[0]), int(source.shape[1])
    step = max(1, min(int(subsample), radius, height, width))
    if step > 1:
        size = (max(1, round(width / step)), max(1, round(height / step)))
        image = np.asarray(cv2.resize(full, size, interpolation=cv2.INTER_AREA), dtype=np.float32).reshape(
            size[1], size[0], 3
        )
        p = np.asarray(cv2.resize(np.ascontiguousarray(source, dtype=np.float32), size, interpolation=cv2.INTER_AREA))
        p = p.reshape(size[1], size[0]).astype(np.float32)
        radius = max(1, round(radius / step))
    else:
        image = full
        p = np.ascontiguousarray(source, dtype=np.float32)
    mean_i = _box(image, radius)  # (H, W, 3)
    mean_p = _box(p, radius)
    mean_ip = _box(image * p[..., np.newaxis], radius)
    cov_ip = mean_ip - mean_i * mean_p[..., np.newaxis]  # (H, W, 3)
    # The 3 x 3 covariance of the guide in each window (symmetric: six entries), plus eps I.
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    mr, mg, mb = mean_i[..., 0], mean_i[..., 1], mean_i[..., 2]
    e = np.float32(eps)
    s_rr = _box(r * r, radius) - mr * mr + e
    s_rg = _box(r * g, radius) - mr * mg
    s_rb = _box(r * b, radius) - mr * mb
    s_gg = _box(g * g, radius) - mg * mg + e
    s_gb = _box(g * b, radius) - mg * mb
    s_bb = _box(b * b, radius) - mb * mb + e
    # Its inverse by cofactors (positive definite: eps > 0), then a = Sigma^-1 cov_ip.
    c_rr = s_gg * s_bb - s_gb * s_gb
    c_rg = s_gb * s_rb - s_rg * s_bb
    c_rb = s_rg * s_gb - s_gg * s_rb
    c_gg = s_rr * s_bb - s_rb * s_rb
    c_gb = s_rb * s_rg - s_rr * s_gb
    c_bb = s_rr * s_gg - s_rg * s_rg
    det = s_rr * c_rr + s_rg * c_rg + s_rb * c_rb
    u, v, w = cov_ip[..., 0], cov_ip[..., 1], cov_ip[..., 2]
    a = np.stack(
        (
            (c_rr * u + c_rg * v + c_rb * w) / det,
            (c_rg * u + c_gg * v + c_gb * w) / det,
            (c_rb * u + c_gb * v + c_bb * w) / det,
        ),
        axis=-1,
    )
    b_coef = mean_p - np.einsum("hwc,hwc->hw", a, mean_i)
    mean_a, mean_b = _box(a, radius), _box(b_coef, radius)
    if step > 1:
        mean_a = np.asarray(cv2.resize(mean_a, (width, height), interpolation=cv2.INTER_LINEAR), np.float32)
        mean_a = mean_a.reshape(height, width, 3)
        mean_b = np.asarray(cv2.resize(mean_b, (width, height), interpolation=cv2.INTER_LINEAR), np.float32)
        mean_b = mean_b.reshape(height, width)
    q = np.einsum("hwc,hwc->hw", mean_a, full) + mean_b
    out: F32 = np.clip(q, 0.0, 1.0).astype(np.float32)
    return out


def refine_probability(pixels: np.ndarray, probability: F32) -> F32:
    """The ``refine="guided"`` refinement of a person probability: the guided filter with the
    image as guide, radius ``GUIDED_RADIUS_FRACTION`` of the image diagonal (at least 1 px),
    regulariser ``GUIDED_EPS``, fitted at 1 / ``GUIDED_SUBSAMPLE`` of the resolution."""
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    radius = max(1, round(GUIDED_RADIUS_FRACTION * float(np.hypot(height, width))))
    return guided_filter(np.asarray(pixels), probability, radius, GUIDED_EPS, GUIDED_SUBSAMPLE)


def refine_result(
    pixels: np.ndarray, probability: F32, threshold: float, parts: np.ndarray | None = None
) -> tuple[F32, np.ndarray, np.ndarray | None]:
    """A result refined as ``refine="guided"`` does: the refined probability, its mask
    (``> threshold``, uint8 0/1) and the part ids kept inside that mask (-1 elsewhere; None
    without parts)."""
    refined = refine_probability(pixels, probability)
    mask = (refined > threshold).astype(np.uint8)
    kept = None if parts is None else np.where(mask != 0, parts, -1).astype(np.int32)
    return refined, mask, kept
