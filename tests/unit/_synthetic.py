"""A randomly initialised network of the right shapes, so API tests need no real weights."""

from __future__ import annotations

import numpy as np

from person_segmentation._weights import LoadedWeights

# Width of blocks 0..13 for each multiplier (MobileNetV1 channel plan).
_BASE_WIDTHS = (32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024)


def widths(multiplier: float) -> list[int]:
    return [max(8, int(w * multiplier)) for w in _BASE_WIDTHS]


def synthetic_weights(multiplier: float, seed: int = 0) -> LoadedWeights:
    """float32 tensors named and shaped like the official ones, with small random values."""
    rng = np.random.default_rng(seed)

    def t(*shape: int, scale: float = 0.1) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w = widths(multiplier)
    p = "MobilenetV1/"
    tensors = {p + "Conv2d_0/weights": t(3, 3, 3, w[0], scale=0.3), p + "Conv2d_0/Conv2D_bias": t(w[0])}
    for i in range(1, 14):
        tensors[p + f"Conv2d_{i}_depthwise/depthwise_weights"] = t(3, 3, w[i - 1], 1, scale=0.3)
        tensors[p + f"Conv2d_{i}_depthwise/depthwise_bias"] = t(w[i - 1])
        tensors[p + f"Conv2d_{i}_pointwise/weights"] = t(1, 1, w[i - 1], w[i], scale=1.0 / np.sqrt(w[i - 1]))
        tensors[p + f"Conv2d_{i}_pointwise/Conv2D_bias"] = t(w[i])
    tensors[p + "segment_2/weights"] = t(1, 1, w[13], 1, scale=1.0)
    tensors[p + "segment_2/Conv2D_bias"] = t(1)
    tensors[p + "part_heatmap_2/weights"] = t(1, 1, w[13], 24, scale=1.0)
    tensors[p + "part_heatmap_2/Conv2D_bias"] = t(24)
    return LoadedWeights(tensors=tensors, format="1.x", multiplier=multiplier, source="<synthetic>")


def calibrated_weights(multiplier: float, image: np.ndarray, seed: int = 0) -> LoadedWeights:
    """Synthetic weights whose segment bias puts ``image``'s median logit at 0 and spreads the
    logits out, so that masks on similar images are neither empty nor full."""
    from person_segmentation import PersonSegmentation

    weights = synthetic_weights(multiplier, seed)
    segment = PersonSegmentation(weights, engine="tf").estimate_logits(image, with_parts=False).segment
    spread = float(np.percentile(segment, 90) - np.percentile(segment, 10)) or 1.0
    tensors = dict(weights.tensors)
    tensors["MobilenetV1/segment_2/weights"] = tensors["MobilenetV1/segment_2/weights"] * (4.0 / spread)
    tensors["MobilenetV1/segment_2/Conv2D_bias"] = (
        tensors["MobilenetV1/segment_2/Conv2D_bias"] - np.median(segment)
    ).astype(np.float32) * (4.0 / spread)
    return LoadedWeights(tensors=tensors, format="1.x", multiplier=multiplier, source="<synthetic>")
