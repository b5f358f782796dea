"""What the commands share: usage errors, messages, the model/render/video options, loading.

Imports nothing heavy at module level (numpy, OpenCV, TensorFlow come with the work), so
``person-segmentation --help`` is fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TextIO

from person_segmentation._constants import (
    BUNDLED_MULTIPLIER,
    DEFAULT_FACE_BLUR,
    DEFAULT_SMOOTHING,
    ENGINES,
    MAX_CLI_FACE_BLUR,
    MULTIPLIERS,
    OUTPUT_STRIDES,
)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from person_segmentation import PersonSegmentation
    from person_segmentation.render import Effect, Renderer

PROG = "person-segmentation"


class UsageError(Exception):
    """A problem with what was asked for (exit status 2)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, ``docker stop``), raised in the main thread so that it
    unwinds like Ctrl+C: temporary files are removed, the summary is printed (exit status 143)."""


#: Exit status after Ctrl+C (128 + SIGINT) and after SIGTERM (128 + SIGTERM).
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


def display(text: str, stream: TextIO | None = None) -> str:
    """``text`` made safe to print on ``stream`` (default stdout) as one line: bytes of a file
    name that were not valid in its encoding (kept by Python as lone surrogates) are shown as
    ``\\xNN``, line breaks, tabs, escape sequences and other invisible or control characters
    as ``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``..., and what the stream's encoding cannot
    hold as ``\\xNN`` / ``\\uNNNN``; so a hostile or odd file name can neither stop the
    batch (UnicodeEncodeError), nor split a line, nor move the terminal's cursor."""
    out = []
    for char in text:
        if "\udc80" <= char <= "\udcff":  # an undecodable byte of a file name (surrogateescape)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char == " " or char.isprintable():
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    safe = "".join(out)
    encoding = getattr(stream if stream is not None else sys.stdout, "encoding", None) or "utf-8"
    try:
        return safe.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:  # pragma: no cover - a stream with an unknown encoding name
        return safe.encode("ascii", "backslashreplace").decode("ascii")


def say(text: str, file: TextIO | None = None) -> None:
    """Print ``text`` (:func:`display`-escaped) on ``file`` (default stdout) and flush."""
    stream = file if file is not None else sys.stdout
    print(display(text, stream), file=stream, flush=True)


def error(message: str) -> None:
    """Print ``person-segmentation: message`` on stderr (escaped as :func:`display`)."""
    say(f"{PROG}: {message}", sys.stderr)


def parse_effect(text: str) -> Effect:
    """``--effect`` value -> :class:`~person_segmentation.render.Effect` (argparse ``type=``;
    errors are usage errors)."""
    from person_segmentation.render import Effect

    try:
        return Effect.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def nonnegative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def positive_int(text: str) -> int:
    value = nonnegative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def even_size(width: int, height: int) -> tuple[int, int]:
    """Video encoders need even sides: odd ones are padded by one pixel."""
    return width + width % 2, height + height % 2


def pad_to(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pad ``frame`` at the bottom/right (repeating the edge) to (height, width)."""
    import numpy as np

    h, w = frame.shape[:2]
    if (h, w) == (height, width):
        return frame
    pad = ((0, height - h), (0, width - w)) + ((0, 0),) * (frame.ndim - 2)
    return np.pad(frame, pad, mode="edge")


def multiplier_of(args: argparse.Namespace) -> float:
    """``--multiplier``, or the bundled model's (0.75) when it is not given."""
    return BUNDLED_MULTIPLIER if args.multiplier is None else float(args.multiplier)


def load_net(args: argparse.Namespace) -> PersonSegmentation:
    """The network the model options ask for; a UsageError when it cannot be loaded.

    With neither ``--weights`` nor ``--multiplier`` (and no ``$PERSON_SEGMENTATION_WEIGHTS``)
    that is the bundled model (BodyPix 2 MobileNetV1 0.75 quant2), which needs no network and
    no TensorFlow; otherwise ``ps.load`` as asked (default multiplier 0.75)."""
    import os

    import person_segmentation as ps
    from person_segmentation import _weights

    weights, multiplier = args.weights, args.multiplier
    try:
        if weights is None and multiplier is None and not os.environ.get("PERSON_SEGMENTATION_WEIGHTS"):
            weights = _weights.bundled_model()
        return ps.load(multiplier_of(args), weights=weights, engine=args.engine)
    except (ValueError, OSError, RuntimeError) as exc:
        raise UsageError(f"cannot load weights: {exc}") from exc


def video_segmenter(video: Any, net: PersonSegmentation, args: argparse.Namespace, *, parts: bool) -> Any:
    """A ``video.VideoSegmenter`` of ``net`` with the model and video options (``--smoothing``,
    ``--output-stride``, ``--threshold``, ``--flip``); ``video`` is the imported module."""
    return video.VideoSegmenter(
        net,
        smoothing=args.smoothing,
        output_stride=args.output_stride,
        segmentation_threshold=args.threshold,
        flip_horizontal=args.flip,
        parts=parts,
    )


def renderer_of(effect: Effect | None, palette: str, args: argparse.Namespace, *, mirror: bool = False) -> Renderer:
    """The :class:`~person_segmentation.render.Renderer` of ``effect`` with the rendering
    options (``--opacity``, ``--background-blur``, ``--face-blur``, ``--edge-blur``); a bad
    value (or an unreadable ``replace=IMG``) is a UsageError."""
    from person_segmentation.render import Renderer

    try:
        return Renderer(
            effect,
            palette=palette,  # type: ignore[arg-type]
            opacity=args.opacity,
            background_blur=args.background_blur,
            face_blur=args.face_blur,
            edge_blur=args.edge_blur,
            mirror=mirror,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


WEIGHTS_HELP = (
    "weights: a local mirror of the official folder layout, one model folder, a 2.x model-stride*.json, "
    "or an http(s)/file URL (default: $PERSON_SEGMENTATION_WEIGHTS, else the bundled BodyPix 2 0.75 model; "
    "with --multiplier alone, the official URL, downloaded once into the cache)"
)
EFFECT_HELP = (
    "'mask' (background darkened by the mask), "
    "'parts' (body parts coloured over the image), 'bokeh' (background blurred, as in the BodyPix "
    "demo), 'blur-faces' (the face parts 0 and 1 blurred, for privacy: --face-blur), 'replace=IMG' (background "
    "replaced by an image, scaled to cover the frame) or 'replace=#RRGGBB' (by a colour)"
)


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "--multiplier",
        type=float,
        default=None,
        choices=MULTIPLIERS,
        help="MobileNet depth multiplier: larger is more accurate, smaller is faster (default 0.75; "
        "alone, it selects the official 1.x weights of that multiplier instead of the bundled model)",
    )
    group.add_argument(
        "--output-stride",
        type=int,
        default=16,
        choices=OUTPUT_STRIDES,
        help="network output stride (default 16; 8 is finer and slower, 32 faster and coarser)",
    )
    group.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        metavar="T",
        help="a pixel is a person where its score is > T, T in [0, 1] (default 0.5)",
    )
    group.add_argument(
        "--flip",
        action="store_true",
        help="mirror the input before the network (and the result back, so it still lines up with the input)",
    )
    group.add_argument("--weights", default=None, metavar="W", help=WEIGHTS_HELP)
    group.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="where the network runs: tflite (TensorFlow Lite + XNNPACK, fastest on CPU), tf (TensorFlow; "
        "use it on a GPU) or auto (default: tf where a GPU is visible, else tflite)",
    )


def add_render_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rendering (with --effect)")
    group.add_argument(
        "--palette",
        choices=("rainbow", "warm"),
        default=None,
        help="colours of the body parts, only with --parts or --effect parts (default rainbow, the original demo's)",
    )
    group.add_argument(
        "--opacity",
        type=float,
        default=0.7,
        metavar="A",
        help="opacity of the mask / parts overlay, in [0, 1] (default 0.7)",
    )
    group.add_argument(
        "--background-blur",
        type=nonnegative_int,
        default=3,
        metavar="N",
        help="background blur of bokeh (a Gaussian's sigma in pixels), 0..20 (default 3, as BodyPix)",
    )
    group.add_argument(
        "--face-blur",
        type=nonnegative_int,
        default=int(DEFAULT_FACE_BLUR),
        metavar="N",
        help=f"blur of the faces with --effect blur-faces (a Gaussian's sigma in pixels), 0..{MAX_CLI_FACE_BLUR:g} "
        f"(default {DEFAULT_FACE_BLUR:g}: faces up to about 300 px tall are no longer recognisable; raise it for "
        "larger ones)",
    )
    group.add_argument(
        "--edge-blur",
        type=nonnegative_int,
        default=3,
        metavar="N",
        help="feathering of the edge (the person's for bokeh and replace, the faces' for blur-faces), 0..20 "
        "(default 3)",
    )


def check_palette(args: argparse.Namespace, *, parts_shown: bool) -> str:
    """The palette to draw with: ``--palette`` (default rainbow). A ``--palette`` given where
    no parts are drawn (``parts_shown`` false) is a usage error: it would be silently ignored."""
    if args.palette is not None and not parts_shown:
        raise UsageError(f"--palette {args.palette} colours body parts: use it with --parts or --effect parts")
    return str(args.palette or "rainbow")


def add_video_options(parser: argparse.ArgumentParser, *, webcam: bool) -> None:
    group = parser.add_argument_group("video" if not webcam else "stream")
    group.add_argument(
        "--smoothing",
        type=float,
        default=DEFAULT_SMOOTHING,
        metavar="S",
        help="temporal smoothing of the mask between frames, in [0, 1): an exponential moving average of "
        f"the network's scores, S = weight of the past (default {DEFAULT_SMOOTHING}, which halves the edge "
        "flicker at the same accuracy; 0 = off, every frame on its own; higher is steadier but lags behind "
        "fast motion)",
    )
    group.add_argument(
        "--max-frames",
        type=positive_int,
        default=None,
        metavar="N",
        help="stop after N frames"
        + (" (default: until the stream ends or you quit)" if webcam else " of each video (default: all)"),
    )


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors (no progress, no summary)")
    parser.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even when stderr is not a terminal (it is shown on a terminal anyway; -q hides it)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show the log lines of TensorFlow and LiteRT (hidden by default) and the package's own",
    )
