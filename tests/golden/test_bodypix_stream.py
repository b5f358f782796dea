"""``BodyPix.segment_stream``: the calls pipelined over many images equal the calls one by one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.weights

MODEL = "bodypix/mobilenet/quant2/075/model-stride16.json"
PHOTOS = (
    "coco2017_person_samples/images/000000009483.jpg",
    "voc2012_person/images/2010_004222.jpg",
    "voc2012_person/images/005304.jpg",
)


@pytest.fixture(scope="module")
def net(weights_dir: Path) -> Any:
    from person_segmentation import bodypix

    return bodypix.load(0.75, quant_bytes=2, model_url=str(weights_dir / MODEL))


def _arrays(result: Any) -> list[np.ndarray]:
    """Every array and pose of a result, to compare two results exactly."""
    items = result if isinstance(result, list) else [result]
    out = []
    for item in items:
        for name in ("mask", "parts"):
            if getattr(item, name, None) is not None:
                out.append(np.asarray(getattr(item, name)))
        poses = item.all_poses if hasattr(item, "all_poses") else [item.pose]
        out.extend(p.to_array() for p in poses)
    return out


@pytest.mark.parametrize(
    "call", ["segment_person", "segment_person_parts", "segment_multi_person", "segment_multi_person_parts"]
)
def test_stream_equals_the_calls(net: Any, data_dir: Path, call: str) -> None:
    files = [data_dir / p for p in PHOTOS] * 2
    streamed = list(net.segment_stream(files, call=call, workers=2, internal_resolution="low"))
    assert len(streamed) == len(files)
    for path, result in zip(files, streamed, strict=True):
        expected = getattr(net, call)(path, internal_resolution="low")
        got, want = _arrays(result), _arrays(expected)
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_stream_checks_at_the_call_and_raises_at_a_bad_image(net: Any, data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="call must be one of"):
        net.segment_stream([], call="segment_everyone")
    with pytest.raises(TypeError, match="refine_steps"):
        net.segment_stream([], call="segment_person", refine_steps=3)
    with pytest.raises(ValueError, match="max_detections"):
        net.segment_stream([], call="segment_multi_person", max_detections=0)
    with pytest.raises(TypeError, match="images must be an iterable"):
        net.segment_stream(str(data_dir / PHOTOS[0]))
    import tensorflow as tf

    with pytest.raises(TypeError, match="for one image use segment_person"):  # was iterated row by row
        net.segment_stream(tf.zeros((48, 64, 3), tf.uint8))
    with pytest.raises(ValueError, match="workers"):
        net.segment_stream([], workers=0)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    stream = net.segment_stream([data_dir / PHOTOS[0], broken, data_dir / PHOTOS[1]])
    assert next(stream).mask.shape == (480, 640)
    with pytest.raises(ValueError, match="cannot read image file"):
        next(stream)
