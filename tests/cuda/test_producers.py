"""Logits from any DLPack producer (issue 14): numpy and TensorFlow here (CPU producers), and
PyTorch, CuPy and JAX where they and a CUDA device are present (skipped with the reason
elsewhere). The post-processing functions take them without TensorFlow, read CUDA tensors in
place on the device that holds them (after the producer's pending work: ``stream=``), and can
leave the result on the device (:class:`DLPackResult`)."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
import pytest

import person_segmentation as ps
from person_segmentation import _core
from person_segmentation._postprocess import DLPackResult

GEOMETRY = ps.compute_geometry(48, 64)


def _values(seed: int = 0, shape: tuple[int, int, int] = (23, 17, 25)) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 2.5, shape).astype(np.float32)


def _expected(values: np.ndarray, parts: bool, g: ps.ResizePadGeometry = GEOMETRY, flip: bool = False) -> np.ndarray:
    if parts:
        return _core.part_segmentation(values[..., :1], values[..., 1:], g, flip_horizontal=flip)
    return _core.person_mask(values[..., :1], g, flip_horizontal=flip)


class Producer:
    """A DLPack producer that is nothing but the protocol (not a numpy array): it records the
    stream each ``__dlpack__`` call names."""

    def __init__(self, array: Any, device: tuple[int, int] = (1, 0)) -> None:
        self.array = array
        self.device = device
        self.streams: list[object] = []

    def __dlpack__(self, *, stream: object = None, **kwargs: object) -> object:
        self.streams.append(stream)
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self.device


def _fn(parts: bool) -> Any:
    return ps.part_segmentation_from_logits if parts else ps.person_mask_from_logits


# -- CPU producers: run everywhere ---------------------------------------------------------------
@pytest.mark.parametrize("parts", [False, True])
@pytest.mark.parametrize("flip", [False, True])
def test_a_bare_dlpack_producer_gives_the_numpy_result(parts: bool, flip: bool) -> None:
    values = _values(1)
    producer = Producer(values)
    got = _fn(parts)(producer, geometry=GEOMETRY, flip_horizontal=flip)
    np.testing.assert_array_equal(got, _expected(values, parts, flip=flip))
    assert producer.streams == [None]  # host memory: no stream named


@pytest.mark.parametrize("parts", [False, True])
def test_a_numpy_array_with_a_geometry_is_taken_as_logits(parts: bool) -> None:
    values = _values(2)
    np.testing.assert_array_equal(_fn(parts)(values, geometry=GEOMETRY), _expected(values, parts))


@pytest.mark.parametrize("parts", [False, True])
def test_result_on_device_hands_the_result_over_once(parts: bool) -> None:
    values = _values(3)
    result = _fn(parts)(Producer(values), geometry=GEOMETRY, result_on_device=True)
    assert isinstance(result, DLPackResult)
    assert result.device == "cpu" and result.__dlpack_device__() == (1, 0)  # the CPU kernels ran
    assert result.shape == (48, 64) and result.dtype == ("int32" if parts else "uint8")
    got = np.from_dlpack(result)
    assert got.dtype == np.dtype(result.dtype)
    np.testing.assert_array_equal(got, _expected(values, parts))
    with pytest.raises(BufferError, match="already handed over"):
        np.from_dlpack(result)


def test_result_on_device_of_a_logits_tuple_and_of_read_only_arrays() -> None:
    values = _values(4)
    logits = ps.Logits(values[..., :1], values[..., 1:], GEOMETRY, False)
    np.testing.assert_array_equal(
        np.from_dlpack(ps.part_segmentation_from_logits(logits, result_on_device=True)), _expected(values, True)
    )
    read_only = values.copy()
    read_only.flags.writeable = False
    mask = ps.person_mask_from_logits(read_only, geometry=GEOMETRY, result_on_device=True)
    np.testing.assert_array_equal(np.from_dlpack(mask), _expected(values, False))


def test_an_unconsumed_result_is_freed_with_it() -> None:
    import gc

    for _ in range(200):  # 200 x 8 MB: freed each time, or the process would grow by 1.6 GB
        ps.part_segmentation_from_logits(
            _values(5), geometry=ps.compute_geometry(1080, 1920), result_on_device=True
        ).__dlpack_device__()
    gc.collect()


def test_a_result_refuses_a_copy_or_another_device() -> None:
    result = ps.person_mask_from_logits(_values(6), geometry=GEOMETRY, result_on_device=True)
    with pytest.raises(BufferError, match="not \\(2, 0\\)"):
        result.__dlpack__(dl_device=(2, 0))
    with pytest.raises(BufferError, match="copy=True"):
        result.__dlpack__(copy=True)
    assert np.from_dlpack(result).shape == (48, 64)


def test_tensorflow_cpu_tensors_as_producers() -> None:
    tf = pytest.importorskip("tensorflow")
    values = _values(7)
    with tf.device("/CPU:0"):
        tensor = tf.constant(values)
    assert "CPU" in tensor.device
    np.testing.assert_array_equal(ps.part_segmentation_from_logits(tensor, geometry=GEOMETRY), _expected(values, True))
    np.testing.assert_array_equal(
        np.from_dlpack(ps.person_mask_from_logits(tensor, geometry=GEOMETRY, result_on_device=True)),
        _expected(values, False),
    )


# -- the arguments: clear exceptions naming them ------------------------------------------------
def test_bad_logits_and_geometry() -> None:
    with pytest.raises(TypeError, match="logits must be a person_segmentation.Logits or a DLPack producer.*got list"):
        ps.person_mask_from_logits([[0.0]], geometry=GEOMETRY)
    with pytest.raises(TypeError, match="geometry must be a person_segmentation.ResizePadGeometry.*got NoneType"):
        ps.person_mask_from_logits(_values(), geometry=None)
    logits = ps.Logits(_values()[..., :1], None, GEOMETRY, False)
    with pytest.raises(ValueError, match="geometry must be None when logits is a Logits"):
        ps.person_mask_from_logits(logits, geometry=GEOMETRY)
    with pytest.raises(TypeError, match="result_on_device must be a bool, got int 1"):
        ps.person_mask_from_logits(logits, result_on_device=1)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="flip_horizontal must be a bool"):
        ps.person_mask_from_logits(_values(), geometry=GEOMETRY, flip_horizontal="no")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="result_on_device=True needs postprocess='native'"):
        ps.person_mask_from_logits(logits, postprocess="tf", result_on_device=True)


def test_logits_in_other_memory_are_refused() -> None:
    with pytest.raises(ValueError, match="logits must be in CPU or CUDA memory .* got DLPack device type 4"):
        ps.person_mask_from_logits(Producer(_values(), device=(4, 0)), geometry=GEOMETRY)
    with pytest.raises(TypeError, match=r"__dlpack_device__\(\) must return \(device_type, device_id\)"):
        ps.person_mask_from_logits(Producer(_values(), device="cpu"), geometry=GEOMETRY)  # type: ignore[arg-type]


def _misaligned(values: np.ndarray) -> np.ndarray:
    raw = np.zeros(values.size * 4 + 1, np.uint8)
    view = raw[1:].view(np.float32).reshape(values.shape)
    view[...] = values
    assert not view.flags.aligned
    return view


@pytest.mark.parametrize("parts", [False, True])
def test_misaligned_logits_are_refused(parts: bool) -> None:
    """A float pointer that is not 4-byte aligned: undefined on the CPU, a sticky error that ends
    the CUDA context on a GPU (issue 14, item 8): a ValueError before any kernel runs."""
    view = _misaligned(_values(8))
    with pytest.raises(ValueError, match=r"segment_logits.data must be aligned to 4 bytes \(float32\)"):
        _fn(parts)(view, geometry=GEOMETRY)
    with pytest.raises(ValueError, match=r"segment_logits.data must be aligned to 4 bytes"):
        _core.person_mask(view[..., :1], GEOMETRY)


# -- CUDA producers without a usable device: fall back, or say why not --------------------------
@pytest.mark.skipif(_core.cuda_device_count() > 0, reason="this machine has a usable CUDA device")
def test_cuda_logits_without_a_device() -> None:
    values = _values(9)

    class CudaOnly(Producer):
        """Says it is on CUDA device 0 and can only be copied to the host (as a real one would)."""

        def __dlpack__(self, *, stream: object = None, **kwargs: object) -> object:
            self.streams.append(stream)
            if kwargs.get("dl_device") != (1, 0) or kwargs.get("copy") is not True:
                raise BufferError("only a host copy is possible here")
            return values.copy().__dlpack__()

    producer = CudaOnly(values, device=(2, 0))
    # The CPU kernels run on a host copy the producer makes.
    np.testing.assert_array_equal(
        ps.part_segmentation_from_logits(producer, geometry=GEOMETRY), _expected(values, True)
    )
    reason = ps.build_info()["cuda_unavailable_reason"]
    assert isinstance(reason, str) and reason
    with pytest.raises(RuntimeError, match="result_on_device=True: the logits are in CUDA memory but"):
        ps.person_mask_from_logits(producer, geometry=GEOMETRY, result_on_device=True)

    class NoHostCopy(Producer):
        def __dlpack__(self, *, stream: object = None, **kwargs: object) -> object:
            raise BufferError("cannot copy")

    with pytest.raises(RuntimeError, match="the CUDA kernels cannot run here .* copy them to the host first"):
        ps.person_mask_from_logits(NoHostCopy(values, device=(2, 0)), geometry=GEOMETRY)


def test_build_info_reports_the_cuda_runtime_and_driver() -> None:
    """Item 1: the runtime and driver versions and, when no device is usable, why."""
    info = ps.build_info()
    runtime = info["cuda_runtime_version"]
    assert (runtime is not None) is info["cuda_compiled"]
    if runtime is not None:
        assert isinstance(runtime, str) and runtime.split(".")[0].isdigit()
    driver = info["cuda_driver_version"]
    assert driver is None or (isinstance(driver, str) and "." in driver)
    assert (info["cuda_unavailable_reason"] is None) is (info["cuda_devices"] > 0)  # type: ignore[operator]
    if info["cuda_compiled"] and driver is None:
        assert "no CUDA driver" in str(info["cuda_unavailable_reason"])


# -- real CUDA producers (the GPU machine: PyTorch, CuPy, JAX) ----------------------------------
def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        pytest.skip(f"{name} is not installed here")


def _torch_cuda() -> Any:
    torch = _module("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch sees no CUDA device")
    return torch


@pytest.mark.cuda
@pytest.mark.parametrize("parts", [False, True])
@pytest.mark.parametrize(("H", "W"), [(480, 640), (1080, 1920), (1, 1), (4000, 3000)])
def test_torch_cuda_tensors(parts: bool, H: int, W: int) -> None:
    torch = _torch_cuda()
    values = _values(10)
    g = ps.compute_geometry(H, W)
    tensor = torch.from_numpy(values).cuda()
    np.testing.assert_array_equal(_fn(parts)(tensor, geometry=g), _expected(values, parts, g))
    kept = _fn(parts)(tensor, geometry=g, result_on_device=True)
    assert kept.device == f"cuda:{tensor.device.index}"
    on_gpu = torch.from_dlpack(kept)
    assert on_gpu.is_cuda and tuple(on_gpu.shape) == (H, W)
    np.testing.assert_array_equal(on_gpu.cpu().numpy(), _expected(values, parts, g))


@pytest.mark.cuda
def test_torch_strided_and_every_stride_view() -> None:
    torch = _torch_cuda()
    values = _values(11, (30, 40, 25))
    big = torch.from_numpy(values).cuda()
    for view in (big[::2, ::3], big.permute(1, 0, 2).contiguous().permute(1, 0, 2), big[3:26, 5:22]):
        host = view.cpu().numpy()
        np.testing.assert_array_equal(ps.part_segmentation_from_logits(view, geometry=GEOMETRY), _expected(host, True))


@pytest.mark.cuda
def test_torch_pending_work_is_ordered_before_the_kernels() -> None:
    """The producer's kernel is still running when we are called: the stream= hand-off makes
    the CUDA kernels wait for it (without it they would read the zeros)."""
    torch = _torch_cuda()
    values = _values(12)
    source = torch.from_numpy(values).cuda()
    for stream in (torch.cuda.current_stream(), torch.cuda.Stream()):
        with torch.cuda.stream(stream):
            logits = torch.zeros_like(source)
            torch.cuda._sleep(200_000_000)  # ~0.1 s of GPU time on this stream
            logits.copy_(source)
            got = ps.part_segmentation_from_logits(logits, geometry=GEOMETRY)
        np.testing.assert_array_equal(got, _expected(values, True))


@pytest.mark.cuda
def test_torch_device_is_taken_from_the_pointer() -> None:
    """Item 2: the DLPack device_id of the producer is not trusted; a wrong one still runs on
    the device that holds the memory."""
    torch = _torch_cuda()
    values = _values(13)
    tensor = torch.from_numpy(values).cuda()

    class WrongId:
        def __dlpack__(self, *, stream: object = None, **kwargs: object) -> object:
            return tensor.__dlpack__(stream=stream)

        def __dlpack_device__(self) -> tuple[int, int]:
            return (2, 7)

    np.testing.assert_array_equal(
        ps.part_segmentation_from_logits(WrongId(), geometry=GEOMETRY), _expected(values, True)
    )


@pytest.mark.cuda
def test_cupy_arrays_including_a_misaligned_one() -> None:
    cupy = _module("cupy")
    values = _values(14)
    array = cupy.asarray(values)
    np.testing.assert_array_equal(ps.part_segmentation_from_logits(array, geometry=GEOMETRY), _expected(values, True))
    kept = ps.person_mask_from_logits(array, geometry=GEOMETRY, result_on_device=True)
    np.testing.assert_array_equal(cupy.asnumpy(cupy.from_dlpack(kept)), _expected(values, False))
    raw = cupy.zeros(values.size * 4 + 4, cupy.uint8)
    misaligned = cupy.ndarray(values.shape, cupy.float32, memptr=raw.data + 1)
    with pytest.raises(ValueError, match="must be aligned to 4 bytes"):
        ps.part_segmentation_from_logits(misaligned, geometry=GEOMETRY)
    # The context survived: the next call works.
    np.testing.assert_array_equal(ps.person_mask_from_logits(array, geometry=GEOMETRY), _expected(values, False))


@pytest.mark.cuda
def test_jax_arrays() -> None:
    jax = _module("jax")
    if not any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("JAX sees no GPU")
    values = _values(15)
    array = jax.device_put(values, jax.devices("gpu")[0])
    np.testing.assert_array_equal(ps.part_segmentation_from_logits(array, geometry=GEOMETRY), _expected(values, True))


def test_postprocessing_runs_without_tensorflow() -> None:
    """_core and the post-processing functions import and run where TensorFlow cannot be
    imported (the GPU machine has none)."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['tensorflow'] = None\n"  # any import of it raises ImportError
        "import numpy as np, person_segmentation as ps\n"
        "from person_segmentation import _core\n"
        "v = np.random.default_rng(0).normal(0, 2, (23, 17, 25)).astype(np.float32)\n"
        "g = ps.compute_geometry(48, 64)\n"
        "class P:\n"
        "    def __dlpack__(self, **k): return v.__dlpack__()\n"
        "    def __dlpack_device__(self): return (1, 0)\n"
        "a = ps.part_segmentation_from_logits(P(), geometry=g)\n"
        "b = np.from_dlpack(ps.person_mask_from_logits(v, geometry=g, result_on_device=True))\n"
        "assert (a == _core.part_segmentation(v[..., :1], v[..., 1:], g)).all()\n"
        "assert (b == _core.person_mask(v[..., :1], g)).all()\n"
        "print(ps.build_info()['cuda_runtime_version'], 'tensorflow' in sys.modules and sys.modules['tensorflow'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
