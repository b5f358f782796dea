"""Post-processing only: the native core (``_core``) vs the TensorFlow reference.

The logits are computed once per frame size (outside the timed region) by the reference net
at output stride 16; each benchmark times only ``person_mask_from_logits`` or
``part_segmentation_from_logits`` on them. Native and TF land in the same group per kind and
frame size, so ``report.py`` can print their ratio.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import person_segmentation as ps

THRESHOLD = 0.5
#: Untimed calls before timing: the first TF call traces its graph.
WARMUP_CALLS = 3
#: Segment logit of the all-person worst case: sigmoid(5) = 0.993 > threshold everywhere.
ALL_PERSON_LOGIT = 5.0

#: Implementation id -> (postprocess, num_threads); num_threads 0 = one per hardware thread.
IMPLS: dict[str, tuple[str, int]] = {"native": ("native", 0), "native-1t": ("native", 1), "tf": ("tf", 0)}

# Time-based rounds (calibrated by pytest-benchmark): about 2 s per benchmark, at least 30 rounds
# even for the slow TF cases.
pytestmark = pytest.mark.benchmark(min_rounds=30, max_time=2.0)

PostProcess = Callable[..., np.ndarray]


@pytest.fixture(scope="session")
def all_person_logits(real_logits: ps.Logits) -> ps.Logits:
    """The worst case for parts: every pixel is a person, so every pixel needs its part argmax."""
    return real_logits._replace(segment=np.full_like(real_logits.segment, ALL_PERSON_LOGIT))


def _run(benchmark: BenchmarkFixture, kind: str, fn: PostProcess, logits: ps.Logits, impl: str) -> np.ndarray:
    geometry = logits.geometry
    size = f"{geometry.image_width}x{geometry.image_height}"
    postprocess, num_threads = IMPLS[impl]

    def call() -> np.ndarray:
        return fn(logits, THRESHOLD, postprocess=postprocess, num_threads=num_threads)

    for _ in range(WARMUP_CALLS):
        call()
    benchmark.group = f"postprocess {kind} {size}"
    benchmark.extra_info.update(stage="postprocess", impl=impl, case=f"{kind} {size}")
    result: np.ndarray = benchmark(call)
    assert result.shape == (geometry.image_height, geometry.image_width)
    return result


@pytest.mark.parametrize("impl", IMPLS)
def test_person_mask(benchmark: BenchmarkFixture, real_logits: ps.Logits, impl: str) -> None:
    _run(benchmark, "mask", ps.person_mask_from_logits, real_logits, impl)


@pytest.mark.parametrize("impl", IMPLS)
def test_part_segmentation(benchmark: BenchmarkFixture, real_logits: ps.Logits, impl: str) -> None:
    _run(benchmark, "parts", ps.part_segmentation_from_logits, real_logits, impl)


@pytest.mark.parametrize("impl", IMPLS)
def test_part_segmentation_all_person(benchmark: BenchmarkFixture, all_person_logits: ps.Logits, impl: str) -> None:
    parts = _run(benchmark, "parts all-person", ps.part_segmentation_from_logits, all_person_logits, impl)
    assert parts.min() >= 0, "the all-person case must label every pixel with a part"
