"""Where the network runs: the engine interface and the choice of engine.

An engine turns checked pixels into the network's logits. Two implement :class:`Engine`:
``"tflite"`` (:mod:`person_segmentation._engine_tflite`, TensorFlow Lite + XNNPACK, the default
on CPU) and ``"tf"`` (:mod:`person_segmentation._engine_tf`, TensorFlow, the default where it
sees a GPU). :class:`~person_segmentation.PersonSegmentation` holds one and never asks which.
TensorFlow is imported here only when an engine is built.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from person_segmentation import _checks, _core
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


def gpu_visible() -> bool:
    """Whether TensorFlow sees a GPU (then ``engine="auto"`` means ``"tf"``)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def check_engine(engine: object) -> str:
    """An ``engine`` argument checked (``"auto"`` stays ``"auto"``)."""
    return _checks.check_choice(engine, "engine", ENGINES)


def resolve_engine(engine: object) -> str:
    """``"tf"`` or ``"tflite"`` for an ``engine`` argument (``"auto"`` asks TensorFlow for a GPU)."""
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
    """Build the engine ``engine`` (``"tf"`` or ``"tflite"``, resolved) for these weights."""
    from person_segmentation._network import MobileNetV1

    net = MobileNetV1(tensors, multiplier)
    if engine == "tflite":
        from person_segmentation import _engine_tflite

        digest = _engine_tflite.weights_digest(tensors, multiplier)
        return _engine_tflite.TFLiteEngine(net, digest, num_threads, cache_dir)
    from person_segmentation import _engine_tf

    return _engine_tf.TFEngine(net)
