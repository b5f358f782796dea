"""``person-segmentation eval``: person IoU and boundary F-score of a model over images with
ground truth, per image (CSV) and per folder (a table).

The work is in plain functions (:func:`find_datasets`, :func:`pair_files`, :func:`make_masker`,
:func:`evaluate`), which ``scripts/accuracy-table.py`` calls for every model it finds.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from person_segmentation._constants import EVAL_GEOMETRIES, GT_ENCODINGS, IMAGE_EXTENSIONS, REFINEMENTS
from person_segmentation.cli._common import (
    PROG,
    UsageError,
    add_model_options,
    add_quiet_option,
    error,
    multiplier_of,
    say,
)
from person_segmentation.cli.progress import progress_enabled

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

#: A function from decoded RGB pixels (H, W, 3) to a uint8 (H, W) 0/1 person mask.
Masker = Callable[["np.ndarray"], "np.ndarray"]

CSV_FIELDS = (
    "folder",
    "image",
    "mask",
    "width",
    "height",
    "iou",
    "boundary_f",
    "boundary_precision",
    "boundary_recall",
    "tolerance_px",
    "ms",
)


def add_parser(commands: Any) -> None:
    """The ``eval`` sub-command."""
    ev = commands.add_parser(
        "eval",
        help="accuracy (person IoU, boundary F-score) of a model on images with ground-truth masks",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Segment images that have ground-truth masks and score the masks: person IoU and the boundary
F-score (DAVIS' measure: boundaries matched within 0.008 of the image diagonal, rounded up to
whole pixels), per image and per folder.

Inputs, either:
  eval IMAGES_DIR MASKS_DIR     two folders, paired by file stem (a.jpg <-> a.png)
  eval DATASET [DATASET...]     folders holding images/ and masks/, or folders of such
                                folders (each one is a row of the table)

Ground truth (--gt-encoding, default auto: guessed per file): binary PNGs (0/255 or 0/1),
PASCAL VOC palette PNGs (person = class 15, 255 = void: ignored), RGBA mattes (person where
alpha >= 128), CIHP/LIP parsing labels (any label > 0 is a person). Images are decoded as
stored (no EXIF rotation), as the datasets' masks are drawn.

Prints a table (folder, images, mean IoU, mean boundary F, ms per image: network and
post-processing, not decoding) on stdout; --csv writes one row per image. Images without a
mask, and masks without an image, are reported on stderr.

Exit status: 0 all scored, 1 some image failed (reported, the rest scored), 2 usage error.""",
        epilog="""\
examples:
  person-segmentation eval photos/ masks/
  person-segmentation eval ../shared/data --weights ../shared/weights --csv per-image.csv
  person-segmentation eval voc/ --weights model-stride16.json --refine guided""",
    )
    ev.add_argument("paths", nargs="+", metavar="DIR", help="IMAGES_DIR MASKS_DIR, or dataset folders")
    add_model_options(ev)
    group = ev.add_argument_group("evaluation")
    group.add_argument(
        "--geometry",
        choices=EVAL_GEOMETRIES,
        default="v0",
        help="how images reach the network: v0 (the v0.0.x 353x257 resize-and-pad, default) or bodypix "
        "(BodyPix 2's internal resolution, with --internal-resolution)",
    )
    group.add_argument(
        "--internal-resolution",
        default=None,
        metavar="R",
        help="with --geometry bodypix: low, medium (default), high, full or a number in [0.1, 2]; "
        "--threshold then defaults to 0.7 (BodyPix 2's default) instead of 0.5",
    )
    group.add_argument(
        "--refine",
        choices=REFINEMENTS,
        default="none",
        help="edge refinement of the soft mask: none (default) or guided (a guided filter on the image)",
    )
    group.add_argument(
        "--gt-encoding",
        choices=GT_ENCODINGS,
        default="auto",
        help="how the ground-truth files encode the person (default auto: guessed per file)",
    )
    group.add_argument("--csv", type=Path, default=None, metavar="FILE", help="write per-image scores to FILE")
    add_quiet_option(ev)
    # --threshold defaults to each geometry's own default (threshold_of), not segment's 0.5.
    ev.set_defaults(run=run, threshold=None)


# -- inputs -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pair:
    image: Path
    mask: Path


@dataclass
class Dataset:
    """One row of the table: a name and its image/mask pairs (and the unpaired files)."""

    name: str
    pairs: list[Pair]
    unmatched_images: list[Path] = field(default_factory=list)
    unmatched_masks: list[Path] = field(default_factory=list)


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )


def pair_files(name: str, images_dir: Path, masks_dir: Path) -> Dataset:
    """Images and masks paired by file stem; a stem with several masks prefers ``.png``."""
    masks: dict[str, Path] = {}
    for mask in _files(masks_dir):
        if mask.stem not in masks or mask.suffix.lower() == ".png":
            masks[mask.stem] = mask
    pairs: list[Pair] = []
    unmatched: list[Path] = []
    used: set[str] = set()
    for image in _files(images_dir):
        found = masks.get(image.stem)
        if found is None:
            unmatched.append(image)
        else:
            pairs.append(Pair(image, found))
            used.add(image.stem)
    left = [m for stem, m in sorted(masks.items()) if stem not in used]
    return Dataset(name, pairs, unmatched, left)


def _is_dataset(folder: Path) -> bool:
    return (folder / "images").is_dir() and (folder / "masks").is_dir()


def find_datasets(paths: Sequence[str | os.PathLike[str]]) -> list[Dataset]:
    """The datasets named on the command line (see the command's description).

    Raises:
        UsageError: a path that is not a folder, or folders that hold no dataset.
    """
    folders = [Path(p) for p in paths]
    for folder in folders:
        if not folder.is_dir():
            raise UsageError(f"{folder}: not a folder" if folder.exists() else f"{folder}: no such folder")
    if len(folders) == 2 and not any(_is_dataset(f) or _sub_datasets(f) for f in folders):
        images_dir, masks_dir = folders
        return [pair_files(images_dir.name or str(images_dir), images_dir, masks_dir)]
    datasets: list[Dataset] = []
    for folder in folders:
        if _is_dataset(folder):
            datasets.append(pair_files(folder.resolve().name, folder / "images", folder / "masks"))
            continue
        subs = _sub_datasets(folder)
        if not subs:
            raise UsageError(
                f"{folder}: holds neither images/ and masks/ nor dataset folders that do "
                f"(for two plain folders: {PROG} eval IMAGES_DIR MASKS_DIR)"
            )
        datasets.extend(pair_files(sub.name, sub / "images", sub / "masks") for sub in subs)
    return datasets


def _sub_datasets(folder: Path) -> list[Path]:
    return sorted(sub for sub in folder.iterdir() if sub.is_dir() and _is_dataset(sub))


def read_pixels(path: Path) -> np.ndarray:
    """uint8 RGB (H, W, 3) as stored in the file (no EXIF rotation: masks are drawn on that grid)."""
    import PIL.Image

    from person_segmentation._image import open_regular_file, pil_pixels

    with open_regular_file(str(path)) as file:
        try:
            with PIL.Image.open(file) as image:
                image.load()
                return pil_pixels(image)
        except PIL.UnidentifiedImageError as exc:
            raise ValueError(f"{str(path)!r} is not an image file Pillow can read: {exc}") from None


# -- models -------------------------------------------------------------------------------------
def parse_internal_resolution(text: str | None) -> str | float:
    """``--internal-resolution``: a name (low, medium, high, full) or a number in [0.1, 2]."""
    from person_segmentation import _checks  # numpy: not at import (a fast --help)

    if text is None:
        return "medium"
    try:
        return _checks.parse_internal_resolution(text)
    except ValueError as exc:
        raise UsageError("--internal-resolution" + str(exc).removeprefix("internal_resolution")) from None


def threshold_of(args: argparse.Namespace) -> float:
    """``--threshold``, or each geometry's own default: 0.5 (v0.0.x) or 0.7 (BodyPix 2)."""
    if args.threshold is not None:
        return float(args.threshold)
    return 0.7 if args.geometry == "bodypix" else 0.5


def _resolution_of(args: argparse.Namespace) -> str | float | None:
    """The internal resolution of ``--geometry bodypix``; None for ``v0``, which takes none.

    Raises:
        UsageError: ``--internal-resolution`` with ``v0``, or a bad value.
    """
    if args.geometry == "v0":
        if args.internal_resolution is not None:
            raise UsageError("--internal-resolution needs --geometry bodypix")
        return None
    return parse_internal_resolution(args.internal_resolution)


def make_masker(args: argparse.Namespace) -> tuple[Masker, str]:
    """The mask function the model options ask for, and a one-line description of the model.

    The two geometries are two implementations of one seam: ``v0`` runs ``ps.load`` (the v0.0.x
    pipeline); ``bodypix`` runs ``person_segmentation.bodypix.load`` (BodyPix 2, issue 13).

    Raises:
        UsageError: weights that cannot be loaded, or an option the geometry does not take.
    """
    resolution = _resolution_of(args)
    if resolution is None:
        return _v0_masker(args)
    return _bodypix_masker(args, resolution)


def _v0_masker(args: argparse.Namespace) -> tuple[Masker, str]:
    from person_segmentation.cli._common import load_net

    net = load_net(args)
    threshold = threshold_of(args)

    def masker(pixels: np.ndarray) -> np.ndarray:
        result = net.segment(pixels, args.flip, args.output_stride, threshold, refine=args.refine)
        return result.mask

    return masker, f"{net.weights_format} {net.multiplier:g} ({net.weights_source}), v0 geometry"


def _bodypix_masker(args: argparse.Namespace, resolution: str | float) -> tuple[Masker, str]:
    try:
        from person_segmentation import bodypix
    except ImportError as exc:
        raise UsageError(
            f"--geometry bodypix needs person_segmentation.bodypix, which this build lacks ({exc})"
        ) from exc
    try:
        net = bodypix.load(
            multiplier_of(args), output_stride=args.output_stride, model_url=args.weights, engine=args.engine
        )
    except (ValueError, OSError) as exc:
        raise UsageError(f"cannot load weights: {exc}") from exc

    threshold = threshold_of(args)

    def masker(pixels: np.ndarray) -> np.ndarray:
        seg = net.segment_person(
            pixels, flip_horizontal=args.flip, internal_resolution=resolution, segmentation_threshold=threshold
        )
        if args.refine == "guided":
            from person_segmentation import _refine

            return _refine.refine_result(pixels, seg.probability, threshold)[1]
        mask: np.ndarray = seg.mask
        return mask

    return masker, f"BodyPix 2 {multiplier_of(args):g} ({args.weights or 'bundled'}), internal resolution {resolution}"


# -- scoring ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageScore:
    folder: str
    image: Path
    mask: Path
    width: int
    height: int
    iou: float
    boundary_f: float
    boundary_precision: float
    boundary_recall: float
    tolerance_px: int
    ms: float


@dataclass(frozen=True)
class FolderScore:
    folder: str
    n: int
    iou: float
    boundary_f: float
    ms: float


def score_pair(dataset: str, pair: Pair, masker: Masker, encoding: str) -> ImageScore:
    """Segment one image and score its mask against the ground truth."""
    from person_segmentation import metrics

    pixels = read_pixels(pair.image)
    truth = metrics.read_ground_truth(pair.mask, encoding)  # type: ignore[arg-type]
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    if truth.person.shape != (height, width):
        raise ValueError(
            f"mask {pair.mask} is {truth.person.shape[1]}x{truth.person.shape[0]}, image is {width}x{height}"
        )
    start = time.perf_counter()
    predicted = masker(pixels)
    ms = (time.perf_counter() - start) * 1000.0
    s = metrics.score_mask(predicted, truth)
    b = s.boundary
    return ImageScore(dataset, pair.image, pair.mask, width, height, s.iou, b.f, b.precision, b.recall, b.tolerance, ms)


def summarise(name: str, scores: Iterable[ImageScore]) -> FolderScore:
    rows = list(scores)
    n = len(rows)
    if n == 0:
        return FolderScore(name, 0, math.nan, math.nan, math.nan)
    return FolderScore(
        name, n, sum(r.iou for r in rows) / n, sum(r.boundary_f for r in rows) / n, sum(r.ms for r in rows) / n
    )


def evaluate(
    datasets: Sequence[Dataset],
    masker: Masker,
    *,
    encoding: str = "auto",
    progress: bool = False,
    on_error: Callable[[Pair, BaseException], None] | None = None,
) -> tuple[list[ImageScore], list[FolderScore]]:
    """Score every pair of every dataset (with ``progress``, a tqdm bar on stderr).

    A pair that fails (unreadable file, sizes that differ) goes to ``on_error`` (default:
    raised) and is left out of the means.
    """
    from tqdm import tqdm

    total = sum(len(d.pairs) for d in datasets)
    images: list[ImageScore] = []
    folders: list[FolderScore] = []
    with tqdm(total=total, unit="image", disable=not progress, file=sys.stderr, leave=False) as bar:
        for dataset in datasets:
            mine: list[ImageScore] = []
            for pair in dataset.pairs:
                bar.set_postfix_str(dataset.name, refresh=False)
                try:
                    mine.append(score_pair(dataset.name, pair, masker, encoding))
                except (ValueError, OSError) as exc:
                    if on_error is None:
                        raise
                    on_error(pair, exc)
                bar.update(1)
            images.extend(mine)
            folders.append(summarise(dataset.name, mine))
    return images, folders


def format_table(folders: Sequence[FolderScore], images: Sequence[ImageScore]) -> str:
    """The per-folder table as Markdown (an "all images" row last when there are several)."""
    rows = list(folders)
    if len(rows) > 1:
        rows.append(summarise("all images", images))
    width = max(len("folder"), *(len(r.folder) for r in rows))
    lines = [
        f"| {'folder':<{width}} | images | mean IoU | mean boundary F | ms/image |",
        f"|{'-' * (width + 2)}|-------:|---------:|----------------:|---------:|",
    ]
    for r in rows:
        lines.append(f"| {r.folder:<{width}} | {r.n:6d} | {r.iou:8.4f} | {r.boundary_f:15.4f} | {r.ms:8.1f} |")
    return "\n".join(lines)


def write_csv(path: Path, images: Sequence[ImageScore]) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_FIELDS)
        for s in images:
            writer.writerow(
                [
                    s.folder,
                    str(s.image),
                    str(s.mask),
                    s.width,
                    s.height,
                    f"{s.iou:.6f}",
                    f"{s.boundary_f:.6f}",
                    f"{s.boundary_precision:.6f}",
                    f"{s.boundary_recall:.6f}",
                    s.tolerance_px,
                    f"{s.ms:.2f}",
                ]
            )


def run(args: argparse.Namespace) -> int:
    """The ``eval`` command."""
    datasets = find_datasets(args.paths)  # usage errors before the model loads
    _resolution_of(args)
    if args.csv is not None and (args.csv.is_dir() or not args.csv.parent.is_dir()):
        raise UsageError(f"--csv {args.csv}: not a file in an existing folder")
    if not any(d.pairs for d in datasets):
        raise UsageError("no image has a mask of the same name (" + ", ".join(d.name for d in datasets) + ")")
    for d in datasets:
        for image in d.unmatched_images:
            error(f"{d.name}: no mask for {image.name}")
        for mask in d.unmatched_masks:
            error(f"{d.name}: no image for {mask.name}")
    masker, description = make_masker(args)
    failed: list[Pair] = []

    def report(pair: Pair, exc: BaseException) -> None:
        failed.append(pair)
        error(f"skipped {pair.image}: {exc}")

    images, folders = evaluate(
        datasets,
        masker,
        encoding=args.gt_encoding,
        progress=progress_enabled(args.quiet, args.progress),
        on_error=report,
    )
    if args.csv is not None:
        try:
            write_csv(args.csv, images)
        except OSError as exc:
            error(f"--csv {args.csv}: {exc.strerror or exc}")
            return 1
    if not args.quiet:
        say(f"model: {description}, threshold {threshold_of(args):g}, refine {args.refine}", sys.stderr)
    for line in format_table(folders, images).splitlines():
        say(line)
    return 1 if failed else 0
