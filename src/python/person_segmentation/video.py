"""Video: a streaming segmenter with temporal smoothing, a flicker measure, and video file I/O.

:class:`VideoSegmenter` takes RGB frames one at a time and can smooth the scores over time
(an exponential moving average on the network's low-resolution grid), which removes most of
the flicker at the edges of the mask that single-frame BodyPix is known for; the
full-resolution work (upsampling, thresholding, part argmax) stays in the native core.

:func:`read_video`, :func:`video_info` and :class:`VideoWriter` read and write video files
through OpenCV (``cv2``, e.g. ``opencv-python-headless``; imported on first use). OpenCV reads
and writes the video stream only: **audio is not carried over** to written files. (PyAV could
keep it, at the cost of another dependency; it is not used.) Only regular files are read (a
FIFO would block OpenCV forever); any file name works (OpenCV itself crashes on names that
are not UTF-8, so those reach it through a link or a temporary name). A written video appears
under its name only once it is complete and read back whole (see :class:`VideoWriter`).

    >>> import person_segmentation as ps
    >>> from person_segmentation.video import VideoSegmenter, VideoWriter, read_video, video_info
    >>> net = ps.load(0.5)                                              # doctest: +SKIP
    >>> info = video_info("in.mp4")                                     # doctest: +SKIP
    >>> segmenter = VideoSegmenter(net)     # smoothing=DEFAULT_SMOOTHING (0.5) # doctest: +SKIP
    >>> with VideoWriter("mask.mp4", info.fps, (info.width, info.height)) as out:  # doctest: +SKIP
    ...     for frame in read_video("in.mp4"):
    ...         out.write(segmenter.process(frame).mask * 255)

Why one module (about 730 lines): it is the whole video API users import in one line, in
three independent sections (streaming segmentation, the flicker measure, OpenCV file I/O);
splitting it would only move the sections into files of their own behind re-exports.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import shutil
import stat
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import numpy as np

from person_segmentation import _checks
from person_segmentation._api import Logits, PersonSegmentation
from person_segmentation._constants import DEFAULT_SMOOTHING, MAX_VIDEO_SIDE, MAX_VIDEO_SIDE_BY_FOURCC
from person_segmentation._image import ImageLike
from person_segmentation._postprocess import run_probability

__all__ = [
    "DEFAULT_SMOOTHING",
    "FOURCC_BY_EXTENSION",
    "FrameResult",
    "VideoError",
    "VideoFrames",
    "VideoInfo",
    "VideoNotFoundError",
    "VideoSegmenter",
    "VideoWriter",
    "flicker",
    "read_video",
    "video_info",
]

#: The default ``smoothing`` of :class:`VideoSegmenter` and of the command line (one constant
#: for both), recommended for 24-30 fps video. Measured on the 30-frame DAVIS
#: "rollerblade" sequence (fast motion; tests/golden/test_video.py): with the 0.50 net at
#: stride 16 it halves the flicker (0.0418 -> 0.0206) at the same mean IoU (0.1265 -> 0.1257),
#: and it keeps the IoU within 0.01 for the 0.25/0.50 nets at strides 8 and 16, while 0.7
#: loses 0.01-0.02 IoU to lag behind the motion.
# DEFAULT_SMOOTHING (0.5) is defined in person_segmentation._constants and re-exported here.

# Scores are clipped to [_EPS, 1 - _EPS] before going back to logits (|logit| <= ~27.6), so
# the logits stay finite; in float32 the sigmoid of such a logit is 1e-12 or exactly 1.
_EPS = 1e-12


# ---------------------------------------------------------------------------------------------
# Streaming segmentation
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FrameResult:
    """The segmentation of one video frame (a frozen dataclass).

    Attributes:
        mask: uint8 (H, W), 1 = person, 0 = background.
        parts: int32 (H, W) part ids 0..23 (-1 = background) when the segmenter was made with
            ``parts=True``, else None. ``mask == (parts >= 0)``.
        index: the frame's number: 0 for the first frame given to :meth:`VideoSegmenter.process`
            after construction or :meth:`VideoSegmenter.reset`, then 1, 2, ...
        probability: float32 (H, W) in [0, 1], the (smoothed) person probability the mask
            thresholds: ``mask == (probability > segmentation_threshold)``; computed in the
            same native pass (a soft mask for :func:`person_segmentation.render.soft_alpha`).
    """

    mask: np.ndarray
    parts: np.ndarray | None
    index: int
    probability: np.ndarray | None = None


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """float64 logistic function, without overflow for large |x|."""
    return 0.5 + 0.5 * np.tanh(0.5 * np.asarray(x, dtype=np.float64))


def _logit(p: np.ndarray) -> np.ndarray:
    """float32 inverse of the sigmoid, with ``p`` clipped to [1e-12, 1 - 1e-12] (finite)."""
    clipped = np.clip(p, _EPS, 1.0 - _EPS)
    result: np.ndarray = (np.log(clipped) - np.log1p(-clipped)).astype(np.float32)
    return result


class VideoSegmenter:
    """Segments a stream of frames one at a time, with optional temporal smoothing.

    Smoothing is an exponential moving average of the *scores* (sigmoids of the network's
    logits) on the network's low-resolution output grid, for the person channel and, with
    ``parts=True``, the 24 part channels::

        s_0 = sigmoid(logits_0)
        s_t = (1 - smoothing) * sigmoid(logits_t) + smoothing * s_{t-1}

    The smoothed scores go back to logits (``log(s / (1 - s))``, with ``s`` clipped to
    [1e-12, 1 - 1e-12] so they stay finite) and through the same native post-processing as
    single images (:func:`person_segmentation.person_mask_from_logits` /
    :func:`~person_segmentation.part_segmentation_from_logits`): upsampling to the frame,
    threshold, part argmax. With ``smoothing=0`` (and on the first frame) the network's logits
    are used unchanged, so the results are exactly those of
    :meth:`~person_segmentation.PersonSegmentation.estimate_person_segmentation` /
    :meth:`~person_segmentation.PersonSegmentation.estimate_part_segmentation`.

    Larger ``smoothing`` gives a steadier mask that lags more behind fast motion: the weight
    of a frame halves every ``log(0.5) / log(smoothing)`` frames (1 frame at 0.5, about 2 at
    0.7). :data:`DEFAULT_SMOOTHING` (0.5) is a good start for 24-30 fps video.

    The smoothing state is per stream: it is cleared by :meth:`reset` (call it between
    unrelated videos or after a cut) and automatically when the frame size changes (the
    grid then covers a different part of the frame). An instance is not thread-safe; use one
    per stream (they can share one network).

    Args:
        net: a loaded :class:`~person_segmentation.PersonSegmentation`.
        smoothing: the EMA factor in [0, 1); 0 turns smoothing off. Default
            :data:`DEFAULT_SMOOTHING` (0.5), as the command line's ``--smoothing``.
        output_stride: 8, 16 or 32, as for single images.
        segmentation_threshold: a pixel is a person where its (smoothed) score is > this, in [0, 1].
        flip_horizontal: mirror frames before the network (e.g. for a webcam); results are
            mirrored back so they line up with the frames.
        parts: also compute body parts (:attr:`FrameResult.parts`).
    Raises:
        TypeError, ValueError: for a wrong argument (the message names it).
    """

    def __init__(
        self,
        net: PersonSegmentation,
        *,
        smoothing: float = DEFAULT_SMOOTHING,
        output_stride: int = 16,
        segmentation_threshold: float = 0.5,
        flip_horizontal: bool = False,
        parts: bool = False,
    ) -> None:
        if not isinstance(net, PersonSegmentation):
            raise TypeError(
                f"net must be a person_segmentation.PersonSegmentation (from ps.load), got {type(net).__qualname__}"
            )
        self.net = net
        self.smoothing = _checks.check_interval(smoothing, "smoothing", high_open=True, note="(0 = off)")
        self.output_stride = _checks.check_output_stride(output_stride)
        self.segmentation_threshold = _checks.check_threshold(segmentation_threshold)
        self.flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
        self.parts = _checks.check_bool(parts, "parts")
        self._index = 0
        self._size: tuple[int, int] | None = None
        self._segment_scores: np.ndarray | None = None
        self._part_scores: np.ndarray | None = None

    def __repr__(self) -> str:
        return (
            f"VideoSegmenter(smoothing={self.smoothing}, output_stride={self.output_stride}, "
            f"segmentation_threshold={self.segmentation_threshold}, flip_horizontal={self.flip_horizontal}, "
            f"parts={self.parts}, frames={self._index})"
        )

    @property
    def frame_count(self) -> int:
        """How many frames were processed since construction or the last :meth:`reset`."""
        return self._index

    def reset(self) -> None:
        """Forget the smoothing state and restart the frame numbering at 0."""
        self._index = 0
        self._clear_state()

    def _clear_state(self) -> None:
        self._size = None
        self._segment_scores = None
        self._part_scores = None

    def process(self, frame: ImageLike) -> FrameResult:
        """Segment the next frame of the stream.

        Args:
            frame: RGB uint8 (H, W, 3) array (anything
                :meth:`~person_segmentation.PersonSegmentation.estimate_person_segmentation`
                accepts works). When (H, W) differs from the previous frame's, the smoothing
                state is cleared first (the frame numbering goes on).
        Returns:
            :class:`FrameResult` with the (H, W) mask, the parts (or None) and the frame index.
        Raises:
            TypeError, ValueError: for an unsupported frame (the message says why).
        """
        logits = self.net.estimate_logits(frame, self.flip_horizontal, self.output_stride, with_parts=self.parts)
        size = (logits.geometry.image_height, logits.geometry.image_width)
        if size != self._size:
            self._clear_state()
            self._size = size
        logits = self._smooth(logits)
        net = self.net
        values = logits.segment if logits.parts is None else np.concatenate((logits.segment, logits.parts), axis=-1)
        result_map, probability = run_probability(
            values,
            logits.geometry,
            parts=self.parts,
            threshold=self.segmentation_threshold,
            flip=logits.flip_horizontal,
            num_threads=net.num_threads,
            method=net.postprocess,
        )
        if self.parts:
            parts: np.ndarray | None = result_map
            mask = (result_map >= 0).view(np.uint8)
        else:
            parts, mask = None, result_map
        result = FrameResult(mask, parts, self._index, probability)
        self._index += 1
        return result

    def _smooth(self, logits: Logits) -> Logits:
        """Update the EMA of the scores with ``logits``; return the logits to post-process."""
        if self.smoothing == 0.0:
            return logits
        a = self.smoothing
        segment = _sigmoid(logits.segment)
        parts = None if logits.parts is None else _sigmoid(logits.parts)
        first = self._segment_scores is None
        if self._segment_scores is not None:
            segment = (1.0 - a) * segment + a * self._segment_scores
            if parts is not None and self._part_scores is not None:
                parts = (1.0 - a) * parts + a * self._part_scores
        self._segment_scores, self._part_scores = segment, parts
        if first:  # s_0 = sigmoid(logits_0): use the network's logits as they are (exact)
            return logits
        return Logits(
            _logit(segment), None if parts is None else _logit(parts), logits.geometry, logits.flip_horizontal
        )


# ---------------------------------------------------------------------------------------------
# Flicker
# ---------------------------------------------------------------------------------------------
def flicker(masks: Iterable[np.ndarray]) -> float:
    """How much a sequence of masks changes from frame to frame.

    For T >= 2 masks m_0..m_{T-1} of equal shape with N pixels each::

        flicker = 1 / (T - 1) * sum_{t=1}^{T-1} ( 1 / N * sum_pixels |m_t - m_{t-1}| )

    i.e. the fraction of pixels whose value changes between consecutive frames, averaged over
    the T - 1 pairs: 0 for a still mask, 1 if every pixel toggles every frame. Real motion
    counts too, so compare it between methods on the same video (or with the flicker of the
    ground truth) rather than with 0.

    Args:
        masks: 0/1 masks (uint8, another integer dtype or bool), each (H, W) with the same
            shape; any iterable (a generator is read once, one mask at a time).
    Returns:
        The flicker, a float in [0, 1].
    Raises:
        ValueError: fewer than 2 masks, masks of different shapes or not 2-D, or values other
            than 0 and 1.
        TypeError: a mask that is not an integer or bool numpy array.
    """
    previous: np.ndarray | None = None
    total = 0.0
    pairs = 0
    for t, mask in enumerate(masks):
        if not isinstance(mask, np.ndarray) or mask.dtype.kind not in "biu":
            got = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__qualname__
            raise TypeError(f"masks[{t}] must be an integer or bool numpy array of 0/1 values, got {got}")
        if mask.ndim != 2:
            raise ValueError(f"masks[{t}] must be 2-D (H, W), got shape {mask.shape}")
        if previous is not None and mask.shape != previous.shape:
            raise ValueError(
                f"masks must all have the same shape: masks[{t}] is {mask.shape}, masks[0] is {previous.shape}"
            )
        current = mask.astype(bool)
        if mask.dtype.kind != "b" and mask.size and not np.array_equal(current, mask):
            raise ValueError(f"masks[{t}] must hold only 0 and 1, got values {np.unique(mask)[:5].tolist()}...")
        if previous is not None:
            total += float(np.count_nonzero(current != previous)) / max(current.size, 1)
            pairs += 1
        previous = current
    if pairs == 0:
        raise ValueError("flicker needs at least 2 masks")
    return total / pairs


# ---------------------------------------------------------------------------------------------
# Video files (OpenCV)
# ---------------------------------------------------------------------------------------------
class VideoError(ValueError):
    """A video file cannot be opened, decoded or written (the message names the file)."""


class VideoNotFoundError(VideoError, FileNotFoundError):
    """The video file does not exist (both a :class:`VideoError` and a FileNotFoundError)."""


class VideoInfo(NamedTuple):
    """What a video file's container says about its video stream.

    Attributes:
        width, height: frame size in pixels.
        fps: frames per second (0.0 when the file does not say).
        frame_count: number of frames as stored in the container (0 when it does not say). It
            is exact for ordinary mp4/avi files but can be an estimate for some streams;
            count the frames of :func:`read_video` when it must be exact.
    """

    width: int
    height: int
    fps: float
    frame_count: int


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("video files need OpenCV: pip install opencv-python-headless (or opencv-python)") from error
    return cv2


def _check_regular_file(name: str) -> None:
    """Raise unless ``name`` is a regular file (or a link to one): a FIFO would block OpenCV
    forever, a device or socket is no video file."""
    try:
        mode = os.stat(name).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise VideoNotFoundError(f"cannot open video {name!r}: no such file") from None
    except OSError as exc:
        raise VideoError(f"cannot open video {name!r}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise VideoError(f"cannot open video {name!r}: it is a directory")
    if not stat.S_ISREG(mode):
        raise VideoError(
            f"cannot open video {name!r}: not a regular file (a FIFO, socket or device); only files are read"
        )


def _opencv_can_take(name: str) -> bool:
    """OpenCV takes file names as UTF-8: a name that is not (undecodable bytes, which Python
    keeps as lone surrogates) makes it crash (a segmentation fault in cv2 5.0), so such names
    never reach it."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@contextlib.contextmanager
def _opencv_name(name: str) -> Iterator[str]:
    """A name OpenCV can open for reading ``name``: its absolute path (so that FFmpeg never
    takes a leading ``proto:`` for a protocol), or, for a name that is not UTF-8, a symbolic
    link with a plain name in a temporary directory, removed when the block ends."""
    absolute = os.path.abspath(name)
    if _opencv_can_take(absolute):
        yield absolute
        return
    directory = tempfile.mkdtemp(prefix="person-segmentation-")
    try:
        extension = os.path.splitext(name)[1]
        link = os.path.join(directory, "video" + (extension if _opencv_can_take(extension) else ""))
        os.symlink(absolute, link)
        yield link
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _open_capture(path: str | os.PathLike[str]) -> Any:
    """An opened cv2.VideoCapture on ``path`` (FFmpeg backend when available); only regular
    files are opened."""
    cv2 = _cv2()
    name = _checks.check_file_path(path)
    _check_regular_file(name)
    backend = cv2.CAP_FFMPEG if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else cv2.CAP_ANY
    with _opencv_name(name) as usable:
        capture = cv2.VideoCapture(usable, backend)
    if not capture.isOpened():
        capture.release()
        raise VideoError(f"cannot open video {name!r}: not a video file OpenCV can read, or it is corrupt")
    return capture


class VideoFrames(Iterator[np.ndarray]):
    """The frames of a video file: the iterator :func:`read_video` returns.

    Yields RGB uint8 (H, W, 3) arrays. Also a context manager; :meth:`close` stops early and
    releases the file (it is released anyway once exhausted or garbage-collected).
    """

    def __init__(self, capture: Any, name: str, first: np.ndarray) -> None:
        self._capture: Any = capture
        self._cv2: Any = _cv2()
        self._name = name
        self._next: np.ndarray | None = first

    def __iter__(self) -> VideoFrames:
        return self

    def __next__(self) -> np.ndarray:
        if self._next is None:
            raise StopIteration
        frame = self._next
        ok, bgr = self._capture.read() if self._capture is not None else (False, None)
        if ok and bgr is not None:
            self._next = self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)
        else:
            self.close()
        return frame

    def close(self) -> None:
        """Stop reading and release the file."""
        self._next = None
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self) -> VideoFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def read_video(path: str | os.PathLike[str]) -> VideoFrames:
    """The frames of a video file, one at a time, as RGB uint8 (H, W, 3) arrays.

    The file is opened and its first frame decoded right away, so a missing, unreadable or
    empty file raises here rather than at the first ``next()``. The returned
    :class:`VideoFrames` iterator releases the file when exhausted; call its ``close()`` (or
    use it in a ``with`` block) to stop early.
    A file that is cut short ends early (OpenCV does not tell truncation from the end).
    Only the video stream is read (no audio).

    Raises:
        VideoNotFoundError: the file does not exist (a VideoError and a FileNotFoundError).
        VideoError: (a ValueError) the file cannot be opened or has no decodable frame, or it
            is not a regular file (a FIFO, socket or device: refused at once, never waited on).
    """
    capture = _open_capture(path)
    name = os.fspath(path)
    ok, bgr = capture.read()
    if not ok or bgr is None:
        capture.release()
        raise VideoError(f"cannot decode video {name!r}: no frame could be read")
    return VideoFrames(capture, str(name), _cv2().cvtColor(bgr, _cv2().COLOR_BGR2RGB))


def video_info(path: str | os.PathLike[str]) -> VideoInfo:
    """Size, frame rate and frame count of a video file, from its container (no decoding).

    Raises:
        VideoNotFoundError, VideoError: as for :func:`read_video`.
    """
    cv2 = _cv2()
    capture = _open_capture(path)
    try:
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
    finally:
        capture.release()
    if width <= 0 or height <= 0:
        raise VideoError(f"cannot read video {os.fspath(path)!r}: no video stream with a frame size")
    fps = fps if math.isfinite(fps) and fps > 0 else 0.0
    frame_count = int(count) if math.isfinite(count) and count > 0 else 0
    return VideoInfo(width, height, fps, frame_count)


#: Codec (FourCC) used for each output extension.
FOURCC_BY_EXTENSION = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


def _remove(name: str | None) -> None:
    if name is not None:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _reserve_temporary(name: str) -> str:
    """Create (exclusively) and return an empty file next to ``name`` for OpenCV to write: a
    hidden ``.<name>.<random>.tmp<extension>`` (the extension tells FFmpeg the container), in
    plain UTF-8 whatever ``name`` is, so OpenCV can take it."""
    directory, base = os.path.split(os.path.abspath(name))
    extension = os.path.splitext(base)[1]
    extension = extension if _opencv_can_take(extension) and len(extension) <= 16 else ""
    stem = base if _opencv_can_take(base) and len(base.encode("utf-8")) <= 100 else "video"
    for _ in range(100):
        candidate = os.path.join(directory, f".{stem}.{secrets.token_hex(4)}.tmp{extension}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate
    raise FileExistsError(f"no free temporary name next to {name!r}")  # pragma: no cover


def _count_frames(cv2: Any, name: str, expected: tuple[int, ...]) -> int:
    """The frames of the video file ``name`` as OpenCV reads them back: the container's count
    when it is one of ``expected``, else the frames demuxed one by one (at most one more than
    the largest expected)."""
    capture = cv2.VideoCapture(name, cv2.CAP_FFMPEG if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else cv2.CAP_ANY)
    try:
        if not capture.isOpened():
            return 0
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        if math.isfinite(count) and int(count) in expected:
            return int(count)
        frames = 0
        while frames <= max(expected) and capture.grab():
            frames += 1
        return frames
    finally:
        capture.release()


class VideoWriter:
    """Writes RGB frames to a video file with OpenCV (a context manager).

    The codec follows the extension: MPEG-4 Part 2 (``mp4v``) for .mp4/.m4v/.mov, Motion JPEG
    (``MJPG``) for .avi/.mkv; pass ``fourcc`` to choose another one. Video only: **audio is not
    carried over** (OpenCV cannot write it; PyAV could, but is not used).

    OpenCV's FFmpeg encoders need an even width and height (they would silently drop the last
    row/column), so an odd ``size`` is refused rather than changed. Sides are at most 16384
    (8190 for ``mp4v`` and the other MPEG-4 Part 2 codes, whose headers cannot hold more).

    **Nothing partial, nothing lost.** The frames go to a hidden temporary file in the same
    directory (``.<name>.<random>.tmp<ext>``); :meth:`close` checks that the file is complete
    (OpenCV reads it back and finds ``frames_written`` frames) and only then renames it to
    ``path`` (``os.replace``, atomic), so ``path`` is either the complete new video or what it
    was before (an earlier file of that name stays untouched until then). A frame that OpenCV
    reports as not written (a full disk, a file size limit; OpenCV 5 reports each frame, 4.x
    only shows at the check in :meth:`close`) raises :class:`VideoError` and discards the file.
    Leaving a ``with`` block by an exception (Ctrl+C included), :meth:`abort`, or dropping an
    unclosed writer (a ``ResourceWarning``) discards the frames, too. A link at ``path`` is
    replaced by the new file (its target is left alone).

    Args:
        path: the output file (its directory must exist); replaced if present.
        fps: frames per second, > 0.
        size: ``(width, height)`` of every frame.
        fourcc: a 4-character codec code, overriding the choice by extension.
    Raises:
        TypeError, ValueError: a wrong argument (the message names it).
        VideoError: (a ValueError) the encoder cannot be opened for ``path``.

    Example::

        with VideoWriter("out.mp4", 30.0, (960, 540)) as writer:
            writer.write(rgb_frame)          # uint8 (540, 960, 3), or (540, 960) grayscale
    """

    _writer: Any = None
    _temporary: str | None = None
    _in_flight = False

    def __init__(
        self, path: str | os.PathLike[str], fps: float, size: tuple[int, int], *, fourcc: str | None = None
    ) -> None:
        cv2 = _cv2()
        name = _checks.check_file_path(path)
        fps = _checks.check_positive(fps, "fps")
        extension = Path(name).suffix.lower()
        if fourcc is None:
            if extension not in FOURCC_BY_EXTENSION:
                raise ValueError(
                    f"cannot write video {name!r}: unsupported extension {extension!r}; "
                    f"use one of {sorted(FOURCC_BY_EXTENSION)} or pass fourcc"
                )
            fourcc = FOURCC_BY_EXTENSION[extension]
        if not isinstance(fourcc, str):
            raise TypeError(f"fourcc must be a 4-character codec code such as 'mp4v', got {fourcc!r}")
        if len(fourcc) != 4 or not fourcc.isascii():
            raise ValueError(f"fourcc must be a 4-character codec code such as 'mp4v', got {fourcc!r}")
        limit = MAX_VIDEO_SIDE_BY_FOURCC.get(fourcc.lower())
        if limit is None:
            width, height = _checks.check_video_size(size, MAX_VIDEO_SIDE)
        else:
            width, height = _checks.check_video_size(size, limit, codec=fourcc)
        directory = os.path.dirname(os.path.abspath(name))
        if not os.path.isdir(directory):
            raise VideoError(f"cannot write video {name!r}: directory {directory!r} does not exist")
        if os.path.isdir(name):
            raise VideoError(f"cannot write video {name!r}: it is a directory")
        try:
            temporary = _reserve_temporary(name)
        except OSError as exc:
            raise VideoError(f"cannot write video {name!r}: {exc.strerror or exc}") from exc
        backend = cv2.CAP_FFMPEG if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else cv2.CAP_ANY
        try:
            writer = cv2.VideoWriter(temporary, backend, cv2.VideoWriter_fourcc(*fourcc), fps, (width, height), True)
        except BaseException:
            _remove(temporary)
            raise
        if not writer.isOpened():
            writer.release()
            _remove(temporary)
            raise VideoError(f"cannot write video {name!r}: OpenCV could not open a {fourcc!r} encoder for it")
        self._writer, self._temporary = writer, temporary
        self.path = name
        self.fps = float(fps)
        self.size = (width, height)
        self.fourcc = fourcc
        self.frames_written = 0

    def __repr__(self) -> str:
        state = "closed" if self._writer is None else "open"
        return (
            f"VideoWriter({self.path!r}, fps={self.fps}, size={self.size}, fourcc={self.fourcc!r}, {state}, "
            f"frames={self.frames_written})"
        )

    @property
    def closed(self) -> bool:
        return self._writer is None

    def write(self, frame: np.ndarray) -> None:
        """Append one frame: RGB uint8 (height, width, 3), or (height, width) grayscale.

        Raises:
            TypeError: not a uint8 numpy array.
            ValueError: wrong shape, or the writer is closed.
            VideoError: (a ValueError) OpenCV reports the frame as not written (e.g. the disk
                is full); the file is discarded and the writer closed.
        """
        if self._writer is None:
            raise ValueError(f"cannot write to {self.path!r}: the VideoWriter is closed")
        if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
            got = frame.dtype if isinstance(frame, np.ndarray) else type(frame).__qualname__
            raise TypeError(f"frame must be a uint8 numpy array, got {got}")
        width, height = self.size
        if frame.shape not in ((height, width, 3), (height, width)):
            raise ValueError(
                f"frame must have shape ({height}, {width}, 3) or ({height}, {width}) for {self.path!r}, "
                f"got {frame.shape}"
            )
        cv2 = _cv2()
        code = cv2.COLOR_GRAY2BGR if frame.ndim == 2 else cv2.COLOR_RGB2BGR
        bgr = cv2.cvtColor(np.ascontiguousarray(frame), code)
        # An exception from a signal handler (Ctrl+C) can come between OpenCV's write and the
        # count: until the count is made, the frame may or may not be in the file (see close).
        self._in_flight = True
        written = self._writer.write(bgr)
        if written is False:  # OpenCV >= 5 says so for each frame; 4.x returns None (checked in close)
            self.abort()
            raise VideoError(
                f"cannot write video {self.path!r}: frame {self.frames_written} was not written (a full disk or a "
                "file size limit?); the file was discarded"
            )
        self.frames_written += 1
        self._in_flight = False

    def close(self) -> None:
        """Finish the file, check it, and give it its name (idempotent). A writer closed before
        any frame was written publishes nothing: a file that was at ``path`` stays as it was.

        Raises:
            VideoError: (a ValueError) the finished file does not hold the ``frames_written``
                frames (e.g. the disk filled up); it is discarded, and a file that was at
                ``path`` before is left as it was.
        """
        writer, temporary = self._writer, self._temporary
        if writer is None:
            return
        self._writer = None
        try:
            writer.release()
            if temporary is None:  # pragma: no cover - set with the writer
                return
            if not self.frames_written and not self._in_flight:
                return  # no frame: nothing is published (the temporary goes; an earlier file at path stays)
            if self.frames_written or self._in_flight:
                possible = (self.frames_written, self.frames_written + 1) if self._in_flight else (self.frames_written,)
                found = _count_frames(_cv2(), temporary, possible)
                if found not in possible:
                    raise VideoError(
                        f"cannot write video {self.path!r}: {self.frames_written} frames were written but the "
                        f"finished file holds {found} (a full disk or a file size limit?); the file was discarded"
                    )
                self.frames_written, self._in_flight = found, False  # after an interrupted write: what reached it
            try:
                os.replace(temporary, self.path)
            except OSError as exc:
                raise VideoError(f"cannot write video {self.path!r}: {exc.strerror or exc}") from exc
            self._temporary = None
        finally:
            _remove(self._temporary)
            self._temporary = None

    def abort(self) -> None:
        """Stop and discard what was written (idempotent): the temporary file is removed and
        ``path`` is left as it was. :meth:`close` after it does nothing."""
        writer, self._writer = self._writer, None
        try:
            if writer is not None:
                writer.release()
        finally:
            _remove(self._temporary)
            self._temporary = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:  # an error or an interruption: never publish a partial video
            self.abort()

    def __del__(self) -> None:
        if self._writer is not None or self._temporary is not None:
            with contextlib.suppress(Exception):  # e.g. at interpreter shutdown
                name = getattr(self, "path", "?")
                warnings.warn(
                    f"VideoWriter({name!r}) was not closed: its frames were discarded", ResourceWarning, stacklevel=2
                )
            self.abort()
