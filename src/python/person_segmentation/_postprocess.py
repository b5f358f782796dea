"""Post-processing of the low-resolution logits (REFERENCE.md sections 3-4), two ways.

``native`` runs the fused C++ kernels of ``_core`` (the default, the hot path); ``tf`` runs
the same steps as plain TensorFlow ops, step by step as the original did. The TF version is
the reference the native code is tested against.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from person_segmentation import _core

POSTPROCESSORS = ("native", "tf")


def native_person_mask(
    segment_logits: np.ndarray,
    geometry: _core.ResizePadGeometry,
    segmentation_threshold: float,
    flip_horizontal: bool,
    num_threads: int = 0,
    device: str = "cpu",
) -> np.ndarray:
    """uint8 (H, W) 0/1 mask from float32 ``segment_logits`` (h, w, 1), via ``_core`` on
    ``device`` ("cpu" or "cuda")."""
    return _core.person_mask(
        segment_logits,
        geometry,
        segmentation_threshold=segmentation_threshold,
        flip_horizontal=flip_horizontal,
        num_threads=num_threads,
        device=device,
    )


def native_part_segmentation(
    segment_logits: np.ndarray,
    part_logits: np.ndarray,
    geometry: _core.ResizePadGeometry,
    segmentation_threshold: float,
    flip_horizontal: bool,
    num_threads: int = 0,
    device: str = "cpu",
) -> np.ndarray:
    """int32 (H, W) part ids (-1 = background) from float32 logits (h, w, 1) and (h, w, 24),
    via ``_core`` on ``device`` ("cpu" or "cuda")."""
    return _core.part_segmentation(
        segment_logits,
        part_logits,
        geometry,
        segmentation_threshold=segmentation_threshold,
        flip_horizontal=flip_horizontal,
        num_threads=num_threads,
        device=device,
    )


def _needs_host_copy(logits: tf.Tensor) -> bool:
    """GPU-resident logits that the CUDA kernels cannot take here (no CUDA build or no device):
    they are copied to the host and run on the CPU kernels instead."""
    return "GPU" in (logits.device or "") and _core.cuda_device_count() == 0


def native_person_mask_dlpack(
    logits: tf.Tensor,
    geometry: _core.ResizePadGeometry,
    segmentation_threshold: float,
    flip_horizontal: bool,
    num_threads: int = 0,
) -> np.ndarray:
    """uint8 (H, W) mask from a float32 (h, w, C) logits tensor (segment = channel 0), handed
    to ``_core`` through DLPack without a copy: on a GPU the CUDA kernels run on it there and
    only the mask comes back; on the CPU the CPU kernels read TensorFlow's buffer."""
    if _needs_host_copy(logits):
        values = logits.numpy()
        return native_person_mask(values[..., :1], geometry, segmentation_threshold, flip_horizontal, num_threads)
    return _core.person_mask_dlpack(
        tf.experimental.dlpack.to_dlpack(logits),
        geometry,
        segmentation_threshold=segmentation_threshold,
        flip_horizontal=flip_horizontal,
        num_threads=num_threads,
    )


def native_part_segmentation_dlpack(
    logits: tf.Tensor,
    geometry: _core.ResizePadGeometry,
    segmentation_threshold: float,
    flip_horizontal: bool,
    num_threads: int = 0,
) -> np.ndarray:
    """int32 (H, W) part ids from a float32 (h, w, 1 + 24) logits tensor via DLPack, as
    :func:`native_person_mask_dlpack`."""
    if _needs_host_copy(logits):
        values = logits.numpy()
        return native_part_segmentation(
            values[..., :1], values[..., 1:], geometry, segmentation_threshold, flip_horizontal, num_threads
        )
    return _core.part_segmentation_dlpack(
        tf.experimental.dlpack.to_dlpack(logits),
        geometry,
        segmentation_threshold=segmentation_threshold,
        flip_horizontal=flip_horizontal,
        num_threads=num_threads,
    )


def _geometry_tensor(geometry: _core.ResizePadGeometry) -> tf.Tensor:
    g = geometry
    return tf.constant(
        [g.image_height, g.image_width, g.model_height, g.model_width, g.resized_height, g.resized_width, g.pad_top, g.pad_left],
        dtype=tf.int32,
    )


@tf.function(reduce_retracing=True)
def _tf_scale_back(scores: tf.Tensor, geometry: tf.Tensor) -> tf.Tensor:
    """Align-corners resize (h, w, c) -> model size, crop the padding, resize to the image."""
    image_hw, model_hw, resized_hw, pad_tl = geometry[0:2], geometry[2:4], geometry[4:6], geometry[6:8]
    x = tf.raw_ops.ResizeBilinear(images=scores[tf.newaxis], size=model_hw, align_corners=True, half_pixel_centers=False)
    x = tf.slice(x, tf.concat([[0], pad_tl, [0]], 0), tf.concat([[1], resized_hw, [-1]], 0))
    x = tf.raw_ops.ResizeBilinear(images=x, size=image_hw, align_corners=True, half_pixel_centers=False)
    return x[0]


@tf.function(reduce_retracing=True)
def _tf_mask(segment_logits: tf.Tensor, geometry: tf.Tensor, threshold: tf.Tensor, flip: tf.Tensor) -> tf.Tensor:
    scores = _tf_scale_back(tf.math.sigmoid(segment_logits), geometry)
    mask = tf.cast(scores[:, :, 0] > threshold, tf.uint8)
    return tf.cond(flip, lambda: tf.reverse(mask, [1]), lambda: mask)


@tf.function(reduce_retracing=True)
def _tf_parts(
    segment_logits: tf.Tensor, part_logits: tf.Tensor, geometry: tf.Tensor, threshold: tf.Tensor, flip: tf.Tensor
) -> tf.Tensor:
    segment = _tf_scale_back(tf.math.sigmoid(segment_logits), geometry)
    parts = _tf_scale_back(tf.math.sigmoid(part_logits), geometry)
    mask = tf.cast(segment[:, :, 0] > threshold, tf.int32)
    part_ids = tf.argmax(parts, axis=-1, output_type=tf.int32)
    result = (part_ids + 1) * mask - 1
    return tf.cond(flip, lambda: tf.reverse(result, [1]), lambda: result)


def tf_person_mask(
    segment_logits: np.ndarray | tf.Tensor,
    geometry: _core.ResizePadGeometry,
    segmentation_threshold: float,
    flip_horizontal: bool,
) -> np.ndarray:
    """TensorFlow reference of :func:`native_person_mask`; same inputs and output."""
    return _tf_mask(
        tf.convert_to_tensor(segment_logits, tf.float32),
        _geometry_tensor(geometry),
        tf.constant(segmentation_threshold, tf.float32),
        tf.constant(bool(flip_horizontal)),
    ).numpy()


def tf_part_segmentation(
    segment_logits: np.ndarray | tf.Tensor,
    part_logits: np.ndarray | tf.Tensor,
    geometry: _core.ResizePadGeometry,
    segmentation_threshold: float,
    flip_horizontal: bool,
) -> np.ndarray:
    """TensorFlow reference of :func:`native_part_segmentation`; same inputs and output."""
    return _tf_parts(
        tf.convert_to_tensor(segment_logits, tf.float32),
        tf.convert_to_tensor(part_logits, tf.float32),
        _geometry_tensor(geometry),
        tf.constant(segmentation_threshold, tf.float32),
        tf.constant(bool(flip_horizontal)),
    ).numpy()
