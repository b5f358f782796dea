"""The progress bar of the command line (files and frames done, rate, ETA), drawn by tqdm.

tqdm is imported only when a bar is shown (a terminal, no ``-q``), so ``--help``, ``-q`` and
runs into pipes or logs never pay for it.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from person_segmentation.cli._common import display


class Progress:
    """A progress bar on ``stream`` (stderr): frames (or another ``unit``) done of
    ``total_frames``, the file being processed (``[2/5] name``), rate and ETA.

    It is drawn only when ``enabled`` (the CLI enables it when stderr is a terminal and ``-q``
    is not given, or with ``--progress``), first after ``delay`` seconds (quick jobs show no
    bar), then at most every ``interval`` seconds, and erased when done (``leave=False``), so
    logs and pipes never see it. :meth:`print` writes a line above it. Disabled, it draws
    nothing and does not import tqdm; it still counts (``frames``, ``files``, :meth:`elapsed`).
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
        self._bar: Any = None  # a tqdm bar (tqdm ships no type information)
        self._delay = delay
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total_frames or None,  # unknown (or 0): a counter with a rate, no ETA
                unit=" " + unit,
                file=self.stream,
                delay=delay,
                mininterval=interval,
                leave=False,
                dynamic_ncols=True,
            )

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def rate(self) -> float:
        elapsed = self.elapsed()
        return self.frames / elapsed if elapsed > 0 else 0.0

    def _describe(self) -> None:
        if self._bar is None:
            return
        if self.total_files is not None and self.total_files > 1:
            done = min(self.files + 1, self.total_files)
            self._bar.set_description_str(f"[{done}/{self.total_files}]", refresh=False)
        if self.current:
            self._bar.set_postfix_str(display(self.current, self.stream), refresh=False)

    def begin_file(self, name: str) -> None:
        self.current = name
        self._describe()

    def end_file(self) -> None:
        self.files += 1
        self._describe()

    def advance(self, frames: int = 1) -> None:
        self.frames += frames
        if self._bar is not None:
            self._bar.update(frames)

    def print(self, text: str, file: TextIO | None = None) -> None:
        """Print a line without mixing it with the bar (escaped as
        :func:`~person_segmentation.cli._common.display`: a file name can neither break the
        line nor stop the batch with an encoding error)."""
        target = file if file is not None else sys.stdout
        # Only a line that goes to the same terminal needs the bar out of its way.
        bar = self._bar if self.shown() else None
        shares_screen = bar is not None and (target is self.stream or (isatty(target) and isatty(self.stream)))
        if bar is not None and shares_screen:
            bar.clear()
        print(display(text, target), file=target, flush=True)
        if bar is not None and shares_screen:
            bar.refresh()

    def shown(self) -> bool:
        """Whether the bar is on the screen (it appears after ``delay`` seconds)."""
        bar = self._bar
        return bar is not None and bar.last_print_t >= bar.start_t + self._delay

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_enabled(quiet: bool, forced: bool = False) -> bool:
    """The bar is shown when stderr is a terminal and ``-q`` was not given, or when asked
    for with ``--progress`` (e.g. into a log that renders carriage returns); ``-q`` wins."""
    return not quiet and (forced or isatty(sys.stderr))
