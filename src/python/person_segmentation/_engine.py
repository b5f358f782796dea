"""Where the network runs: the engine interface and the choice of engine.

An engine turns checked pixels into the network's logits. Two implement :class:`Engine`:
``"tflite"`` (:mod:`person_segmentation._engine_tflite`, LiteRT + XNNPACK, the default on CPU;
TensorFlow only to convert weights that have no conversion yet) and ``"tf"``
(:mod:`person_segmentation._engine_tf`, TensorFlow, the default where a GPU is usable).
:class:`~person_segmentation.PersonSegmentation` holds one and never asks which.

``engine="auto"`` is decided without importing TensorFlow on a machine without a GPU
(:func:`gpu_visible`): ``"tf"`` only when TensorFlow is installed (found, not imported), the
native core sees a usable CUDA device (in a build without CUDA: an NVIDIA device node
``/dev/nvidia<N>`` exists), and TensorFlow, then imported, lists a GPU (it needs CUDA
libraries of its own); ``"tflite"`` otherwise.
"""

from __future__ import annotations

import importlib.util
import pathlib
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from person_segmentation import _checks, _core, _quiet
from person_segmentation._constants import ENGINES


class Engine(Protocol):
    """What :class:`~person_segmentation.PersonSegmentation` needs of an engine."""

    #: ``"tf"`` or ``"tflite"``.
    name: str

    def preprocess(self, pixels: Any, geometry: _core.ResizePadGeometry, flip: bool) -> np.ndarray:
        """The float32 (353, 257, 3) normalised model input of checked (H, W, 3) pixels."""
        ...

    def logits(
        self,
        pixels: Any,
        geometry: _core.ResizePadGeometry,
        flip: bool,
        output_stride: int,
        with_parts: bool,
        num_threads: int | None = None,
    ) -> Any:
        """(h, w, C) float32 logits, segment in channel 0 and, when asked or always, the 24
        parts after it: a numpy array, or a tensor on the engine's device.
        ``num_threads`` overrides the engine's CPU threads for this call."""
        ...

    def run_input(self, model_input: np.ndarray, output_stride: int) -> np.ndarray:
        """(h, w, 25) numpy logits of a normalised float32 (1, H, W, 3) input."""
        ...

    def heads(
        self,
        model_input: np.ndarray,
        output_stride: int,
        num_threads: int | None = None,
        *,
        symmetric_dilation: bool = False,
    ) -> np.ndarray:
        """The BodyPix 2 heads array (the layout of `_constants.BODYPIX_HEADS`): float32 C-contiguous
        (outH, outW, 174) of a normalised float32 (inH, inW, 3) or (1, inH, inW, 3) input of
        any size, as BodyPix 2 computes it: its model files dilate the rows only (see
        :meth:`person_segmentation._network.MobileNetV1.features`); ``symmetric_dilation``
        dilates both sides (differs only at stride 8, and for the 1.0 net at 16; more
        accurate). Raises ValueError for weights without the 2.x heads (1.x weights)."""
        ...

    def bodypix_heads(
        self,
        pixels: np.ndarray,
        input_height: int,
        input_width: int,
        padding: tuple[int, int, int, int],
        output_stride: int,
        num_threads: int = 0,
    ) -> np.ndarray:
        """BodyPix 2's pre-processing and network in one: bit for bit
        ``heads(_core.bodypix_preprocess(pixels, ...), output_stride, num_threads or None)`` of
        native pixels (``num_threads`` 0: the defaults), with no checks of the pre-processed
        input, which is finite by construction (an engine may write it straight into the
        network's input)."""
        ...


def _gpu_device_present() -> bool:
    """A cheap look for a CUDA GPU, without TensorFlow: the native core's probe when it is
    built with CUDA, else an NVIDIA device node."""
    if _core.cuda_compiled():
        return _core.cuda_device_count() > 0
    return any(pathlib.Path("/dev").glob("nvidia[0-9]*"))


def gpu_visible() -> bool:
    """Whether ``engine="auto"`` means ``"tf"`` (see the module's docstring): TensorFlow is
    installed, a CUDA GPU is present, and TensorFlow lists it. TensorFlow is imported only
    when the first two hold."""
    if importlib.util.find_spec("tensorflow") is None or not _gpu_device_present():
        return False
    tf = _quiet.import_tensorflow()
    return bool(tf.config.list_physical_devices("GPU"))


def check_engine(engine: object) -> str:
    """An ``engine`` argument checked (``"auto"`` stays ``"auto"``)."""
    return _checks.check_choice(engine, "engine", ENGINES)


def resolve_engine(engine: object) -> str:
    """``"tf"`` or ``"tflite"`` for an ``engine`` argument (``"auto"``: :func:`gpu_visible`)."""
    name = check_engine(engine)
    if name == "auto":
        return "tf" if gpu_visible() else "tflite"
    return name


def resolve_threads(num_threads: object) -> int:
    """``num_threads`` checked: None or 0 -> one per hardware thread, else the int itself."""
    return _checks.check_num_threads(num_threads) or _core.default_num_threads()


def create(
    engine: str,
    tensors: Mapping[str, np.ndarray],
    multiplier: float,
    *,
    num_threads: int,
    cache_dir: pathlib.Path | None,
) -> Engine:
    """Build the engine ``engine`` (``"tf"`` or ``"tflite"``, resolved) for these weights.
    The ``"tflite"`` engine imports TensorFlow only if it must convert the weights."""
    if engine == "tflite":
        from person_segmentation import _engine_tflite

        return _engine_tflite.TFLiteEngine(tensors, multiplier, num_threads, cache_dir)
    from person_segmentation import _engine_tf
    from person_segmentation._network import MobileNetV1

    return _engine_tf.TFEngine(MobileNetV1(tensors, multiplier))
