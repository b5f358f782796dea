"""The TensorFlow reference of the post-processing (REFERENCE.md sections 3-4).

The same steps as the native kernels, as plain TensorFlow ops, step by step as the original
did (``postprocess="tf"``); the native code is tested against it. Imported only when used.
"""

from __future__ import annotations

import numpy as np

from person_segmentation import _core, _quiet

_quiet.import_tensorflow()  # quietly, before the plain import below
import tensorflow as tf  # noqa: E402


def _geometry_tensor(geometry: _core.ResizePadGeometry) -> tf.Tensor:
    g = geometry
    return tf.constant(
        [
            g.image_height,
            g.image_width,
            g.model_height,
            g.model_width,
            g.resized_height,
            g.resized_width,
            g.pad_top,
            g.pad_left,
        ],
        dtype=tf.int32,
    )


@tf.function(reduce_retracing=True)
def _scale_back(scores: tf.Tensor, geometry: tf.Tensor) -> tf.Tensor:
    """Align-corners resize (h, w, c) -> model size, crop the padding, resize to the image."""
    image_hw, model_hw, resized_hw, pad_tl = geometry[0:2], geometry[2:4], geometry[4:6], geometry[6:8]
    x = tf.raw_ops.ResizeBilinear(
        images=scores[tf.newaxis], size=model_hw, align_corners=True, half_pixel_centers=False
    )
    x = tf.slice(x, tf.concat([[0], pad_tl, [0]], 0), tf.concat([[1], resized_hw, [-1]], 0))
    x = tf.raw_ops.ResizeBilinear(images=x, size=image_hw, align_corners=True, half_pixel_centers=False)
    return x[0]


@tf.function(reduce_retracing=True)
def _mask(segment_logits: tf.Tensor, geometry: tf.Tensor, threshold: tf.Tensor, flip: tf.Tensor) -> tf.Tensor:
    scores = _scale_back(tf.math.sigmoid(segment_logits), geometry)
    mask = tf.cast(scores[:, :, 0] > threshold, tf.uint8)
    return tf.cond(flip, lambda: tf.reverse(mask, [1]), lambda: mask)


@tf.function(reduce_retracing=True)
def _parts(
    segment_logits: tf.Tensor, part_logits: tf.Tensor, geometry: tf.Tensor, threshold: tf.Tensor, flip: tf.Tensor
) -> tf.Tensor:
    segment = _scale_back(tf.math.sigmoid(segment_logits), geometry)
    parts = _scale_back(tf.math.sigmoid(part_logits), geometry)
    mask = tf.cast(segment[:, :, 0] > threshold, tf.int32)
    part_ids = tf.argmax(parts, axis=-1, output_type=tf.int32)
    result = (part_ids + 1) * mask - 1
    return tf.cond(flip, lambda: tf.reverse(result, [1]), lambda: result)


def person_mask(
    segment_logits: object, geometry: _core.ResizePadGeometry, segmentation_threshold: float, flip_horizontal: bool
) -> np.ndarray:
    """uint8 (H, W) 0/1 mask from (h, w, 1) segment logits (numpy or tensor)."""
    result: np.ndarray = _mask(
        tf.convert_to_tensor(segment_logits, tf.float32),
        _geometry_tensor(geometry),
        tf.constant(segmentation_threshold, tf.float32),
        tf.constant(bool(flip_horizontal)),
    ).numpy()
    return result


def part_segmentation(
    segment_logits: object,
    part_logits: object,
    geometry: _core.ResizePadGeometry,
    segmentation_threshold: float,
    flip_horizontal: bool,
) -> np.ndarray:
    """int32 (H, W) part ids (-1 = background) from (h, w, 1) and (h, w, 24) logits."""
    result: np.ndarray = _parts(
        tf.convert_to_tensor(segment_logits, tf.float32),
        tf.convert_to_tensor(part_logits, tf.float32),
        _geometry_tensor(geometry),
        tf.constant(segmentation_threshold, tf.float32),
        tf.constant(bool(flip_horizontal)),
    ).numpy()
    return result


@tf.function(reduce_retracing=True)
def _probability(segment_logits: tf.Tensor, geometry: tf.Tensor, flip: tf.Tensor) -> tf.Tensor:
    scores = tf.math.sigmoid(segment_logits)
    # NaN logits score -1 (as in the native core: never a person), clipped to 0 after the resizes.
    scores = tf.where(tf.math.is_nan(scores), -tf.ones_like(scores), scores)
    probability = tf.maximum(_scale_back(scores, geometry)[:, :, 0], 0.0)
    return tf.cond(flip, lambda: tf.reverse(probability, [1]), lambda: probability)


def person_probability(segment_logits: object, geometry: _core.ResizePadGeometry, flip_horizontal: bool) -> np.ndarray:
    """float32 (H, W) person probability in [0, 1] from (h, w, 1) segment logits."""
    result: np.ndarray = _probability(
        tf.convert_to_tensor(segment_logits, tf.float32), _geometry_tensor(geometry), tf.constant(bool(flip_horizontal))
    ).numpy()
    return result
