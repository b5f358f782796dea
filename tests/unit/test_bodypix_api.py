"""The public ``bodypix`` API without weights: input size and padding (spec sections 4 and 5),
option validation, result types, ``flip_horizontal`` (results = the unflipped ones mirrored),
image inputs, and the calls against the numpy reference of the post-processing on a
synthetic engine (random heads)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation import _core, _weights, bodypix

from .. import _bodypix_api_reference as ref

CALLS = ("segment_person", "segment_person_parts", "segment_multi_person", "segment_multi_person_parts")
MULTI = ("segment_multi_person", "segment_multi_person_parts")


class SyntheticEngine:
    """An engine whose heads are random but fixed per input size (seeded by it), with a person
    blob in the segment logits and the heatmaps so that masks and poses are not empty."""

    name = "synthetic"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.inputs: list[np.ndarray] = []

    def heads(self, model_input: np.ndarray, output_stride: int, num_threads: int | None = None) -> np.ndarray:
        self.inputs.append(model_input)
        in_h, in_w = model_input.shape[-3:-1]
        out_h, out_w = (in_h - 1) // output_stride + 1, (in_w - 1) // output_stride + 1
        rng = np.random.default_rng([self.seed, in_h, in_w])
        heads = rng.normal(0, 2, (out_h, out_w, 174)).astype(np.float32)
        yy, xx = np.mgrid[0:out_h, 0:out_w]
        blob = np.exp(-(((yy - out_h * 0.45) / (out_h * 0.3)) ** 2 + ((xx - out_w * 0.4) / (out_w * 0.2)) ** 2))
        heads[:, :, 0] += (8 * blob - 3).astype(np.float32)
        heads[:, :, 25:42] += (6 * blob - 2).astype(np.float32)[:, :, None]
        heads[:, :, 140:174] *= np.float32(0.5)  # long offsets: mostly short hops
        return heads

    def bodypix_heads(
        self,
        pixels: np.ndarray,
        input_height: int,
        input_width: int,
        padding: tuple[int, int, int, int],
        output_stride: int,
        num_threads: int = 0,
    ) -> np.ndarray:
        model_input = _core.bodypix_preprocess(
            pixels, input_height=input_height, input_width=input_width, padding=padding, num_threads=num_threads
        )
        return self.heads(model_input, output_stride, num_threads or None)


def _net(seed: int = 0, output_stride: int = 16) -> bodypix.BodyPix:
    return bodypix.BodyPix(
        SyntheticEngine(seed),
        multiplier=0.75,
        output_stride=output_stride,
        quant_bytes=2,
        num_threads=0,
        model_source="<synthetic>",
    )


def _image(height: int = 120, width: int = 90, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


# -- spec section 4: the network input size ------------------------------------------------------
@pytest.mark.parametrize(
    ("hw", "resolution", "stride", "expected"),
    [
        ((480, 640), "medium", 16, (241, 321)),
        ((375, 500), "medium", 16, (177, 241)),
        ((480, 854), "medium", 16, (241, 417)),
        ((480, 854), "medium", 8, (241, 425)),
        ((480, 640), 0.6, 16, (289, 385)),
        ((482, 66), "medium", 16, (241, 33)),  # 241 and 33 already valid: kept
        ((481, 640), "medium", 16, (241, 321)),  # 240.5 -> floor(240.5 / 16) * 16 + 1 = 241 (> 240.5)
        ((100, 100), "low", 16, (17, 17)),
        ((10, 10), "low", 16, (1, 1)),  # 2.5 -> 1
        ((1, 1), 0.1, 8, (1, 1)),
        ((375, 500), 2.0, 16, (737, 993)),
        ((480, 640), "full", 8, (481, 641)),
    ],
)
def test_input_size(hw: tuple[int, int], resolution: Any, stride: int, expected: tuple[int, int]) -> None:
    fraction = ps._checks.check_internal_resolution(resolution)
    assert bodypix._input_size(*hw, fraction, stride) == expected
    assert ref.input_size(*hw, resolution, stride) == expected


def test_input_size_uses_float64_products() -> None:
    """``H * p`` in float64 (e.g. 375 * 0.6 = 225.00000000000003): every side is ``k * s + 1``
    with ``k = floor(H * p / s)`` (for strides >= 2 the "already valid" rule of spec section 4
    gives the same), also for fractions that are not exact in binary."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 2000, 2))
        p = float(rng.choice([0.1, 0.25, 0.3, 0.5, 0.6, 0.7, 0.75, 1.0, 1.3, 2.0]))
        s = int(rng.choice([8, 16]))
        got = bodypix._input_size(h, w, p, s)
        assert got == ref.input_size(h, w, p, s)
        for side, v in zip(got, (h * p, w * p)):
            assert (side - 1) % s == 0 and side == int(v // s) * s + 1


# -- spec section 5: padding --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hw", "resolution", "expected"),
    [
        ((480, 640), "medium", (0, 0, 0, 0)),
        ((375, 500), "medium", (0, 0, 5, 5)),
        ((480, 854), "medium", (7, 7, 0, 0)),
        ((540, 960), "medium", (0, 0, 25, 25)),
    ],
)
def test_padding_examples(hw: tuple[int, int], resolution: str, expected: tuple[int, int, int, int]) -> None:
    fraction = ps._checks.check_internal_resolution(resolution)
    size = bodypix._input_size(*hw, fraction, 16)
    assert bodypix._padding(*hw, *size) == expected


def test_padding_rounds_halves_up() -> None:
    """JavaScript's Math.round: 0.5 -> 1 (Python's round gives 0)."""
    assert bodypix._padding(10, 9, 17, 17) == (0, 0, 1, 1)  # 0.5 * (10 - 9)
    assert bodypix._padding(9, 10, 17, 17) == (1, 1, 0, 0)
    assert bodypix._padding(10, 7, 17, 17) == (0, 0, 2, 2)  # 1.5 -> 2
    assert bodypix._js_round(2.5) == 3 and bodypix._js_round(-2.5) == -2 and bodypix._js_round(0.49999999999999994) == 0


def test_padding_matches_reference() -> None:
    rng = np.random.default_rng(1)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 3000, 2))
        size = bodypix._input_size(h, w, 0.5, 16)
        assert bodypix._padding(h, w, *size) == ref.padding(h, w, *size)


# -- option validation ---------------------------------------------------------------------------
BAD_OPTIONS = [
    ("flip_horizontal", 1, TypeError),
    ("internal_resolution", "ultra", ValueError),
    ("internal_resolution", 0.05, ValueError),
    ("internal_resolution", 2.5, ValueError),
    ("internal_resolution", float("nan"), ValueError),
    ("internal_resolution", None, TypeError),
    ("internal_resolution", True, TypeError),
    ("segmentation_threshold", 1.5, ValueError),
    ("segmentation_threshold", -0.1, ValueError),
    ("segmentation_threshold", "0.5", TypeError),
    ("max_detections", 0, ValueError),
    ("max_detections", 2.5, TypeError),
    ("score_threshold", 2, ValueError),
    ("nms_radius", 0, ValueError),
    ("nms_radius", -1.0, ValueError),
    ("nms_radius", float("inf"), ValueError),
    ("nms_radius", "20", TypeError),
]
BAD_MULTI_OPTIONS = [
    ("min_keypoint_score", 1.1, ValueError),
    ("min_keypoint_score", None, TypeError),
    ("refine_steps", 0, ValueError),
    ("refine_steps", 21, ValueError),
    ("refine_steps", 2.0, TypeError),
]


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(("option", "value", "error"), BAD_OPTIONS, ids=[f"{o}={v!r}" for o, v, _ in BAD_OPTIONS])
def test_bad_options_are_refused_naming_them(call: str, option: str, value: Any, error: type[Exception]) -> None:
    net = _net()
    with pytest.raises(error, match=option):
        getattr(net, call)(_image(), **{option: value})
    assert not net._engine.inputs, "the network must not run for bad options"


@pytest.mark.parametrize("call", MULTI)
@pytest.mark.parametrize(
    ("option", "value", "error"), BAD_MULTI_OPTIONS, ids=[f"{o}={v!r}" for o, v, _ in BAD_MULTI_OPTIONS]
)
def test_bad_multi_person_options(call: str, option: str, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=option):
        getattr(_net(), call)(_image(), **{option: value})


def test_internal_resolution_as_text() -> None:
    """The one parser of the command line's and the server's text form: names as they are,
    numbers as floats, everything else refused with check_internal_resolution's message."""
    parse = ps._checks.parse_internal_resolution
    assert parse("high") == "high" and parse("0.75") == 0.75 and parse("2") == 2.0
    for text in ("huge", "", "nan", "inf", "3", "0.05", "Low"):
        with pytest.raises(
            ValueError, match=r"internal_resolution must be one of \('low'.* or a number in \[0.1, 2.0\]"
        ):
            parse(text)


@pytest.mark.parametrize("call", CALLS[:2])
def test_single_person_calls_take_no_multi_person_options(call: str) -> None:
    with pytest.raises(TypeError):
        getattr(_net(), call)(_image(), refine_steps=10)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"multiplier": 0.25}, ValueError, "multiplier"),
        ({"multiplier": "0.75"}, TypeError, "multiplier"),
        ({"quant_bytes": 3}, ValueError, "quant_bytes"),
        ({"quant_bytes": 2.0}, TypeError, "quant_bytes"),
        ({"output_stride": 32}, ValueError, "stride32"),
        ({"output_stride": 4}, ValueError, "output_stride"),
        ({"engine": "gpu"}, ValueError, "engine"),
        ({"num_threads": -1}, ValueError, "num_threads"),
        ({"model_url": 5}, TypeError, "model_url"),
    ],
)
def test_load_refuses_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        bodypix.load(**kwargs)


def test_load_names_a_missing_model(tmp_path: Path) -> None:
    with pytest.raises(ps.WeightsError, match="missing.json"):
        bodypix.load(model_url=tmp_path / "missing.json")


def test_official_urls() -> None:
    assert _weights.official_model_path(0.75, 2, 16) == "bodypix/mobilenet/quant2/075/model-stride16.json"
    assert _weights.official_model_path(1.0, 4, 8) == "bodypix/mobilenet/float/100/model-stride8.json"
    assert _weights.official_model_path(0.5, 1, 16) == "bodypix/mobilenet/quant1/050/model-stride16.json"
    base = "https://example.org/mirror/"
    assert bodypix._model_location(base, 0.5, 1, 8) == (base + "bodypix/mobilenet/quant1/050/model-stride8.json", True)
    assert bodypix._model_location(base + "m.json", 0.5, 1, 8) == (base + "m.json", False)
    assert bodypix._model_location(base + "m.json?v=2", 0.5, 1, 8) == (base + "m.json?v=2", False)


def test_model_url_folder_forms(tmp_path: Path) -> None:
    (tmp_path / "model-stride8.json").write_text("{}")
    assert bodypix._model_location(str(tmp_path), 0.5, 4, 8) == (str(tmp_path / "model-stride8.json"), False)
    assert bodypix._model_location(str(tmp_path), 0.5, 4, 16) == (
        str(tmp_path / "bodypix/mobilenet/float/050/model-stride16.json"),
        True,
    )


# -- results ------------------------------------------------------------------------------------
def test_result_types_and_dtypes() -> None:
    net, image = _net(), _image(100, 140)
    person = net.segment_person(image)
    assert isinstance(person, bodypix.SemanticPersonSegmentation)
    assert (person.height, person.width) == (100, 140)
    assert person.mask.dtype == np.uint8 and person.mask.shape == (100, 140) and set(np.unique(person.mask)) <= {0, 1}
    assert person.probability.dtype == np.float32 and person.probability.shape == (100, 140)
    np.testing.assert_array_equal(person.mask, person.probability > np.float32(0.7))
    assert person.all_poses and all(isinstance(p, bodypix.Pose) for p in person.all_poses)
    pose = person.all_poses[0]
    assert len(pose.keypoints) == 17 and [k.part for k in pose.keypoints] == list(bodypix.KEYPOINT_NAMES)
    assert all(isinstance(v, float) for k in pose.keypoints for v in (k.score, k.x, k.y))
    assert pose.to_array().shape == (17, 3) and pose.to_array().dtype == np.float64

    parts = net.segment_person_parts(image)
    assert isinstance(parts, bodypix.SemanticPartSegmentation)
    assert parts.parts.dtype == np.int32 and parts.parts.min() >= -1 and parts.parts.max() <= 23
    np.testing.assert_array_equal(parts.parts >= 0, person.mask == 1)
    np.testing.assert_array_equal(parts.mask, person.mask)

    people = net.segment_multi_person(image)
    assert people and all(isinstance(p, bodypix.PersonInstance) for p in people)
    for one in people:
        assert one.mask.dtype == np.uint8 and one.mask.shape == (100, 140) and (one.height, one.width) == (100, 140)
        assert not (one.mask & (person.mask == 0)).any()
        assert one.pose.score >= 0.4
    assert np.sum([p.mask for p in people], axis=0).max() <= 1  # people never overlap

    people_parts = net.segment_multi_person_parts(image)
    assert len(people_parts) == len(people)
    for one, two in zip(people_parts, people):
        assert isinstance(one, bodypix.PartInstance) and one.parts.dtype == np.int32
        np.testing.assert_array_equal(one.parts >= 0, two.mask == 1)
        np.testing.assert_array_equal(one.mask, two.mask)
        np.testing.assert_array_equal(one.parts[one.mask == 1], parts.parts[one.mask == 1])
        assert one.pose == two.pose


def test_results_are_frozen() -> None:
    person = _net().segment_person(_image())
    with pytest.raises(AttributeError):
        person.mask = person.mask  # type: ignore[misc]
    with pytest.raises(AttributeError):
        person.all_poses[0].score = 1.0  # type: ignore[misc]


def test_constants() -> None:
    assert len(bodypix.PART_CHANNELS) == 24 and bodypix.PART_CHANNELS[2] == "left_upper_arm_front"
    assert bodypix.PART_CHANNELS[23] == "right_feet" and bodypix.PART_CHANNELS[12] == "torso_front"
    assert bodypix.PART_CHANNELS != ps.PART_CHANNELS  # the 1.x API keeps its own ids
    assert bodypix.KEYPOINT_NAMES[0] == "nose" and bodypix.KEYPOINT_NAMES[16] == "rightAnkle"
    assert len(bodypix.KEYPOINT_NAMES) == 17


# -- against the numpy reference ----------------------------------------------------------------
def _reference(net: bodypix.BodyPix, image: np.ndarray, **o: Any) -> dict[str, Any]:
    """The four calls' outputs computed with tests/_bodypix_reference.py on the same heads."""
    height, width = image.shape[:2]
    resolution = o.get("internal_resolution", "medium")
    in_h, in_w = ref.input_size(height, width, resolution, net.output_stride)
    pad = ref.padding(height, width, in_h, in_w)
    model_input = ref.preprocess(image, input_height=in_h, input_width=in_w, padding=pad)
    heads = SyntheticEngine(net._engine.seed).heads(model_input, net.output_stride)
    geometry = dict(image_height=height, image_width=width, input_height=in_h, input_width=in_w, padding=pad)
    mask, parts, probability = ref.scale_back(heads, threshold=0.7, parts=True, probability=True, **geometry)
    keypoints, scores = ref.decode_poses(
        heads, output_stride=net.output_stride, max_detections=10, score_threshold=0.4, nms_radius=20, **geometry
    )
    people = keypoints[scores >= 0.4]
    index = ref.decode_instances(heads, mask, people, output_stride=net.output_stride, refine_steps=10, **geometry)
    part_map = ref.part_map(heads, height, width, in_h, in_w, pad)
    return dict(
        model_input=model_input,
        mask=mask,
        parts=parts,
        probability=probability,
        keypoints=keypoints,
        scores=scores,
        masks=[(index == p).astype(np.uint8) for p in range(len(people))],
        part_maps=[np.where(index == p, part_map, -1) for p in range(len(people))],
    )


@pytest.mark.parametrize(("hw", "stride"), [((120, 90), 16), ((75, 133), 8), ((161, 161), 16)])
def test_calls_match_the_numpy_reference(hw: tuple[int, int], stride: int) -> None:
    net, image = _net(seed=3, output_stride=stride), _image(*hw, seed=4)
    expected = _reference(net, image)
    person = net.segment_person(image)
    np.testing.assert_array_equal(net._engine.inputs[-1], expected["model_input"])
    np.testing.assert_array_equal(person.mask, expected["mask"])
    np.testing.assert_array_equal(person.probability, expected["probability"])
    keypoints = np.array([p.to_array() for p in person.all_poses]).reshape(-1, 17, 3)
    np.testing.assert_allclose(keypoints, expected["keypoints"], rtol=0, atol=1e-9)
    np.testing.assert_allclose([p.score for p in person.all_poses], expected["scores"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(net.segment_person_parts(image).parts, expected["parts"])
    people = net.segment_multi_person(image)
    assert len(people) == len(expected["masks"])
    for one, mask in zip(people, expected["masks"]):
        np.testing.assert_array_equal(one.mask, mask)
    for one, part_map in zip(net.segment_multi_person_parts(image), expected["part_maps"]):
        np.testing.assert_array_equal(one.parts, part_map)


# -- flip_horizontal: the unflipped results, mirrored -------------------------------------------
def _mirrored_pose(pose: bodypix.Pose, width: int) -> bodypix.Pose:
    return bodypix.Pose(
        pose.score, tuple(bodypix.Keypoint(k.part, k.score, width - 1 - k.x, k.y) for k in pose.keypoints)
    )


def check_flip_equality(net: bodypix.BodyPix, image: Any, width: int) -> None:
    """Every call with ``flip_horizontal=True`` equals its unflipped result mirrored."""
    for call in CALLS:
        plain, flipped = getattr(net, call)(image), getattr(net, call)(image, flip_horizontal=True)
        if call in MULTI:
            assert len(plain) == len(flipped)
            pairs = list(zip(plain, flipped))
            for a, b in pairs:
                assert b.pose == _mirrored_pose(a.pose, width)
        else:
            pairs = [(plain, flipped)]
            assert flipped.all_poses == [_mirrored_pose(p, width) for p in plain.all_poses]
            np.testing.assert_array_equal(flipped.probability, plain.probability[:, ::-1])
        for a, b in pairs:
            np.testing.assert_array_equal(b.mask, a.mask[:, ::-1])
            if hasattr(a, "parts"):
                np.testing.assert_array_equal(b.parts, a.parts[:, ::-1])
                assert b.parts.flags.c_contiguous


def test_flip_horizontal_mirrors_the_results() -> None:
    check_flip_equality(_net(seed=5), _image(96, 130, seed=6), 130)


def test_min_keypoint_score_does_not_change_the_results() -> None:
    """As BodyPix 2.2.1's CPU decoder: validated, then not used (fixed 0.3 threshold)."""
    net, image = _net(seed=7), _image(seed=8)
    a = net.segment_multi_person(image, min_keypoint_score=0.0)
    b = net.segment_multi_person(image, min_keypoint_score=1.0)
    assert len(a) == len(b) and a
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.mask, y.mask)


# -- images ---------------------------------------------------------------------------------------
def test_every_image_kind_gives_the_same_result(tmp_path: Path) -> None:
    net, image = _net(seed=9), _image(64, 80, seed=10)
    path = tmp_path / "image.png"
    PIL.Image.fromarray(image).save(path)
    expected = net.segment_person_parts(image).parts
    rgba = np.concatenate([image, np.full((64, 80, 1), 255, np.uint8)], axis=2)
    for kind in (path, str(path), PIL.Image.open(path), image.astype(np.float32), image.astype(np.int64), rgba):
        np.testing.assert_array_equal(net.segment_person_parts(kind).parts, expected)
    gray = image[:, :, 0]
    np.testing.assert_array_equal(
        net.segment_person(gray).mask, net.segment_person(np.repeat(gray[:, :, None], 3, axis=2)).mask
    )
    np.testing.assert_array_equal(
        net.segment_person(image[:, ::-1]).mask, net.segment_person(image[:, ::-1].copy()).mask
    )


def test_bad_images_are_refused() -> None:
    with pytest.raises(TypeError, match="image"):
        _net().segment_person([[1, 2, 3]])
    with pytest.raises(ValueError, match="image"):
        _net().segment_person(np.zeros((0, 5, 3), np.uint8))
    with pytest.raises(FileNotFoundError):
        _net().segment_person("/nonexistent/photo.jpg")


def test_importing_bodypix_does_not_import_tensorflow() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom person_segmentation import bodypix\nprint('tensorflow' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# -- the bundled model (in the package: no shared material needed) -----------------------------
@pytest.fixture(scope="module")
def bundled() -> bodypix.BodyPix:
    return bodypix.load(engine="tflite")


def _people_image() -> np.ndarray:
    """A deterministic photo-like image: a smooth background and a skin-coloured figure."""
    yy, xx = np.mgrid[0:240, 0:320].astype(np.float32)
    image = np.stack([60 + 0.2 * xx, 80 + 0.3 * yy, 120 + 0.1 * (xx - yy)], axis=2)
    figure = (((xx - 160) / 40) ** 2 + ((yy - 70) / 28) ** 2 < 1) | ((np.abs(xx - 160) < 45) & (yy > 95))
    image[figure] = (205, 160, 130)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_load_without_arguments_uses_the_bundled_model(bundled: bodypix.BodyPix) -> None:
    package = Path(bodypix.__file__).resolve().parent
    source = Path(bundled.model_source).resolve()
    assert source == package / "models/bodypix/mobilenet/quant2/075/model-stride16.json"
    assert (bundled.multiplier, bundled.output_stride, bundled.quant_bytes) == (0.75, 16, 2)
    assert bundled.engine == "tflite"
    seg = bundled.segment_person(_people_image())
    assert seg.mask.shape == (240, 320) and len(seg.all_poses) <= 10


def test_flip_horizontal_on_the_bundled_model(bundled: bodypix.BodyPix) -> None:
    check_flip_equality(bundled, _people_image(), 320)


def test_bundled_model_runs_without_tensorflow() -> None:
    code = (
        "import sys, numpy as np\n"
        "from person_segmentation import bodypix\n"
        "net = bodypix.load(engine='tflite')\n"
        "seg = net.segment_multi_person_parts(np.full((120, 160, 3), 128, np.uint8))\n"
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
