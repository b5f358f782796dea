"""Ray Data with BodyPix 2's calls (``Segmenter(call=...)``, ``segment_dataset(call=...)``).

Every row must equal the local ``bodypix`` call on the same image, exactly. The Segmenter is
also used in this process (it never imports Ray), as an actor uses it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from person_segmentation._image import read_image
from person_segmentation.ray_data import Segmenter, actor_pool, segment_dataset

ray = pytest.importorskip("ray", reason='needs the ray extra: pip install "person-segmentation[ray]"')

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")]

MODEL = "bodypix/mobilenet/quant2/075/model-stride16.json"
#: Two people, one person, nobody.
PHOTOS = (
    "coco2017_person_samples/images/000000009483.jpg",
    "voc2012_person/images/2010_004222.jpg",
    "voc2012_person/images/005304.jpg",
)
CALLS = ("segment_person", "segment_person_parts", "segment_multi_person", "segment_multi_person_parts")


def _poses(poses: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    keypoints = np.array([[(k.y, k.x, k.score) for k in p.keypoints] for p in poses]).reshape(-1, 17, 3)
    return keypoints, np.array([p.score for p in poses], dtype=np.float64)


def _local(net: Any, call: str, image: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a row must hold: (mask/parts array or stack, poses, pose scores)."""
    result = getattr(net, call)(image)
    parts = call.endswith("_parts")
    if "multi" in call:
        h, w = read_image(image).shape[:2] if isinstance(image, Path) else image.shape[:2]
        layers = [p.parts if parts else p.mask for p in result]
        stack = np.stack(layers) if layers else np.zeros((0, h, w), np.int32 if parts else np.uint8)
        return stack, *_poses([p.pose for p in result])
    return (result.parts if parts else result.mask), *_poses(result.all_poses)


@pytest.fixture(scope="module")
def model_url(weights_dir: Path) -> str:
    return str(weights_dir / MODEL)


@pytest.fixture(scope="module")
def bodypix_net(model_url: str) -> Any:
    from person_segmentation import bodypix

    return bodypix.load(0.75, quant_bytes=2, model_url=model_url)


@pytest.fixture(scope="module")
def files(data_dir: Path) -> list[Path]:
    return [data_dir / p for p in PHOTOS]


@pytest.mark.weights
@pytest.mark.parametrize("call", CALLS)
def test_segmenter_rows_equal_the_local_call(
    call: str, model_url: str, bodypix_net: Any, files: list[Path], tmp_path: Path
) -> None:
    segmenter = Segmenter(weights=model_url, call=call, error_column="error")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    items: list[object] = [str(files[0]), read_image(files[1]), files[2].read_bytes(), str(broken)]
    out = segmenter({"image": np.array(items, dtype=object)})
    column = {"segment_person": "mask", "segment_person_parts": "parts"}.get(
        call, "person_parts" if call.endswith("_parts") else "masks"
    )
    assert set(out) == {"image", "error", column, "poses", "poses_scores"}
    assert list(out["error"][:3]) == ["", "", ""] and "cannot read image file" in out["error"][3]
    for i, path in enumerate(files):
        expected, poses, scores = _local(bodypix_net, call, path)
        assert out[column][i].dtype == expected.dtype
        np.testing.assert_array_equal(out[column][i], expected, err_msg=f"{call} {path.name}")
        np.testing.assert_array_equal(out["poses"][i], poses)
        np.testing.assert_array_equal(out["poses_scores"][i], scores)
    assert out[column][3].size == 0 and out["poses"][3].shape == (0, 17, 3)
    if "multi" in call:
        assert len(out[column][0]) == 2  # the two people of the COCO photo
        assert out[column][2].shape[0] == 0 and out[column][2].shape[1:] == read_image(files[2]).shape[:2]


@pytest.mark.weights
def test_call_options_and_threshold_reach_the_call(model_url: str, bodypix_net: Any, files: list[Path]) -> None:
    options = {"max_detections": 1, "internal_resolution": "low"}
    segmenter = Segmenter(weights=model_url, call="segment_person", segmentation_threshold=0.3, call_options=options)
    out = segmenter({"image": [str(files[0])]})
    expected = bodypix_net.segment_person(files[0], segmentation_threshold=0.3, **options)
    np.testing.assert_array_equal(out["mask"][0], expected.mask)
    assert len(out["poses"][0]) == len(expected.all_poses) == 1


@pytest.mark.weights
@pytest.mark.weights
@pytest.mark.parametrize("call", CALLS[:2])
def test_single_person_calls_give_the_calls_probability(
    call: str, model_url: str, bodypix_net: Any, files: list[Path]
) -> None:
    segmenter = Segmenter(weights=model_url, call=call, probability=True, probability_column="soft")
    out = segmenter({"image": [str(f) for f in files]})
    assert set(out) == {"image", "mask" if call == "segment_person" else "parts", "poses", "poses_scores", "soft"}
    for got, f in zip(out["soft"], files, strict=True):
        expected = getattr(bodypix_net, call)(f)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected.probability, err_msg=f"{call} {f.name}")


@pytest.mark.parametrize("call", CALLS[2:])
def test_multi_person_calls_refuse_the_probability(call: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="probability must be False with call="):
        Segmenter(call=call, probability=True)
    with pytest.raises(ValueError, match="probability must be False with call="):
        segment_dataset(tmp_path, tmp_path / "out", call=call, format="npy", probability=True)


@pytest.mark.weights
def test_bad_call_options_fail_at_construction(model_url: str) -> None:
    with pytest.raises(ValueError, match="internal_resolution"):
        Segmenter(weights=model_url, call="segment_person", call_options={"internal_resolution": "huge"})


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"call": "segment_people"}, ValueError, "call must be one of"),
        ({"call": 3}, TypeError, "call must be one of"),
        ({"call": "segment_person", "call_options": ["x"]}, TypeError, "call_options must be None or a dict"),
        ({"call": "segment_person", "call_options": {"flip_horizontal": True}}, ValueError, "flip_horizontal"),
        ({"call": "segment_person", "quant_bytes": 3}, ValueError, "quant_bytes must be one of"),
        ({"call": "segment_person", "poses_column": ""}, ValueError, "poses_column"),
    ],
)
def test_segmenter_checks_its_call_arguments(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Segmenter(**kwargs)


def test_segment_dataset_multi_person_needs_npy(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="format must be 'npy'"):
        segment_dataset(tmp_path, tmp_path / "out", call="segment_multi_person")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.mark.weights
def test_map_batches_and_segment_dataset_with_a_multi_person_call(
    local_ray: Any, model_url: str, bodypix_net: Any, files: list[Path], tmp_path: Path
) -> None:
    rows = [{"name": str(f), "image": read_image(f)} for f in files]
    dataset = local_ray.data.from_items(rows).map_batches(
        Segmenter,
        fn_constructor_kwargs={"weights": model_url, "call": "segment_multi_person_parts"},
        compute=actor_pool(1),
        batch_size=2,
    )
    out = {str(row["name"]): row for row in dataset.take_all()}
    for f in files:
        expected, poses, _ = _local(bodypix_net, "segment_multi_person_parts", f)
        np.testing.assert_array_equal(out[str(f)]["person_parts"], expected, err_msg=f.name)
        np.testing.assert_array_equal(out[str(f)]["poses"], poses)

    photos = tmp_path / "photos"
    photos.mkdir()
    for f in files:
        (photos / f.name).write_bytes(f.read_bytes())
    result = segment_dataset(
        photos, tmp_path / "out", weights=model_url, call="segment_multi_person", format="npy", concurrency=1
    )
    assert result.count == 3 and not result.failed
    for source, output in zip(result.sources, result.outputs, strict=True):
        assert output.endswith(".masks.npy")
        expected, _, _ = _local(bodypix_net, "segment_multi_person", Path(source))
        np.testing.assert_array_equal(np.load(output), expected)
