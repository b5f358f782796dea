#!/usr/bin/env python3
"""The accuracy table: every model loadable from a weights folder x every geometry, on every
dataset folder with masks, with the time per 640 x 480 frame; printed as Markdown.

    python scripts/accuracy-table.py                      # ../shared/weights, ../shared/data
    python scripts/accuracy-table.py --weights W --data D --geometry v0 --refine none guided

Models: the 1.x partmap folders (``posenet_mobilenet_{050,025}_partmap``) and the 2.x graph
models ``bodypix/mobilenet/{float,quant2,quant1}/{050,075,100}/model-stride16.json`` that are
present. Geometries: ``v0`` (``ps.load``: the v0.0.x 353 x 257 pipeline) and, where the package
has ``person_segmentation.bodypix``, ``bodypix`` at each internal resolution (2.x models only).
Each cell is "mean person IoU / mean boundary F" (see ``person_segmentation.metrics``); the
time is the median of ``--repeats`` mask calls (network + post-processing, after one warm-up)
on a 640 x 480 frame, with the package's default threads. CPU heavy: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from person_segmentation._constants import EVAL_GEOMETRIES, REFINEMENTS

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PERSON_SEGMENTATION_SHARED", REPO.parent / "shared"))


@dataclass(frozen=True)
class Model:
    label: str
    multiplier: float
    weights: Path
    format: str  # "1.x" or "2.x"


def find_models(root: Path) -> list[Model]:
    models = []
    for tag, multiplier in (("050", 0.5), ("025", 0.25)):
        folder = root / f"posenet_mobilenet_{tag}_partmap"
        if (folder / "weights_manifest.json").is_file():
            models.append(Model(f"1.x {multiplier:.2f}", multiplier, folder, "1.x"))
    for kind in ("float", "quant2", "quant1"):
        for tag, multiplier in (("050", 0.5), ("075", 0.75), ("100", 1.0)):
            path = root / "bodypix" / "mobilenet" / kind / tag / "model-stride16.json"
            if path.is_file():
                models.append(Model(f"2.x {kind} {multiplier:.2f}", multiplier, path, "2.x"))
    return models


def namespace(model: Model, geometry: str, resolution: str | None, refine: str) -> argparse.Namespace:
    return argparse.Namespace(
        multiplier=model.multiplier,
        weights=str(model.weights),
        engine="auto",
        flip=False,
        output_stride=16,
        threshold=None,  # each geometry's own default: 0.5 (v0), 0.7 (bodypix)
        geometry=geometry,
        internal_resolution=resolution,
        refine=refine,
    )


def frame_640x480(data: Path) -> object:
    """A real 640 x 480 photo with people (the first one found), else a resized one."""
    import numpy as np
    import PIL.Image

    from person_segmentation.cli.eval import read_pixels

    candidates = sorted(data.glob("*/images/*.jpg"))
    for path in candidates:
        pixels = read_pixels(path)
        if pixels.shape[:2] == (480, 640):
            return pixels
    return np.asarray(PIL.Image.fromarray(read_pixels(candidates[0])).resize((640, 480), PIL.Image.BILINEAR))


def time_frame(masker: object, frame: object, repeats: int) -> float:
    masker(frame)  # type: ignore[operator]  # warm-up (and conversion caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        masker(frame)  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=SHARED / "weights")
    parser.add_argument("--data", type=Path, default=SHARED / "data")
    parser.add_argument("--geometry", nargs="+", choices=EVAL_GEOMETRIES, default=list(EVAL_GEOMETRIES))
    parser.add_argument("--resolutions", nargs="+", default=["low", "medium", "high", "full"])
    parser.add_argument("--refine", nargs="+", choices=REFINEMENTS, default=["none"])
    parser.add_argument("--models", nargs="*", default=None, help="only the models whose label contains one of these")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    from person_segmentation.cli.eval import evaluate, find_datasets, make_masker, summarise

    datasets = find_datasets([args.data])
    models = find_models(args.weights)
    if args.models:
        models = [m for m in models if any(word in m.label for word in args.models)]
    has_bodypix = importlib.util.find_spec("person_segmentation.bodypix") is not None
    if "bodypix" in args.geometry and not has_bodypix:
        print("note: person_segmentation.bodypix is not in this build: bodypix geometry rows skipped", file=sys.stderr)
    frame = frame_640x480(args.data)
    names = [d.name for d in datasets]
    header = ["model", "geometry", "refine", *names, "all images", "ms / 640x480"]
    rows: list[list[str]] = []
    for model in models:
        runs: list[tuple[str, str | None]] = []
        if "v0" in args.geometry:
            runs.append(("v0", None))
        if "bodypix" in args.geometry and has_bodypix and model.format == "2.x":
            runs.extend(("bodypix", r) for r in args.resolutions)
        for geometry, resolution in runs:
            for refine in args.refine:
                masker, _ = make_masker(namespace(model, geometry, resolution, refine))
                images, folders = evaluate(datasets, masker)
                ms = time_frame(masker, frame, args.repeats)
                cells = [f"{f.iou:.3f} / {f.boundary_f:.3f}" for f in folders]
                every = summarise("all images", images)
                pooled = f"{every.iou:.3f} / {every.boundary_f:.3f}"
                where = geometry if resolution is None else f"bodypix {resolution}"
                rows.append([model.label, where, refine, *cells, pooled, f"{ms:.1f}"])
                print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    counts = ", ".join(f"{d.name} {len(d.pairs)}" for d in datasets)
    print(f"Cells: mean person IoU / mean boundary F (tolerance 0.008 of the diagonal). Images: {counts}.")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
