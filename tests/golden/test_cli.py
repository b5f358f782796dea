"""The ``person-segmentation`` command line on images, end to end on real photos and weights.

Videos and the webcam command are in test_cli_video.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation import render
from person_segmentation._constants import DEFAULT_FACE_BLUR
from person_segmentation.cli import main
from person_segmentation.encode import RAINBOW
from person_segmentation.render import cover as _cover

PHOTO = "voc2012_person/images/001408.jpg"
HIKE = "davis2016_person/images/hike_00024.jpg"


def _load(path: Path) -> PIL.Image.Image:
    """The image at ``path``, read completely and the file closed."""
    with PIL.Image.open(path) as image:
        image.load()
        return image


def test_segment_one_image_writes_the_mask(tmp_path: Path, data_dir: Path, weights_dir: Path) -> None:
    out = tmp_path / "mask.png"
    code = main(
        ["segment", str(data_dir / PHOTO), "-o", str(out), "--multiplier", "0.5", "--weights", str(weights_dir), "-q"]
    )
    assert code == 0
    written = np.asarray(_load(out))
    expected = ps.load(0.5, weights=weights_dir).estimate_person_segmentation(data_dir / PHOTO)
    np.testing.assert_array_equal(written, expected * 255)


def test_segment_parts_into_a_directory_and_report_bad_files(tmp_path: Path, data_dir: Path, weights_dir: Path) -> None:
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    inputs = [str(data_dir / PHOTO), str(corrupt), str(data_dir / HIKE)]
    out = tmp_path / "out"
    code = main(
        [
            "segment",
            *inputs,
            "--parts",
            "-o",
            str(out),
            "--multiplier",
            "0.25",
            "--output-stride",
            "8",
            "--weights",
            str(weights_dir),
            "-q",
        ]
    )
    assert code == 1  # one file failed, the others were still written
    assert sorted(p.name for p in out.iterdir()) == ["001408.parts.png", "hike_00024.parts.png"]
    image = _load(out / "hike_00024.parts.png")
    assert image.mode == "P" and image.size == (854, 480)
    assert (image.getpalette() or [])[:6] == [*RAINBOW[0], *RAINBOW[1]]
    values = np.asarray(image)
    expected = ps.load(0.25, weights=weights_dir).estimate_part_segmentation(data_dir / HIKE, output_stride=8)
    np.testing.assert_array_equal(values, np.where(expected < 0, 24, expected))


def test_a_directory_tree_is_mirrored_and_a_corrupt_file_does_not_stop_the_batch(
    tmp_path: Path, data_dir: Path, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    (photos / "a" / "b").mkdir(parents=True)
    (photos / ".hidden").mkdir()
    shutil.copy(data_dir / PHOTO, photos / "top.jpg")
    shutil.copy(data_dir / HIKE, photos / "a" / "b" / "hike.JPG")  # extensions in any case
    (photos / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (photos / "a" / "notes.txt").write_text("not an image")  # not taken: not an image extension
    shutil.copy(data_dir / PHOTO, photos / ".hidden" / "skip.jpg")  # hidden: not taken
    out = photos / "out"  # inside the input tree: it is not searched
    (out / "old").mkdir(parents=True)
    shutil.copy(data_dir / PHOTO, out / "old" / "previous.jpg")

    code = main(["segment", str(photos), "-o", str(out), "--multiplier", "0.25", "--weights", str(weights_dir)])
    captured = capsys.readouterr()
    assert code == 1
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
    assert written == ["a/b/hike.mask.png", "top.mask.png"]
    assert _load(out / "a" / "b" / "hike.mask.png").size == (854, 480)
    assert "skipped" in captured.err and "broken.png" in captured.err
    summary = captured.err.strip().splitlines()[-1]
    assert "2 of 3 files done (2 images; 2 frames)" in summary and "1 failed" in summary and "frames/s" in summary
    assert f"-> {out / 'top.mask.png'}" in captured.out  # one line per file on stdout
    assert "\r" not in captured.err  # no progress line when stderr is not a terminal


def test_missing_inputs_and_empty_directories_are_failures(
    tmp_path: Path, data_dir: Path, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    args = ["segment", str(tmp_path / "missing.jpg"), str(tmp_path / "empty"), str(data_dir / PHOTO)]
    code = main([*args, "-o", str(tmp_path / "out"), "--multiplier", "0.25", "--weights", str(weights_dir), "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert "missing.jpg" in err and "no image or video files" in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["001408.mask.png"]


def test_same_names_from_two_inputs_are_both_kept(tmp_path: Path, data_dir: Path, weights_dir: Path) -> None:
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        shutil.copy(data_dir / PHOTO, tmp_path / folder / "same.jpg")
    out = tmp_path / "out"
    code = main(
        [
            "segment",
            str(tmp_path / "x"),
            str(tmp_path / "y"),
            "-o",
            str(out),
            "--multiplier",
            "0.25",
            "--weights",
            str(weights_dir),
            "-q",
        ]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["same-2.mask.png", "same.mask.png"]


@pytest.fixture(scope="module")
def photo_results(data_dir: Path, weights_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The photo, its mask and its parts from the 0.5 net at the CLI's defaults."""
    image = np.asarray(_load(data_dir / PHOTO).convert("RGB"))
    net = ps.load(0.5, weights=weights_dir)
    return image, net.estimate_person_segmentation(image), net.estimate_part_segmentation(image)


@pytest.mark.parametrize(
    ("effect", "name"),
    [
        ("mask", "mask-overlay"),
        ("parts", "parts-overlay"),
        ("bokeh", "bokeh"),
        ("blur-faces", "blur-faces"),
        ("replace=#00B140", "replaced"),
        ("replace=IMG", "replaced"),
    ],
)
def test_each_effect_on_a_photo(
    effect: str,
    name: str,
    tmp_path: Path,
    data_dir: Path,
    weights_dir: Path,
    photo_results: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    image, mask, parts = photo_results
    effect = effect.replace("IMG", str(data_dir / HIKE))
    out = tmp_path / "out"
    code = main(
        [
            "segment",
            str(data_dir / PHOTO),
            "-o",
            str(out),
            "--effect",
            effect,
            "--multiplier",
            "0.5",
            "--weights",
            str(weights_dir),
            "-q",
        ]
    )
    assert code == 0
    written = _load(out / f"001408.{name}.png")
    assert written.mode == "RGB" and written.size == (image.shape[1], image.shape[0])
    pixels = np.asarray(written)
    expected = {
        "mask": lambda: render.draw_mask(image, render.to_mask_image(mask)),
        "parts": lambda: render.draw_mask(image, render.to_colored_part_image(parts)),
        "bokeh": lambda: render.draw_bokeh_effect(image, mask),
        "blur-faces": lambda: render.blur_body_part(image, parts, (0, 1), background_blur_amount=DEFAULT_FACE_BLUR),
        "replace=#00B140": lambda: render.replace_background(image, mask, (0x00, 0xB1, 0x40)),
    }.get(effect)
    if expected is None:  # replace=IMG: the background image scaled to cover the photo, centre-cropped
        background = np.asarray(_load(data_dir / HIKE).convert("RGB"))
        covered = _cover(background, image.shape[0], image.shape[1])
        assert covered.shape == image.shape
        expected = lambda: render.replace_background(image, mask, covered)  # noqa: E731
    np.testing.assert_array_equal(pixels, expected())


def test_effect_options_and_a_jpeg_output_file(tmp_path: Path, data_dir: Path, weights_dir: Path) -> None:
    out = tmp_path / "bokeh.jpg"
    args = ["--background-blur", "9", "--edge-blur", "0", "--multiplier", "0.25", "--weights", str(weights_dir), "-q"]
    assert main(["segment", str(data_dir / HIKE), "-o", str(out), "--effect", "bokeh", *args]) == 0
    with PIL.Image.open(out) as image:
        assert image.format == "JPEG" and image.size == (854, 480)
    warm = tmp_path / "warm.png"
    assert main(["segment", str(data_dir / HIKE), "-o", str(warm), "--parts", "--palette", "warm", *args]) == 0
    assert (_load(warm).getpalette() or [])[:3] == list(render.PALETTES["warm"][0])


def test_missing_weights_are_reported(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["segment", str(data_dir / PHOTO), "-o", str(tmp_path / "m.png"), "--weights", str(tmp_path / "none")])
    assert code == 2
    assert "cannot load weights" in capsys.readouterr().err


@pytest.mark.parametrize(("workers", "engine"), [("1", "tflite"), ("3", "tflite"), ("2", "tf")])
def test_many_images_pipelined_in_input_order(
    workers: str, engine: str, tmp_path: Path, data_dir: Path, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Images are processed several at once, but reported in input order, each output equal to
    the library's result, with a failure in the middle reported at its place."""
    sources = sorted((data_dir / "voc2012_person" / "images").glob("*.jpg"))[:6]
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    inputs = [*sources[:3], corrupt, *sources[3:]]
    out = tmp_path / "out"
    args = ["segment", *map(str, inputs), "-o", str(out), "--multiplier", "0.5", "--weights", str(weights_dir)]
    code = main([*args, "--workers", workers, "--engine", engine])
    assert code == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if " -> " in line]
    assert [line.split(" -> ")[0] for line in lines] == [str(p) for p in inputs if p != corrupt]
    net = ps.load(0.5, weights=weights_dir, engine=engine)
    for source in sources:
        written = np.asarray(_load(out / f"{source.stem}.mask.png"))
        np.testing.assert_array_equal(written, net.estimate_person_segmentation(source) * 255)


def test_output_file_equal_to_the_input_is_refused(
    tmp_path: Path, data_dir: Path, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = tmp_path / "photo.png"
    PIL.Image.open(data_dir / PHOTO).save(photo)
    before = photo.read_bytes()
    code = main(
        [
            "segment",
            str(photo),
            "-o",
            str(tmp_path / "." / "photo.png"),
            "--weights",
            str(weights_dir),
            "--multiplier",
            "0.5",
        ]
    )
    assert code == 2
    assert "is the input file itself" in capsys.readouterr().err
    assert photo.read_bytes() == before


# -- issue 16: inputs never written over, outputs complete or absent, no hang, names printed safely
def _digests(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _fast(weights_dir: Path) -> list[str]:
    return ["--multiplier", "0.25", "--weights", str(weights_dir)]


def test_segmenting_a_folder_into_itself_never_writes_over_an_input_and_reruns_cleanly(
    tmp_path: Path, data_dir: Path, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """s/ holds a.jpg and a user photo named a.mask.png (what a.jpg's mask would be called):
    the photo is an input, kept, and a.jpg's mask goes to a-2.mask.png. A re-run knows its own
    outputs (marked) and replaces them instead of segmenting them."""
    folder = tmp_path / "s"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(data_dir / PHOTO, folder / "a.jpg")
    PIL.Image.open(data_dir / HIKE).save(folder / "a.mask.png")  # the user's photo
    shutil.copy(data_dir / HIKE, folder / "sub" / "b.jpg")
    photo = (folder / "a.mask.png").read_bytes()
    assert main(["segment", str(folder), "-o", str(folder), *_fast(weights_dir)]) == 0
    first = _digests(folder)
    assert sorted(first) == ["a-2.mask.png", "a.jpg", "a.mask.mask.png", "a.mask.png", "sub/b.jpg", "sub/b.mask.png"]
    assert first["a.mask.png"] == photo
    net = ps.load(0.25, weights=weights_dir)
    np.testing.assert_array_equal(
        np.asarray(_load(folder / "a-2.mask.png")), net.estimate_person_segmentation(data_dir / PHOTO) * 255
    )
    capsys.readouterr()
    assert main(["segment", str(folder), "-o", str(folder), *_fast(weights_dir)]) == 0
    out = capsys.readouterr()
    assert _digests(folder) == first  # the same outputs again, none taken as an input
    assert "3 of 3 files done" in out.err and "a-2.mask.png ->" not in out.out


def test_a_hard_link_of_the_input_is_never_written_over(tmp_path: Path, data_dir: Path, weights_dir: Path) -> None:
    photo = tmp_path / "photo.png"
    PIL.Image.open(data_dir / PHOTO).save(photo)
    before = photo.read_bytes()
    os.link(photo, tmp_path / "link.png")
    assert main(["segment", str(photo), "-o", str(tmp_path / "link.png"), *_fast(weights_dir)]) == 2
    out = tmp_path / "out"
    out.mkdir()
    os.link(photo, out / "photo.mask.png")  # an output name that is the input under another name
    assert main(["segment", str(photo), "-o", str(out), *_fast(weights_dir), "-q"]) == 0
    assert photo.read_bytes() == before and (out / "photo.mask.png").read_bytes() == before
    assert _load(out / "photo-2.mask.png").mode == "L"


def test_a_fifo_among_the_inputs_is_skipped_not_waited_on(
    tmp_path: Path, data_dir: Path, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(data_dir / PHOTO, folder / "a.jpg")
    fifo = folder / "p.jpg"
    os.mkfifo(fifo)
    watchdog = threading.Timer(30.0, _unblock, (fifo,))  # a regression fails instead of hanging
    watchdog.start()
    start = time.perf_counter()
    try:
        code = main(["segment", str(folder), str(fifo), "-o", str(tmp_path / "out"), *_fast(weights_dir), "-q"])
    finally:
        watchdog.cancel()
    assert time.perf_counter() - start < 25
    assert code == 1 and "not a regular file (a FIFO)" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.mask.png"]


def _unblock(fifo: Path) -> None:
    for _ in range(50):  # release every reader blocked opening the FIFO
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            return


def test_ctrl_c_stops_at_once_with_a_stuck_worker_and_counts_the_files_written(
    tmp_path: Path,
    data_dir: Path,
    weights_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One input never finishes decoding (a hung network share, say); the others are written.
    The first Ctrl+C ends the command at once (130), prints the files written and counts them."""
    from person_segmentation import _image

    names = ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]
    for name in names:
        shutil.copy(data_dir / PHOTO, tmp_path / name)
    out = tmp_path / "out"
    release = threading.Event()
    real = _image.read_image

    def read_image(path: Any) -> np.ndarray:
        if Path(path).name == "a.jpg":
            release.wait(60)
        return real(path)

    def interrupt_when_written() -> None:
        for _ in range(600):
            if out.exists() and len(list(out.glob("*.mask.png"))) == 3:
                break
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(_image, "read_image", read_image)
    interrupter = threading.Thread(target=interrupt_when_written, daemon=True)
    interrupter.start()
    start = time.perf_counter()
    try:
        code = main(["segment", *(str(tmp_path / n) for n in names), "-o", str(out), *_fast(weights_dir)])
        elapsed = time.perf_counter() - start
    finally:
        release.set()
        interrupter.join()
    captured = capsys.readouterr()
    assert code == 130 and elapsed < 30
    assert sorted(p.name for p in out.iterdir()) == ["b.mask.png", "c.mask.png", "d.mask.png"]  # no temporary file
    assert [line.split(" -> ")[0] for line in captured.out.splitlines()] == [str(tmp_path / n) for n in names[1:]]
    assert "interrupted: 3 of 4 files done (3 images; 3 frames)" in captured.err


def test_a_failed_image_write_keeps_the_earlier_file_and_leaves_no_partial_one(
    tmp_path: Path,
    data_dir: Path,
    weights_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A full disk in the middle of a PNG: the earlier mask.png stays as it was (not a
    zero-byte or cut file), nothing else is left, the input is reported as failed (exit 1)."""
    import errno

    import PIL.PngImagePlugin

    out = tmp_path / "mask.png"
    out.write_bytes(b"the earlier, complete result")
    real = PIL.PngImagePlugin._save

    def full_disk(image: Any, file: Any, *args: Any, **kwargs: Any) -> None:
        file.write(b"\x89PNG\r\n\x1a\n")  # the start of the file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setitem(PIL.Image.SAVE, "PNG", full_disk)
    code = main(["segment", str(data_dir / PHOTO), "-o", str(out), *_fast(weights_dir)])
    assert code == 1 and "No space left on device" in capsys.readouterr().err
    assert out.read_bytes() == b"the earlier, complete result" and [p.name for p in tmp_path.iterdir()] == ["mask.png"]
    monkeypatch.setitem(PIL.Image.SAVE, "PNG", real)
    assert main(["segment", str(data_dir / PHOTO), "-o", str(out), *_fast(weights_dir), "-q"]) == 0
    assert _load(out).mode == "L" and [p.name for p in tmp_path.iterdir()] == ["mask.png"]


def test_odd_file_names_under_a_strict_stdout_encoding(tmp_path: Path, data_dir: Path, weights_dir: Path) -> None:
    """A non-UTF-8 name (Latin-1 bytes) among 21 inputs, with PYTHONIOENCODING=utf-8:strict, and
    a name with a newline: every output is written, each printed on one escaped line, and the
    summary is printed."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(19):
        shutil.copy(data_dir / PHOTO, folder / f"photo{i:02d}.jpg")
    shutil.copy(data_dir / PHOTO, os.path.join(os.fsencode(folder), b"caf\xe9.jpg"))
    shutil.copy(data_dir / PHOTO, folder / "two\nlines.jpg")
    env = dict(os.environ, PYTHONIOENCODING="utf-8:strict")
    command = [sys.executable, "-m", "person_segmentation", "segment", str(folder), "-o", str(tmp_path / "out")]
    result = subprocess.run([*command, *_fast(weights_dir)], capture_output=True, env=env, timeout=300, check=False)
    stdout, stderr = result.stdout.decode("utf-8"), result.stderr.decode("utf-8", "backslashreplace")
    assert result.returncode == 0, stderr[-3000:]
    assert len(os.listdir(tmp_path / "out")) == 21
    lines = stdout.splitlines()
    assert len(lines) == 21 and all(" -> " in line for line in lines)
    assert f"{folder}/caf\\xe9.jpg -> {tmp_path}/out/caf\\xe9.mask.png" in lines
    assert f"{folder}/two\\nlines.jpg -> {tmp_path}/out/two\\nlines.mask.png" in lines
    assert "21 of 21 files done (21 images; 21 frames)" in stderr


# -- issue 12: --probability (the soft mask) and --refine guided, with the bundled model
@pytest.fixture
def bundled(monkeypatch: pytest.MonkeyPatch) -> ps.PersonSegmentation:
    """The network ``segment`` loads by default (the bundled model through ``ps.load``)."""
    from person_segmentation import _weights

    monkeypatch.delenv("PERSON_SEGMENTATION_WEIGHTS", raising=False)
    return ps.load(0.75, weights=_weights.bundled_model())


def test_probability_png_is_the_rounded_soft_mask_and_thresholds_to_the_mask(
    tmp_path: Path, data_dir: Path, bundled: ps.PersonSegmentation
) -> None:
    out = tmp_path / "out"
    assert main(["segment", str(data_dir / PHOTO), str(data_dir / HIKE), "-o", str(out), "--probability", "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["001408.probability.png", "hike_00024.probability.png"]
    for name, stem in ((PHOTO, "001408"), (HIKE, "hike_00024")):
        written = _load(out / f"{stem}.probability.png")
        assert written.mode == "L"
        png = np.asarray(written)
        probability = bundled.estimate_person_probability(data_dir / name)
        np.testing.assert_array_equal(png, np.rint(probability.astype(np.float64) * 255))
        assert png.max() > 180 and png.min() < 10  # a person and background, shades between
        assert np.count_nonzero((png > 10) & (png < 245)) > 0
        for t in (0.3, 0.5, 0.7):
            mask = bundled.estimate_person_segmentation(data_dir / name, segmentation_threshold=t)
            # png / 255 > t is the mask except where the 8-bit rounding falls on t
            differ = (png / 255 > t) != (mask != 0)
            assert np.all(np.abs(probability[differ].astype(np.float64) - t) <= 0.5 / 255 + 1e-7)
    # a re-run into the same folder replaces its own outputs (they are not taken as inputs)
    assert main(["segment", str(out), "-o", str(out), "--probability", "-q"]) == 1  # nothing else to read
    assert sorted(p.name for p in out.iterdir()) == ["001408.probability.png", "hike_00024.probability.png"]


def test_refine_guided_applies_to_the_mask_the_parts_and_the_probability(
    tmp_path: Path, data_dir: Path, bundled: ps.PersonSegmentation
) -> None:
    image = data_dir / PHOTO
    refined = bundled.segment(image, refine="guided", parts=True)
    plain = bundled.segment(image)
    assert np.count_nonzero(refined.mask != plain.mask) > 0  # the refinement changes something here
    assert main(["segment", str(image), "-o", str(tmp_path / "soft.png"), "--probability", "--refine", "guided"]) == 0
    np.testing.assert_array_equal(
        np.asarray(_load(tmp_path / "soft.png")), np.rint(refined.probability.astype(np.float64) * 255)
    )
    assert main(["segment", str(image), "-o", str(tmp_path / "mask.png"), "--refine", "guided", "-q"]) == 0
    np.testing.assert_array_equal(np.asarray(_load(tmp_path / "mask.png")), refined.mask * 255)
    assert main(["segment", str(image), "-o", str(tmp_path / "parts.png"), "--refine", "guided", "--parts", "-q"]) == 0
    assert refined.parts is not None
    np.testing.assert_array_equal(
        np.asarray(_load(tmp_path / "parts.png")), np.where(refined.parts < 0, 24, refined.parts)
    )


def test_probability_of_a_video_is_a_grayscale_video_of_the_smoothed_soft_mask(
    tmp_path: Path, data_dir: Path, bundled: ps.PersonSegmentation
) -> None:
    from person_segmentation import video

    frames = [
        np.asarray(_load(p).convert("RGB"))
        for p in sorted((data_dir / "davis2016_person/images").glob("hike_*.jpg"))[:3]
    ]
    assert len(frames) == 3
    height, width = frames[0].shape[:2]
    source = tmp_path / "clip.mp4"
    with video.VideoWriter(source, 24.0, size=(width, height)) as writer:
        for frame in frames:
            writer.write(frame)
    out = tmp_path / "out"
    for refine in ("none", "guided"):
        assert main(["segment", str(source), "-o", str(out), "--probability", "--refine", refine, "-q"]) == 0
        written = list(video.read_video(out / "clip.probability.mp4"))
        decoded = list(video.read_video(source))
        assert len(written) == len(decoded) == 3
        segmenter = video.VideoSegmenter(bundled)  # the CLI's defaults: smoothing 0.5, stride 16
        for frame, result in zip(decoded, written, strict=True):
            probability = segmenter.process(frame).probability
            assert probability is not None
            if refine == "guided":
                from person_segmentation import _refine

                probability = _refine.refine_probability(frame, probability)
            got = result.astype(np.int16)
            assert np.abs(got[..., 0] - got[..., 1]).max() <= 3 and np.abs(got[..., 0] - got[..., 2]).max() <= 3
            error = np.abs(got[..., 1] - np.rint(probability * 255)[: got.shape[0], : got.shape[1]])
            assert error.mean() < 3.0  # mp4v is lossy: close, not exact
