"""The ``person-segmentation`` command line.

    person-segmentation segment photo.jpg -o mask.png
    person-segmentation segment photos/ clip.mp4 -o out/ --effect bokeh
    person-segmentation webcam --effect bokeh
    person-segmentation eval photos/ masks/
    person-segmentation info
    person-segmentation serve --port 8000

Exit status: 0 when everything worked, 1 when some input failed (it is reported and skipped,
the rest of the batch still runs), 2 for usage errors (bad options, no weights, no camera,
no display), 130 when interrupted with Ctrl+C and 143 when terminated with SIGTERM (``kill``,
``timeout``, ``docker stop``: handled like Ctrl+C, temporary files removed, the summary
printed), except during ``webcam`` streaming, where either signal is the ordinary way to stop
(the recording is finished and kept): 0.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any

from person_segmentation._constants import MAX_CLI_FACE_BLUR
from person_segmentation.cli import eval as eval_command
from person_segmentation.cli import info, segment, serve, webcam
from person_segmentation.cli._common import EXIT_INTERRUPTED, EXIT_TERMINATED, PROG, Terminated, UsageError, error

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Person and body-part segmentation (a Python port of TF.js person-segmentation / BodyPix 1.0).",
        epilog="Run '%(prog)s COMMAND --help' for the options of a command. Exit status: 0 ok, 1 some input "
        "failed, 2 usage error (bad option, no weights, no camera or display), 130 interrupted (Ctrl+C), "
        "143 terminated (SIGTERM).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    segment.add_parser(commands)
    webcam.add_parser(commands)
    eval_command.add_parser(commands)
    info.add_parser(commands)
    serve.add_parser(commands)
    for command_parser in commands.choices.values():  # its errors print its own usage
        command_parser.set_defaults(command_parser=command_parser)
    return parser


def _check_ranges(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Range checks argparse cannot express (usage errors, exit status 2), reported with the
    usage of the command they belong to (``person-segmentation segment ...``)."""
    checks: tuple[tuple[str, str, str, Callable[[float], bool]], ...] = (
        ("threshold", "--threshold", "[0, 1]", lambda v: 0.0 <= v <= 1.0),
        ("opacity", "--opacity", "[0, 1]", lambda v: 0.0 <= v <= 1.0),
        ("smoothing", "--smoothing", "[0, 1)", lambda v: 0.0 <= v < 1.0),
        ("background_blur", "--background-blur", "0..20", lambda v: v <= 20),
        ("face_blur", "--face-blur", f"0..{MAX_CLI_FACE_BLUR:g}", lambda v: v <= MAX_CLI_FACE_BLUR),
        ("edge_blur", "--edge-blur", "0..20", lambda v: v <= 20),
    )
    command_parser: argparse.ArgumentParser = getattr(args, "command_parser", parser)
    for attribute, option, interval, ok in checks:
        value = getattr(args, attribute, None)
        if value is not None and not ok(value):  # NaN fails every comparison
            command_parser.error(f"{option} must be in {interval}, got {value}")


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextlib.contextmanager
def _signals() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main thread, so that it
    unwinds like Ctrl+C; SIGXFSZ (a file size limit, ``ulimit -f``) is ignored, so that a write
    past the limit fails with an error (detected and reported) instead of killing the process.
    The previous handlers are restored afterwards (``main`` may be called in a program)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return
    handlers: list[tuple[signal.Signals, Callable[[int, FrameType | None], Any] | int]] = [(signal.SIGTERM, _terminate)]
    if hasattr(signal, "SIGXFSZ"):
        handlers.append((signal.SIGXFSZ, signal.SIG_IGN))
    previous: list[tuple[signal.Signals, Any]] = []
    try:
        for number, handler in handlers:
            previous.append((number, signal.signal(number, handler)))
        yield
    finally:
        for number, old in previous:
            if old is not None:  # None: set outside Python, cannot be restored from here
                signal.signal(number, old)


def _verbose() -> None:
    """``-v``: native log lines of TensorFlow / LiteRT shown as they come, the package's log
    (downloads, conversions, captured native output) on stderr."""
    import logging

    from person_segmentation import _quiet

    _quiet.set_verbose(True)
    logger = logging.getLogger("person_segmentation")
    if not any(getattr(h, "_person_segmentation_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
        handler._person_segmentation_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``person-segmentation`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    _check_ranges(parser, args)
    if getattr(args, "verbose", False):
        _verbose()
    with _signals():
        try:
            return int(args.run(args))
        except UsageError as exc:
            error(str(exc))
            return 2
        except Terminated:
            error("terminated")
            return EXIT_TERMINATED
        except KeyboardInterrupt:
            error("interrupted")
            return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
