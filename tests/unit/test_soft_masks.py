"""Soft masks: the native person probability (CPU; the CUDA kernel is in tests/cuda), its API,
compositing with it, and the guided-filter refinement. No weights needed."""

from __future__ import annotations

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation import _core, _postprocess, _refine, render

from ._synthetic import calibrated_weights

SHAPES = [(480, 640, 23, 17), (640, 480, 23, 17), (333, 500, 45, 33), (1, 1, 23, 17), (3, 2, 12, 9)]


def logits(h: int, w: int, channels: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((h, w, channels)) * 4).astype(np.float32)


@pytest.mark.parametrize(("H", "W", "h", "w"), SHAPES)
@pytest.mark.parametrize("flip", [False, True])
def test_probability_thresholded_is_the_mask_exactly(H: int, W: int, h: int, w: int, flip: bool) -> None:
    seg = logits(h, w, 1)
    g = ps.compute_geometry(H, W)
    for threshold in (0.0, 0.25, 0.5, 0.7, 1.0):
        mask, probability = _core.person_probability(seg, g, segmentation_threshold=threshold, flip_horizontal=flip)
        expected = _core.person_mask(seg, g, segmentation_threshold=threshold, flip_horizontal=flip)
        assert probability.dtype == np.float32 and probability.shape == (H, W)
        assert probability.flags.c_contiguous
        np.testing.assert_array_equal(mask, expected)
        np.testing.assert_array_equal((probability > threshold).astype(np.uint8), expected)
        assert probability.min() >= 0.0 and probability.max() <= 1.0


@pytest.mark.parametrize(("H", "W", "h", "w"), SHAPES)
@pytest.mark.parametrize("flip", [False, True])
def test_part_pass_gives_the_same_part_map_and_probability(H: int, W: int, h: int, w: int, flip: bool) -> None:
    seg, parts = logits(h, w, 1, 1), logits(h, w, 24, 2)
    g = ps.compute_geometry(H, W)
    got, probability = _core.part_segmentation_with_probability(seg, parts, g, flip_horizontal=flip)
    np.testing.assert_array_equal(got, _core.part_segmentation(seg, parts, g, flip_horizontal=flip))
    _, alone = _core.person_probability(seg, g, flip_horizontal=flip)
    np.testing.assert_array_equal(probability, alone)


def test_probability_flip_mirrors_columns() -> None:
    seg = logits(23, 17, 1, 3)
    g = ps.compute_geometry(120, 90)
    _, plain = _core.person_probability(seg, g)
    _, flipped = _core.person_probability(seg, g, flip_horizontal=True)
    np.testing.assert_array_equal(flipped, plain[:, ::-1])


def test_probability_is_the_scaled_back_sigmoid() -> None:
    """A constant logit gives its sigmoid everywhere (the resizes of a constant are constant)."""
    seg = np.full((23, 17, 1), 0.75, np.float32)
    _, probability = _core.person_probability(seg, ps.compute_geometry(50, 40))
    np.testing.assert_allclose(probability, 1 / (1 + np.exp(-0.75)), rtol=1e-6)


def test_nan_logits_have_probability_zero_and_are_never_a_person() -> None:
    seg = np.full((23, 17, 1), np.nan, np.float32)
    mask, probability = _core.person_probability(seg, ps.compute_geometry(30, 20), segmentation_threshold=0.0)
    assert not mask.any() and (probability == 0).all()


def test_tf_reference_probability_agrees() -> None:
    seg = logits(23, 17, 1, 4)
    g = ps.compute_geometry(97, 61)
    _, native = _postprocess.run_probability(seg, g, parts=False, threshold=0.5, flip=True)
    mask, reference = _postprocess.run_probability(seg, g, parts=False, threshold=0.5, flip=True, method="tf")
    np.testing.assert_allclose(reference, native, atol=2e-6)
    np.testing.assert_array_equal(mask, (reference > 0.5).astype(np.uint8))


def test_probability_errors_name_the_argument() -> None:
    g = ps.compute_geometry(10, 10)
    with pytest.raises(TypeError, match="segment_logits must be a float32 array"):
        _core.person_probability(np.zeros((23, 17, 1), np.float64), g)
    with pytest.raises(ValueError, match="segmentation_threshold must not be NaN"):
        _core.person_probability(logits(23, 17, 1), g, segmentation_threshold=float("nan"))
    with pytest.raises(ValueError, match="part_logits grid"):
        _core.part_segmentation_with_probability(logits(23, 17, 1), logits(22, 17, 24), g)


# -- the API -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (6, 8, 3)).astype(np.uint8)
    return np.asarray(PIL.Image.fromarray(base).resize((160, 120), PIL.Image.BILINEAR))


@pytest.fixture(scope="module")
def net(photo: np.ndarray) -> ps.PersonSegmentation:
    return ps.PersonSegmentation(calibrated_weights(0.5, photo, seed=1), engine="tf")


def test_segment_equals_the_estimates(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    for threshold in (0.3, 0.5):
        result = net.segment(photo, segmentation_threshold=threshold)
        mask = net.estimate_person_segmentation(photo, segmentation_threshold=threshold)
        assert 0 < mask.sum() < mask.size  # a non-trivial case
        np.testing.assert_array_equal(result.mask, mask)
        np.testing.assert_array_equal((result.probability > threshold).astype(np.uint8), mask)
        assert result.parts is None
    probability = net.estimate_person_probability(photo, True)
    np.testing.assert_array_equal((probability > 0.5).astype(np.uint8), net.estimate_person_segmentation(photo, True))


def test_segment_with_parts(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    result = net.segment(photo, parts=True, swap_left_right=True)
    parts = net.estimate_part_segmentation(photo, swap_left_right=True)
    assert result.parts is not None
    np.testing.assert_array_equal(result.parts, parts)
    np.testing.assert_array_equal(result.mask, (parts >= 0).astype(np.uint8))
    np.testing.assert_array_equal(result.mask, (result.probability > 0.5).astype(np.uint8))


def test_segment_stream_results(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    images = [photo, photo[::-1].copy()]
    results = list(net.segment_stream(images, results=True, workers=2))
    assert [type(r) for r in results] == [ps.PersonSegmentationResult] * 2
    for image, result in zip(images, results, strict=True):
        np.testing.assert_array_equal(result.probability, net.estimate_person_probability(image))


def test_probability_from_logits(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    lg = net.estimate_logits(photo, flip_horizontal=True)
    probability = ps.person_probability_from_logits(lg)
    np.testing.assert_array_equal((probability > 0.4).astype(np.uint8), ps.person_mask_from_logits(lg, 0.4))
    raw = ps.person_probability_from_logits(lg.segment, geometry=lg.geometry)
    np.testing.assert_array_equal(raw, probability[:, ::-1])
    with pytest.raises(ValueError, match="geometry must be None"):
        ps.person_probability_from_logits(lg, geometry=lg.geometry)


def test_segment_argument_errors(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    with pytest.raises(ValueError, match="refine must be one of"):
        net.segment(photo, refine="bilateral")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="swap_left_right needs parts=True"):
        net.segment(photo, swap_left_right=True)
    with pytest.raises(TypeError, match="results must be"):
        net.segment_stream([photo], results=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="segmentation_threshold must be"):
        net.segment(photo, segmentation_threshold=1.5)


# -- refinement --------------------------------------------------------------------------------
def test_guided_refinement_is_thresholded_and_in_range(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    result = net.segment(photo, parts=True, refine="guided")
    assert result.probability.dtype == np.float32
    assert 0.0 <= result.probability.min() and result.probability.max() <= 1.0
    np.testing.assert_array_equal(result.mask, (result.probability > 0.5).astype(np.uint8))
    assert result.parts is not None
    assert ((result.parts >= 0) <= (result.mask == 1)).all()  # no part outside the refined mask
    plain = net.segment(photo)
    assert not np.array_equal(result.probability, plain.probability)
    none = net.segment(photo, refine="none")
    np.testing.assert_array_equal(none.probability, plain.probability)


def test_guided_filter_keeps_constants_and_snaps_to_guide_edges() -> None:
    guide = np.zeros((40, 40, 3), np.uint8)
    guide[:, 20:] = 255  # a sharp edge at column 20
    constant = np.full((40, 40), 0.3, np.float32)
    np.testing.assert_allclose(_refine.guided_filter(guide, constant, 4, 1e-3), 0.3, atol=1e-5)
    ramp = np.tile(np.clip((np.arange(40) - 16) / 8, 0, 1).astype(np.float32), (40, 1))  # a soft edge
    out = _refine.guided_filter(guide, ramp, 6, 1e-4)
    # across the guide's edge (columns 19 -> 20) the input rises by 0.125, the output by > 0.5:
    # the soft edge snaps to the image's edge, and the 0.5 threshold falls exactly on it
    assert ramp[20, 20] - ramp[20, 19] == pytest.approx(0.125)
    assert out[20, 20] - out[20, 19] > 0.5
    assert (out[20] > 0.5).tolist() == [False] * 20 + [True] * 20
    # the fast form (coefficients fitted at 1/2 resolution) keeps constants and the snap
    np.testing.assert_allclose(_refine.guided_filter(guide, constant, 4, 1e-3, subsample=2), 0.3, atol=1e-5)
    fast = _refine.guided_filter(guide, ramp, 6, 1e-4, subsample=2)
    assert fast[20, 20] - fast[20, 19] > 0.5
    assert (fast[20] > 0.5).tolist() == [False] * 20 + [True] * 20


# -- compositing -------------------------------------------------------------------------------
def test_soft_alpha() -> None:
    p = np.array([[0.0, 0.4, 0.5, 0.6, 1.0]], np.float32)
    np.testing.assert_array_equal(render.soft_alpha(p, 0.5, 0.0), [[0, 0, 0, 1, 1]])
    np.testing.assert_allclose(render.soft_alpha(p, 0.5, 0.4), [[0, 0.25, 0.5, 0.75, 1]], atol=1e-6)
    with pytest.raises(ValueError, match="probability must hold finite values in"):
        render.soft_alpha(np.full((2, 2), 1.5, np.float32))
    with pytest.raises(TypeError, match="probability must be a float"):
        render.soft_alpha(np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="softness must be"):
        render.soft_alpha(p, 0.5, 2.0)


@pytest.mark.parametrize("edge_blur", [0, 3])
def test_compositing_with_a_0_1_map_equals_the_hard_mask(edge_blur: int) -> None:
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    probability = rng.random((30, 40)).astype(np.float32)
    mask = (probability > 0.5).astype(np.uint8)
    alpha = render.soft_alpha(probability, 0.5, 0.0)
    np.testing.assert_array_equal(
        render.draw_bokeh_effect(image, alpha, 3, edge_blur), render.draw_bokeh_effect(image, mask, 3, edge_blur)
    )
    np.testing.assert_array_equal(
        render.replace_background(image, alpha, (0, 177, 64), edge_blur),
        render.replace_background(image, mask, (0, 177, 64), edge_blur),
    )


def test_a_soft_alpha_feathers_the_edge_without_a_blur() -> None:
    image = np.full((1, 5, 3), 200, np.uint8)
    probability = np.array([[0.0, 0.45, 0.5, 0.55, 1.0]], np.float32)
    out = render.replace_background(image, render.soft_alpha(probability, 0.5, 0.2), (0, 0, 0), 0)
    # alpha = 0, 0.25, 0.5, 0.75, 1: the edge is a ramp from the background to the person
    np.testing.assert_array_equal(out[0, :, 0], [0, 50, 100, 150, 200])


@pytest.mark.parametrize("parts", [False, True])
def test_video_frames_carry_the_smoothed_probability(
    net: ps.PersonSegmentation, photo: np.ndarray, parts: bool
) -> None:
    from person_segmentation import video

    segmenter = video.VideoSegmenter(net, smoothing=0.6, parts=parts, segmentation_threshold=0.45)
    frames = [photo, photo[::-1].copy(), photo]
    for frame in frames:
        result = segmenter.process(frame)
        assert result.probability is not None and result.probability.dtype == np.float32
        np.testing.assert_array_equal(result.mask, (result.probability > 0.45).astype(np.uint8))
    plain = video.VideoSegmenter(net, smoothing=0.0).process(photo)
    assert plain.probability is not None
    np.testing.assert_array_equal(plain.probability, net.estimate_person_probability(photo))
