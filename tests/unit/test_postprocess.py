"""Native (_core) post-processing against the TensorFlow reference, on random logits."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import person_segmentation as ps
from person_segmentation import _core, _postprocess, _postprocess_tf


def native_person_mask(segment: np.ndarray, g: ps.ResizePadGeometry, threshold: float, flip: bool) -> np.ndarray:
    """The native mask through the package's one post-processing dispatch."""
    return _postprocess.run(segment, g, parts=False, threshold=threshold, flip=flip)


def native_part_segmentation(
    segment: np.ndarray, parts: np.ndarray, g: ps.ResizePadGeometry, threshold: float, flip: bool
) -> np.ndarray:
    return _postprocess.run(np.concatenate((segment, parts), -1), g, parts=True, threshold=threshold, flip=flip)


tf_person_mask = _postprocess_tf.person_mask
tf_part_segmentation = _postprocess_tf.part_segmentation


# (image H, W, logit grid h, w): landscape, portrait, square, tiny, 1-pixel, big, grids of all strides.
SHAPES = [
    (480, 640, 23, 17),
    (640, 480, 23, 17),
    (333, 500, 45, 33),
    (500, 333, 12, 9),
    (257, 257, 23, 17),
    (353, 257, 45, 33),
    (1, 1, 23, 17),
    (1, 517, 23, 17),
    (611, 1, 12, 9),
    (3, 2, 45, 33),
    (1080, 1920, 23, 17),
    (97, 1301, 45, 33),
    (64, 48, 2, 2),
    (100, 100, 1, 1),
]


def random_logits(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    segment = rng.normal(0.0, 3.0, (h, w, 1)).astype(np.float32)
    parts = rng.normal(0.0, 2.0, (h, w, 24)).astype(np.float32)
    return segment, parts


def tf_scores(segment: np.ndarray, parts: np.ndarray, g: ps.ResizePadGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution scores of the TF reference, to tell near-threshold pixels and near-ties."""
    import tensorflow as tf

    geometry = _postprocess_tf._geometry_tensor(g)
    seg = _postprocess_tf._scale_back(tf.math.sigmoid(segment), geometry).numpy()[:, :, 0]
    prt = _postprocess_tf._scale_back(tf.math.sigmoid(parts), geometry).numpy()
    return seg, prt


def assert_agree(native_mask, tf_mask, native_parts, tf_parts, seg_scores, part_scores, flip) -> None:
    """Masks identical except within 1e-5 of the threshold; parts identical except near-ties."""
    if flip:
        seg_scores, part_scores = seg_scores[:, ::-1], part_scores[:, ::-1]
    near_threshold = np.abs(seg_scores - 0.5) <= 1e-5
    mask_diff = native_mask != tf_mask
    assert not np.any(mask_diff & ~near_threshold), f"{mask_diff.sum()} mask pixels differ away from the threshold"
    top2 = np.sort(part_scores, axis=-1)[..., -2:]
    near_tie = (top2[..., 1] - top2[..., 0]) <= 1e-5
    part_diff = (native_parts != tf_parts) & ~near_threshold
    assert not np.any(part_diff & ~near_tie), f"{part_diff.sum()} part pixels differ away from ties"


@pytest.mark.parametrize(("H", "W", "h", "w"), SHAPES)
@pytest.mark.parametrize("flip", [False, True])
def test_native_matches_tf_reference(H: int, W: int, h: int, w: int, flip: bool) -> None:
    rng = np.random.default_rng(H * 7919 + W * 31 + h)
    segment, parts = random_logits(rng, h, w)
    g = ps.compute_geometry(H, W)
    native_mask = native_person_mask(segment, g, 0.5, flip)
    native_parts = native_part_segmentation(segment, parts, g, 0.5, flip)
    tf_mask = tf_person_mask(segment, g, 0.5, flip)
    tf_parts = tf_part_segmentation(segment, parts, g, 0.5, flip)
    assert native_mask.dtype == np.uint8 and native_mask.shape == (H, W) and native_mask.flags.c_contiguous
    assert native_parts.dtype == np.int32 and native_parts.shape == (H, W) and native_parts.flags.c_contiguous
    assert set(np.unique(native_mask)) <= {0, 1}
    assert native_parts.min() >= -1 and native_parts.max() <= 23
    np.testing.assert_array_equal(native_parts >= 0, native_mask == 1)
    seg_scores, part_scores = tf_scores(segment, parts, g)
    assert_agree(native_mask, tf_mask, native_parts, tf_parts, seg_scores, part_scores, flip)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.7, 1.0])
def test_thresholds(threshold: float) -> None:
    rng = np.random.default_rng(5)
    segment, parts = random_logits(rng, 23, 17)
    g = ps.compute_geometry(240, 320)
    a = native_person_mask(segment, g, threshold, False)
    b = tf_person_mask(segment, g, threshold, False)
    seg_scores, _ = tf_scores(segment, parts, g)
    differ = a != b
    assert not np.any(differ & (np.abs(seg_scores - threshold) > 1e-5))
    if threshold == 1.0:
        assert a.sum() == 0  # strict ">" : a sigmoid never exceeds 1


def test_threshold_is_strict() -> None:
    """A logit of exactly 0 gives score 0.5, which is not > 0.5."""
    g = ps.compute_geometry(10, 10)
    zeros = np.zeros((23, 17, 1), np.float32)
    assert _core.person_mask(zeros, g, segmentation_threshold=0.5).sum() == 0
    assert _core.person_mask(zeros, g, segmentation_threshold=0.4999).all()


def test_flip_reverses_columns() -> None:
    rng = np.random.default_rng(9)
    segment, parts = random_logits(rng, 23, 17)
    g = ps.compute_geometry(120, 90)
    for fn, args in ((_core.person_mask, (segment,)), (_core.part_segmentation, (segment, parts))):
        plain = fn(*args, g, flip_horizontal=False)
        flipped = fn(*args, g, flip_horizontal=True)
        np.testing.assert_array_equal(flipped, plain[:, ::-1])


def test_part_argmax_first_index_wins_ties() -> None:
    g = ps.compute_geometry(8, 8)
    segment = np.full((23, 17, 1), 5.0, np.float32)
    parts = np.zeros((23, 17, 24), np.float32)
    parts[..., 7] = 1.0
    parts[..., 19] = 1.0  # tie with 7: the first index wins
    assert np.all(_core.part_segmentation(segment, parts, g) == 7)
    assert np.all(tf_part_segmentation(segment, parts, g, 0.5, False) == 7)


def test_strided_and_non_contiguous_views() -> None:
    rng = np.random.default_rng(3)
    both = rng.normal(0, 2, (23, 17, 25)).astype(np.float32)
    g = ps.compute_geometry(200, 300)
    expected = _core.part_segmentation(np.ascontiguousarray(both[..., :1]), np.ascontiguousarray(both[..., 1:]), g)
    np.testing.assert_array_equal(_core.part_segmentation(both[..., :1], both[..., 1:], g), expected)
    # Fortran order and negative strides.
    np.testing.assert_array_equal(
        _core.part_segmentation(np.asfortranarray(both[..., :1]), np.asfortranarray(both[..., 1:]), g), expected
    )
    rev = both[::-1, ::-1, ::-1]
    np.testing.assert_array_equal(_core.part_segmentation(rev[::-1, ::-1, 24:], rev[::-1, ::-1, 23::-1], g), expected)
    # A 2-D (h, w) segment is accepted as (h, w, 1).
    np.testing.assert_array_equal(_core.person_mask(both[..., 0], g), _core.person_mask(both[..., :1], g))


def test_thread_count_does_not_change_results() -> None:
    rng = np.random.default_rng(4)
    segment, parts = random_logits(rng, 45, 33)
    g = ps.compute_geometry(720, 1280)
    results = [_core.part_segmentation(segment, parts, g, num_threads=n) for n in (1, 2, 3, 8)]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


def test_concurrent_calls_release_the_gil_and_agree() -> None:
    rng = np.random.default_rng(6)
    segment, parts = random_logits(rng, 23, 17)
    g = ps.compute_geometry(480, 640)
    expected = _core.part_segmentation(segment, parts, g)
    out: list[np.ndarray] = []

    def work() -> None:
        for _ in range(5):
            out.append(_core.part_segmentation(segment, parts, g))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 20
    for r in out:
        np.testing.assert_array_equal(r, expected)


class TestCoreErrors:
    g = ps.compute_geometry(10, 10)
    seg = np.zeros((23, 17, 1), np.float32)
    parts = np.zeros((23, 17, 24), np.float32)

    def test_dtype(self) -> None:
        with pytest.raises(TypeError, match="segment_logits must be a float32 array, got dtype float64"):
            _core.person_mask(self.seg.astype(np.float64), self.g)
        with pytest.raises(TypeError, match="part_logits must be a float32 array, got dtype int32"):
            _core.part_segmentation(self.seg, self.parts.astype(np.int32), self.g)

    def test_rank(self) -> None:
        with pytest.raises(
            ValueError, match=r"segment_logits must have shape \(h, w\) or \(h, w, 1\), got shape \(23,\)"
        ):
            _core.person_mask(np.zeros(23, np.float32), self.g)
        with pytest.raises(ValueError, match=r"part_logits must have shape \(h, w, channels\), got shape \(23, 17\)"):
            _core.part_segmentation(self.seg, np.zeros((23, 17), np.float32), self.g)

    def test_sizes(self) -> None:
        with pytest.raises(ValueError, match="exactly 1 channel"):
            _core.person_mask(np.zeros((23, 17, 2), np.float32), self.g)
        with pytest.raises(ValueError, match="does not match segment_logits grid"):
            _core.part_segmentation(self.seg, np.zeros((22, 17, 24), np.float32), self.g)
        with pytest.raises(ValueError, match="1 <= h, w"):
            _core.person_mask(np.zeros((0, 17, 1), np.float32), self.g)
        with pytest.raises(ValueError, match="larger than the model input"):
            _core.person_mask(np.zeros((400, 17, 1), np.float32), self.g)

    def test_options(self) -> None:
        with pytest.raises(ValueError, match="must not be NaN"):
            _core.person_mask(self.seg, self.g, segmentation_threshold=float("nan"))
        with pytest.raises(ValueError, match="num_threads must be >= 0"):
            _core.person_mask(self.seg, self.g, num_threads=-2)
        with pytest.raises(TypeError):
            _core.person_mask(self.seg, "not a geometry")  # type: ignore[arg-type]

    def test_misaligned_view(self) -> None:
        buffer = np.zeros(23 * 70 + 64, np.uint8)
        odd = np.ndarray(shape=(23, 17, 1), dtype=np.float32, buffer=buffer, strides=(70, 4, 4))
        with pytest.raises(ValueError, match="not a multiple of 4 bytes"):
            _core.person_mask(odd, self.g)


@pytest.mark.parametrize("threshold", [-np.inf, -1.0, -0.75])
def test_nan_logits_are_never_a_person_even_at_threshold_minus_inf(threshold: float) -> None:
    """NaN segment logits score -1 (below every real score); a threshold below that, down to
    -inf, still leaves them out (as TensorFlow: sigmoid(NaN) > -inf is false) while every real
    logit is a person. Found by the property test test_core_on_any_logits_layout."""
    from person_segmentation import _core

    seg = np.array([[[np.nan], [-1e30]], [[0.0], [np.nan]]], np.float32)
    parts = np.zeros((2, 2, 3), np.float32)
    g = _core.compute_geometry(2, 2)
    mask = _core.person_mask(seg, g, segmentation_threshold=threshold)
    np.testing.assert_array_equal(mask, [[0, 1], [1, 0]])
    part_map = _core.part_segmentation(seg, parts, g, segmentation_threshold=threshold)
    np.testing.assert_array_equal(part_map >= 0, mask == 1)


@pytest.mark.parametrize("method", ["native", "tf"])
def test_both_methods_refuse_the_same_bad_logits(method: str) -> None:
    """The TensorFlow reference used to hand bad logits to TensorFlow (InvalidArgumentError)."""
    g = ps.compute_geometry(33, 47)
    with pytest.raises(ValueError, match="must have shape"):
        ps.person_mask_from_logits(np.zeros((0, 0, 1), np.float32), geometry=g, postprocess=method)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ps.part_segmentation_from_logits(np.zeros((33, 33, 1), np.float32), geometry=g, postprocess=method)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float32"):
        ps.person_mask_from_logits(np.zeros((23, 17, 1), np.float64), geometry=g, postprocess=method)  # type: ignore[arg-type]
