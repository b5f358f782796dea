"""A plain numpy reference of BodyPix 2.2.1's post-processing for the ``bodypix`` API tests
(``../shared/spec/BODYPIX2.md`` sections 4-12), written from the spec: slow, simple, float64 where the
reference computes in JS numbers. The library itself runs the native functions of ``_core``
(``bodypix_preprocess``, ``bodypix_scale_back``, ``bodypix_decode_poses``,
``bodypix_decode_instances``); the functions here take the same arguments (see
``_core.pyi``), so the tests can compare the two stage by stage. (``tests/_bodypix_reference.py`` is the
native core's own, independently written reference, with positional signatures.)

``heads``: float32 (outH, outW, 174), channels segments (1), part heatmaps (24, 2.x order),
heatmaps (17), short offsets (34), displacement fwd (32), displacement bwd (32), long
offsets (34).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

NUM_KEYPOINTS = 17
#: (start, stop) of each head in the 174-channel heads array.
SEGMENTS = (0, 1)
PART_HEATMAPS = (1, 25)
HEATMAPS = (25, 42)
SHORT_OFFSETS = (42, 76)
DISPLACEMENT_FWD = (76, 108)
DISPLACEMENT_BWD = (108, 140)
LONG_OFFSETS = (140, 174)

#: POSE_CHAIN as (parent, child) keypoint ids, edge id = index.
POSE_CHAIN = (
    (0, 1),
    (1, 3),
    (0, 2),
    (2, 4),
    (0, 5),
    (5, 7),
    (7, 9),
    (5, 11),
    (11, 13),
    (13, 15),
    (0, 6),
    (6, 8),
    (8, 10),
    (6, 12),
    (12, 14),
    (14, 16),
)

_RESOLUTIONS = {"low": 0.25, "medium": 0.5, "high": 0.75, "full": 1.0}


def js_round(v: float) -> float:
    """JavaScript ``Math.round``: nearest integer, halves towards +infinity (exact)."""
    if not math.isfinite(v):
        return v
    r = math.floor(v)
    return float(r + 1) if v - r >= 0.5 else float(r)


def js_round_array(v: np.ndarray) -> np.ndarray:
    r = np.floor(v)
    return np.where(v - r >= 0.5, r + 1, r)


# -- sections 4 and 5 ------------------------------------------------------------------------
def input_size(height: int, width: int, internal_resolution: str | float, output_stride: int) -> tuple[int, int]:
    p = _RESOLUTIONS[internal_resolution] if isinstance(internal_resolution, str) else float(internal_resolution)

    def valid(v: float) -> int:
        if math.fmod(v - 1, output_stride) == 0:
            return int(v)
        return int(math.floor(v / output_stride) * output_stride + 1)

    return valid(height * p), valid(width * p)


def padding(height: int, width: int, input_height: int, input_width: int) -> tuple[int, int, int, int]:
    target = input_width / input_height
    aspect = width / height
    if aspect < target:
        pad = int(js_round(0.5 * (target * height - width)))
        return 0, 0, pad, pad
    pad = int(js_round(0.5 * ((1 / target) * width - height)))
    return pad, pad, 0, 0


def resize_bilinear(image: np.ndarray, new_h: int, new_w: int, align_corners: bool) -> np.ndarray:
    """tfjs cpu ``ResizeBilinear`` (halfPixelCenters false): float64 math, float32 result."""
    h, w = image.shape[:2]
    src = image.astype(np.float64)

    def axis(old: int, new: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        eo, en = (old - 1, new - 1) if align_corners and new > 1 else (old, new)
        ratio = eo / en
        s = ratio * np.arange(new, dtype=np.float64)
        lo = np.maximum(0, np.floor(s)).astype(np.intp)
        hi = np.minimum(old - 1, np.ceil(s)).astype(np.intp)
        return lo, hi, s - lo

    r0, r1, fr = axis(h, new_h)
    c0, c1, fc = axis(w, new_w)
    fc = fc[np.newaxis, :, np.newaxis]
    fr = fr[:, np.newaxis, np.newaxis]
    tl, tr = src[r0][:, c0], src[r0][:, c1]
    bl, br = src[r1][:, c0], src[r1][:, c1]
    top = tl + (tr - tl) * fc
    bottom = bl + (br - bl) * fc
    return (top + (bottom - top) * fr).astype(np.float32)


def preprocess(
    pixels: np.ndarray, *, input_height: int, input_width: int, padding: tuple[int, int, int, int]
) -> np.ndarray:
    """Zero-pad, legacy bilinear resize, normalise: float32 (inH, inW, 3)."""
    x = np.asarray(pixels)
    if x.dtype != np.uint8:
        x = np.clip(np.nan_to_num(x.astype(np.float32), nan=0.0), 0, 255)
    t, b, left, r = padding
    padded = np.pad(x, ((t, b), (left, r), (0, 0)))
    resized = resize_bilinear(padded, input_height, input_width, align_corners=False)
    return (resized / np.float32(127.5)).astype(np.float32) - np.float32(1)


# -- section 6 ----------------------------------------------------------------------------------
def sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)


def crop_and_resize(image: np.ndarray, box: np.ndarray, crop_h: int, crop_w: int) -> np.ndarray:
    """tfjs cpu ``CropAndResize`` (bilinear, extrapolation 0) of one float32 box."""
    ih, iw = image.shape[:2]
    y1, x1, y2, x2 = (float(v) for v in box)
    src = image.astype(np.float64)

    def axis(a1: float, a2: float, size: int, crop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if crop > 1:
            scale = ((a2 - a1) * (size - 1)) / (crop - 1)
            ind = a1 * (size - 1) + np.arange(crop, dtype=np.float64) * scale
        else:
            ind = np.full(crop, 0.5 * (a1 + a2) * (size - 1))
        ok = (ind >= 0) & (ind <= size - 1)
        safe = np.where(ok, ind, 0.0)
        lo = np.floor(safe).astype(np.intp)
        hi = np.ceil(safe).astype(np.intp)
        return ok, lo, hi, safe - lo

    oky, top, bottom, yl = axis(y1, y2, ih, crop_h)
    okx, left, right, xl = axis(x1, x2, iw, crop_w)
    xl = xl[np.newaxis, :, np.newaxis]
    yl = yl[:, np.newaxis, np.newaxis]
    tl, tr = src[top][:, left], src[top][:, right]
    bl, br = src[bottom][:, left], src[bottom][:, right]
    t = tl + (tr - tl) * xl
    b = bl + (br - bl) * xl
    out = (t + (b - t) * yl).astype(np.float32)
    out[~oky] = 0
    out[:, ~okx] = 0
    return out


def _box(height: int, width: int, pad: tuple[int, int, int, int]) -> np.ndarray:
    t, b, left, r = pad
    return np.array(
        [
            t / (height + t + b - 1),
            left / (width + left + r - 1),
            (t + height - 1) / (height + t + b - 1),
            (left + width - 1) / (width + left + r - 1),
        ],
        dtype=np.float32,
    )


def scale_to_image(
    logits: np.ndarray, image_height: int, image_width: int, input_height: int, input_width: int, pad: Any
) -> np.ndarray:
    """Section 6: align-corners resize to the input, sigmoid, crop-and-resize to the image."""
    resized = resize_bilinear(logits, input_height, input_width, align_corners=True)
    return crop_and_resize(sigmoid(resized), _box(image_height, image_width, tuple(pad)), image_height, image_width)


def scale_back(
    heads: np.ndarray,
    *,
    image_height: int,
    image_width: int,
    input_height: int,
    input_width: int,
    padding: tuple[int, int, int, int],
    threshold: float,
    parts: bool = False,
    probability: bool = False,
    num_threads: int = 0,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Sections 6-8 (and 12's unmasked part map via :func:`part_map`)."""
    geometry = (image_height, image_width, input_height, input_width, padding)
    score = scale_to_image(heads[:, :, SEGMENTS[0] : SEGMENTS[1]], *geometry)[:, :, 0]
    mask = (score > np.float32(threshold)).astype(np.uint8)
    part_ids = None
    if parts:
        part_ids = np.where(mask == 1, part_map(heads, *geometry), -1).astype(np.int32)
    return mask, part_ids, (score if probability else None)


def part_map(
    heads: np.ndarray, image_height: int, image_width: int, input_height: int, input_width: int, pad: Any
) -> np.ndarray:
    """Argmax of the sigmoided, scaled part scores (first index wins), without the mask."""
    q = scale_to_image(
        heads[:, :, PART_HEATMAPS[0] : PART_HEATMAPS[1]], image_height, image_width, input_height, input_width, pad
    )
    return np.argmax(q, axis=2).astype(np.int32)


# -- sections 9 and 10 --------------------------------------------------------------------------
class _MaxHeap:
    """body-pix's MaxHeap: 1-based index arithmetic on 0-based storage."""

    def __init__(self) -> None:
        self.items: list[tuple[float, int, int, int]] = []

    def _less(self, i: int, j: int) -> bool:
        return self.items[i][0] < self.items[j][0]

    def _swap(self, i: int, j: int) -> None:
        self.items[i], self.items[j] = self.items[j], self.items[i]

    def push(self, item: tuple[float, int, int, int]) -> None:
        self.items.append(item)
        k = len(self.items) - 1
        while k > 0 and self._less(k // 2, k):
            self._swap(k, k // 2)
            k //= 2

    def pop(self) -> tuple[float, int, int, int]:
        top = self.items[0]
        self._swap(0, len(self.items) - 1)
        self.items.pop()
        last, k = len(self.items) - 1, 0
        while 2 * k <= last:
            j = 2 * k
            if j < last and self._less(j, j + 1):
                j += 1
            if not self._less(k, j):
                break
            self._swap(k, j)
            k = j
        return top

    def __len__(self) -> int:
        return len(self.items)


def decode_poses(
    heads: np.ndarray,
    *,
    output_stride: int,
    max_detections: int,
    score_threshold: float,
    nms_radius: float,
    image_height: int,
    image_width: int,
    input_height: int,
    input_width: int,
    padding: tuple[int, int, int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Sections 9 and 10: (n, 17, 3) [y, x, score] in image pixels and (n,) pose scores."""
    scores = sigmoid(heads[:, :, HEATMAPS[0] : HEATMAPS[1]]).astype(np.float64)
    offsets = heads[:, :, SHORT_OFFSETS[0] : SHORT_OFFSETS[1]].astype(np.float64)
    fwd = heads[:, :, DISPLACEMENT_FWD[0] : DISPLACEMENT_FWD[1]].astype(np.float64)
    bwd = heads[:, :, DISPLACEMENT_BWD[0] : DISPLACEMENT_BWD[1]].astype(np.float64)
    out_h, out_w = scores.shape[:2]
    s = output_stride

    heap = _MaxHeap()
    for y in range(out_h):
        for x in range(out_w):
            for k in range(NUM_KEYPOINTS):
                sc = scores[y, x, k]
                if sc < score_threshold:
                    continue
                window = scores[max(y - 1, 0) : min(y + 2, out_h), max(x - 1, 0) : min(x + 2, out_w), k]
                if (window > sc).any():
                    continue
                heap.push((sc, y, x, k))

    def cell(py: float, px: float) -> tuple[int, int]:
        cy = int(min(max(js_round(py / s), 0), out_h - 1))
        cx = int(min(max(js_round(px / s), 0), out_w - 1))
        return cy, cx

    def traverse(edge: int, source: tuple[float, float], target: int, disp: np.ndarray) -> tuple[float, float, float]:
        cy, cx = cell(*source)
        ty, tx = source[0] + disp[cy, cx, edge], source[1] + disp[cy, cx, 16 + edge]
        for _ in range(2):
            cy, cx = cell(ty, tx)
            ty, tx = cy * s + offsets[cy, cx, target], cx * s + offsets[cy, cx, 17 + target]
        cy, cx = cell(ty, tx)
        return ty, tx, scores[cy, cx, target]

    r2 = nms_radius * nms_radius
    poses: list[list[tuple[float, float, float]]] = []
    pose_scores: list[float] = []

    def near(py: float, px: float, k: int) -> bool:
        for pose in poses:
            dy, dx = pose[k][0] - py, pose[k][1] - px
            if dy * dy + dx * dx <= r2:
                return True
        return False

    while len(poses) < max_detections and len(heap):
        sc, y, x, k = heap.pop()
        root = (y * s + offsets[y, x, k], x * s + offsets[y, x, 17 + k])
        if near(root[0], root[1], k):
            continue
        kp: list[tuple[float, float, float] | None] = [None] * NUM_KEYPOINTS
        kp[k] = (root[0], root[1], sc)
        for e in range(15, -1, -1):
            parent, child = POSE_CHAIN[e]
            if kp[child] is not None and kp[parent] is None:
                c = kp[child]
                assert c is not None
                kp[parent] = traverse(e, (c[0], c[1]), parent, bwd)
        for e in range(16):
            parent, child = POSE_CHAIN[e]
            if kp[parent] is not None and kp[child] is None:
                p = kp[parent]
                assert p is not None
                kp[child] = traverse(e, (p[0], p[1]), child, fwd)
        full = [v for v in kp if v is not None]
        total = 0.0
        for i, (py, px, ps) in enumerate(full):
            if not near(py, px, i):
                total += ps
        poses.append(full)
        pose_scores.append(total / NUM_KEYPOINTS)

    keypoints = np.array(poses, dtype=np.float64).reshape(-1, NUM_KEYPOINTS, 3)
    t, b, left, r = padding
    scale_y = (image_height + t + b) / input_height
    scale_x = (image_width + left + r) / input_width
    keypoints[:, :, 0] = keypoints[:, :, 0] * scale_y - t
    keypoints[:, :, 1] = keypoints[:, :, 1] * scale_x - left
    return keypoints, np.array(pose_scores, dtype=np.float64)


# -- section 11 ---------------------------------------------------------------------------------
def decode_instances(
    heads: np.ndarray,
    mask: np.ndarray,
    keypoints: np.ndarray,
    *,
    output_stride: int,
    image_height: int,
    image_width: int,
    input_height: int,
    input_width: int,
    padding: tuple[int, int, int, int],
    refine_steps: int,
    num_threads: int = 0,
) -> np.ndarray:
    """The CPU instance decoder: int32 (H, W) person index, -1 for nobody."""
    height, width = image_height, image_width
    t, b, left, r = padding
    scale_x = input_width / (left + r + width)
    scale_y = input_height / (t + b + height)
    out_w = int(js_round((input_width - 1) / output_stride + 1))
    lo = np.ascontiguousarray(heads[:, :, LONG_OFFSETS[0] : LONG_OFFSETS[1]], dtype=np.float32).ravel()
    lo64 = lo.astype(np.float64)
    result = np.full((height, width), -1, np.int32)
    ii, jj = np.nonzero(mask == 1)
    if ii.size == 0 or len(keypoints) == 0:
        return result

    def lookup(index: np.ndarray) -> np.ndarray:
        ok = np.isfinite(index) & (index >= 0) & (index < lo64.size)
        safe = np.where(ok, index, 0).astype(np.int64)
        return np.where(ok, lo64[safe], np.nan)

    def flat(py: np.ndarray, px: np.ndarray) -> np.ndarray:
        cy = js_round_array(((t + py + 1.0) * scale_y - 1.0) / output_stride)
        cx = js_round_array(((left + px + 1.0) * scale_x - 1.0) / output_stride)
        return cy * out_w + cx

    emb = []
    with np.errstate(invalid="ignore"):
        for k in range(5):
            y, x = ii.astype(np.float64), jj.astype(np.float64)
            n = flat(y, x)
            y = y + lookup(17 * (2 * n) + k)
            x = x + lookup(17 * (2 * n + 1) + k)
            for _ in range(refine_steps):
                y = np.minimum(y, height - 1)  # NaN stays NaN, as Math.min
                x = np.minimum(x, width - 1)
                n = flat(y, x)
                y = y + lookup(17 * (2 * n) + k)
                x = x + lookup(17 * (2 * n + 1) + k)
            emb.append((y, x))

        best = np.full(ii.size, np.inf)
        who = np.full(ii.size, -1, np.int32)
        for p in range(len(keypoints)):
            dist = np.zeros(ii.size)
            count = 0
            for k in range(5):
                if keypoints[p, k, 2] > 0.3:
                    count += 1
                    ky, kx = keypoints[p, k, 0], keypoints[p, k, 1]
                    dist = dist + ((emb[k][1] - kx) ** 2 + (emb[k][0] - ky) ** 2)
            dist = dist / count if count else np.full(ii.size, np.inf)
            better = dist < best  # NaN never wins
            best = np.where(better, dist, best)
            who = np.where(better, p, who)
    result[ii, jj] = who
    return result
