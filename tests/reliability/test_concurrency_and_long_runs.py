"""One model shared by many threads, and long runs with flat memory."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps

SEQUENCE = "video/davis2016_rollerblade_seq/images"


@pytest.fixture(scope="module")
def net(weights_dir: Path) -> ps.PersonSegmentation:
    return ps.load(0.5, weights=weights_dir)


@pytest.fixture(scope="module")
def frames(data_dir: Path) -> list[np.ndarray]:
    paths = sorted((data_dir / SEQUENCE).glob("*.jpg"))
    assert len(paths) == 30
    return [np.asarray(PIL.Image.open(p).convert("RGB")) for p in paths]


def rss_mb() -> float:
    """Current resident set size of this process in MiB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.weights
def test_eight_threads_share_one_model_and_get_the_serial_results(
    net: ps.PersonSegmentation, frames: list[np.ndarray]
) -> None:
    jobs = [(i % len(frames), bool(i % 3 == 0), (8, 16, 32)[i % 3]) for i in range(48)]
    serial = {
        job: net.estimate_part_segmentation(frames[job[0]], flip_horizontal=job[1], output_stride=job[2])
        for job in set(jobs)
    }
    masks = {
        job: net.estimate_person_segmentation(frames[job[0]], flip_horizontal=job[1], output_stride=job[2])
        for job in set(jobs)
    }
    failures: list[str] = []
    start = threading.Barrier(8)

    def worker(offset: int) -> None:
        start.wait()
        for job in jobs[offset::8] + jobs[: 8 - offset]:
            index, flip, stride = job
            parts = net.estimate_part_segmentation(frames[index], flip_horizontal=flip, output_stride=stride)
            mask = net.estimate_person_segmentation(frames[index], flip_horizontal=flip, output_stride=stride)
            if not (np.array_equal(parts, serial[job]) and np.array_equal(mask, masks[job])):
                failures.append(f"thread {offset}: job {job} differs from the serial result")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not failures, failures[:5]


def run_frames(net: ps.PersonSegmentation, frames: list[np.ndarray], count: int, warmup: int) -> tuple[float, float]:
    """RSS (MiB) after `warmup` frames and after `count` frames of part segmentation."""
    after_warmup = 0.0
    for i in range(count):
        parts = net.estimate_part_segmentation(frames[i % len(frames)])
        assert parts.shape == frames[0].shape[:2]
        if i + 1 == warmup:
            after_warmup = rss_mb()
    return after_warmup, rss_mb()


@pytest.mark.weights
def test_memory_stays_flat_over_600_frames(net: ps.PersonSegmentation, frames: list[np.ndarray]) -> None:
    start, end = run_frames(net, frames, count=600, warmup=150)
    assert end - start < 25, f"RSS grew from {start:.1f} MiB to {end:.1f} MiB over 450 frames"


@pytest.mark.slow
@pytest.mark.weights
def test_memory_stays_flat_over_10000_frames(
    net: ps.PersonSegmentation, frames: list[np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    """The long version (``-m slow``): 10,000 consecutive frames of the DAVIS sequence, looped."""
    first = rss_mb()
    start, end = run_frames(net, frames, count=10_000, warmup=200)
    with capsys.disabled():
        print(f"\nRSS: {first:.1f} MiB at start, {start:.1f} MiB after 200 frames, {end:.1f} MiB after 10,000 frames")
    assert end - start < 25, f"RSS grew from {start:.1f} MiB to {end:.1f} MiB"
