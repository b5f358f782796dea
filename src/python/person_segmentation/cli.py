"""The ``person-segmentation`` command line: segment photos and write PNG masks or part maps.

    person-segmentation segment photo.jpg -o mask.png
    person-segmentation segment a.jpg b.jpg --parts -o out/
    person-segmentation info
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import PIL.Image

# The rainbow palette of the original's demos (REFERENCE.md section 6), index = part id.
RAINBOW = (
    (110, 64, 170), (143, 61, 178), (178, 60, 178), (210, 62, 167), (238, 67, 149), (255, 78, 125),
    (255, 94, 99), (255, 115, 75), (255, 140, 56), (239, 167, 47), (217, 194, 49), (194, 219, 64),
    (175, 240, 91), (135, 245, 87), (96, 247, 96), (64, 243, 115), (40, 234, 141), (28, 219, 169),
    (26, 199, 194), (33, 176, 213), (47, 150, 224), (65, 125, 224), (84, 101, 214), (99, 81, 195),
)  # fmt: skip
_BACKGROUND_INDEX = len(RAINBOW)  # palette entry 24: black


def mask_to_image(mask: np.ndarray) -> PIL.Image.Image:
    """uint8 (H, W) 0/1 mask -> 8-bit grayscale image, person = 255."""
    return PIL.Image.fromarray((mask * 255).astype(np.uint8), mode="L")


def parts_to_image(parts: np.ndarray) -> PIL.Image.Image:
    """int32 (H, W) part ids (-1 = background) -> palette image: pixel value = part id
    (background = 24, black), coloured with the rainbow palette."""
    indices = np.where(parts < 0, _BACKGROUND_INDEX, parts).astype(np.uint8)
    image = PIL.Image.fromarray(indices, mode="P")
    image.putpalette([c for rgb in (*RAINBOW, (0, 0, 0)) for c in rgb])
    return image


def _output_path(source: Path, output: Path, many: bool, parts: bool) -> Path:
    if not many and output.suffix.lower() == ".png":
        return output
    return output / f"{source.stem}.{'parts' if parts else 'mask'}.png"


def _segment(args: argparse.Namespace) -> int:
    import person_segmentation as ps

    inputs = [Path(p) for p in args.inputs]
    many = len(inputs) > 1 or args.output.suffix.lower() != ".png"
    try:
        net = ps.load(args.multiplier, weights=args.weights)
    except (ValueError, OSError) as exc:
        print(f"person-segmentation: cannot load weights: {exc}", file=sys.stderr)
        return 2
    if many:
        args.output.mkdir(parents=True, exist_ok=True)
    failed = 0
    start = time.perf_counter()
    for source in inputs:
        options = dict(
            flip_horizontal=args.flip, output_stride=args.output_stride, segmentation_threshold=args.threshold
        )
        try:
            if args.parts:
                image = parts_to_image(net.estimate_part_segmentation(source, **options))
            else:
                image = mask_to_image(net.estimate_person_segmentation(source, **options))
            target = _output_path(source, args.output, many, args.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            image.save(target)
        except (ValueError, OSError) as exc:
            failed += 1
            print(f"person-segmentation: skipped {source}: {exc}", file=sys.stderr)
            continue
        if not args.quiet:
            print(f"{source} -> {target}")
    if not args.quiet:
        elapsed = time.perf_counter() - start
        print(f"{len(inputs) - failed} of {len(inputs)} image(s) segmented in {elapsed:.2f} s", file=sys.stderr)
    return 1 if failed else 0


def _info(_: argparse.Namespace) -> int:
    import person_segmentation as ps

    info = dict(ps.build_info())
    info["weights"] = os.environ.get("PERSON_SEGMENTATION_WEIGHTS") or ps.OFFICIAL_BASE_URL
    info["cache_dir"] = str(ps.default_cache_dir())
    print(json.dumps(info, indent=2))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="person-segmentation",
        description="Person and body-part segmentation (a Python port of TF.js person-segmentation / BodyPix 1.0).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    seg = commands.add_parser(
        "segment",
        help="segment image files and write PNG masks (or coloured part maps)",
        description=(
            "Segment image files. Writes an 8-bit PNG per image: the person mask (255 = person) or, with "
            "--parts, a palette PNG whose pixel values are part ids 0..23 (24 = background) shown in the "
            "rainbow colours of the original demo. Unreadable files are reported and skipped; the exit "
            "status is 1 if any file failed."
        ),
    )
    seg.add_argument("inputs", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ... anything Pillow reads)")
    seg.add_argument(
        "-o", "--output", type=Path, required=True,
        help="output .png for a single image, otherwise a directory (IMAGE stem + .mask.png / .parts.png)",
    )  # fmt: skip
    seg.add_argument("--parts", action="store_true", help="write the body-part map instead of the person mask")
    seg.add_argument("--multiplier", type=float, default=0.75, choices=(1.0, 0.75, 0.5, 0.25), help="MobileNet depth multiplier (default 0.75)")
    seg.add_argument("--output-stride", type=int, default=16, choices=(8, 16, 32), help="network output stride (default 16; 8 is finer and slower)")
    seg.add_argument("--threshold", type=float, default=0.5, help="segmentation threshold in [0, 1] (default 0.5)")
    seg.add_argument("--flip", action="store_true", help="mirror the image before the network (and the result back)")
    seg.add_argument(
        "--weights", default=None,
        help="weights: a local mirror of the official folder layout, one model folder, a 2.x model-stride*.json, "
        "or an http(s)/file URL (default: $PERSON_SEGMENTATION_WEIGHTS, else the official URL, cached)",
    )  # fmt: skip
    seg.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    seg.set_defaults(run=_segment)

    info = commands.add_parser("info", help="print build information (native core, threads, weights source)")
    info.set_defaults(run=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``person-segmentation`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "segment" and not 0.0 <= args.threshold <= 1.0:
        _parser().error(f"--threshold must be in [0, 1], got {args.threshold}")
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
