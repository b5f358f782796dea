"""``person-segmentation eval``: pairing, argument errors (no weights), and a real run with the
1.x 0.50 weights of ../shared on a small folder (scores checked against the metrics module)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from person_segmentation import metrics
from person_segmentation.cli import main
from person_segmentation.cli.eval import FolderScore, find_datasets, format_table, pair_files, read_pixels


def write_png(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.Image.fromarray(array, mode=mode).save(path)
    return path


def test_pairing_by_stem(tmp_path: Path) -> None:
    image = np.zeros((4, 4, 3), np.uint8)
    for stem in ("a", "b", "c"):
        write_png(tmp_path / "images" / f"{stem}.png", image)
    write_png(tmp_path / "masks" / "a.png", np.zeros((4, 4), np.uint8))
    write_png(tmp_path / "masks" / "b.bmp", np.zeros((4, 4), np.uint8))
    write_png(tmp_path / "masks" / "b.png", np.zeros((4, 4), np.uint8))  # .png wins over .bmp
    write_png(tmp_path / "masks" / "z.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "images" / "notes.txt").write_text("not an image")
    d = pair_files("x", tmp_path / "images", tmp_path / "masks")
    assert [(p.image.name, p.mask.name) for p in d.pairs] == [("a.png", "a.png"), ("b.png", "b.png")]
    assert [p.name for p in d.unmatched_images] == ["c.png"]
    assert [p.name for p in d.unmatched_masks] == ["z.png"]


def test_dataset_forms(tmp_path: Path) -> None:
    for name in ("one", "two"):
        write_png(tmp_path / "root" / name / "images" / "a.png", np.zeros((2, 2, 3), np.uint8))
        write_png(tmp_path / "root" / name / "masks" / "a.png", np.zeros((2, 2), np.uint8))
    assert [d.name for d in find_datasets([tmp_path / "root"])] == ["one", "two"]  # a folder of datasets
    assert [d.name for d in find_datasets([tmp_path / "root" / "two"])] == ["two"]  # one dataset
    plain = find_datasets([tmp_path / "root" / "one" / "images", tmp_path / "root" / "one" / "masks"])
    assert [(d.name, len(d.pairs)) for d in plain] == [("images", 1)]  # IMAGES_DIR MASKS_DIR


def test_images_are_read_as_stored_without_the_exif_rotation(tmp_path: Path) -> None:
    """Masks are drawn on the stored pixel grid, so eval does not apply EXIF orientation."""
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = 255
    exif = PIL.Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    PIL.Image.fromarray(stored).save(tmp_path / "r.png", exif=exif)
    pixels = read_pixels(tmp_path / "r.png")
    assert pixels.shape == (20, 40, 3)
    np.testing.assert_array_equal(pixels, stored)


def test_format_table() -> None:
    table = format_table([FolderScore("voc", 2, 0.5, 0.25, 12.34)], [])
    assert table.splitlines() == [
        "| folder | images | mean IoU | mean boundary F | ms/image |",
        "|--------|-------:|---------:|----------------:|---------:|",
        "| voc    |      2 |   0.5000 |          0.2500 |     12.3 |",
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--internal-resolution", "low"], "--internal-resolution needs --geometry bodypix"),
        (["--geometry", "bodypix", "--internal-resolution", "huge"], "--internal-resolution must be one of"),
        (["--geometry", "bodypix", "--internal-resolution", "3"], "--internal-resolution must be one of"),
        (["--csv", "/nonexistent-folder/x.csv"], "--csv /nonexistent-folder/x.csv: not a file"),
    ],
)
def test_argument_errors_are_usage_errors(
    tmp_path: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_png(tmp_path / "d" / "images" / "a.png", np.zeros((2, 2, 3), np.uint8))
    write_png(tmp_path / "d" / "masks" / "a.png", np.zeros((2, 2), np.uint8))
    assert main(["eval", str(tmp_path / "d"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_folder_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["eval", str(tmp_path / "empty")]) == 2
    assert "holds neither images/ and masks/" in capsys.readouterr().err
    write_png(tmp_path / "d" / "images" / "a.png", np.zeros((2, 2, 3), np.uint8))
    write_png(tmp_path / "d" / "masks" / "b.png", np.zeros((2, 2), np.uint8))
    assert main(["eval", str(tmp_path / "d")]) == 2
    assert "no image has a mask of the same name" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["eval", str(tmp_path / "d"), "--geometry", "v1"])
    assert exit_info.value.code == 2


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = capsys.readouterr().out
    for word in ("IMAGES_DIR MASKS_DIR", "--geometry", "--internal-resolution", "--csv", "--refine", "255 = void"):
        assert word in text, word


@pytest.mark.weights
def test_a_real_run_scores_what_the_metrics_say(
    tmp_path: Path, data_dir: Path, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import person_segmentation as ps

    folder = tmp_path / "mixed"
    chosen = [("voc2012_person", "000323"), ("aisegment_matting_samples", "1803151818-00000003")]
    for source, stem in chosen:
        (folder / "images").mkdir(parents=True, exist_ok=True)
        (folder / "masks").mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / source / "images" / f"{stem}.jpg", folder / "images" / f"{stem}.jpg")
        shutil.copy(data_dir / source / "masks" / f"{stem}.png", folder / "masks" / f"{stem}.png")
    shutil.copy(data_dir / "voc2012_person" / "images" / "001408.jpg", folder / "images" / "unpaired.jpg")
    (folder / "images" / "broken.jpg").write_bytes(b"not a jpeg")
    shutil.copy(data_dir / "voc2012_person" / "masks" / "001408.png", folder / "masks" / "broken.png")
    weights = weights_dir / "posenet_mobilenet_050_partmap"
    out = tmp_path / "scores.csv"
    code = main(["eval", str(folder), "--weights", str(weights), "--multiplier", "0.5", "--csv", str(out), "-q"])
    captured = capsys.readouterr()
    assert code == 1  # the broken image failed, the rest was scored
    assert "no mask for unpaired.jpg" in captured.err and "skipped" in captured.err and "broken.jpg" in captured.err
    with out.open() as file:
        rows = list(csv.DictReader(file))
    assert [Path(r["image"]).stem for r in rows] == sorted(stem for _, stem in chosen)
    net = ps.load(0.5, weights=weights)
    for row in rows:
        pixels = read_pixels(Path(row["image"]))
        truth = metrics.read_ground_truth(row["mask"])
        expected = metrics.score_mask(net.estimate_person_segmentation(pixels), truth)
        assert float(row["iou"]) == pytest.approx(expected.iou, abs=1e-6)
        assert float(row["boundary_f"]) == pytest.approx(expected.boundary.f, abs=1e-6)
        assert int(row["tolerance_px"]) == metrics.boundary_tolerance_pixels(int(row["height"]), int(row["width"]))
        assert 0.3 < expected.iou < 1.0  # a real mask of a real person
    mean_iou = sum(float(r["iou"]) for r in rows) / len(rows)
    table = captured.out.splitlines()
    assert table[0].startswith("| folder") and table[2].startswith("| mixed ")
    assert f"{mean_iou:8.4f}" in table[2]


@pytest.mark.weights
def test_the_bodypix_geometry(
    tmp_path: Path, data_dir: Path, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--geometry bodypix scores BodyPix 2's segment_person masks (threshold 0.7 by default)."""
    from person_segmentation import bodypix

    folder = tmp_path / "coco"
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    stem = "000000001296"
    shutil.copy(data_dir / "coco2017_person_samples" / "images" / f"{stem}.jpg", folder / "images")
    shutil.copy(data_dir / "coco2017_person_samples" / "masks" / f"{stem}.png", folder / "masks")
    model = weights_dir / "bodypix" / "mobilenet" / "quant2" / "075" / "model-stride16.json"
    out = tmp_path / "scores.csv"
    argv = ["eval", str(folder), "--geometry", "bodypix", "--internal-resolution", "low", "--weights", str(model)]
    assert main([*argv, "--csv", str(out), "-q"]) == 0
    with out.open() as file:
        (row,) = list(csv.DictReader(file))
    net = bodypix.load(0.75, model_url=model)
    pixels = read_pixels(folder / "images" / f"{stem}.jpg")
    seg = net.segment_person(pixels, internal_resolution="low", segmentation_threshold=0.7)
    expected = metrics.score_mask(seg.mask, metrics.read_ground_truth(folder / "masks" / f"{stem}.png"))
    assert float(row["iou"]) == pytest.approx(expected.iou, abs=1e-6)
    assert expected.iou > 0.5
    capsys.readouterr()
    assert main([*argv, "-q", "--refine", "guided"]) == 0
    assert "| coco " in capsys.readouterr().out


def test_progress_is_drawn_when_asked_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``evaluate(progress=True)`` draws its bar on stderr even when stderr is no terminal (what
    ``eval --progress`` asks for); without it, nothing."""
    from person_segmentation.cli.eval import evaluate

    write_png(tmp_path / "images" / "a.png", np.zeros((4, 4, 3), np.uint8))
    write_png(tmp_path / "masks" / "a.png", np.full((4, 4), 255, np.uint8))
    datasets = [pair_files("x", tmp_path / "images", tmp_path / "masks")]
    masker = lambda pixels: np.ones(pixels.shape[:2], np.uint8)  # noqa: E731
    for progress in (False, True):
        images, _ = evaluate(datasets, masker, progress=progress)
        assert [round(s.iou, 6) for s in images] == [1.0]
        assert ("image" in capsys.readouterr().err) is progress
