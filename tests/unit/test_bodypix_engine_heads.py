"""``TFLiteEngine.bodypix_heads`` (what ``BodyPix`` runs: the native pre-processing written
straight into the interpreter's input tensor, then the network) against the two steps it
replaces, ``heads(_core.bodypix_preprocess(...))``: bit for bit, for uint8 and float32 pixels
(strided views among them), padding, strides 16 and 8 (signatures in other subgraphs of the
one model), repeated calls on one interpreter interleaved with ``heads()`` calls of other
inputs, and concurrent calls. The bundled model; no TensorFlow."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from person_segmentation import _core, bodypix
from person_segmentation._image import as_image, native_pixels
from person_segmentation.bodypix import _input_size, _padding


@pytest.fixture(scope="module")
def engine() -> Any:
    return bodypix.load(num_threads=2)._engine


def geometry(h: int, w: int, fraction: float, stride: int) -> tuple[int, int, tuple[int, int, int, int]]:
    ih, iw = _input_size(h, w, fraction, stride)
    return ih, iw, _padding(h, w, ih, iw)


def images() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    floats = rng.uniform(-20.0, 280.0, (150, 98, 3)).astype(np.float32)
    floats[5, 7] = np.nan
    return [
        rng.integers(0, 256, (120, 161, 3), dtype=np.uint8),
        np.ascontiguousarray(rng.integers(0, 256, (97, 61, 3), dtype=np.uint8)[:, ::-1])[:, ::-1],  # a view
        floats[::2, ::-1],  # a strided float view: 75 x 98
    ]


def two_steps(engine: Any, pixels: np.ndarray, ih: int, iw: int, padding: Any, stride: int) -> np.ndarray:
    model_input = _core.bodypix_preprocess(pixels, input_height=ih, input_width=iw, padding=padding, num_threads=1)
    heads: np.ndarray = engine.heads(model_input, stride)
    return heads


@pytest.mark.parametrize("stride", [16, 8])
def test_bodypix_heads_is_preprocess_then_heads(engine: Any, stride: int) -> None:
    for image in images():
        pixels = native_pixels(as_image(image))
        h, w = pixels.shape[:2]
        for fraction in (0.5, 0.75):
            ih, iw, padding = geometry(h, w, fraction, stride)
            expected = two_steps(engine, pixels, ih, iw, padding, stride)
            for threads in (0, 1, 3):
                got = engine.bodypix_heads(pixels, ih, iw, padding, stride, threads)
                assert got.dtype == np.float32 and got.flags.c_contiguous
                np.testing.assert_array_equal(got, expected)
            # another input through heads() on the same interpreter, then this one again
            two_steps(engine, np.zeros_like(pixels), ih, iw, padding, stride)
            np.testing.assert_array_equal(engine.bodypix_heads(pixels, ih, iw, padding, stride), expected)


def test_results_are_not_views_of_the_interpreter(engine: Any) -> None:
    a, b = images()[0], np.zeros((120, 161, 3), np.uint8)
    ih, iw, padding = geometry(120, 161, 0.5, 16)
    first = engine.bodypix_heads(a, ih, iw, padding, 16)
    kept = first.copy()
    engine.bodypix_heads(b, ih, iw, padding, 16)
    np.testing.assert_array_equal(first, kept)


def test_concurrent_calls_get_their_own_results(engine: Any) -> None:
    rng = np.random.default_rng(11)
    inputs = [rng.integers(0, 256, (120, 161, 3), dtype=np.uint8) for _ in range(4)]
    ih, iw, padding = geometry(120, 161, 0.5, 16)
    expected = [two_steps(engine, p, ih, iw, padding, 16) for p in inputs]
    got: list[Any] = [None] * len(inputs)
    barrier = threading.Barrier(len(inputs))

    def work(i: int) -> None:
        barrier.wait()
        for _ in range(3):
            got[i] = engine.bodypix_heads(inputs[i], ih, iw, padding, 16, 1)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)


def test_bodypix_heads_checks_stride_and_threads(engine: Any) -> None:
    pixels = images()[0]
    ih, iw, padding = geometry(120, 161, 0.5, 16)
    with pytest.raises(ValueError, match="output_stride"):
        engine.bodypix_heads(pixels, ih, iw, padding, 12)
    with pytest.raises(ValueError, match="num_threads"):
        engine.bodypix_heads(pixels, ih, iw, padding, 16, -1)


def test_the_bundled_model_takes_the_direct_path(engine: Any) -> None:
    """The LiteRT installed has the calls the in-place path uses (else these tests would only
    check the signature-runner fallback)."""
    ih, iw, padding = geometry(120, 161, 0.5, 16)
    engine.bodypix_heads(images()[0], ih, iw, padding, 16)
    with engine._pool(16, (1, ih, iw, 3), None, symmetric=False).runner() as runner:
        assert runner._direct is not None


def test_wrapper_calls_of_another_shape_fall_back(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where LiteRT's private wrapper has the calls but not as this module makes them (another
    version), a new runner uses the signature runner, with the same results, instead of failing."""
    from person_segmentation import _engine_tflite

    ih, iw, padding = geometry(120, 161, 0.5, 16)
    pixels = images()[0]
    expected = engine.bodypix_heads(pixels, ih, iw, padding, 16)

    class OtherWrapper:
        def __init__(self, wrapper: Any) -> None:
            self._wrapper = wrapper

        def __getattr__(self, name: str) -> Any:
            return getattr(self._wrapper, name)

        def tensor(self, base: Any, index: int) -> Any:  # no subgraph argument
            raise AssertionError("not called with two arguments")

    real = _engine_tflite._direct_handles
    probed: list[Any] = []

    def direct_handles(interpreter: Any, *args: Any) -> Any:
        class Interpreter:
            _interpreter = OtherWrapper(interpreter._interpreter)

        probed.append(real(Interpreter(), *args))
        return probed[-1]

    monkeypatch.setattr(_engine_tflite, "_direct_handles", direct_handles)
    fresh = bodypix.load(num_threads=2)._engine
    np.testing.assert_array_equal(fresh.bodypix_heads(pixels, ih, iw, padding, 16), expected)
    assert probed and all(handles is None for handles in probed)
