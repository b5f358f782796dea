"""BodyPix 2: person masks, body-part maps and 17-keypoint poses of every person in an image.

A port of ``@tensorflow-models/body-pix`` 2.2.1 (MobileNetV1) that reproduces its four calls
(``../shared/spec/BODYPIX2.md``; checked against BodyPix 2.2.1's own outputs): the network
runs on the package's engines (TFLite with XNNPACK on CPU, TensorFlow on GPU) at BodyPix 2's
internal resolution, and every step after it (scale-back, threshold, part argmax, the pose
decoder and the per-person instance decoder) runs in the native core, multithreaded.

    >>> from person_segmentation import bodypix
    >>> net = bodypix.load()                                   # doctest: +SKIP  bundled model
    >>> seg = net.segment_person("me.jpg")                     # doctest: +SKIP
    >>> seg.mask, seg.all_poses[0].keypoints[0]                # doctest: +SKIP
    >>> people = net.segment_multi_person_parts("group.jpg")   # doctest: +SKIP
    >>> people[0].parts, people[0].pose.score                  # doctest: +SKIP

Part ids are BodyPix 2's (:data:`PART_CHANNELS`), not the 1.x ids of
:data:`person_segmentation.PART_CHANNELS`. Where this module deliberately differs from
BodyPix 2.2.1:

* ``load()`` with no arguments uses the model bundled with the package (0.75, quant2, no
  download) where BodyPix 2's ``load()`` fetches the float 0.75 model (and ``load({})`` the
  float 1.00 one). ``load(multiplier, quant_bytes=...)`` fetches the official file.
* ``flip_horizontal=True`` is honoured: the results are those of the unflipped image,
  mirrored (masks and part maps mirrored, keypoint ``x -> width - 1 - x``; part and keypoint
  ids stay the person's own left and right). BodyPix 2.2.1 accepts the option and ignores it.
* ``min_keypoint_score`` is accepted and validated but, as in BodyPix 2.2.1's CPU decoder
  (the one behind its cpu, wasm and tfjs-node backends), not used: the instance decoder
  matches the five face keypoints whose score is above a fixed 0.3.
* Integer options are checked as integers (BodyPix 2 takes ``max_detections=2.5`` as 3).

Why one module (about 700 lines): it is the whole public BodyPix 2 API, which users read in
one place: the result types, the model object's four calls and ``load``; the work is done by
the native core and the engines, and most lines are the documentation of the signatures.
"""

from __future__ import annotations

import inspect
import math
import os
import pathlib
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from person_segmentation import _checks, _core, _engine, _pipeline
from person_segmentation._constants import (
    BODYPIX_CALLS,
    BODYPIX_KEYPOINT_NAMES,
    BUNDLED_MULTIPLIER,
    DEFAULT_WORKERS,
    EngineName,
)
from person_segmentation._image import ImageLike, as_image, iter_images, native_pixels
from person_segmentation._weights import (
    OFFICIAL_BASE_URL,
    PART_NAMES_2X,
    WeightsError,
    bundled_model,
    from_env_note,
    load_weights,
    official_model_path,
    resolve_cache_dir,
    weights_location_from_env,
)

__all__ = [
    "KEYPOINT_NAMES",
    "PART_CHANNELS",
    "BodyPix",
    "Keypoint",
    "PartInstance",
    "PersonInstance",
    "Pose",
    "SemanticPartSegmentation",
    "SemanticPersonSegmentation",
    "load",
]

#: The 24 body parts; index = part id of BodyPix 2 (its ``PART_CHANNELS``, spec section 12).
#: "left"/"right" are the person's own.
PART_CHANNELS: tuple[str, ...] = tuple(PART_NAMES_2X)
#: The 17 pose keypoints; index = keypoint id (BodyPix 2 / PoseNet order, spec section 9).
KEYPOINT_NAMES: tuple[str, ...] = BODYPIX_KEYPOINT_NAMES

#: The model bundled with the package (spec section 1's layout): (multiplier, quant_bytes).
_BUNDLED = (BUNDLED_MULTIPLIER, 2)


@dataclass(frozen=True)
class Keypoint:
    """One pose keypoint.

    Attributes:
        part: its name, one of :data:`KEYPOINT_NAMES`.
        score: its heatmap score in [0, 1].
        x, y: its position in image pixels (column, row; not clamped to the image: occluded
            keypoints can lie outside it).
    """

    part: str
    score: float
    x: float
    y: float


@dataclass(frozen=True)
class Pose:
    """One decoded pose.

    Attributes:
        score: the pose score (mean over the 17 keypoints of the scores not suppressed by an
            earlier pose; spec section 9), in [0, 1].
        keypoints: the 17 keypoints in :data:`KEYPOINT_NAMES` order.
    """

    score: float
    keypoints: tuple[Keypoint, ...]

    def to_array(self) -> np.ndarray:
        """float64 (17, 3): ``[y, x, score]`` per keypoint (the layout of the decoders)."""
        return np.array([(k.y, k.x, k.score) for k in self.keypoints], dtype=np.float64).reshape(-1, 3)


@dataclass(frozen=True, eq=False)
class SemanticPersonSegmentation:
    """Result of :meth:`BodyPix.segment_person`: one mask for all people.

    Attributes:
        mask: uint8 (H, W), 1 where the person score is above ``segmentation_threshold``.
        probability: float32 (H, W), the person score itself (a soft mask).
        all_poses: every decoded pose (up to ``max_detections``), in decoding order, not
            filtered by pose score.
        height, width: the image size.
    """

    mask: np.ndarray
    probability: np.ndarray
    all_poses: list[Pose]
    height: int
    width: int


@dataclass(frozen=True, eq=False)
class SemanticPartSegmentation:
    """Result of :meth:`BodyPix.segment_person_parts`: one part map for all people.

    Attributes:
        parts: int32 (H, W), the part id (:data:`PART_CHANNELS`) inside the mask, -1 outside.
        mask: uint8 (H, W), the person mask (``parts >= 0``).
        probability: float32 (H, W), the person score.
        all_poses: as in :class:`SemanticPersonSegmentation`.
        height, width: the image size.
    """

    parts: np.ndarray
    mask: np.ndarray
    probability: np.ndarray
    all_poses: list[Pose]
    height: int
    width: int


@dataclass(frozen=True, eq=False)
class PersonInstance:
    """One person of :meth:`BodyPix.segment_multi_person`.

    Attributes:
        mask: uint8 (H, W), 1 on this person's pixels (people never overlap; may be all 0).
        pose: this person's pose.
        height, width: the image size.
    """

    mask: np.ndarray
    pose: Pose
    height: int
    width: int


@dataclass(frozen=True, eq=False)
class PartInstance:
    """One person of :meth:`BodyPix.segment_multi_person_parts`.

    Attributes:
        parts: int32 (H, W), the part id on this person's pixels, -1 elsewhere.
        mask: uint8 (H, W), this person's pixels (``parts >= 0``).
        pose: this person's pose.
        height, width: the image size.
    """

    parts: np.ndarray
    mask: np.ndarray
    pose: Pose
    height: int
    width: int


# -- geometry (spec sections 4 and 5) --------------------------------------------------------------
def _js_round(value: float) -> int:
    """JavaScript ``Math.round``: the nearest integer, halves towards +infinity."""
    low = math.floor(value)
    return int(low + 1 if value - low >= 0.5 else low)


def _valid_input_side(value: float, output_stride: int) -> int:
    """A side ``v = size * fraction`` made valid: kept when ``(v - 1) mod s == 0``, else
    ``floor(v / s) * s + 1`` (spec section 4, float64)."""
    if math.fmod(value - 1, output_stride) == 0:
        return int(value)
    return int(math.floor(value / output_stride) * output_stride + 1)


def _input_size(height: int, width: int, fraction: float, output_stride: int) -> tuple[int, int]:
    """The network input (inH, inW) for an image and a checked internal-resolution fraction."""
    return _valid_input_side(height * fraction, output_stride), _valid_input_side(width * fraction, output_stride)


def _padding(height: int, width: int, input_height: int, input_width: int) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` zero padding that brings the image to the input's aspect
    (spec section 5: symmetric, ``Math.round``)."""
    target = input_width / input_height
    if width / height < target:
        side = _js_round(0.5 * (target * height - width))
        return 0, 0, side, side
    side = _js_round(0.5 * ((1.0 / target) * width - height))
    return side, side, 0, 0


# -- options ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Options:
    flip: bool
    fraction: float
    threshold: float
    max_detections: int
    score_threshold: float
    nms_radius: float
    refine_steps: int = 10


def _options(
    flip_horizontal: object,
    internal_resolution: object,
    segmentation_threshold: object,
    max_detections: object,
    score_threshold: object,
    nms_radius: object,
    min_keypoint_score: object = 0.3,
    refine_steps: object = 10,
) -> _Options:
    """Every option checked, in the order of the calls' signatures."""
    options = _Options(
        flip=_checks.check_bool(flip_horizontal, "flip_horizontal"),
        fraction=_checks.check_internal_resolution(internal_resolution),
        threshold=_checks.check_threshold(segmentation_threshold),
        max_detections=_checks.check_max_detections(max_detections),
        score_threshold=_checks.check_threshold(score_threshold, "score_threshold"),
        nms_radius=_checks.check_nms_radius(nms_radius),
        refine_steps=_checks.check_refine_steps(refine_steps),
    )
    _checks.check_threshold(min_keypoint_score, "min_keypoint_score")  # validated, unused (see the docstring)
    return options


# -- the model ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Frame:
    """One image's network outputs and the geometry to map them back."""

    heads: np.ndarray
    height: int
    width: int
    geometry: dict[str, Any]  # image/input sizes and padding, as the native functions take them


class BodyPix:
    """A loaded BodyPix 2 MobileNetV1 model; create it with :func:`load`.

    The four calls take an image as the 1.x estimates do (a path, a ``PIL.Image``, a numpy
    array uint8 or 0..255 float, RGB / RGBA / grayscale, or a ``tf.Tensor``) and BodyPix 2's
    options with its defaults; bad values raise TypeError / ValueError naming the option.
    Calls can be made from several threads at once.

    Attributes:
        multiplier: the depth multiplier (0.5, 0.75 or 1.0).
        output_stride: 8 or 16, used for the network, the input size and the decoders.
        quant_bytes: 4 (float), 2 (uint16) or 1 (uint8) weights; None when ``model_url`` named
            the model file (or its folder) rather than a base of the official layout.
        engine: ``"tflite"`` (TFLite with XNNPACK, CPU) or ``"tf"`` (TensorFlow).
        num_threads: CPU threads of the network and the native post-processing (0 = one per
            hardware thread).
        model_source: where the weights were read from.
    """

    def __init__(
        self,
        engine: Any,
        *,
        multiplier: float,
        output_stride: int,
        quant_bytes: int | None,
        num_threads: int,
        model_source: str,
    ) -> None:
        self._engine = engine
        self.engine: str = engine.name
        self.multiplier = multiplier
        self.output_stride = output_stride
        self.quant_bytes = quant_bytes
        self.num_threads = num_threads
        self.model_source = model_source

    def __repr__(self) -> str:
        return (
            f"BodyPix(multiplier={self.multiplier}, output_stride={self.output_stride}, "
            f"quant_bytes={self.quant_bytes}, engine={self.engine!r}, model_source={self.model_source!r})"
        )

    # -- the stages --------------------------------------------------------------------------
    def _frame(self, image: ImageLike, fraction: float) -> _Frame:
        """Input size, padding, native pre-processing and the network (spec sections 2, 4, 5)."""
        pixels = native_pixels(as_image(image))
        height, width = int(pixels.shape[0]), int(pixels.shape[1])
        input_height, input_width = _input_size(height, width, fraction, self.output_stride)
        padding = _padding(height, width, input_height, input_width)
        heads = self._engine.bodypix_heads(
            pixels, input_height, input_width, padding, self.output_stride, self.num_threads
        )
        geometry = dict(
            image_height=height, image_width=width, input_height=input_height, input_width=input_width, padding=padding
        )
        return _Frame(heads, height, width, geometry)

    def _scale_back(
        self, frame: _Frame, o: _Options, parts: bool, probability: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Mask, part ids (when asked) and person score (when asked): spec sections 6-8."""
        result: tuple[np.ndarray, np.ndarray | None, np.ndarray | None] = _core.bodypix_scale_back(
            frame.heads,
            threshold=o.threshold,
            parts=parts,
            probability=probability,
            num_threads=self.num_threads,
            **frame.geometry,
        )
        return result

    def _poses(self, frame: _Frame, o: _Options) -> tuple[np.ndarray, np.ndarray]:
        keypoints, scores = _core.bodypix_decode_poses(
            frame.heads,
            output_stride=self.output_stride,
            max_detections=o.max_detections,
            score_threshold=o.score_threshold,
            nms_radius=o.nms_radius,
            **frame.geometry,
        )
        return keypoints, scores

    def _semantic(
        self, image: ImageLike, o: _Options, parts: bool
    ) -> tuple[_Frame, np.ndarray, np.ndarray | None, np.ndarray, list[Pose]]:
        """The two semantic calls: the frame, mask, part ids (when asked), person score and
        every pose, mirrored when ``o.flip``."""
        frame = self._frame(image, o.fraction)
        mask, part_ids, probability = self._scale_back(frame, o, parts)
        assert probability is not None
        poses = _to_poses(*self._poses(frame, o), frame.width, o.flip)
        if o.flip:
            mask, probability = _mirror(mask), _mirror(probability)
            part_ids = None if part_ids is None else _mirror(part_ids)
        return frame, mask, part_ids, probability, poses

    def _instances(
        self, image: ImageLike, o: _Options, parts: bool
    ) -> tuple[_Frame, np.ndarray, np.ndarray | None, list[Pose]]:
        """The two multi-person calls: the frame, person index per pixel (-1 nobody), the part
        map (when asked) and the people, mirrored when ``o.flip``."""
        frame = self._frame(image, o.fraction)
        mask, part_ids, _ = self._scale_back(frame, o, parts, probability=False)
        keypoints, scores = self._poses(frame, o)
        keep = scores >= o.score_threshold
        people_keypoints = np.ascontiguousarray(keypoints[keep])
        index = _core.bodypix_decode_instances(
            frame.heads,
            mask,
            people_keypoints,
            output_stride=self.output_stride,
            refine_steps=o.refine_steps,
            num_threads=self.num_threads,
            **frame.geometry,
        )
        people = _to_poses(people_keypoints, scores[keep], frame.width, o.flip)
        if o.flip:
            index = _mirror(index)
            part_ids = None if part_ids is None else _mirror(part_ids)
        return frame, index, part_ids, people

    # -- BodyPix 2's four calls ----------------------------------------------------------------
    def segment_person(
        self,
        image: ImageLike,
        *,
        flip_horizontal: bool = False,
        internal_resolution: str | float = "medium",
        segmentation_threshold: float = 0.7,
        max_detections: int = 10,
        score_threshold: float = 0.4,
        nms_radius: float = 20,
    ) -> SemanticPersonSegmentation:
        """One mask of all people, and every decoded pose (BodyPix 2's ``segmentPerson``).

        Args:
            image: the image (see :class:`BodyPix`).
            flip_horizontal: mirror the results (see the module docstring).
            internal_resolution: the network input's size as a fraction of the image's:
                ``"low"`` (0.25), ``"medium"`` (0.5), ``"high"`` (0.75), ``"full"`` (1.0) or a
                number in [0.1, 2.0]; rounded down to ``k * output_stride + 1`` per side.
            segmentation_threshold: mask pixels have a person score above this, in [0, 1].
            max_detections: the most poses decoded (an int >= 1).
            score_threshold: the least root-keypoint score of a pose candidate, in [0, 1].
            nms_radius: a candidate within this many network-input pixels of the same keypoint
                of an earlier pose is skipped (> 0).
        Returns:
            :class:`SemanticPersonSegmentation`.
        """
        o = _options(
            flip_horizontal, internal_resolution, segmentation_threshold, max_detections, score_threshold, nms_radius
        )
        frame, mask, _, probability, poses = self._semantic(image, o, parts=False)
        return SemanticPersonSegmentation(mask, probability, poses, frame.height, frame.width)

    def segment_person_parts(
        self,
        image: ImageLike,
        *,
        flip_horizontal: bool = False,
        internal_resolution: str | float = "medium",
        segmentation_threshold: float = 0.7,
        max_detections: int = 10,
        score_threshold: float = 0.4,
        nms_radius: float = 20,
    ) -> SemanticPartSegmentation:
        """One part map of all people, and every decoded pose (``segmentPersonParts``).

        The arguments are those of :meth:`segment_person`.

        Returns:
            :class:`SemanticPartSegmentation`: ``parts`` is the argmax of the 24 part scores
            (after the sigmoid and the resize to the image) inside the person mask, -1 outside.
        """
        o = _options(
            flip_horizontal, internal_resolution, segmentation_threshold, max_detections, score_threshold, nms_radius
        )
        frame, mask, part_ids, probability, poses = self._semantic(image, o, parts=True)
        assert part_ids is not None
        return SemanticPartSegmentation(part_ids, mask, probability, poses, frame.height, frame.width)

    def segment_multi_person(
        self,
        image: ImageLike,
        *,
        flip_horizontal: bool = False,
        internal_resolution: str | float = "medium",
        segmentation_threshold: float = 0.7,
        max_detections: int = 10,
        score_threshold: float = 0.4,
        nms_radius: float = 20,
        min_keypoint_score: float = 0.3,
        refine_steps: int = 10,
    ) -> list[PersonInstance]:
        """One mask per person (``segmentMultiPerson``).

        The people are the decoded poses whose score is at least ``score_threshold``, in
        decoding order; each mask pixel goes to the person whose five face keypoints lie
        nearest to where the pixel's long offsets lead (spec section 11), or to nobody.

        Args:
            image, flip_horizontal, internal_resolution, segmentation_threshold,
                max_detections, score_threshold, nms_radius: as for :meth:`segment_person`.
            min_keypoint_score: validated (in [0, 1]) and not used, as in BodyPix 2.2.1's CPU
                decoder, which matches keypoints scoring above a fixed 0.3.
            refine_steps: long-offset refinement steps, an int in 1..20.
        Returns:
            One :class:`PersonInstance` per person (possibly none).
        """
        o = _options(
            flip_horizontal,
            internal_resolution,
            segmentation_threshold,
            max_detections,
            score_threshold,
            nms_radius,
            min_keypoint_score,
            refine_steps,
        )
        frame, index, _, people = self._instances(image, o, parts=False)
        return [
            PersonInstance((index == p).view(np.uint8), pose, frame.height, frame.width)
            for p, pose in enumerate(people)
        ]

    def segment_multi_person_parts(
        self,
        image: ImageLike,
        *,
        flip_horizontal: bool = False,
        internal_resolution: str | float = "medium",
        segmentation_threshold: float = 0.7,
        max_detections: int = 10,
        score_threshold: float = 0.4,
        nms_radius: float = 20,
        min_keypoint_score: float = 0.3,
        refine_steps: int = 10,
    ) -> list[PartInstance]:
        """One part map per person (``segmentMultiPersonParts``): each person's pixels of
        :meth:`segment_multi_person` carry the part ids of :meth:`segment_person_parts`.

        The arguments are those of :meth:`segment_multi_person`.

        Returns:
            One :class:`PartInstance` per person (possibly none).
        """
        o = _options(
            flip_horizontal,
            internal_resolution,
            segmentation_threshold,
            max_detections,
            score_threshold,
            nms_radius,
            min_keypoint_score,
            refine_steps,
        )
        frame, index, part_ids, people = self._instances(image, o, parts=True)
        assert part_ids is not None
        result = []
        for p, pose in enumerate(people):
            mine = index == p
            own_parts = np.full(part_ids.shape, -1, np.int32)
            np.copyto(own_parts, part_ids, where=mine)  # 3x faster than np.where here
            result.append(PartInstance(own_parts, mine.view(np.uint8), pose, frame.height, frame.width))
        return result

    def segment_stream(
        self, images: Iterable[ImageLike], *, call: str = "segment_person", workers: int | None = None, **options: Any
    ) -> Iterator[Any]:
        """Many images through one of the four calls, pipelined (as
        :meth:`person_segmentation.PersonSegmentation.segment_stream`): results come back in
        input order while the next images are decoded and segmented on other threads.

        Each result equals ``getattr(self, call)(image, **options)`` for that image. ``images``
        is consumed lazily and at most ``2 * workers`` images are in flight.

        Args:
            images: any iterable of images as the calls take them (a 4-D (N, H, W, 3) array is
                N images).
            call: ``"segment_person"`` (default), ``"segment_person_parts"``,
                ``"segment_multi_person"`` or ``"segment_multi_person_parts"``.
            workers: images processed at once (default 2).
            options: the call's keyword options (``flip_horizontal``, ``internal_resolution``, ...).
        Yields:
            One result per image, in order (what ``call`` returns).
        Raises:
            TypeError, ValueError: bad arguments or options (at the call, before any image is
                read), or a bad image (when its result is reached; the results before it are
                yielded first).
        """
        name = _checks.check_choice(call, "call", BODYPIX_CALLS)
        method = getattr(self, name)
        count = _checks.check_workers(workers) or DEFAULT_WORKERS
        signature = inspect.signature(method)
        try:
            bound = signature.bind(None, **options)
        except TypeError as exc:
            raise TypeError(f"options of {name}: {exc}") from None
        bound.apply_defaults()
        values = dict(bound.arguments)
        values.pop("image")
        _options(**values)  # every value checked now, not at the first image
        source = iter_images(images, name)
        return _pipeline.ordered_map(lambda image: method(image, **options), source, workers=count, window=2 * count)


def _mirror(array: np.ndarray) -> np.ndarray:
    """An (H, W) map mirrored left to right, as a new C-contiguous array."""
    return np.ascontiguousarray(array[:, ::-1])


def _to_poses(keypoints: np.ndarray, scores: np.ndarray, width: int, flip: bool) -> list[Pose]:
    """Decoder output (n, 17, 3) ``[y, x, score]`` and (n,) scores as :class:`Pose` objects
    (mirrored: ``x -> width - 1 - x``)."""
    poses = []
    for rows, score in zip(keypoints.tolist(), scores.tolist()):
        points = tuple(
            Keypoint(name, s, (width - 1 - x) if flip else x, y) for name, (y, x, s) in zip(KEYPOINT_NAMES, rows)
        )
        poses.append(Pose(score, points))
    return poses


# -- loading ---------------------------------------------------------------------------------------
def _model_location(model_url: str, multiplier: float, quant_bytes: int, output_stride: int) -> tuple[str, bool]:
    """``model_url`` as the model JSON to read, and whether it was found through the official
    layout: itself when it names a ``.json``; a local folder holding ``model-stride{s}.json``:
    that file; else a base mirroring the official layout (like
    :data:`person_segmentation.OFFICIAL_BASE_URL`)."""
    is_url = "://" in model_url
    path = urllib.parse.urlsplit(model_url).path if is_url else model_url
    if path.lower().rstrip("/").endswith(".json"):
        return model_url, False
    relative = official_model_path(multiplier, quant_bytes, output_stride)
    if is_url:
        return model_url.rstrip("/") + "/" + relative, True
    local = pathlib.Path(model_url).expanduser()
    if (local / f"model-stride{output_stride}.json").is_file():
        return str(local / f"model-stride{output_stride}.json"), False
    return str(local / relative), True


def _bundled_model(output_stride: int) -> str | None:
    """The bundled model's JSON for this stride, or None if the package was installed
    without it."""
    try:
        return str(bundled_model(output_stride))
    except WeightsError:
        return None


def load(
    multiplier: float = 0.75,
    *,
    output_stride: int = 16,
    quant_bytes: int = 2,
    model_url: str | os.PathLike[str] | None = None,
    engine: EngineName = "auto",
    num_threads: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> BodyPix:
    """Load a BodyPix 2 MobileNetV1 model (BodyPix 2's ``load``).

    Args:
        multiplier: depth multiplier, 0.5, 0.75 or 1.0.
        output_stride: 8 or 16 (32 has no published model).
        quant_bytes: 4 (float weights), 2 (uint16) or 1 (uint8).
        model_url: None: the model bundled with the package for (0.75, quant 2) (no
            download), else the file for (multiplier, quant_bytes, output_stride) where
            ``$PERSON_SEGMENTATION_WEIGHTS`` says (when set: read as ``model_url`` would be),
            else the official file, downloaded once into the cache. Or a local path or http(s)/file URL of a 2.x
            ``model-stride*.json``, of a local folder holding ``model-stride{output_stride}.json``,
            or of a base mirroring the official layout (``<base>/bodypix/mobilenet/<float|quant2|
            quant1>/<050|075|100>/model-stride{8,16}.json``). The file's weights must be for
            ``multiplier``; the network runs at ``output_stride`` whichever stride file it is.
        engine: ``"auto"`` (``"tf"`` where TensorFlow sees a GPU, else ``"tflite"``), ``"tf"``
            or ``"tflite"``.
        num_threads: CPU threads of the network and the native post-processing; None (or 0):
            one per hardware thread.
        cache_dir: where downloads and converted models are kept (default:
            :func:`person_segmentation.default_cache_dir`).
    Raises:
        TypeError: an argument of the wrong type.
        ValueError: a value out of range (naming the argument);
            :class:`person_segmentation.WeightsError` (a ValueError) for weights that are
            missing, corrupt, not 2.x, or for another multiplier.
    """
    multiplier = _checks.check_bodypix_multiplier(multiplier)
    output_stride = _checks.check_bodypix_output_stride(output_stride)
    quant_bytes = _checks.check_quant_bytes(quant_bytes)
    url = _checks.check_path_or_url(model_url, "model_url")
    _engine.check_engine(engine)
    threads = _checks.check_num_threads(num_threads) or 0
    layout, from_env = True, False
    bundled = _bundled_model(output_stride) if url is None and (multiplier, quant_bytes) == _BUNDLED else None
    source = url if url is not None or bundled is not None else weights_location_from_env()
    if source is not None:
        location, layout = _model_location(source, multiplier, quant_bytes, output_stride)
        from_env = url is None
    else:
        location = bundled or OFFICIAL_BASE_URL + official_model_path(multiplier, quant_bytes, output_stride)
    try:
        weights = load_weights(multiplier, location, cache_dir=cache_dir)
    except WeightsError as exc:
        if not from_env:
            raise
        raise from_env_note(exc) from None
    if weights.format != "2.x":
        raise ValueError(
            f"{'$PERSON_SEGMENTATION_WEIGHTS' if from_env else 'model_url'} must name BodyPix 2 (2.x "
            f"graph-model) weights, got {weights.format} weights "
            f"from {weights.source}"
        )
    name = _engine.resolve_engine(engine)
    net = _engine.create(
        name,
        weights.tensors,
        weights.multiplier,
        num_threads=_engine.resolve_threads(threads),
        cache_dir=resolve_cache_dir(cache_dir),
    )
    return BodyPix(
        net,
        multiplier=multiplier,
        output_stride=output_stride,
        quant_bytes=quant_bytes if layout else None,
        num_threads=threads,
        model_source=weights.source,
    )
