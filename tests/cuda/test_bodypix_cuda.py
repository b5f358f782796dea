"""The BodyPix 2 CUDA kernels (scale-back, instance assignment) against the CPU reference, bit for
bit: heads as a CUDA DLPack tensor from PyTorch or CuPy (whichever is installed with a device),
contiguous and strided; the pose decoder reads device heads through a download. Skipped with the
reason where there is no CUDA device or no producer."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

from person_segmentation import _core

pytestmark = pytest.mark.cuda

CH = 174


def _producer() -> tuple[str, Any]:
    for name in ("torch", "cupy"):
        try:
            module = importlib.import_module(name)
        except Exception:
            continue
        if name == "torch" and module.cuda.is_available():
            return name, module
        if name == "cupy":
            try:
                if module.cuda.runtime.getDeviceCount() > 0:
                    return name, module
            except Exception:
                continue
    pytest.skip("neither PyTorch nor CuPy with a CUDA device is installed")


def to_device(array: np.ndarray) -> Any:
    name, module = _producer()
    if name == "torch":
        return module.from_numpy(np.ascontiguousarray(array)).cuda()
    return module.asarray(array)


def heads_of(rng: np.random.Generator, gh: int, gw: int) -> np.ndarray:
    heads = rng.normal(0, 3.0, (gh, gw, CH)).astype(np.float32)
    heads[..., 0] += 1.5
    heads[..., 42:] = rng.normal(0, 10.0, (gh, gw, CH - 42)).astype(np.float32)
    return heads


GEOMETRIES = [
    dict(image_height=480, image_width=640, input_height=241, input_width=321, padding=(0, 0, 0, 0)),
    dict(image_height=375, image_width=500, input_height=177, input_width=241, padding=(0, 0, 5, 5)),
    dict(image_height=160, image_width=30, input_height=121, input_width=17, padding=(0, 0, 0, 0)),  # last row 0
    dict(image_height=1, image_width=40, input_height=17, input_width=33, padding=(0, 0, 0, 0)),  # NaN box
]


@pytest.mark.parametrize("g", GEOMETRIES, ids=lambda g: f"{g['image_height']}x{g['image_width']}")
@pytest.mark.parametrize("strided", [False, True])
def test_scale_back_cuda_equals_cpu(g: dict[str, Any], strided: bool) -> None:
    rng = np.random.default_rng(g["image_height"])
    gh, gw = (g["input_height"] - 1) // 8 + 1, (g["input_width"] - 1) // 8 + 1
    heads = heads_of(rng, gh, gw)
    heads[0, 0, 5] = np.nan
    expected = _core.bodypix_scale_back(heads, threshold=0.6, parts=True, probability=True, **g)
    if strided:
        wide = np.zeros((gh, gw, 2 * CH), np.float32)
        wide[..., ::2] = heads
        device = to_device(wide)[..., ::2]
    else:
        device = to_device(heads)
    got = _core.bodypix_scale_back(device, threshold=0.6, parts=True, probability=True, **g)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    mask_only = _core.bodypix_scale_back(to_device(heads), threshold=0.6, **g)
    np.testing.assert_array_equal(mask_only[0], expected[0])
    assert mask_only[1] is None and mask_only[2] is None


@pytest.mark.parametrize("seed", range(3))
def test_instances_and_poses_cuda_equal_cpu(seed: int) -> None:
    rng = np.random.default_rng(seed)
    stride = (8, 16)[seed % 2]
    g = dict(image_height=375, image_width=500, input_height=177, input_width=241, padding=(0, 0, 5, 5))
    if stride == 8:
        g = dict(image_height=375, image_width=500, input_height=185, input_width=249, padding=(0, 0, 2, 2))
    gh, gw = (g["input_height"] - 1) // stride + 1, (g["input_width"] - 1) // stride + 1
    heads = heads_of(rng, gh, gw)
    heads[..., 140:] = rng.normal(0, 4.0 * (seed + 1), (gh, gw, 34)).astype(np.float32)
    pose_args = dict(output_stride=stride, max_detections=10, score_threshold=0.3, nms_radius=20.0)
    kp, sc = _core.bodypix_decode_poses(heads, **pose_args, **g)
    dkp, dsc = _core.bodypix_decode_poses(to_device(heads), **pose_args, **g)
    np.testing.assert_array_equal(dkp, kp)
    np.testing.assert_array_equal(dsc, sc)
    mask = (rng.random((g["image_height"], g["image_width"])) < 0.6).astype(np.uint8)
    people = rng.uniform(0, 400, (4, 17, 3))
    people[..., 2] = rng.uniform(0, 1, (4, 17))
    for steps in (1, 10):
        expected = _core.bodypix_decode_instances(heads, mask, people, output_stride=stride, refine_steps=steps, **g)
        got = _core.bodypix_decode_instances(
            to_device(heads), mask, people, output_stride=stride, refine_steps=steps, **g
        )
        np.testing.assert_array_equal(got, expected)
        assert (got >= 0).any()
    empty = _core.bodypix_decode_instances(
        to_device(heads), mask, np.zeros((0, 17, 3)), output_stride=stride, refine_steps=10, **g
    )
    assert np.all(empty == -1)
