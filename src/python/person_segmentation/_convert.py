"""MobileNetV1 converted to LiteRT flatbuffers: the only use of TensorFlow on the CPU path.

Imported only to convert weights that have no conversion yet (on disk in the cache, or shipped
with the package for the bundled model). Two kinds of conversion:

* **fixed** (:func:`convert_fixed`): the v0.0.x network for the fixed 353 x 257 input, one output
  stride, 25 channels (``segment_2``, then ``part_heatmap_2`` in 1.x part order). Used for
  weights without the 2.x heads (the 1.x weights).
* **heads** (:func:`convert_heads`): the heads array (layout: `_constants.BODYPIX_HEADS`) (174 channels, 2.x
  part order) for a dynamic input ``[1, -1, -1, 3]``, one signature ``stride<N>`` per output
  stride, as BodyPix 2 runs the model (rows-only dilation), plus ``stride<N>_symmetric`` where
  the network is dilated at that stride (both sides dilated: the v0.0.x reading), all in one
  file sharing the weights; output ``heads``. Used for 2.x weights, by BodyPix 2 at any input
  size and by the v0.0.x path (which slices 25 channels of it).

A conversion is deterministic: the same weights and TensorFlow version give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from person_segmentation import _quiet
from person_segmentation._constants import MODEL_INPUT_SHAPE
from person_segmentation._network import MobileNetV1, heads_signature, is_dilated

tf = _quiet.import_tensorflow()

#: Input and output names of a heads conversion's signatures.
HEADS_INPUT = "model_input"
HEADS_OUTPUT = "heads"


def _to_flatbuffer(functions: list[Any], trackable: Any, what: str) -> bytes:
    with _quiet.captured(f"converting {what} to LiteRT"):
        converter = tf.lite.TFLiteConverter.from_concrete_functions(functions, trackable)
        return bytes(converter.convert())


def convert_fixed(net: MobileNetV1, output_stride: int) -> bytes:
    """The v0.0.x network (segment then the 24 parts, concatenated) for the 353 x 257 input."""

    @tf.function(input_signature=[tf.TensorSpec(MODEL_INPUT_SHAPE, tf.float32, name="model_input")])
    def logits(x: Any) -> Any:
        return net.heads(net.features(x, output_stride), True)

    return _to_flatbuffer([logits.get_concrete_function()], logits, f"the stride-{output_stride} network")


def convert_heads(net: MobileNetV1, output_strides: Sequence[int]) -> bytes:
    """The heads array for a dynamic ``[1, -1, -1, 3]`` input, one signature per stride.

    Raises:
        ValueError: the weights have no 2.x heads.
    """
    if not net.has_heads_2x:
        raise ValueError("these weights have no BodyPix 2 heads (1.x weights)")
    spec = tf.TensorSpec([1, None, None, 3], tf.float32, name=HEADS_INPUT)

    def signature(stride: int, symmetric: bool) -> Any:
        def run(x: Any) -> dict[str, Any]:
            return {HEADS_OUTPUT: net.heads_2x(net.features(x, stride, height_only=not symmetric))}

        run.__name__ = heads_signature(stride, symmetric)  # the signature key
        return tf.function(run, input_signature=[spec]).get_concrete_function()

    functions = [signature(stride, False) for stride in output_strides]
    functions += [signature(s, True) for s in output_strides if is_dilated(net.multiplier, s)]
    strides = ", ".join(str(s) for s in output_strides)
    return _to_flatbuffer(functions, tf.Module(), f"the heads at stride {strides}")
