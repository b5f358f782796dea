"""Decoding image files and PIL images: high bit depths scaled by their mode on every path,
only regular files opened, only the documented formats parsed, every decoding failure the
documented ValueError naming the file; and a mutation fuzz over files in the formats Pillow
writes (a few seconds by default; ``PERSON_SEGMENTATION_FUZZ_SECONDS`` or
``HYPOTHESIS_PROFILE=thorough`` for a long run)."""

from __future__ import annotations

import collections
import io
import os
import random
import stat
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import PIL.Image
import PIL.PngImagePlugin
import pytest

import person_segmentation as ps
from person_segmentation._constants import IMAGE_EXTENSIONS, IMAGE_FORMATS
from person_segmentation._image import as_image, decode_image_bytes, pil_pixels, read_image

from ..unit._synthetic import synthetic_weights
from . import _mutations

PHOTO = "voc2012_person/images/001408.jpg"


def _encode(image: PIL.Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _round257(values: np.ndarray) -> np.ndarray:
    """The documented 16-bit rule, written independently: round(v / 257) (never a tie)."""
    return np.round(np.asarray(values, np.float64) / 257).astype(np.uint8)


def _rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[:, :, np.newaxis], 3, axis=2)


SIXTEEN = np.array(
    [[0, 1, 128, 129, 256, 257], [385, 386, 1000, 32767, 32768, 65535], [12345, 40000, 65278, 65407, 65408, 65534]],
    np.uint16,
)


@pytest.fixture(scope="module")
def net() -> ps.PersonSegmentation:
    return ps.PersonSegmentation(synthetic_weights(0.25, seed=5))


# -- high bit depths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode", "opened_as"),
    [("PNG", "I;16", "I;16"), ("TIFF", "I;16", "I;16"), ("TIFF", "I;16B", "I;16B"), ("PPM", "I;16", "I")],
)
def test_16_bit_files_decode_to_round_v_over_257(fmt: str, mode: str, opened_as: str, tmp_path: Path) -> None:
    """16-bit PNG, TIFF and PGM decoded as all-white (Pillow's convert("RGB") clips I;16 to
    0..255); they are now scaled to 8 bits as round(v / 257), by every decoding path."""
    dtype = ">u2" if mode == "I;16B" else "<u2"
    image = PIL.Image.frombytes(mode, SIXTEEN.shape[::-1], SIXTEEN.astype(dtype).tobytes())
    data = _encode(image, fmt)
    path = tmp_path / "sixteen.jpg"  # the name does not matter: Pillow reads the content
    path.write_bytes(data)
    expected = _rgb(_round257(SIXTEEN))
    np.testing.assert_array_equal(read_image(path), expected)
    np.testing.assert_array_equal(decode_image_bytes(data), expected)
    with PIL.Image.open(path) as lazy:
        assert lazy.mode == opened_as
        np.testing.assert_array_equal(as_image(lazy), expected)


@pytest.mark.parametrize(("mode", "dtype"), [("I;16", "<u2"), ("I;16L", "<u2"), ("I;16B", ">u2"), ("I;16N", "=u2")])
def test_pil_images_in_every_16_bit_mode(net: ps.PersonSegmentation, mode: str, dtype: str) -> None:
    image = PIL.Image.frombytes(mode, SIXTEEN.shape[::-1], SIXTEEN.astype(dtype).tobytes())
    expected = _rgb(_round257(SIXTEEN))
    np.testing.assert_array_equal(as_image(image), expected)
    np.testing.assert_array_equal(pil_pixels(image), expected)
    np.testing.assert_array_equal(net.estimate_person_segmentation(image), net.estimate_person_segmentation(expected))


def test_mode_I_is_clipped_to_16_bits_then_scaled(tmp_path: Path) -> None:
    """Mode I (int32; 16-bit PGM and int32 TIFF open in it) is 16-bit data: clipped to
    0..65535 (negative values are 0), then round(v / 257); the same as a file and as a PIL image."""
    values = np.array([[-(2**31), -5, 0, 128, 129], [257, 65535, 65536, 70000, 2**31 - 1]], np.int32)
    expected = _rgb(_round257(np.clip(values, 0, 65535)))
    image = PIL.Image.fromarray(values)
    assert image.mode == "I"
    np.testing.assert_array_equal(as_image(image), expected)
    path = tmp_path / "int32.tif"
    image.save(path)
    np.testing.assert_array_equal(read_image(path), expected)
    assert expected[0, :, 0].tolist() == [0, 0, 0, 0, 1] and expected[1, :, 0].tolist() == [1, 255, 255, 255, 255]


def test_mode_F_is_taken_as_0_to_1(tmp_path: Path) -> None:
    """Float TIFF (and PFM) images are 0..1 by convention, whatever their values: round(v * 255),
    clipped, NaN as 0. (A float TIFF of a photo became nearly black.)"""
    values = np.array([[np.nan, -np.inf, -0.25, 0.0, 1 / 255], [0.5, 0.999, 1.0, 1.5, np.inf]], np.float32)
    expected = _rgb(np.array([[0, 0, 0, 0, 1], [128, 255, 255, 255, 255]], np.uint8))
    image = PIL.Image.fromarray(values)
    assert image.mode == "F"
    np.testing.assert_array_equal(as_image(image), expected)
    for name in ("float.tif", "float.pfm"):
        image.save(tmp_path / name, format="TIFF" if name.endswith("tif") else "PPM")
        np.testing.assert_array_equal(read_image(tmp_path / name), expected, err_msg=name)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"])
def test_other_modes_keep_pillows_conversion(mode: str) -> None:
    rng = np.random.default_rng(0)
    image = PIL.Image.fromarray(rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)).convert("RGB")
    image = image.convert(mode) if mode not in ("LAB", "HSV") else PIL.Image.merge(mode, image.split())
    np.testing.assert_array_equal(as_image(image), np.asarray(image.convert("RGB")))


def test_16_bit_rgb_files_keep_pillows_high_byte(tmp_path: Path) -> None:
    """Pillow reads 16-bit RGB PNG/TIFF as 8-bit RGB, keeping the high byte (v >> 8): within 1
    of round(v / 257), and exact for 8-bit values stored as v * 257."""
    import cv2

    rng = np.random.default_rng(1)
    values = rng.integers(0, 65536, (5, 6, 3)).astype(np.uint16)
    for name in ("rgb16.png", "rgb16.tif"):
        assert cv2.imwrite(str(tmp_path / name), values[:, :, ::-1])
        got = read_image(tmp_path / name)
        np.testing.assert_array_equal(got, (values >> 8).astype(np.uint8), err_msg=name)
        assert np.abs(got.astype(int) - _round257(values)).max() <= 1


def _variants(photo: Path, tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """A colour photo written at high bit depths: name -> (file, "gray" or "rgb" reference)."""
    import cv2

    with PIL.Image.open(photo) as original:
        color = np.asarray(original.convert("RGB"))
        gray = np.asarray(original.convert("L"))
    # What converters write (ImageMagick's -depth 16, OpenCV's convertTo(CV_16U, 257)): v * 257.
    sixteen = gray.astype(np.uint16) * 257
    files: dict[str, tuple[PIL.Image.Image | np.ndarray, str, str]] = {
        "png16": (PIL.Image.fromarray(sixteen), "PNG", "gray"),
        "tiff16": (PIL.Image.fromarray(sixteen), "TIFF", "gray"),
        "pgm16": (PIL.Image.fromarray(sixteen), "PPM", "gray"),
        "tiff-int32": (PIL.Image.fromarray(sixteen.astype(np.int32)), "TIFF", "gray"),
        "tiff-float": (PIL.Image.fromarray(gray.astype(np.float32) / 255), "TIFF", "gray"),
        "png16-rgb": (color.astype(np.uint16) * 257, "cv2.png", "rgb"),
        "tiff16-rgb": (color.astype(np.uint16) * 257, "cv2.tif", "rgb"),
    }
    out = {}
    for name, (content, fmt, reference) in files.items():
        if fmt.startswith("cv2"):
            path = tmp_path / f"{name}.{fmt[4:]}"
            assert isinstance(content, np.ndarray) and cv2.imwrite(str(path), content[:, :, ::-1])
        else:
            assert isinstance(content, PIL.Image.Image)
            path = tmp_path / f"{name}.img"
            content.save(path, format=fmt)
        out[name] = (path, reference)
    return out


@pytest.mark.weights
def test_high_bit_depth_photos_give_the_8_bit_photos_mask(weights_dir: Path, data_dir: Path, tmp_path: Path) -> None:
    """The real network on a photo written as 16-bit PNG/TIFF/PGM, int32 TIFF, float TIFF and
    16-bit RGB: the person mask equals the 8-bit photo's on >= 99.9 % of the pixels (it was
    all-white: a person fraction of 0.045 instead of 0.417)."""
    net = ps.load(0.5, weights=weights_dir)
    photo = data_dir / PHOTO
    with PIL.Image.open(photo) as original:
        reference = {
            "gray": net.estimate_person_segmentation(original.convert("L")),
            "rgb": net.estimate_person_segmentation(original),
        }
    assert 0.1 < reference["gray"].mean() < 0.9, "the test means something only if the photo has a person"
    for name, (path, kind) in _variants(photo, tmp_path).items():
        with PIL.Image.open(path) as lazy:
            for image in (path, lazy):
                mask = net.estimate_person_segmentation(image)
                agreement = float((mask == reference[kind]).mean())
                assert agreement >= 0.999, (name, type(image).__name__, agreement, mask.mean(), reference[kind].mean())
    # A real 16-bit capture has anything in its low byte: within 1 of the 8-bit values, so only
    # pixels at the mask's edge may change.
    with PIL.Image.open(photo) as original:
        gray = np.asarray(original.convert("L")).astype(np.uint16)
    noisy = gray * 256 + np.random.default_rng(0).integers(0, 256, gray.shape).astype(np.uint16)
    PIL.Image.fromarray(noisy).save(tmp_path / "noisy.png")
    assert float((net.estimate_person_segmentation(tmp_path / "noisy.png") == reference["gray"]).mean()) >= 0.99


# -- formats -----------------------------------------------------------------------------------


def test_the_formats_read_are_those_of_the_extensions() -> None:
    """Every extension taken from a folder is one of the formats parsed, and nothing else is."""
    PIL.Image.init()
    registered = PIL.Image.registered_extensions()
    assert {registered[ext] for ext in IMAGE_EXTENSIONS} == set(IMAGE_FORMATS)


def test_every_common_seed_decodes() -> None:
    """The fuzz's seeds in the documented formats are readable (so its mutations mean something)."""
    for name, data in _mutations.common_seeds().items():
        pixels = decode_image_bytes(data, name)
        assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3, name


@pytest.mark.parametrize("name", sorted(_mutations.rare_seeds()))
def test_other_formats_are_refused_whatever_the_name(name: str, tmp_path: Path) -> None:
    """Pillow identifies files by content: a ``.jpg`` holding a DDS, BLP, AVIF, SPIDER... file
    was parsed by that plugin (whose errors are RuntimeError, NotImplementedError,
    AttributeError...). Only the documented formats are parsed now."""
    data = _mutations.rare_seeds()[name]
    path = tmp_path / f"{name}.jpg"
    path.write_bytes(data)
    with pytest.raises(
        ValueError, match=rf"cannot read image file .*{name}\.jpg.*not an image in one of the formats read"
    ):
        read_image(path)
    with pytest.raises(ValueError, match="not an image in one of the formats read"):
        decode_image_bytes(data, name)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("Failed to decode frame 0"),
        NotImplementedError("Unknown pixel format"),
        AttributeError("'X' object has no attribute 'y'"),
        TypeError("'float' object cannot be interpreted as an integer"),
        ValueError("tile cannot extend outside image"),
        RecursionError("maximum recursion depth exceeded"),
    ],
)
def test_any_exception_while_decoding_is_the_value_error_naming_the_file(
    error: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugins raise far more than OSError and SyntaxError (the fuzz found TypeError in
    TIFF and unnamed ValueErrors in PPM, PNG, TIFF, GIF, BMP): each is the documented
    ValueError naming the file, on every path."""
    path = tmp_path / "photo.png"
    PIL.Image.new("RGB", (8, 8), (1, 2, 3)).save(path)

    def fail(self: object, *args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(PIL.PngImagePlugin.PngImageFile, "load", fail)
    with pytest.raises(ValueError, match=r"cannot read image file .*photo\.png") as info:
        read_image(path)
    assert info.value.__cause__ is error
    with pytest.raises(ValueError, match="cannot read image file 'photo.png'"):
        decode_image_bytes(path.read_bytes(), "photo.png")
    with (
        PIL.Image.open(path) as lazy,
        pytest.raises(ValueError, match=r"cannot read image \(a PIL.Image.Image of .*photo\.png'\)"),
    ):
        as_image(lazy)


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, MemoryError])
def test_interrupts_and_memory_errors_are_not_decoding_errors(
    error: type[BaseException], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "photo.png"
    PIL.Image.new("RGB", (8, 8)).save(path)

    def fail(self: object, *args: object, **kwargs: object) -> None:
        raise error()

    monkeypatch.setattr(PIL.PngImagePlugin.PngImageFile, "load", fail)
    with pytest.raises(error):
        read_image(path)
    with PIL.Image.open(path) as lazy, pytest.raises(error):
        as_image(lazy)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_lazily_opened_truncated_pil_image_is_the_value_error(
    net: ps.PersonSegmentation, fmt: str, tmp_path: Path
) -> None:
    """``PIL.Image.open`` reads only the header; the truncation shows when the pixels are
    loaded, which raised OSError out of the estimates."""
    rng = np.random.default_rng(0)
    data = _encode(PIL.Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)), fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: len(data) // 2])
    match = rf"cannot read image \(a PIL.Image.Image of .*cut\.{fmt.lower()}'\): .*truncated"
    with PIL.Image.open(path) as lazy, pytest.raises(ValueError, match=match):
        net.estimate_person_segmentation(lazy)
    with PIL.Image.open(io.BytesIO(data[: len(data) // 2])) as lazy, pytest.raises(ValueError, match="truncated"):
        net.estimate_part_segmentation(lazy)


# -- only regular files ------------------------------------------------------------------------


def _finishes(call: Callable[[], object], unblock: Callable[[], None], seconds: float = 20.0) -> BaseException | None:
    """Run ``call`` on a thread; fail if it is still running after ``seconds`` (then ``unblock``
    it so the test run goes on). Returns what it raised (None if it returned)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        unblock()
        thread.join(10)
        pytest.fail(f"still blocked after {seconds} s")
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_blocking(net: ps.PersonSegmentation, tmp_path: Path) -> None:
    """``mkfifo in/p.jpg``: reading it blocked forever (open waits for a writer)."""
    fifo = tmp_path / "p.jpg"
    os.mkfifo(fifo)
    good = np.full((20, 30, 3), 90, np.uint8)

    def unblock() -> None:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)

    for call in (
        lambda: read_image(fifo),
        lambda: net.estimate_person_segmentation(fifo),
        lambda: net.estimate_part_segmentation(str(fifo)),
    ):
        error = _finishes(call, unblock)
        assert isinstance(error, ValueError) and "p.jpg" in str(error), error
        assert "must be a regular file, got a FIFO" in str(error)
    results: list[np.ndarray] = []

    def stream() -> None:
        for result in net.segment_stream([good, fifo, good]):
            results.append(result)

    error = _finishes(stream, unblock)
    assert isinstance(error, ValueError) and "p.jpg" in str(error), error
    assert len(results) == 1  # the result before it came first


@pytest.mark.parametrize(("path", "kind"), [("/dev/null", "character device"), ("/dev/zero", "character device")])
def test_devices_are_refused(path: str, kind: str) -> None:
    if not os.path.exists(path) or not stat.S_ISCHR(os.stat(path).st_mode):
        pytest.skip(f"no {path} here")
    with pytest.raises(
        ValueError, match=f"cannot read image file '{path}': image must be a regular file, got a {kind}"
    ):
        read_image(path)


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be a regular file, got a directory"):
        read_image(tmp_path)
    with pytest.raises(FileNotFoundError, match="image file not found"):
        read_image(tmp_path / "missing.jpg")
    (tmp_path / "file.jpg").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match="image file not found"):
        read_image(tmp_path / "file.jpg" / "below-a-file.jpg")


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_the_value_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.png"
    PIL.Image.new("RGB", (4, 4)).save(path)
    path.chmod(0)
    try:
        with pytest.raises(ValueError, match=r"cannot read image file .*secret\.png.*ermission denied"):
            read_image(path)
    finally:
        path.chmod(0o600)


def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    PIL.Image.new("RGB", (4, 3), (9, 8, 7)).save(path)
    link = tmp_path / "link.png"
    link.symlink_to(path)
    np.testing.assert_array_equal(read_image(link), np.full((3, 4, 3), (9, 8, 7), np.uint8))


# -- mutation fuzz ------------------------------------------------------------------------------


def _fuzz_seconds() -> float:
    default = "60" if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else "3"
    return float(os.environ.get("PERSON_SEGMENTATION_FUZZ_SECONDS", default))


def test_mutated_files_decode_or_raise_the_value_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Mutated files in the documented formats (and their high-bit-depth variants) and in 18
    rarer formats, through the one decoder (bytes, and every 20th as a file): each gives uint8
    (H, W, 3) pixels or the ValueError naming the file; nothing else escapes. Pillow's pixel
    limit is lowered so that mutated sizes stay fast (its error is the same ValueError)."""
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 4_000_000)
    seeds = {**_mutations.common_seeds(), **{f"rare-{k}": v for k, v in _mutations.rare_seeds().items()}}
    names = sorted(seeds)
    rng = random.Random(int(os.environ.get("PERSON_SEGMENTATION_FUZZ_SEED", "16")))
    outcomes: collections.Counter[str] = collections.Counter()
    escaped: list[str] = []
    deadline = time.monotonic() + _fuzz_seconds()
    count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as in a user's program: Pillow's warnings change nothing
        while time.monotonic() < deadline or count < len(names):
            name = names[count % len(names)]
            data, mutation = _mutations.mutate(seeds[name], rng)
            label = f"fuzz-{count}.jpg"
            try:
                if count % 20 == 0:
                    path = tmp_path / label
                    path.write_bytes(data)
                    pixels = read_image(path)
                    path.unlink()
                else:
                    pixels = decode_image_bytes(data, label)
                assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3
                assert pixels.shape[0] >= 1 and pixels.shape[1] >= 1
                outcomes["decoded"] += 1
            except ValueError as exc:
                if label not in str(exc):
                    escaped.append(f"{name} {mutation}: ValueError not naming the file: {exc}")
                outcomes["ValueError"] += 1
            except Exception as exc:
                escaped.append(f"{name} {mutation}: {type(exc).__name__}: {exc}")
            count += 1
    print(f"decoding fuzz: {count} mutated files, {dict(outcomes)}, {len(escaped)} outside the contract")
    assert not escaped, f"{len(escaped)} of {count} mutated files raised outside the contract: {escaped[:10]}"
    assert outcomes["decoded"] and outcomes["ValueError"]
