"""``person-segmentation segment``: images, folders and videos to masks, part maps or effects."""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from person_segmentation._constants import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, VIDEO_OUTPUT_EXTENSIONS
from person_segmentation.cli._common import (
    EFFECT_HELP,
    PROG,
    UsageError,
    add_model_options,
    add_quiet_option,
    add_render_options,
    add_video_options,
    error,
    even_size,
    load_net,
    pad_to,
    parse_effect,
    positive_int,
)
from person_segmentation.cli.progress import Progress, progress_enabled

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from person_segmentation import PersonSegmentation
    from person_segmentation.render import Effect, Renderer

#: Video frames decoded ahead of the one being segmented.
_FRAME_PREFETCH = 4


def add_parser(commands: Any) -> None:
    """The ``segment`` sub-command."""
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
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="OUT",
        help="output directory (created if needed), or the output file for a single input",
    )
    what = seg.add_mutually_exclusive_group()
    what.add_argument(
        "--parts", action="store_true", help="write the body-part map instead of the person mask (no --effect)"
    )
    what.add_argument(
        "--effect",
        type=parse_effect,
        default=None,
        metavar="EFFECT",
        help="render an effect instead of writing the raw mask: " + EFFECT_HELP,
    )
    add_model_options(seg)
    add_render_options(seg)
    add_video_options(seg, webcam=False)
    seg.add_argument(
        "--workers",
        type=positive_int,
        default=2,
        metavar="N",
        help="images decoded, segmented and saved at once (default 2; they share the CPU threads)",
    )
    add_quiet_option(seg)
    seg.set_defaults(run=run)


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
        self._net = net
        self._threads = net.threads_per_worker(workers)
        self._args = args

    def __call__(self, pixels: np.ndarray, parts: bool) -> np.ndarray:
        a = self._args
        if parts:
            return self._net.estimate_part_segmentation(
                pixels, a.flip, a.output_stride, a.threshold, num_threads=self._threads
            )
        return self._net.estimate_person_segmentation(
            pixels, a.flip, a.output_stride, a.threshold, num_threads=self._threads
        )


def _segment_image(job: Job, segment: _ImageSegmenter, args: argparse.Namespace, renderer: Renderer | None) -> Job:
    """Decode, segment, render and save one image (runs on a worker thread)."""
    import numpy as np
    import PIL.Image

    from person_segmentation._image import read_image
    from person_segmentation.encode import mask_to_image, palette_colors, parts_to_image

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
        image = parts_to_image(parts, palette_colors(args.palette))
    else:
        image = mask_to_image(mask)
    job.target.parent.mkdir(parents=True, exist_ok=True)
    if image.mode == "P" and job.target.suffix.lower() not in (".png", ".gif", ".bmp", ".tif", ".tiff"):
        image = image.convert("RGB")  # e.g. JPEG has no palette images
    image.save(job.target)
    return job


def _segment_video(
    job: Job, net: PersonSegmentation, args: argparse.Namespace, renderer: Renderer, video: Any, progress: Progress
) -> int:
    """Segment one video into ``job.target``; returns the number of frames written."""
    from person_segmentation._pipeline import prefetch

    if job.error is not None:
        raise ValueError(job.error)
    info = job.info
    fps = float(info.fps) if info.fps and info.fps > 0 else 30.0  # 30 when the container does not say
    width, height = even_size(int(info.width), int(info.height))
    segmenter = video.VideoSegmenter(
        net,
        smoothing=args.smoothing,
        output_stride=args.output_stride,
        segmentation_threshold=args.threshold,
        flip_horizontal=args.flip,
        parts=renderer.needs_parts or args.parts,
    )
    job.target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with video.VideoWriter(job.target, fps, size=(width, height)) as writer:
            for frame in prefetch(video.read_video(job.source), _FRAME_PREFETCH):  # decode ahead
                if args.max_frames and written >= args.max_frames:
                    break
                result = segmenter.process(frame)
                writer.write(pad_to(renderer(frame, result.mask, result.parts, raw_parts=args.parts), width, height))
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


def run(args: argparse.Namespace) -> int:
    """The ``segment`` command."""
    from person_segmentation._pipeline import Failed, ordered_map

    effect: Effect | None = args.effect
    label = effect.label if effect is not None else ("parts" if args.parts else "mask")
    jobs, empty = _plan(args, label)
    has_video = any(job.kind == "video" for job in jobs)
    _, video = _import_video_modules(has_video or effect is not None or args.palette != "rainbow")
    renderer = None
    if video is not None:
        from person_segmentation.render import Renderer

        try:
            renderer = Renderer(
                effect,
                palette=args.palette,
                opacity=args.opacity,
                background_blur=args.background_blur,
                edge_blur=args.edge_blur,
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    net = load_net(args)
    if has_video:
        _probe(jobs, video, args.max_frames)
    if len(jobs) == 1 and jobs[0].target == args.output:
        pass  # -o names the output file
    else:
        args.output.mkdir(parents=True, exist_ok=True)

    summary = Summary()
    for name, reason in empty:
        error(f"skipped {name}: {reason}")
        summary.failed.append(name)
    progress = Progress(
        total_frames=sum(job.frames for job in jobs),
        total_files=len(jobs),
        stream=sys.stderr,
        enabled=progress_enabled(args.quiet),
    )
    interrupted = False
    workers = args.workers
    segment = _ImageSegmenter(net, args, workers)

    def report(job: Job, error: BaseException | None, done: str) -> None:
        if error is not None:  # never abort the batch: report the file and go on
            summary.failed.append(str(job.source))
            reason = (
                str(error)
                if isinstance(error, (ValueError, OSError, TypeError))
                else f"{type(error).__name__}: {error}"
            )
            progress.print(f"{PROG}: skipped {job.source}: {reason}", file=sys.stderr)
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
            outcomes = ordered_map(
                lambda job: _segment_image(job, segment, args, renderer),
                group,
                workers=workers,
                window=2 * workers,
                return_exceptions=True,
            )
            for outcome in outcomes:
                job = outcome.item if isinstance(outcome, Failed) else outcome
                progress.begin_file(job.source.name)
                if isinstance(outcome, Failed):
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
