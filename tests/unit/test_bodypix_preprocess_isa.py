"""``_core.bodypix_preprocess`` on every instruction-set path of the core (AVX-512F, AVX2 and the
baseline loops; ``PERSON_SEGMENTATION_DISABLE_AVX512`` / ``_AVX2`` pick them, once per process, so
each runs in its own subprocess): bit for bit the numpy reference of tests/_bodypix_reference.py
and each other, on random images of odd sizes, uint8 and float32 (NaN, +-inf, -0, out of range),
contiguous and strided (reversed, stepped, channel-reversed) views, padding on every side (rows
and columns wholly in it), upscales, downscales whose 8-element blocks read more than the
AVX-512F permute window (the plain-loop fallback), and 1 or several threads. No weights needed;
on a CPU without AVX-512F or AVX2 those runs take the next path down and still must match."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import person_segmentation

from .. import _bodypix_reference as ref

#: (image height, width, input height, width, padding (top, bottom, left, right)).
CASES: list[tuple[int, int, int, int, tuple[int, int, int, int]]] = [
    (480, 640, 241, 321, (0, 0, 0, 0)),  # the bench frame: rx = 640 / 321
    (37, 53, 17, 33, (1, 1, 0, 0)),
    (1, 1, 1, 1, (0, 0, 0, 0)),
    (1, 7, 17, 33, (3, 2, 0, 0)),
    (9, 1, 33, 17, (0, 0, 4, 4)),
    (20, 30, 41, 57, (0, 0, 0, 0)),  # upscale
    (23, 29, 49, 65, (5, 7, 3, 9)),  # upscale, padding on all sides
    (31, 45, 17, 17, (40, 3, 2, 50)),  # rows and columns wholly in the padding
    (61, 400, 33, 17, (0, 0, 0, 0)),  # rx ~ 23: blocks wider than the permute window
    (17, 130, 9, 33, (0, 0, 6, 1)),  # rx ~ 4.1: some blocks fit, some do not
    (64, 96, 32, 48, (0, 0, 0, 0)),  # exact 2x downscale: frac 0 everywhere
    (200, 300, 361, 481, (2, 3, 4, 1)),  # enough cells (> 2 * 2^16) for 2 threads when asked
]
#: How a test image is passed (each applied to an array built so that the view holds the image).
VIEWS = ("contiguous", "reversed", "stepped", "channels")

CHILD = r"""
import sys
import numpy as np
from person_segmentation import _core

data = np.load(sys.argv[1])
out = {}
for key in data.files:
    if not key.startswith("pixels_"):
        continue
    name = key[len("pixels_"):]
    view_kind = str(data["view_" + name])
    base = data[key]
    if view_kind == "contiguous":
        pixels = base
    elif view_kind == "reversed":
        pixels = base[::-1, ::-1]
    elif view_kind == "stepped":
        pixels = base[::2, ::3]
    else:
        pixels = base[:, :, ::-1]
    ih, iw, threads = (int(v) for v in data["size_" + name])
    padding = tuple(int(v) for v in data["padding_" + name])
    out[name] = _core.bodypix_preprocess(pixels, input_height=ih, input_width=iw, padding=padding, num_threads=threads)
np.savez(sys.argv[2], **out)
"""


def base_of(image: np.ndarray, view: str) -> np.ndarray:
    """The array whose `view` (as the child script takes it) is `image`."""
    if view == "contiguous":
        return image
    if view == "reversed":
        return np.ascontiguousarray(image[::-1, ::-1])
    if view == "stepped":
        h, w = image.shape[:2]
        base = np.zeros((2 * h, 3 * w, 3), image.dtype)
        base[::2, ::3] = image
        return base
    return np.ascontiguousarray(image[:, :, ::-1])


def random_image(rng: np.random.Generator, h: int, w: int, dtype: str) -> np.ndarray:
    if dtype == "uint8":
        return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    image = rng.uniform(-60.0, 320.0, (h, w, 3)).astype(np.float32)
    flat = image.reshape(-1)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 255.0, 255.5, -1e-30], np.float32)
    where = rng.choice(flat.size, size=max(1, flat.size // 6), replace=True)
    flat[where] = rng.choice(specials, size=where.size)
    return image


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, dict[str, Any]]:
    rng = np.random.default_rng(20261202)
    arrays: dict[str, Any] = {}
    expected: dict[str, np.ndarray] = {}
    for i, (h, w, ih, iw, padding) in enumerate(CASES):
        for dtype in ("uint8", "float32"):
            for v, view in enumerate(VIEWS):
                name = f"{i}_{dtype}_{view}"
                image = random_image(rng, h, w, dtype)
                arrays["pixels_" + name] = base_of(image, view)
                arrays["view_" + name] = np.array(view)
                arrays["size_" + name] = np.array([ih, iw, 1 + (v % 3)])
                arrays["padding_" + name] = np.array(padding)
                expected[name] = ref.preprocess(image, ih, iw, padding)
    path = tmp_path_factory.mktemp("preprocess_isa") / "cases.npz"
    np.savez(path, **arrays)
    return path, expected


def run_child(inputs: pathlib.Path, disable: str | None) -> dict[str, np.ndarray]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERSON_SEGMENTATION_DISABLE_")}
    if disable is not None:
        env[disable] = "1"
    package_root = str(pathlib.Path(person_segmentation.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])
    outputs = inputs.with_name(f"out_{disable or 'native'}.npz")
    subprocess.run([sys.executable, "-c", CHILD, str(inputs), str(outputs)], env=env, check=True, timeout=300)
    with np.load(outputs) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize(
    "disable",
    [None, "PERSON_SEGMENTATION_DISABLE_AVX512", "PERSON_SEGMENTATION_DISABLE_AVX2"],
    ids=["best", "avx2", "baseline"],
)
def test_preprocess_every_isa_matches_reference(
    cases: tuple[pathlib.Path, dict[str, np.ndarray]], disable: str | None
) -> None:
    inputs, expected = cases
    got = run_child(inputs, disable)
    assert sorted(got) == sorted(expected)
    for name, want in expected.items():
        have = got[name]
        assert have.dtype == np.float32 and have.shape == want.shape, name
        mismatch = have.view(np.uint32) != want.view(np.uint32)
        assert not mismatch.any(), f"{name}: {int(mismatch.sum())} elements differ, first at {np.argwhere(mismatch)[0]}"
