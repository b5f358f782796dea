"""The progress line of the command line (files and frames done, rate, ETA) on a terminal."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

from person_segmentation.cli._common import display


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """A dependency-free progress line on a terminal: files and frames done, rate, ETA.

    It is drawn only when ``enabled`` (the CLI enables it when stderr is a terminal and ``-q``
    is not given), first after ``delay`` seconds (quick jobs show no bar), then at most ten
    times a second; it is redrawn in place with ``\\r`` and erased when done, so logs and pipes
    never see it. :meth:`print` writes a line above it.
    """

    def __init__(
        self,
        *,
        total_frames: int | None,
        total_files: int | None = None,
        unit: str = "frames",
        stream: TextIO | None = None,
        enabled: bool = True,
        delay: float = 0.5,
        interval: float = 0.1,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.total_frames = total_frames
        self.total_files = total_files
        self.unit = unit
        self.frames = 0
        self.files = 0
        self.current = ""
        self.start = time.perf_counter()
        self._delay = delay
        self._interval = interval
        self._last_draw = 0.0
        self._drawn = 0  # width of the line on screen

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def rate(self) -> float:
        elapsed = self.elapsed()
        return self.frames / elapsed if elapsed > 0 else 0.0

    def begin_file(self, name: str) -> None:
        self.current = name
        self._maybe_draw()

    def end_file(self) -> None:
        self.files += 1
        self._maybe_draw()

    def advance(self, frames: int = 1) -> None:
        self.frames += frames
        self._maybe_draw()

    def line(self, width: int = 80) -> str:
        """The text of the progress line (without the carriage return)."""
        parts = []
        if self.total_files is not None and self.total_files > 1:
            parts.append(f"[{min(self.files + 1, self.total_files)}/{self.total_files}]")
        rate = self.rate()
        total = self.total_frames
        if total:
            fraction = min(1.0, self.frames / total)
            bar = 20
            filled = int(fraction * bar)
            parts.append("[" + "#" * filled + "." * (bar - filled) + "]")
            parts.append(f"{self.frames}/{total} {self.unit}")
            parts.append(f"{fraction:4.0%}")
        else:
            parts.append(f"{self.frames} {self.unit}")
        parts.append(f"{rate:.1f} {self.unit}/s")
        if total and rate > 0 and self.frames < total:
            parts.append(f"ETA {_duration((total - self.frames) / rate)}")
        if self.current:
            parts.append(display(self.current, self.stream))
        text = " ".join(parts)
        return text if len(text) < width else text[: max(0, width - 3)] + "..."

    def _maybe_draw(self) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.start < self._delay or now - self._last_draw < self._interval:
            return
        self._last_draw = now
        self.draw()

    def draw(self) -> None:
        width = shutil.get_terminal_size((80, 24)).columns - 1
        text = self.line(width)
        self.stream.write("\r" + text + " " * max(0, self._drawn - len(text)))
        self.stream.flush()
        self._drawn = len(text)

    def clear(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0

    def print(self, text: str, file: TextIO | None = None) -> None:
        """Print a line without mixing it with the progress line (escaped as
        :func:`~person_segmentation.cli._common.display`: a file name can neither break the
        line nor stop the batch with an encoding error)."""
        target = file if file is not None else sys.stdout
        # Only a line that goes to the same terminal needs the bar out of its way.
        shares_screen = target is self.stream or isatty(target)
        redraw = self._drawn > 0 and shares_screen
        if redraw:
            self.clear()
        print(display(text, target), file=target, flush=True)
        if redraw:
            self.draw()

    def close(self) -> None:
        self.clear()


def isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_enabled(quiet: bool) -> bool:
    """The progress line is shown when stderr is a terminal and ``-q`` was not given."""
    return not quiet and isatty(sys.stderr)
