"""The BodyPix 2 native decoders alone, on the raw heads of a golden case (no network): the
scale-back (mask; mask + parts), the pose decoder and the instance decoder, and all of them as
segment_multi_person_parts chains them, with all threads and with one.

The heads are those BodyPix 2.2.1's own network produced for ``voc2012_person__2009_002993__U50``
in ``<shared>/golden2`` (a 457 x 500 photo with 4 people, 9 poses; internal 225 x 241, stride 16).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from person_segmentation import _core

from .conftest import SHARED_DIR

CASE = "voc2012_person__2009_002993__U50"
HEAD_ORDER = (
    "segments",
    "part_heatmaps",
    "heatmaps",
    "short_offsets",
    "displacement_fwd",
    "displacement_bwd",
    "long_offsets",
)

pytestmark = pytest.mark.benchmark(min_rounds=20, max_time=1.0)


@pytest.fixture(scope="module")
def case() -> dict[str, Any]:
    index = SHARED_DIR / "golden2" / "index.json"
    if not index.exists():
        pytest.fail(f"{index} is missing (set PERSON_SEGMENTATION_SHARED)")
    found = [c for c in json.loads(index.read_text())["cases"] if c["id"] == CASE]
    assert found, f"{CASE} not in {index}"
    c = found[0]
    npz = np.load(SHARED_DIR / "golden2" / c["golden"])
    c = dict(c)
    c["heads"] = np.ascontiguousarray(np.concatenate([npz[f"heads_{n}"] for n in HEAD_ORDER], axis=2))
    (h, w), (ih, iw) = c["image_hw"], c["internal_hw"]
    c["geometry"] = dict(image_height=h, image_width=w, input_height=ih, input_width=iw, padding=tuple(c["padding"]))
    return c


def _poses(c: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    return _core.bodypix_decode_poses(
        c["heads"],
        output_stride=c["output_stride"],
        max_detections=c["max_detections"],
        score_threshold=c["score_threshold"],
        nms_radius=c["nms_radius"],
        **c["geometry"],
    )


def _calls(c: dict[str, Any], threads: int) -> dict[str, Callable[[], Any]]:
    g = c["geometry"]
    mask, _, _ = _core.bodypix_scale_back(c["heads"], threshold=c["segmentation_threshold"], **g)
    keypoints, scores = _poses(c)
    people = np.ascontiguousarray(keypoints[scores >= c["score_threshold"]])

    def instances() -> np.ndarray:
        return _core.bodypix_decode_instances(
            c["heads"],
            mask,
            people,
            output_stride=c["output_stride"],
            refine_steps=c["refine_steps"],
            num_threads=threads,
            **g,
        )

    def chain() -> Any:
        m, parts, _ = _core.bodypix_scale_back(
            c["heads"], threshold=c["segmentation_threshold"], parts=True, num_threads=threads, **g
        )
        kp, sc = _poses(c)
        who = _core.bodypix_decode_instances(
            c["heads"],
            m,
            np.ascontiguousarray(kp[sc >= c["score_threshold"]]),
            output_stride=c["output_stride"],
            refine_steps=c["refine_steps"],
            num_threads=threads,
            **g,
        )
        return [np.where(who == p, parts, -1) for p in range(int((sc >= c["score_threshold"]).sum()))]

    return {
        "scale_back_mask": lambda: _core.bodypix_scale_back(
            c["heads"], threshold=c["segmentation_threshold"], num_threads=threads, **g
        ),
        "scale_back_parts": lambda: _core.bodypix_scale_back(
            c["heads"], threshold=c["segmentation_threshold"], parts=True, num_threads=threads, **g
        ),
        "decode_poses": lambda: _poses(c),
        "decode_instances": instances,
        "multi_person_parts_chain": chain,
    }


@pytest.mark.parametrize("threads", [0, 1], ids=["all-threads", "1-thread"])
@pytest.mark.parametrize(
    "stage", ["scale_back_mask", "scale_back_parts", "decode_poses", "decode_instances", "multi_person_parts_chain"]
)
def test_bodypix_decoder(benchmark: BenchmarkFixture, case: dict[str, Any], stage: str, threads: int) -> None:
    if stage == "decode_poses" and threads == 1:
        pytest.skip("the pose decoder is single-threaded")
    benchmark.group = f"bodypix2 decoders {stage}"
    call = _calls(case, threads)[stage]
    call()
    benchmark(call)
