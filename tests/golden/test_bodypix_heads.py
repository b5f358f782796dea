"""The native BodyPix 2 post-processing (``_core.bodypix_*``) on the raw network heads stored in
``../shared/golden2`` (every case with ``has_heads``), against BodyPix 2.2.1's own outputs for
the same heads: masks, part maps, poses and per-person masks and part maps.

Spec section 15: the post-processing of sections 4-12 applied to the stored heads reproduces
every golden output exactly, so the masks and part maps must agree on every pixel, and the
float64 poses, rounded to float32 (the goldens' storage type), must equal the golden poses bit
for bit; the tolerance in px is reported too (worst absolute difference).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from person_segmentation import _core

from .._golden2 import cases as golden2_cases
from .._golden2 import heads_of
from ..conftest import SHARED_DIR

POSE_TOLERANCE_PX = 1e-4
SCORE_TOLERANCE = 1e-6


CASES = golden2_cases(SHARED_DIR, heads_only=True)


def geometry_of(case: dict[str, Any]) -> dict[str, Any]:
    (h, w), (ih, iw) = case["image_hw"], case["internal_hw"]
    return dict(image_height=h, image_width=w, input_height=ih, input_width=iw, padding=tuple(case["padding"]))


def run_case(case: dict[str, Any], heads: np.ndarray) -> dict[str, np.ndarray]:
    geometry = geometry_of(case)
    mask, parts, _ = _core.bodypix_scale_back(heads, threshold=case["segmentation_threshold"], parts=True, **geometry)
    assert parts is not None
    keypoints, scores = _core.bodypix_decode_poses(
        heads,
        output_stride=case["output_stride"],
        max_detections=case["max_detections"],
        score_threshold=case["score_threshold"],
        nms_radius=case["nms_radius"],
        **geometry,
    )
    people = scores >= case["score_threshold"]
    instances = _core.bodypix_decode_instances(
        heads,
        mask,
        np.ascontiguousarray(keypoints[people]),
        output_stride=case["output_stride"],
        refine_steps=case["refine_steps"],
        **geometry,
    )
    return dict(mask=mask, parts=parts, keypoints=keypoints, scores=scores, people=people, instances=instances)


@pytest.mark.golden
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bodypix_heads_case(
    case: dict[str, Any], golden2_dir: Path, record_agreement: Callable[[str, str, float], None]
) -> None:
    expected = np.load(golden2_dir / case["golden"])
    out = run_case(case, heads_of(expected))
    name = case["id"]

    # segmentPerson / segmentPersonParts
    assert out["mask"].shape == expected["mask"].shape
    mask_agreement = float(np.mean(out["mask"] == expected["mask"]))
    part_agreement = float(np.mean(out["parts"] == expected["parts"]))
    record_agreement("bodypix2 heads mask", name, mask_agreement)
    record_agreement("bodypix2 heads parts", name, part_agreement)
    assert mask_agreement == 1.0, f"mask agreement {mask_agreement:.6%}"
    assert part_agreement == 1.0, f"part agreement {part_agreement:.6%}"

    # allPoses of both single-person calls (identical in the goldens)
    keypoints, scores = out["keypoints"], out["scores"]
    for key in ("person", "parts"):
        golden_poses, golden_scores = expected[f"{key}_poses"], expected[f"{key}_pose_scores"]
        assert keypoints.shape == golden_poses.shape, f"{key}: {len(keypoints)} poses, golden {len(golden_poses)}"
        if len(keypoints):
            worst = float(np.max(np.abs(keypoints[..., :2] - golden_poses[..., :2])))
            assert worst <= POSE_TOLERANCE_PX, f"{key}: worst keypoint error {worst} px"
            assert float(np.max(np.abs(keypoints[..., 2] - golden_poses[..., 2]))) <= SCORE_TOLERANCE
            assert float(np.max(np.abs(scores - golden_scores))) <= SCORE_TOLERANCE
        # float32 storage of the reference's float64 values: bit for bit
        np.testing.assert_array_equal(keypoints.astype(np.float32), golden_poses)
        np.testing.assert_array_equal(scores.astype(np.float32), golden_scores)

    # segmentMultiPerson / segmentMultiPersonParts
    people = np.flatnonzero(out["people"])
    for key in ("multi", "multi_parts"):
        np.testing.assert_array_equal(keypoints[people].astype(np.float32), expected[f"{key}_poses"])
        np.testing.assert_array_equal(scores[people].astype(np.float32), expected[f"{key}_pose_scores"])
    instances = out["instances"]
    assert len(expected["multi_masks"]) == len(people) == len(expected["multi_parts"])
    assert np.all(out["mask"][instances >= 0] == 1), "an assigned pixel outside the mask"
    for p in range(len(people)):
        person_mask = (instances == p).astype(np.uint8)
        person_parts = np.where(instances == p, out["parts"], -1)
        m = float(np.mean(person_mask == expected["multi_masks"][p]))
        q = float(np.mean(person_parts == expected["multi_parts"][p]))
        record_agreement("bodypix2 heads person mask", f"{name}#{p}", m)
        record_agreement("bodypix2 heads person parts", f"{name}#{p}", q)
        assert m == 1.0, f"person {p} mask agreement {m:.6%}"
        assert q == 1.0, f"person {p} parts agreement {q:.6%}"


@pytest.mark.golden
def test_bodypix_heads_cases_exist() -> None:
    assert CASES and "has_heads" in CASES[0], f"no golden2 case with heads under {SHARED_DIR / 'golden2'}"


@pytest.mark.golden
@pytest.mark.parametrize("case", CASES[:2], ids=[c["id"] for c in CASES[:2]])
def test_bodypix_heads_strided_and_threads(case: dict[str, Any], golden2_dir: Path) -> None:
    """A non-contiguous heads view (every channel of a wider array) and 1 vs many threads give
    the same results as the contiguous array."""
    expected = np.load(golden2_dir / case["golden"])
    heads = heads_of(expected)
    wide = np.zeros(heads.shape[:2] + (2 * heads.shape[2],), np.float32)
    wide[..., ::2] = heads
    strided = wide[..., ::2]
    assert not strided.flags.c_contiguous
    a = run_case(case, heads)
    b = run_case(case, strided)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    geometry = geometry_of(case)
    one = _core.bodypix_scale_back(heads, threshold=0.5, parts=True, probability=True, num_threads=1, **geometry)
    many = _core.bodypix_scale_back(heads, threshold=0.5, parts=True, probability=True, num_threads=7, **geometry)
    for x, y in zip(one, many, strict=True):
        np.testing.assert_array_equal(x, y)
    people = np.ascontiguousarray(a["keypoints"][a["people"]])
    args = dict(output_stride=case["output_stride"], refine_steps=case["refine_steps"], **geometry)
    one_i = _core.bodypix_decode_instances(heads, a["mask"], people, num_threads=1, **args)
    many_i = _core.bodypix_decode_instances(heads, a["mask"], people, num_threads=7, **args)
    np.testing.assert_array_equal(one_i, many_i)
    np.testing.assert_array_equal(one_i, a["instances"])
