"""Reading BodyPix 2.2.1's raw network heads out of a ``<shared>/golden2`` case (``heads_<name>``
arrays, one per head) as the (outH, outW, 174) float32 heads array of the native core, in the
layout of ``_constants.BODYPIX_HEADS``. Shared by the golden tests; the benchmark
``bench/test_bodypix_decoders.py`` has its own two lines (bench/ cannot import tests/)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: The golden npz arrays ``heads_<name>``, in the channel order of the heads array.
HEAD_ORDER = (
    "segments",
    "part_heatmaps",
    "heatmaps",
    "short_offsets",
    "displacement_fwd",
    "displacement_bwd",
    "long_offsets",
)


def heads_of(npz: Any) -> np.ndarray:
    """The C-contiguous (outH, outW, 174) float32 heads of a loaded golden2 npz."""
    heads = np.ascontiguousarray(np.concatenate([npz[f"heads_{name}"] for name in HEAD_ORDER], axis=2))
    assert heads.dtype == np.float32 and heads.shape[2] == 174, heads.shape
    return heads
