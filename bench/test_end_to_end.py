"""End to end on the 640 x 480 frame: resize-and-pad, MobileNetV1, post-processing.

Every network (its multiplier and weights are in the test id) at output strides 8, 16 and 32
on both engines (``tflite``: TensorFlow Lite + XNNPACK with native pre-processing, the CPU
default; ``tf``: TensorFlow), with the default native post-processing; plus the all-TensorFlow
pipeline (``engine="tf", postprocess="tf"``) of the reference net at stride 16 for comparison.
One group per kind and network.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import person_segmentation as ps

STRIDES = (8, 16, 32)
ENGINES = ("tflite", "tf")
#: Fixed rounds: medians stable to a few % on 2 cores.
ROUNDS = 100
#: Untimed rounds first: the first call of each (stride, kind) traces the network's tf.function
#: or creates the stride's TFLite interpreter.
WARMUP_ROUNDS = 3

Estimate = Callable[..., np.ndarray]
KINDS: dict[str, Estimate] = {
    "mask": ps.PersonSegmentation.estimate_person_segmentation,
    "parts": ps.PersonSegmentation.estimate_part_segmentation,
}


def _stride_id(stride: int) -> str:
    return f"os{stride}"


def _run(
    benchmark: BenchmarkFixture, net: ps.PersonSegmentation, net_id: str, kind: str, stride: int, frame: np.ndarray
) -> None:
    benchmark.group = f"end-to-end {kind} {net_id}"
    impl = "tf" if net.postprocess == "tf" else f"native-{net.engine}"
    benchmark.extra_info.update(
        stage="end-to-end", impl=impl, engine=net.engine, case=f"{kind} {net_id} {_stride_id(stride)}"
    )
    result: np.ndarray = benchmark.pedantic(
        KINDS[kind], args=(net, frame, False, stride), rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS
    )
    assert result.shape == frame.shape[:2]


@pytest.mark.parametrize("stride", STRIDES, ids=_stride_id)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("engine", ENGINES)
def test_native(
    benchmark: BenchmarkFixture,
    load_net: Callable[..., ps.PersonSegmentation],
    net_id: str,
    engine: str,
    kind: str,
    stride: int,
    frame: np.ndarray,
) -> None:
    _run(benchmark, load_net(net_id, engine=engine), net_id, kind, stride, frame)


@pytest.mark.parametrize("stride", [16], ids=_stride_id)
@pytest.mark.parametrize("kind", KINDS)
def test_all_tf(
    benchmark: BenchmarkFixture,
    load_net: Callable[..., ps.PersonSegmentation],
    reference_net_id: str,
    kind: str,
    stride: int,
    frame: np.ndarray,
) -> None:
    _run(benchmark, load_net(reference_net_id, "tf", engine="tf"), reference_net_id, kind, stride, frame)
