"""The CUDA build: it imports and reports itself, falls back to the CPU cleanly without a
device, and (on a machine with a GPU) gives exactly the CPU reference's results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import person_segmentation as ps
from person_segmentation import _core

SHAPES = [
    (480, 640, 23, 17),
    (640, 480, 45, 33),
    (1, 1, 23, 17),
    (1, 300, 12, 9),
    (1080, 1920, 23, 17),
    (37, 1000, 2, 2),
]


def test_build_info_reports_the_cuda_state() -> None:
    info = ps.build_info()
    assert info["cuda_compiled"] is _core.cuda_compiled()
    assert info["cuda_devices"] == _core.cuda_device_count() >= 0
    assert info["cuda_device_available"] is (info["cuda_devices"] > 0)
    assert info["postprocess_device"] == ("cuda" if info["cuda_devices"] else "cpu")
    assert ("CUDA compiled in" in info["summary"]) is info["cuda_compiled"]


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH, so the build was made without CUDA")
def test_cuda_kernels_are_built_when_nvcc_is_present() -> None:
    """PERSON_SEGMENTATION_CUDA defaults to AUTO: with nvcc on PATH the CUDA kernels are in."""
    assert _core.cuda_compiled()


@pytest.mark.skipif(_core.cuda_device_count() > 0, reason="this machine has a CUDA device")
def test_without_a_device_everything_runs_on_the_cpu(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    seg = rng.normal(0, 3, (23, 17, 1)).astype(np.float32)
    parts = rng.normal(0, 2, (23, 17, 24)).astype(np.float32)
    g = ps.compute_geometry(48, 64)
    # Asking for CUDA explicitly is a clear error, not a crash ...
    with pytest.raises(RuntimeError, match="no CUDA device is available|no CUDA support"):
        _core.part_segmentation(seg, parts, g, device="cuda")
    with pytest.raises(RuntimeError, match="no CUDA device is available|no CUDA support"):
        _core.person_mask(seg, g, device="cuda")
    # ... while the default path (what the estimates use) runs on the CPU kernels.
    assert _core.part_segmentation(seg, parts, g).shape == (48, 64)
    assert ps.build_info()["postprocess_device"] == "cpu"


def test_bad_device_name() -> None:
    with pytest.raises(ValueError, match="device must be 'cpu' or 'cuda', got 'gpu'"):
        _core.person_mask(np.zeros((23, 17, 1), np.float32), ps.compute_geometry(4, 4), device="gpu")


@pytest.mark.cuda
@pytest.mark.parametrize(("H", "W", "h", "w"), SHAPES)
@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("threshold", [0.3, 0.5])
def test_cuda_equals_cpu_on_random_logits(H: int, W: int, h: int, w: int, flip: bool, threshold: float) -> None:
    rng = np.random.default_rng(H * 31 + W + h)
    seg = rng.normal(0, 3, (h, w, 1)).astype(np.float32)
    parts = rng.normal(0, 2, (h, w, 24)).astype(np.float32)
    g = ps.compute_geometry(H, W)
    kwargs = dict(segmentation_threshold=threshold, flip_horizontal=flip)
    np.testing.assert_array_equal(
        _core.person_mask(seg, g, device="cuda", **kwargs), _core.person_mask(seg, g, **kwargs)
    )
    np.testing.assert_array_equal(
        _core.part_segmentation(seg, parts, g, device="cuda", **kwargs),
        _core.part_segmentation(seg, parts, g, **kwargs),
    )


@pytest.mark.cuda
def test_cuda_equals_cpu_on_golden_cases(weights_dir: Path, data_dir: Path, golden_dir: Path) -> None:
    pytest.importorskip("tensorflow", reason="the network needs TensorFlow (the GPU machine has none)")
    cases = json.loads((golden_dir / "index.json").read_text())["cases"][::10]
    nets: dict[float, ps.PersonSegmentation] = {}
    for case in cases:
        net = nets.setdefault(case["multiplier"], ps.load(case["multiplier"], weights=weights_dir))
        logits = net.estimate_logits(data_dir / case["image"], case["flip"], case["output_stride"])
        for fn in (ps.person_mask_from_logits, ps.part_segmentation_from_logits):
            np.testing.assert_array_equal(fn(logits, case["threshold"], device="cuda"), fn(logits, case["threshold"]))


@pytest.mark.cuda
def test_gpu_resident_logits_go_through_dlpack_to_the_cuda_kernels() -> None:
    tf = pytest.importorskip("tensorflow")
    if not tf.config.list_physical_devices("GPU"):
        pytest.skip("TensorFlow sees no GPU (a CPU-only TensorFlow build)")
    rng = np.random.default_rng(2)
    values = rng.normal(0, 2, (23, 17, 25)).astype(np.float32)
    with tf.device("/GPU:0"):
        logits = tf.constant(values) * 1.0
    assert "GPU" in logits.device
    g = ps.compute_geometry(480, 640)
    got = _core.part_segmentation_dlpack(tf.experimental.dlpack.to_dlpack(logits), g)
    np.testing.assert_array_equal(got, _core.part_segmentation(values[..., :1], values[..., 1:], g))


@pytest.mark.cuda
@pytest.mark.parametrize(("H", "W", "h", "w"), SHAPES)
@pytest.mark.parametrize("flip", [False, True])
def test_cuda_probability_equals_the_cpu_reference(H: int, W: int, h: int, w: int, flip: bool) -> None:
    """The CUDA probability kernel (direct::probability_at, shared with the host) gives the CPU
    kernels' probability bit for bit, and the mask beside it is the CPU mask (issue 12)."""
    rng = np.random.default_rng(H * 7 + W)
    seg = rng.normal(0, 3, (h, w, 1)).astype(np.float32)
    parts = rng.normal(0, 2, (h, w, 24)).astype(np.float32)
    g = ps.compute_geometry(H, W)
    mask_cpu, p_cpu = _core.person_probability(seg, g, flip_horizontal=flip)
    mask_gpu, p_gpu = _core.person_probability(seg, g, flip_horizontal=flip, device="cuda")
    np.testing.assert_array_equal(p_gpu, p_cpu)
    np.testing.assert_array_equal(mask_gpu, mask_cpu)
    parts_cpu, q_cpu = _core.part_segmentation_with_probability(seg, parts, g, flip_horizontal=flip)
    parts_gpu, q_gpu = _core.part_segmentation_with_probability(seg, parts, g, flip_horizontal=flip, device="cuda")
    np.testing.assert_array_equal(parts_gpu, parts_cpu)
    np.testing.assert_array_equal(q_gpu, q_cpu)
