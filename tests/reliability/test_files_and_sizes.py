"""Image files that are truncated, corrupt or not images, and images far larger than the
model input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps

from ..unit._synthetic import synthetic_weights

PHOTO = "voc2012_person/images/001408.jpg"


@pytest.fixture(scope="module")
def net() -> ps.PersonSegmentation:
    return ps.PersonSegmentation(synthetic_weights(0.25, seed=5))


@pytest.mark.parametrize("keep", [0, 2, 100, 2000, 20000])
def test_truncated_jpeg_is_a_clear_error_naming_the_file(
    net: ps.PersonSegmentation, data_dir: Path, tmp_path: Path, keep: int
) -> None:
    cut = tmp_path / f"cut-{keep}.jpg"
    cut.write_bytes((data_dir / PHOTO).read_bytes()[:keep])
    with pytest.raises(ValueError, match=f"cannot read image file .*cut-{keep}.jpg"):
        net.estimate_person_segmentation(cut)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("noise.png", bytes(range(256)) * 40),
        ("text.jpg", b"hello, I am not an image\n" * 10),
        ("header-only.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30),
        ("empty.bmp", b""),
    ],
)
def test_non_images_are_a_clear_error_naming_the_file(
    net: ps.PersonSegmentation, tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"cannot read image file .*{name}"):
        net.estimate_part_segmentation(str(path))


def test_corrupt_middle_of_a_jpeg(net: ps.PersonSegmentation, data_dir: Path, tmp_path: Path) -> None:
    """Garbage inside the entropy-coded data: either decoded (JPEG is resilient) or an error
    naming the file, never a crash."""
    data = bytearray((data_dir / PHOTO).read_bytes())
    rng = np.random.default_rng(0)
    for i in rng.integers(600, len(data) - 10, size=200):
        data[i] = rng.integers(0, 256)
    path = tmp_path / "garbled.jpg"
    path.write_bytes(bytes(data))
    try:
        mask = net.estimate_person_segmentation(path)
    except ValueError as exc:
        assert "garbled.jpg" in str(exc)
    else:
        assert mask.shape == PIL.Image.open(data_dir / PHOTO).size[::-1]


def test_a_directory_is_not_an_image(net: ps.PersonSegmentation, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read image file"):
        net.estimate_person_segmentation(tmp_path)


def test_8000x6000_image(net: ps.PersonSegmentation) -> None:
    """Far larger than the model input: resized from uint8 without a full-size float copy."""
    image = np.zeros((6000, 8000, 3), np.uint8)
    image[1000:5000, 3000:5000] = 200
    parts = net.estimate_part_segmentation(image)
    assert parts.shape == (6000, 8000) and parts.dtype == np.int32
    small = net.estimate_part_segmentation(np.asarray(PIL.Image.fromarray(image).resize((400, 300), PIL.Image.NEAREST)))
    assert abs(float((parts >= 0).mean()) - float((small >= 0).mean())) < 0.05
