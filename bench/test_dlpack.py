"""Handing TensorFlow's logits to the native core: through DLPack (zero-copy; what the
estimates do, and on a GPU what keeps the logits on the device) vs a numpy copy (``.numpy()``)
followed by the numpy entry point, at three output sizes. The CPU kernels run in both."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from pytest_benchmark.fixture import BenchmarkFixture

import person_segmentation as ps
from person_segmentation import _core

pytestmark = pytest.mark.benchmark(min_rounds=50, max_time=1.0)


@pytest.fixture(scope="session")
def logits_tensor(real_logits: ps.Logits) -> tf.Tensor:
    """The (h, w, 1 + 24) logits as the TensorFlow tensor the network returns."""
    assert real_logits.parts is not None
    return tf.constant(np.concatenate([real_logits.segment, real_logits.parts], axis=-1))


def _size(logits: ps.Logits) -> str:
    return f"{logits.geometry.image_width}x{logits.geometry.image_height}"


@pytest.mark.parametrize("handoff", ["dlpack", "numpy-copy"])
def test_handoff_and_part_map(
    benchmark: BenchmarkFixture, handoff: str, logits_tensor: tf.Tensor, real_logits: ps.Logits
) -> None:
    g = real_logits.geometry

    def via_dlpack() -> np.ndarray:
        return _core.part_segmentation_dlpack(tf.experimental.dlpack.to_dlpack(logits_tensor), g)

    def via_numpy() -> np.ndarray:
        values = logits_tensor.numpy()
        return _core.part_segmentation(values[..., :1], values[..., 1:], g)

    call = via_dlpack if handoff == "dlpack" else via_numpy
    benchmark.group = f"handoff + parts {_size(real_logits)}"
    benchmark.extra_info.update(stage="handoff", impl=handoff)
    np.testing.assert_array_equal(call(), via_numpy() if handoff == "dlpack" else via_dlpack())
    benchmark(call)


@pytest.mark.parametrize("handoff", ["dlpack", "numpy-copy"])
def test_handoff_only(
    benchmark: BenchmarkFixture, handoff: str, logits_tensor: tf.Tensor, real_logits: ps.Logits
) -> None:
    """The hand-off alone (the logits are the same size for every output size)."""
    if _size(real_logits) != "640x480":
        pytest.skip("the hand-off does not depend on the output size")
    call = (lambda: tf.experimental.dlpack.to_dlpack(logits_tensor)) if handoff == "dlpack" else logits_tensor.numpy
    benchmark.group = "handoff only (23x17x25 logits)"
    benchmark.extra_info.update(stage="handoff", impl=handoff)
    benchmark(call)
