"""The TFLite engine: native pre-processing, conversion and its cache, agreement with the TF
engine, threads. Synthetic weights only (no shared material)."""

from __future__ import annotations

import dataclasses
import logging
import threading
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import person_segmentation as ps
from person_segmentation import _core, _engine, _engine_tflite
from person_segmentation._graph import layout as _layout
from person_segmentation._graph import resize_pad_normalize as _resize_pad_normalize

from ._synthetic import calibrated_weights


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (120, 90, 3), dtype=np.uint8)
    image[30:100, 25:65] = (200, 150, 120)  # a "person" block the calibrated weights light up
    return image


@pytest.fixture(scope="module")
def weights(photo: np.ndarray):  # type: ignore[no-untyped-def]
    return calibrated_weights(0.5, photo, seed=1)


@pytest.fixture(scope="module")
def nets(weights, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ps.PersonSegmentation]:  # type: ignore[no-untyped-def]
    cache = tmp_path_factory.mktemp("engine-cache")
    return {e: ps.PersonSegmentation(weights, engine=e, cache_dir=cache) for e in ("tf", "tflite")}


# -- engine selection -----------------------------------------------------------------------


def test_auto_is_tflite_without_a_gpu(weights, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert not tf.config.list_physical_devices("GPU")
    net = ps.PersonSegmentation(weights, cache_dir=tmp_path)
    assert net.engine == "tflite"
    assert "engine='tflite'" in repr(net)


def test_auto_is_tf_when_a_gpu_is_visible(weights, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(_engine, "gpu_visible", lambda: True)
    assert ps.PersonSegmentation(weights).engine == "tf"


@pytest.mark.parametrize(
    ("engine", "error"), [("TF", ValueError), ("lite", ValueError), ("", ValueError), (None, TypeError), (1, TypeError)]
)
def test_bad_engine(engine: object, error: type[Exception], weights) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=r"engine must be one of \('auto', 'tf', 'tflite'\), got"):
        ps.PersonSegmentation(weights, engine=engine)  # type: ignore[arg-type]
    with pytest.raises(error, match="engine must be one of"):
        ps.load(0.5, weights="/nonexistent", engine=engine)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("threads", "error"), [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)]
)
def test_bad_num_threads(threads: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="num_threads must be None or an int >= 0, got"):
        ps.load(0.5, weights="/nonexistent", num_threads=threads)  # type: ignore[arg-type]


# -- the engines agree ------------------------------------------------------------------------


@pytest.mark.parametrize("stride", [8, 16, 32])
def test_logits_agree_between_engines(nets: dict[str, ps.PersonSegmentation], photo: np.ndarray, stride: int) -> None:
    a = nets["tflite"].estimate_logits(photo, output_stride=stride)
    b = nets["tf"].estimate_logits(photo, output_stride=stride)
    assert a.segment.shape == b.segment.shape and a.parts is not None and b.parts is not None
    assert a.parts.shape == b.parts.shape and a.geometry == b.geometry
    scale = float(np.abs(b.parts).max()) + 1.0
    np.testing.assert_allclose(a.segment, b.segment, atol=1e-4 * scale, rtol=0)
    np.testing.assert_allclose(a.parts, b.parts, atol=1e-4 * scale, rtol=0)


@pytest.mark.parametrize("flip", [False, True])
def test_results_agree_between_engines(nets: dict[str, ps.PersonSegmentation], photo: np.ndarray, flip: bool) -> None:
    for method in ("estimate_person_segmentation", "estimate_part_segmentation"):
        a = getattr(nets["tflite"], method)(photo, flip)
        b = getattr(nets["tf"], method)(photo, flip)
        assert a.dtype == b.dtype and a.shape == b.shape == photo.shape[:2]
        assert np.mean(a == b) >= 0.999, method
    mask = nets["tflite"].estimate_person_segmentation(photo, flip)
    assert 0 < mask.mean() < 1  # the test means something: both classes are present


def test_run_network_uses_the_engine(nets: dict[str, ps.PersonSegmentation], photo: np.ndarray) -> None:
    model_input, _ = nets["tflite"].preprocess(photo)
    seg_a, parts_a = nets["tflite"].run_network(model_input)
    seg_b, parts_b = nets["tf"].run_network(model_input)
    np.testing.assert_allclose(seg_a, seg_b, atol=1e-3)
    np.testing.assert_allclose(parts_a, parts_b, atol=1e-3)
    # Another input size runs in TensorFlow on either engine.
    seg_c, _ = nets["tflite"].run_network(np.zeros((129, 97, 3), np.float32))
    assert seg_c.shape == (9, 7, 1)


def test_threads_share_one_model(nets: dict[str, ps.PersonSegmentation], photo: np.ndarray) -> None:
    """Concurrent calls on one TFLite net (each thread gets its own interpreter) give the
    serial results."""
    net = nets["tflite"]
    images = [np.ascontiguousarray(np.roll(photo, 7 * i, axis=1)) for i in range(6)]
    expected = [net.estimate_part_segmentation(im) for im in images]
    results: dict[int, list[np.ndarray]] = {}

    def work(t: int) -> None:
        results[t] = [net.estimate_part_segmentation(im) for im in images for _ in range(3)][::3]

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in range(4):
        assert all(np.array_equal(a, b) for a, b in zip(results[t], expected))


# -- native pre-processing ----------------------------------------------------------------------


def _tf_reference(image: np.ndarray, flip: bool) -> np.ndarray:
    """The TF ops, run eagerly (a tf.function's optimiser turns / 127.5 into * (1 / 127.5))."""
    g = _core.compute_geometry(image.shape[0], image.shape[1])
    return _resize_pad_normalize(tf.convert_to_tensor(image), _layout(g), flip).numpy()[0]


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("size", [(480, 640), (640, 480), (1, 1), (353, 257), (5, 999), (1000, 2)])
def test_native_preprocessing_is_bit_exact(size: tuple[int, int], flip: bool) -> None:
    rng = np.random.default_rng(size[0] * 7 + size[1])
    image = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    g = _core.compute_geometry(*size)
    got = _core.resize_pad_normalize(image, g, flip_horizontal=flip)
    assert got.dtype == np.float32 and got.shape == (353, 257, 3)
    np.testing.assert_array_equal(got, _tf_reference(image, flip))


def test_native_preprocessing_of_floats_and_views() -> None:
    rng = np.random.default_rng(5)
    image = rng.uniform(-30, 290, (101, 77, 3)).astype(np.float32)
    image[rng.random(image.shape) < 0.02] = np.nan
    image[0, 0] = (np.inf, -np.inf, 17.25)
    g = _core.compute_geometry(101, 77)
    np.testing.assert_array_equal(_core.resize_pad_normalize(image, g), _tf_reference(image, False))
    view = image[:, ::-1]  # negative strides
    np.testing.assert_array_equal(
        _core.resize_pad_normalize(view, g, flip_horizontal=True), _tf_reference(np.ascontiguousarray(view), True)
    )
    padded = np.zeros((101, 77, 4), np.uint8)  # RGBA-like, channel stride 1, pixel stride 4
    padded[..., :3] = rng.integers(0, 256, (101, 77, 3))
    np.testing.assert_array_equal(
        _core.resize_pad_normalize(padded[..., :3], g), _tf_reference(np.ascontiguousarray(padded[..., :3]), False)
    )


def test_native_preprocessing_writes_into_out() -> None:
    image = np.full((20, 30, 3), 255, np.uint8)
    g = _core.compute_geometry(20, 30)
    out = np.full((1, 353, 257, 3), 7.0, np.float32)
    result = _core.resize_pad_normalize(image, g, out=out, num_threads=2)
    assert result is out or np.shares_memory(result, out)
    assert out.max() == 1.0 and out.min() == -1.0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"image": np.zeros((4, 4, 3), np.int16)},
            TypeError,
            r"image must be a uint8 or float32 array, got dtype int16",
        ),
        (
            {"image": np.zeros((4, 4, 4), np.uint8)},
            ValueError,
            r"image must have shape \(H, W, 3\), got shape \(4, 4, 4\)",
        ),
        ({"image": np.zeros((4, 4), np.uint8)}, ValueError, r"got shape \(4, 4\)"),
        (
            {"image": np.zeros((4, 5, 3), np.uint8)},
            ValueError,
            r"image must have shape \(4, 4, 3\) to match the geometry",
        ),
        ({"out": np.zeros((353, 257, 3), np.float64)}, TypeError, "out must be a float32 array"),
        ({"out": np.zeros((353, 256, 3), np.float32)}, ValueError, r"out must have shape \(353, 257, 3\)"),
        ({"out": np.zeros((353, 257, 6), np.float32)[..., ::2]}, ValueError, "out must be C-contiguous"),
        ({"out": [1.0]}, TypeError, "out must be None or a float32 numpy array"),
        ({"num_threads": -1}, ValueError, "num_threads must be >= 0"),
    ],
)
def test_native_preprocessing_errors(kwargs: dict, error: type[Exception], match: str) -> None:
    args = {"image": np.zeros((4, 4, 3), np.uint8), "out": None, "num_threads": 1, **kwargs}
    with pytest.raises(error, match=match):
        _core.resize_pad_normalize(
            args["image"], _core.compute_geometry(4, 4), out=args["out"], num_threads=args["num_threads"]
        )


def test_readonly_out_is_refused() -> None:
    out = np.zeros((353, 257, 3), np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out must be writeable"):
        _core.resize_pad_normalize(np.zeros((4, 4, 3), np.uint8), _core.compute_geometry(4, 4), out=out)


@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.int32])
def test_other_pixel_types_follow_the_tf_path(
    nets: dict[str, ps.PersonSegmentation], photo: np.ndarray, dtype: type
) -> None:
    image = photo.astype(dtype)
    for net in nets.values():
        np.testing.assert_array_equal(net.estimate_person_segmentation(image), net.estimate_person_segmentation(photo))


def _extension_float_pixels(photo: np.ndarray, dtype: object) -> tuple[np.ndarray, np.ndarray]:
    """``photo`` with fractions, out-of-range values and NaN, as ``dtype`` (an ml_dtypes float)
    and as the float32 array of exactly the same values."""
    rng = np.random.default_rng(7)
    values = photo.astype(np.float32) + rng.uniform(0, 1, photo.shape).astype(np.float32)
    values[::7, ::5] = 300.0  # above 255: clipped to 255 (the TFLite engine made 300 into 0)
    values[3::11, ::4] = -20.0
    values[5::13, 2::9] = np.nan
    extension = values.astype(dtype)
    return extension, extension.astype(np.float32)


@pytest.mark.parametrize("dtype", ["bfloat16", "float8_e4m3fn"])
def test_extension_floats_mean_the_same_on_every_engine(
    nets: dict[str, ps.PersonSegmentation], photo: np.ndarray, dtype: str
) -> None:
    """bfloat16 (TensorFlow's, numpy kind 'V' through ml_dtypes) fell through to astype(uint8)
    on the TFLite engine: fractions dropped, 300 became 0. Both engines now read the values
    (exactly converted to float32) with the rules of every float: NaN is 0, clipped to 0..255;
    as tensors and as numpy arrays."""
    import ml_dtypes

    extension, same = _extension_float_pixels(photo, getattr(ml_dtypes, dtype))
    for engine, net in nets.items():
        expected = net.preprocess(same)[0]
        for image in (tf.constant(extension), extension):
            np.testing.assert_array_equal(net.preprocess(image)[0], expected, err_msg=f"{engine} {type(image)}")
            np.testing.assert_array_equal(
                net.estimate_part_segmentation(image), net.estimate_part_segmentation(same), err_msg=engine
            )
    a = nets["tflite"].estimate_logits(tf.constant(extension)).segment
    b = nets["tf"].estimate_logits(tf.constant(extension)).segment
    np.testing.assert_allclose(a, b, atol=1e-4 * (float(np.abs(b).max()) + 1.0), rtol=0)


def test_other_extension_dtypes_are_refused(nets: dict[str, ps.PersonSegmentation]) -> None:
    import ml_dtypes

    for net in nets.values():
        with pytest.raises(
            TypeError, match="image dtype must be uint8, another integer type or a float type, got int4"
        ):
            net.estimate_person_segmentation(np.zeros((4, 4, 3), ml_dtypes.int4))


def test_run_network_takes_bfloat16_on_every_engine(nets: dict[str, ps.PersonSegmentation], photo: np.ndarray) -> None:
    import ml_dtypes

    model_input = nets["tflite"].preprocess(photo)[0].astype(ml_dtypes.bfloat16)
    expected = nets["tf"].run_network(model_input.astype(np.float32))[0]
    for net in nets.values():
        for value in (model_input, tf.constant(model_input)):
            np.testing.assert_allclose(net.run_network(value)[0], expected, atol=1e-3)


def _with_value(value: int) -> np.ndarray:
    image = np.zeros((8, 8, 3), np.int32)
    image[0, 0, 0] = value
    return image


def test_integer_tensors_are_range_checked(nets: dict[str, ps.PersonSegmentation]) -> None:
    for net in nets.values():
        with pytest.raises(
            ValueError,
            match=r"integer image values must lie in 0..255, got a int32 tensor with values in 0..300; for 16-bit",
        ):
            net.estimate_person_segmentation(tf.constant(_with_value(300)))


# -- conversion cache ------------------------------------------------------------------------------


def test_conversion_is_cached_per_weights_and_stride(weights, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from person_segmentation import _convert

    converted: list[int] = []
    real = _convert.convert_fixed

    def spy(net, stride):  # type: ignore[no-untyped-def]
        converted.append(stride)
        return real(net, stride)

    monkeypatch.setattr(_convert, "convert_fixed", spy)
    first = ps.PersonSegmentation(weights, engine="tflite", cache_dir=tmp_path)
    first.estimate_logits(np.zeros((9, 9, 3), np.uint8), output_stride=8)
    assert converted == [16, 8]
    files = sorted(p.name for p in (tmp_path / "tflite").iterdir())
    assert len(files) == 2 and all(f.endswith(".tflite") for f in files)

    second = ps.PersonSegmentation(weights, engine="tflite", cache_dir=tmp_path)  # another process would do the same
    second.estimate_logits(np.zeros((9, 9, 3), np.uint8), output_stride=8)
    assert converted == [16, 8]  # both read from the cache

    other = dict(weights.tensors)
    other["MobilenetV1/segment_2/Conv2D_bias"] = other["MobilenetV1/segment_2/Conv2D_bias"] + 1
    ps.PersonSegmentation(dataclasses.replace(weights, tensors=other), engine="tflite", cache_dir=tmp_path)
    assert converted == [16, 8, 16]  # other weights: their own conversion


def test_damaged_cache_entry_is_replaced(weights, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    image = np.random.default_rng(0).integers(0, 256, (50, 40, 3), dtype=np.uint8)
    expected = ps.PersonSegmentation(weights, engine="tflite", cache_dir=tmp_path).estimate_part_segmentation(image)
    (path,) = (tmp_path / "tflite").iterdir()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with caplog.at_level(logging.WARNING, logger="person_segmentation"):
        net = ps.PersonSegmentation(weights, engine="tflite", cache_dir=tmp_path)
    assert "replacing a damaged cached TFLite model" in caplog.text
    np.testing.assert_array_equal(net.estimate_part_segmentation(image), expected)
    assert len(path.read_bytes()) > path.stat().st_size // 2


def test_unwritable_cache_still_works(weights, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING, logger="person_segmentation"):
        net = ps.PersonSegmentation(weights, engine="tflite", cache_dir=blocker)
    assert "could not cache the TFLite model" in caplog.text
    assert net.estimate_person_segmentation(np.zeros((10, 10, 3), np.uint8)).shape == (10, 10)


def test_weights_digest_depends_on_every_tensor(weights) -> None:  # type: ignore[no-untyped-def]
    base = _engine_tflite.weights_digest(weights.tensors, 0.5)
    assert base == _engine_tflite.weights_digest(dict(reversed(list(weights.tensors.items()))), 0.5)
    assert base != _engine_tflite.weights_digest(weights.tensors, 0.75)
    for name in list(weights.tensors)[:3]:
        changed = dict(weights.tensors)
        changed[name] = changed[name].copy()
        changed[name].flat[0] += 1e-3
        assert _engine_tflite.weights_digest(changed, 0.5) != base


def test_the_readme_states_the_conversion_cache_key(tmp_path: Path) -> None:
    """The README's description of the LiteRT cache file names is what the code does."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text().replace("\n", " ")
    assert "`<cache_dir>/tflite/<name>.tflite`" in readme
    assert "`<digest[:40]>-os<stride>-v<conversion version>-tf<TensorFlow version>.tflite`" in readme
    assert "`<digest[:40]>-heads-os<stride>-v<version>-tf<TensorFlow version>.tflite`" in readme
    digest = "ab" * 32
    path = _engine_tflite.conversion_path(tmp_path, digest, 8)
    assert path.parent == tmp_path / "tflite"
    assert path.name == f"{digest[:40]}-os8-v{_engine_tflite._CONVERSION_VERSION}-tf{tf.__version__}.tflite"
    heads = _engine_tflite.conversion_path(tmp_path, digest, 16, "heads")
    assert heads.parent == tmp_path / "tflite"
    version = _engine_tflite._HEADS_CONVERSION_VERSION
    assert heads.name == f"{digest[:40]}-heads-os16-v{version}-tf{tf.__version__}.tflite"


def test_cache_dir_with_a_tilde_is_expanded_for_conversions(  # type: ignore[no-untyped-def]
    weights, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``cache_dir="~/x"`` put the TFLite conversions in a literal ``./~/x`` (it was expanded
    for downloads only)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    ps.PersonSegmentation(weights, engine="tflite", cache_dir="~/models")
    assert list((tmp_path / "home" / "models" / "tflite").glob("*-os16-*.tflite"))
    assert not (tmp_path / "~").exists()


# -- issue 12: choosing the engine and finding conversions without TensorFlow -----------------


def test_auto_needs_tensorflow_installed_and_a_gpu_present(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(_engine, "_gpu_device_present", lambda: True)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)  # TensorFlow not installed
    assert _engine.gpu_visible() is False
    monkeypatch.undo()
    monkeypatch.setattr(_engine, "_gpu_device_present", lambda: False)
    assert _engine.gpu_visible() is False  # no GPU: TensorFlow is not asked (nor imported)
    monkeypatch.setattr(_engine, "_gpu_device_present", lambda: True)
    assert _engine.gpu_visible() is bool(tf.config.list_physical_devices("GPU"))


def test_gpu_presence_comes_from_the_native_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core, "cuda_compiled", lambda: True)
    monkeypatch.setattr(_core, "cuda_device_count", lambda: 0)
    assert _engine._gpu_device_present() is False
    monkeypatch.setattr(_core, "cuda_device_count", lambda: 2)
    assert _engine._gpu_device_present() is True


def test_the_cache_key_reads_the_tensorflow_version_without_importing_it() -> None:
    import importlib.metadata

    assert _engine_tflite.tensorflow_version() == importlib.metadata.version("tensorflow") == tf.__version__


def test_without_tensorflow_a_cached_conversion_of_any_version_is_used(  # type: ignore[no-untyped-def]
    weights, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ps.PersonSegmentation(weights, engine="tflite", cache_dir=tmp_path)  # converted and cached
    (path,) = (tmp_path / "tflite").iterdir()
    path.rename(path.with_name(path.name.replace(f"-tf{tf.__version__}", "-tf2.0.0")))
    monkeypatch.setattr(_engine_tflite, "tensorflow_version", lambda: None)
    net = ps.PersonSegmentation(weights, engine="tflite", cache_dir=tmp_path)
    assert net.estimate_person_segmentation(np.zeros((10, 10, 3), np.uint8)).shape == (10, 10)
    with pytest.raises(RuntimeError, match=r"needs TensorFlow, which is not installed: pip install tensorflow"):
        ps.PersonSegmentation(weights, engine="tflite", cache_dir=tmp_path / "empty")


def test_1x_weights_have_no_heads(weights, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for engine in ("tflite", "tf"):
        net = ps.PersonSegmentation(weights, engine=engine, cache_dir=tmp_path)
        with pytest.raises(ValueError, match="no BodyPix 2 heads"):
            net._engine.heads(np.zeros((33, 33, 3), np.float32), 16)
