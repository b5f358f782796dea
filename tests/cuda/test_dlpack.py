"""The DLPack hand-off from TensorFlow to _core, for real: with CPU tensors (made under
``tf.device("/CPU:0")``: TensorFlow places eager tensors on GPU:0 when it sees one), and their GPU
twins where TensorFlow sees a GPU and the CUDA kernels can run."""

from __future__ import annotations

import numpy as np
import pytest

import person_segmentation as ps
from person_segmentation import _core

tf = pytest.importorskip("tensorflow", reason="TensorFlow is not installed (the GPU machine has none)")


def _gpu_reason() -> str | None:
    if not tf.config.list_physical_devices("GPU"):
        return "TensorFlow sees no GPU"
    if _core.cuda_device_count() == 0:
        return "the CUDA kernels cannot run here"
    return None


@pytest.fixture(scope="module", params=["CPU", pytest.param("GPU", marks=pytest.mark.cuda)])
def logits(request: pytest.FixtureRequest) -> tf.Tensor:
    if request.param == "GPU" and _gpu_reason():
        pytest.skip(_gpu_reason() or "")
    rng = np.random.default_rng(1)
    with tf.device(f"/{request.param}:0"):
        tensor = tf.constant(rng.normal(0, 2.5, (23, 17, 25)).astype(np.float32))
    assert request.param in tensor.device
    return tensor


@pytest.mark.parametrize(("H", "W"), [(480, 640), (1, 1), (720, 1280), (333, 77)])
@pytest.mark.parametrize("flip", [False, True])
def test_dlpack_equals_the_numpy_path(logits: tf.Tensor, H: int, W: int, flip: bool) -> None:
    g = ps.compute_geometry(H, W)
    values = logits.numpy()
    mask = _core.person_mask_dlpack(tf.experimental.dlpack.to_dlpack(logits), g, flip_horizontal=flip)
    parts = _core.part_segmentation_dlpack(tf.experimental.dlpack.to_dlpack(logits), g, flip_horizontal=flip)
    np.testing.assert_array_equal(mask, _core.person_mask(values[..., :1], g, flip_horizontal=flip))
    np.testing.assert_array_equal(
        parts, _core.part_segmentation(values[..., :1], values[..., 1:], g, flip_horizontal=flip)
    )
    assert 0 < mask.mean() < 1 or H * W == 1


def test_a_capsule_is_consumed_once(logits: tf.Tensor) -> None:
    capsule = tf.experimental.dlpack.to_dlpack(logits)
    g = ps.compute_geometry(10, 10)
    _core.person_mask_dlpack(capsule, g)
    with pytest.raises(ValueError, match="unused DLPack capsule.*'used_dltensor'"):
        _core.person_mask_dlpack(capsule, g)


def test_rejected_capsules_stay_usable(logits: tf.Tensor) -> None:
    g = ps.compute_geometry(10, 10)
    doubles = tf.experimental.dlpack.to_dlpack(tf.cast(logits, tf.float64))
    with pytest.raises(TypeError, match="logits must be float32, got DLPack dtype code 2 with 64 bits"):
        _core.person_mask_dlpack(doubles, g)
    flat = tf.experimental.dlpack.to_dlpack(tf.reshape(logits, [-1]))
    with pytest.raises(ValueError, match=r"shape \(h, w, channels\), got 1 dimensions"):
        _core.part_segmentation_dlpack(flat, g)
    # Still owned by TensorFlow: it can be turned back into a tensor.
    back = tf.experimental.dlpack.from_dlpack(flat)
    assert back.shape == (23 * 17 * 25,)


def test_part_map_needs_part_channels() -> None:
    with tf.device("/CPU:0"):
        only_segment = tf.experimental.dlpack.to_dlpack(tf.zeros((23, 17, 1)))
    with pytest.raises(ValueError, match="need 1 \\+ parts channels, got 1"):
        _core.part_segmentation_dlpack(only_segment, ps.compute_geometry(10, 10))


def test_not_a_capsule() -> None:
    with pytest.raises(TypeError):
        _core.person_mask_dlpack(np.zeros((23, 17, 1), np.float32), ps.compute_geometry(4, 4))  # type: ignore[arg-type]


def test_estimates_use_the_dlpack_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both estimates hand TensorFlow's logits tensor over through DLPack (covered end to end
    by the golden tests; here: the calls really happen)."""
    from person_segmentation import _postprocess

    seen: list[str] = []
    real = tf.experimental.dlpack.to_dlpack

    def spy(tensor: tf.Tensor) -> object:
        seen.append(tensor.device)
        return real(tensor)

    monkeypatch.setattr(tf.experimental.dlpack, "to_dlpack", spy)
    values = np.random.default_rng(3).normal(0, 2, (23, 17, 25)).astype(np.float32)
    g = ps.compute_geometry(30, 40)
    with tf.device("/CPU:0"):
        tensor = tf.constant(values)
    _postprocess.run(tensor, g, parts=True, threshold=0.5, flip=False)
    _postprocess.run(tensor, g, parts=False, threshold=0.5, flip=False)
    assert len(seen) == 2 and all("CPU" in d for d in seen)
