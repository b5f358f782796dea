"""Resize/pad geometry and output-stride conversion (no weights needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import person_segmentation as ps
from person_segmentation._network import MobileNetV1, conv_schedule, effective_output_stride, feature_size

from ._synthetic import synthetic_weights


def js_geometry(h: int, w: int) -> tuple[int, int, int, int, int, int]:
    """REFERENCE.md section 3, written independently: (rh, rw, top, bottom, left, right)."""
    aspect, target = w / h, 257 / 353
    if aspect > target:
        rw, rh = 257, math.ceil(257 / aspect)
        top = (353 - rh) // 2
        return rh, rw, top, 353 - rh - top, 0, 0
    rh, rw = 353, math.ceil(353 * aspect)
    left = (257 - rw) // 2
    return rh, rw, 0, 0, left, 257 - rw - left


@pytest.mark.parametrize(
    ("h", "w", "expected"),
    [
        (480, 640, (193, 257, 80, 80, 0, 0)),  # landscape
        (500, 333, (353, 236, 0, 0, 10, 11)),  # portrait (the BodyPix 1.0 fix: ceil(353 * aspect))
        (400, 400, (257, 257, 48, 48, 0, 0)),  # square
        (353, 257, (353, 257, 0, 0, 0, 0)),  # exactly the model input
        (1000, 1, (353, 1, 0, 0, 128, 128)),  # 1 pixel wide
        (1, 1000, (1, 257, 176, 176, 0, 0)),  # 1 pixel high
        (1, 1, (257, 257, 48, 48, 0, 0)),
    ],
)
def test_geometry_cases(h: int, w: int, expected: tuple[int, ...]) -> None:
    g = ps.compute_geometry(h, w)
    got = (g.resized_height, g.resized_width, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right)
    assert got == expected
    assert (g.image_height, g.image_width, g.model_height, g.model_width) == (h, w, 353, 257)


def test_geometry_matches_formula_everywhere() -> None:
    rng = np.random.default_rng(0)
    for h, w in rng.integers(1, 5000, size=(2000, 2)):
        g = ps.compute_geometry(int(h), int(w))
        got = (g.resized_height, g.resized_width, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right)
        assert got == js_geometry(int(h), int(w)), (h, w)


@pytest.mark.parametrize(("h", "w"), [(0, 10), (10, 0), (-3, 4)])
def test_geometry_rejects_empty(h: int, w: int) -> None:
    with pytest.raises(ValueError, match=r"must be in 1\.\.65536"):
        ps.compute_geometry(h, w)


def test_geometry_value_semantics() -> None:
    a, b = ps.compute_geometry(480, 640), ps.compute_geometry(480, 640)
    assert a == b and hash(a) == hash(b) and a != ps.compute_geometry(640, 480)
    assert "pad_top=80" in repr(a)
    with pytest.raises(AttributeError):
        a.pad_top = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="must equal model_height"):
        ps.ResizePadGeometry(
            image_height=4,
            image_width=4,
            model_height=353,
            model_width=257,
            resized_height=257,
            resized_width=257,
            pad_top=48,
            pad_bottom=47,
            pad_left=0,
            pad_right=0,
        )


# Expected (stride, dilation) per block, written out from REFERENCE.md's rule.
_STRIDE_8_START = [(2, 1), (1, 1), (2, 1), (1, 1), (2, 1), (1, 1), (1, 1)]  # blocks 0..6 at output stride 8
_STRIDE_16_START = [(2, 1), (1, 1), (2, 1), (1, 1), (2, 1), (1, 1), (2, 1)]  # blocks 0..6 otherwise
SCHEDULES = {
    (1.0, 8): _STRIDE_8_START + [(1, 2)] * 6 + [(1, 4)],
    (1.0, 16): _STRIDE_16_START + [(1, 1)] * 6 + [(1, 2)],
    (1.0, 32): _STRIDE_16_START + [(1, 1)] * 5 + [(2, 1), (1, 1)],
    (0.5, 8): _STRIDE_8_START + [(1, 2)] * 7,
    (0.5, 16): _STRIDE_16_START + [(1, 1)] * 7,
    (0.5, 32): _STRIDE_16_START + [(1, 1)] * 7,
}


@pytest.mark.parametrize(("multiplier", "stride"), sorted(SCHEDULES))
def test_conv_schedule(multiplier: float, stride: int) -> None:
    assert list(conv_schedule(multiplier, stride)) == SCHEDULES[(multiplier, stride)]


@pytest.mark.parametrize("multiplier", ps.MULTIPLIERS)
@pytest.mark.parametrize("stride", ps.OUTPUT_STRIDES)
def test_output_stride_conversion_every_multiplier(multiplier: float, stride: int) -> None:
    """The real network's logit grid has the size the stride rule predicts."""
    effective = effective_output_stride(multiplier, stride)
    assert effective == (stride if multiplier == 1.0 or stride < 32 else 16)
    net = MobileNetV1(synthetic_weights(multiplier).tensors, multiplier)
    x = np.zeros((1, 353, 257, 3), np.float32)
    logits = net.heads(net.features(x, stride), True).numpy()
    expected = (feature_size(353, multiplier, stride), feature_size(257, multiplier, stride))
    assert expected == (math.ceil(353 / effective), math.ceil(257 / effective))
    assert logits.shape == (1, *expected, 25)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0, ValueError),
        (4, ValueError),
        (12, ValueError),
        (64, ValueError),
        (16.0, TypeError),
        ("16", TypeError),
        (None, TypeError),
        (True, TypeError),
    ],
)
def test_bad_output_stride(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"output_stride must be one of \(8, 16, 32\), got"):
        conv_schedule(0.5, bad)  # type: ignore[arg-type]


def test_native_limits_come_from_the_core_once() -> None:
    """The model size, the largest side and the part count are defined in C++ (constants.hpp)
    and exported by _core; the Python constants are those values."""
    from person_segmentation import _constants, _core

    assert (_core.MODEL_HEIGHT, _core.MODEL_WIDTH) == ps.MODEL_INPUT_SIZE == (353, 257)
    assert _core.MAX_IMAGE_SIDE == ps.MAX_IMAGE_SIDE == 65536
    assert _core.NUM_PARTS == ps.NUM_PARTS == len(ps.PART_CHANNELS) == 24
    assert _core.MAX_PART_CHANNELS == 1024
    assert _constants.MODEL_INPUT_SHAPE == (1, 353, 257, 3)
    assert _core.__version__ == ps.__version__
    g = ps.compute_geometry(480, 640)
    assert (g.model_height, g.model_width) == ps.MODEL_INPUT_SIZE
