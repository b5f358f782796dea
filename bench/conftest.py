"""Shared fixtures of the benchmarks (``python -m pytest bench --benchmark-only``).

The weights and the photo are read from the same shared folder as the test suite:
``PERSON_SEGMENTATION_SHARED`` (default: ``../shared`` beside the repository). Unlike the
tests, the benchmarks never skip: without that material they fail with a message naming the
missing path.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

import person_segmentation as ps

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("PERSON_SEGMENTATION_SHARED", REPO_ROOT.parent / "shared")).resolve()

#: A real full-body photo (854 x 480); every benchmark frame is made from it.
PHOTO = Path("data/davis2016_person/images/hike_00024.jpg")

#: Frame sizes as (width, height). The first is the frame of the end-to-end benchmarks.
FRAME_SIZES: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720), (1920, 1080))


@dataclass(frozen=True)
class NetSpec:
    """One set of weights: its depth multiplier and where it lives under ``<shared>/weights``."""

    multiplier: float
    weights: str


#: Every benchmarked network, keyed by the id that appears in test ids (multiplier + weights).
NETS: dict[str, NetSpec] = {
    "x0.25-1.x": NetSpec(0.25, "."),
    "x0.50-1.x": NetSpec(0.5, "."),
    "x0.75-2.x-quant2": NetSpec(0.75, "bodypix/mobilenet/quant2/075/model-stride16.json"),
    "x1.00-2.x-quant1": NetSpec(1.0, "bodypix/mobilenet/quant1/100/model-stride16.json"),
}

#: The network whose logits feed the post-processing benchmarks and which the all-TF
#: pipeline is compared with.
REFERENCE_NET = "x0.50-1.x"


def size_id(size: tuple[int, int]) -> str:
    """``(640, 480)`` -> ``"640x480"``."""
    return f"{size[0]}x{size[1]}"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(
            f"benchmark material not found: {path}\n"
            f"The benchmarks read weights and photos from {SHARED_DIR}; set PERSON_SEGMENTATION_SHARED "
            "to the folder holding weights/ and data/ (default: ../shared beside the repository).",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared folder holding ``weights/`` and ``data/``."""
    return _require(SHARED_DIR)


@pytest.fixture(scope="session")
def weights_dir(shared_dir: Path) -> Path:
    return _require(shared_dir / "weights")


@pytest.fixture(scope="session")
def load_net(weights_dir: Path) -> Callable[..., ps.PersonSegmentation]:
    """``load_net(net_id, postprocess="native", engine="auto")``: a loaded network, cached for
    the session (``"auto"`` is TFLite on a CPU-only machine)."""
    cache: dict[tuple[str, str, str], ps.PersonSegmentation] = {}

    def get(net_id: str, postprocess: str = "native", engine: str = "auto") -> ps.PersonSegmentation:
        key = (net_id, postprocess, engine)
        if key not in cache:
            spec = NETS[net_id]
            weights = _require((weights_dir / spec.weights).resolve())
            cache[key] = ps.load(spec.multiplier, weights=weights, postprocess=postprocess, engine=engine)
        return cache[key]

    return get


@pytest.fixture(scope="session", params=list(NETS))
def net_id(request: pytest.FixtureRequest) -> str:
    """Each id of :data:`NETS` in turn (override with ``@pytest.mark.parametrize("net_id", ...)``)."""
    return str(request.param)


@pytest.fixture(scope="session")
def make_frame(shared_dir: Path) -> Callable[[tuple[int, int]], np.ndarray]:
    """``make_frame((width, height))``: the photo as an RGB uint8 (height, width, 3) array.

    The photo is centre-cropped to the target aspect ratio (the person stays in frame) and
    resized, so the body is never distorted. Results are cached and read-only.
    """
    photo = Image.open(_require(shared_dir / PHOTO)).convert("RGB")
    cache: dict[tuple[int, int], np.ndarray] = {}

    def make(size: tuple[int, int]) -> np.ndarray:
        if size not in cache:
            frame = np.ascontiguousarray(ImageOps.fit(photo, size, Image.Resampling.BILINEAR), dtype=np.uint8)
            frame.flags.writeable = False
            cache[size] = frame
        return cache[size]

    return make


#: Photos in the throughput benchmarks.
THROUGHPUT_IMAGES = 100


@pytest.fixture(scope="session")
def hundred_photos(shared_dir: Path) -> list[Path]:
    """100 photo paths: every ``data/*/images/*.jpg`` under the shared folder in sorted order,
    cycled to 100 (real photos of 240 to 854 pixels a side)."""
    found = sorted((shared_dir / "data").glob("*/images/*.jpg"))
    if not found:
        pytest.fail(f"no photos under {shared_dir / 'data'}/*/images/", pytrace=False)
    return list(itertools.islice(itertools.cycle(found), THROUGHPUT_IMAGES))


@pytest.fixture(scope="session")
def frame(make_frame: Callable[[tuple[int, int]], np.ndarray]) -> np.ndarray:
    """The 640 x 480 frame."""
    return make_frame(FRAME_SIZES[0])


@pytest.fixture(scope="session", params=FRAME_SIZES, ids=size_id)
def sized_frame(request: pytest.FixtureRequest, make_frame: Callable[[tuple[int, int]], np.ndarray]) -> np.ndarray:
    """The frame at each of :data:`FRAME_SIZES` in turn (640 x 480, 1280 x 720, 1920 x 1080)."""
    size: tuple[int, int] = request.param
    return make_frame(size)


@pytest.fixture(scope="session", params=[REFERENCE_NET])
def reference_net_id(request: pytest.FixtureRequest) -> str:
    """:data:`REFERENCE_NET` (a one-value param, so the weights show in the test id)."""
    return str(request.param)


#: Output stride of the logits fed to the post-processing benchmarks.
OUTPUT_STRIDE = 16


@pytest.fixture(scope="session")
def real_logits(
    load_net: Callable[..., ps.PersonSegmentation], reference_net_id: str, sized_frame: np.ndarray
) -> ps.Logits:
    """Logits (with parts) of the frame at the current size, from the reference net."""
    return load_net(reference_net_id).estimate_logits(sized_frame, False, OUTPUT_STRIDE, with_parts=True)
