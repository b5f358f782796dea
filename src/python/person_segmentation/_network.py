"""MobileNetV1 of the original person-segmentation, built from the weight tensors in TensorFlow.

REFERENCE.md section 1: NHWC float32, ``SAME`` padding, ReLU6 after every convolution except
the output heads, batch-norm folded into the biases. Channel widths come from the weight
shapes; only the nominal stride of block 12 depends on the multiplier (2 for 1.0, else 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from person_segmentation._checks import check_output_stride
from person_segmentation._constants import NUM_BLOCKS


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


@dataclass(frozen=True)
class _Block:
    depthwise: tf.Tensor | None  # 3x3xCx1 (None for block 0)
    depthwise_bias: tf.Tensor | None
    weights: tf.Tensor  # 3x3x3xC for block 0, 1x1xCinxCout for pointwise
    bias: tf.Tensor


class MobileNetV1:
    """The network as TensorFlow constants, runnable at any of the output strides.

    Args:
        tensors: float32 weights keyed by the official names (``MobilenetV1/...``).
        multiplier: the depth multiplier the weights are for (decides block 12's stride).
    """

    def __init__(self, tensors: Mapping[str, np.ndarray], multiplier: float) -> None:
        self.multiplier = float(multiplier)

        def const(name: str) -> tf.Tensor:
            return tf.constant(np.asarray(tensors[name], dtype=np.float32), name=name.replace("/", "_"))

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

    def features(self, x: tf.Tensor, output_stride: int) -> tf.Tensor:
        """Last block's output for a normalised NHWC float32 batch ``x`` (values in [-1, 1])."""
        for block, (stride, rate) in zip(self._blocks, conv_schedule(self.multiplier, output_stride)):
            if block.depthwise is None:
                x = tf.nn.conv2d(x, block.weights, strides=stride, padding="SAME")
                x = tf.nn.relu6(tf.nn.bias_add(x, block.bias))
                continue
            x = tf.nn.depthwise_conv2d(
                x, block.depthwise, strides=[1, stride, stride, 1], padding="SAME", dilations=[rate, rate]
            )
            x = tf.nn.relu6(tf.nn.bias_add(x, block.depthwise_bias))
            x = tf.nn.conv2d(x, block.weights, strides=1, padding="SAME")
            x = tf.nn.relu6(tf.nn.bias_add(x, block.bias))
        return x

    def heads(self, features: tf.Tensor, with_parts: bool) -> tf.Tensor:
        """Raw logits: ``segment_2`` (1 channel), then ``part_heatmap_2`` (24) if asked."""
        seg = tf.nn.bias_add(tf.nn.conv2d(features, self._segment[0], strides=1, padding="SAME"), self._segment[1])
        if not with_parts:
            return seg
        parts = tf.nn.bias_add(tf.nn.conv2d(features, self._parts[0], strides=1, padding="SAME"), self._parts[1])
        return tf.concat([seg, parts], axis=-1)
