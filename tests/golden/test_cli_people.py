"""``segment --people`` and ``--primary-person`` end to end on real photos and the 2.x weights:
the files must hold exactly what the ``bodypix`` API and ``render`` give for the same image."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest

from person_segmentation import render
from person_segmentation._image import read_image
from person_segmentation.cli import main
from person_segmentation.video import read_video, video_info

pytestmark = pytest.mark.weights

MODEL = "bodypix/mobilenet/quant2/075/model-stride16.json"
TWO_PEOPLE = "coco2017_person_samples/images/000000009483.jpg"
NOBODY = "voc2012_person/images/005304.jpg"
BEDROOM = "video/sam2_bedroom.mp4"
#: The command's --threshold default, passed to BodyPix 2 as its segmentation threshold.
THRESHOLD = 0.5


def _load(path: Path) -> np.ndarray:
    with PIL.Image.open(path) as image:
        image.load()
        return np.asarray(image)


@pytest.fixture(scope="module")
def model(weights_dir: Path) -> str:
    return str(weights_dir / MODEL)


@pytest.fixture(scope="module")
def net(model: str) -> Any:
    from person_segmentation import bodypix

    return bodypix.load(0.75, quant_bytes=2, model_url=model)


def test_people_writes_each_person_and_the_overlay(tmp_path: Path, data_dir: Path, model: str, net: Any) -> None:
    out = tmp_path / "out"
    photo = data_dir / TWO_PEOPLE
    assert main(["segment", str(photo), "-o", str(out), "--people", "--weights", model, "-q"]) == 0
    people = net.segment_multi_person(photo, segmentation_threshold=THRESHOLD)
    assert len(people) == 2
    stem = photo.stem
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{stem}.people.png", f"{stem}.person-1.mask.png", f"{stem}.person-2.mask.png"]
    )
    for k, person in enumerate(people, start=1):
        np.testing.assert_array_equal(_load(out / f"{stem}.person-{k}.mask.png"), person.mask * 255)
    expected = render.draw_people(read_image(photo), [p.mask for p in people], poses=[p.pose for p in people])
    np.testing.assert_array_equal(_load(out / f"{stem}.people.png"), expected)


def test_people_parts_and_an_overlay_file_name(tmp_path: Path, data_dir: Path, model: str, net: Any) -> None:
    photo = data_dir / TWO_PEOPLE
    target = tmp_path / "group.png"
    assert main(["segment", str(photo), "-o", str(target), "--people", "--parts", "--weights", model, "-q"]) == 0
    people = net.segment_multi_person_parts(photo, segmentation_threshold=THRESHOLD)
    for k, person in enumerate(people, start=1):
        written = _load(tmp_path / f"group.person-{k}.parts.png")
        np.testing.assert_array_equal(written, np.where(person.parts < 0, 24, person.parts))
    assert target.is_file()


def test_people_on_a_photo_of_nobody_writes_only_the_overlay(
    tmp_path: Path, data_dir: Path, model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = data_dir / NOBODY
    assert main(["segment", str(photo), "-o", str(tmp_path), "--people", "--weights", model]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [f"{photo.stem}.people.png"]
    np.testing.assert_array_equal(_load(tmp_path / f"{photo.stem}.people.png"), read_image(photo))
    assert "(0 people)" in capsys.readouterr().out


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_people_rerun_into_the_input_folder_replaces_its_own_files(
    tmp_path: Path, data_dir: Path, model: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(data_dir / TWO_PEOPLE, folder / "two.jpg")
    assert main(["segment", str(folder), "-o", str(folder), "--people", "--weights", model, "-q"]) == 0
    first = _digests(folder)
    assert sorted(first) == ["two.jpg", "two.people.png", "two.person-1.mask.png", "two.person-2.mask.png"]
    capsys.readouterr()
    assert main(["segment", str(folder), "-o", str(folder), "--people", "--weights", model]) == 0
    assert _digests(folder) == first
    assert "1 of 1 file done" in capsys.readouterr().err


@pytest.mark.parametrize("parts", [False, True])
def test_primary_person_is_the_largest(tmp_path: Path, data_dir: Path, model: str, net: Any, parts: bool) -> None:
    photo = data_dir / TWO_PEOPLE
    target = tmp_path / "primary.png"
    extra = ["--parts"] if parts else []
    assert main(["segment", str(photo), "-o", str(target), "--primary-person", *extra, "--weights", model, "-q"]) == 0
    call = net.segment_multi_person_parts if parts else net.segment_multi_person
    people = call(photo, segmentation_threshold=THRESHOLD)
    largest = max(people, key=lambda p: int(np.count_nonzero(p.mask)))
    assert np.count_nonzero(largest.mask) > max(np.count_nonzero(p.mask) for p in people if p is not largest)
    if parts:
        np.testing.assert_array_equal(_load(target), np.where(largest.parts < 0, 24, largest.parts))
    else:
        np.testing.assert_array_equal(_load(target), largest.mask * 255)


def test_primary_person_with_an_effect_and_flip(tmp_path: Path, data_dir: Path, model: str, net: Any) -> None:
    photo = data_dir / TWO_PEOPLE
    target = tmp_path / "bokeh.png"
    arguments = ["--primary-person", "--effect", "bokeh", "--flip", "--weights", model, "-q"]
    assert main(["segment", str(photo), "-o", str(target), *arguments]) == 0
    pixels = read_image(photo)
    people = net.segment_multi_person(pixels[:, ::-1], flip_horizontal=True, segmentation_threshold=THRESHOLD)
    largest = max(people, key=lambda p: int(np.count_nonzero(p.mask)))
    np.testing.assert_array_equal(_load(target), render.draw_bokeh_effect(pixels, largest.mask))


def test_primary_person_on_a_video(tmp_path: Path, data_dir: Path, model: str) -> None:
    out = tmp_path / "out"
    video = data_dir / BEDROOM
    code = main(["segment", str(video), "-o", str(out), "--primary-person", "--max-frames", "3", "--weights", model])
    assert code == 0
    written = out / f"{video.stem}.mask.mp4"
    assert video_info(written).width == video_info(video).width
    frames = list(read_video(written))
    assert len(frames) == 3
    assert all(0 < np.count_nonzero(f[..., 0] > 127) < f[..., 0].size for f in frames)  # one person, not all
