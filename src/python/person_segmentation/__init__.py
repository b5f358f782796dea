"""Real-time person and body-part segmentation.

A faithful Python port of TensorFlow.js person-segmentation (v0.0.x, which became BodyPix
1.0): TensorFlow runs MobileNetV1; a native C++ core does the post-processing.

    >>> import person_segmentation as ps
    >>> net = ps.load(0.5)                                   # doctest: +SKIP
    >>> mask = net.estimate_person_segmentation("me.jpg")    # doctest: +SKIP  uint8 (H, W)
    >>> parts = net.estimate_part_segmentation("me.jpg")     # doctest: +SKIP  int32 (H, W)

Importing the package is cheap: it imports neither TensorFlow nor numpy. Each public name is
loaded from its module on first use (PEP 562), and TensorFlow when a network is first built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from person_segmentation._version import __version__

if TYPE_CHECKING:
    from person_segmentation._api import (
        PART_CHANNELS,
        FailedImage,
        Logits,
        PersonSegmentation,
        PersonSegmentationResult,
        load,
        part_name,
        part_segmentation_from_logits,
        person_mask_from_logits,
        person_probability_from_logits,
        swap_left_right,
    )
    from person_segmentation._constants import MAX_IMAGE_SIDE, MODEL_INPUT_SIZE, MULTIPLIERS, NUM_PARTS, OUTPUT_STRIDES
    from person_segmentation._native import ResizePadGeometry, build_info, compute_geometry
    from person_segmentation._weights import OFFICIAL_BASE_URL, WeightsError, bundled_model, default_cache_dir

#: Where each public name lives (loaded on first access).
_LAZY: dict[str, str] = {
    "FailedImage": "_api",
    "Logits": "_api",
    "MAX_IMAGE_SIDE": "_constants",
    "MODEL_INPUT_SIZE": "_constants",
    "MULTIPLIERS": "_constants",
    "NUM_PARTS": "_constants",
    "OFFICIAL_BASE_URL": "_weights",
    "OUTPUT_STRIDES": "_constants",
    "PART_CHANNELS": "_api",
    "PersonSegmentation": "_api",
    "PersonSegmentationResult": "_api",
    "ResizePadGeometry": "_native",
    "WeightsError": "_weights",
    "build_info": "_native",
    "bundled_model": "_weights",
    "compute_geometry": "_native",
    "default_cache_dir": "_weights",
    "load": "_api",
    "part_name": "_api",
    "part_segmentation_from_logits": "_api",
    "person_mask_from_logits": "_api",
    "person_probability_from_logits": "_api",
    "swap_left_right": "_api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'person_segmentation' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"person_segmentation.{module}"), name)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "FailedImage",
    "MAX_IMAGE_SIDE",
    "MODEL_INPUT_SIZE",
    "MULTIPLIERS",
    "NUM_PARTS",
    "OFFICIAL_BASE_URL",
    "OUTPUT_STRIDES",
    "PART_CHANNELS",
    "Logits",
    "PersonSegmentation",
    "PersonSegmentationResult",
    "ResizePadGeometry",
    "WeightsError",
    "__version__",
    "build_info",
    "bundled_model",
    "compute_geometry",
    "default_cache_dir",
    "load",
    "part_name",
    "part_segmentation_from_logits",
    "person_mask_from_logits",
    "person_probability_from_logits",
    "swap_left_right",
]
