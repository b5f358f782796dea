"""The ``person-segmentation`` command line.

    person-segmentation segment photo.jpg -o mask.png
    person-segmentation segment photos/ clip.mp4 -o out/ --effect bokeh
    person-segmentation webcam --effect bokeh
    person-segmentation info

Exit status: 0 when everything worked, 1 when some input failed (it is reported and skipped,
the rest of the batch still runs), 2 for usage errors (bad options, no weights, no camera,
no display), 130 when interrupted with Ctrl+C (except during ``webcam`` streaming, where Ctrl+C
is the ordinary way to stop: 0).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
import PIL.Image

from person_segmentation import _pipeline, render

if TYPE_CHECKING:  # pragma: no cover
    from person_segmentation import PersonSegmentation

# The rainbow palette of the original's demos (REFERENCE.md section 6), index = part id.
RAINBOW: tuple[tuple[int, ...], ...] = tuple(tuple(int(c) for c in rgb) for rgb in render.PALETTES["rainbow"])
_BACKGROUND_INDEX = len(RAINBOW)  # palette entry 24: black

#: Files taken from directories (and recognised as images / videos) by their extension.
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}
)
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ogv", ".mts", ".m2ts"}
)
#: Video files ``-o`` / ``--output`` may name (the extensions video.VideoWriter has a codec for).
VIDEO_OUTPUT_EXTENSIONS = (".mp4", ".m4v", ".mov", ".avi", ".mkv")
EFFECTS = ("mask", "parts", "bokeh", "blur-faces", "replace=IMG", "replace=#RRGGBB")
_PROG = "person-segmentation"
#: Video frames decoded ahead of the one being segmented.
_FRAME_PREFETCH = 4


def mask_to_image(mask: np.ndarray) -> PIL.Image.Image:
    """uint8 (H, W) 0/1 mask -> 8-bit grayscale image, person = 255."""
    return PIL.Image.fromarray((mask * 255).astype(np.uint8), mode="L")


def parts_to_image(parts: np.ndarray, palette: Sequence[Sequence[int]] = RAINBOW) -> PIL.Image.Image:
    """int32 (H, W) part ids (-1 = background) -> palette image: pixel value = part id
    (background = 24, black), coloured with ``palette`` (default: the rainbow palette)."""
    indices = np.where(parts < 0, _BACKGROUND_INDEX, parts).astype(np.uint8)
    image = PIL.Image.fromarray(indices, mode="P")
    image.putpalette([int(c) for rgb in (*palette, (0, 0, 0)) for c in rgb])
    return image


def _error(message: str) -> None:
    print(f"{_PROG}: {message}", file=sys.stderr)


class UsageError(Exception):
    """A problem with what was asked for (exit status 2)."""


# -- effects ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Effect:
    """What ``--effect`` asked for.

    Attributes:
        name: "mask", "parts", "bokeh", "blur-faces" or "replace".
        color: the RGB background of ``replace=#RRGGBB``.
        image: the background image file of ``replace=IMG``.
    """

    name: str
    color: tuple[int, int, int] | None = None
    image: Path | None = None

    @property
    def needs_parts(self) -> bool:
        return self.name in ("parts", "blur-faces")

    @property
    def label(self) -> str:
        """The part of output file names that says what was rendered."""
        return {"mask": "mask-overlay", "parts": "parts-overlay", "replace": "replaced"}.get(self.name, self.name)


def parse_effect(text: str) -> Effect:
    """``--effect`` value -> :class:`Effect` (argparse ``type=``; errors are usage errors)."""
    if text in ("mask", "parts", "bokeh", "blur-faces"):
        return Effect(text)
    if text.startswith("replace="):
        value = text[len("replace=") :]
        if re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            return Effect("replace", color=(int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)))
        if value.startswith("#"):
            raise argparse.ArgumentTypeError(f"replace=#RRGGBB needs six hex digits, got {value!r}")
        if not value:
            raise argparse.ArgumentTypeError("replace= needs an image file or a #RRGGBB colour")
        if not Path(value).is_file():
            raise argparse.ArgumentTypeError(f"background image not found: {value!r}")
        return Effect("replace", image=Path(value))
    raise argparse.ArgumentTypeError(f"unknown effect {text!r}; choose from {', '.join(EFFECTS)}")


def _load_background(path: Path) -> np.ndarray:
    from person_segmentation._image import read_image

    try:
        return read_image(path)
    except (ValueError, OSError) as exc:
        raise UsageError(f"cannot read the replacement background: {exc}") from exc


def _cover(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Scale ``image`` to cover (height, width) keeping its aspect ratio, centre-cropped."""
    import cv2

    h, w = image.shape[:2]
    scale = max(height / h, width / w)
    new_h, new_w = max(height, round(h * scale)), max(width, round(w * scale))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    top, left = (new_h - height) // 2, (new_w - width) // 2
    return np.ascontiguousarray(resized[top : top + height, left : left + width])


class Renderer:
    """Turns (frame, mask, parts) into the RGB frame an effect (or no effect) asks for."""

    def __init__(
        self,
        effect: Effect | None,
        *,
        palette: str = "rainbow",
        opacity: float = 0.7,
        background_blur: int = 3,
        edge_blur: int = 3,
        mirror: bool = False,
    ) -> None:
        from person_segmentation import render

        self._render = render
        self.effect = effect
        self.palette = palette
        self.opacity = opacity
        self.background_blur = background_blur
        self.edge_blur = edge_blur
        self.mirror = mirror
        self._background = _load_background(effect.image) if effect is not None and effect.image is not None else None
        self._covered: dict[tuple[int, int], np.ndarray] = {}

    @property
    def needs_parts(self) -> bool:
        return self.effect.needs_parts if self.effect is not None else False

    def _background_for(self, height: int, width: int) -> np.ndarray | tuple[int, int, int]:
        if self._background is None:
            assert self.effect is not None and self.effect.color is not None
            return self.effect.color
        if (height, width) not in self._covered:
            self._covered[(height, width)] = _cover(self._background, height, width)
        return self._covered[(height, width)]

    def __call__(self, frame: np.ndarray, mask: np.ndarray, parts: np.ndarray | None, *, raw_parts: bool = False) -> np.ndarray:
        """RGB uint8 (H, W, 3). Without an effect: the mask as white on black, or (``raw_parts``)
        the parts in the palette's colours on black."""
        r = self._render
        flip = self.mirror
        effect = self.effect
        if effect is None:
            if raw_parts:
                assert parts is not None
                out = r.to_colored_part_image(parts, palette=self.palette)[:, :, :3]
            else:
                out = np.repeat((mask * 255).astype(np.uint8)[:, :, np.newaxis], 3, axis=2)
            return np.ascontiguousarray(out[:, ::-1] if flip else out)
        if effect.name == "mask":
            return np.asarray(r.draw_mask(frame, r.to_mask_image(mask), opacity=self.opacity, flip_horizontal=flip))
        if effect.name == "parts":
            assert parts is not None
            colored = r.to_colored_part_image(parts, palette=self.palette)
            return np.asarray(r.draw_mask(frame, colored, opacity=self.opacity, flip_horizontal=flip))
        if effect.name == "bokeh":
            return np.asarray(
                r.draw_bokeh_effect(
                    frame, mask, background_blur_amount=self.background_blur, edge_blur_amount=self.edge_blur,
                    flip_horizontal=flip,
                )
            )  # fmt: skip
        if effect.name == "blur-faces":
            assert parts is not None
            return np.asarray(
                r.blur_body_part(
                    frame, parts, part_ids=(0, 1), background_blur_amount=self.background_blur,
                    edge_blur_amount=self.edge_blur, flip_horizontal=flip,
                )
            )  # fmt: skip
        if effect.name == "replace":
            background = self._background_for(frame.shape[0], frame.shape[1])
            return np.asarray(
                r.replace_background(frame, mask, background, edge_blur_amount=self.edge_blur, flip_horizontal=flip)
            )
        raise AssertionError(effect)  # pragma: no cover


# -- progress --------------------------------------------------------------------------------
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
            parts.append(self.current)
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
        """Print a line without mixing it with the progress line."""
        target = file if file is not None else sys.stdout
        # Only a line that goes to the same terminal needs the bar out of its way.
        shares_screen = target is self.stream or _isatty(target)
        redraw = self._drawn > 0 and shares_screen
        if redraw:
            self.clear()
        print(text, file=target, flush=True)
        if redraw:
            self.draw()

    def close(self) -> None:
        self.clear()


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _progress_enabled(quiet: bool) -> bool:
    """The progress line is shown when stderr is a terminal and ``-q`` was not given."""
    return not quiet and _isatty(sys.stderr)


# -- segment ---------------------------------------------------------------------------------
@dataclass
class Job:
    """One input file and where its result goes."""

    source: Path
    kind: str  # "image" or "video"
    target: Path
    frames: int = 1  # expected frames (for the progress bar)
    info: Any = None  # video.VideoInfo for videos
    error: str | None = None  # found while probing


@dataclass
class Summary:
    images: int = 0
    videos: int = 0
    frames: int = 0
    failed: list[str] = field(default_factory=list)


def _kind(path: Path) -> str:
    return "video" if path.suffix.lower() in VIDEO_EXTENSIONS else "image"


def _walk(directory: Path, exclude: Path | None) -> Iterator[Path]:
    """Image and video files under ``directory`` (recursively, sorted; hidden entries and
    ``exclude`` skipped)."""
    for root, dirs, files in os.walk(directory):
        here = Path(root)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and (exclude is None or _resolved(here / d) != exclude)
        )
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS:
                yield here / name


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:  # pragma: no cover
        return path.absolute()


def _target_name(relative: Path, kind: str, label: str) -> Path:
    return relative.with_name(f"{relative.stem}.{label}.{'mp4' if kind == 'video' else 'png'}")


def _plan(args: argparse.Namespace, label: str) -> tuple[list[Job], list[tuple[str, str]]]:
    """The jobs for ``args.inputs`` and the inputs that yielded nothing (name, reason)."""
    output: Path = args.output
    suffix = output.suffix.lower()
    inputs = [Path(p) for p in args.inputs]
    if suffix in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS:
        # -o names one file: only for one input file of the same kind.
        if len(inputs) != 1 or inputs[0].is_dir():
            raise UsageError(
                f"-o {output} is a file name, but the inputs are {'several' if len(inputs) > 1 else 'a directory'}; "
                "give a directory with -o"
            )
        kind = _kind(inputs[0])
        wanted = VIDEO_OUTPUT_EXTENSIONS if kind == "video" else tuple(sorted(IMAGE_EXTENSIONS))
        if suffix not in wanted:
            raise UsageError(
                f"-o {output}: the output of {'a video' if kind == 'video' else 'an image'} must be a directory or "
                f"a file ending in {' '.join(wanted)}"
            )
        if inputs[0].exists() and _resolved(inputs[0]) == _resolved(output):
            raise UsageError(f"-o {output} is the input file itself; writing it would destroy the input")
        return [Job(inputs[0], kind, output)], []
    exclude = _resolved(output)
    jobs: list[Job] = []
    empty: list[tuple[str, str]] = []
    taken: set[Path] = set()

    def add(source: Path, relative: Path) -> None:
        kind = _kind(source)
        target = output / _target_name(relative, kind, label)
        n = 2
        while target in taken:  # two inputs with the same name: keep both
            target = output / _target_name(relative.with_name(f"{relative.stem}-{n}{relative.suffix}"), kind, label)
            n += 1
        taken.add(target)
        jobs.append(Job(source, kind, target))

    for path in inputs:
        if path.is_dir():
            found = False
            for file in _walk(path, exclude):
                found = True
                add(file, file.relative_to(path))
            if not found:
                empty.append((str(path), "no image or video files in this directory"))
        else:  # a file (or a missing path: reported when it is read)
            add(path, Path(path.name))
    return jobs, empty


def _probe(jobs: list[Job], video: Any, max_frames: int | None) -> None:
    for job in jobs:
        if job.kind != "video":
            continue
        try:
            job.info = video.video_info(job.source)
        except (ValueError, OSError) as exc:
            job.error = str(exc)
            continue
        count = int(job.info.frame_count) if job.info.frame_count and job.info.frame_count > 0 else 0
        job.frames = min(count, max_frames) if max_frames and count else (max_frames or count)


class _ImageSegmenter:
    """Masks / part maps of decoded images for the image jobs, on ``workers`` threads at
    once: each call gets its share of the net's threads."""

    def __init__(self, net: PersonSegmentation, args: argparse.Namespace, workers: int) -> None:
        from person_segmentation import _api

        self._net = net
        self._threads = net._worker_threads(workers)
        self._options = {
            parts: _api._options(parts, args.flip, args.output_stride, args.threshold, False) for parts in (False, True)
        }

    def __call__(self, pixels: np.ndarray, parts: bool) -> np.ndarray:
        return self._net._segment(pixels, self._options[parts], self._threads)


def _segment_image(job: Job, segment: _ImageSegmenter, args: argparse.Namespace, renderer: Renderer | None) -> Job:
    """Decode, segment, render and save one image (runs on a worker thread)."""
    from person_segmentation._image import read_image

    pixels = read_image(job.source)
    parts = mask = None
    if args.parts or (renderer is not None and renderer.needs_parts):
        parts = segment(pixels, True)
        mask = (parts >= 0).astype(np.uint8)
    else:
        mask = segment(pixels, False)
    if renderer is not None and renderer.effect is not None:
        image = PIL.Image.fromarray(renderer(pixels, mask, parts))
    elif parts is not None:
        palette = RAINBOW if args.palette == "rainbow" else _palette(args.palette)
        image = parts_to_image(parts, palette)
    else:
        image = mask_to_image(mask)
    job.target.parent.mkdir(parents=True, exist_ok=True)
    if image.mode == "P" and job.target.suffix.lower() not in (".png", ".gif", ".bmp", ".tif", ".tiff"):
        image = image.convert("RGB")  # e.g. JPEG has no palette images
    image.save(job.target)
    return job


def _palette(name: str) -> Sequence[Sequence[int]]:
    from person_segmentation import render

    return [tuple(int(c) for c in rgb) for rgb in render.PALETTES[name]]


def _even_size(width: int, height: int) -> tuple[int, int]:
    """Video encoders need even sides: odd ones are padded by one pixel."""
    return width + width % 2, height + height % 2


def _pad_to(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pad ``frame`` at the bottom/right (repeating the edge) to (height, width)."""
    h, w = frame.shape[:2]
    if (h, w) == (height, width):
        return frame
    pad = ((0, height - h), (0, width - w)) + ((0, 0),) * (frame.ndim - 2)
    return np.pad(frame, pad, mode="edge")


def _segment_video(
    job: Job,
    net: PersonSegmentation,
    args: argparse.Namespace,
    renderer: Renderer,
    video: Any,
    progress: Progress,
) -> int:
    """Segment one video into ``job.target``; returns the number of frames written."""
    if job.error is not None:
        raise ValueError(job.error)
    info = job.info
    fps = float(info.fps) if info.fps and info.fps > 0 else 30.0  # 30 when the container does not say
    width, height = _even_size(int(info.width), int(info.height))
    segmenter = video.VideoSegmenter(
        net, smoothing=args.smoothing, output_stride=args.output_stride, segmentation_threshold=args.threshold,
        flip_horizontal=args.flip, parts=renderer.needs_parts or args.parts,
    )  # fmt: skip
    job.target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with video.VideoWriter(job.target, fps, size=(width, height)) as writer:
            for frame in _pipeline.prefetch(video.read_video(job.source), _FRAME_PREFETCH):  # decode ahead
                if args.max_frames and written >= args.max_frames:
                    break
                result = segmenter.process(frame)
                writer.write(_pad_to(renderer(frame, result.mask, result.parts, raw_parts=args.parts), width, height))
                written += 1
                progress.advance()
        if written == 0:
            raise ValueError(f"no frames could be decoded from {str(job.source)!r}")
    except BaseException:
        job.target.unlink(missing_ok=True)  # never leave a truncated video behind
        raise
    return written


def _import_video_modules(needed: bool) -> tuple[Any, Any]:
    if not needed:
        return None, None
    try:
        from person_segmentation import render, video
    except ImportError as exc:
        raise UsageError(
            f"effects and videos need OpenCV ({exc}); install it with: pip install opencv-python "
            "(or opencv-python-headless on servers)"
        ) from exc
    return render, video


def _load_net(args: argparse.Namespace) -> PersonSegmentation:
    import person_segmentation as ps

    try:
        return ps.load(args.multiplier, weights=args.weights, engine=args.engine)
    except (ValueError, OSError) as exc:
        raise UsageError(f"cannot load weights: {exc}") from exc


def _segment(args: argparse.Namespace) -> int:
    effect: Effect | None = args.effect
    label = effect.label if effect is not None else ("parts" if args.parts else "mask")
    jobs, empty = _plan(args, label)
    has_video = any(job.kind == "video" for job in jobs)
    _, video = _import_video_modules(has_video or effect is not None or args.palette != "rainbow")
    renderer = (
        Renderer(effect, palette=args.palette, opacity=args.opacity, background_blur=args.background_blur, edge_blur=args.edge_blur)
        if video is not None
        else None
    )  # fmt: skip
    net = _load_net(args)
    if has_video:
        _probe(jobs, video, args.max_frames)
    if len(jobs) == 1 and jobs[0].target == args.output:
        pass  # -o names the output file
    else:
        args.output.mkdir(parents=True, exist_ok=True)

    summary = Summary()
    for name, reason in empty:
        _error(f"skipped {name}: {reason}")
        summary.failed.append(name)
    progress = Progress(
        total_frames=sum(job.frames for job in jobs), total_files=len(jobs), stream=sys.stderr,
        enabled=_progress_enabled(args.quiet),
    )  # fmt: skip
    interrupted = False
    workers = args.workers
    segment = _ImageSegmenter(net, args, workers)

    def report(job: Job, error: BaseException | None, done: str) -> None:
        if error is not None:  # never abort the batch: report the file and go on
            summary.failed.append(str(job.source))
            reason = str(error) if isinstance(error, (ValueError, OSError, TypeError)) else f"{type(error).__name__}: {error}"
            progress.print(f"{_PROG}: skipped {job.source}: {reason}", file=sys.stderr)
        elif not args.quiet:
            progress.print(done)
        progress.end_file()

    try:
        for is_video, group in itertools.groupby(jobs, key=lambda j: j.kind == "video"):
            if is_video:
                for job in group:
                    progress.begin_file(job.source.name)
                    try:
                        assert renderer is not None
                        frames = _segment_video(job, net, args, renderer, video, progress)
                    except Exception as exc:
                        report(job, exc, "")
                    else:
                        summary.videos += 1
                        summary.frames += frames
                        report(job, None, f"{job.source} -> {job.target} ({frames} frames)")
                continue
            # Images: decoded, segmented, rendered and saved on `workers` threads, reported in order.
            outcomes = _pipeline.ordered_map(
                lambda job: _segment_image(job, segment, args, renderer), group,
                workers=workers, window=2 * workers, return_exceptions=True,
            )  # fmt: skip
            for outcome in outcomes:
                job = outcome.item if isinstance(outcome, _pipeline.Failed) else outcome
                progress.begin_file(job.source.name)
                if isinstance(outcome, _pipeline.Failed):
                    report(job, outcome.error, "")
                    continue
                summary.images += 1
                summary.frames += 1
                progress.advance()
                report(job, None, f"{job.source} -> {job.target}")
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
    elapsed = progress.elapsed()
    if not args.quiet or interrupted:
        _print_summary(summary, elapsed, interrupted)
    if interrupted:
        return 130
    return 1 if summary.failed else 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _print_summary(summary: Summary, elapsed: float, interrupted: bool) -> None:
    done = summary.images + summary.videos
    total = done + len(summary.failed)
    what = [_plural(n, word) for n, word in ((summary.images, "image"), (summary.videos, "video")) if n] or ["nothing"]
    rate = summary.frames / elapsed if elapsed > 0 else 0.0
    line = (
        f"{'interrupted: ' if interrupted else ''}{done} of {_plural(total, 'file')} done "
        f"({', '.join(what)}; {_plural(summary.frames, 'frame')}) in {elapsed:.1f} s, {rate:.1f} frames/s"
    )
    if summary.failed:
        shown = ", ".join(summary.failed[:5]) + (", ..." if len(summary.failed) > 5 else "")
        line += f"; {len(summary.failed)} failed: {shown}"
    print(line, file=sys.stderr)


# -- info ------------------------------------------------------------------------------------
def _info(_: argparse.Namespace) -> int:
    import person_segmentation as ps

    info = dict(ps.build_info())
    info["weights"] = os.environ.get("PERSON_SEGMENTATION_WEIGHTS") or ps.OFFICIAL_BASE_URL
    info["cache_dir"] = str(ps.default_cache_dir())
    print(json.dumps(info, indent=2))
    return 0


def _webcam(args: argparse.Namespace) -> int:
    from person_segmentation import _webcam

    return _webcam.run(args)


# -- the parser ------------------------------------------------------------------------------
def _nonnegative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = _nonnegative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


_WEIGHTS_HELP = (
    "weights: a local mirror of the official folder layout, one model folder, a 2.x model-stride*.json, "
    "or an http(s)/file URL (default: $PERSON_SEGMENTATION_WEIGHTS, else the official URL, downloaded once "
    "into the cache)"
)
_EFFECT_HELP = (
    "'mask' (background darkened by the mask), "
    "'parts' (body parts coloured over the image), 'bokeh' (background blurred, as in the BodyPix "
    "demo), 'blur-faces' (the face parts 0 and 1 blurred, for privacy), 'replace=IMG' (background "
    "replaced by an image, scaled to cover the frame) or 'replace=#RRGGBB' (by a colour)"
)


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "--multiplier", type=float, default=0.75, choices=(1.0, 0.75, 0.5, 0.25),
        help="MobileNet depth multiplier: larger is more accurate, smaller is faster (default 0.75)",
    )  # fmt: skip
    group.add_argument(
        "--output-stride", type=int, default=16, choices=(8, 16, 32),
        help="network output stride (default 16; 8 is finer and slower, 32 faster and coarser)",
    )  # fmt: skip
    group.add_argument(
        "--threshold", type=float, default=0.5, metavar="T",
        help="a pixel is a person where its score is > T, T in [0, 1] (default 0.5)",
    )  # fmt: skip
    group.add_argument(
        "--flip", action="store_true",
        help="mirror the input before the network (and the result back, so it still lines up with the input)",
    )  # fmt: skip
    group.add_argument("--weights", default=None, metavar="W", help=_WEIGHTS_HELP)
    group.add_argument(
        "--engine", choices=("auto", "tf", "tflite"), default="auto",
        help="where the network runs: tflite (TensorFlow Lite + XNNPACK, fastest on CPU), tf (TensorFlow; "
        "use it on a GPU) or auto (default: tf where a GPU is visible, else tflite)",
    )  # fmt: skip


def _add_render_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rendering (with --effect)")
    group.add_argument(
        "--palette", choices=("rainbow", "warm"), default="rainbow",
        help="colours of the body parts (--parts and --effect parts; default rainbow, the original demo's)",
    )  # fmt: skip
    group.add_argument(
        "--opacity", type=float, default=0.7, metavar="A",
        help="opacity of the mask / parts overlay, in [0, 1] (default 0.7)",
    )  # fmt: skip
    group.add_argument(
        "--background-blur", type=_nonnegative_int, default=3, metavar="N",
        help="background blur amount of bokeh and blur-faces, 0..20 (default 3, as BodyPix)",
    )  # fmt: skip
    group.add_argument(
        "--edge-blur", type=_nonnegative_int, default=3, metavar="N",
        help="feathering of the person's edge for bokeh, blur-faces and replace, 0..20 (default 3)",
    )  # fmt: skip


def _add_video_options(parser: argparse.ArgumentParser, *, webcam: bool) -> None:
    from person_segmentation.video import DEFAULT_SMOOTHING

    group = parser.add_argument_group("video" if not webcam else "stream")
    group.add_argument(
        "--smoothing", type=float, default=DEFAULT_SMOOTHING, metavar="S",
        help="temporal smoothing of the mask between frames, in [0, 1): an exponential moving average of "
        f"the network's scores, S = weight of the past (default {DEFAULT_SMOOTHING}, which halves the edge "
        "flicker at the same accuracy; 0 = off, every frame on its own; higher is steadier but lags behind "
        "fast motion)",
    )  # fmt: skip
    group.add_argument(
        "--max-frames", type=_positive_int, default=None, metavar="N",
        help="stop after N frames" + (" (default: until the stream ends or you quit)" if webcam else " of each video (default: all)"),
    )  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG,
        description="Person and body-part segmentation (a Python port of TF.js person-segmentation / BodyPix 1.0).",
        epilog="Run '%(prog)s COMMAND --help' for the options of a command. Exit status: 0 ok, 1 some input "
        "failed, 2 usage error (bad option, no weights, no camera or display), 130 interrupted.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    seg = commands.add_parser(
        "segment",
        help="segment images, folders and videos: masks, part maps or effects",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Segment image files, directories (recursively) and video files.

Inputs: image files (.jpg .png .webp .bmp .tif ...) and video files (.mp4 .mov .avi .mkv
.webm ...); a directory is searched recursively for both, by extension (hidden files and the
output directory are skipped).

Outputs: one file per input in the directory OUT, named <stem>.<what>.png for images and
<stem>.<what>.mp4 for videos, where <what> is 'mask' (8-bit PNG, 255 = person), 'parts'
(palette PNG whose pixel values are the part ids 0..23, 24 = background) or the effect
(mask-overlay, parts-overlay, bokeh, blur-faces, replaced; RGB). A directory's tree is
mirrored under OUT; two inputs with the same name get '-2', '-3' appended. For a single
input, -o may instead name the output file: an image (-o mask.png, -o bokeh.jpg) or a video
(.mp4 .m4v .mov .avi .mkv).

Videos are read and written with OpenCV at the input's size and frame rate (MPEG-4 Part 2
'mp4v' in .mp4/.m4v/.mov, Motion JPEG in .avi/.mkv; 30 fps if the input does not say; odd
sides padded by one pixel). The audio track is NOT kept (add it back with e.g.
ffmpeg -i out.mp4 -i in.mp4 -map 0:v -map 1:a -c copy -shortest with_audio.mp4). Without
--effect a video gives a mask video (white person on black) or, with --parts, the coloured
parts. The mask is smoothed over time (--smoothing).

A progress line (files, frames, frames/s, ETA) is shown on stderr when it is a terminal
(never in logs or pipes); each written file is printed on stdout and a summary (files,
images, videos, frames, frames/s) on stderr at the end. Unreadable or corrupt inputs are
reported and skipped (no partial output is left), the rest of the batch still runs.

Exit status: 0 all done, 1 some input failed, 2 usage error (bad option, unusable -o,
weights that cannot be loaded), 130 interrupted (Ctrl+C).""",
        epilog="""\
examples:
  person-segmentation segment photo.jpg -o mask.png
  person-segmentation segment photos/ -o out/ --parts
  person-segmentation segment photo.jpg -o bokeh.png --effect bokeh
  person-segmentation segment clip.mp4 -o out/ --effect replace=#00b140 --smoothing 0.6
  person-segmentation segment party/ -o blurred/ --effect blur-faces --multiplier 1.0""",
    )
    seg.add_argument("inputs", nargs="+", metavar="IN", help="image files, video files or directories")
    seg.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT",
        help="output directory (created if needed), or the output file for a single input",
    )  # fmt: skip
    what = seg.add_mutually_exclusive_group()
    what.add_argument(
        "--parts", action="store_true", help="write the body-part map instead of the person mask (no --effect)"
    )
    what.add_argument(
        "--effect", type=parse_effect, default=None, metavar="EFFECT",
        help="render an effect instead of writing the raw mask: " + _EFFECT_HELP,
    )  # fmt: skip
    _add_model_options(seg)
    _add_render_options(seg)
    _add_video_options(seg, webcam=False)
    seg.add_argument(
        "--workers", type=_positive_int, default=2, metavar="N",
        help="images decoded, segmented and saved at once (default 2; they share the CPU threads)",
    )  # fmt: skip
    seg.add_argument("-q", "--quiet", action="store_true", help="print only errors (no progress, no summary)")
    seg.set_defaults(run=_segment)

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
opencv-python-headless, which has none) and a display; without them the command says so and exits with status 2: run with
--no-preview (then --output and/or --v4l2 receive the frames, or nothing does, which
measures the speed). A camera that cannot be opened is also reported with status 2.""",
        epilog="""\
examples:
  person-segmentation webcam                                 # bokeh preview of camera 0
  person-segmentation webcam --effect replace=beach.jpg --smoothing 0.6 --mirror
  person-segmentation webcam --no-preview --v4l2 /dev/video10 --effect bokeh
  person-segmentation webcam --device clip.mp4 --no-preview --output out.mp4 --max-frames 100""",
    )
    cam.add_argument(
        "--device", default="0", metavar="DEV",
        help="camera index (0, 1, ...) or a video file / stream URL read through the same code path (default 0)",
    )  # fmt: skip
    cam.add_argument(
        "--effect", type=parse_effect, default=parse_effect("bokeh"), metavar="EFFECT",
        help="the effect drawn on every frame: " + _EFFECT_HELP + " (default bokeh)",
    )  # fmt: skip
    cam.add_argument(
        "--size", default=None, metavar="WxH",
        help="ask the camera for this capture size, e.g. 640x480 (default: the camera's own)",
    )  # fmt: skip
    cam.add_argument(
        "--mirror", action="store_true",
        help="mirror the output horizontally (selfie view, as the BodyPix webcam demo)",
    )  # fmt: skip
    cam.add_argument("--no-preview", action="store_true", help="no preview window (headless: servers, --v4l2 only, benchmarks)")
    cam.add_argument(
        "--v4l2", default=None, metavar="/dev/videoN",
        help="also send the frames to this v4l2loopback virtual camera (needs 'pip install pyfakewebcam' and "
        "'sudo modprobe v4l2loopback devices=1 exclusive_caps=1')",
    )  # fmt: skip
    cam.add_argument(
        "--output", type=Path, default=None, metavar="FILE",
        help="also record the processed frames to this video file (.mp4 .m4v .mov .avi .mkv; no audio)",
    )  # fmt: skip
    _add_model_options(cam)
    _add_render_options(cam)
    _add_video_options(cam, webcam=True)
    cam.add_argument("-q", "--quiet", action="store_true", help="print only errors (no progress, no summary)")
    cam.set_defaults(run=_webcam)

    info = commands.add_parser(
        "info",
        help="print build information (native core, threads, CUDA, weights source, cache)",
        description="Print, as JSON, what the native core was built with and can use here, where weights come "
        "from and the download cache directory.",
    )
    info.set_defaults(run=_info)
    return parser


def _check_ranges(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Range checks argparse cannot express (usage errors, exit status 2)."""
    checks: tuple[tuple[str, str, str, Callable[[float], bool]], ...] = (
        ("threshold", "--threshold", "[0, 1]", lambda v: 0.0 <= v <= 1.0),
        ("opacity", "--opacity", "[0, 1]", lambda v: 0.0 <= v <= 1.0),
        ("smoothing", "--smoothing", "[0, 1)", lambda v: 0.0 <= v < 1.0),
        ("background_blur", "--background-blur", "0..20", lambda v: v <= 20),
        ("edge_blur", "--edge-blur", "0..20", lambda v: v <= 20),
    )
    for attribute, option, interval, ok in checks:
        value = getattr(args, attribute, None)
        if value is not None and not ok(value):  # NaN fails every comparison
            parser.error(f"{option} must be in {interval}, got {value}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``person-segmentation`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    _check_ranges(parser, args)
    try:
        return int(args.run(args))
    except UsageError as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
