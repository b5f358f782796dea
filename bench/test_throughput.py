"""Throughput on 100 real photos: a plain per-image loop against the pipelined path.

Group ``throughput 100 photos`` (goal: pipelined >= 1.3x the loop), the reference net (0.50,
1.x weights, default engine) at output stride 16, the photos decoded from their files each
time (``<shared>/data/*/images/*.jpg`` in sorted order, cycled to 100):

- ``loop``: ``[net.estimate_person_segmentation(path) for path in paths]`` (or the part map);
- ``stream``: ``list(net.segment_stream(paths))``: decoding, network and post-processing of
  two photos at once on worker threads, the net's threads split between them.

The Ray benchmarks (test_ray.py) add their rows to the same group.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import person_segmentation as ps

GROUP = "throughput 100 photos"
STRIDE = 16
#: Timed rounds (each about half a second); one untimed round first.
ROUNDS = 5


def _loop(net: ps.PersonSegmentation, paths: list[Path], parts: bool) -> list[np.ndarray]:
    estimate = net.estimate_part_segmentation if parts else net.estimate_person_segmentation
    return [estimate(p, False, STRIDE) for p in paths]


def _stream(net: ps.PersonSegmentation, paths: list[Path], parts: bool) -> list[np.ndarray]:
    return list(net.segment_stream(paths, parts=parts, output_stride=STRIDE))


RUNNERS: dict[str, Callable[[ps.PersonSegmentation, list[Path], bool], list[np.ndarray]]] = {
    "loop": _loop,
    "stream": _stream,
}


@pytest.mark.parametrize("kind", ["mask", "parts"])
@pytest.mark.parametrize("runner", list(RUNNERS))
def test_throughput(
    benchmark: BenchmarkFixture,
    load_net: Callable[..., ps.PersonSegmentation],
    reference_net_id: str,
    hundred_photos: list[Path],
    runner: str,
    kind: str,
) -> None:
    net = load_net(reference_net_id)
    benchmark.group = f"{GROUP} {kind}"
    benchmark.extra_info.update(
        stage="throughput",
        impl=f"local {runner}",
        engine=net.engine,
        images=len(hundred_photos),
        case=f"{kind} {reference_net_id} os{STRIDE}",
    )
    results = benchmark.pedantic(
        RUNNERS[runner], args=(net, hundred_photos, kind == "parts"), rounds=ROUNDS, warmup_rounds=1
    )
    assert len(results) == len(hundred_photos)
