"""``engine.heads()`` (the layout of `_constants.BODYPIX_HEADS`) against the raw heads of BodyPix 2.2.1 in golden2,
on both engines, and the engines' size cache."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation import _engine_tflite, _weights
from person_segmentation._constants import BODYPIX_HEADS_CHANNELS, HEADS_SIZE_CACHE

from .._golden2 import cases as golden2_cases
from .._golden2 import heads_of


def _resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """tfjs resizeBilinear (alignCorners=False, halfPixelCenters=False) in float64."""
    in_h, in_w = image.shape[:2]
    ys, xs = np.arange(height) * (in_h / height), np.arange(width) * (in_w / width)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, in_h - 1), np.minimum(x0 + 1, in_w - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    a = image.astype(np.float64)
    top = a[y0][:, x0] + (a[y0][:, x1] - a[y0][:, x0]) * fx
    bottom = a[y1][:, x0] + (a[y1][:, x1] - a[y1][:, x0]) * fx
    return (top + (bottom - top) * fy).astype(np.float32)


def _model_input(case: dict[str, Any], data_dir: Path) -> np.ndarray:
    """BodyPix 2's input of the case: zero-padded, resized, normalised (spec sections 2, 4)."""
    image = np.asarray(PIL.Image.open(data_dir / case["image"]).convert("RGB"))
    top, bottom, left, right = case["padding"]
    padded = np.pad(image, ((top, bottom), (left, right), (0, 0)))
    resized = _resize_bilinear(padded, *case["internal_hw"])
    return np.float32(np.float32(resized / np.float32(127.5)) - np.float32(1))


@pytest.fixture(scope="module")
def nets() -> dict[tuple[str, str], ps.PersonSegmentation]:
    return {}


def _net(
    nets: dict[tuple[str, str], ps.PersonSegmentation], weights_dir: Path, case: dict[str, Any], engine: str
) -> Any:
    key = (case["weights"], engine)
    if key not in nets:
        nets[key] = ps.load(case["multiplier"], weights=weights_dir / case["weights"], engine=engine)
    return nets[key]._engine


@pytest.mark.golden
@pytest.mark.parametrize("engine", ["tflite", "tf"])
def test_heads_match_bodypix2(engine: str, nets: dict, golden2_dir: Path, weights_dir: Path, data_dir: Path) -> None:  # type: ignore[type-arg]
    cases = golden2_cases(golden2_dir.parent, heads_only=True)
    assert len(cases) >= 9, "golden2 has 9 cases with raw heads"
    for case in cases:
        golden = np.load(golden2_dir / case["golden"])
        expected = heads_of(golden)
        heads = _net(nets, weights_dir, case, engine).heads(_model_input(case, data_dir), case["output_stride"])
        assert heads.dtype == np.float32 and heads.flags.c_contiguous
        assert heads.shape == expected.shape and heads.shape[-1] == BODYPIX_HEADS_CHANNELS, case["id"]
        # float32 convolutions in another order (XNNPACK / oneDNN vs tfjs): ~3e-4 on logits up to ~200
        np.testing.assert_allclose(heads, expected, atol=2e-3, rtol=1e-5, err_msg=case["id"])


def test_symmetric_dilation_differs_only_where_dilated() -> None:
    engine = ps.load(0.75, weights=_weights.bundled_model(8))._engine
    x = np.random.default_rng(0).uniform(-1, 1, (161, 249, 3)).astype(np.float32)
    np.testing.assert_array_equal(engine.heads(x, 16), engine.heads(x, 16, symmetric_dilation=True))
    assert np.abs(engine.heads(x, 8) - engine.heads(x, 8, symmetric_dilation=True)).max() > 0.1
    # the v0.0.x path keeps both sides dilated: its stride-8 logits are the symmetric heads' channels
    model_input = np.random.default_rng(1).uniform(-1, 1, (353, 257, 3)).astype(np.float32)
    v0 = engine.run_input(model_input[np.newaxis], 8)
    symmetric = engine.heads(model_input, 8, symmetric_dilation=True)
    np.testing.assert_array_equal(v0[..., 0], symmetric[..., 0])


def test_heads_of_1x_weights_are_refused(weights_dir: Path) -> None:
    net = ps.load(0.5, weights=weights_dir)
    with pytest.raises(ValueError, match="no BodyPix 2 heads"):
        net._engine.heads(np.zeros((33, 33, 3), np.float32), 16)


def test_heads_input_checks() -> None:
    engine = ps.load(0.75, weights=_weights.bundled_model())._engine
    with pytest.raises(ValueError, match="output_stride"):
        engine.heads(np.zeros((33, 33, 3), np.float32), 4)
    with pytest.raises(ValueError, match="model_input"):
        engine.heads(np.zeros((33, 33, 4), np.float32), 16)
    with pytest.raises(ValueError, match="finite"):
        engine.heads(np.full((33, 33, 3), np.nan, np.float32), 16)
    with pytest.raises(TypeError, match="symmetric_dilation"):
        engine.heads(np.zeros((33, 33, 3), np.float32), 16, symmetric_dilation=1)


def test_sizes_are_cached_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = ps.load(0.75, weights=_weights.bundled_model())._engine
    made: list[tuple[int, ...]] = []
    real = _engine_tflite._Runner.__init__

    def spy(self: Any, content: bytes, threads: int, signature: str | None, shape: tuple[int, ...]) -> None:
        made.append(shape)
        real(self, content, threads, signature, shape)

    monkeypatch.setattr(_engine_tflite._Runner, "__init__", spy)
    sizes = [(16 * k + 1, 16 * k + 17) for k in range(1, HEADS_SIZE_CACHE + 3)]
    first: dict[tuple[int, int], np.ndarray] = {}
    for _ in range(2):  # the second round: same sizes, no new interpreter while they fit the cache
        for h, w in sizes[:HEADS_SIZE_CACHE]:
            x = np.random.default_rng(h).uniform(-1, 1, (h, w, 3)).astype(np.float32)
            out = engine.heads(x, 16)
            assert out.shape == ((h - 1) // 16 + 1, (w - 1) // 16 + 1, BODYPIX_HEADS_CHANNELS)
            np.testing.assert_array_equal(first.setdefault((h, w), out), out)
    assert len(made) == HEADS_SIZE_CACHE
    for h, w in sizes[HEADS_SIZE_CACHE:]:
        engine.heads(np.zeros((h, w, 3), np.float32), 16)
    assert len(engine._sized) == HEADS_SIZE_CACHE  # the oldest sizes were dropped
    engine.heads(np.zeros((*sizes[0], 3), np.float32), 16)
    assert len(made) == HEADS_SIZE_CACHE + 3  # the dropped size needed a new interpreter


def test_heads_from_several_threads() -> None:
    engine = ps.load(0.75, weights=_weights.bundled_model(), num_threads=1)._engine
    inputs = [
        np.random.default_rng(i).uniform(-1, 1, (161 + 16 * (i % 2), 129, 3)).astype(np.float32) for i in range(8)
    ]
    expected = [engine.heads(x, 16) for x in inputs]
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(3):
                results[i] = engine.heads(inputs[i], 16)
                np.testing.assert_array_equal(results[i], expected[i])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 8
