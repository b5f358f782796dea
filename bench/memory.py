"""Peak memory of one estimate per image size, each size in a fresh process.

    python bench/memory.py [--weights DIR] [--sizes 640x480,1920x1080,8000x6000]

For each size: load the 0.50 network, warm it up on a small frame, record the peak RSS
(ru_maxrss) as the baseline, then run estimate_person_segmentation and
estimate_part_segmentation on an RGB uint8 image of that size and record the new peak. Prints
a Markdown table: the image's own size, the results' size, and the peak increase.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WEIGHTS = Path(os.environ.get("PERSON_SEGMENTATION_SHARED", REPO_ROOT.parent / "shared")) / "weights"

CHILD = r"""
import json, resource, sys
import numpy as np
import person_segmentation as ps
weights, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
net = ps.load(0.5, weights=weights)
small = np.zeros((48, 64, 3), np.uint8)
net.estimate_person_segmentation(small); net.estimate_part_segmentation(small)
baseline = peak_mb()
image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
after_image = peak_mb()
mask = net.estimate_person_segmentation(image)
after_mask = peak_mb()
parts = net.estimate_part_segmentation(image)
after_parts = peak_mb()
print(json.dumps(dict(width=width, height=height, baseline=baseline, image_mb=image.nbytes / 2**20,
                      results_mb=(mask.nbytes + parts.nbytes) / 2**20, after_image=after_image,
                      after_mask=after_mask, after_parts=after_parts)))
"""


def measure(weights: Path, width: int, height: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(weights), str(width), str(height)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--sizes", default="640x480,1920x1080,8000x6000")
    args = parser.parse_args()
    print("| image (W x H) | image itself | mask + part map | peak RSS increase over the loaded model | baseline RSS |")
    print("|---|---:|---:|---:|---:|")
    for size in args.sizes.split(","):
        width, height = (int(v) for v in size.split("x"))
        r = measure(args.weights, width, height)
        increase = r["after_parts"] - r["baseline"]
        print(
            f"| {width} x {height} | {r['image_mb']:.1f} MB | {r['results_mb']:.1f} MB | "
            f"{increase:.1f} MB | {r['baseline']:.0f} MB |"
        )


if __name__ == "__main__":
    main()
