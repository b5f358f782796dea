"""Every visible case of ../shared/golden2/index.json (BodyPix 2.2.1's outputs) through the
public ``bodypix`` API, on both engines: the four calls' masks, part maps, poses and people,
and the person IoU against the ground truth.

Bars (issue 13): mask and part-map agreement >= 99.99 % of pixels per case; poses: the same
count and >= 99 % of keypoints within 0.05 px and 1e-4 in score (poses matched in order);
multi-person: the same number of people, each person's mask and parts >= 99.9 %; where the
photo has ground truth, the IoU of our ``segment_person`` mask equals the golden mask's within
0.001. BodyPix 2.2.1 ignores ``flip_horizontal``; we honour it, so a flip case's results,
mirrored back, must match its (unflipped) golden.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation import bodypix

from .._golden2 import cases as golden2_cases
from ..conftest import SHARED_DIR

MIN_AGREEMENT = 0.9999
MIN_PERSON_AGREEMENT = 0.999
MIN_KEYPOINTS_OK = 0.99
MAX_KEYPOINT_PX = 0.05
MAX_SCORE_DIFF = 1e-4
MAX_IOU_DIFF = 0.001


CASES = golden2_cases(SHARED_DIR)


@pytest.fixture(scope="module")
def load_bodypix(weights_dir: Path) -> Callable[[dict[str, Any], str], bodypix.BodyPix]:
    """A cached ``bodypix.load`` of a case's model from the shared mirror of the official layout."""
    cache: dict[tuple[str, int, str], bodypix.BodyPix] = {}

    def get(case: dict[str, Any], engine: str) -> bodypix.BodyPix:
        key = (case["weights"], case["output_stride"], engine)
        if key not in cache:
            net = bodypix.load(
                case["multiplier"],
                output_stride=case["output_stride"],
                quant_bytes=case["quant_bytes"],
                model_url=weights_dir,
                engine=engine,
            )
            assert Path(net.model_source) == weights_dir / case["weights"]
            assert net.quant_bytes == case["quant_bytes"] and net.multiplier == case["multiplier"]
            cache[key] = net
        return cache[key]

    return get


def _resolution(value: str) -> str | float:
    return value if value in ("low", "medium", "high", "full") else float(value)


def _unflip(array: np.ndarray, flip: bool) -> np.ndarray:
    return array[..., ::-1] if flip else array


def _pose_arrays(poses: list[bodypix.Pose], width: int, flip: bool) -> tuple[np.ndarray, np.ndarray]:
    """(n, 17, 3) [y, x, score] (mirrored back when flipped) and (n,) scores."""
    keypoints = np.array([p.to_array() for p in poses], dtype=np.float64).reshape(-1, 17, 3)
    if flip:
        keypoints[:, :, 1] = width - 1 - keypoints[:, :, 1]
    return keypoints, np.array([p.score for p in poses], dtype=np.float64)


def _check_poses(
    what: str, poses: list[bodypix.Pose], expected: Any, prefix: str, width: int, flip: bool
) -> tuple[float, float]:
    """Same count; the share of keypoints within the bars (asserted) and the worst distance."""
    keypoints, scores = _pose_arrays(poses, width, flip)
    golden = expected[f"{prefix}_poses"].astype(np.float64)
    golden_scores = expected[f"{prefix}_pose_scores"].astype(np.float64)
    assert keypoints.shape == golden.shape, f"{what}: {len(keypoints)} poses, BodyPix 2.2.1 has {len(golden)}"
    if not len(golden):
        return 1.0, 0.0
    distance = np.hypot(keypoints[..., 0] - golden[..., 0], keypoints[..., 1] - golden[..., 1])
    ok = (distance <= MAX_KEYPOINT_PX) & (np.abs(keypoints[..., 2] - golden[..., 2]) <= MAX_SCORE_DIFF)
    share = float(ok.mean())
    assert share >= MIN_KEYPOINTS_OK, f"{what}: only {share:.2%} of keypoints agree (worst {distance.max():.4g} px)"
    worst_score = float(np.abs(scores - golden_scores).max())
    assert worst_score <= MAX_SCORE_DIFF, f"{what}: pose scores differ by up to {worst_score:.3g}"
    return share, float(distance.max())


def _ground_truth(data_dir: Path, case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(person, valid) boolean maps of a case's ground truth (data/PROVENANCE.md encodings)."""
    image = PIL.Image.open(data_dir / case["gt"])
    encoding = case["gt_encoding"]
    if encoding == "alpha":
        person = np.asarray(image.convert("RGBA"))[:, :, 3] >= 128
        return person, np.ones_like(person)
    values = np.asarray(image)
    if values.ndim == 3:
        values = values[:, :, 0]
    if encoding == "voc":
        return values == 15, values != 255
    if encoding == "binary255":
        return values >= 128, np.ones(values.shape, bool)
    if encoding == "parsing":
        return values > 0, np.ones(values.shape, bool)
    raise AssertionError(f"unknown gt_encoding {encoding!r}")


def _iou(mask: np.ndarray, person: np.ndarray, valid: np.ndarray) -> float:
    ours = mask == 1
    union = ((ours | person) & valid).sum()
    return float(((ours & person) & valid).sum() / union) if union else 1.0


@pytest.mark.golden
@pytest.mark.weights
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
@pytest.mark.parametrize("engine", ["tflite", "tf"])
def test_golden2_case(
    engine: str,
    case: dict[str, Any],
    golden2_dir: Path,
    data_dir: Path,
    load_bodypix: Callable[[dict[str, Any], str], bodypix.BodyPix],
    record_agreement: Callable[[str, str, float], None],
) -> None:
    expected = np.load(golden2_dir / case["golden"])
    net = load_bodypix(case, engine)
    image: Any = expected["input_rgb"] if case["input_in_npz"] else data_dir / case["image"]
    flip = bool(case["flip_horizontal"])
    options: dict[str, Any] = dict(
        flip_horizontal=flip,
        internal_resolution=_resolution(str(case["internal_resolution"])),
        segmentation_threshold=case["segmentation_threshold"],
        max_detections=case["max_detections"],
        score_threshold=case["score_threshold"],
        nms_radius=case["nms_radius"],
    )
    multi = dict(options, min_keypoint_score=case["min_keypoint_score"], refine_steps=case["refine_steps"])
    height, width = case["image_hw"]
    cid = case["id"]

    person = net.segment_person(image, **options)
    assert (person.height, person.width) == (height, width)
    assert person.mask.dtype == np.uint8 and person.probability.dtype == np.float32
    mask_agreement = float(np.mean(_unflip(person.mask, flip) == expected["mask"]))
    record_agreement(f"bodypix mask ({engine})", cid, mask_agreement)
    assert mask_agreement >= MIN_AGREEMENT, f"mask agreement {mask_agreement:.6%}"
    share, worst = _check_poses("segment_person", person.all_poses, expected, "person", width, flip)
    record_agreement(f"bodypix keypoints ({engine})", cid, share)
    record_agreement(f"bodypix keypoints: 1 - worst distance in px ({engine})", cid, 1.0 - worst)

    parts = net.segment_person_parts(image, **options)
    assert parts.parts.dtype == np.int32
    part_agreement = float(np.mean(_unflip(parts.parts, flip) == expected["parts"]))
    record_agreement(f"bodypix parts ({engine})", cid, part_agreement)
    assert part_agreement >= MIN_AGREEMENT, f"part agreement {part_agreement:.6%}"
    _check_poses("segment_person_parts", parts.all_poses, expected, "parts", width, flip)

    people = net.segment_multi_person(image, **multi)
    assert len(people) == len(expected["multi_masks"]), f"{len(people)} people, BodyPix 2.2.1 finds {case['n_people']}"
    for p, one in enumerate(people):
        agreement = float(np.mean(_unflip(one.mask, flip) == expected["multi_masks"][p]))
        record_agreement(f"bodypix multi-person masks ({engine})", f"{cid}[{p}]", agreement)
        assert agreement >= MIN_PERSON_AGREEMENT, f"person {p}: mask agreement {agreement:.6%}"
    _check_poses("segment_multi_person", [one.pose for one in people], expected, "multi", width, flip)

    people_parts = net.segment_multi_person_parts(image, **multi)
    assert len(people_parts) == len(expected["multi_parts"])
    for p, one in enumerate(people_parts):
        agreement = float(np.mean(_unflip(one.parts, flip) == expected["multi_parts"][p]))
        record_agreement(f"bodypix multi-person parts ({engine})", f"{cid}[{p}]", agreement)
        assert agreement >= MIN_PERSON_AGREEMENT, f"person {p}: part agreement {agreement:.6%}"
    _check_poses("segment_multi_person_parts", [one.pose for one in people_parts], expected, "multi_parts", width, flip)

    if case.get("gt"):
        truth, valid = _ground_truth(data_dir, case)
        assert truth.shape == (height, width)
        ours, theirs = _iou(_unflip(person.mask, flip), truth, valid), _iou(expected["mask"], truth, valid)
        record_agreement(f"bodypix person IoU, 1 - |ours - BodyPix 2.2.1| ({engine})", cid, 1.0 - abs(ours - theirs))
        assert abs(ours - theirs) <= MAX_IOU_DIFF, f"IoU {ours:.5f}, BodyPix 2.2.1's {theirs:.5f}"


@pytest.mark.golden
@pytest.mark.weights
def test_tf_tensor_and_pil_inputs(
    data_dir: Path, load_bodypix: Callable[[dict[str, Any], str], bodypix.BodyPix]
) -> None:
    """A ``tf.Tensor`` (int32, as the golden harness passed it) and a ``PIL.Image`` give the
    results of the file itself."""
    tf = pytest.importorskip("tensorflow")
    case = next(c for c in CASES if c.get("model") == "float-050" and not c["input_in_npz"])
    net = load_bodypix(case, "tf")
    path = data_dir / case["image"]
    pixels = np.asarray(PIL.Image.open(path).convert("RGB"))
    expected = net.segment_multi_person_parts(path)
    for image in (tf.constant(pixels.astype(np.int32)), PIL.Image.open(path)):
        people = net.segment_multi_person_parts(image)
        assert len(people) == len(expected)
        for a, b in zip(people, expected):
            np.testing.assert_array_equal(a.parts, b.parts)
            assert a.pose == b.pose


@pytest.mark.weights
def test_official_layout_over_http_is_downloaded_once_and_cached(
    weights_dir: Path, tmp_path: Path, local_http_server: Callable[..., Any]
) -> None:
    """``model_url`` as an http base mirroring the official layout: the model JSON and its
    shard are fetched once into ``cache_dir``; a second load reads the cache only."""
    server = local_http_server(weights_dir)
    base = server.url.rstrip("/") + "/"
    first = bodypix.load(0.5, quant_bytes=1, model_url=base, engine="tflite", cache_dir=tmp_path)
    assert first.model_source == base + "bodypix/mobilenet/quant1/050/model-stride16.json"
    fetched = list(server.requests)
    assert sorted(p.rsplit("/", 1)[-1] for p in fetched) == ["group1-shard1of1.bin", "model-stride16.json"]
    second = bodypix.load(0.5, quant_bytes=1, model_url=base, engine="tflite", cache_dir=tmp_path)
    assert list(server.requests) == fetched
    image = np.full((64, 48, 3), 100, np.uint8)
    np.testing.assert_array_equal(first.segment_person(image).probability, second.segment_person(image).probability)


@pytest.mark.weights
def test_1x_weights_are_refused(weights_dir: Path) -> None:
    folder = next(weights_dir.glob("posenet_mobilenet_050_partmap"), None)
    assert folder is not None, f"no 1.x weights under {weights_dir}"
    with pytest.raises(ValueError, match="2.x"):
        bodypix.load(0.5, model_url=folder / "weights_manifest.json")


@pytest.mark.weights
def test_weights_environment_variable_is_the_mirror(
    weights_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``model_url``, a model other than the bundled one is read where
    ``$PERSON_SEGMENTATION_WEIGHTS`` says (a local mirror of the official layout: offline); the
    bundled model is used whatever it says; a location without the file says where it looked."""
    monkeypatch.setenv("PERSON_SEGMENTATION_WEIGHTS", str(weights_dir))
    net = bodypix.load(0.5, quant_bytes=1, engine="tflite")
    assert net.model_source == str(weights_dir / "bodypix/mobilenet/quant1/050/model-stride16.json")
    reference = bodypix.load(0.5, quant_bytes=1, engine="tflite", model_url=str(weights_dir))
    image = np.full((64, 48, 3), 100, np.uint8)
    np.testing.assert_array_equal(net.segment_person(image).probability, reference.segment_person(image).probability)
    assert bodypix.load().model_source == bodypix.load(model_url=str(ps.bundled_model())).model_source
    monkeypatch.setenv("PERSON_SEGMENTATION_WEIGHTS", str(tmp_path))
    with pytest.raises(ps.WeightsError, match=r"PERSON_SEGMENTATION_WEIGHTS"):
        bodypix.load(0.5, quant_bytes=1, engine="tflite")
    folder = next(weights_dir.glob("posenet_mobilenet_050_partmap"))
    monkeypatch.setenv("PERSON_SEGMENTATION_WEIGHTS", str(folder / "weights_manifest.json"))
    with pytest.raises(ValueError, match=r"\$PERSON_SEGMENTATION_WEIGHTS must name BodyPix 2"):
        bodypix.load(0.5)
