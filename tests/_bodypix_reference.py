"""A plain numpy/Python reference of the BodyPix 2.2.1 post-processing stages, written from
``spec/BODYPIX2.md`` sections 5-11 (not from the C++ core), for the native-vs-reference unit
tests (tests/unit/test_bodypix_native.py). Slow on purpose: loops where the spec describes
loops, float64 where the reference computes in JS numbers, float32 where it stores tensors.

Heads layout (the layout of `_constants.BODYPIX_HEADS`): 0 segments, 1..24 part heatmaps, 25..41 heatmaps, 42..75
short offsets (y then x), 76..107 displacement fwd, 108..139 displacement bwd, 140..173 long
offsets.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


def quiet(fn: F) -> F:
    """NaN and infinity arithmetic is part of the semantics here: no numpy warnings."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


SEG, PARTS, HEATMAPS, SHORT, FWD, BWD, LONG, CHANNELS = 0, 1, 25, 42, 76, 108, 140, 174
NUM_KEYPOINTS, NUM_EDGES = 17, 16
# POSE_CHAIN: edge e goes from PARENT[e] to CHILD[e].
PARENT = (0, 1, 0, 2, 0, 5, 7, 5, 11, 13, 0, 6, 8, 6, 12, 14)
CHILD = (1, 3, 2, 4, 5, 7, 9, 11, 13, 15, 6, 8, 10, 12, 14, 16)


def js_round(v: float) -> float:
    """JavaScript's Math.round (halves up); NaN/inf unchanged."""
    if math.isnan(v) or math.isinf(v):
        return v
    f = math.floor(v)
    return float(f + 1) if v - f >= 0.5 else float(f)


def _resize_axis(n_in: int, n_out: int, align: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ratio = (n_in - 1) / (n_out - 1) if (align and n_out > 1) else n_in / n_out
    s = ratio * np.arange(n_out, dtype=np.float64)
    lo = np.maximum(0.0, np.floor(s))
    hi = np.minimum(n_in - 1.0, np.ceil(s))
    return lo.astype(np.int64), hi.astype(np.int64), s - lo


@quiet
def resize_bilinear(img: np.ndarray, nh: int, nw: int, align_corners: bool) -> np.ndarray:
    """tfjs ResizeBilinear (halfPixelCenters false) of an (h, w, c) array: float64 math,
    float32 result."""
    x = np.asarray(img, dtype=np.float64)
    r0, r1, fr = _resize_axis(x.shape[0], nh, align_corners)
    c0, c1, fc = _resize_axis(x.shape[1], nw, align_corners)
    fc3 = fc[None, :, None]
    fr3 = fr[:, None, None]
    tl, tr = x[r0][:, c0], x[r0][:, c1]
    bl, br = x[r1][:, c0], x[r1][:, c1]
    top = tl + (tr - tl) * fc3
    bottom = bl + (br - bl) * fc3
    return (top + (bottom - top) * fr3).astype(np.float32)


@quiet
def preprocess(pixels: np.ndarray, ih: int, iw: int, padding: tuple[int, int, int, int]) -> np.ndarray:
    t, b, left, right = padding
    values = np.asarray(pixels)
    if values.dtype == np.float32:
        values = np.clip(np.nan_to_num(values, nan=0.0, posinf=255.0, neginf=0.0), 0.0, 255.0)
    h, w = values.shape[:2]
    padded = np.zeros((h + t + b, w + left + right, 3), np.float64)
    padded[t : t + h, left : left + w] = values
    resized = resize_bilinear(padded, ih, iw, False)
    return (resized / np.float32(127.5)).astype(np.float32) - np.float32(1.0)


@quiet
def sigmoid32(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))).astype(np.float32)


def crop_box(h: int, w: int, padding: tuple[int, int, int, int]) -> np.ndarray:
    t, b, left, right = padding

    def div(a: float, d: float) -> float:
        return a / d if d != 0 else math.nan  # 0 / 0 in JS

    return np.array(
        [
            div(t, h + t + b - 1.0),
            div(left, w + left + right - 1.0),
            div(t + h - 1.0, h + t + b - 1.0),
            div(left + w - 1.0, w + left + right - 1.0),
        ],
        np.float32,
    )


def _crop_axis(n: int, b1: float, b2: float, size: int) -> np.ndarray:
    if n > 1:
        scale = ((b2 - b1) * (size - 1)) / (n - 1)
        return b1 * (size - 1) + np.arange(n, dtype=np.float64) * scale
    return np.array([0.5 * (b1 + b2) * (size - 1)])


@quiet
def crop_and_resize(image: np.ndarray, box: np.ndarray, h: int, w: int) -> np.ndarray:
    """tfjs CropAndResize (bilinear, extrapolation 0) of one (ih, iw, c) image and one box."""
    ih, iw, c = image.shape
    y1, x1, y2, x2 = (float(v) for v in box)
    ys = _crop_axis(h, y1, y2, ih)
    xs = _crop_axis(w, x1, x2, iw)
    out = np.zeros((h, w, c), np.float32)
    img = image.astype(np.float64)
    for y in range(h):
        yi = ys[y]
        if yi < 0 or yi > ih - 1:
            continue  # the whole row is 0
        for x in range(w):
            xi = xs[x]
            if xi < 0 or xi > iw - 1:
                continue
            if math.isnan(yi) or math.isnan(xi):
                out[y, x] = np.nan
                continue
            top, bottom = math.floor(yi), math.ceil(yi)
            left, right = math.floor(xi), math.ceil(xi)
            yl, xl = yi - top, xi - left
            t = img[top, left] + (img[top, right] - img[top, left]) * xl
            bo = img[bottom, left] + (img[bottom, right] - img[bottom, left]) * xl
            out[y, x] = (t + (bo - t) * yl).astype(np.float32)
    return out


@quiet
def argmax_tfjs(values: np.ndarray) -> np.ndarray:
    best = values[..., 0].copy()
    index = np.zeros(best.shape, np.int32)
    for j in range(1, values.shape[-1]):
        greater = values[..., j] > best
        best = np.where(greater, values[..., j], best)
        index = np.where(greater, j, index)
    return index


@quiet
def scale_back(
    heads: np.ndarray, h: int, w: int, ih: int, iw: int, padding: tuple[int, int, int, int], threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask, parts, probability) of sections 6-8: resize (align corners), sigmoid,
    crop-and-resize; mask score > f32(threshold); parts argmax inside the mask, -1 outside."""
    logits = heads[..., SEG : SEG + 25]
    scores = sigmoid32(resize_bilinear(logits, ih, iw, True))
    p = crop_and_resize(scores, crop_box(h, w, padding), h, w)
    mask = p[..., 0] > np.float32(threshold)
    parts = np.where(mask, argmax_tfjs(p[..., 1:25]), -1).astype(np.int32)
    return mask.astype(np.uint8), parts, p[..., 0]


class MaxHeap:
    """posenet's MaxHeap, as spec section 9 describes it."""

    def __init__(self) -> None:
        self.items: list[tuple[float, int, int, int]] = []

    def push(self, item: tuple[float, int, int, int]) -> None:
        q = self.items
        q.append(item)
        k = len(q) - 1
        while k > 0 and q[k // 2][0] < q[k][0]:
            q[k], q[k // 2] = q[k // 2], q[k]
            k //= 2

    def pop(self) -> tuple[float, int, int, int]:
        q = self.items
        top = q[0]
        q[0] = q[-1]
        q.pop()
        last = len(q) - 1
        k = 0
        while 2 * k <= last:
            j = 2 * k
            if j < last and q[j][0] < q[j + 1][0]:
                j += 1
            if not q[k][0] < q[j][0]:
                break
            q[k], q[j] = q[j], q[k]
            k = j
        return top

    def __len__(self) -> int:
        return len(self.items)


@quiet
def decode_poses(
    heads: np.ndarray,
    stride: int,
    max_detections: int,
    score_threshold: float,
    nms_radius: float,
    h: int,
    w: int,
    ih: int,
    iw: int,
    padding: tuple[int, int, int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Sections 9 and 10: (keypoints (n, 17, 3) [y, x, score] in image pixels, scores (n,))."""
    gh, gw = heads.shape[:2]
    scores = sigmoid32(heads[..., HEATMAPS : HEATMAPS + 17]).astype(np.float64)
    off = heads.astype(np.float64)
    nan = math.nan

    def cell(y: float, x: float) -> tuple[int, int] | None:
        ry, rx = js_round(y / stride), js_round(x / stride)
        if math.isnan(ry) or math.isnan(rx):
            return None
        return int(min(max(ry, 0), gh - 1)), int(min(max(rx, 0), gw - 1))

    heap = MaxHeap()
    for y in range(gh):
        for x in range(gw):
            for k in range(NUM_KEYPOINTS):
                sc = scores[y, x, k]
                if not sc >= score_threshold:
                    continue
                window = scores[max(y - 1, 0) : y + 2, max(x - 1, 0) : x + 2, k]
                if not np.any(window > sc):
                    heap.push((float(sc), y, x, k))

    def traverse(e: int, src: tuple[float, float, float], target: int, disp: int) -> tuple[float, float, float]:
        c = cell(src[0], src[1])
        ty, tx = (
            (nan, nan) if c is None else (src[0] + off[c[0], c[1], disp + e], src[1] + off[c[0], c[1], disp + 16 + e])
        )
        for _ in range(2):
            c = cell(ty, tx)
            if c is None:
                ty, tx = nan, nan
            else:
                ty = c[0] * stride + off[c[0], c[1], SHORT + target]
                tx = c[1] * stride + off[c[0], c[1], SHORT + 17 + target]
        c = cell(ty, tx)
        return ty, tx, (nan if c is None else float(scores[c[0], c[1], target]))

    r2 = nms_radius * nms_radius
    poses: list[list[tuple[float, float, float]]] = []
    pose_scores: list[float] = []

    def near(y: float, x: float, k: int) -> bool:
        for p in poses:
            dy, dx = p[k][0] - y, p[k][1] - x
            if dy * dy + dx * dx <= r2:
                return True
        return False

    while len(poses) < max_detections and len(heap):
        sc, y, x, k = heap.pop()
        ry = y * stride + off[y, x, SHORT + k]
        rx = x * stride + off[y, x, SHORT + 17 + k]
        if near(ry, rx, k):
            continue
        kp: list[tuple[float, float, float] | None] = [None] * NUM_KEYPOINTS
        kp[k] = (ry, rx, sc)
        for e in range(NUM_EDGES - 1, -1, -1):
            if kp[CHILD[e]] is not None and kp[PARENT[e]] is None:
                kp[PARENT[e]] = traverse(e, kp[CHILD[e]], PARENT[e], BWD)  # type: ignore[arg-type]
        for e in range(NUM_EDGES):
            if kp[PARENT[e]] is not None and kp[CHILD[e]] is None:
                kp[CHILD[e]] = traverse(e, kp[PARENT[e]], CHILD[e], FWD)  # type: ignore[arg-type]
        full = [p for p in kp if p is not None]
        assert len(full) == NUM_KEYPOINTS
        total = 0.0
        for i, p in enumerate(full):
            if not near(p[0], p[1], i):
                total += p[2]
        pose_scores.append(total / NUM_KEYPOINTS)
        poses.append(full)
    t, b, left, right = padding
    sy, sx = (h + t + b) / ih, (w + left + right) / iw
    out = np.array([[(p[0] * sy - t, p[1] * sx - left, p[2]) for p in pose] for pose in poses], np.float64)
    return out.reshape(len(poses), NUM_KEYPOINTS, 3), np.array(pose_scores, np.float64)


@quiet
def decode_instances(
    heads: np.ndarray,
    mask: np.ndarray,
    people: np.ndarray,
    stride: int,
    h: int,
    w: int,
    ih: int,
    iw: int,
    padding: tuple[int, int, int, int],
    refine_steps: int,
) -> np.ndarray:
    """Section 11's CPU decoder, with LO the flattened long offsets (reads outside it: NaN)."""
    t, b, left, right = padding
    scale_x, scale_y = iw / (left + right + w), ih / (t + b + h)
    flat_w = js_round((iw - 1.0) / stride + 1.0)
    lo = np.ascontiguousarray(heads[..., LONG : LONG + 34]).astype(np.float64).ravel()

    def read(index: float) -> float:
        return float(lo[int(index)]) if 0 <= index < lo.size else math.nan

    def offsets(y: float, x: float, k: int) -> tuple[float, float]:
        cy = js_round(((t + y + 1.0) * scale_y - 1.0) / stride)
        cx = js_round(((left + x + 1.0) * scale_x - 1.0) / stride)
        n = cy * flat_w + cx
        if math.isnan(n):
            return math.nan, math.nan
        return read(17 * (2 * n) + k), read(17 * (2 * n + 1) + k)

    out = np.full((h, w), -1, np.int32)
    for i in range(h):
        for j in range(w):
            if mask[i, j] != 1:
                continue
            emb = []
            for k in range(5):
                dy, dx = offsets(i, j, k)
                y, x = i + dy, j + dx
                for _ in range(refine_steps):
                    y = math.nan if math.isnan(y) else min(y, h - 1.0)
                    x = math.nan if math.isnan(x) else min(x, w - 1.0)
                    dy, dx = offsets(y, x, k)
                    y, x = y + dy, x + dx
                emb.append((y, x))
            best, best_d = -1, math.inf
            for p, pose in enumerate(people):
                total, used = 0.0, 0
                for k in range(5):
                    if pose[k, 2] > 0.3:
                        used += 1
                        ex, ey = emb[k][1] - float(pose[k, 1]), emb[k][0] - float(pose[k, 0])
                        total += ex * ex + ey * ey
                d = math.inf if used == 0 else total / used
                if d < best_d:
                    best, best_d = p, d
            out[i, j] = best
    return out
