"""The public API on a randomly initialised network: inputs, arguments, errors, dispatch."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

import person_segmentation as ps
from person_segmentation import _core, _postprocess_tf

from ._synthetic import calibrated_weights, synthetic_weights


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (6, 8, 3)).astype(np.float32)
    # A smooth image (upsampled noise) so the random net gives a non-trivial mask.
    return np.asarray(PIL.Image.fromarray(base.astype(np.uint8)).resize((160, 120), PIL.Image.BILINEAR))


@pytest.fixture(scope="module")
def net(photo: np.ndarray) -> ps.PersonSegmentation:
    return ps.PersonSegmentation(calibrated_weights(0.5, photo, seed=1))


def test_public_names() -> None:
    assert len(ps.PART_CHANNELS) == 24
    assert (
        ps.PART_CHANNELS[0] == "left_face"
        and ps.PART_CHANNELS[12] == "torso_front"
        and ps.PART_CHANNELS[23] == "left_hand"
    )
    assert ps.MULTIPLIERS == (1.0, 0.75, 0.5, 0.25)
    assert ps.OUTPUT_STRIDES == (8, 16, 32)
    info = ps.build_info()
    assert info["version"] == ps.__version__ and info["cpu_threads"] >= 1


def test_part_name_gives_none_for_the_background() -> None:
    """issue 12: ``PART_CHANNELS[parts[y, x]]`` on a background pixel (-1) silently gave the
    last name; ``part_name`` gives None for -1 and refuses what is not a part id."""
    parts = np.array([[-1, 0], [12, 23]], np.int32)
    assert ps.part_name(parts[0, 0]) is None
    assert [ps.part_name(v) for v in parts.ravel()[1:]] == ["left_face", "torso_front", "left_hand"]
    assert [ps.part_name(i) for i in range(24)] == list(ps.PART_CHANNELS)
    for bad in (-2, 24, 100):
        with pytest.raises(ValueError, match=r"part_id must be in -1..23 \(-1 = background\), got"):
            ps.part_name(bad)
    for wrong in (1.0, "0", None, True):
        with pytest.raises(TypeError, match="part_id must be an int in -1..23"):
            ps.part_name(wrong)  # type: ignore[arg-type]


def test_outputs(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    mask = net.estimate_person_segmentation(photo)
    parts = net.estimate_part_segmentation(photo)
    assert mask.shape == (120, 160) and mask.dtype == np.uint8 and mask.flags.c_contiguous
    assert parts.shape == (120, 160) and parts.dtype == np.int32 and parts.flags.c_contiguous
    assert set(np.unique(mask)) <= {0, 1}
    np.testing.assert_array_equal(parts >= 0, mask == 1)
    assert 0 < mask.mean() < 1, "the synthetic net should give a non-trivial mask for this test to mean something"


def test_estimate_logits(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    for stride, grid in ((8, (45, 33)), (16, (23, 17)), (32, (23, 17))):
        logits = net.estimate_logits(photo, output_stride=stride)
        assert logits.segment.shape == (*grid, 1) and logits.parts is not None and logits.parts.shape == (*grid, 24)
        assert logits.segment.dtype == np.float32 and logits.geometry == ps.compute_geometry(120, 160)
    assert net.estimate_logits(photo, with_parts=False).parts is None


def same_input_variants(photo: np.ndarray, tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "photo.png"
    PIL.Image.fromarray(photo).save(path)
    rgba = np.concatenate([photo, np.full(photo.shape[:2] + (1,), 7, np.uint8)], axis=2)
    return {
        "uint8": photo,
        "float32": photo.astype(np.float32),
        "float64": photo.astype(np.float64),
        "int32": photo.astype(np.int32),
        "rgba": rgba,
        "pil": PIL.Image.fromarray(photo),
        "path-str": str(path),
        "path": path,
        "tf-uint8": tf.constant(photo),
        "tf-float": tf.constant(photo.astype(np.float32)),
        "non-contiguous": np.ascontiguousarray(photo[:, ::-1])[:, ::-1],
    }


def test_every_input_kind_gives_the_same_result(net: ps.PersonSegmentation, photo: np.ndarray, tmp_path: Path) -> None:
    expected = net.estimate_part_segmentation(photo)
    for name, image in same_input_variants(photo, tmp_path).items():
        np.testing.assert_array_equal(net.estimate_part_segmentation(image), expected, err_msg=name)


def test_grayscale_inputs(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    gray = photo[:, :, 0]
    expected = net.estimate_person_segmentation(np.stack([gray] * 3, axis=2))
    np.testing.assert_array_equal(net.estimate_person_segmentation(gray), expected)
    np.testing.assert_array_equal(net.estimate_person_segmentation(gray[:, :, None]), expected)
    np.testing.assert_array_equal(net.estimate_person_segmentation(PIL.Image.fromarray(gray)), expected)


def test_flip_horizontal(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    """Flipping mirrors the input and the result back: same as running on the mirrored image and mirroring."""
    mirrored = np.ascontiguousarray(photo[:, ::-1])
    np.testing.assert_array_equal(
        net.estimate_part_segmentation(photo, flip_horizontal=True), net.estimate_part_segmentation(mirrored)[:, ::-1]
    )


def test_swap_left_right(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    parts = net.estimate_part_segmentation(photo)
    swapped = net.estimate_part_segmentation(photo, swap_left_right=True)
    np.testing.assert_array_equal(ps.swap_left_right(parts), swapped)
    np.testing.assert_array_equal(ps.swap_left_right(swapped), parts)
    ids = np.arange(-1, 24, dtype=np.int32)
    names = ["none"] + list(ps.PART_CHANNELS)
    for a, b in zip(ids, ps.swap_left_right(ids)):
        na, nb = names[a + 1], names[b + 1]
        assert nb == na.replace("left", "@").replace("right", "left").replace("@", "right"), (na, nb)
    with pytest.raises(ValueError, match="ids in -1..23"):
        ps.swap_left_right(np.array([24]))


@pytest.mark.parametrize(
    ("engine", "entry_points"),
    [("tf", ("person_mask_dlpack", "part_segmentation_dlpack")), ("tflite", ("person_mask", "part_segmentation"))],
)
def test_native_postprocessing_is_really_used(
    photo: np.ndarray, monkeypatch: pytest.MonkeyPatch, engine: str, entry_points: tuple[str, str]
) -> None:
    """The estimates hand the logits to _core: TensorFlow's through DLPack, TFLite's as numpy
    (CPU kernels here)."""
    net = ps.PersonSegmentation(calibrated_weights(0.5, photo, seed=1), engine=engine)
    calls: list[str] = []

    def spy(name: str):  # type: ignore[no-untyped-def]
        real = getattr(_core, name)

        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(name)
            return real(*args, **kwargs)

        return wrapper

    def forbidden(*args, **kwargs):
        raise AssertionError("the TensorFlow post-processing ran instead of _core")

    for name in entry_points:
        monkeypatch.setattr(_core, name, spy(name))
    monkeypatch.setattr(_postprocess_tf, "_mask", forbidden)
    monkeypatch.setattr(_postprocess_tf, "_parts", forbidden)
    assert net.postprocess == "native" and net.engine == engine
    net.estimate_person_segmentation(photo)
    net.estimate_part_segmentation(photo)
    assert calls == list(entry_points)
    assert Path(_core.__file__).suffix in (".so", ".pyd")


def test_tf_postprocessing_matches_native(photo: np.ndarray) -> None:
    weights = calibrated_weights(0.5, photo, seed=1)
    native = ps.PersonSegmentation(weights)
    reference = ps.PersonSegmentation(weights, postprocess="tf")
    for stride in ps.OUTPUT_STRIDES:
        for flip in (False, True):
            a = native.estimate_part_segmentation(photo, flip, stride)
            b = reference.estimate_part_segmentation(photo, flip, stride)
            assert 0 < (a >= 0).mean() < 1
            # Identical unless a score is within float noise of the threshold or of a tie.
            assert (a != b).mean() < 1e-3, (stride, flip)
            np.testing.assert_array_equal(
                native.estimate_person_segmentation(photo, flip, stride),
                reference.estimate_person_segmentation(photo, flip, stride),
            )


def test_threads_share_one_model(net: ps.PersonSegmentation, photo: np.ndarray) -> None:
    expected = net.estimate_part_segmentation(photo)
    results: list[np.ndarray] = []

    def work() -> None:
        for _ in range(3):
            results.append(net.estimate_part_segmentation(photo))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    for r in results:
        np.testing.assert_array_equal(r, expected)


class TestErrors:
    @pytest.mark.parametrize(
        ("image", "error", "match"),
        [
            ([[1, 2], [3, 4]], TypeError, "got builtins.list"),
            (None, TypeError, "got builtins.NoneType"),
            (np.zeros((4, 4, 3), bool), TypeError, "dtype must be uint8.*got bool"),
            (np.zeros((4, 4, 3), np.complex64), TypeError, "got complex64"),
            (np.zeros((4, 4, 2), np.uint8), ValueError, r"got a uint8 array of shape \(4, 4, 2\)"),
            (np.zeros((2, 4, 4, 3), np.uint8), ValueError, r"shape \(2, 4, 4, 3\)"),
            (np.zeros((0, 4, 3), np.uint8), ValueError, "must not be empty"),
            (np.zeros(5, np.uint8), ValueError, r"shape \(5,\)"),
            (np.full((4, 4, 3), 300, np.int32), ValueError, "0..255, got int32 values in 300..300"),
            (np.full((4, 4, 3), -1, np.int16), ValueError, "0..255"),
            # 16-bit pixels in an array stay a ValueError, which now says how to pass them.
            (
                np.full((4, 4, 3), 65535, np.uint16),
                ValueError,
                r"got uint16 values in 65535..65535; for 16-bit pixels pass np.round\(image / 257\).astype\(np.uint8\)",
            ),
            (tf.fill((4, 4, 3), tf.constant(4000, tf.uint16)), ValueError, "uint16 tensor .*for 16-bit pixels pass"),
            (tf.zeros((4, 4, 3), tf.bool), TypeError, "integer or float dtype, got bool"),
            (tf.zeros((4, 4, 7)), ValueError, "tf.Tensor of shape"),
        ],
    )
    def test_bad_images(self, net: ps.PersonSegmentation, image: object, error: type, match: str) -> None:
        with pytest.raises(error, match=match):
            net.estimate_person_segmentation(image)  # type: ignore[arg-type]

    def test_bad_files(self, net: ps.PersonSegmentation, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError, match="nope.jpg"):
            net.estimate_person_segmentation(tmp_path / "nope.jpg")
        bad = tmp_path / "not-an-image.jpg"
        bad.write_bytes(b"this is not a JPEG")
        with pytest.raises(ValueError, match="cannot read image file.*not-an-image.jpg"):
            net.estimate_person_segmentation(str(bad))
        good = tmp_path / "cut.png"
        PIL.Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 100).save(good)
        truncated = tmp_path / "truncated.png"
        truncated.write_bytes(good.read_bytes()[:60])
        with pytest.raises(ValueError, match="truncated.png"):
            net.estimate_part_segmentation(truncated)

    @pytest.mark.parametrize(
        ("stride", "error"), [(0, ValueError), (4, ValueError), (24, ValueError), (16.5, TypeError), ("16", TypeError)]
    )
    def test_bad_output_stride(
        self, net: ps.PersonSegmentation, photo: np.ndarray, stride: object, error: type[Exception]
    ) -> None:
        with pytest.raises(error, match=r"output_stride must be one of \(8, 16, 32\), got"):
            net.estimate_person_segmentation(photo, output_stride=stride)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("threshold", "error"),
        [(-0.1, ValueError), (1.5, ValueError), (float("nan"), ValueError), ("0.5", TypeError), (None, TypeError)],
    )
    def test_bad_threshold(
        self, net: ps.PersonSegmentation, photo: np.ndarray, threshold: object, error: type[Exception]
    ) -> None:
        with pytest.raises(error, match=r"segmentation_threshold must be a number in \[0, 1\], got"):
            net.estimate_part_segmentation(photo, segmentation_threshold=threshold)  # type: ignore[arg-type]

    def test_bad_flags(self, net: ps.PersonSegmentation, photo: np.ndarray) -> None:
        with pytest.raises(TypeError, match="flip_horizontal must be a bool"):
            net.estimate_person_segmentation(photo, flip_horizontal="yes")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="swap_left_right must be a bool"):
            net.estimate_part_segmentation(photo, swap_left_right=1)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("multiplier", "error"),
        [
            (0.3, ValueError),
            (2, ValueError),
            (0, ValueError),
            (0.7500000001, ValueError),
            ("0.5", TypeError),
            (None, TypeError),
            (True, TypeError),
        ],
    )
    def test_bad_multiplier(self, multiplier: object, error: type[Exception]) -> None:
        with pytest.raises(error, match=r"multiplier must be one of \(1.0, 0.75, 0.5, 0.25\), got"):
            ps.load(multiplier, weights="/nonexistent")  # type: ignore[arg-type]

    def test_bad_postprocess(self) -> None:
        with pytest.raises(ValueError, match=r"postprocess must be one of \('native', 'tf'\)"):
            ps.load(0.5, weights="/nonexistent", postprocess="cuda")
        with pytest.raises(ValueError, match="num_threads"):
            ps.PersonSegmentation(synthetic_weights(0.25), num_threads=-1)


def test_decompression_bombs_are_value_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow refuses images far above its pixel limit; that is reported like any unreadable file."""
    path = tmp_path / "big.png"
    PIL.Image.new("RGB", (64, 64)).save(path)
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 64 * 64 // 4)  # 4x over the limit: a "bomb"
    from person_segmentation._image import read_image

    with pytest.raises(ValueError, match=r"cannot read image file .*big\.png"):
        read_image(path)


def test_ray_data_decodes_bytes_with_the_one_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ray_data.decode_image_bytes`` re-implemented the reader and let Pillow's
    DecompressionBombError through; it now uses the package's one decoder."""
    from person_segmentation import ray_data

    buffer = io.BytesIO()
    PIL.Image.new("RGB", (64, 64), (10, 20, 30)).save(buffer, format="PNG")
    assert ray_data.decode_image_bytes(buffer.getvalue()).shape == (64, 64, 3)
    monkeypatch.setattr(PIL.Image, "MAX_IMAGE_PIXELS", 64 * 64 // 4)  # 4x over the limit: a "bomb"
    with pytest.raises(ValueError, match=r"cannot read image file 'big\.png'"):
        ray_data.decode_image_bytes(buffer.getvalue(), "big.png")


def test_one_multiplier_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """``load`` and the weights loader accept the same multipliers: numpy scalars of an exact
    multiplier pass both checks (they reach the weights), near misses fail both."""
    from person_segmentation import _weights

    for multiplier in (np.float32(0.5), np.float64(0.75), 1, np.int64(1)):
        with pytest.raises(ps.WeightsError):
            ps.load(multiplier, weights="/nonexistent")  # type: ignore[arg-type]
    for bad in (0.7500000001, np.float32(0.3)):
        for call in (lambda m: ps.load(m, weights="/nonexistent"), lambda m: _weights.load_weights(m, "/nonexistent")):
            with pytest.raises(ValueError, match="multiplier must be one of") as info:
                call(bad)
            assert not isinstance(info.value, ps.WeightsError)


class TestRunNetwork:
    """``run_network`` checks ``model_input`` itself: TensorFlow's InvalidArgumentError (an empty
    side) and its "non-rectangular Python sequence" (the whole ``preprocess()`` tuple) were what
    the user got."""

    def test_takes_arrays_and_tensors_of_the_model_input(self, net: ps.PersonSegmentation, photo: np.ndarray) -> None:
        model_input, _ = net.preprocess(photo)
        segment, parts = net.run_network(model_input)
        assert segment.shape == (23, 17, 1) and parts.shape == (23, 17, 24)
        for same in (model_input[np.newaxis], model_input.astype(np.float64), tf.constant(model_input)):
            np.testing.assert_array_equal(net.run_network(same)[0], segment)

    @pytest.mark.parametrize(
        ("model_input", "error", "match"),
        [
            (
                np.zeros((0, 5, 3), np.float32),
                ValueError,
                r"model_input must be .* 1 <= H, W <= 65536, got .*\(0, 5, 3\)",
            ),
            (np.zeros((5, 0, 3), np.float32), ValueError, r"got dtype float32 and shape \(5, 0, 3\)"),
            (np.zeros((1, 0, 5, 3), np.float32), ValueError, r"shape \(1, 0, 5, 3\)"),
            (np.zeros((2, 9, 9, 3), np.float32), ValueError, r"shape \(2, 9, 9, 3\)"),
            (np.zeros((9, 9, 4), np.float32), ValueError, r"shape \(9, 9, 4\)"),
            (np.zeros((9, 9), np.float32), ValueError, r"shape \(9, 9\)"),
            (np.full((9, 9, 3), np.nan, np.float32), ValueError, "model_input must hold finite values"),
            (np.full((9, 9, 3), np.inf), ValueError, "model_input must hold finite values"),
            (np.zeros((9, 9, 3), bool), TypeError, "model_input must be .*real numbers.*got dtype bool"),
            (np.zeros((9, 9, 3), np.complex64), TypeError, "got dtype complex64"),
            (np.zeros((9, 9, 3), object), TypeError, "got dtype object"),
            ([[[0.0, 0.0, 0.0]]], TypeError, "model_input must be a float32 numpy array or tf.Tensor .*got list"),
            (None, TypeError, "got NoneType"),
        ],
    )
    def test_bad_model_input(
        self, net: ps.PersonSegmentation, model_input: object, error: type[Exception], match: str
    ) -> None:
        with pytest.raises(error, match=match):
            net.run_network(model_input)  # type: ignore[arg-type]

    def test_run_network_takes_what_preprocess_returns(self, net: ps.PersonSegmentation, photo: np.ndarray) -> None:
        """issue 12: ``run_network(preprocess(image))`` works as written (it used to fail with
        TensorFlow's "non-rectangular Python sequence"); other tuples are a clear TypeError."""
        pair = net.preprocess(photo)
        assert isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], ps.ResizePadGeometry)
        segment, parts = net.run_network(pair)
        segment0, parts0 = net.run_network(pair[0])
        np.testing.assert_array_equal(segment, segment0)
        np.testing.assert_array_equal(parts, parts0)
        np.testing.assert_allclose(segment, net.estimate_logits(photo).segment, atol=1e-4)
        with pytest.raises(TypeError, match=r"model_input must be .*pair, got a tuple of 2 that is not that pair"):
            net.run_network((pair[0], pair[0]))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"got a tuple of 1"):
            net.run_network((pair[0],))  # type: ignore[arg-type]

    def test_empty_tensors_are_refused_on_every_engine(self) -> None:
        weights = synthetic_weights(0.25)
        for engine in ("tf", "tflite"):
            with pytest.raises(ValueError, match="model_input must be"):
                ps.PersonSegmentation(weights, engine=engine).run_network(tf.zeros((0, 5, 3)))
