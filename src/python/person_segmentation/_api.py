"""The public model object and ``load``."""

from __future__ import annotations

import math
import os
import pathlib
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from person_segmentation import _core, _engine, _pipeline, _postprocess
from person_segmentation._image import ImageLike, as_image
from person_segmentation._network import NUM_PARTS, MobileNetV1, validate_output_stride
from person_segmentation._weights import MULTIPLIERS, PART_NAMES_1X, LoadedWeights, default_cache_dir, load_weights

#: The 24 body-part names; index = part id (the 1.x order of the original, REFERENCE.md section 5).
PART_CHANNELS: tuple[str, ...] = tuple(PART_NAMES_1X)


def _mirror_table() -> np.ndarray:
    """int32 (25,) lookup: index ``id + 1`` -> the id of the mirrored part (``-1`` stays)."""
    table = np.arange(-1, NUM_PARTS, dtype=np.int32)
    for i, name in enumerate(PART_CHANNELS):
        for a, b in (("left", "right"), ("right", "left")):
            if name.startswith(a + "_"):
                table[i + 1] = PART_CHANNELS.index(b + name[len(a) :])
    return table


_MIRROR = _mirror_table()


def swap_left_right(parts: np.ndarray) -> np.ndarray:
    """Relabel every left part as the matching right part and vice versa.

    Args:
        parts: int32 (H, W) part ids, -1..23.
    Returns:
        int32 (H, W), a new array.
    """
    parts = np.asarray(parts)
    if parts.dtype.kind not in "iu":
        raise TypeError(f"parts must be an integer array of part ids, got dtype {parts.dtype}")
    if parts.size and (parts.min() < -1 or parts.max() >= NUM_PARTS):
        raise ValueError(f"parts must hold ids in -1..{NUM_PARTS - 1}, got {parts.min()}..{parts.max()}")
    return _MIRROR[parts.astype(np.intp) + 1]


class Logits(NamedTuple):
    """Raw network outputs for one image and the geometry to map them back to it.

    Attributes:
        segment: float32 (h, w, 1) ``segment_2`` logits.
        parts: float32 (h, w, 24) ``part_heatmap_2`` logits in part-id order, or None.
        geometry: how the image was resized and padded to the model input.
        flip_horizontal: whether the image was mirrored before the network.
    """

    segment: np.ndarray
    parts: np.ndarray | None
    geometry: _core.ResizePadGeometry
    flip_horizontal: bool


def _check_threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"segmentation_threshold must be a number in [0, 1], got {value!r}")
    value = float(value)
    if not (0.0 <= value <= 1.0):  # also rejects NaN
        raise ValueError(f"segmentation_threshold must be a number in [0, 1], got {value!r}")
    return value


def _check_flag(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _check_postprocess(value: object) -> str:
    if value not in _postprocess.POSTPROCESSORS:
        raise ValueError(f"postprocess must be one of {_postprocess.POSTPROCESSORS}, got {value!r}")
    return str(value)


def _prepare(image: ImageLike) -> tuple[np.ndarray | tf.Tensor, _core.ResizePadGeometry]:
    """Checked (H, W, 3) pixels and their resize/pad geometry."""
    pixels = as_image(image)
    return pixels, _core.compute_geometry(int(pixels.shape[0]), int(pixels.shape[1]))


def _layout(g: _core.ResizePadGeometry) -> tf.Tensor:
    """The geometry as the TF path's int32 layout tensor
    ``[resized_h, resized_w, pad_top, pad_bottom, pad_left, pad_right]``."""
    return tf.constant([g.resized_height, g.resized_width, g.pad_top, g.pad_bottom, g.pad_left, g.pad_right], tf.int32)


def _native_pixels(pixels: np.ndarray | tf.Tensor) -> np.ndarray:
    """Pixels as the native pre-processing takes them: uint8 or float32 numpy (any strides).
    Other float types become float32 (exactly what TF's resize reads them as); integer
    tensors are range-checked by ``as_image`` and become uint8."""
    array = pixels.numpy() if isinstance(pixels, tf.Tensor) else pixels
    if array.dtype == np.uint8 or array.dtype == np.float32:
        return array
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    return array.astype(np.uint8)


#: Pixel dtypes TensorFlow's ResizeBilinear reads directly (it always computes in float32).
_RESIZABLE = (tf.uint8, tf.int8, tf.uint16, tf.int16, tf.int32, tf.int64, tf.float16, tf.bfloat16, tf.float32, tf.float64)


def _resize_pad_normalize(image: tf.Tensor, layout: tf.Tensor, flip: bool | tf.Tensor) -> tf.Tensor:
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


_preprocess_fn = tf.function(_resize_pad_normalize, reduce_retracing=True)


@dataclass(frozen=True)
class _Options:
    """Checked per-call options of an estimate."""

    parts: bool
    flip: bool
    stride: int
    threshold: float
    swap: bool


def _options(
    parts: object, flip_horizontal: object, output_stride: object, segmentation_threshold: object, swap_left_right: object
) -> _Options:
    """The estimate options checked, in the order of the estimates' signature."""
    return _Options(
        parts=_check_flag(parts, "parts"),
        flip=_check_flag(flip_horizontal, "flip_horizontal"),
        stride=validate_output_stride(output_stride),
        threshold=_check_threshold(segmentation_threshold),
        swap=_check_flag(swap_left_right, "swap_left_right"),
    )


class PersonSegmentation:
    """A loaded person-segmentation network (MobileNetV1) with its post-processing.

    Create it with :func:`load`. Methods can be called from several threads at once.

    Attributes:
        multiplier: depth multiplier of the loaded weights (1.0, 0.75, 0.5 or 0.25).
        weights_format: ``"1.x"`` (the original's partmap weights) or ``"2.x"`` (BodyPix 2).
        weights_source: where the weights were read from.
        engine: where the network runs: ``"tflite"`` (TensorFlow Lite with XNNPACK, the
            default on CPU) or ``"tf"`` (TensorFlow, the default where a GPU is visible).
        postprocess: ``"native"`` (the C++ core, default) or ``"tf"`` (TensorFlow reference).
        num_threads: threads for the TFLite interpreter and the native post-processing
            (0 = one per hardware thread).
    """

    def __init__(
        self,
        weights: LoadedWeights,
        *,
        engine: str = "auto",
        postprocess: str = "native",
        num_threads: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.multiplier = weights.multiplier
        self.weights_format = weights.format
        self.weights_source = weights.source
        self.engine = _engine.resolve_engine(engine)
        self.postprocess = _check_postprocess(postprocess)
        self._all_threads = _engine.resolve_threads(num_threads)  # validates; 0/None -> hardware threads
        self.num_threads = int(num_threads or 0)
        self._net = MobileNetV1(weights.tensors, weights.multiplier)
        self._functions: dict[tuple[int, bool, bool], Callable[..., tf.Tensor]] = {}
        self._lock = threading.Lock()
        self._tflite_models: dict[int, bytes] = {}
        self._tflite: dict[tuple[int, int], _engine.TFLiteNetwork] = {}
        self._tflite_lock = threading.Lock()
        self._cache_dir = pathlib.Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._digest = ""
        if self.engine == "tflite":
            self._digest = _engine.weights_digest(weights.tensors, weights.multiplier)
            self._tflite_network(16)  # the default stride: converted (or read from the cache) now

    def __repr__(self) -> str:
        return (
            f"PersonSegmentation(multiplier={self.multiplier}, weights_format={self.weights_format!r}, "
            f"engine={self.engine!r}, postprocess={self.postprocess!r}, weights_source={self.weights_source!r})"
        )

    # -- the network --------------------------------------------------------------------------
    def _function(self, output_stride: int, with_parts: bool, flip: bool) -> Callable[..., tf.Tensor]:
        key = (output_stride, with_parts, flip)
        with self._lock:
            if key not in self._functions:
                net = self._net

                def run(image: tf.Tensor, layout: tf.Tensor) -> tf.Tensor:
                    x = _resize_pad_normalize(image, layout, flip)
                    return net.heads(net.features(x, output_stride), with_parts)[0]

                self._functions[key] = tf.function(run, reduce_retracing=True)
            return self._functions[key]

    def _tflite_network(self, output_stride: int, num_threads: int | None = None) -> _engine.TFLiteNetwork:
        """The TFLite model for ``output_stride`` whose interpreters use ``num_threads``
        (default: the net's). Converted on first use of the stride (or read from the
        on-disk cache), then kept."""
        threads = num_threads or self._all_threads
        with self._tflite_lock:
            if output_stride not in self._tflite_models:
                self._tflite_models[output_stride] = _engine.converted_model(
                    self._net, self._digest, output_stride, self._cache_dir
                )
            key = (output_stride, threads)
            if key not in self._tflite:
                self._tflite[key] = _engine.TFLiteNetwork(self._tflite_models[output_stride], threads)
            return self._tflite[key]

    def preprocess(self, image: ImageLike, flip_horizontal: bool = False) -> tuple[np.ndarray, _core.ResizePadGeometry]:
        """The network's input for ``image``: resized keeping aspect, zero-padded, normalised.

        Args:
            image: see :meth:`estimate_person_segmentation`.
            flip_horizontal: mirror the image first.
        Returns:
            ``(model_input, geometry)``: float32 (353, 257, 3) with values ``pixel / 127.5 - 1``
            (padding is -1), and the resize/pad geometry used. The ``"tflite"`` engine's native
            pre-processing divides exactly (as the original); TensorFlow's graph optimiser
            turns the ``"tf"`` engine's division into a multiplication by 1/127.5, which can
            differ in the last bit.
        """
        flip = _check_flag(flip_horizontal, "flip_horizontal")
        pixels, geometry = _prepare(image)
        if self.engine == "tflite":
            return _core.resize_pad_normalize(_native_pixels(pixels), geometry, flip_horizontal=flip), geometry
        layout = _layout(geometry)
        return _preprocess_fn(tf.convert_to_tensor(pixels), layout, tf.constant(flip)).numpy()[0], geometry

    def estimate_logits(
        self, image: ImageLike, flip_horizontal: bool = False, output_stride: int = 16, *, with_parts: bool = True
    ) -> Logits:
        """Run resize-and-pad and the network, returning the raw head logits.

        Args:
            image: see :meth:`estimate_person_segmentation`.
            flip_horizontal: mirror the image before the network.
            output_stride: 8, 16 or 32 (the 0.75/0.50/0.25 nets give stride-16 grids for 32).
            with_parts: also return the 24 part logits.
        Returns:
            :class:`Logits` with float32 arrays of shape (h, w, 1) and (h, w, 24) where
            h, w = ceil(353 / s), ceil(257 / s) for the effective stride s.
        """
        flip = _check_flag(flip_horizontal, "flip_horizontal")
        stride = validate_output_stride(output_stride)
        pixels, geometry = _prepare(image)
        logits = self._logits(pixels, geometry, flip, stride, with_parts)
        values = logits if isinstance(logits, np.ndarray) else logits.numpy()
        return Logits(values[:, :, :1], values[:, :, 1:] if with_parts else None, geometry, flip)

    def _logits(
        self, pixels: np.ndarray | tf.Tensor, geometry: _core.ResizePadGeometry, flip: bool, stride: int,
        with_parts: bool, num_threads: int | None = None,
    ) -> np.ndarray | tf.Tensor:
        """The network's (h, w, 1 [+ 24]) logits for checked pixels: a numpy array from the
        TFLite engine (always with the 24 part channels; interpreters with ``num_threads``),
        a tensor on TensorFlow's device from the TF engine."""
        if self.engine == "tflite":
            return self._tflite_network(stride, num_threads).run_image(_native_pixels(pixels), geometry, flip)
        return self._function(stride, with_parts, flip)(tf.convert_to_tensor(pixels), _layout(geometry))

    def _worker_threads(self, workers: int) -> int | None:
        """Threads for each of ``workers`` concurrent calls: the net's threads split between
        them (at least 1); None (the net's own) for a single worker."""
        return max(1, self._all_threads // workers) if workers > 1 else None

    def _segment(self, image: ImageLike, o: _Options, num_threads: int | None = None) -> np.ndarray:
        """One image's mask or part map (``o.parts``); ``num_threads`` overrides the net's
        threads (interpreter and post-processing) for this call."""
        pixels, geometry = _prepare(image)
        logits = self._logits(pixels, geometry, o.flip, o.stride, o.parts, num_threads)
        post_threads = self.num_threads if num_threads is None else num_threads
        if o.parts:
            return self._part_map(logits, geometry, o.threshold, o.flip, o.swap, post_threads)
        return self._person_mask(logits, geometry, o.threshold, o.flip, post_threads)

    def run_network(self, model_input: np.ndarray | tf.Tensor, output_stride: int = 16) -> tuple[np.ndarray, np.ndarray]:
        """Run only the network on an already resized, padded and normalised input.

        Args:
            model_input: float32 (H, W, 3) or (1, H, W, 3), values ``pixel / 127.5 - 1``
                (the original's input is 353 x 257; other sizes run in TensorFlow).
            output_stride: 8, 16 or 32.
        Returns:
            ``(segment, parts)``: float32 (h, w, 1) and (h, w, 24) raw logits, parts in part-id order.
        """
        stride = validate_output_stride(output_stride)
        x = tf.convert_to_tensor(model_input, tf.float32)
        if x.shape.rank == 3:
            x = x[tf.newaxis]
        if x.shape.rank != 4 or x.shape[0] != 1 or x.shape[3] != 3:
            raise ValueError(f"model_input must have shape (H, W, 3) or (1, H, W, 3), got {tuple(x.shape)}")
        if self.engine == "tflite" and tuple(x.shape) == _engine.MODEL_INPUT_SHAPE:
            logits = self._tflite_network(stride).run_input(x.numpy())
        else:
            logits = self._net.heads(self._net.features(x, stride), True)[0].numpy()
        return logits[:, :, :1], logits[:, :, 1:]

    # -- the public estimates (names of the original, in snake_case) --------------------------
    def estimate_person_segmentation(
        self,
        image: ImageLike,
        flip_horizontal: bool = False,
        output_stride: int = 16,
        segmentation_threshold: float = 0.5,
    ) -> np.ndarray:
        """Person mask of ``image`` (the original's ``estimatePersonSegmentation``).

        Args:
            image: RGB uint8 numpy array (H, W, 3); also (H, W) grayscale, (H, W, 4) RGBA
                (alpha dropped), integer arrays with values in 0..255, float arrays of pixel
                values in 0..255 (NaN counts as 0, values outside 0..255 are clipped), a
                ``PIL.Image.Image``, a path to an image file, or a ``tf.Tensor``. Any strides;
                read-only arrays are fine; sides up to 65536.
            flip_horizontal: mirror the image before the network (as the original does for
                webcam input); the result is mirrored back, so it lines up with ``image``.
            output_stride: 8, 16 or 32: smaller is more accurate and slower.
            segmentation_threshold: a pixel is a person where its score is > this, in [0, 1].
        Returns:
            uint8 array (H, W), C-contiguous: 1 = person, 0 = background.
        Raises:
            TypeError, ValueError: for unsupported images or arguments (the message names them).
        """
        o = _options(False, flip_horizontal, output_stride, segmentation_threshold, False)
        return self._segment(image, o)

    def _person_mask(
        self, logits: np.ndarray | tf.Tensor, geometry: _core.ResizePadGeometry, threshold: float, flip: bool,
        num_threads: int,
    ) -> np.ndarray:
        if self.postprocess == "tf":
            return _postprocess.tf_person_mask(logits[:, :, :1], geometry, threshold, flip)
        if isinstance(logits, np.ndarray):
            return _postprocess.native_person_mask(logits[:, :, :1], geometry, threshold, flip, num_threads)
        return _postprocess.native_person_mask_dlpack(logits, geometry, threshold, flip, num_threads)

    def estimate_part_segmentation(
        self,
        image: ImageLike,
        flip_horizontal: bool = False,
        output_stride: int = 16,
        segmentation_threshold: float = 0.5,
        *,
        swap_left_right: bool = False,
    ) -> np.ndarray:
        """Body-part map of ``image`` (the original's ``estimatePartSegmentation``).

        Args:
            image, flip_horizontal, output_stride, segmentation_threshold: as for
                :meth:`estimate_person_segmentation`.
            swap_left_right: relabel left parts as right and vice versa. As in the original,
                ``flip_horizontal`` alone mirrors the result back without swapping labels.
        Returns:
            int32 array (H, W), C-contiguous: part id 0..23 (see :data:`PART_CHANNELS`),
            -1 where there is no person.
        Raises:
            TypeError, ValueError: for unsupported images or arguments (the message names them).
        """
        o = _options(True, flip_horizontal, output_stride, segmentation_threshold, swap_left_right)
        return self._segment(image, o)

    def _part_map(
        self, logits: np.ndarray | tf.Tensor, geometry: _core.ResizePadGeometry, threshold: float, flip: bool,
        swap: bool, num_threads: int,
    ) -> np.ndarray:
        if self.postprocess == "tf":
            parts = _postprocess.tf_part_segmentation(logits[:, :, :1], logits[:, :, 1:], geometry, threshold, flip)
        elif isinstance(logits, np.ndarray):
            parts = _postprocess.native_part_segmentation(
                logits[:, :, :1], logits[:, :, 1:], geometry, threshold, flip, num_threads
            )
        else:
            parts = _postprocess.native_part_segmentation_dlpack(logits, geometry, threshold, flip, num_threads)
        return _MIRROR[parts + 1] if swap else parts


    # -- many images -------------------------------------------------------------------------
    def segment_stream(
        self,
        images: Iterable[ImageLike],
        *,
        parts: bool = False,
        flip_horizontal: bool = False,
        output_stride: int = 16,
        segmentation_threshold: float = 0.5,
        swap_left_right: bool = False,
        workers: int | None = None,
    ) -> Iterator[np.ndarray]:
        """Segment many images, pipelined: results come back in input order while the next
        images are decoded, run through the network and post-processed on other threads.

        Each result equals what :meth:`estimate_person_segmentation` (or, with ``parts``,
        :meth:`estimate_part_segmentation`) returns for that image. ``images`` is consumed
        lazily (a generator over a million files is fine) and at most ``2 * workers`` images
        are in flight, so memory stays bounded. File paths are decoded on the worker threads.

        Args:
            images: any iterable of images as the estimates take them (arrays, PIL images,
                paths, tensors); a 4-D array (N, H, W, 3) is N images.
            parts: part maps (int32, -1 = background) instead of masks (uint8 0/1).
            flip_horizontal, output_stride, segmentation_threshold, swap_left_right: as for
                the estimates (``swap_left_right`` only with ``parts``).
            workers: images processed at once (default 2). With the TFLite engine the
                net's threads are split among them (each interpreter gets
                ``num_threads // workers``, at least 1).
        Yields:
            uint8 (H, W) masks, or int32 (H, W) part maps, one per image, in order.
        Raises:
            TypeError, ValueError: for bad arguments (at the call, before any image is read)
                or a bad image (when its result is reached; the results before it are
                yielded first).
        """
        o = _options(parts, flip_horizontal, output_stride, segmentation_threshold, swap_left_right)
        if o.swap and not o.parts:
            raise ValueError("swap_left_right needs parts=True")
        count = _check_workers(workers)
        if isinstance(images, (str, os.PathLike, tf.Tensor)) or (isinstance(images, np.ndarray) and images.ndim != 4):
            raise TypeError(
                f"images must be an iterable of images (or a 4-D (N, H, W, 3) array), got {type(images).__name__}; "
                "for one image use estimate_person_segmentation / estimate_part_segmentation"
            )
        threads = self._worker_threads(count)

        def one(image: ImageLike) -> np.ndarray:
            return self._segment(image, o, threads)

        return _pipeline.ordered_map(one, images, workers=count, window=2 * count)  # type: ignore[return-value]

    def estimate_person_segmentation_batch(
        self,
        images: Iterable[ImageLike],
        flip_horizontal: bool = False,
        output_stride: int = 16,
        segmentation_threshold: float = 0.5,
        *,
        workers: int | None = None,
    ) -> list[np.ndarray]:
        """Person masks of several images, computed with :meth:`segment_stream`.

        Args:
            images: a sequence or iterable of images (or a 4-D (N, H, W, 3) array); sizes may
                differ.
            flip_horizontal, output_stride, segmentation_threshold: as for
                :meth:`estimate_person_segmentation`.
            workers: see :meth:`segment_stream`.
        Returns:
            A list of uint8 (H, W) masks, one per image, in order.
        """
        return list(
            self.segment_stream(
                images, flip_horizontal=flip_horizontal, output_stride=output_stride,
                segmentation_threshold=segmentation_threshold, workers=workers,
            )
        )  # fmt: skip

    def estimate_part_segmentation_batch(
        self,
        images: Iterable[ImageLike],
        flip_horizontal: bool = False,
        output_stride: int = 16,
        segmentation_threshold: float = 0.5,
        *,
        swap_left_right: bool = False,
        workers: int | None = None,
    ) -> list[np.ndarray]:
        """Part maps of several images, computed with :meth:`segment_stream`.

        Args:
            images: as for :meth:`estimate_person_segmentation_batch`.
            flip_horizontal, output_stride, segmentation_threshold, swap_left_right: as for
                :meth:`estimate_part_segmentation`.
            workers: see :meth:`segment_stream`.
        Returns:
            A list of int32 (H, W) part maps (-1 = background), one per image, in order.
        """
        return list(
            self.segment_stream(
                images, parts=True, flip_horizontal=flip_horizontal, output_stride=output_stride,
                segmentation_threshold=segmentation_threshold, swap_left_right=swap_left_right, workers=workers,
            )
        )  # fmt: skip


DEFAULT_WORKERS = 2


def _check_workers(workers: object) -> int:
    if workers is None:
        return DEFAULT_WORKERS
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or not 1 <= int(workers) <= 64:
        raise ValueError(f"workers must be None or an int in 1..64, got {workers!r}")
    return int(workers)


def person_mask_from_logits(
    logits: Logits,
    segmentation_threshold: float = 0.5,
    *,
    postprocess: str = "native",
    num_threads: int = 0,
    device: str = "cpu",
) -> np.ndarray:
    """Post-process :class:`Logits` into a uint8 (H, W) 0/1 person mask.

    ``postprocess="native"`` uses the C++ core, on the CPU or (``device="cuda"``, the logits
    are uploaded) with its CUDA kernels; ``"tf"`` the TensorFlow reference.
    """
    threshold = _check_threshold(segmentation_threshold)
    if _check_postprocess(postprocess) == "native":
        return _postprocess.native_person_mask(
            logits.segment, logits.geometry, threshold, logits.flip_horizontal, num_threads, device
        )
    return _postprocess.tf_person_mask(logits.segment, logits.geometry, threshold, logits.flip_horizontal)


def part_segmentation_from_logits(
    logits: Logits,
    segmentation_threshold: float = 0.5,
    *,
    postprocess: str = "native",
    num_threads: int = 0,
    device: str = "cpu",
) -> np.ndarray:
    """Post-process :class:`Logits` (with parts) into int32 (H, W) part ids, -1 = background.

    ``postprocess`` and ``device`` as for :func:`person_mask_from_logits`.
    """
    threshold = _check_threshold(segmentation_threshold)
    if logits.parts is None:
        raise ValueError("logits.parts is None: call estimate_logits(..., with_parts=True)")
    if _check_postprocess(postprocess) == "native":
        return _postprocess.native_part_segmentation(
            logits.segment, logits.parts, logits.geometry, threshold, logits.flip_horizontal, num_threads, device
        )
    return _postprocess.tf_part_segmentation(logits.segment, logits.parts, logits.geometry, threshold, logits.flip_horizontal)


def load(
    multiplier: float = 0.75,
    *,
    weights: str | os.PathLike[str] | None = None,
    engine: str = "auto",
    postprocess: str = "native",
    num_threads: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> PersonSegmentation:
    """Load the network for ``multiplier`` (the original's ``load``).

    Args:
        multiplier: MobileNet depth multiplier, one of 1.0, 0.75, 0.5, 0.25.
        weights: ``None`` (the ``PERSON_SEGMENTATION_WEIGHTS`` environment variable, else the
            official URL, downloaded once into the cache), a local directory or an
            http(s)/file URL naming (a) a base mirroring the official layout, (b) one 1.x
            model folder, or (c) a 2.x ``model-stride*.json``.
        engine: where the network runs: ``"auto"`` (default: ``"tf"`` where TensorFlow sees a
            GPU, else ``"tflite"``), ``"tf"`` (TensorFlow) or ``"tflite"`` (TensorFlow Lite
            with XNNPACK, converted from the same weights for the 353 x 257 input; each
            output stride is converted once and cached in ``cache_dir/tflite``; stride 16 is
            converted here, others on first use).
        postprocess: ``"native"`` (C++ core, default) or ``"tf"`` (TensorFlow reference).
        num_threads: threads for the TFLite interpreter and the native post-processing;
            None = one per hardware thread.
        cache_dir: where downloads and converted models are kept (default: see
            ``default_cache_dir()``).
    Raises:
        ValueError: multiplier, engine, postprocess or num_threads not allowed; WeightsError (a ValueError) for
            missing, truncated or mismatched weights, naming the file.
    """
    if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float)) or not any(
        math.isclose(float(multiplier), m) for m in MULTIPLIERS
    ):
        raise ValueError(f"multiplier must be one of {MULTIPLIERS}, got {multiplier!r}")
    _check_postprocess(postprocess)
    _engine.resolve_engine(engine)
    _engine.resolve_threads(num_threads)
    loaded = load_weights(float(multiplier), weights, cache_dir=cache_dir)
    return PersonSegmentation(loaded, engine=engine, postprocess=postprocess, num_threads=num_threads, cache_dir=cache_dir)
