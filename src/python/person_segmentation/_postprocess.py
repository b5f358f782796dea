"""Post-processing of the low-resolution logits (REFERENCE.md sections 3-4): one dispatch.

:func:`run` is the only place that decides who post-processes: the fused C++ kernels of
``_core`` (``method="native"``, the default, the hot path; on the CPU, or with the CUDA
kernels for logits in CUDA memory and ``device="cuda"``) or the TensorFlow reference
(``method="tf"``, :mod:`person_segmentation._postprocess_tf`). Logits are a numpy array, or
any DLPack producer (PyTorch, CuPy, JAX, TensorFlow: ``__dlpack__`` / ``__dlpack_device__``),
handed to the kernels without a copy. A CUDA producer's ``__dlpack__`` is called with
``stream=1`` (the legacy default stream, which the kernels then run on), so that its pending
work is ordered before the kernels without synchronising the device; TensorFlow, whose DLPack
export names no stream, gets a device synchronisation instead. Neither numpy's nor
TensorFlow's import is needed by this module's callers unless they use them.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np

from person_segmentation import _checks, _core
from person_segmentation._constants import DLPACK_CUDA, DLPACK_CUDA_MANAGED, DLPACK_CUDA_STREAM
from person_segmentation._image import is_tf_tensor


class DLPackResult:
    """A mask or part map left where the kernels computed it (``result_on_device=True``): on
    the CUDA device of the logits (or in host memory after the CPU kernels), for any DLPack
    consumer: ``torch.from_dlpack(r)``, ``cupy.from_dlpack(r)``, ``jax.dlpack.from_dlpack(r)``,
    ``np.from_dlpack(r)`` for host memory. The kernels have finished when it is returned, so a
    consumer may use it on any stream. It hands its memory over once; unconsumed, it is freed
    with this object."""

    __slots__ = ("_capsule", "_device", "dtype", "shape")

    def __init__(self, capsule: object, device: tuple[int, int], shape: tuple[int, int], dtype: str) -> None:
        self._capsule: object | None = capsule
        self._device = (int(device[0]), int(device[1]))
        self.shape = (int(shape[0]), int(shape[1]))
        #: "uint8" (mask) or "int32" (part ids, -1 = background).
        self.dtype = dtype

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"cuda:N"`` (N: the CUDA ordinal)."""
        return f"cuda:{self._device[1]}" if self._device[0] == DLPACK_CUDA else "cpu"

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._device

    def __dlpack__(
        self,
        *,
        stream: int | None = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: bool | None = None,
    ) -> object:
        """The DLPack capsule (legacy, unversioned), once. ``stream`` needs no ordering: the
        kernels are done. A copy or another device is not offered (BufferError)."""
        del stream, max_version  # finished work; a legacy capsule is valid for every max_version
        if dl_device is not None and tuple(dl_device) != self._device:
            raise BufferError(f"this result is on DLPack device {self._device}, not {tuple(dl_device)}")
        if copy:
            raise BufferError("DLPackResult hands its memory over without a copy (copy=True is not supported)")
        if self._capsule is None:
            raise BufferError("this result was already handed over through DLPack (it can be consumed once)")
        capsule, self._capsule = self._capsule, None
        return capsule

    def __repr__(self) -> str:
        return f"DLPackResult(shape={self.shape}, dtype={self.dtype}, device={self.device!r})"


def _unavailable() -> str:
    reason: str = _core.cuda_runtime_info()["unavailable_reason"]
    return reason or "no usable CUDA device"


def _to_host(logits: Any) -> np.ndarray:
    """CUDA logits as a host array, for the CPU kernels where the CUDA ones cannot run."""
    if is_tf_tensor(logits):
        values: np.ndarray = logits.numpy()
        return values
    try:
        return np.from_dlpack(logits, device="cpu", copy=True)
    except (BufferError, TypeError, ValueError, RuntimeError) as error:
        raise RuntimeError(
            f"logits are in CUDA memory but the CUDA kernels cannot run here ({_unavailable()}), and the producer "
            f"cannot copy them to the host through DLPack ({error}); copy them to the host first"
        ) from error


def _reference_logits(logits: Any, parts: bool) -> Any:
    """Logits for the TensorFlow reference: a numpy array or TensorFlow tensor as given, any
    other DLPack producer as numpy; checked as the native core checks them (so both methods
    refuse the same logits with the same kind of error, not with a TensorFlow error)."""
    if not (isinstance(logits, np.ndarray) or is_tf_tensor(logits)):
        logits = np.from_dlpack(logits)
    if str(logits.dtype) != "float32" and getattr(logits.dtype, "name", None) != "float32":
        raise TypeError(f"logits must be a float32 array, got dtype {logits.dtype}")
    shape = tuple(int(d) for d in logits.shape)
    channels = "1 + parts" if parts else "1 or more"
    if len(shape) != 3 or shape[0] < 1 or shape[1] < 1 or shape[2] < (2 if parts else 1):
        raise ValueError(f"logits must have shape (h, w, {channels}) with h, w >= 1, got shape {shape}")
    return logits


@overload
def run(
    logits: Any,
    geometry: _core.ResizePadGeometry,
    *,
    parts: bool,
    threshold: float,
    flip: bool,
    num_threads: int = ...,
    method: str = ...,
    device: str = ...,
    result_on_device: Literal[False] = ...,
) -> np.ndarray: ...
@overload
def run(
    logits: Any,
    geometry: _core.ResizePadGeometry,
    *,
    parts: bool,
    threshold: float,
    flip: bool,
    num_threads: int = ...,
    method: str = ...,
    device: str = ...,
    result_on_device: bool,
) -> np.ndarray | DLPackResult: ...
def run(
    logits: Any,
    geometry: _core.ResizePadGeometry,
    *,
    parts: bool,
    threshold: float,
    flip: bool,
    num_threads: int = 0,
    method: str = "native",
    device: str = "cpu",
    result_on_device: bool = False,
) -> np.ndarray | DLPackResult:
    """The person mask, or (``parts``) the part map, of checked logits.

    Args:
        logits: float32 (h, w, C), the segment logits in channel 0 and (with ``parts``) the
            24 part logits in channels 1..24: a numpy array (any strides), or any DLPack
            producer (a TensorFlow, PyTorch, CuPy or JAX tensor; the TF engine's output),
            handed to the native kernels through DLPack without a copy: in CUDA memory the
            CUDA kernels run there and only the result comes back (or nothing, with
            ``result_on_device``).
        geometry: how the image was resized and padded.
        parts: part ids instead of a mask.
        threshold: a pixel is a person where its score is > this.
        flip: mirror the result (the image was mirrored before the network).
        num_threads: CPU threads of the native kernels (0 = one per hardware thread).
        method: ``"native"`` or ``"tf"``.
        device: for logits in host memory and ``"native"``: ``"cpu"``, or ``"cuda"`` (uploaded).
        result_on_device: return a :class:`DLPackResult` left where the kernels ran (CUDA
            memory after the CUDA kernels) instead of a numpy array.
    Returns:
        uint8 (H, W) 0/1, or int32 (H, W) part ids with -1 = background.
    """
    if method == "tf":
        from person_segmentation import _postprocess_tf

        if result_on_device:
            raise ValueError("result_on_device=True needs postprocess='native', got postprocess='tf'")
        logits = _reference_logits(logits, parts)
        if parts:
            return _postprocess_tf.part_segmentation(logits[..., :1], logits[..., 1:], geometry, threshold, flip)
        return _postprocess_tf.person_mask(logits[..., :1], geometry, threshold, flip)
    options: dict[str, Any] = dict(segmentation_threshold=threshold, flip_horizontal=flip, num_threads=num_threads)
    if not isinstance(logits, np.ndarray):
        if is_tf_tensor(logits):  # (older TensorFlow tensors have no __dlpack_device__)
            on_cuda = "GPU" in (logits.device or "")
        else:
            kind, _ = _checks.check_dlpack_device(logits.__dlpack_device__(), "logits")
            on_cuda = kind in (DLPACK_CUDA, DLPACK_CUDA_MANAGED)
        if on_cuda and _core.cuda_device_count() == 0:
            if result_on_device:
                raise RuntimeError(f"result_on_device=True: the logits are in CUDA memory but {_unavailable()}")
            logits = _to_host(logits)
        else:
            if is_tf_tensor(logits):
                import tensorflow as tf

                # TensorFlow's export names no stream: the kernels synchronise the device first.
                capsule = tf.experimental.dlpack.to_dlpack(logits)
                stream, ready = 0, False
            elif on_cuda:
                capsule = logits.__dlpack__(stream=DLPACK_CUDA_STREAM)
                stream, ready = DLPACK_CUDA_STREAM, True
            else:
                capsule = logits.__dlpack__()
                stream, ready = 0, False
            return _dlpack(capsule, geometry, parts, options, device, stream, ready, result_on_device)
    if result_on_device:
        try:
            capsule = logits.__dlpack__()
        except BufferError:  # read-only arrays: numpy does not export them
            capsule = np.array(logits).__dlpack__()
        return _dlpack(capsule, geometry, parts, options, device, 0, False, True)
    if parts:
        return _core.part_segmentation(logits[..., :1], logits[..., 1:], geometry, device=device, **options)
    return _core.person_mask(logits[..., :1], geometry, device=device, **options)


def _dlpack(
    capsule: object,
    geometry: _core.ResizePadGeometry,
    parts: bool,
    options: dict[str, Any],
    device: str,
    stream: int,
    ready: bool,
    result_on_device: bool,
) -> np.ndarray | DLPackResult:
    fn = _core.part_segmentation_dlpack if parts else _core.person_mask_dlpack
    out = fn(
        capsule,
        geometry,
        device=device,
        stream=stream,
        logits_ready_on_stream=ready,
        result_on_device=result_on_device,
        **options,
    )
    if isinstance(out, tuple):
        kept, where, shape = out
        return DLPackResult(kept, where, shape, "int32" if parts else "uint8")
    return out


def run_probability(
    logits: Any,
    geometry: _core.ResizePadGeometry,
    *,
    parts: bool,
    threshold: float,
    flip: bool,
    num_threads: int = 0,
    method: str = "native",
    device: str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:
    """The mask (or, with ``parts``, the part map) and the person probability of checked
    logits, computed in one pass: ``(result, probability)``, probability float32 (H, W) in
    [0, 1] with ``result`` exactly what :func:`run` returns and, for masks,
    ``mask == (probability > threshold)``.

    Arguments as for :func:`run`. Logits in CUDA memory (any DLPack producer) are copied to the
    host first (the kernels that keep the result on the device return masks only);
    ``device="cuda"`` with host logits runs the CUDA kernels.
    """
    if method == "tf":
        from person_segmentation import _postprocess_tf

        logits = _reference_logits(logits, parts)
        probability = _postprocess_tf.person_probability(logits[..., :1], geometry, flip)
        if parts:
            result = _postprocess_tf.part_segmentation(logits[..., :1], logits[..., 1:], geometry, threshold, flip)
        else:
            result = (probability > threshold).astype(np.uint8)
        return result, probability
    if not isinstance(logits, np.ndarray):
        logits = logits.numpy() if is_tf_tensor(logits) else np.from_dlpack(logits, device="cpu", copy=True)
    options: dict[str, Any] = dict(
        segmentation_threshold=threshold, flip_horizontal=flip, num_threads=num_threads, device=device
    )
    if parts:
        result, probability = _core.part_segmentation_with_probability(
            logits[..., :1], logits[..., 1:], geometry, **options
        )
    else:
        result, probability = _core.person_probability(logits[..., :1], geometry, **options)
    return result, probability
