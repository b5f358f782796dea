"""The bundled model (README, "Weights"): the official files, their licence, the shipped
LiteRT conversion (same logits as a fresh conversion) and a start without TensorFlow."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from person_segmentation import _engine_tflite, _weights
from person_segmentation._constants import BUNDLED_STRIDES

FOLDER = Path(_weights.__file__).resolve().parent / "models" / _weights.BUNDLED_RELATIVE
SHARD = f"{_weights.BUNDLED_RELATIVE}/group1-shard1of1.bin"


def test_the_shard_is_googles_file() -> None:
    digest = hashlib.sha256((FOLDER / "group1-shard1of1.bin").read_bytes()).hexdigest()
    assert digest == _weights.OFFICIAL_SHA256[SHARD]


@pytest.mark.weights
@pytest.mark.parametrize("name", ["group1-shard1of1.bin", "model-stride16.json", "model-stride8.json"])
def test_the_files_are_byte_identical_to_the_shared_copies(name: str, weights_dir: Path) -> None:
    assert (FOLDER / name).read_bytes() == (weights_dir / _weights.BUNDLED_RELATIVE / name).read_bytes()


def test_only_the_bundled_model_and_its_notice_are_in_models() -> None:
    models = FOLDER.parents[3]
    found = sorted(str(p.relative_to(models)) for p in models.rglob("*") if p.is_file())
    prefix = _weights.BUNDLED_RELATIVE
    assert found == sorted(
        ["NOTICE"]
        + [f"{prefix}/{n}" for n in ("group1-shard1of1.bin", "model-stride16.json", "model-stride8.json")]
        + [f"{prefix}/heads.tflite.gz", f"{prefix}/heads.tflite.json"]
    )
    notice = (models / "NOTICE").read_text()
    assert "Apache License, Version 2.0" in notice and "Google" in notice and _weights.OFFICIAL_SHA256[SHARD] in notice


@pytest.mark.parametrize("stride", BUNDLED_STRIDES)
def test_bundled_model_paths(stride: int) -> None:
    path = _weights.bundled_model(stride)
    assert path == FOLDER / f"model-stride{stride}.json" and path.is_file()
    assert _weights.bundled_model() == FOLDER / "model-stride16.json"


@pytest.mark.parametrize(("stride", "error"), [(32, ValueError), (4, ValueError), ("16", TypeError), (True, TypeError)])
def test_bundled_model_bad_stride(stride: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="output_stride"):
        _weights.bundled_model(stride)  # type: ignore[arg-type]


def test_both_jsons_decode_to_the_same_weights_as_the_shipped_conversion_names() -> None:
    meta = json.loads((FOLDER / "heads.tflite.json").read_text())
    for stride in BUNDLED_STRIDES:
        loaded = _weights.load_weights(0.75, _weights.bundled_model(stride))
        assert loaded.format == "2.x" and loaded.multiplier == 0.75
        assert _engine_tflite.weights_digest(loaded.tensors, 0.75) == meta["weights_sha256"]
    assert meta["sha256"] == hashlib.sha256(_engine_tflite.read_shipped(FOLDER / "heads.tflite.gz")).hexdigest()
    assert meta["output_strides"] == list(BUNDLED_STRIDES)
    assert meta["conversion_version"] == _engine_tflite._HEADS_CONVERSION_VERSION


def test_the_shipped_conversion_gives_the_logits_of_a_fresh_one() -> None:
    """Regenerating with scripts/convert-bundled-model.py gives the same model: the same
    outputs at several sizes and both strides (and the same bytes with the same TensorFlow)."""
    from person_segmentation import _convert
    from person_segmentation._network import MobileNetV1, heads_signature

    loaded = _weights.load_weights(0.75, _weights.bundled_model())
    fresh = _convert.convert_heads(MobileNetV1(loaded.tensors, 0.75), BUNDLED_STRIDES)
    shipped = _engine_tflite.read_shipped(FOLDER / "heads.tflite.gz")
    meta = json.loads((FOLDER / "heads.tflite.json").read_text())
    if meta["tensorflow"] == _engine_tflite.tensorflow_version():
        assert fresh == shipped
    from ai_edge_litert.interpreter import Interpreter

    runners = [Interpreter(model_content=c, num_threads=1) for c in (shipped, fresh)]
    assert runners[0].get_signature_list() == runners[1].get_signature_list()
    rng = np.random.default_rng(0)
    for stride, symmetric in ((16, False), (8, False), (8, True)):
        for shape in ((1, 353, 257, 3), (1, 161, 249, 3), (1, 97, 65, 3)):
            x = rng.uniform(-1, 1, shape).astype(np.float32)
            a, b = (r.get_signature_runner(heads_signature(stride, symmetric))(model_input=x)["heads"] for r in runners)
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def test_a_missing_bundle_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_weights, "_MODELS_DIR", tmp_path)
    with pytest.raises(_weights.WeightsError, match="bundled model is missing"):
        _weights.bundled_model()


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}  # the package under test: installed, or PYTHONPATH as set
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=300)


def test_the_bundled_model_runs_without_tensorflow(tmp_path: Path) -> None:
    """Loading the bundled model, segmenting and the heads never import TensorFlow (an empty
    conversion cache: the shipped conversion is used), and print nothing on stderr."""
    code = """
import sys, numpy as np
import person_segmentation as ps
from person_segmentation import _weights
net = ps.load(0.75, weights=_weights.bundled_model(), engine="auto")
mask = net.estimate_person_segmentation(np.full((120, 90, 3), 128, np.uint8))
parts = net.estimate_part_segmentation(np.full((120, 90, 3), 128, np.uint8), output_stride=8)
heads = net._engine.heads(np.zeros((161, 129, 3), np.float32), 8)
assert net.engine == "tflite" and heads.shape == (21, 17, 174), (net.engine, heads.shape)
print(sorted(m for m in sys.modules if m == "tensorflow" or m.startswith("tensorflow.")))
"""
    result = _run_python(code, PERSON_SEGMENTATION_CACHE=str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert result.stderr == ""
    assert not (tmp_path / "cache").exists()  # nothing converted, nothing cached
