"""The ``person-segmentation`` command line, end to end on real photos and weights."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation.cli import RAINBOW, main

PHOTO = "voc2012_person/images/001408.jpg"


def test_segment_one_image_writes_the_mask(tmp_path: Path, data_dir: Path, weights_dir: Path) -> None:
    out = tmp_path / "mask.png"
    code = main(["segment", str(data_dir / PHOTO), "-o", str(out), "--multiplier", "0.5", "--weights", str(weights_dir), "-q"])
    assert code == 0
    written = np.asarray(PIL.Image.open(out))
    expected = ps.load(0.5, weights=weights_dir).estimate_person_segmentation(data_dir / PHOTO)
    np.testing.assert_array_equal(written, expected * 255)


def test_segment_parts_into_a_directory_and_report_bad_files(tmp_path: Path, data_dir: Path, weights_dir: Path) -> None:
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    inputs = [str(data_dir / PHOTO), str(corrupt), str(data_dir / "davis2016_person/images/hike_00024.jpg")]
    out = tmp_path / "out"
    code = main(["segment", *inputs, "--parts", "-o", str(out), "--multiplier", "0.25", "--output-stride", "8", "--weights", str(weights_dir), "-q"])
    assert code == 1  # one file failed, the others were still written
    assert sorted(p.name for p in out.iterdir()) == ["001408.parts.png", "hike_00024.parts.png"]
    image = PIL.Image.open(out / "hike_00024.parts.png")
    assert image.mode == "P" and image.size == (854, 480)
    assert image.getpalette()[:6] == [*RAINBOW[0], *RAINBOW[1]]
    values = np.asarray(image)
    expected = ps.load(0.25, weights=weights_dir).estimate_part_segmentation(
        data_dir / "davis2016_person/images/hike_00024.jpg", output_stride=8
    )
    np.testing.assert_array_equal(values, np.where(expected < 0, 24, expected))


def test_bad_arguments_exit_with_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["segment", "x.jpg", "-o", str(tmp_path / "m.png"), "--threshold", "1.5"])
    assert exit_info.value.code == 2
    assert "--threshold must be in [0, 1]" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["segment", "x.jpg", "-o", str(tmp_path / "m.png"), "--output-stride", "12"])
    assert exit_info.value.code == 2


def test_missing_weights_are_reported(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["segment", str(data_dir / PHOTO), "-o", str(tmp_path / "m.png"), "--weights", str(tmp_path / "none")])
    assert code == 2
    assert "cannot load weights" in capsys.readouterr().err


def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "person_segmentation", "info"], capture_output=True, text=True, check=True, timeout=120
    )
    info = json.loads(result.stdout)
    assert info["version"] == ps.__version__ and info["cpu_threads"] >= 1
    help_text = subprocess.run(
        [sys.executable, "-m", "person_segmentation", "segment", "--help"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    for option in ("--parts", "--multiplier", "--output-stride", "--threshold", "--flip", "--weights"):
        assert option in help_text
