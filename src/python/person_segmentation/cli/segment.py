"""``person-segmentation segment``: images, folders and videos to masks, soft masks, part maps
or effects.

Why one module (about 610 lines): it is one command, whose help text (a third of the lines),
options, per-image and per-video work and summary belong together; the planning of outputs
(``_plan``), their writing (``_outputs``) and the BodyPix 2 people outputs (``_people``) live
beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from person_segmentation._constants import REFINEMENTS
from person_segmentation.cli._common import (
    EFFECT_HELP,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    PROG,
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
    positive_int,
    renderer_of,
    say,
    video_segmenter,
)
from person_segmentation.cli._outputs import Outputs, is_own_output, mark_mp4, save_image
from person_segmentation.cli._people import (
    PEOPLE_LABEL,
    PeopleSegmenter,
    add_options,
    is_own_people_output,
    load_bodypix,
    primary,
    write_people,
)
from person_segmentation.cli._plan import Job, identity, plan
from person_segmentation.cli._pool import OrderedPool
from person_segmentation.cli.progress import Progress, progress_enabled

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from person_segmentation import PersonSegmentation, PersonSegmentationResult
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
<stem>.<what>.mp4 for videos, where <what> is 'mask' (8-bit PNG, 255 = person), 'probability'
(--probability: the soft mask, an 8-bit grayscale PNG of round(probability * 255), 255 =
certainly a person, 0 = certainly not), 'parts' (palette PNG whose pixel values are the part
ids 0..23, 24 = background) or the effect (mask-overlay, parts-overlay, bokeh, blur-faces,
replaced; RGB). A directory's tree is
mirrored under OUT; two inputs with the same name get '-2', '-3' appended, and so does an
output whose name is taken by an input: no input is ever written over (a hard or symbolic
link of an input counts as that input). Where OUT is inside an input folder, this command's
own earlier outputs there (marked as such in the file) are replaced, not taken as inputs.
For a single input, -o may instead name the output file: an image (-o mask.png, -o
bokeh.jpg) or a video (.mp4 .m4v .mov .avi .mkv). Only regular files are read (a FIFO or
device among the inputs is reported and skipped).

Many people (BodyPix 2 model; the 0.75 quant2 model bundled with the package by default):
--people writes, per image, <stem>.person-<k>.mask.png for each person k = 1, 2, ... in
BodyPix 2's order (<stem>.person-<k>.parts.png with --parts) and the overlay
<stem>.people.png: each person's mask in a colour of its own, with their pose skeleton in the
same colour (images only; no --effect). With -o naming the overlay file (-o group.png), the
people are named after it (group.person-1.mask.png). --primary-person keeps only the person
with the largest mask and writes the usual outputs (mask, parts, any effect) for images and
videos, each frame on its own (--smoothing does not apply). Their part ids are BodyPix 2's.

Every output is written under a hidden temporary name (.NAME.XXXXXXXX.tmpEXT) in its folder
and renamed into place once complete: an output name never holds a partial file, and an
earlier file of that name stays until the new one is complete (a full disk, Ctrl+C or a
kill leave it as it was). A video is read back before it is kept: one the disk could not
hold is reported as failed.

Videos are read and written with OpenCV at the input's size and frame rate (MPEG-4 Part 2
'mp4v' in .mp4/.m4v/.mov, Motion JPEG in .avi/.mkv; 30 fps if the input does not say; odd
sides padded by one pixel). The audio track is NOT kept (add it back with e.g.
ffmpeg -i out.mp4 -i in.mp4 -map 0:v -map 1:a -c copy -shortest with_audio.mp4). Without
--effect a video gives a mask video (white person on black) or, with --parts, the coloured
parts, and with --probability a grayscale video of the (smoothed) soft mask (lossy, as
every video output: only the PNG of an image holds the exact values). The mask is smoothed
over time (--smoothing).

--probability writes the person probability that the mask thresholds (--threshold does not
change it): (png / 255 > T) is the mask of --threshold T except where the rounding to 8 bits
falls on T. It replaces the mask output and takes no --parts, --effect, --people or
--primary-person. --refine guided refines the soft mask's edges with a guided filter on the
image (then thresholds it): the mask, the parts, the effects and --probability all use the
refined one; it needs OpenCV and takes no --people / --primary-person.

A progress bar (tqdm: files, frames, frames/s, ETA) is shown on stderr when it is a
terminal (not in logs or pipes unless --progress asks for it; never with -q); each written
file is printed on stdout and a summary (files, images, videos, frames, frames/s) on stderr
at the end. Unreadable or corrupt inputs, and inputs that do not exist, are reported and
skipped (no partial output is left), the rest of the batch still runs; a run that writes
nothing leaves no output folder behind.

Exit status: 0 all done, 1 some input failed, 2 usage error (bad option, unusable -o,
weights that cannot be loaded; checked before the model is loaded), 130 interrupted
(Ctrl+C), 143 terminated (SIGTERM: kill, timeout, docker stop). On either signal the files
done so far are kept and counted in the summary, and no temporary file is left.""",
        epilog="""\
examples:
  person-segmentation segment photo.jpg -o mask.png
  person-segmentation segment photos/ -o out/ --parts
  person-segmentation segment photo.jpg -o soft.png --probability --refine guided
  person-segmentation segment photo.jpg -o bokeh.png --effect bokeh
  person-segmentation segment clip.mp4 -o out/ --effect replace=#00b140 --smoothing 0.6
  person-segmentation segment party/ -o blurred/ --effect blur-faces --multiplier 1.0
  person-segmentation segment group.jpg -o out/ --people          (BodyPix 2: one mask per person + overlay)
  person-segmentation segment call.mp4 -o out/ --primary-person --effect bokeh""",
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
        "--probability",
        action="store_true",
        help="write the soft mask instead of the mask: <stem>.probability.png, 8-bit grayscale, "
        "round(probability * 255), 255 = certainly a person (videos: a grayscale video); no --people, "
        "--primary-person",
    )
    what.add_argument(
        "--effect",
        type=parse_effect,
        default=None,
        metavar="EFFECT",
        help="render an effect instead of writing the raw mask: " + EFFECT_HELP,
    )
    add_model_options(seg)
    seg.add_argument(
        "--refine",
        choices=REFINEMENTS,
        default="none",
        help="edge refinement of the soft mask before the threshold: none (default) or guided (a guided filter "
        "on the image; the mask, parts, effects and --probability use the refined one; no --people, "
        "--primary-person)",
    )
    add_options(seg)
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
class Summary:
    """What was done: the failed inputs, the frames of the finished videos, the frames of a
    video interrupted midway (whose output was discarded) and its name."""

    failed: list[str] = field(default_factory=list)
    video_frames: dict[Path, int] = field(default_factory=dict)
    partial_frames: int = 0
    partial: str | None = None


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

    def result(self, pixels: np.ndarray, parts: bool) -> PersonSegmentationResult:
        """Mask, probability and (``parts``) parts in one pass, refined as ``--refine`` asks."""
        a = self._args
        return self._net.segment(
            pixels, a.flip, a.output_stride, a.threshold, parts=parts, refine=a.refine, num_threads=self._threads
        )


class _Refined:
    """``--refine guided`` on a video: the (smoothed) probability of each frame refined with the
    frame as guide and thresholded again; parts outside the refined mask become -1 (as
    ``PersonSegmentation.segment(refine="guided")`` does for one image)."""

    def __init__(self, segmenter: Any, threshold: float) -> None:
        self._segmenter, self._threshold = segmenter, threshold

    def process(self, frame: np.ndarray) -> _Frame:
        from person_segmentation import _refine

        result = self._segmenter.process(frame)
        probability, mask, parts = _refine.refine_result(frame, result.probability, self._threshold, result.parts)
        return _Frame(mask, parts, probability)


class _PrimaryPerson:
    """``--primary-person``: (mask, parts or None) of the largest person of a frame."""

    def __init__(self, people: PeopleSegmenter) -> None:
        self._people = people

    def __call__(self, pixels: np.ndarray, parts: bool) -> tuple[np.ndarray, np.ndarray | None]:
        return primary(self._people(pixels, parts), pixels.shape[0], pixels.shape[1])


@dataclass
class _Frame:
    mask: np.ndarray
    parts: np.ndarray | None
    probability: np.ndarray | None = None


class _PrimaryVideo:
    """``--primary-person`` on a video: each frame on its own (the multi-person calls have no
    temporal smoothing; ``--smoothing`` does not apply)."""

    def __init__(self, primary: _PrimaryPerson, parts: bool) -> None:
        self._primary, self._parts = primary, parts

    def process(self, frame: np.ndarray) -> _Frame:
        return _Frame(*self._primary(frame, self._parts))


def _segment_image(
    job: Job,
    segment: _ImageSegmenter | _PrimaryPerson | PeopleSegmenter,
    args: argparse.Namespace,
    renderer: Renderer | None,
    outputs: Outputs,
    protected: set[tuple[int, int]],
) -> None:
    """Decode, segment, render and save one image (runs on a worker thread)."""
    import numpy as np
    import PIL.Image

    from person_segmentation._image import read_image
    from person_segmentation.encode import mask_to_image, palette_colors, parts_to_image, probability_to_image

    pixels = read_image(job.source)
    job.target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(segment, PeopleSegmenter):  # --people
        found = segment(pixels, args.parts)
        job.note = f"{len(found.people)} {'person' if len(found.people) == 1 else 'people'}"
        write_people(pixels, found, job.target, args, outputs, protected)
        return
    parts = mask = None
    needs_parts = args.parts or (renderer is not None and renderer.needs_parts)
    if isinstance(segment, _PrimaryPerson):
        mask, parts = segment(pixels, needs_parts)
    elif args.probability or args.refine != "none":
        result = segment.result(pixels, needs_parts)
        if args.probability:
            save_image(probability_to_image(result.probability), job.target, outputs)
            return
        mask, parts = result.mask, result.parts
    elif needs_parts:
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
    if image.mode == "P" and job.target.suffix.lower() not in (".png", ".gif", ".bmp", ".tif", ".tiff"):
        image = image.convert("RGB")  # e.g. JPEG has no palette images
    save_image(image, job.target, outputs)


def _segment_video(
    job: Job,
    net: PersonSegmentation | _PrimaryPerson,
    args: argparse.Namespace,
    renderer: Renderer,
    video: Any,
    progress: Progress,
    outputs: Outputs,
    summary: Summary,
) -> int:
    """Segment one video into ``job.target`` (through a temporary file, published only when
    the video is complete and read back whole); returns the number of frames written."""
    from person_segmentation._pipeline import prefetch
    from person_segmentation.encode import probability_to_uint8

    if job.error is not None:
        raise ValueError(job.error)
    info = job.info
    fps = float(info.fps) if info.fps and info.fps > 0 else 30.0  # 30 when the container does not say
    width, height = even_size(int(info.width), int(info.height))
    segmenter: Any
    if isinstance(net, _PrimaryPerson):
        segmenter = _PrimaryVideo(net, renderer.needs_parts or args.parts)
    else:
        segmenter = video_segmenter(video, net, args, parts=renderer.needs_parts or args.parts)
        if args.refine != "none":
            segmenter = _Refined(segmenter, args.threshold)
    job.target.parent.mkdir(parents=True, exist_ok=True)
    temporary, fd = outputs.reserve(job.target)
    written = 0
    summary.partial, summary.partial_frames = str(job.source), 0
    try:
        os.close(fd)  # OpenCV writes by name (through the VideoWriter's own temporary file)
        try:
            with video.VideoWriter(temporary, fps, size=(width, height)) as writer:
                for frame in prefetch(video.read_video(job.source), _FRAME_PREFETCH):  # decode ahead
                    if args.max_frames and written >= args.max_frames:
                        break
                    result = segmenter.process(frame)
                    if args.probability:  # a grayscale frame (the writer makes it BGR)
                        out = probability_to_uint8(result.probability)
                    else:
                        out = renderer(frame, result.mask, result.parts, raw_parts=args.parts)
                    writer.write(pad_to(out, width, height))
                    written += 1
                    summary.partial_frames = written
                    progress.advance()
        except video.VideoError as exc:  # name the output, not its temporary file
            raise video.VideoError(str(exc).replace(repr(str(temporary)), repr(str(job.target)))) from None
        if written == 0:
            raise ValueError(f"no frames could be decoded from {str(job.source)!r}")
        if job.target.suffix.lower() == ".mp4":
            mark_mp4(temporary)
        outputs.publish(temporary, job.target)
    except BaseException as exc:
        outputs.discard(temporary)  # never a truncated video, and an earlier file stays as it was
        if not isinstance(exc, KeyboardInterrupt):  # a failed video's frames are not counted
            summary.partial, summary.partial_frames = None, 0
        raise
    summary.partial, summary.partial_frames = None, 0
    summary.video_frames[job.target] = written
    return written


def _import_video_modules(needed: bool) -> tuple[Any, Any]:
    if not needed:
        return None, None
    try:
        from person_segmentation import render, video
    except ImportError as exc:
        raise UsageError(
            f"effects, videos and --refine guided need OpenCV ({exc}); install it with: pip install opencv-python "
            "(or opencv-python-headless on servers)"
        ) from exc
    return render, video


def run(args: argparse.Namespace) -> int:
    """The ``segment`` command."""
    effect: Effect | None = args.effect
    label = effect.label if effect is not None else ("parts" if args.parts else "mask")
    for option, given in (("--people", args.people), ("--primary-person", args.primary_person)):
        if given and args.probability:
            raise UsageError(
                f"{option} uses the BodyPix 2 people, which give no soft mask; --probability takes no {option}"
            )
        if given and args.refine != "none":
            raise UsageError(f"--refine {args.refine} refines the single-person soft mask; it takes no {option}")
    if args.probability:
        label = "probability"
    if args.people:
        if effect is not None:
            raise UsageError("--people writes its own overlay (<stem>.people.png); it takes no --effect")
        label = PEOPLE_LABEL
    parts_shown = args.parts or args.people or (effect is not None and effect.name == "parts")
    palette = check_palette(args, parts_shown=parts_shown)
    args.palette = palette
    own_output = is_own_people_output if args.people else is_own_output
    planned = plan(args.inputs, args.output, label, own_output)  # UsageError for an unusable -o: before loading
    jobs = planned.jobs
    has_video = any(job.kind == "video" for job in jobs)
    if args.people and has_video:
        videos = ", ".join(str(job.source) for job in jobs if job.kind == "video")
        raise UsageError(f"--people takes images only (one file per person and image), got the video(s) {videos}")
    _, video = _import_video_modules(
        has_video or effect is not None or palette != "rainbow" or args.people or args.refine != "none"
    )
    renderer = None
    if video is not None:
        renderer = renderer_of(effect, palette, args)
    summary = Summary()
    for name, reason in planned.skipped:
        error(f"skipped {name}: {reason}")
        summary.failed.append(name)
    if not jobs:  # nothing to read: no model to load, no output folder to create
        if not args.quiet:
            _print_summary(jobs, planned.skipped, summary, set(), 0.0, None)
        return 1
    bodypix_net = args.people or args.primary_person
    net: Any = load_bodypix(args) if bodypix_net else load_net(args)
    if has_video:
        _probe(jobs, video, args.max_frames)
    created = _missing_folders(args.output if not planned.output_file else args.output.parent)
    if not planned.output_file:
        try:
            args.output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # checked before the model loaded; changed since
            raise UsageError(f"-o {args.output}: cannot create it ({exc.strerror or exc})") from exc
    progress = Progress(
        total_frames=sum(job.frames for job in jobs),
        total_files=len(jobs),
        stream=sys.stderr,
        enabled=progress_enabled(args.quiet, args.progress),
    )
    outputs = Outputs()
    reported: set[Path] = set()
    interrupted: KeyboardInterrupt | None = None
    workers = args.workers
    segment: _ImageSegmenter | _PrimaryPerson | PeopleSegmenter
    if args.people:
        segment = PeopleSegmenter(net, args)
    elif args.primary_person:
        segment = net = _PrimaryPerson(PeopleSegmenter(net, args))
    else:
        segment = _ImageSegmenter(net, args, workers)
    protected = {key for key in (identity(job.source) for job in jobs) if key is not None}

    def report(job: Job, error: BaseException | None, done: str) -> None:
        if error is not None:  # never abort the batch: report the file and go on
            summary.failed.append(str(job.source))
            reason = (
                str(error)
                if isinstance(error, (ValueError, OSError, TypeError))
                else f"{type(error).__name__}: {error}"
            )
            progress.print(f"{PROG}: skipped {job.source}: {reason}", file=sys.stderr)
        else:
            reported.add(job.target)
            if not args.quiet:
                progress.print(done)
        progress.end_file()

    try:
        for is_video, group in itertools.groupby(jobs, key=lambda j: j.kind == "video"):
            if is_video:
                for job in group:
                    progress.begin_file(job.source.name)
                    try:
                        assert renderer is not None
                        frames = _segment_video(job, net, args, renderer, video, progress, outputs, summary)
                    except Exception as exc:
                        report(job, exc, "")
                    else:
                        report(job, None, f"{job.source} -> {job.target} ({frames} frames)")
                continue
            # Images: decoded, segmented, rendered and saved on `workers` threads, reported in order.
            pool = OrderedPool(
                lambda job: _segment_image(job, segment, args, renderer, outputs, protected),
                list(group),
                workers=workers,
                window=2 * workers,
            )
            try:
                for job, failure in pool:
                    progress.begin_file(job.source.name)
                    if failure is not None:
                        report(job, failure, "")
                        continue
                    progress.advance()
                    note = f" ({job.note})" if job.note else ""
                    report(job, None, f"{job.source} -> {job.target}{note}")
            finally:
                pool.close()  # after an interruption: without waiting for a busy (or stuck) worker
    except KeyboardInterrupt as exc:  # Ctrl+C, or SIGTERM (Terminated)
        interrupted = exc
    finally:
        outputs.stop()  # no temporary file stays, no worker publishes after this
        progress.close()
        if not outputs.published:
            _remove_empty(created)  # a run that wrote nothing leaves no empty output folder behind
    done = set(outputs.published)
    if interrupted is not None and not args.quiet:  # written by workers, not yet reported
        for job in jobs:
            if job.target in done and job.target not in reported:
                progress.print(f"{job.source} -> {job.target}")
    if not args.quiet or interrupted is not None:
        _print_summary(jobs, planned.skipped, summary, done, progress.elapsed(), interrupted)
    if interrupted is not None:
        return EXIT_TERMINATED if isinstance(interrupted, Terminated) else EXIT_INTERRUPTED
    return 1 if summary.failed else 0


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet (deepest first): what this run
    will create."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists() or candidate.is_symlink():
            break
        missing.append(candidate)
    return missing


def _remove_empty(created: list[Path]) -> None:
    """Remove the folders this run created (``created``, deepest first) and the empty
    sub-folders it made in them, if nothing was written there; anything not empty stays."""
    if not created:
        return
    for root, _, _ in sorted(os.walk(created[0]), key=lambda entry: -len(entry[0])):
        with contextlib.suppress(OSError):
            os.rmdir(root)
    for folder in created[1:]:
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _print_summary(
    jobs: list[Job],
    skipped: list[tuple[str, str]],
    summary: Summary,
    done: set[Path],
    elapsed: float,
    interrupted: KeyboardInterrupt | None,
) -> None:
    """One line on stderr: the files done of all planned (written files are counted even when
    the run was interrupted before they were reported), frames, rate, failures."""
    images = sum(1 for job in jobs if job.kind == "image" and job.target in done)
    videos = sum(1 for job in jobs if job.kind == "video" and job.target in done)
    frames = images + sum(summary.video_frames.values()) + summary.partial_frames
    total = len(jobs) + len(skipped)
    what = [_plural(n, word) for n, word in ((images, "image"), (videos, "video")) if n] or ["nothing"]
    rate = frames / elapsed if elapsed > 0 else 0.0
    prefix = "" if interrupted is None else "terminated: " if isinstance(interrupted, Terminated) else "interrupted: "
    line = (
        f"{prefix}{images + videos} of {_plural(total, 'file')} done "
        f"({', '.join(what)}; {_plural(frames, 'frame')}) in {elapsed:.1f} s, {rate:.1f} frames/s"
    )
    if summary.partial is not None and summary.partial_frames:
        line += f"; {summary.partial} stopped after {_plural(summary.partial_frames, 'frame')} (its output discarded)"
    if summary.failed:
        shown = ", ".join(summary.failed[:5]) + (", ..." if len(summary.failed) > 5 else "")
        line += f"; {len(summary.failed)} failed: {shown}"
    say(line, sys.stderr)
