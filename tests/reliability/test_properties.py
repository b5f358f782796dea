"""Property-based tests (hypothesis) over the public entry points and the _core functions:
every generated input either gives a correct result or raises the documented TypeError /
ValueError; none crashes, hangs or reads out of bounds (the native code is also fuzzed under
AddressSanitizer in the C++ tests)."""

from __future__ import annotations

import io

import ml_dtypes
import numpy as np
import PIL.Image
import pytest
from hypothesis import given
from hypothesis import strategies as st

import person_segmentation as ps
from person_segmentation import _core
from person_segmentation._image import as_image, decode_image_bytes

from ..unit._synthetic import calibrated_weights

# ---------------------------------------------------------------------------------------------
# Images through the public API


@pytest.fixture(scope="module")
def net() -> ps.PersonSegmentation:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (6, 8, 3)).astype(np.uint8)
    photo = np.kron(base, np.ones((20, 20, 1), np.uint8))
    return ps.PersonSegmentation(calibrated_weights(0.25, photo, seed=3))


SIDES = st.one_of(
    st.integers(1, 48),  # small
    st.integers(1, 400),  # moderate
    st.sampled_from([1, 2, 3, 4095, 4096]),  # 1xN, Nx1, very wide / tall
)
DTYPES = ["uint8", "uint16", "int32", "float32", "float64", "bfloat16", "bool"]  # bfloat16: ml_dtypes'
NUMPY_DTYPES = {"bfloat16": np.dtype(ml_dtypes.bfloat16)}
CHANNELS = [None, 1, 2, 3, 4, 5]
LAYOUTS = ["contiguous", "strided", "negative", "transposed", "read-only"]


@st.composite
def images(draw: st.DrawFn) -> tuple[np.ndarray, str, str]:
    h, w = draw(SIDES), draw(SIDES)
    if h * w > 2_000_000:  # keep each example fast; 4096 on one side is still reached
        w = max(1, 2_000_000 // h)
    name = draw(st.sampled_from(DTYPES))
    dtype = NUMPY_DTYPES.get(name, name)
    channels = draw(st.sampled_from(CHANNELS))
    layout = draw(st.sampled_from(LAYOUTS))
    shape = (h, w) if channels is None else (h, w, channels)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    in_range = draw(st.booleans())
    if name == "bool":
        array = rng.integers(0, 2, shape).astype(bool)
    elif name.startswith(("float", "bfloat")):
        array = rng.uniform(0, 255, shape).astype(dtype)
        if not in_range:  # NaN, inf and out-of-range values are defined behaviour
            specials = np.array([np.nan, np.inf, -np.inf, -40.0, 1e6], dtype=dtype)
            picks = rng.random(shape) < 0.05
            array[picks] = rng.choice(specials, size=int(picks.sum()))
    else:
        high = 256 if in_range else int(np.iinfo(dtype).max) + 1
        low = 0 if in_range else int(np.iinfo(dtype).min)
        array = rng.integers(low, high, shape, dtype=np.int64).astype(dtype)
    if layout == "strided":
        big = np.zeros((h * 2, w * 3) + shape[2:], dtype=array.dtype)
        big[::2, ::3] = array
        array = big[::2, ::3]
    elif layout == "negative":
        array = np.ascontiguousarray(array[::-1, ::-1])[::-1, ::-1]
    elif layout == "transposed":
        array = np.ascontiguousarray(np.swapaxes(array, 0, 1)).swapaxes(0, 1)
    elif layout == "read-only":
        array.flags.writeable = False
    return array, name, layout


def expected_error(array: np.ndarray) -> type[Exception] | None:
    """The documented error for an image, or None if it is accepted (shape is checked first)."""
    if array.ndim == 3 and array.shape[2] in (2, 5):
        return ValueError
    if array.dtype == bool:
        return TypeError
    if array.dtype.kind in "iu" and array.size and (array.min() < 0 or array.max() > 255):
        return ValueError
    return None


def canonical(array: np.ndarray) -> np.ndarray:
    """The documented meaning of an accepted image, as a contiguous float64 RGB array."""
    x = np.asarray(array, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    x = x[:, :, :3]
    return np.clip(np.nan_to_num(x, nan=0.0, posinf=255.0, neginf=0.0), 0, 255)


@given(images(), st.booleans())
def test_any_image_gives_a_valid_result_or_a_documented_error(
    net: ps.PersonSegmentation, case: tuple[np.ndarray, str, str], flip: bool
) -> None:
    array, _, _ = case
    error = expected_error(array)
    if error is not None:
        with pytest.raises(error):
            net.estimate_part_segmentation(array)
        return
    parts = net.estimate_part_segmentation(array, flip_horizontal=flip, output_stride=16)
    h, w = array.shape[:2]
    assert parts.shape == (h, w) and parts.dtype == np.int32 and parts.flags.c_contiguous
    assert parts.min() >= -1 and parts.max() <= 23
    # The same pixels, given contiguously as float64 in their documented meaning, give the
    # same result: layouts, dtypes, NaN and clipping change nothing else.
    np.testing.assert_array_equal(net.estimate_part_segmentation(canonical(array), flip_horizontal=flip), parts)


@given(images())
def test_masks_agree_with_part_maps(net: ps.PersonSegmentation, case: tuple[np.ndarray, str, str]) -> None:
    array, _, _ = case
    if expected_error(array) is not None:
        with pytest.raises((TypeError, ValueError)):
            net.estimate_person_segmentation(array)
        return
    mask = net.estimate_person_segmentation(array)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1}
    np.testing.assert_array_equal(net.estimate_part_segmentation(array) >= 0, mask == 1)


@given(images(), st.booleans())
def test_native_preprocessing_equals_the_tf_ops(case: tuple[np.ndarray, str, str], flip: bool) -> None:
    """The TFLite engine's native resize + pad + normalise gives, bit for bit, what the TF ops
    (run eagerly) give on the same checked pixels, whatever the dtype, layout or values."""
    import tensorflow as tf

    from person_segmentation._graph import layout as _layout
    from person_segmentation._graph import resize_pad_normalize as _resize_pad_normalize
    from person_segmentation._image import as_image
    from person_segmentation._image import native_pixels as _native_pixels

    array, _, _ = case
    if expected_error(array) is not None:
        return
    pixels = _native_pixels(as_image(array))
    geometry = _core.compute_geometry(*pixels.shape[:2])
    expected = _resize_pad_normalize(tf.convert_to_tensor(pixels), _layout(geometry), flip).numpy()[0]
    np.testing.assert_array_equal(_core.resize_pad_normalize(pixels, geometry, flip_horizontal=flip), expected)


# ---------------------------------------------------------------------------------------------
# Image files at high bit depths (decoded by their mode's bit depth, the same way on every path)

ROUNDING_EDGES = np.array([0, 1, 128, 129, 256, 257, 385, 386, 32767, 32768, 65278, 65407, 65408, 65535])


@st.composite
def sixteen_bit_pictures(draw: st.DrawFn) -> np.ndarray:
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.integers(0, 65536, (h, w))
    picks = rng.random((h, w)) < 0.3  # the extremes and the values either side of a rounding step
    values[picks] = rng.choice(ROUNDING_EDGES, size=int(picks.sum()))
    return values.astype(np.uint16)


def _encoded(image: PIL.Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _decoded_both_ways(data: bytes) -> list[np.ndarray]:
    """The pixels as decode_image_bytes gives them and as_image gives them for the PIL image."""
    with PIL.Image.open(io.BytesIO(data)) as lazy:
        return [decode_image_bytes(data), as_image(lazy)]


@given(sixteen_bit_pictures(), st.sampled_from(["PNG", "TIFF", "PPM"]), st.booleans())
def test_16_bit_files_decode_to_round_v_over_257(values: np.ndarray, fmt: str, big_endian: bool) -> None:
    """16-bit PNG, TIFF (either byte order) and PGM: round(v / 257) in every channel."""
    if big_endian and fmt == "TIFF":
        image = PIL.Image.frombytes("I;16B", values.shape[::-1], values.astype(">u2").tobytes())
    else:
        image = PIL.Image.fromarray(values)
    expected = np.repeat(np.round(values / 257).astype(np.uint8)[:, :, None], 3, axis=2)
    for pixels in _decoded_both_ways(_encoded(image, fmt)):
        np.testing.assert_array_equal(pixels, expected)


@given(sixteen_bit_pictures(), st.one_of(st.just(0), st.integers(-70000, 70000), st.integers(-(2**31), 2**31 - 65536)))
def test_int32_files_are_clipped_to_16_bits_then_scaled(values: np.ndarray, offset: int) -> None:
    """Mode I (an int32 TIFF, shifted anywhere in the int32 range): clipped to 0..65535, then
    round(v / 257)."""
    shifted = values.astype(np.int64) + offset
    data = _encoded(PIL.Image.fromarray(shifted.astype(np.int32)), "TIFF")
    expected = np.round(np.clip(shifted, 0, 65535) / 257).astype(np.uint8)
    for pixels in _decoded_both_ways(data):
        np.testing.assert_array_equal(pixels, np.repeat(expected[:, :, None], 3, axis=2))


@given(sixteen_bit_pictures(), st.integers(0, 2**32 - 1))
def test_float_files_are_taken_as_0_to_1(values: np.ndarray, seed: int) -> None:
    """Mode F (a float TIFF): round(v * 255) clipped to 0..255, NaN as 0, whatever the values."""
    rng = np.random.default_rng(seed)
    floats = (values / 65535).astype(np.float32)
    picks = rng.random(floats.shape) < 0.1
    floats[picks] = rng.choice(np.array([np.nan, np.inf, -np.inf, -0.5, 1.5, 1e30], np.float32), size=int(picks.sum()))
    data = _encoded(PIL.Image.fromarray(floats), "TIFF")
    scaled = np.nan_to_num(floats.astype(np.float64) * 255, nan=0.0, posinf=255.0, neginf=0.0)
    expected = np.rint(np.clip(scaled, 0, 255)).astype(np.uint8)
    for pixels in _decoded_both_ways(data):
        np.testing.assert_array_equal(pixels, np.repeat(expected[:, :, None], 3, axis=2))


# ---------------------------------------------------------------------------------------------
# Logits through _core


@st.composite
def logits_cases(draw: st.DrawFn) -> dict:
    gh, gw = draw(st.integers(1, 64)), draw(st.integers(1, 64))
    parts = draw(st.integers(1, 40))
    H, W = draw(SIDES), draw(SIDES)
    if H * W > 1_000_000:
        W = max(1, 1_000_000 // H)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.normal(0, 3, (gh, gw, 1 + parts)).astype(np.float32)
    if draw(st.booleans()):
        picks = rng.random(values.shape) < 0.05
        values[picks] = rng.choice(np.array([np.nan, np.inf, -np.inf], np.float32), size=int(picks.sum()))
    return dict(
        values=values,
        layout=draw(st.sampled_from(["contiguous", "split-copies", "transposed", "negative", "fortran"])),
        geometry=ps.compute_geometry(H, W),
        threshold=draw(st.one_of(st.floats(0, 1), st.sampled_from([0.0, 0.5, 1.0, float("inf"), -float("inf")]))),
        flip=draw(st.booleans()),
        threads=draw(st.integers(0, 5)),
    )


def views(values: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
    if layout == "split-copies":
        return np.ascontiguousarray(values[..., :1]), np.ascontiguousarray(values[..., 1:])
    if layout == "transposed":
        t = np.ascontiguousarray(values.transpose(1, 0, 2)).transpose(1, 0, 2)
        return t[..., :1], t[..., 1:]
    if layout == "negative":
        n = np.ascontiguousarray(values[::-1, ::-1, ::-1])[::-1, ::-1, ::-1]
        return n[..., :1], n[..., 1:]
    if layout == "fortran":
        f = np.asfortranarray(values)
        return f[..., :1], f[..., 1:]
    return values[..., :1], values[..., 1:]


@given(logits_cases())
def test_core_on_any_logits_layout(case: dict) -> None:
    values, g = case["values"], case["geometry"]
    seg, parts = views(values, case["layout"])
    kwargs = dict(segmentation_threshold=case["threshold"], flip_horizontal=case["flip"], num_threads=case["threads"])
    mask = _core.person_mask(seg, g, **kwargs)
    part_map = _core.part_segmentation(seg, parts, g, **kwargs)
    assert mask.shape == part_map.shape == (g.image_height, g.image_width)
    assert set(np.unique(mask)) <= {0, 1}
    assert part_map.min() >= -1 and part_map.max() < parts.shape[2]
    np.testing.assert_array_equal(part_map >= 0, mask == 1)
    # The layout changes nothing; flipping only mirrors; NaN logits are never a person.
    contiguous = dict(kwargs, flip_horizontal=False)
    reference = _core.part_segmentation(
        np.ascontiguousarray(values[..., :1]), np.ascontiguousarray(values[..., 1:]), g, **contiguous
    )
    np.testing.assert_array_equal(part_map, reference[:, ::-1] if case["flip"] else reference)
    if np.isnan(values[..., 0]).all():
        assert mask.sum() == 0


@given(
    st.sampled_from(["float64", "float16", "int32", "uint8", "bool"]),
    st.sampled_from([(23,), (23, 17, 1, 1), (0, 17, 1), (23, 0, 1), (70000, 1, 1)]),
)
def test_core_rejects_bad_dtypes_and_shapes(dtype: str, shape: tuple[int, ...]) -> None:
    g = ps.compute_geometry(8, 8)
    with pytest.raises((TypeError, ValueError)):
        _core.person_mask(np.zeros((23, 17, 1), dtype), g)
    with pytest.raises(ValueError):
        _core.person_mask(np.zeros(shape, np.float32), g)


# ---------------------------------------------------------------------------------------------
# The smaller public functions


@given(
    st.one_of(st.integers(-(2**40), 2**40), st.floats(allow_nan=True), st.booleans(), st.none(), st.text(max_size=3)),
    st.integers(1, 10_000),
)
def test_compute_geometry_on_any_value(value: object, other: int) -> None:
    for args in ((value, other), (other, value)):
        if isinstance(value, bool) or not isinstance(value, int):
            with pytest.raises(TypeError, match="must be an int"):
                ps.compute_geometry(*args)  # type: ignore[arg-type]
        elif not 1 <= value <= ps.MAX_IMAGE_SIDE:
            with pytest.raises(ValueError, match=r"must be in 1\.\.65536"):
                ps.compute_geometry(*args)  # type: ignore[arg-type]
        else:
            g = ps.compute_geometry(*args)  # type: ignore[arg-type]
            assert g.pad_top + g.resized_height + g.pad_bottom == 353
            assert g.pad_left + g.resized_width + g.pad_right == 257
            assert 1 <= g.resized_height <= 353 and 1 <= g.resized_width <= 257
            assert (g.resized_height == 353) or (g.resized_width == 257)


@given(
    st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "float32", "bool"]),
    st.lists(st.integers(-3, 30), min_size=0, max_size=50),
)
def test_swap_left_right_on_any_array(dtype: str, values: list[int]) -> None:
    array = np.array(values).astype(dtype)
    if array.dtype.kind not in "iu":
        with pytest.raises(TypeError, match="integer array"):
            ps.swap_left_right(array)
        return
    if array.size and (array.min() < -1 or array.max() > 23):
        with pytest.raises(ValueError, match=r"ids in -1\.\.23"):
            ps.swap_left_right(array)
        return
    swapped = ps.swap_left_right(array)
    np.testing.assert_array_equal(ps.swap_left_right(swapped), array)
    np.testing.assert_array_equal(swapped == -1, array == -1)


@given(images())
def test_preprocess_on_any_image(net: ps.PersonSegmentation, case: tuple[np.ndarray, str, str]) -> None:
    array, _, _ = case
    error = expected_error(array)
    if error is not None:
        with pytest.raises(error):
            net.preprocess(array)
        return
    model_input, g = net.preprocess(array)
    assert model_input.shape == (353, 257, 3) and model_input.dtype == np.float32
    assert np.isfinite(model_input).all() and model_input.min() >= -1 and model_input.max() <= 1
    assert g == ps.compute_geometry(*array.shape[:2])
