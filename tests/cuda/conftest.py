"""Tests marked ``cuda`` need a CUDA device: they are skipped, saying why, where there is none."""

from __future__ import annotations

import pytest

from person_segmentation import _core


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _core.cuda_device_count() > 0:
        return
    reason = (
        "no CUDA device on this machine"
        if _core.cuda_compiled()
        else "this build has no CUDA kernels (built without a CUDA compiler or with PERSON_SEGMENTATION_CUDA=OFF)"
    )
    for item in items:
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
