#!/usr/bin/env python3
"""Make the example pictures of the README (docs/images/) with the command line.

The photo is scikit-image's ``skimage.data.astronaut()``: the NASA portrait of astronaut
Eileen Collins (1998), public domain (a work of the US federal government), bundled with
scikit-image. Nothing from the shared test material is used.

The photo is scaled to 256 x 256 and saved as docs/images/astronaut.png; the other pictures
are what ``person-segmentation segment`` writes for it with the 0.50 network (the commands are
printed, and shown in the README), re-saved with PNG optimisation (lossless: same pixels).

    pip install scikit-image
    python scripts/make_readme_images.py --weights /path/to/weights   # or set PERSON_SEGMENTATION_WEIGHTS

Without --weights and PERSON_SEGMENTATION_WEIGHTS the command line downloads the official
weights (once, into its cache).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import PIL.Image

REPO = Path(__file__).resolve().parent.parent
WIDTH = 256
MAX_BYTES = 150_000
COMMANDS: tuple[list[str], ...] = (
    [],  # the mask: docs/images/astronaut.mask.png
    ["--effect", "parts"],  # docs/images/astronaut.parts-overlay.png
    ["--effect", "bokeh"],  # docs/images/astronaut.bokeh.png
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--weights",
        default=os.environ.get("PERSON_SEGMENTATION_WEIGHTS"),
        help="weights for the CLI's --weights (default: $PERSON_SEGMENTATION_WEIGHTS, else the official URL)",
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "docs" / "images", help="output folder (default docs/images)"
    )
    args = parser.parse_args(argv)

    from skimage import data  # scikit-image: pip install scikit-image

    args.out.mkdir(parents=True, exist_ok=True)
    photo = PIL.Image.fromarray(np.asarray(data.astronaut()))
    photo = photo.resize((WIDTH, round(photo.height * WIDTH / photo.width)), PIL.Image.Resampling.LANCZOS)
    source = args.out / "astronaut.png"
    photo.save(source, optimize=True)

    written = [source]
    for extra in COMMANDS:
        command = [
            "person-segmentation",
            "segment",
            _display(source),
            "-o",
            _display(args.out),
            "--multiplier",
            "0.5",
            *extra,
        ]
        print("$", shlex.join(command))
        run = [sys.executable, "-m", "person_segmentation", *command[1:], "-q"]
        if args.weights:
            run += ["--weights", str(args.weights)]
        subprocess.run(run, check=True, cwd=REPO)
        label = "mask" if not extra else {"parts": "parts-overlay", "bokeh": "bokeh"}[extra[1]]
        written.append(args.out / f"astronaut.{label}.png")

    too_big = []
    for path in written:
        with PIL.Image.open(path) as image:
            image.load()
        image.save(path, optimize=True)  # lossless re-compression
        size = path.stat().st_size
        print(f"{_display(path)}: {image.size[0]}x{image.size[1]} {image.mode}, {size / 1000:.0f} kB")
        if size > MAX_BYTES:
            too_big.append(path)
    if too_big:
        print(f"larger than {MAX_BYTES / 1000:.0f} kB: {', '.join(map(str, too_big))}", file=sys.stderr)
        return 1
    return 0


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
