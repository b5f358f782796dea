"""The ``"tflite"`` engine: the network in LiteRT (``ai-edge-litert``) with XNNPACK, no TensorFlow.

What runs, by weights:

* **2.x weights** (every BodyPix 2 head present, the bundled model among them): one *heads*
  conversion (:func:`person_segmentation._convert.convert_heads`: dynamic ``[1, -1, -1, 3]``
  input, the 174-channel heads array, signatures per stride). :meth:`TFLiteEngine.heads`
  runs it at any input size as BodyPix 2 does; the v0.0.x path runs it at 353 x 257 (with
  both sides dilated, as before) and keeps channel 0 and the 24 part channels, permuted to the
  1.x part order, so one file serves both.
* **1.x weights**: the *fixed* conversion per stride (353 x 257 input, 25 channels), as before;
  :meth:`TFLiteEngine.run_input` of other sizes runs in TensorFlow.

Where a conversion comes from, first found wins: shipped with the package (the bundled model's
``heads.tflite``, whose ``heads.tflite.json`` names the digest of the weights it was made
from), the on-disk cache ``<cache_dir>/tflite/`` (keyed by the weights' digest, the stride, the
conversion version and the installed TensorFlow version, read with ``importlib.metadata``,
without importing it), else converted now, importing TensorFlow, and cached. Without TensorFlow
installed a cached conversion of any TensorFlow version is used, and weights with none cannot
run here (a clear error says so). The MobileNetV1 TensorFlow graph is built only to convert.

Interpreters are not thread-safe: each (stride, input size, threads) has a pool, and each
concurrent call takes its own interpreter from it (made on first need, then reused), so threads
never wait for each other's inference. Pools of sizes other than 353 x 257 are kept for the
:data:`HEADS_SIZE_CACHE` most recently used sizes. A heads interpreter is called through
LiteRT's own wrapper, resized and allocated once for its shape, and BodyPix 2's pre-processing
writes straight into its input tensor (:meth:`TFLiteEngine.bodypix_heads`).

Why one module (about 550 lines): the conversions (cached, shipped or made now), the
interpreters and their pools are the parts of one engine, used by nothing else, and each is
short; split, the engine would be spread over files that each make sense only with the others.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import gzip
import hashlib
import json
import logging
import os
import pathlib
import queue
import tempfile
import threading
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from person_segmentation import _checks, _core, _quiet
from person_segmentation._constants import HEADS_SIZE_CACHE, MODEL_INPUT_SHAPE
from person_segmentation._image import native_pixels
from person_segmentation._network import MobileNetV1, effective_output_stride, has_heads_2x, heads_signature, is_dilated
from person_segmentation._weights import PART_NAMES_1X, PART_NAMES_2X

_log = logging.getLogger("person_segmentation")

#: Bumped whenever the converted graph changes, so stale cached conversions are never used.
_CONVERSION_VERSION = 1
#: The same for the heads conversion (its own file names: ``-heads-`` in them).
_HEADS_CONVERSION_VERSION = 2
#: What the shipped conversions are called, beside the bundled model's JSON files: the
#: description ``heads.tflite.json`` and the flatbuffer gzip-compressed, ``heads.tflite.gz``
#: (5.2 MB of float32 weights become 3.7 MB; decompressing takes about 40 ms at load).
SHIPPED_NAME = "heads.tflite"
SHIPPED_META_SUFFIX = ".json"
SHIPPED_COMPRESSED_SUFFIX = ".gz"
_MODELS_DIR = pathlib.Path(__file__).resolve().parent / "models"
#: Heads channels of the v0.0.x logits: segment, then the 24 parts in 1.x order.
_V0_CHANNELS = np.array([0] + [1 + PART_NAMES_2X.index(name) for name in PART_NAMES_1X], dtype=np.intp)
#: Distributions that provide the ``tensorflow`` module (the first installed one counts).
_TF_DISTRIBUTIONS = ("tensorflow", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos", "tf-nightly")


def weights_digest(tensors: Mapping[str, np.ndarray], multiplier: float) -> str:
    """sha256 over every tensor's name, shape and bytes (in name order) and the multiplier."""
    h = hashlib.sha256(f"multiplier={float(multiplier)!r}".encode())
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name], dtype=np.float32)
        h.update(f"\n{name}{array.shape}".encode())
        h.update(array.data.cast("B"))  # the bytes, without a copy
    return h.hexdigest()


def tensorflow_version() -> str | None:
    """The installed TensorFlow's version, from its package metadata (TensorFlow is not
    imported); None when it is not installed."""
    import importlib.metadata  # not at the top: it imports the email package (~20 ms)

    for distribution in _TF_DISTRIBUTIONS:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def conversion_path(
    cache_dir: pathlib.Path, digest: str, output_stride: int, kind: str = "fixed", tf_version: str | None = None
) -> pathlib.Path:
    """Where the ``kind`` (``"fixed"`` or ``"heads"``) conversion of these weights at this
    stride is cached, for TensorFlow ``tf_version`` (default: the installed one; ``"*"``
    gives a glob pattern matching every version)."""
    version = tf_version if tf_version is not None else (tensorflow_version() or "none")
    if kind == "heads":
        return (
            cache_dir
            / "tflite"
            / f"{digest[:40]}-heads-os{output_stride}-v{_HEADS_CONVERSION_VERSION}-tf{version}.tflite"
        )
    return cache_dir / "tflite" / f"{digest[:40]}-os{output_stride}-v{_CONVERSION_VERSION}-tf{version}.tflite"


def _read_cached(path: pathlib.Path) -> bytes | None:
    """A cached conversion's flatbuffer when the file is intact (it ends with the sha256 of
    what precedes it), else None; a damaged file is reported and will be replaced."""
    with contextlib.suppress(OSError):
        stored = path.read_bytes()
        content, checksum = stored[:-32], stored[-32:]
        if len(stored) > 32 and hashlib.sha256(content).digest() == checksum:
            return content
        _log.warning("replacing a damaged cached TFLite model %s", path)
    return None


def _store(path: pathlib.Path, content: bytes) -> None:
    """Write ``content`` + its sha256 to ``path`` atomically; a failure is only logged."""
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


def converted_model(
    kind: str, digest: str, output_stride: int, cache_dir: pathlib.Path | None, convert: Callable[[], bytes]
) -> bytes:
    """The ``kind`` conversion of the weights ``digest`` at ``output_stride``: read from the
    cache when there (and intact), else ``convert()``-ed and stored there atomically. A cache
    that cannot be written is skipped with a log message (the model is then converted in every
    process). Without TensorFlow, a cached conversion of any TensorFlow version is taken.

    Raises:
        RuntimeError: there is no usable conversion and TensorFlow, needed to make one, is not installed.
    """
    version = tensorflow_version()
    candidates: list[pathlib.Path] = []
    if cache_dir is not None:
        if version is not None:
            candidates = [conversion_path(cache_dir, digest, output_stride, kind, version)]
        else:
            pattern = conversion_path(cache_dir, digest, output_stride, kind, "*")
            with contextlib.suppress(OSError):
                candidates = sorted(pattern.parent.glob(pattern.name), reverse=True)
    for path in candidates:
        if path.is_file() and (content := _read_cached(path)) is not None:
            return content
    if version is None:
        raise RuntimeError(
            "these weights have no LiteRT conversion yet, and making one needs TensorFlow, which is not "
            "installed: pip install tensorflow (the bundled model needs none)"
        )
    content = convert()
    if cache_dir is not None:
        _store(conversion_path(cache_dir, digest, output_stride, kind, version), content)
    return content


@functools.cache
def _shipped() -> dict[str, tuple[pathlib.Path, tuple[int, ...], str]]:
    """The conversions shipped with the package: weights digest -> (file, strides, sha256)."""
    found: dict[str, tuple[pathlib.Path, tuple[int, ...], str]] = {}
    for meta_path in sorted(_MODELS_DIR.glob(f"**/{SHIPPED_NAME}{SHIPPED_META_SUFFIX}")):
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("conversion") != "heads" or meta.get("conversion_version") != _HEADS_CONVERSION_VERSION:
                continue
            strides = tuple(int(s) for s in meta["output_strides"])
            path = meta_path.with_name(SHIPPED_NAME + SHIPPED_COMPRESSED_SUFFIX)
            found[str(meta["weights_sha256"])] = (path, strides, str(meta["sha256"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _log.warning("ignoring the shipped conversion description %s: %s", meta_path, exc)
    return found


def read_shipped(path: pathlib.Path) -> bytes:
    """The flatbuffer of a shipped (gzip-compressed) conversion file."""
    return gzip.decompress(path.read_bytes())


def write_shipped(path: pathlib.Path, content: bytes) -> None:
    """Store a flatbuffer as a shipped conversion file: gzip level 9 with no timestamp, so the
    same flatbuffer always gives the same bytes."""
    path.write_bytes(gzip.compress(content, compresslevel=9, mtime=0))


def shipped_heads(digest: str) -> tuple[bytes, tuple[int, ...]] | None:
    """The shipped heads conversion of the weights ``digest`` and its strides, or None (none
    shipped for these weights, or the file is missing or damaged: then it is converted)."""
    entry = _shipped().get(digest)
    if entry is None:
        return None
    path, strides, sha256 = entry
    try:
        content = read_shipped(path)
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        _log.warning("cannot read the shipped conversion %s: %s", path, exc)
        return None
    if hashlib.sha256(content).hexdigest() != sha256:
        _log.warning("the shipped conversion %s is damaged (sha256 mismatch); converting instead", path)
        return None
    return content, strides


_first_interpreter = threading.Lock()
_quiet_done = False


def _new_interpreter(content: bytes, num_threads: int) -> Any:
    """A LiteRT interpreter (XNNPACK, the default delegate); TensorFlow's deprecated
    ``tf.lite.Interpreter`` only where ``ai-edge-litert`` has no wheel for the platform."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # pragma: no cover - platforms without ai-edge-litert wheels
        tf = _quiet.import_tensorflow()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"(?s).*tf\.lite\.Interpreter is deprecated")
            return tf.lite.Interpreter(model_content=content, num_threads=num_threads)
    return Interpreter(model_content=content, num_threads=num_threads)


def _direct_handles(
    interpreter: Any, runner: Any, input_index: int, output_index: int, shape: tuple[int, ...]
) -> tuple[Any, int, int, int] | None:
    """LiteRT's own calls behind a signature runner (its interpreter wrapper and subgraph),
    with the input resized to ``shape`` and the tensors allocated once: a runner's shape never
    changes, so the resize and allocation ``SignatureRunner.__call__`` repeats on every call
    are left out, and the input tensor can be written in place. None (use the signature
    runner) where the interpreter does not have them (another LiteRT or TensorFlow version)."""
    wrapper = getattr(interpreter, "_interpreter", None)
    subgraph = getattr(runner, "_subgraph_index", None)
    needed = ("ResizeInputTensor", "AllocateTensors", "SetTensor", "Invoke", "GetTensor", "tensor")
    if wrapper is None or not isinstance(subgraph, int) or not all(hasattr(wrapper, name) for name in needed):
        return None
    try:  # the calls as this module makes them: a wrapper of another shape falls back, not fails
        wrapper.ResizeInputTensor(input_index, np.array(shape, np.int32), False, subgraph)
        wrapper.AllocateTensors(subgraph)
        view = wrapper.tensor(wrapper, input_index, subgraph)
        fits = isinstance(view, np.ndarray) and view.shape == shape and view.dtype == np.float32
        del view  # Invoke (unlike Interpreter.invoke) does not check that no view is alive: none may be
    except (TypeError, AttributeError, ValueError, RuntimeError) as exc:
        _log.debug("LiteRT's wrapper calls do not fit (%s): using the signature runner", exc)
        return None
    return (wrapper, subgraph, input_index, output_index) if fits else None


class _Runner:
    """One interpreter, for one input shape; ``signature`` None for a fixed conversion."""

    def __init__(self, content: bytes, num_threads: int, signature: str | None, shape: tuple[int, ...]) -> None:
        global _quiet_done
        self.shape = shape
        self.signature = signature
        self._direct: tuple[Any, int, int, int] | None = None
        with _first_interpreter:
            first = not _quiet_done
            with _quiet.captured("creating the first LiteRT interpreter") if first else contextlib.nullcontext():
                self.interpreter = _new_interpreter(content, num_threads)
                if signature is None:
                    self._init_fixed()
                else:
                    keys = list(self.interpreter.get_signature_list())
                    # a conversion of one function names its signature "serving_default"
                    key = signature if signature in keys or len(keys) != 1 else keys[0]
                    self._runner = self.interpreter.get_signature_runner(key)
                    ((self._input_name, input_details),) = self._runner.get_input_details().items()
                    ((self._output_name, output_details),) = self._runner.get_output_details().items()
                    self._direct = _direct_handles(
                        self.interpreter, self._runner, int(input_details["index"]), int(output_details["index"]), shape
                    )
                    self._buffer = np.zeros(shape, np.float32)
                    if first:  # LiteRT prints its XNNPACK line when the first graph is prepared
                        self.run(self._buffer)
            _quiet_done = True

    def _init_fixed(self) -> None:
        self.interpreter.allocate_tensors()
        (inp,) = self.interpreter.get_input_details()
        (out,) = self.interpreter.get_output_details()
        if tuple(inp["shape"]) != MODEL_INPUT_SHAPE:
            raise RuntimeError(f"converted model takes {tuple(inp['shape'])}, expected {MODEL_INPUT_SHAPE}")
        self.input_index = int(inp["index"])
        self.output_index = int(out["index"])

    def run(self, model_input: np.ndarray) -> np.ndarray:
        """The outputs (h, w, C) of a float32 (1, H, W, 3) input of this runner's shape."""
        if self.signature is None:
            self.interpreter.set_tensor(self.input_index, model_input)
            self.interpreter.invoke()
            fixed: np.ndarray = self.interpreter.get_tensor(self.output_index)[0]
            return fixed
        if self._direct is not None:
            wrapper, subgraph, input_index, output_index = self._direct
            wrapper.SetTensor(input_index, model_input, subgraph)
            wrapper.Invoke(subgraph)
            direct: np.ndarray = wrapper.GetTensor(output_index, subgraph)[0]
            return direct
        result: np.ndarray = self._runner(**{self._input_name: model_input})[self._output_name][0]
        return result

    def run_bodypix(self, pixels: np.ndarray, padding: tuple[int, int, int, int], num_threads: int) -> np.ndarray:
        """The heads of native pixels pre-processed as BodyPix 2 does (``_core.bodypix_preprocess``
        to this runner's input size) straight into the interpreter's input tensor: no model
        input array, no copy, no check (the values are finite by construction)."""
        _, height, width, _ = self.shape
        options: dict[str, Any] = dict(input_height=height, input_width=width, padding=padding, num_threads=num_threads)
        if self._direct is None:
            _core.bodypix_preprocess(pixels, out=self._buffer, **options)
            return self.run(self._buffer)
        wrapper, subgraph, input_index, output_index = self._direct
        model_input = wrapper.tensor(wrapper, input_index, subgraph)
        try:
            _core.bodypix_preprocess(pixels, out=model_input, **options)
        finally:
            del model_input  # no view of the interpreter's buffers may outlive this call
        wrapper.Invoke(subgraph)
        heads: np.ndarray = wrapper.GetTensor(output_index, subgraph)[0]
        return heads

    def run_image(self, pixels: np.ndarray, geometry: _core.ResizePadGeometry, flip: bool) -> np.ndarray:
        """The outputs of an image, pre-processed natively (353 x 257): straight into the
        interpreter's input tensor for a fixed conversion, else into a buffer of this runner."""
        if self.signature is not None:
            _core.resize_pad_normalize(pixels, geometry, flip_horizontal=flip, out=self._buffer, num_threads=1)
            return self.run(self._buffer)
        model_input = self.interpreter.tensor(self.input_index)()
        try:
            _core.resize_pad_normalize(pixels, geometry, flip_horizontal=flip, out=model_input, num_threads=1)
        finally:
            del model_input  # the interpreter refuses to run while a view of its buffers exists
        self.interpreter.invoke()
        logits: np.ndarray = self.interpreter.get_tensor(self.output_index)[0]
        return logits


class _Pool:
    """The interpreters of one (model, signature, input shape, threads); one per concurrent call."""

    def __init__(self, content: bytes, num_threads: int, signature: str | None, shape: tuple[int, ...]) -> None:
        self._args = (content, num_threads, signature, shape)
        self._idle: queue.SimpleQueue[_Runner] = queue.SimpleQueue()
        self._idle.put(_Runner(*self._args))  # fail here, at load time, if it cannot run

    @contextlib.contextmanager
    def runner(self) -> Iterator[_Runner]:
        try:
            runner = self._idle.get_nowait()
        except queue.Empty:
            runner = _Runner(*self._args)
        try:
            yield runner
        finally:
            self._idle.put(runner)


class TFLiteEngine:
    """The ``"tflite"`` engine (see the module's docstring): stride 16 is made ready at
    construction (read, or converted), other strides on first use.

    Args:
        tensors: the loaded weights (float32, 1.x part order).
        multiplier: their depth multiplier.
        num_threads: XNNPACK threads of each interpreter (>= 1).
        cache_dir: where conversions are cached (None: not cached).
    """

    name = "tflite"

    def __init__(
        self, tensors: Mapping[str, np.ndarray], multiplier: float, num_threads: int, cache_dir: pathlib.Path | None
    ) -> None:
        self._tensors = tensors
        self._multiplier = float(multiplier)
        self._threads = num_threads
        self._cache_dir = cache_dir
        self._digest = weights_digest(tensors, multiplier)
        #: Whether the weights have the BodyPix 2 heads (then one heads conversion serves all).
        self.has_heads = has_heads_2x(tensors)
        self._net: MobileNetV1 | None = None
        self._models: dict[int, bytes] = {}  # model stride -> flatbuffer (of the engine's kind)
        self._fixed_pools: dict[tuple[int, str | None, int], _Pool] = {}
        self._sized: collections.OrderedDict[tuple[int, str | None, tuple[int, ...], int], _Pool] = (
            collections.OrderedDict()
        )
        self._lock = threading.Lock()
        if self.has_heads and (shipped := shipped_heads(self._digest)) is not None:
            content, strides = shipped
            self._models.update(dict.fromkeys(strides, content))
        self._pool(16, MODEL_INPUT_SHAPE, None, symmetric=True)  # the default stride: read or converted now

    @property
    def conversions_loaded(self) -> dict[int, str]:
        """Model strides whose conversion is ready, and of which kind (``"heads"`` or ``"fixed"``)."""
        with self._lock:
            return dict.fromkeys(self._models, "heads" if self.has_heads else "fixed")

    def _network(self) -> MobileNetV1:
        """The TensorFlow graph of the weights: built only to convert (imports TensorFlow)."""
        if self._net is None:
            self._net = MobileNetV1(self._tensors, self._multiplier)
        return self._net

    def _model(self, stride: int) -> bytes:
        """The flatbuffer for the model stride ``stride``; call with the lock held."""
        if stride not in self._models:
            kind = "heads" if self.has_heads else "fixed"

            def convert() -> bytes:
                from person_segmentation import _convert

                if self.has_heads:
                    return _convert.convert_heads(self._network(), [stride])
                return _convert.convert_fixed(self._network(), stride)

            self._models[stride] = converted_model(kind, self._digest, stride, self._cache_dir, convert)
        return self._models[stride]

    def _pool(self, output_stride: int, shape: tuple[int, ...], num_threads: int | None, *, symmetric: bool) -> _Pool:
        """The interpreters for this stride, input shape and threads. ``symmetric``: dilate
        both sides (the v0.0.x reading) rather than the rows only (BodyPix 2's); the same
        signature where the network has no dilation at this stride."""
        threads = num_threads or self._threads
        signature: str | None = None
        if self.has_heads:
            # the stride the network really has (32 is 16 on the 0.75/0.50 nets: one model)
            stride = effective_output_stride(self._multiplier, output_stride)
            signature = heads_signature(stride, symmetric and is_dilated(self._multiplier, stride))
        else:
            stride = output_stride
        with self._lock:
            content = self._model(stride)
            if shape == MODEL_INPUT_SHAPE:
                key = (stride, signature, threads)
                if key not in self._fixed_pools:
                    self._fixed_pools[key] = _Pool(content, threads, signature, shape)
                return self._fixed_pools[key]
            sized = (stride, signature, shape, threads)
            pool = self._sized.get(sized)
            if pool is None:
                pool = self._sized[sized] = _Pool(content, threads, signature, shape)
                while len(self._sized) > HEADS_SIZE_CACHE:
                    self._sized.popitem(last=False)  # calls still using it finish with their interpreter
            self._sized.move_to_end(sized)
            return pool

    def preprocess(self, pixels: Any, geometry: _core.ResizePadGeometry, flip: bool) -> np.ndarray:
        """The float32 (353, 257, 3) model input (native pre-processing: exact division)."""
        return _core.resize_pad_normalize(native_pixels(pixels), geometry, flip_horizontal=flip)

    def _v0(self, outputs: np.ndarray) -> np.ndarray:
        """(h, w, 25) v0.0.x logits of a model's outputs (the heads array sliced for 2.x)."""
        return outputs[..., _V0_CHANNELS] if self.has_heads else outputs

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
        with self._pool(output_stride, MODEL_INPUT_SHAPE, num_threads, symmetric=True).runner() as r:
            return self._v0(r.run_image(native_pixels(pixels), geometry, flip))

    def run_input(self, model_input: np.ndarray, output_stride: int) -> np.ndarray:
        """(h, w, 25) logits of a normalised (1, H, W, 3) input: LiteRT for 2.x weights at any
        size and for 353 x 257; TensorFlow for 1.x weights at other sizes."""
        shape = tuple(model_input.shape)
        if self.has_heads or shape == MODEL_INPUT_SHAPE:
            with self._pool(output_stride, shape, None, symmetric=True).runner() as r:
                return self._v0(r.run(model_input))
        tf = _quiet.import_tensorflow()
        net = self._network()
        result: np.ndarray = net.heads(net.features(tf.constant(model_input), output_stride), True)[0].numpy()
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
        float32 (inH, inW, 3) or (1, inH, inW, 3) input, any size, as BodyPix 2 computes it
        (rows-only dilation); ``symmetric_dilation=True`` dilates both sides instead (more
        accurate where the network is dilated: stride 8, or the 1.0 net at 16).

        Raises:
            ValueError: 1.x weights (no 2.x heads), or a bad input / stride / num_threads.
        """
        if not self.has_heads:
            raise ValueError("these weights have no BodyPix 2 heads (1.x weights): heads() needs 2.x weights")
        stride = _checks.check_output_stride(output_stride)
        threads = _checks.check_num_threads(num_threads)
        symmetric = _checks.check_bool(symmetric_dilation, "symmetric_dilation")
        x = _checks.check_model_input(model_input)
        with self._pool(stride, tuple(x.shape), threads, symmetric=symmetric).runner() as r:
            return r.run(x)

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
        of native pixels (``_image.native_pixels``) and a BodyPix 2 geometry, bit for bit,
        pre-processed straight into the interpreter's input tensor (``num_threads``: the
        pre-processing's, 0 = one per hardware thread, and the network's, 0 = the engine's).

        Raises:
            ValueError: 1.x weights (no 2.x heads), or a bad stride / num_threads.
        """
        if not self.has_heads:
            raise ValueError("these weights have no BodyPix 2 heads (1.x weights): heads() needs 2.x weights")
        stride = _checks.check_output_stride(output_stride)
        threads = _checks.check_num_threads(num_threads) or 0
        shape = (1, int(input_height), int(input_width), 3)
        with self._pool(stride, shape, threads or None, symmetric=False).runner() as r:
            return r.run_bodypix(pixels, padding, threads)
