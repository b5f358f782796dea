"""The one model object behind the server: a small adapter over :mod:`person_segmentation.bodypix`.

The routes never call the library directly; they ask :class:`Model.segment` for what an output
needs (``"person"``: mask + probability + poses; ``"parts"``: + the part map; ``"people"``: one
mask and pose per person; ``"people-parts"``: + each person's parts) and get a
:class:`Segmentation`. Another model (the 1.x networks of ``person_segmentation.load``, a model
server) is one more class with the same two methods.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from person_segmentation._constants import BODYPIX_OUTPUT_STRIDES
from person_segmentation.serve._config import ServeConfig

Need = Literal["person", "parts", "people", "people-parts"]


@dataclass(frozen=True)
class ModelOptions:
    """The model's per-request options (already validated), named as ``bodypix`` names them."""

    output_stride: int
    flip_horizontal: bool = False
    internal_resolution: str | float = "medium"
    segmentation_threshold: float = 0.7
    max_detections: int = 10
    score_threshold: float = 0.4
    nms_radius: float = 20.0
    refine_steps: int = 10


@dataclass(frozen=True, eq=False)
class Person:
    """One person: a uint8 (H, W) 0/1 mask, its int32 part map (-1 outside) or None, its pose."""

    mask: np.ndarray
    parts: np.ndarray | None
    pose: Any  # bodypix.Pose


@dataclass(frozen=True, eq=False)
class Segmentation:
    """What a request's output is drawn from.

    Attributes:
        mask: uint8 (H, W) 0/1, every person.
        probability: float32 (H, W) person score, or None (the per-person calls do not give it).
        parts: int32 (H, W) BodyPix 2 part ids, -1 outside; or None.
        people: one :class:`Person` per person (``"people"`` needs), else None.
        poses: every decoded pose (``bodypix.Pose``).
        inference_ms: the model's time for this image.
    """

    mask: np.ndarray
    probability: np.ndarray | None
    parts: np.ndarray | None
    people: list[Person] | None
    poses: list[Any]
    inference_ms: float


class Model(Protocol):
    """What the server needs of a model."""

    def segment(self, image: np.ndarray, need: Need, options: ModelOptions) -> Segmentation: ...

    def info(self) -> dict[str, Any]: ...


class BodyPixModel:
    """BodyPix 2 (by default the model bundled with the package), one network per output stride:
    the configured stride is loaded at start, the other on its first request (once, under a lock).
    Thread-safe: the ``bodypix`` calls may run on several threads at once."""

    def __init__(self, config: ServeConfig) -> None:
        self._config = config
        self._nets: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._net(config.output_stride)

    def _net(self, output_stride: int) -> Any:
        net = self._nets.get(output_stride)
        if net is not None:
            return net
        with self._lock:
            if output_stride not in self._nets:
                from person_segmentation import bodypix

                c = self._config
                self._nets[output_stride] = bodypix.load(
                    c.multiplier,
                    output_stride=output_stride,
                    quant_bytes=c.quant_bytes,
                    model_url=c.model_url,
                    engine=c.engine,  # type: ignore[arg-type]
                    num_threads=c.num_threads,
                )
            return self._nets[output_stride]

    def info(self) -> dict[str, Any]:
        net = self._net(self._config.output_stride)
        from person_segmentation import bodypix

        return {
            "name": "bodypix",
            "architecture": "MobileNetV1",
            "multiplier": net.multiplier,
            "quant_bytes": net.quant_bytes,
            "output_stride": net.output_stride,
            "output_strides": list(BODYPIX_OUTPUT_STRIDES),
            "engine": net.engine,
            "source": net.model_source,
            "part_names": list(bodypix.PART_CHANNELS),
            "keypoint_names": list(bodypix.KEYPOINT_NAMES),
        }

    def segment(self, image: np.ndarray, need: Need, options: ModelOptions) -> Segmentation:
        net = self._net(options.output_stride)
        kwargs: dict[str, Any] = dict(
            flip_horizontal=options.flip_horizontal,
            internal_resolution=options.internal_resolution,
            segmentation_threshold=options.segmentation_threshold,
            max_detections=options.max_detections,
            score_threshold=options.score_threshold,
            nms_radius=options.nms_radius,
        )
        start = time.perf_counter()
        if need in ("person", "parts"):
            call = net.segment_person_parts if need == "parts" else net.segment_person
            result = call(image, **kwargs)
            elapsed = (time.perf_counter() - start) * 1000
            parts = result.parts if need == "parts" else None
            return Segmentation(result.mask, result.probability, parts, None, list(result.all_poses), elapsed)
        call = net.segment_multi_person_parts if need == "people-parts" else net.segment_multi_person
        found = call(image, refine_steps=options.refine_steps, **kwargs)
        elapsed = (time.perf_counter() - start) * 1000
        people = [Person(p.mask, getattr(p, "parts", None), p.pose) for p in found]
        mask = np.zeros(image.shape[:2], dtype=np.uint8)
        for person in people:
            mask |= person.mask
        parts = None
        if need == "people-parts":
            parts = np.full(image.shape[:2], -1, dtype=np.int32)
            for person in people:
                assert person.parts is not None
                np.copyto(parts, person.parts, where=person.mask.astype(bool))
        return Segmentation(mask, None, parts, people, [p.pose for p in people], elapsed)
