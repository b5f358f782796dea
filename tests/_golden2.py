"""Reading ``<shared>/golden2``: its cases (``index.json``), and BodyPix 2.2.1's raw network
heads out of a case (``heads_<name>`` arrays, one per head) as the (outH, outW, 174) float32
heads array of the native core, in the layout of ``_constants.BODYPIX_HEADS``. Shared by the
golden tests (the folder itself: the ``golden2_dir`` fixture of ``tests/golden/conftest.py``);
the benchmark ``bench/test_bodypix_decoders.py`` has its own lines (bench/ cannot import tests/)."""

from __future__ import annotations

import json
from pathlib import Path
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


def cases(shared_dir: Path, *, heads_only: bool = False) -> list[dict[str, Any]]:
    """The cases of ``<shared>/golden2/index.json`` (``heads_only``: those with raw heads). When
    the index is missing: one placeholder case, so that parametrized tests are still collected
    and fail on the missing file (``golden2_dir``) instead of vanishing."""
    index = shared_dir / "golden2" / "index.json"
    if not index.exists():
        return [{"id": "<missing golden2/index.json>", "golden": "<missing>"}]
    found: list[dict[str, Any]] = json.loads(index.read_text())["cases"]
    return [c for c in found if c["has_heads"]] if heads_only else found


def heads_of(npz: Any) -> np.ndarray:
    """The C-contiguous (outH, outW, 174) float32 heads of a loaded golden2 npz."""
    heads = np.ascontiguousarray(np.concatenate([npz[f"heads_{name}"] for name in HEAD_ORDER], axis=2))
    assert heads.dtype == np.float32 and heads.shape[2] == 174, heads.shape
    return heads
