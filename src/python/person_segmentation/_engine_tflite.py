"""The ``"tflite"`` engine: the network as TensorFlow Lite with its XNNPACK delegate.

The TFLite model is converted at load time from the same weights (through the same
:class:`~person_segmentation._network.MobileNetV1` graph) for the fixed 353 x 257 input and
one output stride, and cached on disk per (weights, stride) so that a second process starts
fast. Its input tensor is filled in place by the native pre-processing (resize, pad,
normalise), so a frame is never copied between decoding and the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pathlib
import queue
import tempfile
import threading
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from person_segmentation import _core
from person_segmentation._constants import MODEL_INPUT_SHAPE
from person_segmentation._image import native_pixels
from person_segmentation._network import MobileNetV1

_log = logging.getLogger("person_segmentation")

#: Bumped whenever the converted graph changes, so stale cached conversions are never used.
_CONVERSION_VERSION = 1


def weights_digest(tensors: Mapping[str, np.ndarray], multiplier: float) -> str:
    """sha256 over every tensor's name, shape and bytes (in name order) and the multiplier."""
    h = hashlib.sha256(f"multiplier={float(multiplier)!r}".encode())
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype=np.float32)
        h.update(f"\n{name}{array.shape}".encode())
        h.update(array.tobytes())
    return h.hexdigest()


def _convert(net: MobileNetV1, output_stride: int) -> bytes:
    """The network (both heads, concatenated: segment first) as a TFLite flatbuffer."""

    @tf.function(input_signature=[tf.TensorSpec(MODEL_INPUT_SHAPE, tf.float32, name="model_input")])
    def logits(x: tf.Tensor) -> tf.Tensor:
        return net.heads(net.features(x, output_stride), True)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([logits.get_concrete_function()], logits)
    return bytes(converter.convert())


def conversion_path(cache_dir: pathlib.Path, digest: str, output_stride: int) -> pathlib.Path:
    """Where the conversion of these weights at this stride is cached."""
    tag = f"v{_CONVERSION_VERSION}-tf{tf.__version__}"
    return cache_dir / "tflite" / f"{digest[:40]}-os{output_stride}-{tag}.tflite"


def converted_model(net: MobileNetV1, digest: str, output_stride: int, cache_dir: pathlib.Path | None) -> bytes:
    """The TFLite flatbuffer for ``net`` at ``output_stride``: read from the cache when there
    (and intact), else converted and stored there atomically. A cache that cannot be written
    is skipped with a log message; the model is then converted in every process.

    A cached file is the flatbuffer followed by its 32-byte sha256, so a damaged file is
    recognised (and replaced) instead of being handed to the interpreter.
    """
    path = conversion_path(cache_dir, digest, output_stride) if cache_dir is not None else None
    if path is not None and path.is_file():
        with contextlib.suppress(OSError):
            stored = path.read_bytes()
            content, checksum = stored[:-32], stored[-32:]
            if len(stored) > 32 and hashlib.sha256(content).digest() == checksum:
                return content
            _log.warning("replacing a damaged cached TFLite model %s", path)
    content = _convert(net, output_stride)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(content + hashlib.sha256(content).digest())
                os.chmod(tmp, 0o644)
                os.replace(tmp, path)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        except OSError as exc:
            _log.warning("could not cache the TFLite model in %s: %s", path, exc)
    return content


def _new_interpreter(content: bytes, num_threads: int) -> Any:
    with warnings.catch_warnings():
        # TF 2.20+ announces the move of this class to the ai-edge-litert package.
        warnings.filterwarnings("ignore", message=r"(?s).*tf\.lite\.Interpreter is deprecated")
        interpreter = tf.lite.Interpreter(model_content=content, num_threads=num_threads)
    interpreter.allocate_tensors()
    return interpreter


class _Runner:
    """One interpreter with its tensor indices (an interpreter is not thread-safe)."""

    def __init__(self, content: bytes, num_threads: int) -> None:
        self.interpreter = _new_interpreter(content, num_threads)
        (inp,) = self.interpreter.get_input_details()
        (out,) = self.interpreter.get_output_details()
        if tuple(inp["shape"]) != MODEL_INPUT_SHAPE:
            raise RuntimeError(f"converted model takes {tuple(inp['shape'])}, expected {MODEL_INPUT_SHAPE}")
        self.input_index = int(inp["index"])
        self.output_index = int(out["index"])


class TFLiteNetwork:
    """MobileNetV1 at one output stride as a TFLite model run by XNNPACK.

    Safe to call from several threads: each concurrent call gets its own interpreter (made on
    first need, then reused), so threads never wait for each other's inference.

    Args:
        content: the converted flatbuffer (:func:`converted_model`).
        num_threads: XNNPACK threads of each interpreter (>= 1).
    """

    def __init__(self, content: bytes, num_threads: int) -> None:
        self._content = content
        self.num_threads = num_threads
        self._idle: queue.SimpleQueue[_Runner] = queue.SimpleQueue()
        self._idle.put(_Runner(content, num_threads))  # fail here, at load time, if it cannot run

    @contextlib.contextmanager
    def _runner(self) -> Iterator[_Runner]:
        try:
            runner = self._idle.get_nowait()
        except queue.Empty:
            runner = _Runner(self._content, self.num_threads)
        try:
            yield runner
        finally:
            self._idle.put(runner)

    def run_image(self, pixels: np.ndarray, geometry: _core.ResizePadGeometry, flip: bool) -> np.ndarray:
        """Logits of an image: float32 (h, w, 25), segment first, then the 24 parts.

        Args:
            pixels: uint8 or float32 (H, W, 3), any strides; pre-processed natively straight
                into the interpreter's input tensor.
        """
        with self._runner() as r:
            model_input = r.interpreter.tensor(r.input_index)()
            try:
                _core.resize_pad_normalize(pixels, geometry, flip_horizontal=flip, out=model_input, num_threads=1)
            finally:
                del model_input  # the interpreter refuses to run while a view of its buffers exists
            r.interpreter.invoke()
            logits: np.ndarray = r.interpreter.get_tensor(r.output_index)[0]
        return logits

    def run_input(self, model_input: np.ndarray) -> np.ndarray:
        """Logits for an already pre-processed float32 (1, 353, 257, 3) input: (h, w, 25)."""
        with self._runner() as r:
            r.interpreter.set_tensor(r.input_index, model_input)
            r.interpreter.invoke()
            logits: np.ndarray = r.interpreter.get_tensor(r.output_index)[0]
        return logits


class TFLiteEngine:
    """The ``"tflite"`` engine: MobileNetV1 converted to TFLite per output stride (stride 16 at
    construction, others on first use; cached on disk in ``cache_dir/tflite``), run by XNNPACK
    with the native pre-processing written straight into the interpreter's input.

    Args:
        net: the network (the graph that is converted).
        digest: :func:`weights_digest` of its weights (the cache key).
        num_threads: XNNPACK threads of each interpreter (>= 1).
        cache_dir: where conversions are cached (None: not cached).
    """

    name = "tflite"

    def __init__(self, net: MobileNetV1, digest: str, num_threads: int, cache_dir: pathlib.Path | None) -> None:
        self._net = net
        self._digest = digest
        self._threads = num_threads
        self._cache_dir = cache_dir
        self._models: dict[int, bytes] = {}
        self._networks: dict[tuple[int, int], TFLiteNetwork] = {}
        self._lock = threading.Lock()
        self._network(16)  # the default stride: converted (or read from the cache) now

    def _network(self, output_stride: int, num_threads: int | None = None) -> TFLiteNetwork:
        """The TFLite model for ``output_stride`` whose interpreters use ``num_threads``
        (default: the engine's). Converted on first use of the stride, then kept."""
        threads = num_threads or self._threads
        with self._lock:
            if output_stride not in self._models:
                self._models[output_stride] = converted_model(self._net, self._digest, output_stride, self._cache_dir)
            key = (output_stride, threads)
            if key not in self._networks:
                self._networks[key] = TFLiteNetwork(self._models[output_stride], threads)
            return self._networks[key]

    def preprocess(self, pixels: Any, geometry: _core.ResizePadGeometry, flip: bool) -> np.ndarray:
        """The float32 (353, 257, 3) model input (native pre-processing: exact division)."""
        return _core.resize_pad_normalize(native_pixels(pixels), geometry, flip_horizontal=flip)

    def logits(
        self,
        pixels: Any,
        geometry: _core.ResizePadGeometry,
        flip: bool,
        output_stride: int,
        with_parts: bool,
        num_threads: int | None = None,
    ) -> np.ndarray:
        """float32 (h, w, 25) logits, segment first (the 24 part channels always come along)."""
        return self._network(output_stride, num_threads).run_image(native_pixels(pixels), geometry, flip)

    def run_input(self, model_input: np.ndarray, output_stride: int) -> np.ndarray:
        """(h, w, 25) logits of a normalised (1, H, W, 3) input: TFLite for the 353 x 257
        input, TensorFlow for other sizes."""
        if tuple(model_input.shape) == MODEL_INPUT_SHAPE:
            return self._network(output_stride).run_input(model_input)
        result: np.ndarray = self._net.heads(self._net.features(tf.constant(model_input), output_stride), True)[
            0
        ].numpy()
        return result
