"""Post-processing of the low-resolution logits (REFERENCE.md sections 3-4): one dispatch.

:func:`run` is the only place that decides who post-processes: the fused C++ kernels of
``_core`` (``method="native"``, the default, the hot path; on the CPU, or with the CUDA
kernels for GPU-resident tensors and ``device="cuda"``) or the TensorFlow reference
(``method="tf"``, :mod:`person_segmentation._postprocess_tf`). It does not import TensorFlow
unless the logits are a TensorFlow tensor or the TF reference is asked for.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from person_segmentation import _core


def _is_tf_tensor(value: object) -> bool:
    tf = sys.modules.get("tensorflow")  # not imported: it cannot be a TensorFlow tensor
    return tf is not None and isinstance(value, tf.Tensor)


def _needs_host_copy(logits: Any) -> bool:
    """GPU-resident logits that the CUDA kernels cannot take here (no CUDA build or no device):
    they are copied to the host and run on the CPU kernels instead."""
    return "GPU" in (logits.device or "") and _core.cuda_device_count() == 0


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
) -> np.ndarray:
    """The person mask, or (``parts``) the part map, of checked logits.

    Args:
        logits: float32 (h, w, C), the segment logits in channel 0 and (with ``parts``) the
            24 part logits in channels 1..24: a numpy array (any strides), or a TensorFlow
            tensor (the TF engine's output, handed to the native kernels through DLPack
            without a copy: on a GPU the CUDA kernels run there and only the result comes back).
        geometry: how the image was resized and padded.
        parts: part ids instead of a mask.
        threshold: a pixel is a person where its score is > this.
        flip: mirror the result (the image was mirrored before the network).
        num_threads: CPU threads of the native kernels (0 = one per hardware thread).
        method: ``"native"`` or ``"tf"``.
        device: for numpy logits and ``"native"``: ``"cpu"``, or ``"cuda"`` (uploaded).
    Returns:
        uint8 (H, W) 0/1, or int32 (H, W) part ids with -1 = background.
    """
    if method == "tf":
        from person_segmentation import _postprocess_tf

        if parts:
            return _postprocess_tf.part_segmentation(logits[..., :1], logits[..., 1:], geometry, threshold, flip)
        return _postprocess_tf.person_mask(logits[..., :1], geometry, threshold, flip)
    if _is_tf_tensor(logits):
        if _needs_host_copy(logits):
            logits = logits.numpy()
        else:
            import tensorflow as tf

            capsule = tf.experimental.dlpack.to_dlpack(logits)
            if parts:
                return _core.part_segmentation_dlpack(
                    capsule, geometry, segmentation_threshold=threshold, flip_horizontal=flip, num_threads=num_threads
                )
            return _core.person_mask_dlpack(
                capsule, geometry, segmentation_threshold=threshold, flip_horizontal=flip, num_threads=num_threads
            )
    if parts:
        return _core.part_segmentation(
            logits[..., :1],
            logits[..., 1:],
            geometry,
            segmentation_threshold=threshold,
            flip_horizontal=flip,
            num_threads=num_threads,
            device=device,
        )
    return _core.person_mask(
        logits[..., :1],
        geometry,
        segmentation_threshold=threshold,
        flip_horizontal=flip,
        num_threads=num_threads,
        device=device,
    )
