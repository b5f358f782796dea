"""Memory of a long video run: 1,000 frames through the CLI's video path.

Group ``memory 1000 video frames``: one 1,000-frame 1280 x 720 video, decoded ahead on a
background thread (``prefetch``), segmented by :class:`~person_segmentation.video.VideoSegmenter`
(0.50 net, default engine, stride 16, part maps + smoothing) and written with the bokeh effect
to an MP4. The shared ``sam2_05_default_juggle.mp4`` has 247 frames, so the module first
writes its frames four times over, cut at 1,000, to a temporary MP4 (untimed): the run reads
one video from start to end, as a user's run would.

The time of the whole run is the benchmark; every 50 frames ``extra_info`` gets the resident
set size (``rss_mb``), the run's peak so far (``peak_mb``) and the bytes malloc has handed out
and not freed (``malloc_in_use_mb``, glibc's ``mallinfo2``; empty elsewhere).

The peak is the run's own: Linux's high-water mark (``VmHWM``) is reset to the current RSS
when the run starts (``echo 5 > /proc/self/clear_refs``), so the peaks of benchmarks that ran
before it in the same process do not hide (or stand in for) the run's. Where that reset is not
allowed, the process-wide ``ru_maxrss`` is used and ``extra_info["peak_source"]`` says so.

Target: flat after warm-up. The run fails if the peak RSS grows by more than
``MAX_GROWTH_MB`` between frame 200 and the end.

Why not simply read the 247-frame video four times: each opening of a video starts FFmpeg's
decoder threads afresh, and in a process that already has many threads (after the Ray
benchmarks, glibc's 16 malloc arenas are all in use and shared) their buffers land in
fragmented arenas: RSS then rose by 7 to 13 MB at every re-opening while ``malloc_in_use_mb``
stayed flat (278.8 -> 279.0 MB over 6 openings). That is the allocator keeping freed memory,
not a leak; ``MALLOC_ARENA_MAX=2`` makes it flat too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import resource
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
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


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _malloc_in_use() -> Callable[[], float] | None:
    """A function returning malloc's bytes in use (MB), where glibc >= 2.33 has ``mallinfo2``."""
    try:
        mallinfo2 = ctypes.CDLL(ctypes.util.find_library("c")).mallinfo2
    except (OSError, AttributeError, TypeError):  # no libc found / no mallinfo2 (not glibc >= 2.33)
        return None
    mallinfo2.restype = _MallInfo2

    def in_use() -> float:
        info = mallinfo2()
        return float(info.uordblks + info.hblkhd) / 2**20  # small blocks + mmapped blocks

    return in_use


@pytest.fixture(scope="module")
def long_video(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,000-frame MP4: the shared juggling video's frames, four times over, cut at 1,000."""
    source = shared_dir / VIDEO
    info = video.video_info(source)
    path = tmp_path_factory.mktemp("memory") / "juggle-1000.mp4"

    def frames() -> Iterator[np.ndarray]:
        while True:
            yield from video.read_video(source)

    with video.VideoWriter(path, info.fps, (info.width, info.height)) as writer:
        for frame in itertools.islice(frames(), FRAMES):
            writer.write(frame)
    return path


def test_memory_of_1000_video_frames(
    benchmark: BenchmarkFixture,
    load_net: Callable[..., ps.PersonSegmentation],
    reference_net_id: str,
    long_video: Path,
    tmp_path: Path,
) -> None:
    net = load_net(reference_net_id)
    info = video.video_info(long_video)
    in_use = _malloc_in_use()
    samples: list[tuple[int, float, float, float | None]] = []
    peak_source = ""

    def run() -> int:
        nonlocal peak_source
        samples.clear()
        peak_source = _reset_peak()
        segmenter = video.VideoSegmenter(net, parts=True, smoothing=video.DEFAULT_SMOOTHING)
        written = 0
        with video.VideoWriter(tmp_path / "out.mp4", info.fps, size=(info.width, info.height)) as writer:
            for frame in _pipeline.prefetch(video.read_video(long_video), 4):
                result = segmenter.process(frame)
                writer.write(render.draw_bokeh_effect(frame, result.mask))
                written += 1
                if written % SAMPLE_EVERY == 0:
                    used = None if in_use is None else in_use()
                    samples.append((written, _status_mb("VmRSS"), _peak_mb(peak_source), used))
        return written

    benchmark.group = "memory 1000 video frames"
    assert benchmark.pedantic(run, rounds=1, iterations=1) == FRAMES
    warm = next(s for s in samples if s[0] >= WARM_UP_FRAMES)
    growth = samples[-1][2] - warm[2]
    benchmark.extra_info.update(
        stage="memory",
        impl=f"native-{net.engine}",
        case=f"parts+bokeh {reference_net_id} {info.width}x{info.height}",
        frames=FRAMES,
        rss_mb=[round(s[1], 1) for s in samples],
        peak_mb=[round(s[2], 1) for s in samples],
        peak_source=peak_source,
        malloc_in_use_mb=[round(s[3], 1) for s in samples if s[3] is not None],
        peak_growth_after_warmup_mb=round(growth, 2),
    )
    assert growth <= MAX_GROWTH_MB, f"peak RSS grew {growth:.1f} MB between frame {warm[0]} and {FRAMES}"
