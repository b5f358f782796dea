"""``--effect blur-faces`` makes faces unrecognisable at its default strength (issue 12).

Detail is measured as the RMS of a band-pass (Gaussian sigma 1 minus sigma 4: eyes, mouth,
nostrils, the outline of the features) inside the face, eroded by 4 px so that the seam with
the unblurred hair and background is not counted, relative to the same measure on the photo.
On the CIHP photos (faces 37-109 px tall) BodyPix's 3 px blur keeps 42-56 % of it, the
default 15 px face blur 8-14 %.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation import render
from person_segmentation._constants import DEFAULT_FACE_BLUR
from person_segmentation.cli import main

CIHP_FACE = 13  # the CIHP label of the face (PROVENANCE.md)
#: The most detail a blurred face may keep, and the least BodyPix's default blur keeps (so the
#: measure tells the two apart).
MAX_DETAIL_LEFT = 0.2
MIN_DETAIL_AT_3PX = 0.35


def _rgb(path: Path) -> np.ndarray:
    with PIL.Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _band(image: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    result: np.ndarray = cv2.GaussianBlur(gray, (0, 0), 1) - cv2.GaussianBlur(gray, (0, 0), 4)
    return result


def _detail_left(before: np.ndarray, after: np.ndarray, face: np.ndarray) -> float:
    inner = cv2.erode(face.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert inner.sum() > 300, "too small a face to measure"

    def rms(image: np.ndarray) -> float:
        return float(np.sqrt(np.mean(_band(image)[inner] ** 2)))

    return rms(after) / rms(before)


def _cihp(data_dir: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    folder = data_dir / "cihp_parsing"
    photos = []
    for path in sorted((folder / "images").glob("*.jpg")):
        with PIL.Image.open(folder / "masks" / f"{path.stem}.png") as labels:
            face = np.asarray(labels) == CIHP_FACE
        photos.append((path.name, _rgb(path), face))
    assert len(photos) >= 6
    return photos


def test_the_default_face_blur_removes_the_detail_of_real_faces(data_dir: Path) -> None:
    """The faces of the ground truth as part 0, rendered as the CLI renders blur-faces."""
    renderer = render.Renderer(render.Effect.parse("blur-faces"))
    assert renderer.face_blur == DEFAULT_FACE_BLUR
    for name, image, face in _cihp(data_dir):
        parts = np.where(face, 0, -1).astype(np.int32)
        out = renderer(image, (parts >= 0).astype(np.uint8), parts)
        left = _detail_left(image, out, face)
        assert left < MAX_DETAIL_LEFT, (name, left)
        weak = render.blur_body_part(image, parts, (0, 1), background_blur_amount=3)
        assert _detail_left(image, weak, face) > MIN_DETAIL_AT_3PX, name  # what --background-blur 3 gave


@pytest.mark.weights
def test_the_command_blurs_the_faces_it_finds(tmp_path: Path, data_dir: Path, weights_dir: Path) -> None:
    """End to end: ``segment --effect blur-faces`` with its defaults, on a CIHP photo with two
    large faces; measured on the faces the network found (parts 0 and 1)."""
    photo = data_dir / "cihp_parsing" / "images" / "0026375.jpg"
    out = tmp_path / "blurred.png"
    args = ["segment", str(photo), "-o", str(out), "--effect", "blur-faces", "--multiplier", "0.5"]
    assert main([*args, "--weights", str(weights_dir), "-q"]) == 0
    image = _rgb(photo)
    parts = ps.load(0.5, weights=weights_dir).estimate_part_segmentation(image)
    face = np.isin(parts, (0, 1))
    assert _detail_left(image, _rgb(out), face) < MAX_DETAIL_LEFT
