"""The rendering helpers (person_segmentation.render): small hand-computed cases, properties,
input validation. No weights needed."""

from __future__ import annotations

import time
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from person_segmentation import _palettes, render
from person_segmentation._constants import MAX_IMAGE_SIDE

RNG_SEED = 1234

# The "warm" list of the original demo (person-segmentation / BodyPix demos/part_color_scales.js).
DEMO_WARM = np.array(
    [
        (110, 64, 170),
        (106, 72, 183),
        (100, 81, 196),
        (92, 91, 206),
        (84, 101, 214),
        (75, 113, 221),
        (66, 125, 224),
        (56, 138, 226),
        (48, 150, 224),
        (40, 163, 220),
        (33, 176, 214),
        (29, 188, 205),
        (26, 199, 194),
        (26, 210, 182),
        (28, 219, 169),
        (33, 227, 155),
        (41, 234, 141),
        (51, 240, 128),
        (64, 243, 116),
        (79, 246, 105),
        (96, 247, 97),
        (115, 246, 91),
        (134, 245, 88),
        (155, 243, 88),
    ]
)


def textured(h: int, w: int, seed: int = RNG_SEED) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def box_mask(h: int, w: int, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    mask[top:bottom, left:right] = 1
    return mask


def dilate(region: np.ndarray, radius: int) -> np.ndarray:
    """Pixels within Chebyshev distance ``radius`` of ``region`` (the reach of a separable blur)."""
    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    return cv2.dilate(region.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)


# --------------------------------------------------------------------------------------------
# Palettes
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["rainbow", "warm"])
def test_palettes_are_read_only_24_by_3_uint8(name: str) -> None:
    palette = render.PALETTES[name]
    assert palette.shape == (24, 3)
    assert palette.dtype == np.uint8
    assert not palette.flags.writeable


def test_rainbow_is_d3_interpolate_rainbow_sampled_at_24_points() -> None:
    expected = _palettes.interpolate_rainbow(np.arange(24) / 24)
    np.testing.assert_array_equal(render.PALETTES["rainbow"], expected)


def test_d3_interpolate_warm_end_points_and_rainbow_first_half() -> None:
    np.testing.assert_array_equal(_palettes.interpolate_warm([0.0, 1.0]), [(110, 64, 170), (175, 240, 91)])
    # interpolateRainbow(t) == interpolateWarm(2 t) for t <= 0.5: rainbow[0] == warm(0), rainbow[12] == warm(1).
    rainbow = render.PALETTES["rainbow"].astype(int)
    np.testing.assert_array_equal(rainbow[0], (110, 64, 170))
    np.testing.assert_array_equal(rainbow[12], (175, 240, 91))
    assert np.abs(rainbow[:13] - _palettes.interpolate_warm(np.arange(13) / 12)).max() <= 1


def test_warm_is_the_demos_warm_list_which_is_d3_interpolate_cool() -> None:
    warm = render.PALETTES["warm"].astype(int)
    np.testing.assert_array_equal(warm, _palettes.interpolate_cool(np.arange(24) / 24))
    assert np.abs(warm - DEMO_WARM).max() <= 1  # the demo's own rounding
    np.testing.assert_array_equal(warm[0], (110, 64, 170))  # same first colour as rainbow
    # ...but not d3's interpolateWarm, which ends in yellow-green (175, 240, 91), through red.
    assert np.abs(warm - _palettes.interpolate_warm(np.arange(24) / 23).astype(int)).max() > 100


# --------------------------------------------------------------------------------------------
# to_mask_image
# --------------------------------------------------------------------------------------------
def test_to_mask_image_hand_computed() -> None:
    mask = np.array([[1, 0], [0, 1]], np.uint8)
    expected = np.array([[[0, 0, 0, 0], [0, 0, 0, 255]], [[0, 0, 0, 255], [0, 0, 0, 0]]], np.uint8)
    out = render.to_mask_image(mask)
    assert out.dtype == np.uint8 and out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out, expected)
    out = render.to_mask_image(mask.astype(bool), foreground=(1, 2, 3, 4), background=(250, 251, 252, 253))
    np.testing.assert_array_equal(out[0, 0], (1, 2, 3, 4))
    np.testing.assert_array_equal(out[0, 1], (250, 251, 252, 253))


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64, bool])
def test_to_mask_image_alpha_only_where_the_mask_says(dtype: type) -> None:
    mask: np.ndarray = np.random.default_rng(RNG_SEED).integers(0, 2, (17, 23)).astype(dtype)
    out = render.to_mask_image(mask)
    np.testing.assert_array_equal(out[..., 3] == 255, mask == 0)
    np.testing.assert_array_equal(out[..., 3] == 0, mask == 1)
    assert not out[..., :3].any()
    # v0.0.x's look: alpha Math.round(255 * 0.7) = 179 on the background (JavaScript rounds the
    # tie 178.5 up; Python's round() would give 178).
    out = render.to_mask_image(mask, background=(0, 0, 0, 179))
    assert set(np.unique(out[..., 3][mask == 0])) <= {179}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mask": np.zeros((2, 2), np.float32)}, TypeError, r"mask must be .*got dtype float32 and shape \(2, 2\)"),
        ({"mask": [[0, 1]]}, TypeError, r"mask must be a numpy.ndarray, got list"),
        ({"mask": np.zeros((2, 2, 1), np.uint8)}, ValueError, r"mask must be a \(H, W\) mask.*shape \(2, 2, 1\)"),
        ({"mask": np.zeros((0, 3), np.uint8)}, ValueError, r"shape \(0, 3\)"),
        ({"mask": np.array([[0, 2]], np.uint8)}, ValueError, r"mask must hold only 0 and 1.*values in 0..2"),
        ({"foreground": (0, 0, 0)}, ValueError, r"foreground must be a colour \(r, g, b, a\).*got 3 values"),
        ({"background": (0, 0, 0, 256)}, ValueError, r"background must be a colour \(r, g, b, a\) of ints 0..255"),
        ({"background": (0, 0, 0, 0.5)}, TypeError, r"background must be a colour"),
        ({"foreground": "black"}, TypeError, r"foreground must be a colour .*got str"),
    ],
)
def test_to_mask_image_errors(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    args: dict[str, object] = {"mask": np.zeros((2, 2), np.uint8), **kwargs}
    with pytest.raises(error, match=match):
        render.to_mask_image(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# to_colored_part_image
# --------------------------------------------------------------------------------------------
def test_to_colored_part_image_hand_computed() -> None:
    parts = np.array([[-1, 0], [23, 12]], np.int32)
    out = render.to_colored_part_image(parts)
    expected = np.array([[[0, 0, 0, 255], [110, 64, 170, 255]], [[99, 81, 195, 255], [175, 240, 91, 255]]], np.uint8)
    assert out.dtype == np.uint8 and out.shape == (2, 2, 4)
    np.testing.assert_array_equal(out, expected)

    out = render.to_colored_part_image(
        parts.astype(np.int8), palette="warm", background=(255, 255, 255), background_alpha=0, alpha=179
    )
    np.testing.assert_array_equal(out[0, 0], (255, 255, 255, 0))
    np.testing.assert_array_equal(out[0, 1], (*render.PALETTES["warm"][0], 179))
    np.testing.assert_array_equal(out[1, 0], (*render.PALETTES["warm"][23], 179))


def test_to_colored_part_image_custom_palette_and_every_part() -> None:
    palette = np.stack([np.arange(24), np.arange(24) * 2, 255 - np.arange(24)], axis=1)
    parts = np.arange(-1, 24).reshape(5, 5)
    out = render.to_colored_part_image(parts, palette=palette, background=(7, 8, 9), background_alpha=10)
    np.testing.assert_array_equal(out.reshape(25, 4)[1:, :3], palette)
    np.testing.assert_array_equal(out.reshape(25, 4)[0], (7, 8, 9, 10))
    assert (out.reshape(25, 4)[1:, 3] == 255).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"parts": np.array([[24]], np.int32)}, ValueError, r"parts must hold part ids -1..23.*values in 24..24"),
        ({"parts": np.array([[-2]], np.int32)}, ValueError, r"parts must hold part ids -1..23"),
        ({"parts": np.zeros((2, 2), np.float32)}, TypeError, r"parts must be an integer \(H, W\) array.*float32"),
        ({"parts": np.zeros((2,), np.int32)}, ValueError, r"parts must be an integer \(H, W\) array.*shape \(2,\)"),
        ({"palette": "viridis"}, ValueError, r"palette must be one of \['rainbow', 'warm'\]"),
        ({"palette": np.zeros((23, 3), np.uint8)}, ValueError, r"palette must be a \(24, 3\) array.*shape \(23, 3\)"),
        ({"palette": np.zeros((24, 3), np.float64)}, TypeError, r"palette must be a \(24, 3\) array.*float64"),
        ({"palette": np.full((24, 3), 300)}, ValueError, r"palette values must be in 0..255"),
        ({"alpha": 256}, ValueError, r"alpha must be an int in 0..255, got 256"),
        ({"background_alpha": True}, TypeError, r"background_alpha must be an int in 0..255, got bool"),
        ({"background": (0, 0, 0, 0)}, ValueError, r"background must be a colour \(r, g, b\)"),
    ],
)
def test_to_colored_part_image_errors(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    args: dict[str, object] = {"parts": np.zeros((2, 2), np.int32), **kwargs}
    with pytest.raises(error, match=match):
        render.to_colored_part_image(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# draw_mask / draw_pixelated_mask
# --------------------------------------------------------------------------------------------
def test_draw_mask_hand_computed() -> None:
    image = np.array([[[100, 100, 100], [200, 0, 50], [100, 150, 200]]], np.uint8)
    mask_image = np.array([[[0, 0, 0, 255], [255, 255, 255, 0], [200, 100, 0, 51]]], np.uint8)
    out = render.draw_mask(image, mask_image, opacity=0.5)
    # alpha 255: 100 * (1 - 0.5) + 0.5 * 0; alpha 0: unchanged;
    # alpha 51 (0.2): weight 0.5 * 0.2 = 0.1: 0.9 * (100, 150, 200) + 0.1 * (200, 100, 0).
    expected = np.array([[[50, 50, 50], [200, 0, 50], [110, 145, 180]]], np.uint8)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.uint8 and out.shape == (1, 3, 3)


def test_draw_mask_opacity_0_is_the_image_and_1_is_the_mask_colour() -> None:
    image = textured(20, 30)
    rng = np.random.default_rng(RNG_SEED + 1)
    mask_image = rng.integers(0, 256, (20, 30, 4), dtype=np.uint8)
    mask_image[..., 3] = rng.choice(np.array([0, 255, 128], np.uint8), (20, 30))
    np.testing.assert_array_equal(render.draw_mask(image, mask_image, opacity=0), image)
    out = render.draw_mask(image, mask_image, opacity=1)
    opaque = mask_image[..., 3] == 255
    np.testing.assert_array_equal(out[opaque], mask_image[..., :3][opaque])
    transparent = mask_image[..., 3] == 0
    np.testing.assert_array_equal(out[transparent], image[transparent])


def test_draw_mask_of_to_mask_image_darkens_only_the_background() -> None:
    image = textured(12, 16)
    mask = box_mask(12, 16, 2, 10, 4, 12)
    out = render.draw_mask(image, render.to_mask_image(mask), opacity=0.7)
    np.testing.assert_array_equal(out[mask == 1], image[mask == 1])
    expected = np.floor(image[mask == 0] * 0.3 + 0.5)
    np.testing.assert_allclose(out[mask == 0], expected, atol=1)


def test_draw_mask_blur_is_premultiplied_and_local() -> None:
    white = np.full((21, 21, 3), 255, np.uint8)
    mask = box_mask(21, 21, 5, 16, 5, 16)
    red = render.to_mask_image(mask, foreground=(255, 0, 0, 255), background=(0, 0, 0, 0))
    out = render.draw_mask(white, red, opacity=1.0, mask_blur=2)
    # A premultiplied blur keeps the edge red over white: the red channel never drops.
    assert (out[..., 0] == 255).all()
    # The blur reaches only blur_radius(2) pixels beyond the mask, and softens its edge.
    changed = (out != white).any(axis=2)
    assert not changed[~dilate(mask, render.blur_radius(2))].any()
    assert changed[~mask.astype(bool)].any()
    assert 0 < out[10, 5, 1] < 255
    # Blurring a uniform mask image changes nothing.
    uniform = np.full((21, 21, 4), (10, 20, 30, 128), np.uint8)
    np.testing.assert_array_equal(
        render.draw_mask(white, uniform, mask_blur=3), render.draw_mask(white, uniform, mask_blur=0)
    )


def test_draw_pixelated_mask_hand_computed() -> None:
    image = np.zeros((3, 3, 3), np.uint8)
    mask_image = np.zeros((3, 3, 4), np.uint8)
    mask_image[..., 3] = 255
    mask_image[..., 0] = np.arange(9).reshape(3, 3) * 10  # red = 10 * (3 * y + x)
    out = render.draw_pixelated_mask(image, mask_image, opacity=1.0, pixel_cell_width=2)
    # Cells of 2 from the top-left: each takes its top-left pixel (0,0), (0,2), (2,0), (2,2).
    np.testing.assert_array_equal(out[..., 0], [[0, 0, 20], [0, 0, 20], [60, 60, 80]])
    assert not out[..., 1:].any()


def test_draw_pixelated_mask_cells_and_cell_width_1() -> None:
    image = textured(23, 31)
    parts = np.random.default_rng(RNG_SEED).integers(-1, 24, (23, 31))
    mask_image = render.to_colored_part_image(parts)
    np.testing.assert_array_equal(
        render.draw_pixelated_mask(image, mask_image, opacity=0.6, pixel_cell_width=1),
        render.draw_mask(image, mask_image, opacity=0.6),
    )
    out = render.draw_pixelated_mask(image, mask_image, opacity=1.0, pixel_cell_width=5)
    for top in range(0, 23, 5):
        for left in range(0, 31, 5):
            cell = out[top : top + 5, left : left + 5]
            assert (cell == mask_image[top, left, :3]).all()


@pytest.mark.parametrize("function", [render.draw_mask, render.draw_pixelated_mask])
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"image": np.zeros((4, 5, 3), np.float32)}, TypeError, r"image must be a uint8 RGB array.*float32"),
        ({"image": np.zeros((4, 5), np.uint8)}, ValueError, r"image must be a uint8 RGB array.*shape \(4, 5\)"),
        ({"image": np.zeros((4, 5, 4), np.uint8)}, ValueError, r"image must be a uint8 RGB array.*\(4, 5, 4\)"),
        ({"mask_image": np.zeros((4, 5, 3), np.uint8)}, ValueError, r"mask_image must be a uint8 RGBA.*\(4, 5, 3\)"),
        ({"mask_image": np.zeros((4, 5, 4), np.int32)}, TypeError, r"mask_image must be a uint8 RGBA.*int32"),
        ({"mask_image": np.zeros((5, 4, 4), np.uint8)}, ValueError, r"mask_image must have the size .* \(4, 5\)"),
        ({"opacity": 1.5}, ValueError, r"opacity must be in 0..1, got 1.5"),
        ({"opacity": float("nan")}, ValueError, r"opacity must be in 0..1"),
        ({"opacity": "0.5"}, TypeError, r"opacity must be a real number, got str"),
        ({"flip_horizontal": 1}, TypeError, r"flip_horizontal must be a bool, got int"),
    ],
)
def test_draw_mask_errors(
    function: Callable[..., np.ndarray], kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    args: dict[str, object] = {"image": np.zeros((4, 5, 3), np.uint8), "mask_image": np.zeros((4, 5, 4), np.uint8)}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        function(**args)


def test_draw_mask_and_pixelated_specific_errors() -> None:
    image, mask_image = np.zeros((4, 5, 3), np.uint8), np.zeros((4, 5, 4), np.uint8)
    with pytest.raises(ValueError, match=r"mask_blur must be a number of pixels in 0..100 .*, got -1"):
        render.draw_mask(image, mask_image, mask_blur=-1)
    with pytest.raises(ValueError, match=r"mask_blur must be a number of pixels in 0..100 .*, got inf"):
        render.draw_mask(image, mask_image, mask_blur=float("inf"))
    with pytest.raises(ValueError, match=r"pixel_cell_width must be in 1..65536, got 0"):
        render.draw_pixelated_mask(image, mask_image, pixel_cell_width=0)
    with pytest.raises(TypeError, match=r"pixel_cell_width must be an int, got float"):
        render.draw_pixelated_mask(image, mask_image, pixel_cell_width=2.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# draw_bokeh_effect
# --------------------------------------------------------------------------------------------
def test_bokeh_keeps_person_pixels_exactly_with_a_hard_edge_and_blurs_the_background() -> None:
    image = textured(40, 50)
    mask = box_mask(40, 50, 8, 30, 10, 35)
    out = render.draw_bokeh_effect(image, mask, background_blur_amount=3, edge_blur_amount=0)
    np.testing.assert_array_equal(out[mask == 1], image[mask == 1])
    blurred = cv2.GaussianBlur(image, (0, 0), 3, borderType=cv2.BORDER_REFLECT_101)
    np.testing.assert_array_equal(out[mask == 0], blurred[mask == 0])
    changed = (out != image).any(axis=2)
    assert changed[mask == 0].mean() > 0.95  # a random texture: nearly every background pixel changes


def test_bokeh_matches_the_reference_formula_with_a_feathered_edge() -> None:
    image = textured(40, 50)
    mask = box_mask(40, 50, 8, 30, 10, 35)
    out = render.draw_bokeh_effect(image, mask, background_blur_amount=4, edge_blur_amount=2)
    blurred = cv2.GaussianBlur(image, (0, 0), 4).astype(np.float64)
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 2).astype(np.float64)[..., None]
    expected = image * alpha + blurred * (1 - alpha)
    assert np.abs(out - expected).max() <= 0.5 + 1e-3
    # The feathered edge mixes in blurred pixels on the person's border only.
    inner = box_mask(40, 50, 8 + 9, 30 - 9, 10 + 9, 35 - 9).astype(bool)  # blur_radius(2) == 8 inside
    np.testing.assert_array_equal(out[inner], image[inner])


def test_bokeh_edge_cases() -> None:
    image = textured(9, 7)
    mask = box_mask(9, 7, 2, 6, 2, 5)
    # No blur at all: the image.
    np.testing.assert_array_equal(render.draw_bokeh_effect(image, mask, 0, 0), image)
    # A constant image is its own blur.
    flat = np.full((9, 7, 3), (12, 34, 56), np.uint8)
    np.testing.assert_array_equal(render.draw_bokeh_effect(flat, mask, 5, 5), flat)
    # A whole-person mask and a no-person mask, with a hard edge.
    np.testing.assert_array_equal(render.draw_bokeh_effect(image, np.ones((9, 7), bool), 3, 0), image)
    np.testing.assert_array_equal(
        render.draw_bokeh_effect(image, np.zeros((9, 7), np.int64), 3, 0), cv2.GaussianBlur(image, (0, 0), 3)
    )
    # A 1-pixel image, a soft float mask, a non-contiguous image; inputs are not modified.
    one = np.array([[[10, 20, 30]]], np.uint8)
    np.testing.assert_array_equal(render.draw_bokeh_effect(one, np.array([[0.5]])), one)
    view = image[:, ::-1]
    before = view.copy()
    out = render.draw_bokeh_effect(view, mask, 3, 0)
    np.testing.assert_array_equal(view, before)
    np.testing.assert_array_equal(out[mask == 1], before[mask == 1])
    assert out.flags.c_contiguous and out.dtype == np.uint8 and out.shape == (9, 7, 3)


def test_bokeh_soft_mask_is_the_blend_weight() -> None:
    image = textured(10, 10)
    soft = np.full((10, 10), 0.25, np.float32)
    out = render.draw_bokeh_effect(image, soft, background_blur_amount=2, edge_blur_amount=0)
    blurred = cv2.GaussianBlur(image, (0, 0), 2).astype(np.float64)
    assert np.abs(out - (0.25 * image + 0.75 * blurred)).max() <= 0.5 + 1e-3


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"mask": np.zeros((4, 6), np.uint8)},
            ValueError,
            r"mask must have the size \(H, W\) of image, \(4, 5\), got .*\(4, 6\)",
        ),
        ({"mask": np.full((4, 5), 1.5)}, ValueError, r"mask must hold values in 0..1.*float64"),
        ({"mask": np.full((4, 5), np.nan)}, ValueError, r"mask must hold values in 0..1"),
        ({"mask": np.zeros((4, 5), np.complex64)}, TypeError, r"mask must be a \(H, W\) mask.*complex64"),
        ({"mask": np.full((4, 5), 3, np.int32)}, ValueError, r"mask must hold only 0 and 1"),
        ({"background_blur_amount": -0.1}, ValueError, r"background_blur_amount must be a number of pixels in 0..100"),
        ({"edge_blur_amount": float("nan")}, ValueError, r"edge_blur_amount must be a number of pixels in 0..100"),
        ({"edge_blur_amount": None}, TypeError, r"edge_blur_amount must be a number of pixels in 0..100, got NoneType"),
        ({"image": np.zeros((4, 5, 3), np.uint16)}, TypeError, r"image must be a uint8 RGB array.*uint16"),
    ],
)
def test_bokeh_errors(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    args: dict[str, object] = {"image": np.zeros((4, 5, 3), np.uint8), "mask": np.zeros((4, 5), np.uint8), **kwargs}
    with pytest.raises(error, match=match):
        render.draw_bokeh_effect(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# blur_body_part
# --------------------------------------------------------------------------------------------
def _face_and_torso(h: int = 48, w: int = 40) -> np.ndarray:
    parts = np.full((h, w), -1, np.int32)
    parts[4:14, 14:20] = 0  # left face
    parts[4:14, 20:26] = 1  # right face
    parts[16:44, 8:32] = 12  # torso front
    return parts


@pytest.mark.parametrize(("background_blur", "edge_blur"), [(3, 3), (5, 1.5), (2, 0)])
def test_blur_body_part_changes_only_the_chosen_parts_neighbourhood(background_blur: float, edge_blur: float) -> None:
    image = textured(48, 40)
    parts = _face_and_torso()
    out = render.blur_body_part(image, parts, (0, 1), background_blur, edge_blur)
    faces = np.isin(parts, (0, 1))
    changed = (out != image).any(axis=2)
    assert not changed[~dilate(faces, render.blur_radius(edge_blur))].any()
    assert changed[faces].mean() > 0.9
    if edge_blur == 0:
        blurred = cv2.GaussianBlur(image, (0, 0), background_blur)
        np.testing.assert_array_equal(out[faces], blurred[faces])
        np.testing.assert_array_equal(out[~faces], image[~faces])


def test_blur_body_part_hand_computed_and_edge_cases() -> None:
    # Blurring parts of a constant image changes nothing.
    flat = np.full((5, 5, 3), 77, np.uint8)
    parts = np.full((5, 5), -1, np.int32)
    parts[1:3, 1:3] = 0
    np.testing.assert_array_equal(render.blur_body_part(flat, parts), flat)
    # No chosen part present, or no ids: an unchanged copy.
    image = textured(48, 40)
    torso_only = np.where(_face_and_torso() == 12, 12, -1).astype(np.int8)
    for ids in [(0, 1), ()]:
        out = render.blur_body_part(image, torso_only, ids)
        np.testing.assert_array_equal(out, image)
        assert out is not image
    # Blurring the torso instead leaves the faces' far side alone.
    out = render.blur_body_part(image, _face_and_torso(), part_ids=[12], edge_blur_amount=0)
    np.testing.assert_array_equal(out[:10], image[:10])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"part_ids": (0, 24)}, ValueError, r"part_ids must be part ids in 0..23, got \(0, 24\)"),
        ({"part_ids": ("0",)}, TypeError, r"part_ids must be a sequence of int part ids"),
        ({"part_ids": 0}, TypeError, r"part_ids must be a sequence of part ids 0..23, got int"),
        ({"parts": np.zeros((5, 4), np.int32)}, ValueError, r"parts must have the size \(H, W\) of image, \(4, 5\)"),
        ({"parts": np.zeros((4, 5), bool)}, TypeError, r"parts must be an integer \(H, W\) array.*bool"),
        ({"background_blur_amount": True}, TypeError, r"background_blur_amount must be a number of pixels.*got bool"),
    ],
)
def test_blur_body_part_errors(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    args: dict[str, object] = {"image": np.zeros((4, 5, 3), np.uint8), "parts": np.zeros((4, 5), np.int32), **kwargs}
    with pytest.raises(error, match=match):
        render.blur_body_part(**args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# replace_background
# --------------------------------------------------------------------------------------------
def test_replace_background_hand_computed() -> None:
    image = np.array([[[200, 100, 0], [10, 20, 30]]], np.uint8)
    mask = np.array([[0.25, 1.0]], np.float32)
    out = render.replace_background(image, mask, (0, 0, 100), edge_blur_amount=0)
    # 0.25 * (200, 100, 0) + 0.75 * (0, 0, 100); the person pixel is unchanged.
    np.testing.assert_array_equal(out, [[[50, 25, 75], [10, 20, 30]]])
    out = render.replace_background(image, np.array([[0, 1]], np.uint8), np.array([1, 2, 3]), edge_blur_amount=0)
    np.testing.assert_array_equal(out, [[[1, 2, 3], [10, 20, 30]]])


@pytest.mark.parametrize(
    ("bh", "bw", "interpolation"), [(80, 100, cv2.INTER_AREA), (7, 9, cv2.INTER_LINEAR), (40, 50, None)]
)
def test_replace_background_with_an_image_is_resized_to_the_frame(bh: int, bw: int, interpolation: int | None) -> None:
    image = textured(40, 50)
    mask = box_mask(40, 50, 8, 30, 10, 35)
    background = textured(bh, bw, seed=RNG_SEED + 7)
    out = render.replace_background(image, mask, background, edge_blur_amount=0)
    expected = background if interpolation is None else cv2.resize(background, (50, 40), interpolation=interpolation)
    np.testing.assert_array_equal(out[mask == 0], expected[mask == 0])
    np.testing.assert_array_equal(out[mask == 1], image[mask == 1])
    # A feathered edge only mixes near the outline.
    soft = render.replace_background(image, mask, background, edge_blur_amount=1)
    near = dilate(mask, render.blur_radius(1)) & dilate(mask == 0, render.blur_radius(1))
    np.testing.assert_array_equal(soft[~near], out[~near])


@pytest.mark.parametrize(
    ("background", "error", "match"),
    [
        (np.zeros((4, 5), np.uint8), ValueError, r"background must be a uint8 RGB array.*shape \(4, 5\)"),
        (np.zeros((4, 5, 3), np.float32), TypeError, r"background must be a uint8 RGB array.*float32"),
        ((0, 0), ValueError, r"background must be a colour \(r, g, b\) of 3 ints 0..255, got 2 values"),
        ((0, 0, -1), ValueError, r"background must be a colour \(r, g, b\)"),
        ("green", TypeError, r"background must be a colour .*got str"),
        (None, TypeError, r"background must be a colour .*got NoneType"),
    ],
)
def test_replace_background_errors(background: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        render.replace_background(
            np.zeros((4, 5, 3), np.uint8),
            np.zeros((4, 5), np.uint8),
            background,  # type: ignore[arg-type]
        )


# --------------------------------------------------------------------------------------------
# All drawing functions
# --------------------------------------------------------------------------------------------
def _drawers() -> list[tuple[str, Callable[..., np.ndarray]]]:
    image = textured(21, 34)
    mask = box_mask(21, 34, 3, 18, 5, 20)
    parts = np.where(mask == 1, np.random.default_rng(RNG_SEED).integers(0, 24, mask.shape), -1)
    colored = render.to_colored_part_image(parts, background_alpha=0)
    return [
        ("draw_mask", lambda **kw: render.draw_mask(image, render.to_mask_image(mask), mask_blur=1.5, **kw)),
        ("draw_pixelated_mask", lambda **kw: render.draw_pixelated_mask(image, colored, pixel_cell_width=4, **kw)),
        ("draw_bokeh_effect", lambda **kw: render.draw_bokeh_effect(image, mask, 3, 3, **kw)),
        ("blur_body_part", lambda **kw: render.blur_body_part(image, parts, (0, 1, 12), 3, 3, **kw)),
        ("replace_background", lambda **kw: render.replace_background(image, mask, textured(30, 30, 9), 2, **kw)),
    ]


@pytest.mark.parametrize(("name", "draw"), _drawers(), ids=[name for name, _ in _drawers()])
def test_flip_horizontal_is_flipping_the_output(name: str, draw: Callable[..., np.ndarray]) -> None:
    plain = draw(flip_horizontal=False)
    flipped = draw(flip_horizontal=True)
    assert plain.shape == (21, 34, 3) and plain.dtype == np.uint8
    assert flipped.flags.c_contiguous
    np.testing.assert_array_equal(flipped, plain[:, ::-1])
    assert not np.array_equal(flipped, plain)


def test_blur_radius_matches_opencv_kernel_reach() -> None:
    assert render.blur_radius(0) == 0
    for sigma in (0.3, 0.5, 1, 1.5, 2.5, 3, 4.2):
        for dtype, impulse in ((np.float32, 1.0), (np.uint8, 255)):
            signal = np.zeros((1, 201), dtype)
            signal[0, 100] = impulse
            weights = cv2.getGaussianKernel(2 * render.blur_radius(sigma, dtype) + 1, sigma)
            reach = np.nonzero(cv2.GaussianBlur(signal, (0, 0), sigma))[1]
            assert reach.max() - 100 <= render.blur_radius(sigma, dtype)
            if dtype == np.float32:  # every tap of the float kernel is non-zero: reach == radius
                assert weights.min() > 0
                assert reach.max() - 100 == render.blur_radius(sigma, dtype)
    with pytest.raises(ValueError, match="sigma must be a number of pixels in 0..100"):
        render.blur_radius(-1)


# --------------------------------------------------------------------------------------------
# Bounded arguments: no call runs for minutes or fails inside OpenCV or numpy (issue 16, item 8)
# --------------------------------------------------------------------------------------------
_IMAGE, _MASK = textured(20, 30), box_mask(20, 30, 4, 16, 6, 24)
_PARTS = np.where(_MASK == 1, 0, -1)

# Every blur amount of every drawing function, as (function of the amount, argument name).
_BLURS: list[tuple[Callable[[object], np.ndarray], str]] = [
    (lambda v: render.draw_bokeh_effect(_IMAGE, _MASK, background_blur_amount=v), "background_blur_amount"),  # type: ignore[arg-type]
    (lambda v: render.draw_bokeh_effect(_IMAGE, _MASK, edge_blur_amount=v), "edge_blur_amount"),  # type: ignore[arg-type]
    (lambda v: render.blur_body_part(_IMAGE, _PARTS, background_blur_amount=v), "background_blur_amount"),  # type: ignore[arg-type]
    (lambda v: render.blur_body_part(_IMAGE, _PARTS, edge_blur_amount=v), "edge_blur_amount"),  # type: ignore[arg-type]
    (lambda v: render.replace_background(_IMAGE, _MASK, (0, 255, 0), edge_blur_amount=v), "edge_blur_amount"),  # type: ignore[arg-type]
    (lambda v: render.draw_mask(_IMAGE, render.to_mask_image(_MASK), mask_blur=v), "mask_blur"),  # type: ignore[arg-type]
    (lambda v: np.array(render.blur_radius(v)), "sigma"),  # type: ignore[arg-type]
]
_BLUR_IDS = [
    "bokeh-background",
    "bokeh-edge",
    "body-part-background",
    "body-part-edge",
    "replace-edge",
    "mask",
    "radius",
]


@pytest.mark.parametrize(("draw", "name"), _BLURS, ids=_BLUR_IDS)
@pytest.mark.parametrize("amount", [100.000001, 1e4, 1e6, 1e308, 2**63, float("inf"), -1e-9])
def test_blur_amounts_beyond_the_maximum_are_refused_at_once(
    draw: Callable[[object], np.ndarray], name: str, amount: float
) -> None:
    """1e4 used to run for minutes (100 s on 200x200), 1e6 to raise cv2.error (bad_alloc) and
    1e308 an OverflowError: now each is a ValueError naming the argument and the bound."""
    assert render.MAX_BLUR_AMOUNT == 100
    began = time.perf_counter()
    with pytest.raises(ValueError, match=rf"{name} must be a number of pixels in 0..100 .*, got "):
        draw(amount)
    assert time.perf_counter() - began < 1.0


@pytest.mark.parametrize(("draw", "name"), _BLURS, ids=_BLUR_IDS)
def test_the_largest_blur_amount_works_on_any_size(draw: Callable[[object], np.ndarray], name: str) -> None:
    """The maximum itself is allowed (a blur kernel far larger than the 20x30 image: mirrored
    borders still apply), and so is a numpy float."""
    out = draw(render.MAX_BLUR_AMOUNT)
    assert np.isfinite(out.astype(np.float64)).all()
    draw(np.float32(99.5))


def test_a_blur_wider_than_a_tiny_image_is_the_mean_colour_region() -> None:
    """At the largest amount a 1x1 and a 2x3 image still blur (no OpenCV error)."""
    for h, w in ((1, 1), (2, 3)):
        image, mask = textured(h, w), np.zeros((h, w), np.uint8)
        out = render.draw_bokeh_effect(image, mask, render.MAX_BLUR_AMOUNT, render.MAX_BLUR_AMOUNT)
        assert out.shape == (h, w, 3)
        if h * w == 1:
            np.testing.assert_array_equal(out, image)


@pytest.mark.parametrize("cell", [65537, 2**31, 2**63, 2**70, np.int64(2**62)])
def test_pixel_cell_width_beyond_the_maximum_is_a_value_error(cell: int) -> None:
    """2**63 used to raise OverflowError from numpy."""
    mask_image = render.to_colored_part_image(_PARTS)
    with pytest.raises(ValueError, match=r"pixel_cell_width must be in 1..65536, got "):
        render.draw_pixelated_mask(_IMAGE, mask_image, pixel_cell_width=cell)


def test_the_widest_pixel_cell_is_one_cell_for_the_whole_image() -> None:
    mask_image = render.to_colored_part_image(_PARTS)
    widest = render.draw_pixelated_mask(_IMAGE, mask_image, pixel_cell_width=render.MAX_PIXEL_CELL_WIDTH)
    np.testing.assert_array_equal(widest, render.draw_pixelated_mask(_IMAGE, mask_image, pixel_cell_width=30))
    assert render.MAX_PIXEL_CELL_WIDTH == MAX_IMAGE_SIDE


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"background_blur": 1e4}, ValueError, r"background_blur must be a number of pixels in 0..100"),
        ({"edge_blur": -1}, ValueError, r"edge_blur must be a number of pixels in 0..100"),
        ({"edge_blur": "3"}, TypeError, r"edge_blur must be a number of pixels"),
        ({"opacity": 2.0}, ValueError, r"opacity must be in 0..1, got 2.0"),
        ({"mirror": "yes"}, TypeError, r"mirror must be a bool"),
        ({"palette": "neon"}, ValueError, r"palette must be one of \['rainbow', 'warm'\], got 'neon'"),
    ],
)
def test_renderer_checks_its_options_when_made(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    """A Renderer with an out-of-range option fails when made, not on the first frame."""
    with pytest.raises(error, match=match):
        render.Renderer(render.Effect("bokeh"), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"effect must be None or an Effect, got str"):
        render.Renderer("bokeh")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("height", "width", "error", "match"),
    [
        (0, 5, ValueError, r"height must be in 1..65536, got 0"),
        (5, 2**40, ValueError, r"width must be in 1..65536, got 1099511627776"),
        (5.0, 5, TypeError, r"height must be an int, got float"),
    ],
)
def test_cover_checks_the_size(height: object, width: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        render.cover(textured(4, 4), height, width)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"image must be a uint8 RGB array"):
        render.cover(np.zeros((0, 4, 3), np.uint8), 5, 5)


def test_cover_of_an_extreme_aspect_ratio_stays_small() -> None:
    """A 1x4000 strip covering 1080x1920 was scaled whole to 1080x4320000 (14 GB) before
    cropping; now the kept part is cropped first. Ordinary backgrounds are unchanged."""
    strip = textured(1, 4000)
    began = time.perf_counter()
    out = render.cover(strip, 1080, 1920)
    assert out.shape == (1080, 1920, 3) and out.dtype == np.uint8
    assert time.perf_counter() - began < 5.0
    # every row comes from the one source row (equal up to OpenCV's fixed-point rounding), and
    # it is the strip's middle two pixels (the kept part), stretched
    assert np.abs(out.astype(int) - out[:1]).max() <= 1
    middle = strip[0, 1999:2001].astype(int)
    assert (out[0].astype(int) >= middle.min(axis=0) - 1).all() and (out[0] <= middle.max(axis=0) + 1).all()
    ordinary = textured(300, 500)
    resized = cv2.resize(ordinary, (round(500 * 200 / 300), 200), interpolation=cv2.INTER_AREA)
    left = (resized.shape[1] - 200) // 2
    np.testing.assert_array_equal(render.cover(ordinary, 200, 200), resized[:, left : left + 200])
