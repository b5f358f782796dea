"""Ray Data scale-out (``person_segmentation.ray_data``) on a local Ray instance.

Everything written or returned through Ray must equal the local estimates on the same image
files, exactly. One local instance (2 CPUs) serves the whole module; each ``segment_dataset``
call starts its own actor, which loads the network (a few seconds each).
"""

from __future__ import annotations

import importlib
import logging
import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation import ray_data
from person_segmentation._image import read_image
from person_segmentation.ray_data import (
    CALLS_PER_ACTOR,
    Segmenter,
    SegmentResult,
    actor_pool,
    decode_image_bytes,
    segment_dataset,
)

ray = pytest.importorskip("ray", reason='needs the ray extra: pip install "person-segmentation[ray]"')
pyarrow_fs = pytest.importorskip("pyarrow.fs")

pytestmark = [
    pytest.mark.weights,
    # Ray Data 2.60's DataContext warns about its own deprecated defaults when it is made.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"),
]

MULTIPLIER = 0.5
PHOTOS = {  # where each photo goes in the test tree <- where it is in <shared>/data
    "voc/001408.jpg": "voc2012_person/images/001408.jpg",
    "voc/2008_000733.jpg": "voc2012_person/images/2008_000733.jpg",
    "coco/000000006894.jpg": "coco2017_person_samples/images/000000006894.jpg",
    "aisegment/same.jpg": "aisegment_matting_samples/images/1803151818-00000003.jpg",
    "lip/same.jpg": "lip_parsing/images/86_185913.jpg",  # the same stem, another folder
}


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    """A local Ray instance with 2 CPUs, shut down after the module."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def net(weights_dir: Path) -> ps.PersonSegmentation:
    return ps.load(MULTIPLIER, weights=weights_dir)


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A tree of real photos, one turned by an EXIF tag, one corrupt, and files to skip."""
    root = tmp_path_factory.mktemp("photos")
    for name, source in PHOTOS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / source, root / name)
    (root / "rotated").mkdir()
    with PIL.Image.open(data_dir / PHOTOS["voc/001408.jpg"]) as image:
        exif = PIL.Image.Exif()
        exif[0x0112] = 6  # Orientation: stored turned; the upright image is 90 degrees clockwise
        image.save(root / "rotated" / "turned.jpg", quality=95, exif=exif)
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / ".hidden").mkdir()
    shutil.copy(data_dir / PHOTOS["voc/001408.jpg"], root / ".hidden" / "skipped.jpg")
    (root / "notes.txt").write_text("not an image")
    return root


def _estimate(net: ps.PersonSegmentation, image: object, parts: bool) -> np.ndarray:
    return net.estimate_part_segmentation(image) if parts else net.estimate_person_segmentation(image)


def _read_output(path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    with PIL.Image.open(path) as image:
        return np.asarray(image)


def _encoded(expected: np.ndarray, parts: bool, fmt: str) -> np.ndarray:
    """What the file of format ``fmt`` holds for the local result ``expected``."""
    if fmt == "npy":
        return expected
    return np.where(expected < 0, 24, expected).astype(np.uint8) if parts else expected * 255


# -- segment_dataset -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "parts", "concurrency"),
    [("png", False, None), ("png", True, 1), ("npy", False, None), ("npy", True, (1, 2))],
)
def test_segment_dataset_writes_exactly_the_local_results(
    local_ray: Any,
    net: ps.PersonSegmentation,
    photos: Path,
    weights_dir: Path,
    tmp_path: Path,
    fmt: str,
    parts: bool,
    concurrency: int | tuple[int, int] | None,
) -> None:
    kind = "parts" if parts else "mask"
    sources: list[str | Path] = [photos, f"file://{photos / 'aisegment' / 'same.jpg'}", photos / "lip" / "same.jpg"]
    result = segment_dataset(
        sources,
        tmp_path / "out",
        multiplier=MULTIPLIER,
        weights=weights_dir,
        parts=parts,
        format=fmt,
        concurrency=concurrency,
    )

    assert isinstance(result, SegmentResult)
    relative = [Path(o).relative_to(tmp_path / "out").as_posix() for o in result.outputs]
    assert relative == [
        f"aisegment/same.{kind}.{fmt}",
        f"coco/000000006894.{kind}.{fmt}",
        f"lip/same.{kind}.{fmt}",
        f"rotated/turned.{kind}.{fmt}",
        f"voc/001408.{kind}.{fmt}",
        f"voc/2008_000733.{kind}.{fmt}",
        f"same.{kind}.{fmt}",  # the two file sources share a stem: both are kept
        f"same-2.{kind}.{fmt}",
    ]
    assert result.count == 8 and len(result.sources) == 8
    assert result.sources[-2] == f"file://{photos / 'aisegment' / 'same.jpg'}"
    assert [Path(s).name for s, _ in result.failed] == ["broken.jpg"]
    assert "cannot read image file" in result.failed[0][1]
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.*")) == sorted(
        relative
    )

    for source, output in zip(result.sources, result.outputs):
        local = photos / "aisegment" / "same.jpg" if source.startswith("file://") else Path(source)
        expected = _estimate(net, local, parts)
        written = _read_output(Path(output))
        assert written.dtype == _encoded(expected, parts, fmt).dtype, output
        np.testing.assert_array_equal(written, _encoded(expected, parts, fmt), err_msg=output)
    turned = _read_output(tmp_path / "out" / "rotated" / f"turned.{kind}.{fmt}")
    original = _read_output(tmp_path / "out" / "voc" / f"001408.{kind}.{fmt}")
    assert turned.shape == original.shape[::-1]  # the EXIF orientation was applied


# -- the callable class in map_batches -----------------------------------------------------------
def test_segmenter_in_map_batches_on_variable_size_images(
    local_ray: Any, net: ps.PersonSegmentation, photos: Path, weights_dir: Path
) -> None:
    files = [photos / name for name in PHOTOS] + [photos / "rotated" / "turned.jpg"]
    rows = [{"name": f.as_posix(), "image": read_image(f)} for f in files]
    dataset = local_ray.data.from_items(rows).map_batches(
        Segmenter,
        fn_constructor_kwargs={"multiplier": MULTIPLIER, "weights": weights_dir, "parts": True, "probability": True},
        compute=actor_pool(1),  # two calls at a time on the actor (the segmentation one at a time)
        batch_size=4,
    )
    out = {str(row["name"]): row for row in dataset.take_all()}
    assert sorted(out) == sorted(f.as_posix() for f in files)
    for f in files:
        row = out[f.as_posix()]
        assert set(row) == {"name", "image", "parts", "probability"}
        expected = net.estimate_part_segmentation(f)
        assert row["parts"].dtype == np.int32
        np.testing.assert_array_equal(row["parts"], expected, err_msg=str(f))
        assert row["probability"].dtype == np.float32
        np.testing.assert_array_equal(row["probability"], net.segment(f, parts=True).probability, err_msg=str(f))


@pytest.fixture(scope="module")
def segmenter(weights_dir: Path) -> Segmenter:
    """A Segmenter used in this process, as an actor would use it."""
    return Segmenter(MULTIPLIER, weights=weights_dir, image_column="data", mask_column="person", error_column="error")


def test_segmenter_takes_arrays_paths_bytes_lists_and_stacked_batches(
    segmenter: Segmenter, net: ps.PersonSegmentation, photos: Path
) -> None:
    turned = photos / "rotated" / "turned.jpg"
    voc = photos / "voc" / "001408.jpg"
    expected = [net.estimate_person_segmentation(turned), net.estimate_person_segmentation(voc)]
    for column in (
        [str(turned), str(voc)],  # paths
        [turned.read_bytes(), voc.read_bytes()],  # encoded files, e.g. from read_binary_files
        np.array([turned.read_bytes(), voc.read_bytes()], dtype=object),
        [read_image(turned), read_image(voc)],
    ):
        out = segmenter({"data": column, "id": np.arange(2)})
        assert set(out) == {"data", "id", "person", "error"}
        assert out["person"].dtype == object and out["person"].shape == (2,)
        assert list(out["error"]) == ["", ""]
        for got, want in zip(out["person"], expected):
            assert got.dtype == np.uint8
            np.testing.assert_array_equal(got, want)
    stacked = np.stack([read_image(voc)] * 3)  # what Ray gives for same-size images
    out = segmenter({"data": stacked})
    for got in out["person"]:
        np.testing.assert_array_equal(got, expected[1])


def test_segmenter_records_failures_in_the_error_column(segmenter: Segmenter, photos: Path) -> None:
    voc = photos / "voc" / "001408.jpg"
    batch = {
        "data": [
            b"not an image",
            voc.read_bytes(),
            str(photos / "missing.jpg"),
            voc.read_bytes(),
            np.zeros((2, 2, 2), np.uint8),
        ],
        "error": np.array(["", "", "", "read failed upstream", ""], dtype=object),
    }
    out = segmenter(batch)
    errors = list(out["error"])
    assert "cannot read image file" in errors[0]
    assert errors[1] == ""
    assert "not found" in errors[2]
    assert errors[3] == "read failed upstream"  # passed over, message kept
    assert "shape" in errors[4]
    assert out["person"][1].shape == (500, 333)
    for i in (0, 2, 3, 4):
        assert out["person"][i].shape == (0, 0) and out["person"][i].dtype == np.uint8


def test_the_probability_column_is_the_librarys_probability(
    weights_dir: Path, net: ps.PersonSegmentation, photos: Path
) -> None:
    segmenter = Segmenter(
        MULTIPLIER, weights=weights_dir, probability=True, segmentation_threshold=0.3, error_column="error"
    )
    files = [photos / "rotated" / "turned.jpg", photos / "coco" / "000000006894.jpg"]
    out = segmenter({"image": [str(files[0]), b"not an image", files[1].read_bytes()]})
    assert set(out) == {"image", "mask", "probability", "error"}
    assert out["probability"][1].shape == (0, 0) and out["probability"][1].dtype == np.float32
    for got, mask, f in zip(out["probability"][::2], out["mask"][::2], files):
        expected = net.segment(f, segmentation_threshold=0.3)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected.probability)
        np.testing.assert_array_equal(mask, net.estimate_person_segmentation(f, segmentation_threshold=0.3))
        np.testing.assert_array_equal((got > 0.3).astype(np.uint8), mask)  # one pass: mask = p > threshold


@pytest.mark.parametrize("fmt", ["npy", "png"])
def test_segment_dataset_writes_the_probability(
    local_ray: Any, net: ps.PersonSegmentation, photos: Path, weights_dir: Path, tmp_path: Path, fmt: str
) -> None:
    result = segment_dataset(
        photos / "voc", tmp_path, multiplier=MULTIPLIER, weights=weights_dir, format=fmt, probability=True
    )
    names = [Path(p).name for p in result.probabilities]
    assert names == [f"001408.probability.{fmt}", f"2008_000733.probability.{fmt}"]
    for source, output, written in zip(result.sources, result.outputs, result.probabilities, strict=True):
        expected = net.segment(source)
        np.testing.assert_array_equal(_read_output(Path(output)), _encoded(expected.mask, False, fmt))
        probability = _read_output(Path(written))
        if fmt == "npy":
            assert probability.dtype == np.float32
            np.testing.assert_array_equal(probability, expected.probability)
        else:
            assert probability.dtype == np.uint8
            np.testing.assert_array_equal(probability, np.rint(expected.probability * 255).astype(np.uint8))


def test_without_an_error_column_a_bad_image_raises(weights_dir: Path, segmenter: Segmenter) -> None:
    strict = Segmenter(MULTIPLIER, weights=weights_dir)
    with pytest.raises(ValueError, match="cannot read image file"):
        strict({"image": [b"not an image"]})
    with pytest.raises(KeyError, match="image_column"):
        strict({"pixels": [np.zeros((4, 4, 3), np.uint8)]})


def test_bytes_are_decoded_like_files(photos: Path) -> None:
    turned = photos / "rotated" / "turned.jpg"
    np.testing.assert_array_equal(decode_image_bytes(turned.read_bytes()), read_image(turned))


def test_non_local_filesystems_are_read_and_written_as_bytes(
    photos: Path, tmp_path: Path, weights_dir: Path, net: ps.PersonSegmentation
) -> None:
    """A filesystem that is not the local one (as s3:// or gs:// give) goes through bytes."""
    local = pyarrow_fs.LocalFileSystem()
    source = pyarrow_fs.SubTreeFileSystem(str(photos), local)
    target = pyarrow_fs.SubTreeFileSystem(str(tmp_path), local)
    worker = ray_data._FileSegmenter(
        filesystems=[source], output_filesystem=target, format="npy", multiplier=MULTIPLIER, weights=weights_dir
    )
    out = worker(
        {
            "index": np.array([7, 8]),
            "filesystem": np.array([0, 0]),
            "path": np.array(["rotated/turned.jpg", "broken.jpg"]),
            "target": np.array(["a.npy", "b.npy"]),
        }
    )
    assert list(out["index"]) == [7, 8]
    assert out["error"][0] == "" and "cannot read image file" in out["error"][1]
    np.testing.assert_array_equal(
        np.load(tmp_path / "a.npy"), net.estimate_person_segmentation(photos / "rotated" / "turned.jpg")
    )
    assert not (tmp_path / "b.npy").exists()


def test_asking_for_gpus_the_cluster_lacks_warns_before_waiting(local_ray: Any, photos: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # raised, so the job does not start (and wait)
        with pytest.raises(RuntimeWarning, match="the Ray cluster has 0 GPUs"):
            segment_dataset(photos, tmp_path, multiplier=MULTIPLIER, num_gpus_per_worker=1)


# -- arguments -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"format": "jpg"}, ValueError, "format must be one of"),
        ({"multiplier": 0.3}, ValueError, "multiplier must be one of"),
        ({"multiplier": True}, TypeError, "multiplier must be one of"),
        ({"engine": "onnx"}, ValueError, "engine must be one of"),
        ({"parts": 1}, TypeError, "parts must be a bool"),
        ({"flip_horizontal": "yes"}, TypeError, "flip_horizontal must be a bool"),
        ({"output_stride": 4}, ValueError, "output_stride must be one of"),
        ({"segmentation_threshold": 1.5}, ValueError, "segmentation_threshold must be"),
        ({"weights": 3}, TypeError, "weights must be None, a path or a URL"),
        ({"concurrency": 0}, ValueError, "concurrency must be"),
        ({"concurrency": (3, 2)}, ValueError, "concurrency must be"),
        ({"concurrency": (1, 2, 3)}, ValueError, "concurrency must be"),
        ({"num_cpus_per_worker": -1}, ValueError, "num_cpus_per_worker must be"),
        ({"num_gpus_per_worker": "1"}, TypeError, "num_gpus_per_worker must be"),
        ({"batch_size": 0}, ValueError, "batch_size must be"),
        ({"probability": 1}, TypeError, "probability must be a bool"),
    ],
)
def test_segment_dataset_checks_its_arguments(
    photos: Path, tmp_path: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        segment_dataset(photos, tmp_path, **kwargs)


def test_segment_dataset_checks_sources_and_output(photos: Path, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="sources must"):
        segment_dataset(42, tmp_path)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sources must hold paths or URIs"):
        segment_dataset([photos, 42], tmp_path)  # type: ignore[list-item]
    with pytest.raises(ValueError, match="sources must name at least one"):
        segment_dataset([], tmp_path)
    with pytest.raises(TypeError, match="output must be"):
        segment_dataset(photos, None)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        segment_dataset(photos / "missing.jpg", tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image files found"):
        segment_dataset(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(ValueError, match="output must be a directory"):
        segment_dataset(photos, photos / "notes.txt")
    with pytest.raises(ValueError, match="sources: cannot open"):
        segment_dataset("nosuchscheme://bucket/photos", tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"multiplier": 2.0}, ValueError, "multiplier must be one of"),
        ({"parts": "no"}, TypeError, "parts must be a bool"),
        ({"image_column": ""}, ValueError, "image_column must be a non-empty str"),
        ({"mask_column": 3}, TypeError, "mask_column must be"),
        ({"decode_threads": 0}, ValueError, "decode_threads must be"),
        ({"engine": "gpu"}, ValueError, "engine must be one of"),
        ({"probability": "yes"}, TypeError, "probability must be a bool"),
        ({"probability": True, "probability_column": ""}, ValueError, "probability_column must be a non-empty str"),
        ({"probability": True, "probability_column": "mask"}, ValueError, "probability_column must differ from"),
        ({"probability": True, "mask_column": "p", "probability_column": "p"}, ValueError, "must differ"),
    ],
)
def test_segmenter_checks_its_arguments(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Segmenter(**kwargs)


def test_actor_pool_overlaps_calls_where_ray_can(local_ray: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fixed, scaling = actor_pool(3), actor_pool(min_size=1, max_size=4)
    assert isinstance(fixed, local_ray.data.ActorPoolStrategy)
    assert (fixed.min_size, fixed.max_size) == (3, 3)
    assert (scaling.min_size, scaling.max_size) == (1, 4)
    assert fixed.max_concurrent_calls_per_actor == CALLS_PER_ACTOR == 2

    class OldStrategy:  # an ActorPoolStrategy from before max_concurrent_calls_per_actor
        def __init__(self, *, size: int | None = None, min_size: int | None = None, max_size: int | None = None):
            self.sizes = (size, min_size, max_size)

    monkeypatch.setattr(local_ray.data, "ActorPoolStrategy", OldStrategy)
    assert actor_pool(2).sizes == (2, None, None)


def test_without_ray_segment_dataset_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, photos: Path, tmp_path: Path
) -> None:
    for name in ("ray", "ray.data"):
        monkeypatch.setitem(sys.modules, name, None)  # "import ray" now raises ImportError
    monkeypatch.delitem(sys.modules, "person_segmentation.ray_data")
    module = importlib.import_module("person_segmentation.ray_data")  # importing needs no Ray
    with pytest.raises(ImportError, match=r'segment_dataset .*pip install "person-segmentation\[ray\]"'):
        module.segment_dataset(photos, tmp_path)
    with pytest.raises(ImportError, match=r'actor_pool .*pip install "person-segmentation\[ray\]"'):
        module.actor_pool(1)
