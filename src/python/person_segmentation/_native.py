"""The native core's own public face: the resize/pad geometry and what the core was built with."""

from __future__ import annotations

from person_segmentation import _checks, _core

#: Resize-and-pad geometry of an image (native type); see :func:`compute_geometry`.
ResizePadGeometry = _core.ResizePadGeometry


def compute_geometry(image_height: int, image_width: int) -> ResizePadGeometry:
    """How an image of that size is resized (keeping aspect) and padded to 353 x 257.

    Raises:
        TypeError: a size is not an integer (bools are refused too).
        ValueError: a size is < 1 or > 65536 (the native core's limit on any side).
    """
    height = _checks.check_size_side(image_height, "image_height")
    width = _checks.check_size_side(image_width, "image_width")
    return _core.compute_geometry(height, width)


def build_info() -> dict[str, object]:
    """What the native core was built with and what it can use here.

    Returns:
        ``version``, ``summary`` (compiler, threads, CUDA), ``cpu_threads``, ``cuda_compiled``
        (the CUDA kernels are in this build), ``cuda_devices`` (usable CUDA devices, 0 without
        a driver or GPU), ``cuda_device_available`` and ``postprocess_device``: where the
        native post-processing of GPU-resident logits runs ("cuda"), or "cpu" when the CUDA
        kernels cannot run here (everything then falls back to the CPU kernels);
        ``cuda_runtime_version`` (the CUDA runtime this build links, e.g. "13.0"; None without
        CUDA support), ``cuda_driver_version`` (the installed driver's CUDA version, e.g.
        "12.8"; None without a driver) and ``cuda_unavailable_reason`` (None when a device is
        usable, else why none is, e.g. a driver older than the runtime needs).
    """
    devices = _core.cuda_device_count()
    runtime = _core.cuda_runtime_info()
    return {
        "version": _core.__version__,
        "summary": _core.build_summary(),
        "cpu_threads": _core.default_num_threads(),
        "cuda_compiled": _core.cuda_compiled(),
        "cuda_devices": devices,
        "cuda_device_available": devices > 0,
        "postprocess_device": "cuda" if devices > 0 else "cpu",
        "cuda_runtime_version": _cuda_version(runtime["runtime_version"]),
        "cuda_driver_version": _cuda_version(runtime["driver_version"]),
        "cuda_unavailable_reason": runtime["unavailable_reason"] or None,
    }


def _cuda_version(number: int) -> str | None:
    """CUDA's 1000 * major + 10 * minor as "major.minor"; None for 0 (none)."""
    return f"{number // 1000}.{number % 1000 // 10}" if number > 0 else None
