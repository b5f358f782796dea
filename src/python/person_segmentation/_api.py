"""The public model object and ``load``.

Why one module (about 920 lines): :class:`PersonSegmentation` is the API users read; its
methods are thin (checks, then the engine and the one post-processing dispatch), the
``*_from_logits`` functions carry typed overloads for their DLPack result, and most of
the lines are their documentation, which belongs beside the signatures it documents.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, overload

import numpy as np

from person_segmentation import _checks, _core, _engine, _pipeline, _postprocess
from person_segmentation._constants import (
    DEFAULT_WORKERS,
    DEVICES,
    NUM_PARTS,
    POSTPROCESSORS,
    Device,
    EngineName,
    OnError,
    Postprocess,
    Refinement,
)
from person_segmentation._image import ImageLike, as_image, is_tf_tensor, iter_images
from person_segmentation._postprocess import DLPackResult
from person_segmentation._weights import PART_NAMES_1X, LoadedWeights, load_weights, resolve_cache_dir

if TYPE_CHECKING:
    import tensorflow as tf

#: The 24 body-part names; index = part id (the 1.x order of the original, REFERENCE.md section 5).
#: Index it only with ids 0..23: a part map's background is -1, which Python would take as the
#: last name; :func:`part_name` handles -1.
PART_CHANNELS: tuple[str, ...] = tuple(PART_NAMES_1X)


def part_name(part_id: int) -> str | None:
    """The name of a part id of a part map, or None for -1 (background, no person).

    ``ps.part_name(parts[y, x])`` is the safe spelling of ``ps.PART_CHANNELS[parts[y, x]]``,
    which on a background pixel would silently return the last name.

    Args:
        part_id: an int or numpy integer in -1..23.
    Returns:
        ``PART_CHANNELS[part_id]`` (e.g. ``"torso_front"``), or None for -1.
    Raises:
        TypeError: not an integer. ValueError: outside -1..23.
    """
    number = _checks.check_part_id(part_id)
    return None if number < 0 else PART_CHANNELS[number]


@dataclass(frozen=True)
class FailedImage:
    """What :meth:`PersonSegmentation.segment_stream` yields, with ``on_error="skip"``, in
    place of the result of an image that could not be segmented (a missing, unreadable or
    corrupt file, or an unsupported array), so that results stay aligned with the inputs.

    Attributes:
        index: the image's position in the input (0 for the first).
        image: the input as it was given (a path, an array, ...).
        error: the exception (a ``ValueError``, ``TypeError`` or ``OSError`` such as
            ``FileNotFoundError``) that segmenting it raised.
    """

    index: int
    image: Any
    error: BaseException

    def __bool__(self) -> bool:  # ``if result:`` reads "if it worked"
        return False

    def __str__(self) -> str:
        shown = os.fspath(self.image) if isinstance(self.image, (str, os.PathLike)) else type(self.image).__name__
        return f"image {self.index} ({shown}): {self.error}"


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
    checked = _checks.check_part_id_array(parts)
    result: np.ndarray = _MIRROR[checked.astype(np.intp) + 1]
    return result


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


@dataclass(frozen=True)
class PersonSegmentationResult:
    """What :meth:`PersonSegmentation.segment` returns (in the style of MediaPipe Tasks'
    ``ImageSegmenterResult``: a confidence mask and a category mask).

    Attributes:
        mask: uint8 (H, W), 1 = person: exactly ``probability > segmentation_threshold`` (and,
            without ``refine``, what :meth:`PersonSegmentation.estimate_person_segmentation`
            returns).
        probability: float32 (H, W) in [0, 1]: the person probability the mask thresholds (the
            full-resolution sigmoid score, computed natively in the same pass; refined when
            ``refine`` asked for it). A feathered alpha for :mod:`person_segmentation.render`.
        parts: int32 (H, W) part ids 0..23, -1 where there is no person (with ``parts=True``
            and no ``refine``: what ``estimate_part_segmentation`` returns), else None. With
            ``refine``, part ids outside the refined mask are -1 and refined-mask pixels
            without a part id keep -1.
    """

    mask: np.ndarray
    probability: np.ndarray
    parts: np.ndarray | None = None


def _check_postprocess(value: object) -> Postprocess:
    return _checks.check_choice(value, "postprocess", POSTPROCESSORS)


def _prepare(image: ImageLike) -> tuple[Any, _core.ResizePadGeometry]:
    """Checked (H, W, 3) pixels and their resize/pad geometry."""
    pixels = as_image(image)
    return pixels, _core.compute_geometry(int(pixels.shape[0]), int(pixels.shape[1]))


@dataclass(frozen=True)
class _Options:
    """Checked per-call options of an estimate."""

    parts: bool
    flip: bool
    stride: int
    threshold: float
    swap: bool


def _options(
    parts: object,
    flip_horizontal: object,
    output_stride: object,
    segmentation_threshold: object,
    swap_left_right: object,
) -> _Options:
    """The estimate options checked, in the order of the estimates' signature
    (``swap_left_right`` only with ``parts``)."""
    options = _Options(
        parts=_checks.check_bool(parts, "parts"),
        flip=_checks.check_bool(flip_horizontal, "flip_horizontal"),
        stride=_checks.check_output_stride(output_stride),
        threshold=_checks.check_threshold(segmentation_threshold),
        swap=_checks.check_bool(swap_left_right, "swap_left_right"),
    )
    if options.swap and not options.parts:
        raise ValueError("swap_left_right needs parts=True")
    return options


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
        engine: EngineName = "auto",
        postprocess: Postprocess = "native",
        num_threads: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.multiplier = weights.multiplier
        self.weights_format = weights.format
        self.weights_source = weights.source
        self.postprocess: Postprocess = _check_postprocess(postprocess)
        self._all_threads = _engine.resolve_threads(num_threads)  # validates; 0/None -> hardware threads
        self.num_threads = int(num_threads or 0)
        self.engine = _engine.resolve_engine(engine)
        self._engine = _engine.create(
            self.engine,
            weights.tensors,
            weights.multiplier,
            num_threads=self._all_threads,
            cache_dir=resolve_cache_dir(cache_dir),
        )

    def __repr__(self) -> str:
        return (
            f"PersonSegmentation(multiplier={self.multiplier}, weights_format={self.weights_format!r}, "
            f"engine={self.engine!r}, postprocess={self.postprocess!r}, weights_source={self.weights_source!r})"
        )

    # -- the network --------------------------------------------------------------------------
    def preprocess(self, image: ImageLike, flip_horizontal: bool = False) -> tuple[np.ndarray, _core.ResizePadGeometry]:
        """The network's input for ``image``: resized keeping aspect, zero-padded, normalised.

        Args:
            image: see :meth:`estimate_person_segmentation`.
            flip_horizontal: mirror the image first.
        Returns:
            A tuple ``(model_input, geometry)``: ``model_input`` is a float32 numpy array
            (353, 257, 3) with values ``pixel / 127.5 - 1`` (padding is -1), ``geometry`` the
            :class:`~person_segmentation.ResizePadGeometry` used (what ``*_from_logits``
            need to map logits back to the image). :meth:`run_network` takes either the
            pair or its first element. The ``"tflite"`` engine's native
            pre-processing divides exactly (as the original); TensorFlow's graph optimiser
            turns the ``"tf"`` engine's division into a multiplication by 1/127.5, which can
            differ in the last bit.
        """
        flip = _checks.check_bool(flip_horizontal, "flip_horizontal")
        pixels, geometry = _prepare(image)
        return self._engine.preprocess(pixels, geometry, flip), geometry

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
        flip = _checks.check_bool(flip_horizontal, "flip_horizontal")
        stride = _checks.check_output_stride(output_stride)
        with_parts = _checks.check_bool(with_parts, "with_parts")
        pixels, geometry = _prepare(image)
        logits = self._engine.logits(pixels, geometry, flip, stride, with_parts)
        values = logits if isinstance(logits, np.ndarray) else logits.numpy()
        return Logits(values[:, :, :1], values[:, :, 1:] if with_parts else None, geometry, flip)

    def threads_per_worker(self, workers: int) -> int | None:
        """Threads to give each of ``workers`` concurrent calls (their ``num_threads``): the
        net's threads split between them (at least 1); None (the net's own) for one worker."""
        count = _checks.check_int(workers, "workers", 1)
        return max(1, self._all_threads // count) if count > 1 else None

    def _segment(self, image: ImageLike, o: _Options, num_threads: int | None = None) -> np.ndarray:
        """One image's mask or part map (``o.parts``); ``num_threads`` overrides the net's
        threads (interpreter and post-processing) for this call."""
        pixels, geometry = _prepare(image)
        logits = self._engine.logits(pixels, geometry, o.flip, o.stride, o.parts, num_threads)
        result = _postprocess.run(
            logits,
            geometry,
            parts=o.parts,
            threshold=o.threshold,
            flip=o.flip,
            num_threads=self.num_threads if num_threads is None else num_threads,
            method=self.postprocess,
        )
        return _MIRROR[result + 1] if o.swap else result

    def _segment_result(
        self, image: ImageLike, o: _Options, refine: str, num_threads: int | None = None
    ) -> PersonSegmentationResult:
        """One image's :class:`PersonSegmentationResult` (mask, probability, parts if ``o.parts``)."""
        pixels, geometry = _prepare(image)
        logits = self._engine.logits(pixels, geometry, o.flip, o.stride, o.parts, num_threads)
        result, probability = _postprocess.run_probability(
            logits,
            geometry,
            parts=o.parts,
            threshold=o.threshold,
            flip=o.flip,
            num_threads=self.num_threads if num_threads is None else num_threads,
            method=self.postprocess,
        )
        if o.swap:  # (only with parts: see _options)
            result = _MIRROR[result + 1]
        if refine == "guided":
            from person_segmentation import _refine

            probability, mask, kept = _refine.refine_result(
                np.asarray(pixels), probability, o.threshold, result if o.parts else None
            )
            return PersonSegmentationResult(mask, probability, kept)
        if o.parts:
            return PersonSegmentationResult((result >= 0).astype(np.uint8), probability, result)
        return PersonSegmentationResult(result, probability, None)

    def run_network(
        self, model_input: np.ndarray | tf.Tensor | tuple[np.ndarray, _core.ResizePadGeometry], output_stride: int = 16
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run only the network on an already resized, padded and normalised input.

        ``net.run_network(net.preprocess(image))`` works as written: the
        ``(model_input, geometry)`` pair :meth:`preprocess` returns is taken as its
        ``model_input`` (the geometry is not needed to run the network; keep it to map the
        logits back, e.g. ``ps.person_mask_from_logits(..., geometry=geometry)``).

        Args:
            model_input: float32 (H, W, 3) or (1, H, W, 3), values ``pixel / 127.5 - 1``
                (the original's input is 353 x 257; other sizes run in TensorFlow), a numpy
                array or a tf.Tensor of real numbers (other float and integer dtypes are
                converted to float32), 1 <= H, W <= 65536, all finite; or :meth:`preprocess`'s
                ``(model_input, geometry)`` pair.
            output_stride: 8, 16 or 32.
        Returns:
            ``(segment, parts)``: float32 (h, w, 1) and (h, w, 24) raw logits, parts in part-id order.
        Raises:
            TypeError: ``model_input`` is not an array or tensor of real numbers (nor
                :meth:`preprocess`'s pair), e.g. another tuple or a list.
            ValueError: a wrong shape, an empty side, or NaN / infinite values.
        """
        stride = _checks.check_output_stride(output_stride)
        value: Any = model_input
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], _core.ResizePadGeometry):
            value = value[0]  # preprocess()'s (model_input, geometry)
        if is_tf_tensor(value):
            value = value.numpy()
        x = _checks.check_model_input(value)
        logits = self._engine.run_input(x, stride)
        return logits[:, :, :1], logits[:, :, 1:]

    # -- the public estimates (names of the original, in snake_case) --------------------------
    def estimate_person_segmentation(
        self,
        image: ImageLike,
        flip_horizontal: bool = False,
        output_stride: int = 16,
        segmentation_threshold: float = 0.5,
        *,
        num_threads: int | None = None,
    ) -> np.ndarray:
        """Person mask of ``image`` (the original's ``estimatePersonSegmentation``).

        Args:
            image: RGB uint8 numpy array (H, W, 3); also (H, W) grayscale, (H, W, 4) RGBA
                (alpha dropped), integer arrays with values in 0..255 (8-bit values whatever
                the dtype: pass 16-bit pixels as ``np.round(a / 257).astype(np.uint8)``),
                float arrays of pixel values in 0..255 (float16/32/64 and bfloat16; NaN counts
                as 0, values outside 0..255 are clipped), a ``PIL.Image.Image``, a path to an
                image file (JPEG, PNG, BMP, GIF, TIFF, WebP or PPM/PGM/PBM/PFM, whatever its
                name; a regular file), or a ``tf.Tensor``. Files and PIL images at high bit
                depths are scaled to 8 bits: 16-bit modes as ``round(v / 257)``, float (mode
                ``F``) as 0..1. Any strides; read-only arrays are fine; sides up to 65536.
            flip_horizontal: mirror the image before the network (as the original does for
                webcam input); the result is mirrored back, so it lines up with ``image``.
            output_stride: 8, 16 or 32: smaller is more accurate and slower.
            segmentation_threshold: a pixel is a person where its score is > this, in [0, 1].
            num_threads: CPU threads of this call (the TFLite interpreter and the native
                post-processing; e.g. :meth:`threads_per_worker` when calling from several
                threads at once); None: the net's ``num_threads``.
        Returns:
            uint8 array (H, W), C-contiguous: 1 = person, 0 = background.
        Raises:
            TypeError, ValueError: for unsupported images or arguments (the message names them).
            FileNotFoundError: ``image`` is a path that does not exist.
        """
        o = _options(False, flip_horizontal, output_stride, segmentation_threshold, False)
        return self._segment(image, o, _checks.check_num_threads(num_threads))

    def estimate_part_segmentation(
        self,
        image: ImageLike,
        flip_horizontal: bool = False,
        output_stride: int = 16,
        segmentation_threshold: float = 0.5,
        *,
        swap_left_right: bool = False,
        num_threads: int | None = None,
    ) -> np.ndarray:
        """Body-part map of ``image`` (the original's ``estimatePartSegmentation``).

        Args:
            image, flip_horizontal, output_stride, segmentation_threshold: as for
                :meth:`estimate_person_segmentation`.
            swap_left_right: relabel left parts as right and vice versa. As in the original,
                ``flip_horizontal`` alone mirrors the result back without swapping labels.
            num_threads: as for :meth:`estimate_person_segmentation`.
        Returns:
            int32 array (H, W), C-contiguous: part id 0..23 (see :data:`PART_CHANNELS`),
            -1 where there is no person.
        Raises:
            TypeError, ValueError: for unsupported images or arguments (the message names them).
            FileNotFoundError: ``image`` is a path that does not exist.
        """
        o = _options(True, flip_horizontal, output_stride, segmentation_threshold, swap_left_right)
        return self._segment(image, o, _checks.check_num_threads(num_threads))

    def estimate_person_probability(
        self,
        image: ImageLike,
        flip_horizontal: bool = False,
        output_stride: int = 16,
        *,
        refine: Refinement | None = None,
        num_threads: int | None = None,
    ) -> np.ndarray:
        """Person probability of ``image``: the soft mask that
        :meth:`estimate_person_segmentation` thresholds.

        Args:
            image, flip_horizontal, output_stride, num_threads: as for
                :meth:`estimate_person_segmentation`.
            refine: ``None`` / ``"none"``, or ``"guided"``: the probability edge-refined by a
                guided filter with the image as guide (see :meth:`segment`).
        Returns:
            float32 (H, W), C-contiguous, values in [0, 1]: the sigmoid score of the segment
            logits scaled back to the image (bilinear, as the mask's), computed natively.
            ``estimate_person_probability(img) > t`` equals
            ``estimate_person_segmentation(img, segmentation_threshold=t)`` exactly (no refine).
        Raises:
            TypeError, ValueError: for unsupported images or arguments (the message names them).
            FileNotFoundError: ``image`` is a path that does not exist.
        """
        return self.segment(image, flip_horizontal, output_stride, refine=refine, num_threads=num_threads).probability

    def segment(
        self,
        image: ImageLike,
        flip_horizontal: bool = False,
        output_stride: int = 16,
        segmentation_threshold: float = 0.5,
        *,
        parts: bool = False,
        swap_left_right: bool = False,
        refine: Refinement | None = None,
        num_threads: int | None = None,
    ) -> PersonSegmentationResult:
        """Mask, person probability and (``parts``) part map of ``image`` in one call.

        The probability comes from the same native pass as the mask (no second network run,
        no extra resize): ``result.mask == (result.probability > segmentation_threshold)``.

        Args:
            image, flip_horizontal, output_stride, segmentation_threshold, num_threads: as
                for :meth:`estimate_person_segmentation`.
            parts: also the part map (as :meth:`estimate_part_segmentation`).
            swap_left_right: as for :meth:`estimate_part_segmentation` (with ``parts``).
            refine: ``None`` / ``"none"`` (default), or ``"guided"``: refine the probability's
                edges with a colour guided filter (He et al.'s fast form; radius 3 % of the
                image diagonal, eps 1e-3) guided by the image, then threshold it. On the
                shared photos with the 2.x float/quant2 weights it raises the mean person IoU
                of each folder by 0.01-0.07 and its boundary F-score by 0.04-0.2
                (docs/accuracy.md); about 5 ms per 640 x 480 frame.
        Returns:
            A :class:`PersonSegmentationResult`.
        Raises:
            TypeError, ValueError: for unsupported images or arguments (the message names them).
            FileNotFoundError: ``image`` is a path that does not exist.
        """
        o = _options(parts, flip_horizontal, output_stride, segmentation_threshold, swap_left_right)
        how = _checks.check_refine(refine)
        return self._segment_result(image, o, how, _checks.check_num_threads(num_threads))

    # -- many images -------------------------------------------------------------------------
    @overload
    def segment_stream(
        self,
        images: Iterable[ImageLike],
        *,
        parts: bool = ...,
        flip_horizontal: bool = ...,
        output_stride: int = ...,
        segmentation_threshold: float = ...,
        swap_left_right: bool = ...,
        workers: int | None = ...,
        on_error: Literal["raise"] = ...,
        results: Literal[False] = ...,
    ) -> Iterator[np.ndarray]: ...

    @overload
    def segment_stream(
        self,
        images: Iterable[ImageLike],
        *,
        parts: bool = ...,
        flip_horizontal: bool = ...,
        output_stride: int = ...,
        segmentation_threshold: float = ...,
        swap_left_right: bool = ...,
        workers: int | None = ...,
        on_error: Literal["skip"],
        results: Literal[False] = ...,
    ) -> Iterator[np.ndarray | FailedImage]: ...

    @overload
    def segment_stream(
        self,
        images: Iterable[ImageLike],
        *,
        parts: bool = ...,
        flip_horizontal: bool = ...,
        output_stride: int = ...,
        segmentation_threshold: float = ...,
        swap_left_right: bool = ...,
        workers: int | None = ...,
        on_error: OnError = ...,
        results: Literal[True],
    ) -> Iterator[PersonSegmentationResult | FailedImage]: ...

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
        on_error: OnError = "raise",
        results: bool = False,
    ) -> Iterator[Any]:
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
            on_error: what an image that cannot be segmented (a missing, unreadable or
                corrupt file, an unsupported array: the ``ValueError``, ``TypeError`` or
                ``OSError`` the estimates raise for it) does to the stream. ``"raise"``
                (default): the exception is raised at its position (the results before it are
                yielded first) and the stream ends. ``"skip"``: a :class:`FailedImage`
                (falsy; its ``index``, the ``image`` as given and the ``error``) is yielded in
                its place and the stream goes on, as the command line reports and skips bad
                files; results stay aligned with the inputs. Other exceptions (e.g. a
                ``RuntimeError`` of the engine) are raised either way.
            results: yield :class:`PersonSegmentationResult` objects (mask, person
                probability and, with ``parts``, the part map) as :meth:`segment` returns.
        Yields:
            uint8 (H, W) masks, or int32 (H, W) part maps, one per image, in order (with
            ``results``: :class:`PersonSegmentationResult`; with ``on_error="skip"``, a
            :class:`FailedImage` for each image that failed).
        Raises:
            TypeError, ValueError: for bad arguments (at the call, before any image is read)
                or, with ``on_error="raise"``, a bad image (when its result is reached).
            FileNotFoundError: with ``on_error="raise"``, a path that does not exist.
        """
        o = _options(parts, flip_horizontal, output_stride, segmentation_threshold, swap_left_right)
        count = _checks.check_workers(workers) or DEFAULT_WORKERS
        skip = _checks.check_on_error(on_error) == "skip"
        with_results = _checks.check_bool(results, "results")
        source = iter_images(images, "estimate_person_segmentation / estimate_part_segmentation")
        threads = self.threads_per_worker(count)

        def one(image: ImageLike) -> Any:
            if with_results:
                return self._segment_result(image, o, "none", threads)
            return self._segment(image, o, threads)

        if not skip:
            return _pipeline.ordered_map(one, source, workers=count, window=2 * count)
        return _skipping(_pipeline.ordered_map(one, source, workers=count, window=2 * count, return_exceptions=True))

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
                images,
                flip_horizontal=flip_horizontal,
                output_stride=output_stride,
                segmentation_threshold=segmentation_threshold,
                workers=workers,
            )
        )

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
                images,
                parts=True,
                flip_horizontal=flip_horizontal,
                output_stride=output_stride,
                segmentation_threshold=segmentation_threshold,
                swap_left_right=swap_left_right,
                workers=workers,
            )
        )


def _skipping(results: Iterator[Any]) -> Iterator[np.ndarray | FailedImage]:
    """``ordered_map(..., return_exceptions=True)``'s results with the failures of bad images
    as :class:`FailedImage`; any other failure is raised (it is not the image's fault)."""
    for index, result in enumerate(results):
        if isinstance(result, _pipeline.Failed):
            if not isinstance(result.error, (ValueError, TypeError, OSError)):
                raise result.error
            yield FailedImage(index, result.item, result.error)
        else:
            yield result


def _logits_values(
    logits: object, parts: bool, geometry: object, flip: bool | None
) -> tuple[Any, _core.ResizePadGeometry, bool]:
    """The logits of a ``*_from_logits`` call as the post-processing takes them: ``(values,
    geometry, flip)``, from a :class:`Logits` (its own geometry and flip, unless ``flip`` is
    given; segment then parts with ``parts``) or a DLPack producer with ``geometry``."""
    if isinstance(logits, Logits):
        if geometry is not None:
            raise ValueError(
                f"geometry must be None when logits is a Logits (it has its own), got {type(geometry).__name__}"
            )
        values: Any
        if parts:
            if logits.parts is None:
                raise ValueError("logits.parts is None: call estimate_logits(..., with_parts=True)")
            values = np.concatenate((logits.segment, logits.parts), axis=-1)
        else:
            values = logits.segment
        return values, logits.geometry, logits.flip_horizontal if flip is None else flip
    return _checks.check_dlpack_producer(logits, "logits"), _checks.check_geometry(geometry), bool(flip)


def _from_logits(
    logits: object,
    segmentation_threshold: object,
    parts: bool,
    postprocess: object,
    num_threads: object,
    device: object,
    geometry: object,
    flip_horizontal: object,
    result_on_device: object,
) -> np.ndarray | DLPackResult:
    """The checked arguments of the ``*_from_logits`` functions, through the one dispatch."""
    threshold = _checks.check_threshold(segmentation_threshold)
    method = _check_postprocess(postprocess)
    threads = _checks.check_int(num_threads, "num_threads", 0)
    where = _checks.check_choice(device, "device", DEVICES)
    flip = _checks.check_optional_bool(flip_horizontal, "flip_horizontal")
    keep = _checks.check_bool(result_on_device, "result_on_device")
    values, where_from, flip = _logits_values(logits, parts, geometry, flip)
    return _postprocess.run(
        values,
        where_from,
        parts=parts,
        threshold=threshold,
        flip=flip,
        num_threads=threads,
        method=method,
        device=where,
        result_on_device=keep,
    )


@overload
def person_mask_from_logits(
    logits: Logits | Any,
    segmentation_threshold: float = ...,
    *,
    postprocess: Postprocess = ...,
    num_threads: int = ...,
    device: Device = ...,
    geometry: _core.ResizePadGeometry | None = ...,
    flip_horizontal: bool | None = ...,
    result_on_device: Literal[False] = ...,
) -> np.ndarray: ...
@overload
def person_mask_from_logits(
    logits: Logits | Any,
    segmentation_threshold: float = ...,
    *,
    postprocess: Postprocess = ...,
    num_threads: int = ...,
    device: Device = ...,
    geometry: _core.ResizePadGeometry | None = ...,
    flip_horizontal: bool | None = ...,
    result_on_device: Literal[True],
) -> DLPackResult: ...
def person_mask_from_logits(
    logits: Logits | Any,
    segmentation_threshold: float = 0.5,
    *,
    postprocess: Postprocess = "native",
    num_threads: int = 0,
    device: Device = "cpu",
    geometry: _core.ResizePadGeometry | None = None,
    flip_horizontal: bool | None = None,
    result_on_device: bool = False,
) -> np.ndarray | DLPackResult:
    """Post-process logits into a uint8 (H, W) 0/1 person mask.

    ``logits`` is a :class:`Logits` (from ``estimate_logits``), or any DLPack producer of
    float32 (h, w, 1 + parts) logits, segment first (a numpy array, or a PyTorch, CuPy, JAX or
    TensorFlow tensor: ``__dlpack__`` / ``__dlpack_device__``), with its ``geometry``
    (:func:`compute_geometry` of the image) and ``flip_horizontal`` (default False; for a
    :class:`Logits`, default its own). Logits in CUDA memory are read in place by the CUDA
    kernels of the device that holds them, after the producer's pending work (its
    ``__dlpack__`` is called with ``stream=``; no device-wide synchronisation, except for
    TensorFlow, whose export names no stream); where the CUDA kernels cannot run, they are
    copied to the host. ``postprocess="native"`` uses the C++ core, on the CPU or
    (``device="cuda"`` for logits in host memory: uploaded) with its CUDA kernels; ``"tf"``
    the TensorFlow reference. ``result_on_device=True`` returns a ``DLPackResult`` left where
    the kernels ran (CUDA memory after the CUDA kernels: ``torch.from_dlpack(result)``)
    instead of a numpy array.
    """
    return _from_logits(
        logits,
        segmentation_threshold,
        False,
        postprocess,
        num_threads,
        device,
        geometry,
        flip_horizontal,
        result_on_device,
    )


@overload
def part_segmentation_from_logits(
    logits: Logits | Any,
    segmentation_threshold: float = ...,
    *,
    postprocess: Postprocess = ...,
    num_threads: int = ...,
    device: Device = ...,
    geometry: _core.ResizePadGeometry | None = ...,
    flip_horizontal: bool | None = ...,
    result_on_device: Literal[False] = ...,
) -> np.ndarray: ...
@overload
def part_segmentation_from_logits(
    logits: Logits | Any,
    segmentation_threshold: float = ...,
    *,
    postprocess: Postprocess = ...,
    num_threads: int = ...,
    device: Device = ...,
    geometry: _core.ResizePadGeometry | None = ...,
    flip_horizontal: bool | None = ...,
    result_on_device: Literal[True],
) -> DLPackResult: ...
def part_segmentation_from_logits(
    logits: Logits | Any,
    segmentation_threshold: float = 0.5,
    *,
    postprocess: Postprocess = "native",
    num_threads: int = 0,
    device: Device = "cpu",
    geometry: _core.ResizePadGeometry | None = None,
    flip_horizontal: bool | None = None,
    result_on_device: bool = False,
) -> np.ndarray | DLPackResult:
    """Post-process logits (with parts) into int32 (H, W) part ids, -1 = background.

    The arguments are as for :func:`person_mask_from_logits`.
    """
    return _from_logits(
        logits,
        segmentation_threshold,
        True,
        postprocess,
        num_threads,
        device,
        geometry,
        flip_horizontal,
        result_on_device,
    )


def person_probability_from_logits(
    logits: Logits | Any,
    *,
    postprocess: Postprocess = "native",
    num_threads: int = 0,
    device: Device = "cpu",
    geometry: _core.ResizePadGeometry | None = None,
    flip_horizontal: bool | None = None,
) -> np.ndarray:
    """Post-process logits into the float32 (H, W) person probability in [0, 1].

    The arguments are as for :func:`person_mask_from_logits`;
    ``person_probability_from_logits(l) > t`` equals ``person_mask_from_logits(l, t)``
    exactly. Logits in CUDA memory are copied to the host (the kernels that leave their result
    on the device make masks and part maps only); ``device="cuda"`` with host logits runs the
    CUDA kernels.
    """
    method = _check_postprocess(postprocess)
    threads = _checks.check_int(num_threads, "num_threads", 0)
    where = _checks.check_choice(device, "device", DEVICES)
    flip = _checks.check_optional_bool(flip_horizontal, "flip_horizontal")
    values, where_from, flip = _logits_values(logits, False, geometry, flip)
    _, probability = _postprocess.run_probability(
        values, where_from, parts=False, threshold=0.5, flip=flip, num_threads=threads, method=method, device=where
    )
    return probability


def load(
    multiplier: float = 0.75,
    *,
    weights: str | os.PathLike[str] | None = None,
    engine: EngineName = "auto",
    postprocess: Postprocess = "native",
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
            ``default_cache_dir()``; ``~`` is expanded).
    Raises:
        TypeError: an argument of the wrong type.
        ValueError: multiplier, engine, postprocess or num_threads not allowed; WeightsError (a ValueError) for
            missing, truncated or mismatched weights, naming the file.
    """
    canonical = _checks.check_multiplier(multiplier)
    _check_postprocess(postprocess)
    _engine.check_engine(engine)
    _checks.check_num_threads(num_threads)
    loaded = load_weights(canonical, weights, cache_dir=cache_dir)
    return PersonSegmentation(
        loaded, engine=engine, postprocess=postprocess, num_threads=num_threads, cache_dir=cache_dir
    )
