"""Throughput on the 100 photos of test_throughput.py: Ray Data on a local instance.

Goal: Ray within 20 % of the pipelined local path, i.e. its median at most 1.25x that of
``local stream`` (``net.segment_stream``, in test_throughput.py) in the same group,
``throughput 100 photos mask``: person masks from the reference net (0.50, 1.x weights,
default engine) at output stride 16, the photos decoded from their files each time. Run both:
``python -m pytest bench/test_throughput.py bench/test_ray.py --benchmark-only -k "mask or ray"``.

- ``ray Segmenter map_batches``: :class:`person_segmentation.ray_data.Segmenter` in
  ``map_batches`` on a local Ray instance (``num_cpus=2``, one actor from
  :func:`~person_segmentation.ray_data.actor_pool`, 100 images per call), fed the paths and
  streamed back to the driver with ``iter_batches``. Not timed, reported in ``extra_info``:
  Ray's start (``ray_start_s``) and the actor's (``first_batch_s``: worker start, model load,
  first batch). The stream runs on across rounds, so each round times 100 more masks in steady
  state. Ray Data's driver looks for finished batches every 0.1 s, so a single batch arrives
  up to 0.1 s late (rounds of one batch come out as 0.53, 0.64 or 0.74 s for the same work):
  each round is the mean of ``ITERATIONS`` consecutive batches, which spreads that error.

Why :func:`~person_segmentation.ray_data.actor_pool` rather than a plain
``ActorPoolStrategy(size=1)``: with one call at a time the actor sits idle for 25 to 35 ms
after each batch of 100 (while Ray turns its output into a block and fetches the next input),
about 5 % of the time; two calls per actor hide that.

Group ``ray job 100 photos`` times whole :func:`segment_dataset` calls (actor start, model
load, reading, segmenting, writing 100 PNGs): what one small job costs, start-up included.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import person_segmentation as ps

ray = pytest.importorskip("ray", reason='the Ray benchmarks need the ray extra: pip install "person-segmentation[ray]"')
from person_segmentation.ray_data import Segmenter, actor_pool, segment_dataset  # noqa: E402

pytestmark = [
    # Ray Data 2.60's DataContext warns about its own deprecated defaults when it is made.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")
]

GROUP = "throughput 100 photos mask"
STRIDE = 16
#: Timed rounds; Ray's stream holds enough photos for them.
ROUNDS = 5
#: Batches of 100 per round (each about half a second on 2 cores), averaged by pytest-benchmark.
ITERATIONS = 3
#: Untimed rounds first: the first five or so batches after the actor's first come 20-40 %
#: slower (Ray's processes are still settling after the start), then they hold steady.
WARMUP_ROUNDS = 2
#: Images per actor call: one batch (smaller batches pay Ray's per-call overhead more often).
BATCH_SIZE = 100
#: Whole-job rounds (each a few seconds, mostly the actor's start).
JOB_ROUNDS = 2


@pytest.fixture(scope="module")
def local_ray() -> Iterator[float]:
    """A local Ray instance with 2 CPUs; yields how long it took to start."""
    start = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    elapsed = time.perf_counter() - start
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield elapsed
    finally:
        ray.shutdown()


def _model(net: ps.PersonSegmentation) -> dict[str, Any]:
    """Segmenter arguments loading the same network as ``net`` (multiplier, weights, engine)."""
    return {"multiplier": net.multiplier, "weights": net.weights_source, "engine": net.engine}


def test_ray(
    benchmark: BenchmarkFixture,
    local_ray: float,
    load_net: Callable[..., ps.PersonSegmentation],
    reference_net_id: str,
    hundred_photos: list[Path],
) -> None:
    net = load_net(reference_net_id)
    count = len(hundred_photos)
    # The warm-up rounds, the timed rounds, and a spare batch so that the stream never ends early.
    rows = [{"image": str(p)} for p in hundred_photos] * ((WARMUP_ROUNDS + ROUNDS) * ITERATIONS + 1)
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows) // BATCH_SIZE).map_batches(
        Segmenter,
        fn_constructor_kwargs={**_model(net), "output_stride": STRIDE},
        compute=actor_pool(1),
        batch_size=BATCH_SIZE,
    )
    batches = iter(dataset.iter_batches(batch_size=BATCH_SIZE, batch_format="numpy"))

    def take(count: int) -> int:
        done = 0
        while done < count:
            done += len(next(batches)["mask"])
        return done

    try:
        start = time.perf_counter()
        first = next(batches)  # the actor starts and loads the network
        first_batch_s = time.perf_counter() - start
        assert first["mask"][0].dtype == np.uint8 and first["mask"][0].ndim == 2  # (Ray Data keeps no order)
        take(WARMUP_ROUNDS * ITERATIONS * count - len(first["mask"]))  # the rest of the warm-up

        benchmark.group = GROUP
        benchmark.extra_info.update(
            stage="throughput",
            impl="ray Segmenter map_batches",
            case=f"mask {reference_net_id} os{STRIDE}",
            images=count,
            engine=net.engine,
            ray_version=ray.__version__,
            ray_start_s=round(local_ray, 3),
            first_batch_s=round(first_batch_s, 3),
            actors=1,
            batch_size=BATCH_SIZE,
            batches_per_round=ITERATIONS,
        )
        assert benchmark.pedantic(take, args=(count,), rounds=ROUNDS, iterations=ITERATIONS, warmup_rounds=0) == count
    finally:
        getattr(batches, "close", lambda: None)()  # stops the stream's execution


def test_ray_job_cold(
    benchmark: BenchmarkFixture,
    local_ray: float,
    load_net: Callable[..., ps.PersonSegmentation],
    reference_net_id: str,
    hundred_photos: list[Path],
    tmp_path: Path,
) -> None:
    net = load_net(reference_net_id)
    output = tmp_path / "masks"

    def run() -> int:
        shutil.rmtree(output, ignore_errors=True)
        result = segment_dataset(
            hundred_photos, output, **_model(net), output_stride=STRIDE, concurrency=1, batch_size=BATCH_SIZE
        )
        assert not result.failed
        return result.count

    benchmark.group = "ray job 100 photos"
    benchmark.extra_info.update(
        stage="job",
        impl="ray segment_dataset png",
        case=f"mask {reference_net_id} os{STRIDE}",
        images=len(hundred_photos),
        engine=net.engine,
        ray_start_s=round(local_ray, 3),
    )
    assert benchmark.pedantic(run, rounds=JOB_ROUNDS, warmup_rounds=0) == len(hundred_photos)
