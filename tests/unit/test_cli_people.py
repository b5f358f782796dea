"""``segment --people`` / ``--primary-person`` without weights: usage errors, file names, the
choice of the primary person, the flip, and the files written (with a stand-in BodyPix 2 net)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest

from person_segmentation import render
from person_segmentation.cli import _people, main
from person_segmentation.cli._outputs import Outputs, save_image


@dataclass
class FakePerson:
    mask: np.ndarray | None
    parts: np.ndarray | None
    pose: Any


def _pose(y: float, x: float) -> np.ndarray:
    pose = np.zeros((17, 3))
    pose[:, :2] = -100.0
    pose[5] = (y, x, 0.9)  # a shoulder
    pose[6] = (y, x + 6, 0.9)  # the other one: a bone between them
    return pose


def _people_in(height: int, width: int, boxes: list[tuple[int, int, int, int]], parts: bool) -> list[FakePerson]:
    people = []
    for top, bottom, left, right in boxes:
        mask = np.zeros((height, width), dtype=np.uint8)
        mask[top:bottom, left:right] = 1
        part_map = np.where(mask == 1, 12, -1).astype(np.int32) if parts else None
        people.append(FakePerson(None if parts else mask, part_map, _pose((top + bottom) / 2, left + 1)))
    return people


def _args(**overrides: Any) -> argparse.Namespace:
    values = {"flip": False, "threshold": 0.5, "palette": "rainbow", "opacity": 0.7, "parts": False}
    values.update(overrides)
    return argparse.Namespace(**values)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["x.jpg", "--people", "--effect", "bokeh"], "it takes no --effect"),
        (["x.jpg", "clip.mp4", "--people"], "--people takes images only"),
    ],
)
def test_usage_errors_before_the_model_loads(
    arguments: list[str],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the inputs exist (a missing input is skipped, not a usage error)
    for name in ("x.jpg", "clip.mp4"):
        (tmp_path / name).write_bytes(b"")
    code = main(["segment", *arguments, "-o", str(tmp_path / "out"), "--weights", str(tmp_path / "unused")])
    assert code == 2
    assert message in capsys.readouterr().err


def test_people_and_primary_person_exclude_each_other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["segment", "x.jpg", "--people", "--primary-person", "-o", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_help_documents_the_people_files(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["segment", "--help"])
    text = capsys.readouterr().out
    assert "--people" in text and "--primary-person" in text and "--quant-bytes" in text
    assert "<stem>.person-<k>.mask.png" in text and "<stem>.people.png" in text


def test_person_file_names() -> None:
    assert _people.person_path(Path("out/a.people.png"), 1, "mask") == Path("out/a.person-1.mask.png")
    assert _people.person_path(Path("out/a.b.people.png"), 12, "parts") == Path("out/a.b.person-12.parts.png")
    assert _people.person_path(Path("group.jpg"), 2, "mask") == Path("group.person-2.mask.png")


def test_own_person_files_are_recognised_only_when_marked(tmp_path: Path) -> None:
    ours = tmp_path / "a.person-3.mask.png"
    save_image(PIL.Image.new("L", (2, 2)), ours, Outputs())
    users = tmp_path / "b.person-1.mask.png"
    PIL.Image.new("L", (2, 2)).save(users)
    assert _people.is_own_people_output(ours, "people")
    assert not _people.is_own_people_output(users, "people")
    assert not _people.is_own_people_output(tmp_path / "c.person-0.mask.png", "people")


@pytest.mark.parametrize("parts", [False, True])
def test_primary_is_the_largest_person_first_of_equals(parts: bool) -> None:
    people = _people_in(20, 30, [(0, 5, 0, 5), (5, 15, 10, 20), (0, 10, 20, 30)], parts)
    mask, part_map = _people.primary(_people.People(people, parts), 20, 30)
    assert mask.dtype == np.uint8 and mask.sum() == 100 and mask[5, 10] == 1 and mask[0, 25] == 0  # person 2 (first)
    if parts:
        assert part_map is not None and part_map[5, 10] == 12 and part_map[0, 25] == -1
    else:
        assert part_map is None


@pytest.mark.parametrize("parts", [False, True])
def test_primary_of_nobody_is_empty(parts: bool) -> None:
    mask, part_map = _people.primary(_people.People([], parts), 4, 5)
    assert mask.shape == (4, 5) and not mask.any()
    assert (part_map is None) if not parts else (part_map is not None and (part_map == -1).all())


class FakeNet:
    def __init__(self, people: list[FakePerson]) -> None:
        self.people = people
        self.calls: list[tuple[str, np.ndarray, dict[str, Any]]] = []

    def segment_multi_person(self, image: np.ndarray, **options: Any) -> list[FakePerson]:
        self.calls.append(("segment_multi_person", image, options))
        return self.people

    def segment_multi_person_parts(self, image: np.ndarray, **options: Any) -> list[FakePerson]:
        self.calls.append(("segment_multi_person_parts", image, options))
        return self.people


@pytest.mark.parametrize("flip", [False, True])
def test_people_segmenter_options_and_flip(flip: bool) -> None:
    net = FakeNet([])
    pixels = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    _people.PeopleSegmenter(net, _args(flip=flip, threshold=0.25))(pixels, True)
    name, image, options = net.calls[0]
    assert name == "segment_multi_person_parts"
    assert options == {"flip_horizontal": flip, "segmentation_threshold": 0.25}
    np.testing.assert_array_equal(image, pixels[:, ::-1] if flip else pixels)  # mirrored in, mirrored back out


@pytest.mark.parametrize("parts", [False, True])
def test_write_people_files_and_overlay(parts: bool, tmp_path: Path) -> None:
    people = _people_in(20, 30, [(0, 10, 0, 10), (10, 20, 15, 30)], parts)
    pixels = np.full((20, 30, 3), 90, dtype=np.uint8)
    target = tmp_path / "photo.people.png"
    args = _args(parts=parts)
    written = _people.write_people(pixels, _people.People(people, parts), target, args, Outputs(), set())
    kind = "parts" if parts else "mask"
    assert written == [tmp_path / f"photo.person-{k}.{kind}.png" for k in (1, 2)]
    for path, person in zip(written, people, strict=True):
        with PIL.Image.open(path) as image:
            values = np.asarray(image)
        if parts:
            assert person.parts is not None
            np.testing.assert_array_equal(values, np.where(person.parts >= 0, person.parts, 24))
        else:
            assert person.mask is not None
            np.testing.assert_array_equal(values, person.mask * 255)
    with PIL.Image.open(target) as image:
        overlay = np.asarray(image.convert("RGB"))
    masks = [(p.parts >= 0) if parts else p.mask for p in people]  # type: ignore[operator]
    expected = render.draw_people(pixels, masks, poses=[p.pose for p in people], opacity=0.7)
    np.testing.assert_array_equal(overlay, expected)
    colors = render.person_colors(2)
    assert np.array_equal(overlay[5, 1], colors[0])  # person 1's shoulder dot, in its colour
    assert not np.array_equal(overlay[15, 20], pixels[15, 20])  # person 2's mask is coloured


def test_write_people_never_writes_over_an_input(tmp_path: Path) -> None:
    people = _people_in(4, 4, [(0, 2, 0, 2)], False)
    clash = tmp_path / "x.person-1.mask.png"
    clash.write_bytes(b"an input")
    stat = clash.stat()
    with pytest.raises(ValueError, match="it is an input"):
        _people.write_people(
            np.zeros((4, 4, 3), np.uint8),
            _people.People(people, False),
            tmp_path / "x.people.png",
            _args(),
            Outputs(),
            {(stat.st_dev, stat.st_ino)},
        )
    assert clash.read_bytes() == b"an input"
