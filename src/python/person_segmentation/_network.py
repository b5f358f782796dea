"""MobileNetV1 of the original person-segmentation, built from the weight tensors in TensorFlow.

REFERENCE.md section 1: NHWC float32, ``SAME`` padding, ReLU6 after every convolution except
the output heads, batch-norm folded into the biases. Channel widths come from the weight
shapes; only the nominal stride of block 12 depends on the multiplier (2 for 1.0, else 1).

The stride rules below need only the standard library; TensorFlow is imported when a
:class:`MobileNetV1` is built (a conversion or the ``"tf"`` engine), never on import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from person_segmentation import _quiet
from person_segmentation._checks import check_output_stride
from person_segmentation._constants import BODYPIX_HEADS, NUM_BLOCKS
from person_segmentation._weights import PART_NAMES_1X, PART_NAMES_2X

_PREFIX = "MobilenetV1/"
#: ``parts_1x[..., _PARTS_1X_TO_2X]`` is in the 2.x channel order (loaded weights are in 1.x order).
_PARTS_1X_TO_2X = np.array([PART_NAMES_1X.index(name) for name in PART_NAMES_2X], dtype=np.intp)


def nominal_strides(multiplier: float) -> tuple[int, ...]:
    """Nominal stride of blocks 0..13 for ``multiplier`` (REFERENCE.md section 1)."""
    block12 = 2 if multiplier == 1.0 else 1
    return (2, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, block12, 1)


def conv_schedule(multiplier: float, output_stride: int) -> tuple[tuple[int, int], ...]:
    """(stride, dilation) of each block's 3x3 convolution for the requested output stride.

    Walks the blocks with a running stride ``r`` and dilation ``d``: once ``r`` equals the
    output stride, later blocks run with stride 1 and dilation ``d`` (then ``d *= s``);
    before that they run with their nominal stride. The 0.75/0.50/0.25 nets never reach 32,
    so asking them for 32 gives stride-16 features, as the original does.
    """
    output_stride = check_output_stride(output_stride)
    current, rate = 1, 1
    schedule = []
    for stride in nominal_strides(multiplier):
        if current == output_stride:
            schedule.append((1, rate))
            rate *= stride
        else:
            schedule.append((stride, 1))
            current *= stride
    return tuple(schedule)


def effective_output_stride(multiplier: float, output_stride: int) -> int:
    """The stride of the features the network really produces (16 for 32 on small nets)."""
    result = 1
    for stride, _ in conv_schedule(multiplier, output_stride):
        result *= stride
    return result


def feature_size(size: int, multiplier: float, output_stride: int) -> int:
    """Side length of the logit grid for an input side of ``size`` (SAME padding)."""
    for stride, _ in conv_schedule(multiplier, output_stride):
        size = -(-size // stride)
    return size


def is_dilated(multiplier: float, output_stride: int) -> bool:
    """Whether some convolution of the network at this stride is dilated (then BodyPix 2's
    height-only dilation differs from the symmetric one: see :meth:`MobileNetV1.features`)."""
    return any(rate > 1 for _, rate in conv_schedule(multiplier, output_stride))


def heads_signature(output_stride: int, symmetric: bool = False) -> str:
    """The signature key of a LiteRT heads conversion for ``output_stride``: ``stride<N>``
    (as BodyPix 2 runs the model), ``stride<N>_symmetric`` (both sides dilated)."""
    return f"stride{output_stride}" + ("_symmetric" if symmetric else "")


def has_heads_2x(tensors: Mapping[str, np.ndarray]) -> bool:
    """Whether ``tensors`` hold every 2.x head of the heads array (1.x weights lack the
    displacement and embedding heads): each ``(1, 1, C, channels)`` with a ``(channels,)`` bias."""
    width = np.shape(tensors.get(_PREFIX + "segment_2/weights", ()))
    if len(width) != 4:
        return False
    for name, channels in BODYPIX_HEADS:
        weights, bias = tensors.get(f"{_PREFIX}{name}/weights"), tensors.get(f"{_PREFIX}{name}/Conv2D_bias")
        if weights is None or bias is None:
            return False
        if np.shape(weights) != (1, 1, width[2], channels) or np.shape(bias) != (channels,):
            return False
    return True


@dataclass(frozen=True)
class _Block:
    depthwise: Any  # tf.Tensor 3x3xCx1 (None for block 0)
    depthwise_bias: Any
    weights: Any  # 3x3x3xC for block 0, 1x1xCinxCout for pointwise
    bias: Any


class MobileNetV1:
    """The network as TensorFlow constants, runnable at any of the output strides.

    Args:
        tensors: float32 weights keyed by the official names (``MobilenetV1/...``).
        multiplier: the depth multiplier the weights are for (decides block 12's stride).
    """

    def __init__(self, tensors: Mapping[str, np.ndarray], multiplier: float) -> None:
        tf = _quiet.import_tensorflow()
        self._tf = tf
        self.multiplier = float(multiplier)

        def const(name: str, channels: np.ndarray | None = None) -> Any:
            value = np.asarray(tensors[name], dtype=np.float32)
            if channels is not None:
                value = np.ascontiguousarray(value[..., channels])
            return tf.constant(value, name=name.replace("/", "_"))

        blocks = [_Block(None, None, const("MobilenetV1/Conv2d_0/weights"), const("MobilenetV1/Conv2d_0/Conv2D_bias"))]
        for i in range(1, NUM_BLOCKS):
            prefix = f"MobilenetV1/Conv2d_{i}"
            blocks.append(
                _Block(
                    const(f"{prefix}_depthwise/depthwise_weights"),
                    const(f"{prefix}_depthwise/depthwise_bias"),
                    const(f"{prefix}_pointwise/weights"),
                    const(f"{prefix}_pointwise/Conv2D_bias"),
                )
            )
        self._blocks = tuple(blocks)
        self._segment = (const("MobilenetV1/segment_2/weights"), const("MobilenetV1/segment_2/Conv2D_bias"))
        self._parts = (const("MobilenetV1/part_heatmap_2/weights"), const("MobilenetV1/part_heatmap_2/Conv2D_bias"))
        #: The heads of the heads array, parts in the 2.x order again (None for 1.x weights).
        self._heads_2x: tuple[tuple[Any, Any], ...] | None = None
        if has_heads_2x(tensors):
            order = {"part_heatmap_2": _PARTS_1X_TO_2X}
            self._heads_2x = tuple(
                (
                    const(f"{_PREFIX}{name}/weights", order.get(name)),
                    const(f"{_PREFIX}{name}/Conv2D_bias", order.get(name)),
                )
                for name, _ in BODYPIX_HEADS
            )

    @property
    def has_heads_2x(self) -> bool:
        """Whether the weights have every 2.x head (:meth:`heads_2x` works)."""
        return self._heads_2x is not None

    def features(self, x: Any, output_stride: int, *, height_only: bool = False) -> Any:
        """Last block's output for a normalised NHWC float32 batch ``x`` (values in [-1, 1]).

        ``height_only``: the dilated depthwise convolutions dilate the rows only, as BodyPix 2
        runs the 2.x model files: their ``dilations`` attribute reads ``[d, d, 1, 1]``, and
        TensorFlow.js takes its entries 1 and 2 as the (height, width) dilation, so ``(d, 1)``
        (checked bit for bit against the golden2 heads). Without it, both sides are dilated
        (the v0.0.x network, and the 2.x weights as an ONNX export reads them)."""
        tf = self._tf
        for block, (stride, rate) in zip(self._blocks, conv_schedule(self.multiplier, output_stride)):
            if block.depthwise is None:
                x = tf.nn.conv2d(x, block.weights, strides=stride, padding="SAME")
                x = tf.nn.relu6(tf.nn.bias_add(x, block.bias))
                continue
            dilations = [rate, rate] if not height_only else [rate, 1]
            x = tf.nn.depthwise_conv2d(
                x, block.depthwise, strides=[1, stride, stride, 1], padding="SAME", dilations=dilations
            )
            x = tf.nn.relu6(tf.nn.bias_add(x, block.depthwise_bias))
            x = tf.nn.conv2d(x, block.weights, strides=1, padding="SAME")
            x = tf.nn.relu6(tf.nn.bias_add(x, block.bias))
        return x

    def heads(self, features: Any, with_parts: bool) -> Any:
        """Raw logits: ``segment_2`` (1 channel), then ``part_heatmap_2`` (24) if asked."""
        tf = self._tf
        seg = tf.nn.bias_add(tf.nn.conv2d(features, self._segment[0], strides=1, padding="SAME"), self._segment[1])
        if not with_parts:
            return seg
        parts = tf.nn.bias_add(tf.nn.conv2d(features, self._parts[0], strides=1, padding="SAME"), self._parts[1])
        return tf.concat([seg, parts], axis=-1)

    def heads_2x(self, features: Any) -> Any:
        """The heads array (the layout of `_constants.BODYPIX_HEADS`): every 2.x head, raw, concatenated on the
        channel axis in :data:`BODYPIX_HEADS` order (174 channels, parts in the 2.x order).

        Raises:
            ValueError: the weights have no 2.x heads (1.x weights).
        """
        if self._heads_2x is None:
            raise ValueError("these weights have no BodyPix 2 heads (1.x weights): load 2.x weights for heads()")
        tf = self._tf
        outputs = [
            tf.nn.bias_add(tf.nn.conv2d(features, weights, strides=1, padding="SAME"), bias)
            for weights, bias in self._heads_2x
        ]
        return tf.concat(outputs, axis=-1)
