"""person_segmentation.video without real weights: flicker, the streaming segmenter on a
synthetic network (argument checks, smoothing maths, state resets) and video file I/O."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation.video import (
    DEFAULT_SMOOTHING,
    FrameResult,
    VideoError,
    VideoInfo,
    VideoNotFoundError,
    VideoSegmenter,
    VideoWriter,
    flicker,
    read_video,
    video_info,
)

from ._synthetic import calibrated_weights


def smooth_noise(seed: int, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    """A smooth RGB uint8 image (upsampled noise), size = (width, height)."""
    base = np.random.default_rng(seed).integers(0, 256, (6, 8, 3)).astype(np.uint8)
    return np.asarray(PIL.Image.fromarray(base).resize(size, PIL.Image.Resampling.BILINEAR))


def clip(n: int, size: tuple[int, int] = (160, 120)) -> list[np.ndarray]:
    """``n`` frames morphing from one smooth image into another (the masks change)."""
    a, b = smooth_noise(10, size).astype(np.float64), smooth_noise(11, size).astype(np.float64)
    return [np.round(a + (b - a) * t / max(n - 1, 1)).astype(np.uint8) for t in range(n)]


@pytest.fixture(scope="module")
def net() -> ps.PersonSegmentation:
    return ps.PersonSegmentation(calibrated_weights(0.5, smooth_noise(10), seed=1))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x.astype(np.float64)))


# -- flicker ----------------------------------------------------------------------------------
def test_flicker_on_hand_made_sequences() -> None:
    zeros, ones = np.zeros((2, 2), np.uint8), np.ones((2, 2), np.uint8)
    assert flicker([zeros, zeros, zeros]) == 0.0
    assert flicker([zeros, ones]) == 1.0
    assert flicker([zeros, ones, zeros, ones]) == 1.0
    one = np.array([[1, 0], [0, 0]], np.uint8)
    three = np.array([[1, 1], [1, 0]], np.uint8)
    # zeros -> one: 1 of 4 pixels change; one -> three: 2 of 4; mean over the 2 pairs.
    assert flicker([zeros, one, three]) == pytest.approx((0.25 + 0.5) / 2)
    # bool and other integer dtypes, and generators, give the same.
    assert flicker(m.astype(bool) for m in [zeros, one, three]) == pytest.approx(0.375)
    assert flicker([m.astype(np.int64) for m in [zeros, one, three]]) == pytest.approx(0.375)
    # 3 of 6 pixels change once over 3 pairs.
    a = np.array([[0, 1, 0], [1, 1, 0]], np.uint8)
    b = np.array([[1, 1, 1], [1, 0, 0]], np.uint8)
    assert flicker([a, a, b, b]) == pytest.approx((0 + 0.5 + 0) / 3)


def test_flicker_rejects_bad_input() -> None:
    m = np.zeros((4, 5), np.uint8)
    with pytest.raises(ValueError, match="at least 2 masks"):
        flicker([m])
    with pytest.raises(ValueError, match="at least 2 masks"):
        flicker([])
    with pytest.raises(ValueError, match="same shape"):
        flicker([m, np.zeros((5, 4), np.uint8)])
    with pytest.raises(ValueError, match=r"masks\[1\] must hold only 0 and 1"):
        flicker([m, m + 255])
    with pytest.raises(ValueError, match=r"masks\[0\] must be 2-D"):
        flicker([np.zeros((4, 5, 1), np.uint8), m])
    with pytest.raises(TypeError, match=r"masks\[1\] must be an integer or bool numpy array"):
        flicker([m, m.astype(np.float32)])
    with pytest.raises(TypeError, match=r"masks\[0\]"):
        flicker([[[0, 1]], [[1, 0]]])  # type: ignore[list-item]


# -- VideoSegmenter ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"smoothing": -0.1}, ValueError, "smoothing must be a number in"),
        ({"smoothing": 1.0}, ValueError, "smoothing must be a number in"),
        ({"smoothing": math.nan}, ValueError, "smoothing"),
        ({"smoothing": "0.5"}, TypeError, "smoothing"),
        ({"smoothing": True}, TypeError, "smoothing"),
        ({"output_stride": 12}, ValueError, "output_stride must be one of"),
        ({"output_stride": 16.0}, TypeError, "output_stride"),
        ({"segmentation_threshold": 1.5}, ValueError, "segmentation_threshold"),
        ({"segmentation_threshold": None}, TypeError, "segmentation_threshold"),
        ({"flip_horizontal": 1}, TypeError, "flip_horizontal must be a bool"),
        ({"parts": "yes"}, TypeError, "parts must be a bool"),
    ],
)
def test_segmenter_checks_its_arguments(
    net: ps.PersonSegmentation, kwargs: dict[str, object], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        VideoSegmenter(net, **kwargs)  # type: ignore[arg-type]


def test_the_default_smoothing_is_the_command_lines(net: ps.PersonSegmentation) -> None:
    """issue 12: VideoSegmenter(net) used to default to 0 while the CLI used 0.5; both now read
    DEFAULT_SMOOTHING from _constants."""
    from person_segmentation._constants import DEFAULT_SMOOTHING
    from person_segmentation.cli import _parser

    assert VideoSegmenter(net).smoothing == DEFAULT_SMOOTHING == 0.5
    for command in (["segment", "x.jpg", "-o", "out"], ["webcam"]):
        assert _parser().parse_args(command).smoothing == DEFAULT_SMOOTHING


def test_segmenter_needs_a_network() -> None:
    with pytest.raises(TypeError, match="net must be a person_segmentation.PersonSegmentation"):
        VideoSegmenter("model.json")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        VideoSegmenter(None, smoothing=0.5)  # type: ignore[arg-type]


def test_segmenter_rejects_bad_frames(net: ps.PersonSegmentation) -> None:
    segmenter = VideoSegmenter(net)
    with pytest.raises(ValueError):
        segmenter.process(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(TypeError):
        segmenter.process(object())
    assert segmenter.frame_count == 0


def test_without_smoothing_results_are_exactly_the_single_image_ones(net: ps.PersonSegmentation) -> None:
    frames = clip(5)
    for stride, flip in ((16, False), (8, True)):
        masks = VideoSegmenter(net, smoothing=0, output_stride=stride, flip_horizontal=flip)
        parts = VideoSegmenter(
            net, smoothing=0, output_stride=stride, flip_horizontal=flip, parts=True, segmentation_threshold=0.4
        )
        for i, frame in enumerate(frames):
            result = masks.process(frame)
            assert isinstance(result, FrameResult) and result.index == i and result.parts is None
            assert result.mask.dtype == np.uint8 and result.mask.shape == (120, 160)
            np.testing.assert_array_equal(result.mask, net.estimate_person_segmentation(frame, flip, stride))
            with_parts = parts.process(frame)
            expected = net.estimate_part_segmentation(frame, flip, stride, 0.4)
            assert with_parts.parts is not None and with_parts.parts.dtype == np.int32
            np.testing.assert_array_equal(with_parts.parts, expected)
            np.testing.assert_array_equal(with_parts.mask, net.estimate_person_segmentation(frame, flip, stride, 0.4))
            assert with_parts.mask.dtype == np.uint8
    assert 0 < result.mask.mean() < 1, "the synthetic net should give non-trivial masks for this test to mean something"


def test_smoothing_is_an_ema_of_the_scores_on_the_logit_grid(net: ps.PersonSegmentation) -> None:
    frames = clip(6)
    a = 0.6
    segmenter = VideoSegmenter(net, smoothing=a, parts=True)
    ema_segment: np.ndarray | None = None
    ema_parts: np.ndarray | None = None
    changed = 0
    for i, frame in enumerate(frames):
        logits = net.estimate_logits(frame)
        assert logits.parts is not None
        segment, parts = sigmoid(logits.segment), sigmoid(logits.parts)
        if ema_segment is None or ema_parts is None:
            ema_segment, ema_parts = segment, parts
        else:
            ema_segment = (1 - a) * segment + a * ema_segment
            ema_parts = (1 - a) * parts + a * ema_parts
        result = segmenter.process(frame)
        assert result.index == i
        smoothed = ps.Logits(
            np.log(ema_segment / (1 - ema_segment)).astype(np.float32),
            np.log(ema_parts / (1 - ema_parts)).astype(np.float32),
            logits.geometry,
            False,
        )
        expected_parts = ps.part_segmentation_from_logits(smoothed)
        expected_mask = ps.person_mask_from_logits(smoothed)
        assert result.parts is not None
        # Same maths up to float rounding: at most a pixel on an exact threshold/argmax tie.
        assert np.mean(result.parts == expected_parts) > 0.999
        assert np.mean(result.mask == expected_mask) > 0.999
        np.testing.assert_array_equal(result.mask, result.parts >= 0)
        if i == 0:  # s_0 = sigmoid(logits_0): exactly the unsmoothed result
            np.testing.assert_array_equal(result.parts, net.estimate_part_segmentation(frame))
        else:
            changed += int(np.any(result.mask != net.estimate_person_segmentation(frame)))
    assert changed > 0, "smoothing should change some masks of a changing clip"


def test_smoothing_is_steadier_on_a_noisy_clip(net: ps.PersonSegmentation) -> None:
    base = smooth_noise(10).astype(np.int16)
    rng = np.random.default_rng(3)
    frames = [np.clip(base + rng.integers(-40, 41, base.shape), 0, 255).astype(np.uint8) for _ in range(12)]
    raw = [VideoSegmenter(net, smoothing=0).process(f).mask for f in frames]
    segmenter = VideoSegmenter(net, smoothing=0.7)
    smoothed = [segmenter.process(f).mask for f in frames]
    assert flicker(smoothed) < flicker(raw)


def test_a_still_frame_is_unchanged_by_smoothing(net: ps.PersonSegmentation) -> None:
    frame = smooth_noise(12)
    expected = net.estimate_person_segmentation(frame)
    segmenter = VideoSegmenter(net, smoothing=0.9)
    for _ in range(4):  # the EMA of a constant is that constant (up to the logit round trip)
        assert np.mean(segmenter.process(frame).mask == expected) > 0.9999


def test_state_resets_on_frame_size_change_and_reset(net: ps.PersonSegmentation) -> None:
    small, large = clip(3), clip(2, size=(200, 90))
    segmenter = VideoSegmenter(net, smoothing=0.8)
    for frame in small:
        segmenter.process(frame)
    # A new size starts afresh: its first frame is exactly the unsmoothed result.
    result = segmenter.process(large[0])
    assert result.index == 3 and result.mask.shape == (90, 200)
    np.testing.assert_array_equal(result.mask, net.estimate_person_segmentation(large[0]))
    # ... and is smoothed from then on (with its own state only).
    second = segmenter.process(large[1])
    fresh = VideoSegmenter(net, smoothing=0.8)
    fresh.process(large[0])
    np.testing.assert_array_equal(second.mask, fresh.process(large[1]).mask)
    # Back to the first size: afresh again.
    np.testing.assert_array_equal(segmenter.process(small[2]).mask, net.estimate_person_segmentation(small[2]))
    assert segmenter.frame_count == 6
    segmenter.reset()
    assert segmenter.frame_count == 0
    result = segmenter.process(small[1])
    assert result.index == 0
    np.testing.assert_array_equal(result.mask, net.estimate_person_segmentation(small[1]))


def test_default_smoothing_and_repr(net: ps.PersonSegmentation) -> None:
    assert 0 < DEFAULT_SMOOTHING < 1
    assert VideoSegmenter(net).smoothing == DEFAULT_SMOOTHING
    text = repr(VideoSegmenter(net, smoothing=DEFAULT_SMOOTHING, parts=True))
    assert "smoothing=0.5" in text and "parts=True" in text


# -- video files ------------------------------------------------------------------------------
def moving_frames(n: int, width: int, height: int) -> list[np.ndarray]:
    """Smooth colour gradients with a bright square moving across (compress well, change)."""
    y, x = np.mgrid[0:height, 0:width]
    frames = []
    for t in range(n):
        frame = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 60 + 10 * t)], axis=-1).astype(np.uint8)
        frame[8:24, 4 + 3 * t : 20 + 3 * t] = 255
        frames.append(frame)
    return frames


@pytest.mark.parametrize("name", ["clip.mp4", "clip.avi", "clip.MOV"])
def test_write_then_read_a_video(tmp_path: Path, name: str) -> None:
    frames = moving_frames(12, 64, 48)
    path = tmp_path / name
    with VideoWriter(path, 15.0, (64, 48)) as writer:
        for frame in frames:
            writer.write(frame)
        assert writer.frames_written == 12 and not writer.closed
    assert writer.closed
    assert video_info(path) == VideoInfo(64, 48, 15.0, 12)
    read = list(read_video(path))
    assert len(read) == 12
    for original, decoded in zip(frames, read):
        assert decoded.shape == (48, 64, 3) and decoded.dtype == np.uint8
        # Lossy codecs, but the right picture in the right channel order.
        assert np.mean(np.abs(decoded.astype(np.int16) - original)) < 8


def test_grayscale_frames_and_early_close(tmp_path: Path) -> None:
    path = tmp_path / "masks.avi"
    with VideoWriter(str(path), 10, (32, 16)) as writer:
        for value in (0, 255, 0):
            writer.write(np.full((16, 32), value, np.uint8))
    frames = read_video(path)
    first = next(frames)
    assert first.shape == (16, 32, 3) and first.max() < 20
    assert next(frames).min() > 235
    frames.close()
    assert list(frames) == []
    with read_video(path) as frames:
        assert sum(1 for _ in frames) == 3


def test_writer_checks_its_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "a.mp4", 30, (33, 20))
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "a.mp4", 30, (0, 0))
    with pytest.raises(TypeError, match="size must be a"):
        VideoWriter(tmp_path / "a.mp4", 30, (32.0, 20))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="size must be a"):
        VideoWriter(tmp_path / "a.mp4", 30, 32)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fps must be"):
        VideoWriter(tmp_path / "a.mp4", 0, (32, 20))
    with pytest.raises(ValueError, match="fps must be"):
        VideoWriter(tmp_path / "a.mp4", math.inf, (32, 20))
    with pytest.raises(TypeError, match="fps must be"):
        VideoWriter(tmp_path / "a.mp4", "30", (32, 20))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"unsupported extension '\.gif'"):
        VideoWriter(tmp_path / "a.gif", 30, (32, 20))
    with pytest.raises(ValueError, match="fourcc must be"):
        VideoWriter(tmp_path / "a.mp4", 30, (32, 20), fourcc="mp4")
    with pytest.raises(VideoError, match="does not exist"):
        VideoWriter(tmp_path / "missing" / "a.mp4", 30, (32, 20))
    with pytest.raises(VideoError, match="could not open"):
        VideoWriter(tmp_path / "a.mp4", 30, (32, 20), fourcc="ZZZZ")
    writer = VideoWriter(tmp_path / "a.mp4", 30, (32, 20))
    with pytest.raises(ValueError, match=r"shape \(20, 32, 3\) or \(20, 32\)"):
        writer.write(np.zeros((32, 20, 3), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        writer.write(np.zeros((20, 32, 3), np.float32))
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write(np.zeros((20, 32, 3), np.uint8))


def test_unreadable_videos_raise_errors_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(VideoNotFoundError, match="nope.mp4.*no such file"):
        read_video(missing)
    with pytest.raises(FileNotFoundError):
        video_info(missing)
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 200)
    with pytest.raises(VideoError, match="corrupt.mp4"):
        read_video(corrupt)
    with pytest.raises(ValueError, match="corrupt.mp4"):
        video_info(corrupt)
    with pytest.raises(VideoError, match="is a directory"):
        read_video(tmp_path)
    assert issubclass(VideoNotFoundError, ValueError) and issubclass(VideoError, ValueError)


def test_segment_a_written_video(tmp_path: Path, net: ps.PersonSegmentation) -> None:
    path = tmp_path / "in.avi"
    with VideoWriter(path, 25, (160, 120)) as writer:
        for frame in clip(4):
            writer.write(frame)
    segmenter = VideoSegmenter(net, smoothing=DEFAULT_SMOOTHING)
    frames: Iterator[np.ndarray] = read_video(path)
    results = [segmenter.process(frame) for frame in frames]
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert all(r.mask.shape == (120, 160) for r in results)
    assert 0.0 <= flicker([r.mask for r in results]) <= 1.0


# -- issue 16: bounded sizes, only regular files, complete files or none -----------------------
@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("a.mp4", (2**31, 2), r"sides of at most 8190 for the 'mp4v' codec"),
        ("a.avi", (2, 2**31), r"sides of at most 16384, got"),
        ("a.mp4", (8192, 2), r"at most 8190"),
        ("a.mkv", (16386, 16), r"at most 16384"),
        ("a.avi", (2**63, 2), r"at most 16384"),
    ],
)
def test_writer_bounds_the_frame_size(tmp_path: Path, name: str, size: tuple[int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VideoWriter(tmp_path / name, 30, size)
    assert list(tmp_path.iterdir()) == []
    with VideoWriter(tmp_path / "largest.mp4", 30, (8190, 2)) as writer:  # the limits themselves are taken
        writer.write(np.zeros((2, 8190, 3), np.uint8))
    with VideoWriter(tmp_path / "largest.avi", 30, (16384, 2)) as writer:
        writer.write(np.zeros((2, 16384, 3), np.uint8))
    assert video_info(tmp_path / "largest.avi").width == 16384


def _unblock(fifo: Path) -> None:
    """Open and close the write end of ``fifo``, releasing a reader blocked opening it."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:  # no reader waiting
        pass


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    """A FIFO never answers (no writer): OpenCV would block forever opening it. (A watchdog
    releases a blocked open after 10 s, so a regression fails instead of hanging.)"""
    import threading
    import time

    fifo = tmp_path / "p.mp4"
    os.mkfifo(fifo)
    for function in (video_info, read_video):
        watchdog = threading.Timer(10.0, _unblock, (fifo,))
        watchdog.start()
        start = time.perf_counter()
        try:
            with pytest.raises(VideoError, match=r"p\.mp4.*not a regular file"):
                function(fifo)
        finally:
            watchdog.cancel()
        assert time.perf_counter() - start < 5


def test_writer_publishes_only_a_complete_file(tmp_path: Path) -> None:
    path = tmp_path / "keep.mp4"
    frames = moving_frames(6, 64, 48)
    with VideoWriter(path, 15.0, (64, 48)) as writer:
        for frame in frames:
            writer.write(frame)
    before = path.read_bytes()
    # A new writer leaves the complete file alone until its own is complete ...
    writer = VideoWriter(path, 15.0, (64, 48))
    writer.write(frames[0])
    assert path.read_bytes() == before and len(list(tmp_path.iterdir())) == 2  # and a hidden temporary file
    # ... and an interruption (or any error) in its with block discards only the new frames.
    with pytest.raises(KeyboardInterrupt), VideoWriter(path, 15.0, (64, 48)) as other:
        other.write(frames[1])
        raise KeyboardInterrupt
    writer.abort()
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["keep.mp4"]
    with VideoWriter(path, 15.0, (64, 48)) as writer:
        for frame in frames[:3]:
            writer.write(frame)
    assert video_info(path).frame_count == 3 and [p.name for p in tmp_path.iterdir()] == ["keep.mp4"]


def test_an_unclosed_writer_discards_its_frames_with_a_resource_warning(tmp_path: Path) -> None:
    writer = VideoWriter(tmp_path / "dropped.avi", 10, (32, 16))
    writer.write(np.zeros((16, 32, 3), np.uint8))
    with pytest.warns(ResourceWarning, match="was not closed"):
        writer.__del__()
    assert list(tmp_path.iterdir()) == []


class _LossyWriter:
    """cv2.VideoWriter that silently drops every frame after the first ``keep`` (as when the
    disk fills up) and returns ``result`` from write (None: OpenCV 4.x, False: OpenCV 5)."""

    keep = 2
    result: bool | None = None
    real: Any = None  # the real cv2.VideoWriter

    def __init__(self, *args: object) -> None:
        self._real = self.real(*args)
        self._count = 0
        self.isOpened, self.release = self._real.isOpened, self._real.release

    def write(self, frame: np.ndarray) -> bool | None:
        self._count += 1
        if self._count <= self.keep:
            self._real.write(frame)
            return True if self.result is False else None
        return self.result


@pytest.mark.parametrize("result", [None, False], ids=["opencv4-silent", "opencv5-reports"])
def test_frames_that_never_reach_the_file_are_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, result: bool | None
) -> None:
    """OpenCV 4.x's write returns None even when the frame is lost (a full disk): close()
    reads the file back and counts; OpenCV 5's write says False: write() raises at once. Either
    way the file is discarded and an earlier file of that name is left as it was."""
    import cv2

    path = tmp_path / "out.avi"
    path.write_bytes(b"an earlier file")
    monkeypatch.setattr(_LossyWriter, "result", result)
    monkeypatch.setattr(_LossyWriter, "real", cv2.VideoWriter)
    monkeypatch.setattr(cv2, "VideoWriter", _LossyWriter)
    writer = VideoWriter(path, 10, (64, 48))
    with pytest.raises(VideoError, match=r"out\.avi.*(frame 2 was not written|5 frames were written but .* holds 2)"):
        for frame in moving_frames(5, 64, 48):
            writer.write(frame)
        writer.close()
    assert writer.closed and path.read_bytes() == b"an earlier file"
    assert [p.name for p in tmp_path.iterdir()] == ["out.avi"]


def test_file_names_that_are_not_utf8_are_read_and_written(tmp_path: Path) -> None:
    """OpenCV takes names as UTF-8 and crashes (SIGSEGV) on undecodable bytes; run in a child
    process so that a regression fails this test instead of killing the test run."""
    import subprocess
    import sys

    code = f"""
import os, numpy as np
from person_segmentation.video import VideoWriter, read_video, video_info
folder = {str(tmp_path)!r}
name = os.path.join(folder, os.fsdecode(b"vid\\xe9o.avi"))
with VideoWriter(name, 10, (32, 16)) as writer:
    for value in (0, 128, 255):
        writer.write(np.full((16, 32, 3), value, np.uint8))
print(video_info(name).frame_count, len(list(read_video(name))), sorted(os.listdir(os.fsencode(folder))))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[:2] == ["3", "3"] and "[b'vid\\xe9o.avi']" in result.stdout


class _InterruptedWriter(_LossyWriter):
    """cv2.VideoWriter whose 3rd write reaches the file and is then interrupted (Ctrl+C between
    OpenCV's write and the count)."""

    def write(self, frame: np.ndarray) -> bool | None:
        self._count += 1
        self._real.write(frame)
        if self._count == 3:
            raise KeyboardInterrupt
        return True


def test_a_write_interrupted_after_opencv_took_the_frame_still_closes_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webcam command stops on Ctrl+C and closes its recording: a frame OpenCV wrote just
    before the interruption is counted, not taken for a damaged file."""
    import cv2

    monkeypatch.setattr(_InterruptedWriter, "real", cv2.VideoWriter)
    monkeypatch.setattr(cv2, "VideoWriter", _InterruptedWriter)
    writer = VideoWriter(tmp_path / "rec.avi", 10, (64, 48))
    with pytest.raises(KeyboardInterrupt):
        for frame in moving_frames(5, 64, 48):
            writer.write(frame)
    assert writer.frames_written == 2
    writer.close()
    assert writer.frames_written == 3 and video_info(tmp_path / "rec.avi").frame_count == 3


def test_a_writer_closed_before_any_frame_keeps_the_earlier_file(tmp_path: Path) -> None:
    """Closing a writer with no frame used to rename an unopenable 258-byte file over an earlier
    complete video (the webcam stopped before its first frame did this to --output)."""
    path = tmp_path / "rec.mp4"
    with VideoWriter(path, 30.0, (64, 48)) as writer:
        for _ in range(5):
            writer.write(np.zeros((48, 64, 3), np.uint8))
    before = path.read_bytes()
    VideoWriter(path, 30.0, (64, 48)).close()
    assert path.read_bytes() == before
    assert video_info(path).frame_count == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec.mp4"]  # no temporary left
    empty = tmp_path / "new.mp4"
    VideoWriter(empty, 30.0, (64, 48)).close()
    assert not empty.exists()
