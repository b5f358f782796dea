"""The native BodyPix 2 stages (``_core.bodypix_*``) against the plain numpy reference of
tests/_bodypix_reference.py (written from spec/BODYPIX2.md, independent of the C++), on random
inputs and sizes and on the edge cases the spec names: H or W == 1, the last row/column that
the float32 box pushes out (H = 160, ih = 121), plateaus and equal scores in the pose queue,
NMS at exactly the radius, the instance decoder's missing lower clamp (a negative cx wraps to
the previous row; a negative flat index reads NaN), NaN rules, no poses, no people; and the
validation of every argument (TypeError/ValueError, never a crash). No weights needed."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from person_segmentation import _core

from .. import _bodypix_reference as ref

CH = ref.CHANNELS


def input_size(side: int, p: float, stride: int) -> int:
    v = side * p
    return int(v) if (v - 1) % stride == 0 else math.floor(v / stride) * stride + 1


def padding_of(h: int, w: int, ih: int, iw: int) -> tuple[int, int, int, int]:
    target, aspect = iw / ih, w / h
    if aspect < target:
        pad = math.floor(0.5 * (target * h - w) + 0.5)
        return (0, 0, pad, pad)
    pad = math.floor(0.5 * ((1 / target) * w - h) + 0.5)
    return (pad, pad, 0, 0)


def geometry(h: int, w: int, p: float = 0.5, stride: int = 16) -> dict[str, Any]:
    ih, iw = input_size(h, p, stride), input_size(w, p, stride)
    return dict(image_height=h, image_width=w, input_height=ih, input_width=iw, padding=padding_of(h, w, ih, iw))


def grid(g: dict[str, Any], stride: int) -> tuple[int, int]:
    return (g["input_height"] - 1) // stride + 1, (g["input_width"] - 1) // stride + 1


def ref_args(g: dict[str, Any]) -> tuple[int, int, int, int, tuple[int, int, int, int]]:
    return g["image_height"], g["image_width"], g["input_height"], g["input_width"], g["padding"]


def random_heads(rng: np.random.Generator, gh: int, gw: int, scale: float = 4.0) -> np.ndarray:
    heads = rng.normal(0.0, scale, (gh, gw, CH)).astype(np.float32)
    heads[..., ref.SHORT :] = rng.normal(0.0, 12.0, (gh, gw, CH - ref.SHORT)).astype(np.float32)
    return heads


# ---- preprocess ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("h", "w", "ih", "iw", "padding"),
    [
        (1, 1, 1, 1, (0, 0, 0, 0)),
        (1, 7, 17, 33, (3, 2, 0, 0)),
        (9, 1, 33, 17, (0, 0, 4, 4)),
        (37, 53, 17, 33, (1, 1, 0, 0)),
        (60, 45, 49, 33, (0, 0, 2, 2)),
        (20, 30, 41, 57, (0, 0, 0, 0)),
    ],
)
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_preprocess_matches_reference(
    h: int, w: int, ih: int, iw: int, padding: tuple[int, int, int, int], dtype: str
) -> None:
    rng = np.random.default_rng(h * 1000 + w)
    if dtype == "uint8":
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    else:
        pixels = rng.uniform(-50, 300, (h, w, 3)).astype(np.float32)
        pixels.flat[:: max(1, pixels.size // 7)] = np.nan
        pixels.flat[1 :: max(2, pixels.size // 5)] = np.inf
    expected = ref.preprocess(pixels, ih, iw, padding)
    got = _core.bodypix_preprocess(pixels, input_height=ih, input_width=iw, padding=padding)
    assert got.dtype == np.float32 and got.shape == (ih, iw, 3)
    np.testing.assert_array_equal(got, expected)
    # any strides: a mirrored, channel-reversed view of a copy
    view = np.ascontiguousarray(pixels[:, ::-1, ::-1])[:, ::-1, ::-1]
    assert not view.flags.c_contiguous or w == 1
    np.testing.assert_array_equal(
        _core.bodypix_preprocess(view, input_height=ih, input_width=iw, padding=padding), expected
    )


def test_preprocess_out_and_threads() -> None:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (90, 70, 3), dtype=np.uint8)
    g = geometry(90, 70, 1.0)
    args = dict(input_height=g["input_height"], input_width=g["input_width"], padding=g["padding"])
    expected = _core.bodypix_preprocess(pixels, num_threads=1, **args)
    np.testing.assert_array_equal(_core.bodypix_preprocess(pixels, num_threads=5, **args), expected)
    out = np.empty((1, g["input_height"], g["input_width"], 3), np.float32)
    assert _core.bodypix_preprocess(pixels, out=out, **args) is out
    np.testing.assert_array_equal(out[0], expected)
    with pytest.raises(ValueError, match="out must have shape"):
        _core.bodypix_preprocess(pixels, out=np.empty((2, 2, 3), np.float32), **args)
    with pytest.raises(TypeError, match="out must be a float32"):
        _core.bodypix_preprocess(pixels, out=np.empty(out.shape, np.float64), **args)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.bodypix_preprocess(
            pixels, out=np.empty((g["input_height"], g["input_width"], 6), np.float32)[..., ::2], **args
        )


# ---- scale-back ------------------------------------------------------------------------------


def check_scale_back(heads: np.ndarray, g: dict[str, Any], threshold: float) -> tuple[np.ndarray, ...]:
    mask, parts, prob = _core.bodypix_scale_back(heads, threshold=threshold, parts=True, probability=True, **g)
    m, p, q = ref.scale_back(heads, *ref_args(g), threshold)
    assert mask.dtype == np.uint8 and parts is not None and parts.dtype == np.int32
    assert prob is not None and prob.dtype == np.float32
    np.testing.assert_array_equal(prob, q)  # NaN == NaN here
    np.testing.assert_array_equal(mask, m)
    np.testing.assert_array_equal(parts, p)
    only_mask, none_parts, none_prob = _core.bodypix_scale_back(heads, threshold=threshold, **g)
    assert none_parts is None and none_prob is None
    np.testing.assert_array_equal(only_mask, m)
    return mask, parts, prob


@pytest.mark.parametrize(
    ("h", "w", "p", "stride"),
    [
        (1, 1, 1.0, 16),
        (1, 40, 1.0, 8),
        (33, 1, 2.0, 16),
        (40, 30, 0.5, 8),
        (45, 60, 0.7, 16),
        (23, 57, 1.3, 8),
        (50, 50, 0.25, 16),
    ],
)
def test_scale_back_matches_reference(h: int, w: int, p: float, stride: int) -> None:
    rng = np.random.default_rng(h * 7 + w)
    g = geometry(h, w, p, stride)
    heads = random_heads(rng, *grid(g, stride))
    heads[..., 0] += 2.0  # some person pixels
    for threshold in (0.0, 0.5, float(rng.uniform(0.2, 0.9)), 1.0):
        check_scale_back(heads, g, threshold)


def test_scale_back_last_row_and_column_zero() -> None:
    """The float32 box: with no padding, (H - 1) * ((ih - 1) / (H - 1)) can exceed ih - 1 by an
    ulp (H = 160, ih = 121; W = 216, iw = 217), and then the last row (column) is 0: no person
    there even where every logit says person."""
    for h, w, ih, iw, last in ((160, 30, 121, 17, "row"), (30, 216, 17, 217, "column")):
        g = dict(image_height=h, image_width=w, input_height=ih, input_width=iw, padding=(0, 0, 0, 0))
        heads = np.full((9, 9, CH), 8.0, np.float32)  # every score ~1
        mask, parts, prob = check_scale_back(heads, g, 0.7)
        edge = (slice(-1, None), slice(None)) if last == "row" else (slice(None), slice(-1, None))
        inner = (slice(None, -1), slice(None)) if last == "row" else (slice(None), slice(None, -1))
        assert np.all(prob[edge] == 0) and np.all(mask[edge] == 0) and np.all(parts[edge] == -1)
        assert np.all(mask[inner] == 1)


def test_scale_back_single_row_nan_box_and_nan_logits() -> None:
    """H == 1 without padding: the box is 0 / 0 = NaN, so every score is NaN and nothing is a
    person; NaN logits give NaN scores that are never a person either."""
    heads = np.full((2, 3, CH), 5.0, np.float32)
    g = dict(image_height=1, image_width=20, input_height=17, input_width=33, padding=(0, 0, 0, 0))
    mask, parts, prob = check_scale_back(heads, g, 0.5)
    assert np.all(np.isnan(prob)) and not mask.any() and np.all(parts == -1)
    rng = np.random.default_rng(5)
    g = geometry(40, 30, 1.0, 16)
    heads = random_heads(rng, *grid(g, 16))
    heads[0, 0, 0] = np.nan
    heads[1, 1, 3] = np.nan
    mask, _, prob = check_scale_back(heads, g, 0.3)
    assert np.isnan(prob).any() and not mask[np.isnan(prob)].any()


def test_scale_back_part_ties_first_index() -> None:
    g = geometry(20, 20, 1.0, 16)
    heads = np.zeros(grid(g, 16) + (CH,), np.float32)
    heads[..., 0] = 5.0
    heads[..., 1 + 3] = 2.0
    heads[..., 1 + 9] = 2.0  # equal to part 3 everywhere
    _, parts, _ = check_scale_back(heads, g, 0.5)
    assert np.all(parts == 3)


@pytest.mark.parametrize("case", ["near-ties", "saturated", "tiny", "regions"])
def test_scale_back_parts_shortcut_edges(case: str) -> None:
    """Where one part wins over an input cell's four corners by a margin, the native core takes
    it without the lerps; near that margin (runner-up 0 .. 0.3 below), with saturated scores
    (sigmoids that round to 1 tie: the first index wins), tiny scores and part regions, every
    pixel still equals the reference."""
    rng = np.random.default_rng(len(case))
    g = geometry(57, 45, 1.0, 8)
    gh, gw = grid(g, 8)
    heads = random_heads(rng, gh, gw)
    heads[..., 0] = 6.0  # a person everywhere
    parts = heads[..., 1:25]
    if case == "near-ties":
        parts[:] = rng.uniform(-5, 1, parts.shape)
        winner = rng.integers(0, 24, (gh, gw))
        top = rng.uniform(-8, 8, (gh, gw))
        gaps = rng.choice([0.0, 1e-7, 1e-5, 1e-3, 0.0499, 0.05, 0.0501, 0.3], (gh, gw))
        np.put_along_axis(parts, ((winner + 1) % 24)[..., None], (top - gaps)[..., None], axis=-1)
        np.put_along_axis(parts, winner[..., None], top[..., None], axis=-1)
    elif case == "saturated":
        parts[:] = np.where(rng.uniform(size=parts.shape) < 0.5, rng.uniform(8, 40, parts.shape), 20.0)
    elif case == "tiny":
        parts[:] = rng.uniform(-40, -10, parts.shape)
    else:
        parts[:] = rng.uniform(-4, -2, parts.shape)
        ys, xs = np.indices((gh, gw))
        np.put_along_axis(parts, ((ys // 3 + xs // 4) % 24)[..., None], rng.uniform(2, 10, (gh, gw, 1)), axis=-1)
    _, got, _ = check_scale_back(heads, g, 0.5)
    assert (got >= 0).mean() > 0.9


# ---- pose decoding ---------------------------------------------------------------------------


def poses_of(heads: np.ndarray, g: dict[str, Any], stride: int, **kw: Any) -> tuple[np.ndarray, np.ndarray]:
    args = dict(max_detections=10, score_threshold=0.4, nms_radius=20.0) | kw
    kp, sc = _core.bodypix_decode_poses(heads, output_stride=stride, **args, **g)
    ekp, esc = ref.decode_poses(
        heads, stride, args["max_detections"], args["score_threshold"], args["nms_radius"], *ref_args(g)
    )
    assert kp.dtype == np.float64 and sc.dtype == np.float64
    assert kp.shape == ekp.shape and sc.shape == esc.shape
    np.testing.assert_array_equal(kp, ekp)
    np.testing.assert_array_equal(sc, esc)
    return kp, sc


@pytest.mark.parametrize("seed", range(6))
def test_decode_poses_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    stride = (8, 16)[seed % 2]
    g = geometry(int(rng.integers(1, 160)), int(rng.integers(1, 160)), float(rng.uniform(0.3, 1.5)), stride)
    heads = random_heads(rng, *grid(g, stride), scale=2.0)
    kp, _ = poses_of(
        heads,
        g,
        stride,
        max_detections=int(rng.integers(1, 15)),
        score_threshold=float(rng.uniform(0.1, 0.8)),
        nms_radius=float(rng.uniform(1, 40)),
    )
    assert kp.shape[1:] == (17, 3)


def test_decode_poses_plateaus_and_equal_scores() -> None:
    """Equal neighbours do not disqualify a candidate (a plateau yields several), and among equal
    scores the heap's own order decides which root comes first."""
    stride = 16
    g = dict(image_height=129, image_width=129, input_height=129, input_width=129, padding=(0, 0, 0, 0))
    heads = np.zeros((9, 9, CH), np.float32)
    heads[..., ref.HEATMAPS : ref.HEATMAPS + 17] = -20.0
    heads[2:5, 2:6, ref.HEATMAPS + 0] = 1.0  # a 3 x 4 plateau of noses
    heads[6:8, 1:3, ref.HEATMAPS + 9] = 1.0  # and of left wrists, same score
    kp, sc = poses_of(heads, g, stride, nms_radius=1.0, max_detections=100)
    assert len(kp) == 12 + 4  # every plateau cell is a root
    roots = [(int(k[0][0]) // stride, int(k[0][1]) // stride) for k in kp]
    scan = sorted(roots)
    assert roots != scan, "the heap order of equal scores is not the scan order"
    # scores: some below the root threshold, all finite
    assert np.all(np.isfinite(sc))


def test_decode_poses_nms_radius_inclusive() -> None:
    stride = 16
    g = dict(image_height=129, image_width=129, input_height=129, input_width=129, padding=(0, 0, 0, 0))
    heads = np.zeros((9, 9, CH), np.float32)
    heads[..., ref.HEATMAPS : ref.HEATMAPS + 17] = -20.0
    heads[2, 2, ref.HEATMAPS + 5] = 3.0
    heads[2, 5, ref.HEATMAPS + 5] = 2.0  # 3 cells = 48 px away, same keypoint
    kp, _ = poses_of(heads, g, stride, nms_radius=48.0)
    assert len(kp) == 1  # at exactly r: suppressed
    kp, _ = poses_of(heads, g, stride, nms_radius=47.999999)
    assert len(kp) == 2


def test_decode_poses_empty_and_nan() -> None:
    stride = 16
    g = geometry(64, 80, 1.0, stride)
    heads = np.zeros(grid(g, stride) + (CH,), np.float32)
    heads[..., ref.HEATMAPS : ref.HEATMAPS + 17] = -30.0
    kp, sc = poses_of(heads, g, stride)
    assert kp.shape == (0, 17, 3) and sc.shape == (0,)
    # NaN offsets: NaN positions and scores propagate as in the reference; never a crash
    rng = np.random.default_rng(9)
    heads = random_heads(rng, *grid(g, stride), scale=2.0)
    heads[1, :, ref.SHORT : ref.FWD] = np.nan
    heads[:, 2, ref.FWD : ref.LONG] = np.nan
    heads[0, 0, ref.HEATMAPS + 3] = np.nan
    kp, _ = poses_of(heads, g, stride, score_threshold=0.2)
    assert len(kp) > 0


# ---- instance decoding -----------------------------------------------------------------------


def instances_of(
    heads: np.ndarray, mask: np.ndarray, people: np.ndarray, g: dict[str, Any], stride: int, steps: int
) -> np.ndarray:
    got = _core.bodypix_decode_instances(heads, mask, people, output_stride=stride, refine_steps=steps, **g)
    expected = ref.decode_instances(heads, mask, people, stride, *ref_args(g), steps)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, expected)
    assert np.all(mask[got >= 0] == 1)
    return got


@pytest.mark.parametrize("seed", range(5))
def test_decode_instances_matches_reference(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    stride = (8, 16)[seed % 2]
    h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    g = geometry(h, w, float(rng.uniform(0.5, 2.0)), stride)
    heads = random_heads(rng, *grid(g, stride))
    heads[..., ref.LONG :] = rng.normal(0, 8 * (seed + 1), heads[..., ref.LONG :].shape)  # many out-of-range reads
    mask = (rng.random((h, w)) < 0.7).astype(np.uint8)
    mask[0, 0] = 2  # only exactly 1 counts
    n = int(rng.integers(0, 5))
    people = np.stack([rng.uniform(-5, max(h, w) + 5, (17, 3)) for _ in range(n)]) if n else np.zeros((0, 17, 3))
    if n:
        people[..., 2] = rng.uniform(0, 1, (n, 17))
    out = instances_of(heads, mask, people, g, stride, int(rng.integers(1, 21)))
    assert out[0, 0] == -1


def test_decode_instances_missing_lower_clamp_wraps_and_nan() -> None:
    """x is capped at W - 1 but never at 0: a negative cx is a flat index into the previous
    row's end; before the first row it reads NaN (nobody)."""
    stride = 16
    h = w = 33  # input 33 x 33, grid 3 x 3, no padding, scale 1
    g = dict(image_height=h, image_width=w, input_height=33, input_width=33, padding=(0, 0, 0, 0))
    heads = np.zeros((3, 3, CH), np.float32)
    lo = ref.LONG
    # pixel (16, 0) maps to cell (1, 0); its nose offset sends x to -20: cell (1, -1) = flat 2,
    # the last cell of row 0, whose nose offset then moves y by +100.
    heads[1, 0, lo + 17 + 0] = -20.0
    heads[0, 2, lo + 0] = 100.0
    # pixel (0, 0) maps to cell (0, 0); x to -20: cell (0, -1) = flat -1: NaN
    heads[0, 0, lo + 17 + 0] = -20.0
    mask = np.zeros((h, w), np.uint8)
    mask[16, 0] = mask[0, 0] = 1
    people = np.zeros((2, 17, 3))
    people[:, 0, 2] = 0.9  # only the nose counts (and only > 0.3)
    people[0, 0, :2] = (16.0, -20.0)  # where a clamped decoder would end
    people[1, 0, :2] = (116.0, -20.0)  # where the wrap sends pixel (16, 0)
    out = instances_of(heads, mask, people, g, stride, 1)
    assert out[16, 0] == 1
    assert out[0, 0] == -1


def test_decode_instances_rules() -> None:
    stride = 16
    g = geometry(30, 40, 1.0, stride)
    rng = np.random.default_rng(4)
    heads = random_heads(rng, *grid(g, stride))
    heads[..., ref.LONG :] = rng.uniform(-0.4, 0.4, heads[..., ref.LONG :].shape)  # finite embeddings everywhere
    mask = np.ones((30, 40), np.uint8)
    # no people: nobody anywhere
    out = instances_of(heads, mask, np.zeros((0, 17, 3)), g, stride, 10)
    assert np.all(out == -1)
    # two identical people: the first minimum wins
    person = rng.uniform(0, 30, (17, 3))
    person[:, 2] = 0.9
    out = instances_of(heads, mask, np.stack([person, person]), g, stride, 3)
    assert np.all(out == 0)
    # a person whose face keypoints are all <= 0.3 (fixed threshold, even 0.3 itself) never wins;
    # a NaN keypoint position never wins either
    weak = person.copy()
    weak[:5, 2] = 0.3
    nan_person = person.copy()
    nan_person[0, 0] = np.nan
    out = instances_of(heads, mask, np.stack([weak, nan_person]), g, stride, 3)
    assert np.all(out == -1)
    # strided mask and keypoints views
    wide = np.zeros((30, 80), np.uint8)
    wide[:, ::2] = mask
    people = np.stack([person, weak])
    wide_people = np.repeat(people, 2, axis=0)[::2]
    a = instances_of(heads, wide[:, ::2], wide_people, g, stride, 5)
    b = instances_of(heads, mask, np.ascontiguousarray(people), g, stride, 5)
    np.testing.assert_array_equal(a, b)


# ---- validation ------------------------------------------------------------------------------

G = dict(image_height=30, image_width=40, input_height=33, input_width=49, padding=(0, 0, 2, 2))
HEADS = np.zeros((3, 4, CH), np.float32)
POSE_ARGS = dict(output_stride=16, max_detections=10, score_threshold=0.4, nms_radius=20.0)


def _scale(**kw: Any) -> Any:
    args: dict[str, Any] = dict(G) | dict(threshold=0.5) | kw
    heads = args.pop("heads", HEADS)
    return _core.bodypix_scale_back(heads, **args)


def _poses(**kw: Any) -> Any:
    args: dict[str, Any] = dict(G) | POSE_ARGS | kw
    heads = args.pop("heads", HEADS)
    return _core.bodypix_decode_poses(heads, **args)


def _instances(**kw: Any) -> Any:
    args: dict[str, Any] = dict(G) | dict(output_stride=16, refine_steps=10) | kw
    heads = args.pop("heads", HEADS)
    mask = args.pop("mask", np.ones((30, 40), np.uint8))
    keypoints = args.pop("keypoints", np.zeros((1, 17, 3)))
    return _core.bodypix_decode_instances(heads, mask, keypoints, **args)


def _pre(**kw: Any) -> Any:
    args: dict[str, Any] = dict(input_height=33, input_width=49, padding=(0, 0, 2, 2)) | kw
    pixels = args.pop("pixels", np.zeros((30, 40, 3), np.uint8))
    return _core.bodypix_preprocess(pixels, **args)


@pytest.mark.parametrize(
    ("call", "kw", "error", "match"),
    [
        (_scale, dict(heads=HEADS.astype(np.float64)), TypeError, "float32"),
        (_scale, dict(heads=HEADS[..., :173]), ValueError, "174"),
        (_scale, dict(heads=HEADS[0]), ValueError, "shape"),
        (_scale, dict(heads=[[0.0]]), TypeError, "heads"),
        (_scale, dict(heads=np.zeros((0, 4, CH), np.float32)), ValueError, "heads"),
        (_scale, dict(threshold=1.5), ValueError, "threshold"),
        (_scale, dict(threshold=-0.1), ValueError, "threshold"),
        (_scale, dict(threshold=float("nan")), ValueError, "threshold"),
        (_scale, dict(padding=(0, 0, 2)), TypeError, "padding"),
        (_scale, dict(padding=(0, 0, 2, -1)), ValueError, "padding right"),
        (_scale, dict(padding=(0, 0, 2.0, 2)), TypeError, "padding"),
        (_scale, dict(padding="abcd"), TypeError, "padding"),
        (_scale, dict(padding=(0, 0, 2**40, 0)), ValueError, "padding left"),
        (_scale, dict(image_height=0), ValueError, "image_height"),
        (_scale, dict(input_width=70000), ValueError, "input_width"),
        (_scale, dict(num_threads=-1), ValueError, "num_threads"),
        (_poses, dict(output_stride=12), ValueError, "output_stride"),
        (_poses, dict(input_height=34), ValueError, "input_height"),
        (_poses, dict(heads=np.zeros((4, 4, CH), np.float32)), ValueError, "heads grid"),
        (_poses, dict(max_detections=0), ValueError, "max_detections"),
        (_poses, dict(score_threshold=1.01), ValueError, "score_threshold"),
        (_poses, dict(nms_radius=0.0), ValueError, "nms_radius"),
        (_poses, dict(nms_radius=float("inf")), ValueError, "nms_radius"),
        (_instances, dict(refine_steps=0), ValueError, "refine_steps"),
        (_instances, dict(refine_steps=21), ValueError, "refine_steps"),
        (_instances, dict(mask=np.ones((30, 41), np.uint8)), ValueError, "mask"),
        (_instances, dict(mask=np.ones((30, 40), np.int32)), TypeError, "mask"),
        (_instances, dict(mask=np.ones((30, 40, 1), np.uint8)), ValueError, "mask"),
        (_instances, dict(keypoints=np.zeros((1, 17, 3), np.float32)), TypeError, "keypoints"),
        (_instances, dict(keypoints=np.zeros((1, 16, 3))), ValueError, "keypoints"),
        (_instances, dict(keypoints=[[0.0]]), TypeError, "keypoints"),
        (_instances, dict(output_stride=8), ValueError, "heads grid"),
        (_pre, dict(pixels=np.zeros((30, 40, 3), np.int16)), TypeError, "pixels"),
        (_pre, dict(pixels=np.zeros((30, 40, 4), np.uint8)), ValueError, "pixels"),
        (_pre, dict(pixels=np.zeros((0, 40, 3), np.uint8)), ValueError, "image_height"),
        (_pre, dict(input_height=0), ValueError, "input_height"),
        (_pre, dict(padding=None), TypeError, "padding"),
        (_pre, dict(num_threads=-2), ValueError, "num_threads"),
    ],
)
def test_validation(call: Any, kw: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call(**kw)


def test_consumed_dlpack_capsule_on_cpu() -> None:
    """A CPU DLPack tensor is read in place, like the numpy array."""
    rng = np.random.default_rng(1)
    heads = random_heads(rng, 3, 4)
    a = _scale(heads=heads, parts=True, probability=True)
    b = _scale(heads=heads.__dlpack__(), parts=True, probability=True)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("seed", range(4))
def test_extreme_values_match_reference(seed: int) -> None:
    """Heads full of infinities, NaNs, huge and tiny values: every stage still equals the
    reference (no crash, no undefined conversion)."""
    rng = np.random.default_rng(500 + seed)
    stride = 16
    g = geometry(int(rng.integers(1, 30)), int(rng.integers(1, 30)), float(rng.uniform(0.6, 2.0)), stride)
    gh, gw = grid(g, stride)
    choices = np.array([np.inf, -np.inf, np.nan, 1e30, -1e30, 1e-30, 0.0, -0.0, 3.0, -3.0, 2.0**53, -(2.0**60)])
    heads = rng.choice(choices, (gh, gw, CH)).astype(np.float32)
    heads[..., ref.HEATMAPS : ref.SHORT] = rng.normal(0, 3, (gh, gw, 17)).astype(np.float32)
    check_scale_back(heads, g, 0.5)
    kp, _ = poses_of(heads, g, stride, score_threshold=0.1)
    h, w = g["image_height"], g["image_width"]
    mask = np.ones((h, w), np.uint8)
    people = rng.choice(choices, (3, 17, 3)).astype(np.float64)
    people[..., 2] = rng.uniform(0, 1, (3, 17))
    instances_of(heads, mask, people, g, stride, 4)
    if len(kp):
        instances_of(heads, mask, np.ascontiguousarray(kp), g, stride, 2)
