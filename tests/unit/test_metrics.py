"""person_segmentation.metrics on synthetic masks with hand-computed values, and the
ground-truth readers on every encoding (written to PNG files here)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from person_segmentation import metrics


def square(h: int, w: int, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[top:bottom, left:right] = 1
    return m


# -- IoU ---------------------------------------------------------------------------------------
def test_iou_hand_computed() -> None:
    truth = square(10, 10, 0, 4, 0, 4)  # 16 pixels
    predicted = square(10, 10, 2, 6, 2, 6)  # 16 pixels, 4 shared
    assert metrics.person_iou(predicted, truth) == pytest.approx(4 / 28)
    assert metrics.person_iou(truth, truth) == 1.0
    assert metrics.person_iou(np.zeros_like(truth), truth) == 0.0


def test_iou_of_two_empty_masks_is_one() -> None:
    empty = np.zeros((5, 7), np.uint8)
    assert metrics.person_iou(empty, empty) == 1.0


def test_iou_ignores_void_pixels() -> None:
    truth = square(10, 10, 0, 4, 0, 4)
    predicted = square(10, 10, 0, 4, 0, 6)  # 8 extra pixels in columns 4, 5
    valid = np.ones((10, 10), bool)
    valid[:, 4:6] = False  # ...all of them void
    assert metrics.person_iou(predicted, truth) == pytest.approx(16 / 24)
    assert metrics.person_iou(predicted, truth, valid) == 1.0


def test_iou_accepts_bool_and_0_1_integers_alike() -> None:
    truth = square(6, 6, 1, 4, 1, 4)
    predicted = square(6, 6, 2, 5, 2, 5)
    assert metrics.person_iou(predicted.astype(bool), truth.astype(np.int64)) == metrics.person_iou(predicted, truth)


# -- boundaries --------------------------------------------------------------------------------
def test_mask_boundary_of_a_square_is_its_outline() -> None:
    m = square(7, 7, 1, 6, 1, 6)  # 5 x 5
    b = metrics.mask_boundary(m)
    assert b.sum() == 16  # 5 * 4 - 4
    assert not b[2:5, 2:5].any() and b[1, 1:6].all() and b[5, 1:6].all()


def test_mask_boundary_counts_the_image_border() -> None:
    assert metrics.mask_boundary(np.ones((4, 5), np.uint8)).sum() == 4 * 5 - 2 * 3


def test_tolerance_is_0_008_of_the_diagonal_rounded_up() -> None:
    assert metrics.BOUNDARY_TOLERANCE == 0.008
    assert metrics.boundary_tolerance_pixels(480, 854) == math.ceil(0.008 * math.hypot(480, 854)) == 8
    assert metrics.boundary_tolerance_pixels(10, 10) == 1  # at least one pixel


def test_boundary_f_identical_masks() -> None:
    m = square(20, 20, 5, 15, 5, 15)
    s = metrics.boundary_f_score(m, m)
    assert (s.f, s.precision, s.recall) == (1.0, 1.0, 1.0)


def test_boundary_f_shift_within_and_beyond_the_tolerance() -> None:
    truth = square(40, 40, 10, 30, 10, 30)
    shifted = square(40, 40, 12, 32, 10, 30)  # two rows down
    assert metrics.boundary_f_score(shifted, truth, tolerance=2).f == 1.0
    # tolerance 1 (a disc: the 4 neighbours). Truth boundary: rows 10 and 29, columns 10 and 29
    # (76 px); predicted: rows 12 and 31, columns 10 and 29. Truth pixels within 1 px of a
    # predicted boundary pixel: the side columns' rows 11..28 (18 x 2), and on row 29 the
    # columns 10, 11, 28, 29 (next to the predicted sides): 40. Row 10 is 2 rows from everything.
    # The predicted boundary is matched the same way (rows 13..30 of the sides, 4 on row 12).
    s = metrics.boundary_f_score(shifted, truth, tolerance=1)
    assert metrics.mask_boundary(shifted).sum() == metrics.mask_boundary(truth).sum() == 76
    assert s.recall == pytest.approx(40 / 76)
    assert s.precision == pytest.approx(40 / 76)
    assert s.f == pytest.approx(40 / 76)
    assert s.tolerance == 1


def test_the_tolerance_disc_is_euclidean() -> None:
    truth = np.zeros((20, 20), np.uint8)
    truth[10, 10] = 1  # a one-pixel mask: its boundary is itself
    near = np.zeros_like(truth)
    near[11, 12] = 1  # sqrt(5) = 2.24 px away
    assert metrics.boundary_f_score(near, truth, tolerance=2).f == 0.0
    assert metrics.boundary_f_score(near, truth, tolerance=3).f == 1.0
    diagonal = np.zeros_like(truth)
    diagonal[12, 12] = 1  # sqrt(8) = 2.83 px
    assert metrics.boundary_f_score(diagonal, truth, tolerance=2).f == 0.0


def test_boundary_f_precision_and_recall_differ() -> None:
    truth = square(30, 30, 5, 25, 5, 25)  # 20 x 20, boundary 76
    inner = square(30, 30, 5, 25, 5, 25)
    inner[12:18, 12:18] = 0  # a 6 x 6 hole
    # The hole's boundary: its 4-neighbours in the mask, 6 on each side (the surrounding ring's
    # corners touch it only diagonally): 24 px, all farther than 1 px from the outline.
    assert metrics.mask_boundary(inner).sum() == 76 + 24
    s = metrics.boundary_f_score(inner, truth, tolerance=1)
    assert s.recall == 1.0  # the outline is unchanged
    assert s.precision == pytest.approx(76 / 100)
    assert s.f == pytest.approx(2 * 0.76 / 1.76)


def test_boundary_f_empty_cases() -> None:
    empty = np.zeros((10, 10), np.uint8)
    m = square(10, 10, 2, 8, 2, 8)
    assert metrics.boundary_f_score(empty, empty).f == 1.0
    s = metrics.boundary_f_score(empty, m)
    assert (s.f, s.precision, s.recall) == (0.0, 1.0, 0.0)
    s = metrics.boundary_f_score(m, empty)
    assert (s.f, s.precision, s.recall) == (0.0, 0.0, 1.0)


def test_boundary_f_leaves_void_boundary_pixels_out() -> None:
    truth = square(30, 30, 5, 25, 5, 25)
    predicted = truth.copy()
    predicted[5:25, 25:28] = 1  # the right edge 3 px out
    valid = np.ones((30, 30), bool)
    s = metrics.boundary_f_score(predicted, truth, valid, tolerance=1)
    assert s.f < 1.0
    valid[:, 23:] = False  # a void band over both right edges (as VOC's outline band)
    assert metrics.boundary_f_score(predicted, truth, valid, tolerance=1).f == 1.0


def test_score_mask() -> None:
    truth = metrics.ground_truth_from_array(square(10, 10, 0, 4, 0, 4) * 255, "binary255")
    s = metrics.score_mask(square(10, 10, 2, 6, 2, 6), truth)
    assert s.iou == pytest.approx(4 / 28)
    assert 0.0 <= s.boundary.f < 1.0


# -- ground-truth encodings --------------------------------------------------------------------
def test_voc_person_15_void_255(tmp_path: Path) -> None:
    labels = np.array([[0, 15, 255], [5, 15, 0]], np.uint8)
    image = PIL.Image.fromarray(labels, mode="P")
    image.putpalette([0, 0, 0, 128, 0, 0] * 128)
    image.save(tmp_path / "voc.png")
    for encoding in ("auto", "voc"):
        gt = metrics.read_ground_truth(tmp_path / "voc.png", encoding)
        assert gt.encoding == "voc"
        assert gt.person.tolist() == [[False, True, False], [False, True, False]]
        assert gt.valid.tolist() == [[True, True, False], [True, True, True]]


@pytest.mark.parametrize("on", [255, 1])
def test_binary_masks(tmp_path: Path, on: int) -> None:
    values = np.array([[0, on], [on, 0]], np.uint8)
    PIL.Image.fromarray(values, mode="L").save(tmp_path / "m.png")
    gt = metrics.read_ground_truth(tmp_path / "m.png")
    assert gt.encoding == "binary255"
    assert gt.person.tolist() == [[False, True], [True, False]] and gt.valid.all()


def test_alpha_matte_at_128(tmp_path: Path) -> None:
    rgba = np.zeros((1, 4, 4), np.uint8)
    rgba[0, :, 3] = [0, 127, 128, 255]
    rgba[0, :, :3] = 200  # colour is not the matte
    PIL.Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    for encoding in ("auto", "alpha"):
        gt = metrics.read_ground_truth(tmp_path / "a.png", encoding)
        assert gt.encoding == "alpha"
        assert gt.person.tolist() == [[False, False, True, True]]


def test_parsing_labels_any_non_zero(tmp_path: Path) -> None:
    labels = np.array([[0, 2, 13], [19, 0, 5]], np.uint8)
    PIL.Image.fromarray(labels, mode="L").save(tmp_path / "p.png")
    gt = metrics.read_ground_truth(tmp_path / "p.png")
    assert gt.encoding == "parsing"
    assert gt.person.tolist() == [[False, True, True], [True, False, True]]


def test_an_explicit_encoding_wins_over_the_guess() -> None:
    labels = np.array([[0, 15], [255, 1]], np.uint8)
    assert metrics.ground_truth_from_array(labels, "parsing").person.sum() == 3
    voc = metrics.ground_truth_from_array(labels, "voc")
    assert voc.person.sum() == 1 and voc.valid.sum() == 3


def test_reader_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        metrics.read_ground_truth(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="not an image"):
        metrics.read_ground_truth(tmp_path / "bad.png")
    with pytest.raises(ValueError, match="encoding must be one of"):
        metrics.ground_truth_from_array(np.zeros((2, 2), np.uint8), "png")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot guess"):
        metrics.ground_truth_from_array(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(TypeError, match="array must be an integer array"):
        metrics.ground_truth_from_array(np.zeros((2, 2), np.float32))


def test_metric_argument_errors() -> None:
    m = square(4, 4, 0, 2, 0, 2)
    with pytest.raises(ValueError, match="predicted must have the shape of truth"):
        metrics.person_iou(np.zeros((4, 5), np.uint8), m)
    with pytest.raises(ValueError, match="only 0 and 1"):
        metrics.person_iou(m * 255, m)
    with pytest.raises(ValueError, match="tolerance must be"):
        metrics.boundary_f_score(m, m, tolerance=-1)
    with pytest.raises(TypeError, match="truth must be a GroundTruth"):
        metrics.score_mask(m, m)  # type: ignore[arg-type]


def test_shared_folders_encodings(data_dir: Path) -> None:
    """Every shared folder's ground truth is read with the encoding PROVENANCE.md gives it."""
    expected = {
        "voc2012_person": "voc",
        "davis2016_person": "binary255",
        "coco2017_person_samples": "binary255",
        "aisegment_matting_samples": "alpha",
        "cihp_parsing": "parsing",
        "lip_parsing": "parsing",
    }
    for folder, encoding in expected.items():
        masks = sorted((data_dir / folder / "masks").glob("*.png"))
        assert masks, folder
        for path in masks:
            gt = metrics.read_ground_truth(path)
            assert gt.encoding == encoding, path
            assert 0 < gt.person.sum() < gt.person.size, path


def test_ground_truth_must_be_a_regular_file(tmp_path: Path) -> None:
    """Like the images: a FIFO is refused at once (not read, which would block), a folder too,
    and a missing file is FileNotFoundError."""
    fifo = tmp_path / "gt.png"
    os.mkfifo(fifo)
    for path in (fifo, tmp_path):
        with pytest.raises(ValueError, match="regular file"):
            metrics.read_ground_truth(path)
    with pytest.raises(FileNotFoundError):
        metrics.read_ground_truth(tmp_path / "missing.png")
