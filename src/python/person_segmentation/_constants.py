"""The package's constants, each written once.

The native limits (model input, largest image side, part count) come from the C++ core
(``_core``), so Python and C++ cannot disagree; the rest is defined here and imported from here
by every module that needs it.
"""

from __future__ import annotations

from typing import Final, Literal

from person_segmentation import _core

#: Fixed model input of the original, (height, width).
MODEL_INPUT_SIZE: Final[tuple[int, int]] = (_core.MODEL_HEIGHT, _core.MODEL_WIDTH)
#: The network input as the TFLite engine takes it, (1, height, width, 3).
MODEL_INPUT_SHAPE: Final[tuple[int, int, int, int]] = (1, _core.MODEL_HEIGHT, _core.MODEL_WIDTH, 3)
#: The largest image side the native core takes.
MAX_IMAGE_SIDE: Final[int] = _core.MAX_IMAGE_SIDE
#: Number of body parts (part ids 0..NUM_PARTS-1).
NUM_PARTS: Final[int] = _core.NUM_PARTS

#: MobileNetV1 depth multipliers for which pretrained weights exist.
MULTIPLIERS: Final[tuple[float, ...]] = (1.0, 0.75, 0.5, 0.25)
#: Output strides the network runs at.
OUTPUT_STRIDES: Final[tuple[int, ...]] = (8, 16, 32)
#: MobileNetV1 blocks: Conv2d_0 (a full convolution) and the separable Conv2d_1..13.
NUM_BLOCKS: Final[int] = 14

EngineName = Literal["auto", "tf", "tflite"]
#: Values of ``engine`` (where the network runs).
ENGINES: Final[tuple[EngineName, ...]] = ("auto", "tf", "tflite")
Postprocess = Literal["native", "tf"]
#: Values of ``postprocess`` (who post-processes the logits).
POSTPROCESSORS: Final[tuple[Postprocess, ...]] = ("native", "tf")
Device = Literal["cpu", "cuda"]
#: Values of ``device`` of the ``*_from_logits`` functions.
DEVICES: Final[tuple[Device, ...]] = ("cpu", "cuda")

#: Images in flight at once in ``segment_stream`` by default, and the most allowed.
DEFAULT_WORKERS: Final[int] = 2
MAX_WORKERS: Final[int] = 64

#: The recommended temporal ``smoothing`` of video masks for 24-30 fps video (the command
#: line's default); see ``video.DEFAULT_SMOOTHING`` for how it was measured.
DEFAULT_SMOOTHING: Final[float] = 0.5

#: Files taken from directories (and recognised as images / videos) by their extension.
IMAGE_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}
)
VIDEO_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ogv", ".mts", ".m2ts"}
)
#: Video files an output may name (the extensions video.VideoWriter has a codec for).
VIDEO_OUTPUT_EXTENSIONS: Final[tuple[str, ...]] = (".mp4", ".m4v", ".mov", ".avi", ".mkv")


# -- video sizes and the command line's output files (issue 16) ---------------------------------
#: The largest width or height :class:`person_segmentation.video.VideoWriter` takes, whatever
#: the codec (OpenCV's FFmpeg MJPEG encoder takes 32768; larger sizes overflow OpenCV's checks).
MAX_VIDEO_SIDE: Final[int] = 16384
#: Codecs with a smaller limit: MPEG-4 Part 2 ("mp4v" and its other tags) stores the frame size
#: in 13-bit fields, so FFmpeg refuses sides above 8191 (8190 when even).
MAX_VIDEO_SIDE_BY_FOURCC: Final[dict[str, int]] = {"mp4v": 8190, "xvid": 8190, "divx": 8190, "dx50": 8190, "fmp4": 8190}
#: What the command line writes into its PNG outputs (a tEXt "Software" chunk) and appends to its
#: MP4 outputs (a top-level ISO BMFF "free" box), so that a re-run into the input folder knows its
#: own earlier outputs from a user's files of the same name.
OUTPUT_MARKER: Final[str] = "person-segmentation"
