"""TensorFlow graph helpers of the ``"tf"`` engine: resize-and-pad and normalisation as TF ops.

Imported only when a TensorFlow network is built (importing the package does not import
TensorFlow).
"""

from __future__ import annotations

from person_segmentation import _core, _quiet

_quiet.import_tensorflow()  # quietly, before the plain import below
import tensorflow as tf  # noqa: E402

#: Pixel dtypes TensorFlow's ResizeBilinear reads directly (it always computes in float32).
_RESIZABLE = (
    tf.uint8,
    tf.int8,
    tf.uint16,
    tf.int16,
    tf.int32,
    tf.int64,
    tf.float16,
    tf.bfloat16,
    tf.float32,
    tf.float64,
)


def layout(g: _core.ResizePadGeometry) -> tf.Tensor:
    """The geometry as the TF path's int32 layout tensor
    ``[resized_h, resized_w, pad_top, pad_bottom, pad_left, pad_right]``."""
    return tf.constant([g.resized_height, g.resized_width, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right], tf.int32)


def resize_pad_normalize(image: tf.Tensor, layout: tf.Tensor, flip: bool | tf.Tensor) -> tf.Tensor:
    """REFERENCE.md section 3 step 2 and the MobileNet normalisation, as TF ops.

    (H, W, 3) pixels -> (1, 353, 257, 3) float32: mirrored if ``flip``, resized with the legacy
    ``ResizeBilinear(align_corners=False, half_pixel_centers=False)``, zero-padded, then
    ``x / 127.5 - 1``. The full-size image is never converted to float: only the 353 x 257
    result is float32, so huge images cost little memory. Float pixels are made finite first:
    NaN becomes 0 and values are clipped to [0, 255] (so +/-inf become 255/0).
    """
    x = image if image.dtype in _RESIZABLE else tf.cast(image, tf.float32)
    if x.dtype.is_floating:
        x = tf.clip_by_value(tf.where(tf.math.is_nan(x), tf.zeros_like(x), x), 0, 255)
    if isinstance(flip, bool):
        x = tf.reverse(x, [1]) if flip else x
    else:
        x = tf.cond(flip, lambda: tf.reverse(x, [1]), lambda: x)
    x = tf.raw_ops.ResizeBilinear(images=x[tf.newaxis], size=layout[0:2], align_corners=False, half_pixel_centers=False)
    x = tf.pad(x, [[0, 0], [layout[2], layout[3]], [layout[4], layout[5]], [0, 0]])
    return x / 127.5 - 1.0


#: :func:`resize_pad_normalize` as one traced function (flip as a tensor: one trace for both).
preprocess_fn = tf.function(resize_pad_normalize, reduce_retracing=True)
