"""``person-segmentation webcam``: live segmentation of a camera (or any stream OpenCV opens).

Sinks: a preview window (``cv2.imshow``), a v4l2loopback virtual camera (``pyfakewebcam``) and
a video file; any combination, or none (a benchmark). A video file given as ``--device`` goes
through exactly the same code path as a camera, which is how the command is tested.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from person_segmentation._constants import VIDEO_OUTPUT_EXTENSIONS
from person_segmentation.cli._common import (
    EFFECT_HELP,
    Terminated,
    UsageError,
    add_model_options,
    add_quiet_option,
    add_render_options,
    add_video_options,
    check_palette,
    error,
    even_size,
    load_net,
    pad_to,
    parse_effect,
    renderer_of,
    say,
    video_segmenter,
)
from person_segmentation.cli._plan import check_output_file, identity
from person_segmentation.cli.progress import Progress, progress_enabled

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from person_segmentation.render import Renderer

WINDOW = "person-segmentation (q or Esc to quit)"


def preview_problem(
    build_information: str | None = None, environ: Any = None, platform: str | None = None
) -> str | None:
    """Why no preview window can be shown here, or None if it can.

    Args:
        build_information: ``cv2.getBuildInformation()`` (read when None).
        environ: the environment (``os.environ`` when None).
        platform: ``sys.platform`` when None.
    """
    if build_information is None:
        import cv2

        build_information = cv2.getBuildInformation()
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    match = re.search(r"^\s*GUI:\s*(\S+)", build_information, re.MULTILINE)
    if match is not None and match.group(1).upper() == "NONE":
        return (
            "cannot show a preview window: this OpenCV was built without GUI support (e.g. "
            "opencv-python-headless). Install the GUI build (pip uninstall opencv-python-headless && "
            "pip install opencv-python), or run with --no-preview and send the frames to --output FILE and/or "
            "--v4l2 /dev/videoN."
        )
    if platform.startswith("linux") and not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
        return (
            "cannot show a preview window: no display (neither DISPLAY nor WAYLAND_DISPLAY is set). "
            "Run it in a desktop session, or with --no-preview and send the frames to --output FILE "
            "and/or --v4l2 /dev/videoN."
        )
    return None


def _v4l2_problem(device: str) -> str | None:
    try:
        import pyfakewebcam  # noqa: F401
    except ImportError:
        return (
            f"--v4l2 {device} needs the pyfakewebcam package and the v4l2loopback kernel module (Linux): "
            "pip install pyfakewebcam; sudo modprobe v4l2loopback devices=1 exclusive_caps=1 "
            "(it creates the /dev/videoN to pass here)"
        )
    if not Path(device).exists():
        return (
            f"--v4l2 {device}: no such device; load v4l2loopback (sudo modprobe v4l2loopback devices=1 "
            "exclusive_caps=1) and pass the /dev/videoN it created (see v4l2-ctl --list-devices)"
        )
    return None


def _parse_device(text: str) -> int | str:
    """``--device``: a camera index, or a video file / stream URL."""
    if re.fullmatch(r"\d+", text.strip()):
        return int(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # OpenCV would crash on it (it takes names as UTF-8)
        raise UsageError(
            f"cannot open camera {text!r}: OpenCV cannot open a name that is not valid UTF-8; rename the file "
            "or give a link to it with a UTF-8 name"
        ) from None
    if "://" not in text:
        try:
            mode = os.stat(text).st_mode
        except OSError:
            raise UsageError(f"cannot open camera {text!r}: no such camera index, file or stream") from None
        if not (stat.S_ISREG(mode) or stat.S_ISCHR(mode)):  # a FIFO or socket would block OpenCV forever
            raise UsageError(f"cannot open camera {text!r}: not a video file or a camera device (/dev/videoN)")
    return text


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if match is None or int(match.group(1)) < 1 or int(match.group(2)) < 1:
        raise UsageError(f"--size must be WIDTHxHEIGHT, e.g. 640x480, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _quiet_opencv(cv2: Any) -> None:
    """OpenCV's own warnings (e.g. 'can't open camera by index') are replaced by our messages."""
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:  # pragma: no cover - builds without the logging module
        pass


def open_capture(device: int | str, size: tuple[int, int] | None = None) -> Any:
    """``cv2.VideoCapture(device)``, opened and (if asked) set to ``size``; UsageError if it
    cannot be opened."""
    import cv2

    _quiet_opencv(cv2)
    capture = cv2.VideoCapture(device)
    if not capture.isOpened():
        capture.release()
        what = f"camera {device}" if isinstance(device, int) else repr(device)
        hint = (
            " (is a camera connected, and is it not used by another program? try --device 1, ...; "
            "on Linux see v4l2-ctl --list-devices)"
            if isinstance(device, int)
            else ""
        )
        raise UsageError(f"cannot open {what}{hint}")
    if size is not None:
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, size[0])
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, size[1])
    return capture


def add_parser(commands: Any) -> None:
    """The ``webcam`` sub-command."""
    cam = commands.add_parser(
        "webcam",
        help="live segmentation of a camera: preview window, virtual camera, recording",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Segment a camera (or any stream OpenCV opens) live and show the result.

The frames go to a preview window (press q or Esc to quit), and optionally to a virtual
camera (--v4l2, Linux: v4l2loopback + pyfakewebcam) that video-call apps can use, and/or a
video file (--output). Ctrl+C stops cleanly. A summary (frames, frames/s) is printed at the
end.

The preview needs an OpenCV with GUI support (opencv-python; the package installs
opencv-python-headless, which has none) and a display; without them the command says so
and exits with status 2: run with --no-preview (then --output and/or --v4l2 receive the frames, or nothing does, which
measures the speed). A camera that cannot be opened is also reported with status 2.""",
        epilog="""\
examples:
  person-segmentation webcam                                 # bokeh preview of camera 0
  person-segmentation webcam --effect replace=beach.jpg --smoothing 0.6 --mirror
  person-segmentation webcam --no-preview --v4l2 /dev/video10 --effect bokeh
  person-segmentation webcam --device clip.mp4 --no-preview --output out.mp4 --max-frames 100""",
    )
    cam.add_argument(
        "--device",
        default="0",
        metavar="DEV",
        help="camera index (0, 1, ...) or a video file / stream URL read through the same code path (default 0)",
    )
    cam.add_argument(
        "--effect",
        type=parse_effect,
        default="bokeh",
        metavar="EFFECT",
        help="the effect drawn on every frame: " + EFFECT_HELP + " (default bokeh)",
    )
    cam.add_argument(
        "--size",
        default=None,
        metavar="WxH",
        help="ask the camera for this capture size, e.g. 640x480 (default: the camera's own)",
    )
    cam.add_argument(
        "--mirror", action="store_true", help="mirror the output horizontally (selfie view, as the BodyPix webcam demo)"
    )
    cam.add_argument(
        "--no-preview", action="store_true", help="no preview window (headless: servers, --v4l2 only, benchmarks)"
    )
    cam.add_argument(
        "--v4l2",
        default=None,
        metavar="/dev/videoN",
        help="also send the frames to this v4l2loopback virtual camera (needs 'pip install pyfakewebcam' and "
        "'sudo modprobe v4l2loopback devices=1 exclusive_caps=1')",
    )
    cam.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="FILE",
        help="also record the processed frames to this video file (.mp4 .m4v .mov .avi .mkv; no audio)",
    )
    add_model_options(cam)
    add_render_options(cam)
    add_video_options(cam, webcam=True)
    add_quiet_option(cam)
    cam.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """The ``webcam`` command."""
    palette = check_palette(args, parts_shown=args.effect is not None and args.effect.name == "parts")
    try:
        import cv2

        from person_segmentation import video
    except ImportError as exc:
        raise UsageError(f"the webcam command needs OpenCV ({exc}): pip install opencv-python") from exc

    # Everything that can be checked is checked before the network is loaded.
    if not args.no_preview:
        problem = preview_problem()
        if problem is not None:
            raise UsageError(problem)
    if args.v4l2 is not None:
        problem = _v4l2_problem(args.v4l2)
        if problem is not None:
            raise UsageError(problem)
    if args.output is not None:
        if args.output.suffix.lower() not in VIDEO_OUTPUT_EXTENSIONS:
            raise UsageError(
                f"--output {args.output}: give a video file name ending in {' '.join(VIDEO_OUTPUT_EXTENSIONS)}"
            )
        check_output_file(args.output, f"cannot record to {args.output}")
        found = identity(Path(args.device))
        if found is not None and identity(args.output) == found:
            raise UsageError(f"cannot record to {args.output}: it is the --device file itself (the input)")
    size = _parse_size(args.size)
    device = _parse_device(args.device)
    renderer = renderer_of(args.effect, palette, args, mirror=args.mirror)
    capture = open_capture(device, size)
    try:
        ok, bgr = capture.read()
        if not ok or bgr is None:
            raise UsageError(f"{'camera ' if isinstance(device, int) else ''}{device!r} was opened but gave no frame")
        height, width = bgr.shape[:2]
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if not (0.0 < fps < 1000.0):  # cameras often report 0 (or nonsense)
            fps = 30.0
        net = load_net(args)
        segmenter = video_segmenter(video, net, args, parts=renderer.needs_parts)
        return _loop(args, capture, bgr, segmenter, renderer, video, cv2, fps, (width, height))
    finally:
        capture.release()


def _loop(
    args: argparse.Namespace,
    capture: Any,
    first: np.ndarray,
    segmenter: Any,
    renderer: Renderer,
    video: Any,
    cv2: Any,
    fps: float,
    size: tuple[int, int],
) -> int:
    width, height = size
    fake_camera = None
    if args.v4l2 is not None:
        import pyfakewebcam

        try:
            fake_camera = pyfakewebcam.FakeWebcam(args.v4l2, width, height)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot open the virtual camera {args.v4l2}: {exc}") from exc
    writer = None
    if args.output is not None:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            writer = video.VideoWriter(args.output, fps, size=even_size(width, height))
        except (ValueError, OSError) as exc:
            raise UsageError(f"cannot record to {args.output}: {exc}") from exc
    preview = not args.no_preview
    if preview:
        try:
            cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
        except cv2.error as exc:
            if writer is not None:
                writer.abort()  # nothing recorded: an earlier file at --output stays as it was
            raise UsageError(f"cannot open a preview window ({exc}); run with --no-preview") from exc

    shown = progress_enabled(args.quiet, args.progress)
    progress = Progress(total_frames=args.max_frames, stream=sys.stderr, enabled=shown)
    frames = 0
    reason = "end of stream"
    failure: str | None = None
    bgr: np.ndarray | None = first
    try:
        while bgr is not None:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            result = segmenter.process(rgb)
            out = renderer(rgb, result.mask, result.parts)
            if out.shape[:2] != (height, width):  # a camera changed its size mid-stream
                out = cv2.resize(out, (width, height), interpolation=cv2.INTER_AREA)
            if writer is not None:
                try:
                    writer.write(pad_to(out, *writer.size))
                except video.VideoError as exc:  # e.g. a full disk: the recording is discarded
                    failure = str(exc)
                    reason = "recording failed"
                    break
            if fake_camera is not None:
                fake_camera.schedule_frame(out)
            frames += 1
            progress.advance()
            if preview:
                cv2.imshow(WINDOW, cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
                key = cv2.waitKey(1) & 0xFF
                if key in (ord("q"), ord("Q"), 27) or cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                    reason = "quit"
                    break
            if args.max_frames is not None and frames >= args.max_frames:
                reason = f"--max-frames {args.max_frames}"
                break
            ok, bgr = capture.read()
            if not ok:
                bgr = None
    except KeyboardInterrupt as exc:  # Ctrl+C or SIGTERM: the ordinary way to stop a stream
        reason = "terminated" if isinstance(exc, Terminated) else "interrupted"
    finally:
        progress.close()
        if writer is not None:
            try:
                writer.close()  # a recording of a live stream cannot be made again: kept, once read back whole
            except video.VideoError as exc:
                failure = str(exc)
        if preview:
            cv2.destroyAllWindows()
    elapsed = progress.elapsed()
    if not args.quiet:
        rate = frames / elapsed if elapsed > 0 else 0.0
        where = ""
        if writer is not None and failure is None and writer.frames_written:
            where = (
                f"; {writer.frames_written} frame{'' if writer.frames_written == 1 else 's'} recorded to {args.output}"
            )
        say(
            f"{frames} frame{'' if frames == 1 else 's'} ({width}x{height}) in {elapsed:.1f} s, {rate:.1f} frames/s "
            f"({reason}){where}",
            sys.stderr,
        )
    if failure is not None:
        error(failure)
        return 1
    if frames == 0:
        error("no frame was processed")
        return 1
    return 0
