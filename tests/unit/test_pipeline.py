"""Pipelined many-image processing: the ordered map and prefetcher, segment_stream and the
batch estimates (synthetic weights; no shared material)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation import _pipeline

from ._synthetic import calibrated_weights

# -- ordered_map / prefetch ----------------------------------------------------------------------


def test_ordered_map_keeps_order_and_overlaps() -> None:
    active, peak = 0, 0
    lock = threading.Lock()

    def slow_square(x: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.01 * (x % 3))  # later items often finish first
        with lock:
            active -= 1
        return x * x

    assert list(_pipeline.ordered_map(slow_square, range(20), workers=3, window=6)) == [x * x for x in range(20)]
    assert peak > 1


def test_ordered_map_is_lazy_and_bounded() -> None:
    consumed = 0

    def source() -> Iterator[int]:
        nonlocal consumed
        for i in itertools.count():
            consumed = i + 1
            yield i

    results = _pipeline.ordered_map(lambda x: x, source(), workers=2, window=4)
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    assert consumed <= 3 + 4
    results.close()  # an infinite source: closing must not hang


def test_ordered_map_raises_at_the_failing_item() -> None:
    def fn(x: int) -> int:
        if x == 3:
            raise ValueError("bad item 3")
        return x

    seen = []
    with pytest.raises(ValueError, match="bad item 3"):
        for r in _pipeline.ordered_map(fn, range(10), workers=2, window=4):
            seen.append(r)
    assert seen == [0, 1, 2]


def test_ordered_map_can_return_exceptions() -> None:
    def fn(x: int) -> int:
        if x % 4 == 1:
            raise OSError(f"cannot read {x}")
        return x

    out = list(_pipeline.ordered_map(fn, range(8), workers=2, window=3, return_exceptions=True))
    failed = [r for r in out if isinstance(r, _pipeline.Failed)]
    assert [f.item for f in failed] == [1, 5] and all(isinstance(f.error, OSError) for f in failed)
    assert [r for r in out if not isinstance(r, _pipeline.Failed)] == [0, 2, 3, 4, 6, 7]


@pytest.mark.parametrize(("workers", "window"), [(0, 1), (1, 0)])
def test_ordered_map_arguments(workers: int, window: int) -> None:
    with pytest.raises(ValueError, match="workers and window must be >= 1"):
        list(_pipeline.ordered_map(lambda x: x, [1], workers=workers, window=window))


def test_prefetch_order_errors_and_early_close() -> None:
    assert list(_pipeline.prefetch(iter(range(50)), 3)) == list(range(50))

    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("decoder died")

    got = []
    with pytest.raises(OSError, match="decoder died"):
        for x in _pipeline.prefetch(failing(), 2):
            got.append(x)
    assert got == [1, 2]

    started = threading.active_count()
    it = _pipeline.prefetch(itertools.count(), 2)
    assert next(it) == 0
    it.close()  # stops the producer thread of an infinite source
    assert threading.active_count() == started
    with pytest.raises(ValueError, match="depth must be >= 1"):
        next(_pipeline.prefetch([1], 0))


# -- segment_stream and the batch estimates ----------------------------------------------------------


@pytest.fixture(scope="module")
def images() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    out = []
    for i, (h, w) in enumerate([(60, 80), (90, 50), (33, 33), (120, 64), (48, 100), (70, 70), (64, 48)]):
        im = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        im[h // 4 : 3 * h // 4, w // 3 : 2 * w // 3] = (210, 160, 130 + i)
        out.append(im)
    return out


@pytest.fixture(scope="module", params=["tflite", "tf"])
def net(
    request: pytest.FixtureRequest, images: list[np.ndarray], tmp_path_factory: pytest.TempPathFactory
) -> ps.PersonSegmentation:
    weights = calibrated_weights(0.5, images[0], seed=2)
    return ps.PersonSegmentation(weights, engine=request.param, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.mark.parametrize("workers", [None, 1, 3])
def test_stream_equals_single_calls(net: ps.PersonSegmentation, images: list[np.ndarray], workers: int | None) -> None:
    masks = list(net.segment_stream(images, workers=workers))
    parts = list(net.segment_stream(iter(images), parts=True, workers=workers, output_stride=8, flip_horizontal=True))
    assert len(masks) == len(parts) == len(images)
    for im, m, p in zip(images, masks, parts):
        np.testing.assert_array_equal(m, net.estimate_person_segmentation(im))
        np.testing.assert_array_equal(p, net.estimate_part_segmentation(im, True, 8))
        assert m.dtype == np.uint8 and p.dtype == np.int32 and m.shape == p.shape == im.shape[:2]
    assert any(0 < m.mean() < 1 for m in masks)


def test_batch_estimates(net: ps.PersonSegmentation, images: list[np.ndarray]) -> None:
    same = [images[0]] * 3
    batch = np.stack(same)  # a 4-D array is N images
    masks = net.estimate_person_segmentation_batch(batch, segmentation_threshold=0.3)
    assert len(masks) == 3 and all(
        np.array_equal(m, net.estimate_person_segmentation(images[0], False, 16, 0.3)) for m in masks
    )
    parts = net.estimate_part_segmentation_batch(images[:4], swap_left_right=True)
    for im, p in zip(images[:4], parts):
        np.testing.assert_array_equal(p, net.estimate_part_segmentation(im, swap_left_right=True))
    assert net.estimate_person_segmentation_batch([]) == []


def test_stream_decodes_paths(net: ps.PersonSegmentation, images: list[np.ndarray], tmp_path: Path) -> None:
    paths = []
    for i, im in enumerate(images):
        paths.append(tmp_path / f"{i}.png")
        PIL.Image.fromarray(im).save(paths[-1])
    for got, im in zip(net.segment_stream(paths, parts=True), images):
        np.testing.assert_array_equal(got, net.estimate_part_segmentation(im))


def test_stream_reports_a_bad_image_at_its_position(
    net: ps.PersonSegmentation, images: list[np.ndarray], tmp_path: Path
) -> None:
    items = [images[0], images[1], tmp_path / "missing.jpg", images[2]]
    results = []
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        for r in net.segment_stream(items):
            results.append(r)
    assert len(results) == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"workers": 0}, ValueError, r"workers must be None or an int in 1..64, got 0"),
        ({"workers": True}, TypeError, "workers must be None or an int"),
        ({"output_stride": 4}, ValueError, "output_stride must be one of"),
        ({"segmentation_threshold": 2}, ValueError, "segmentation_threshold must be a number in"),
        ({"parts": 1}, TypeError, "parts must be a bool"),
        ({"swap_left_right": True}, ValueError, "swap_left_right needs parts=True"),
    ],
)
def test_stream_checks_arguments_at_the_call(
    net: ps.PersonSegmentation, images: list[np.ndarray], kwargs: dict, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        net.segment_stream(images, **kwargs)  # raised before iterating


@pytest.mark.parametrize("bad", ["photo.jpg", np.zeros((4, 4, 3), np.uint8), 5, None])
def test_stream_refuses_a_single_image(net: ps.PersonSegmentation, bad: object) -> None:
    """A single image, or anything not iterable, is refused at the call (not at the first next())."""
    with pytest.raises(TypeError, match="images must be an iterable of images"):
        net.segment_stream(bad)  # type: ignore[arg-type]


# -- issue 12: on_error="skip" reports bad inputs and goes on, as the command line does ----------
def test_stream_skips_and_reports_bad_images(
    net: ps.PersonSegmentation, images: list[np.ndarray], tmp_path: Path
) -> None:
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    good = tmp_path / "good.png"
    PIL.Image.fromarray(images[3]).save(good)
    items: list[object] = [images[0], tmp_path / "missing.jpg", corrupt, np.zeros((4, 4, 2), np.uint8), good, images[2]]
    results = list(net.segment_stream(items, on_error="skip", workers=2))  # type: ignore[arg-type]
    assert len(results) == len(items)  # aligned with the inputs: zip(items, results) works
    failed = [r for r in results if isinstance(r, ps.FailedImage)]
    assert [f.index for f in failed] == [1, 2, 3] and not any(failed)
    assert isinstance(failed[0].error, FileNotFoundError) and failed[0].image == tmp_path / "missing.jpg"
    assert isinstance(failed[1].error, ValueError) and "corrupt.jpg" in str(failed[1])
    assert isinstance(failed[2].error, ValueError) and str(failed[2]).startswith("image 3 (ndarray): ")
    for index, expected in ((0, images[0]), (4, images[3]), (5, images[2])):
        result = results[index]
        assert isinstance(result, np.ndarray)
        np.testing.assert_array_equal(result, net.estimate_person_segmentation(expected))
    # the default still raises at the bad image's position
    with pytest.raises(FileNotFoundError):
        list(net.segment_stream(items, on_error="raise"))  # type: ignore[arg-type]


def test_stream_skip_still_raises_what_is_not_the_images_fault(
    net: ps.PersonSegmentation, images: list[np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> np.ndarray:
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(net, "_segment", broken)
    with pytest.raises(RuntimeError, match="the engine broke"):
        list(net.segment_stream(images[:2], on_error="skip"))


@pytest.mark.parametrize(("value", "error"), [("ignore", ValueError), (None, TypeError), (True, TypeError)])
def test_stream_checks_on_error_at_the_call(
    net: ps.PersonSegmentation, images: list[np.ndarray], value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"on_error must be one of \('raise', 'skip'\)"):
        net.segment_stream(images, on_error=value)  # type: ignore[call-overload]
