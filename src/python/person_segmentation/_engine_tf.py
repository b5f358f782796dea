"""The ``"tf"`` engine: the network (and the pre-processing) as traced TensorFlow functions.

The default where TensorFlow sees a GPU: the logits stay on the device and go to the
post-processing through DLPack. Imported only when such an engine is built.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from person_segmentation import _checks, _core, _quiet

_quiet.import_tensorflow()  # quietly, before the plain imports below
import tensorflow as tf  # noqa: E402

from person_segmentation import _graph  # noqa: E402
from person_segmentation._network import MobileNetV1, effective_output_stride  # noqa: E402


class TFEngine:
    """MobileNetV1 in TensorFlow: one traced function per (stride, parts, flip), each taking
    the image and its layout (so new image sizes reuse the trace: ``reduce_retracing``).

    Args:
        net: the network.
    """

    name = "tf"

    def __init__(self, net: MobileNetV1) -> None:
        self._net = net
        self._functions: dict[tuple[int, bool, bool], Callable[..., tf.Tensor]] = {}
        self._heads: dict[tuple[int, bool], Callable[..., tf.Tensor]] = {}
        self._lock = threading.Lock()

    def _function(self, output_stride: int, with_parts: bool, flip: bool) -> Callable[..., tf.Tensor]:
        key = (output_stride, with_parts, flip)
        with self._lock:
            if key not in self._functions:
                net = self._net

                def run(image: tf.Tensor, layout: tf.Tensor) -> tf.Tensor:
                    x = _graph.resize_pad_normalize(image, layout, flip)
                    return net.heads(net.features(x, output_stride), with_parts)[0]

                self._functions[key] = tf.function(run, reduce_retracing=True)
            return self._functions[key]

    def preprocess(self, pixels: Any, geometry: _core.ResizePadGeometry, flip: bool) -> np.ndarray:
        """The float32 (353, 257, 3) model input (TensorFlow's graph optimiser turns the
        division by 127.5 into a multiplication, which can differ in the last bit)."""
        result: np.ndarray = _graph.preprocess_fn(
            tf.convert_to_tensor(pixels), _graph.layout(geometry), tf.constant(flip)
        ).numpy()[0]
        return result

    def logits(
        self,
        pixels: Any,
        geometry: _core.ResizePadGeometry,
        flip: bool,
        output_stride: int,
        with_parts: bool,
        num_threads: int | None = None,
    ) -> tf.Tensor:
        """(h, w, 1 [+ 24]) logits as a tensor on TensorFlow's device (``num_threads`` is
        TensorFlow's own business here)."""
        return self._function(output_stride, with_parts, flip)(tf.convert_to_tensor(pixels), _graph.layout(geometry))

    def run_input(self, model_input: np.ndarray, output_stride: int) -> np.ndarray:
        """(h, w, 25) logits of a normalised (1, H, W, 3) input, any H and W."""
        x = tf.constant(model_input)
        result: np.ndarray = self._net.heads(self._net.features(x, output_stride), True)[0].numpy()
        return result

    def heads(
        self,
        model_input: np.ndarray,
        output_stride: int,
        num_threads: int | None = None,
        *,
        symmetric_dilation: bool = False,
    ) -> np.ndarray:
        """The (outH, outW, 174) float32 heads array (the layout of `_constants.BODYPIX_HEADS`) of a normalised
        float32 (inH, inW, 3) or (1, inH, inW, 3) input, any size: one trace per stride, for
        every input size (``[1, None, None, 3]``), so new sizes never retrace. As BodyPix 2
        computes it (rows-only dilation), or with ``symmetric_dilation`` both sides dilated.
        ``num_threads`` is TensorFlow's own business here.

        Raises:
            ValueError: 1.x weights (no 2.x heads), or a bad input / stride / num_threads.
        """
        if not self._net.has_heads_2x:
            raise ValueError("these weights have no BodyPix 2 heads (1.x weights): heads() needs 2.x weights")
        stride = effective_output_stride(self._net.multiplier, _checks.check_output_stride(output_stride))
        _checks.check_num_threads(num_threads)
        symmetric = _checks.check_bool(symmetric_dilation, "symmetric_dilation")
        x = _checks.check_model_input(model_input)
        key = (stride, symmetric)
        with self._lock:
            if key not in self._heads:
                net = self._net

                def run(x: tf.Tensor) -> tf.Tensor:
                    return net.heads_2x(net.features(x, stride, height_only=not symmetric))[0]

                spec = tf.TensorSpec([1, None, None, 3], tf.float32)
                self._heads[key] = tf.function(run, input_signature=[spec])
            function = self._heads[key]
        result: np.ndarray = function(tf.constant(x)).numpy()
        return result

    def bodypix_heads(
        self,
        pixels: np.ndarray,
        input_height: int,
        input_width: int,
        padding: tuple[int, int, int, int],
        output_stride: int,
        num_threads: int = 0,
    ) -> np.ndarray:
        """``heads(_core.bodypix_preprocess(pixels, ...), output_stride, num_threads or None)``
        (see :meth:`person_segmentation._engine.Engine.bodypix_heads`)."""
        model_input = _core.bodypix_preprocess(
            pixels, input_height=input_height, input_width=input_width, padding=padding, num_threads=num_threads
        )
        return self.heads(model_input, output_stride, num_threads or None)
