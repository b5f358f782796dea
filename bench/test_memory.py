"""Memory of a long video run: 1,000 frames through the CLI's video path.

Group ``memory 1000 video frames``: ``sam2_05_default_juggle.mp4`` (1280 x 720, 247 frames)
read four times over and cut at 1,000 frames, decoded ahead on a background thread
(``prefetch``), segmented by :class:`~person_segmentation.video.VideoSegmenter` (0.50 net,
default engine, stride 16, part maps + smoothing) and written with the bokeh effect to an MP4.
The time of the whole run is the benchmark; the resident set size is sampled every 50 frames
and stored in ``extra_info`` (``rss_mb``: current RSS per sample; ``peak_mb``: peak RSS of the
run so far).

The peak is the run's own: Linux's high-water mark (``VmHWM``) is reset to the current RSS
when the run starts (``echo 5 > /proc/self/clear_refs``), so the peaks of benchmarks that ran
before it in the same process do not hide (or stand in for) the run's. Where that reset is not
allowed, the process-wide ``ru_maxrss`` is used and ``extra_info["peak_source"]`` says so.

Target: flat after warm-up. The run fails if the peak RSS grows by more than
``MAX_GROWTH_MB`` between frame 200 and the end.
"""

from __future__ import annotations

import itertools
import resource
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from pytest_benchmark.fixture import BenchmarkFixture

import person_segmentation as ps
from person_segmentation import _pipeline, render, video

VIDEO = Path("data/video/sam2_05_default_juggle.mp4")
FRAMES = 1000
SAMPLE_EVERY = 50
WARM_UP_FRAMES = 200
MAX_GROWTH_MB = 8.0


def _status_mb(field: str) -> float:
    """A ``kB`` field of /proc/self/status (e.g. ``VmRSS``), in MB; NaN where there is none."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _reset_peak() -> str:
    """Reset the peak RSS to the current RSS; returns where :func:`_peak_mb` reads the peak."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")  # Linux >= 4.0: reset VmHWM
    except OSError:
        return "ru_maxrss"
    return "VmHWM"


def _peak_mb(source: str) -> float:
    if source == "VmHWM":
        return _status_mb("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _frames(path: Path) -> Iterator[np.ndarray]:
    for _ in itertools.count():
        yield from video.read_video(path)


def test_memory_of_1000_video_frames(
    benchmark: BenchmarkFixture,
    load_net: Callable[..., ps.PersonSegmentation],
    reference_net_id: str,
    shared_dir: Path,
    tmp_path: Path,
) -> None:
    net = load_net(reference_net_id)
    samples: list[tuple[int, float, float]] = []
    peak_source = ""

    def run() -> int:
        nonlocal peak_source
        samples.clear()
        peak_source = _reset_peak()
        segmenter = video.VideoSegmenter(net, parts=True, smoothing=video.DEFAULT_SMOOTHING)
        written = 0
        with video.VideoWriter(tmp_path / "out.mp4", 24.0, size=(1280, 720)) as writer:
            frames = _pipeline.prefetch(itertools.islice(_frames(shared_dir / VIDEO), FRAMES), 4)
            for frame in frames:
                result = segmenter.process(frame)
                writer.write(render.draw_bokeh_effect(frame, result.mask))
                written += 1
                if written % SAMPLE_EVERY == 0:
                    samples.append((written, _status_mb("VmRSS"), _peak_mb(peak_source)))
        return written

    benchmark.group = "memory 1000 video frames"
    assert benchmark.pedantic(run, rounds=1, iterations=1) == FRAMES
    warm = next(s for s in samples if s[0] >= WARM_UP_FRAMES)
    growth = samples[-1][2] - warm[2]
    benchmark.extra_info.update(
        stage="memory", impl=f"native-{net.engine}", case=f"parts+bokeh {reference_net_id} 1280x720",
        frames=FRAMES, rss_mb=[round(s[1], 1) for s in samples], peak_mb=[round(s[2], 1) for s in samples], peak_source=peak_source,
        peak_growth_after_warmup_mb=round(growth, 2),
    )  # fmt: skip
    assert growth <= MAX_GROWTH_MB, f"peak RSS grew {growth:.1f} MB between frame {warm[0]} and {FRAMES}"
