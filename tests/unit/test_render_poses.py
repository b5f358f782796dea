"""render's pose and people drawings (BodyPix 2, issue 13): keypoints, skeleton, per-person
colours, and their argument checks. No weights needed: poses are built by hand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from person_segmentation import render
from person_segmentation._constants import POSE_NUM_KEYPOINTS, POSE_SKELETON


@dataclass(frozen=True)
class Keypoint:  # the shape of bodypix.Keypoint (duck-typed by render)
    part: str
    score: float
    x: float
    y: float


@dataclass(frozen=True)
class Pose:
    score: float
    keypoints: tuple[Keypoint, ...]


@dataclass(frozen=True)
class Person:
    mask: np.ndarray
    pose: Pose


def _pose_array(points: dict[int, tuple[float, float]], score: float = 0.9) -> np.ndarray:
    """A (17, 3) [y, x, score] pose: the given keypoints at (y, x) with ``score``, the others far
    outside the image with score 0."""
    pose = np.zeros((POSE_NUM_KEYPOINTS, 3))
    pose[:, :2] = -1000.0
    for k, (y, x) in points.items():
        pose[k] = (y, x, score)
    return pose


def _pose_object(array: np.ndarray, score: float = 0.5) -> Pose:
    return Pose(score, tuple(Keypoint(f"k{k}", float(s), float(x), float(y)) for k, (y, x, s) in enumerate(array)))


BLACK = np.zeros((60, 80, 3), dtype=np.uint8)


def test_skeleton_is_posenet_adjacency() -> None:
    assert len(POSE_SKELETON) == 12
    assert render.POSE_SKELETON is POSE_SKELETON
    # every limb pair of PoseNet's connectedPartNames, no face bones
    assert {frozenset(p) for p in POSE_SKELETON} == {
        frozenset(p)
        for p in [(11, 5), (7, 5), (7, 9), (11, 13), (13, 15), (12, 6), (8, 6), (8, 10), (12, 14), (14, 16), (5, 6)]
        + [(11, 12)]
    }
    assert all(a >= 5 and b >= 5 for a, b in POSE_SKELETON)


def test_person_colors_distinct_and_stable() -> None:
    colors = render.person_colors(30)
    assert colors.shape == (30, 3) and colors.dtype == np.uint8
    assert len({tuple(c) for c in colors}) == 30
    assert np.array_equal(colors[:9], np.array(render.PERSON_COLORS, dtype=np.uint8))
    assert np.array_equal(render.person_colors(3), colors[:3])
    assert render.person_colors(0).shape == (0, 3)


def test_keypoints_drawn_where_expected_in_person_colour() -> None:
    pose = _pose_array({0: (10.0, 20.0), 9: (40.4, 60.6)})
    out = render.draw_keypoints(BLACK, pose, radius=2)
    color = render.person_colors(1)[0]
    assert np.array_equal(out[10, 20], color)
    assert np.array_equal(out[40, 61], color)  # rounded to the nearest pixel
    assert np.array_equal(out[12, 20], color) and not out[13, 20].any()  # radius 2
    drawn = out.any(axis=2)
    assert drawn.sum() == 2 * 13  # two filled discs of radius 2 (13 pixels each), nothing else
    assert not BLACK.any()  # the input is not modified


def test_min_score_filters_keypoints_and_bones() -> None:
    pose = _pose_array({5: (10.0, 10.0), 7: (10.0, 50.0)})
    pose[7, 2] = 0.2
    out = render.draw_skeleton(BLACK, pose, min_score=0.3)
    assert not out.any()  # the elbow scores below min_score: no bone
    out = render.draw_skeleton(BLACK, pose, min_score=0.2)
    color = render.person_colors(1)[0]
    assert all(np.array_equal(out[10, x], color) for x in range(10, 51))  # the shoulder-elbow bone
    assert not out[30].any()
    out = render.draw_keypoints(BLACK, pose, min_score=0.5, radius=1)
    assert out[10, 10].any() and not out[10, 50].any()


def test_nan_positions_and_scores_are_not_drawn() -> None:
    pose = _pose_array({5: (10.0, 10.0), 6: (10.0, 50.0), 11: (40.0, 10.0)})
    pose[6, 0] = np.nan
    pose[11, 2] = np.nan
    out = render.draw_poses(BLACK, pose, min_score=0.0, radius=1, thickness=1)
    assert out[10, 10].any()
    assert not out[10, 50].any() and not out[40, 10].any()
    assert not out[10, 30].any()  # no shoulder-shoulder bone to a NaN position
    assert not out[25, 10].any()  # no shoulder-hip bone to a NaN score


def test_far_outside_points_are_clipped_not_crashing() -> None:
    pose = _pose_array({5: (1e30, -1e30), 6: (30.0, 40.0)})
    out = render.draw_skeleton(BLACK, pose, min_score=0.0)
    assert out[30, 40].any()  # the bone towards the far point is drawn up to the frame's edge


def test_several_poses_each_in_its_colour_and_objects_equal_arrays() -> None:
    a = _pose_array({0: (10.0, 10.0)})
    b = _pose_array({0: (40.0, 60.0)})
    out = render.draw_poses(BLACK, np.stack([a, b]))
    colors = render.person_colors(2)
    assert np.array_equal(out[10, 10], colors[0]) and np.array_equal(out[40, 60], colors[1])
    as_objects = render.draw_poses(BLACK, [_pose_object(a), _pose_object(b)])
    assert np.array_equal(out, as_objects)
    custom = render.draw_poses(BLACK, [a, b], colors=[(1, 2, 3), (4, 5, 6)])
    assert tuple(custom[10, 10]) == (1, 2, 3) and tuple(custom[40, 60]) == (4, 5, 6)


def test_min_pose_score_drops_weak_poses_but_keeps_colours() -> None:
    a = _pose_object(_pose_array({0: (10.0, 10.0)}), score=0.05)
    b = _pose_object(_pose_array({0: (40.0, 60.0)}), score=0.6)
    out = render.draw_poses(BLACK, [a, b], min_pose_score=0.2)
    assert not out[10, 10].any()
    assert np.array_equal(out[40, 60], render.person_colors(2)[1])


def test_flip_horizontal_mirrors() -> None:
    pose = _pose_array({0: (10.0, 20.0)})
    assert np.array_equal(
        render.draw_keypoints(BLACK, pose, flip_horizontal=True), render.draw_keypoints(BLACK, pose)[:, ::-1]
    )


def test_people_image_and_overlay() -> None:
    masks = np.zeros((2, 60, 80), dtype=np.uint8)
    masks[0, :, :30] = 1
    masks[1, :, 50:] = 1
    colors = render.person_colors(2)
    image = render.to_colored_people_image(masks, 60, 80)
    assert image.shape == (60, 80, 4)
    assert tuple(image[5, 5]) == (*colors[0], 255)
    assert tuple(image[5, 70]) == (*colors[1], 255)
    assert tuple(image[5, 40]) == (0, 0, 0, 0)
    gray = np.full((60, 80, 3), 100, dtype=np.uint8)
    out = render.draw_people(gray, list(masks), opacity=1.0)
    assert np.array_equal(out[5, 5], colors[0]) and np.array_equal(out[5, 70], colors[1])
    assert np.array_equal(out[5, 40], (100, 100, 100))
    half = render.draw_people(gray, masks, opacity=0.5)
    expected = np.floor(100 * 0.5 + colors[0].astype(np.float64) * 0.5 + 0.5)
    assert np.abs(half[5, 5].astype(int) - expected.astype(int)).max() <= 1


def test_draw_people_uses_the_people_poses() -> None:
    gray = np.full((60, 80, 3), 100, dtype=np.uint8)
    mask = np.zeros((60, 80), dtype=np.uint8)
    mask[:, 50:] = 1
    far = _pose_array({0: (10.0, 10.0)})  # the pose's keypoint outside the person's mask
    people = [
        Person(np.zeros((60, 80), dtype=np.uint8), _pose_object(_pose_array({}))),
        Person(mask, _pose_object(far)),
    ]
    out = render.draw_people(gray, people, opacity=0.0)
    assert np.array_equal(out[10, 10], render.person_colors(2)[1])  # person 1's colour
    masks_only = render.draw_people(gray, people, poses=[], opacity=0.0)
    assert np.array_equal(masks_only, gray)


def test_draw_people_outlines_the_poses() -> None:
    gray = np.full((60, 80, 3), 100, dtype=np.uint8)
    pose = _pose_array({0: (30.0, 40.0)})
    masks = np.zeros((1, 60, 80), dtype=np.uint8)
    out = render.draw_people(gray, masks, poses=pose, radius=3, opacity=0.0)
    assert np.array_equal(out[30, 40], render.person_colors(1)[0]) and np.array_equal(
        out[30, 43], render.person_colors(1)[0]
    )
    assert tuple(out[30, 44]) == (255, 255, 255)  # the outline, one pixel beyond the dot
    assert tuple(out[30, 45]) == (100, 100, 100)
    plain = render.draw_people(gray, masks, poses=pose, radius=3, opacity=0.0, outline=None)
    assert tuple(plain[30, 44]) == (100, 100, 100)
    black = render.draw_people(gray, masks, poses=pose, radius=3, opacity=0.0, outline=(0, 0, 0))
    assert tuple(black[30, 44]) == (0, 0, 0)


def test_overlapping_masks_later_person_wins() -> None:
    masks = np.ones((2, 4, 4), dtype=bool)
    image = render.to_colored_people_image(masks, 4, 4, colors=[(1, 1, 1), (2, 2, 2)], alpha=7)
    assert tuple(image[0, 0]) == (2, 2, 2, 7)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: render.draw_keypoints(BLACK, "pose"), TypeError, "poses must be"),
        (lambda: render.draw_keypoints(BLACK, np.zeros((16, 3))), ValueError, "poses must be"),
        (lambda: render.draw_keypoints(BLACK, np.zeros((2, 17, 2))), ValueError, "poses must be"),
        (lambda: render.draw_keypoints(BLACK, np.zeros((17, 3), dtype=object)), TypeError, "poses must be"),
        (lambda: render.draw_keypoints(BLACK, [object()]), TypeError, r"poses\[0\]"),
        (lambda: render.draw_keypoints(BLACK, Pose(0.5, ())), ValueError, "17 keypoints"),
        (
            lambda: render.draw_keypoints(BLACK, Pose(0.5, (Keypoint("a", 0.5, "1", 2),) * 17)),  # type: ignore[arg-type]
            TypeError,
            "real y, x and score",
        ),
        (lambda: render.draw_keypoints(BLACK, np.zeros((17, 3)), min_score=1.5), ValueError, "min_score"),
        (lambda: render.draw_keypoints(BLACK, np.zeros((17, 3)), min_score="x"), TypeError, "min_score"),
        (lambda: render.draw_keypoints(BLACK, np.zeros((17, 3)), min_pose_score=-1), ValueError, "min_pose_score"),
        (lambda: render.draw_keypoints(BLACK, np.zeros((17, 3)), radius=0), ValueError, "radius"),
        (lambda: render.draw_keypoints(BLACK, np.zeros((17, 3)), radius=2.0), TypeError, "radius"),
        (lambda: render.draw_skeleton(BLACK, np.zeros((17, 3)), thickness=1000), ValueError, "thickness"),
        (lambda: render.draw_poses(BLACK, np.zeros((2, 17, 3)), colors=[(1, 2, 3)]), ValueError, "colors"),
        (lambda: render.draw_poses(BLACK, np.zeros((1, 17, 3)), colors=[(1, 2, 300)]), ValueError, r"colors\[0\]"),
        (lambda: render.draw_poses(BLACK, np.zeros((1, 17, 3)), colors="red"), TypeError, "colors"),
        (lambda: render.draw_poses(BLACK.astype(np.float32), np.zeros((17, 3))), TypeError, "image"),
        (lambda: render.draw_poses(BLACK, np.zeros((17, 3)), flip_horizontal=1), TypeError, "flip_horizontal"),
        (lambda: render.person_colors(-1), ValueError, "count"),
        (lambda: render.to_colored_people_image(np.zeros((1, 5, 5), np.uint8), 4, 4), ValueError, "people"),
        (lambda: render.to_colored_people_image(np.full((1, 4, 4), 2, np.uint8), 4, 4), ValueError, "0 and 1"),
        (lambda: render.to_colored_people_image([object()], 4, 4), TypeError, r"people\[0\]"),
        (lambda: render.to_colored_people_image("masks", 4, 4), TypeError, "people"),
        (lambda: render.to_colored_people_image([], 0, 4), ValueError, "height"),
        (lambda: render.draw_people(BLACK, [], opacity=2), ValueError, "opacity"),
        (lambda: render.draw_people(BLACK, [], outline=(1, 2)), ValueError, "outline"),
        (lambda: render.draw_people(BLACK, [], radius=0), ValueError, "radius"),
        (lambda: render.draw_people(BLACK, [], poses=np.zeros((1, 17, 3))), ValueError, "one pose per person"),
    ],
)
def test_bad_arguments(call: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]
