"""Weights loading: formats, the meanings of a location, validation, download and cache.

Real weights come from the shared folder (read only); anything written goes to ``tmp_path``.
HTTP tests serve folders from the shared local server (tests/_localhttp.py) on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from person_segmentation import _weights
from person_segmentation._weights import (
    MULTIPLIERS,
    OFFICIAL_BASE_URL,
    OFFICIAL_SHA256,
    PART_NAMES_1X,
    PART_NAMES_2X,
    LoadedWeights,
    WeightsError,
    default_cache_dir,
    load_weights,
)

from .._localhttp import FileHandler, LocalHTTPServer, ServerFactory

needs_weights = pytest.mark.weights

ONE_X = {"posenet_mobilenet_050_partmap": 0.5, "posenet_mobilenet_025_partmap": 0.25}
TWO_X = {
    f"bodypix/mobilenet/{kind}/{width}/model-stride{stride}.json": int(width) / 100
    for kind, width in [
        ("float", "050"),
        ("quant2", "050"),
        ("quant2", "075"),
        ("quant1", "050"),
        ("quant1", "075"),
        ("quant1", "100"),
    ]
    for stride in (8, 16)
}
MANIFEST = "weights_manifest.json"
SHARD_050 = "posenet_mobilenet_050_partmap/group1-shard1of1"
P = "MobilenetV1/"
PART_W, PART_B = P + "part_heatmap_2/weights", P + "part_heatmap_2/Conv2D_bias"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No weights/cache setting leaks in from the environment; no proxy for 127.0.0.1."""
    for name in ("PERSON_SEGMENTATION_WEIGHTS", "PERSON_SEGMENTATION_CACHE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


# --------------------------------------------------------------------------------------------
# Independent decoders and file helpers


def decode_by_hand(manifest_path: Path) -> dict[str, np.ndarray]:
    """Decode a 1.x manifest or a 2.x model JSON without the module (no part remap)."""
    document = json.loads(manifest_path.read_text())
    groups = document if isinstance(document, list) else document["weightsManifest"]
    out: dict[str, np.ndarray] = {}
    for group in groups:
        data = b"".join((manifest_path.parent / p).read_bytes() for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            count = math.prod(entry["shape"])
            quant = entry.get("quantization")
            stored = np.dtype({"uint8": "u1", "uint16": "<u2"}[quant["dtype"]] if quant else "<f4")
            raw = np.frombuffer(data, stored, count, offset)
            offset += count * stored.itemsize
            if quant:
                raw = (raw.astype(np.float64) * quant["scale"] + quant["min"]).astype(np.float32)
            out[entry["name"]] = raw.reshape(entry["shape"])
        assert offset == len(data)
    return out


def copy_dir(src: Path, dst: Path) -> Path:
    """Copy a folder's files (not their read-only modes) so the copy can be damaged."""
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        if item.is_file():
            shutil.copyfile(item, dst / item.name)
    return dst


def edit_manifest(folder: Path, edit: Any) -> None:
    path = folder / MANIFEST
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def entry_offset(folder: Path, name: str) -> int:
    """Byte offset of a float32 tensor in a single-group 1.x folder."""
    offset = 0
    for entry in json.loads((folder / MANIFEST).read_text())[0]["weights"]:
        if entry["name"] == name:
            return offset
        offset += 4 * math.prod(entry["shape"])
    raise KeyError(name)


def assert_same_tensors(a: LoadedWeights, b: LoadedWeights) -> None:
    assert a.tensors.keys() == b.tensors.keys()
    for name, value in a.tensors.items():
        np.testing.assert_array_equal(value, b.tensors[name], err_msg=name)


def assert_well_formed(loaded: LoadedWeights, fmt: str, multiplier: float) -> None:
    assert loaded.format == fmt
    assert loaded.multiplier == multiplier
    for name, value in loaded.tensors.items():
        assert value.dtype == np.float32, name
        assert value.flags.c_contiguous, name
    assert loaded.tensors[PART_W].shape[-1] == 24
    assert loaded.tensors[P + "segment_2/weights"].shape[-1] == 1


# --------------------------------------------------------------------------------------------
# The local HTTP server (tests/_localhttp.py), stopped and restarted on the same port, and two faults


class _Handler(FileHandler):
    """Faults: "drop" (declare the full length, send half, hang up), "short" (declare and
    send 1000 bytes too few) or "long" (no Content-Length; the file, then 50 MB of zeros)."""

    def fault(self, path: str, fault: str) -> None:
        data = (self.local.root / path.lstrip("/")).read_bytes()
        if fault == "long":
            self.send_response(200)
            self.end_headers()
            self.close_connection = True
            self.write_endless(path, head=data, block=bytes(65536), limit=len(data) + (50 << 20))
            return
        sent = len(data) // 2 if fault == "drop" else len(data) - 1000
        declared = len(data) if fault == "drop" else sent
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        self.write_body(data[:sent])
        self.close_connection = True


@pytest.fixture
def server(local_http_server: ServerFactory, weights_dir: Path) -> LocalHTTPServer:
    return local_http_server(weights_dir, _Handler)


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("network access attempted")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urllib.request, "urlopen", _refuse)
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", _refuse)  # what the loader calls


def cached(cache: Path, srv: LocalHTTPServer, relative: str) -> Path:
    return cache / f"127.0.0.1_{srv.port}" / relative


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------------------------
# Constants and argument checks


def test_part_orders_name_the_same_parts() -> None:
    assert len(PART_NAMES_1X) == len(set(PART_NAMES_1X)) == 24
    assert sorted(PART_NAMES_1X) == sorted(PART_NAMES_2X)
    assert PART_NAMES_1X[12] == PART_NAMES_2X[12] == "torso_front"
    assert PART_NAMES_1X[23] == PART_NAMES_2X[10] == "left_hand"
    assert MULTIPLIERS == (1.0, 0.75, 0.5, 0.25)
    assert OFFICIAL_BASE_URL == "https://storage.googleapis.com/tfjs-models/savedmodel/"


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (0.3, ValueError),
        (2, ValueError),
        (0.0, ValueError),
        (0.7500000001, ValueError),
        (float("nan"), ValueError),
        ("0.5", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_multiplier_must_be_allowed(bad: object, error: type[Exception]) -> None:
    """The loader and ``ps.load`` share one multiplier rule (and one message)."""
    with pytest.raises(error, match=r"multiplier must be one of \(1\.0, 0\.75, 0\.5, 0\.25\), got") as info:
        load_weights(bad, "/nonexistent")  # type: ignore[arg-type]
    assert not isinstance(info.value, WeightsError)


def test_weights_argument_type() -> None:
    with pytest.raises(TypeError, match="weights must be"):
        load_weights(0.5, 42)  # type: ignore[arg-type]
    with pytest.raises(WeightsError, match="empty"):
        load_weights(0.5, "")
    with pytest.raises(WeightsError, match="unsupported URL scheme 'ftp'"):
        load_weights(0.5, "ftp://127.0.0.1/weights/")


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "person-segmentation"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "person-segmentation"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "person-segmentation"
    monkeypatch.setenv("PERSON_SEGMENTATION_CACHE", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"


def test_cache_path_is_sanitised(tmp_path: Path) -> None:
    path = _weights._cache_path(tmp_path, "https://Example.org:8443/a%20b/c:d/./model.json?x=1")
    assert path == tmp_path / "example.org_8443" / "a_b" / "c_d" / "model.json"
    for url in ("http://127.0.0.1/a/../b.json", "http://127.0.0.1/a/%2e%2e/b.json"):
        with pytest.raises(WeightsError, match=r"'\.\.'"):
            _weights._cache_path(tmp_path, url)


# --------------------------------------------------------------------------------------------
# Real weights, local


@needs_weights
@pytest.mark.parametrize(("folder", "multiplier"), ONE_X.items())
def test_1x_loads_through_every_meaning(weights_dir: Path, folder: str, multiplier: float) -> None:
    manifest = weights_dir / folder / MANIFEST
    reference = load_weights(multiplier, weights_dir)  # (a) base folder
    assert_well_formed(reference, "1.x", multiplier)
    assert len(reference.tensors) == 62
    assert reference.source == str(manifest)
    for location in (
        str(weights_dir),  # (a) as a string
        weights_dir / folder,  # (b) model folder
        manifest,  # (b) its manifest
        weights_dir.as_uri(),  # file:// (a)
        (weights_dir / folder).as_uri() + "/",  # file:// (b)
        manifest.as_uri(),  # file:// (b) manifest
    ):
        loaded = load_weights(multiplier, location)
        assert (loaded.format, loaded.multiplier) == ("1.x", multiplier)
        assert_same_tensors(loaded, reference)


@needs_weights
def test_1x_050_equals_a_manual_decode(weights_dir: Path) -> None:
    folder = weights_dir / "posenet_mobilenet_050_partmap"
    expected = decode_by_hand(folder / MANIFEST)
    loaded = load_weights(0.5, folder)
    assert loaded.tensors.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(loaded.tensors[name], value, err_msg=name)
    assert expected[P + "segment_2/Conv2D_bias"][0] == pytest.approx(-6.07, abs=0.01)


@needs_weights
@pytest.mark.parametrize(("relative", "multiplier"), TWO_X.items())
def test_2x_model_json_loads(weights_dir: Path, relative: str, multiplier: float) -> None:
    path = weights_dir / relative
    loaded = load_weights(multiplier, path)  # (c)
    assert_well_formed(loaded, "2.x", multiplier)
    assert loaded.source == str(path)
    assert_same_tensors(load_weights(multiplier, path.as_uri()), loaded)


@needs_weights
def test_2x_quantised_match_float(weights_dir: Path) -> None:
    base = weights_dir / "bodypix/mobilenet"
    reference = load_weights(0.5, base / "float/050/model-stride16.json")
    quant2 = load_weights(0.5, base / "quant2/050/model-stride16.json")
    quant1 = load_weights(0.5, base / "quant1/050/model-stride16.json")
    assert reference.tensors.keys() == quant2.tensors.keys() == quant1.tensors.keys()
    for name, value in reference.tensors.items():
        np.testing.assert_allclose(quant2.tensors[name], value, rtol=0, atol=1e-3, err_msg=name)
        np.testing.assert_allclose(quant1.tensors[name], value, rtol=0, atol=0.25, err_msg=name)


@needs_weights
def test_2x_dequantisation_and_part_remap(weights_dir: Path) -> None:
    for relative in ("float/050", "quant2/050", "quant1/100"):
        path = weights_dir / "bodypix/mobilenet" / relative / "model-stride16.json"
        raw = decode_by_hand(path)
        loaded = load_weights(TWO_X[f"bodypix/mobilenet/{relative}/model-stride16.json"], path)
        bias, weights = loaded.tensors[PART_B], loaded.tensors[PART_W]
        # torso_front is channel 12 in both orders; left_hand is 1.x 23 and 2.x 10.
        assert bias[12] == raw[PART_B][12]
        assert bias[23] == raw[PART_B][10]
        for i, name in enumerate(PART_NAMES_1X):
            j = PART_NAMES_2X.index(name)
            assert bias[i] == raw[PART_B][j], name
            np.testing.assert_array_equal(weights[..., i], raw[PART_W][..., j], err_msg=name)
        for name, value in raw.items():  # everything else is decoded as stored, not moved
            if name not in (PART_B, PART_W):
                np.testing.assert_array_equal(loaded.tensors[name], value, err_msg=name)


# --------------------------------------------------------------------------------------------
# Errors, local


@needs_weights
def test_multiplier_mismatch(weights_dir: Path) -> None:
    folder = weights_dir / "posenet_mobilenet_050_partmap"
    with pytest.raises(WeightsError, match=r"for multiplier 0\.5, but multiplier=0\.75 was"):
        load_weights(0.75, folder)
    model = weights_dir / "bodypix/mobilenet/quant1/100/model-stride8.json"
    with pytest.raises(WeightsError, match=r"quant1/100/model-stride8\.json are for multiplier 1\.0"):
        load_weights(0.5, model)


@needs_weights
def test_missing_locations(weights_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    with pytest.raises(WeightsError, match=r"no weights for multiplier 0\.75.*075_partmap.*quant1/075/model-stride16"):
        load_weights(0.75, tmp_path / "base")
    with pytest.raises(WeightsError, match=r"nowhere does not exist"):
        load_weights(0.5, tmp_path / "nowhere")
    empty = tmp_path / "posenet_mobilenet_050_partmap"
    empty.mkdir()
    with pytest.raises(WeightsError, match=r"050_partmap/weights_manifest\.json does not exist"):
        load_weights(0.5, empty)
    with pytest.raises(WeightsError, match=r"tensorflowjs_model\.pb is not a weights location"):
        load_weights(0.5, weights_dir / "posenet_mobilenet_050_partmap/tensorflowjs_model.pb")


@needs_weights
def test_missing_shard(weights_dir: Path, tmp_path: Path) -> None:
    folder = copy_dir(weights_dir / "posenet_mobilenet_050_partmap", tmp_path / "m")
    (folder / "group1-shard1of1").unlink()
    with pytest.raises(WeightsError, match=r"missing weight shard .*m/group1-shard1of1"):
        load_weights(0.5, folder)


@needs_weights
@pytest.mark.parametrize(("change", "message"), [(-100, "truncated"), (+8, "too large")])
def test_wrong_size_shard(weights_dir: Path, tmp_path: Path, change: int, message: str) -> None:
    folder = copy_dir(weights_dir / "posenet_mobilenet_050_partmap", tmp_path / "m")
    shard = folder / "group1-shard1of1"
    size = shard.stat().st_size
    with shard.open("r+b") as stream:
        stream.truncate(size + change)
    pattern = rf"m/group1-shard1of1\) is {message}: expected {size} bytes, found {size + change}"
    with pytest.raises(WeightsError, match=pattern):
        load_weights(0.5, folder)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'[{"paths": ["group1-shard1of1"], "weights": [', "is not valid JSON"),
        (b"\xff\xfe garbage", "is not valid JSON"),
        (b'{"format": "graph-model"}', "neither a 1.x weights manifest"),
        (b'[{"paths": [], "weights": []}]', "group 1 has no valid 'paths'"),
        (b'[{"paths": ["../../etc/x"], "weights": []}]', "must be relative"),
        (
            b'[{"paths": ["s"], "weights": [{"name": "a", "shape": [-1], "dtype": "float32"}]}]',
            "'a' has an invalid shape",
        ),
        (
            b'[{"paths": ["s"], "weights": [{"name": "a", "shape": [1], "dtype": "string"}]}]',
            "'a' has unsupported dtype 'string'",
        ),
    ],
    ids=["cut-json", "not-utf8", "no-manifest", "no-paths", "escaping-path", "bad-shape", "dtype"],
)
def test_corrupt_manifest(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / MANIFEST).write_bytes(content)
    pattern = re.escape(f"{tmp_path / MANIFEST}") + ".*" + re.escape(message)
    with pytest.raises(WeightsError, match=pattern):
        load_weights(0.5, tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "is not a weights manifest: its JSON is nested too deeply to parse"),
        (b'{"weightsManifest": [' + b"[" * 100_000, "is not a weights manifest: its JSON is nested too deeply"),
        (b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, "is not a weights manifest: its JSON is nested too deeply"),
        (b"[" + b"9" * 5000 + b"]", "is not valid JSON (Exceeds the limit"),
        (
            b'[{"paths": ["s"], "weights": [{"name": "a", "shape": [1], "dtype": "float32", '
            b'"quantization": {"dtype": "uint8", "min": 1' + b"0" * 400 + b', "scale": 1}}]}]',
            "'a' needs finite quantization 'min' and 'scale', got min=1000",
        ),
        (
            b'[{"paths": ["s"], "weights": [{"name": "a", "shape": [' + b"1, " * 40 + b'1], "dtype": "float32"}]}]',
            "'a' has an invalid shape [1, 1, 1",
        ),
        (
            b'[{"paths": ["s"], "weights": [{"name": "a", "shape": [1099511627776], "dtype": "float32"}]}]',
            "describes 4398046511104 bytes of weights, more than the 268435456 bytes any MobileNetV1 model needs",
        ),
        (
            json.dumps([{"paths": [f"s{i}" for i in range(1025)], "weights": []}]).encode(),
            "lists 1025 shard files, more than the 1024 a model may have",
        ),
        (b"[]" + b" " * (4 << 20), "is larger than 4194304 bytes, the most a weights manifest may be"),
    ],
    ids=[
        "nested-100000",
        "nested-unclosed",
        "nested-objects",
        "5000-digits",
        "huge-int-min",
        "rank-41",
        "4-TB",
        "1025-shards",
        "over-4-MiB",
    ],
)
def test_every_manifest_parse_failure_is_a_weights_error(tmp_path: Path, content: bytes, message: str) -> None:
    """Parse failures that used to escape as RecursionError (nesting), ValueError (a 5000-digit
    integer), OverflowError (an integer quantization min too large for a float) or a numpy
    error later (rank 41), or that asked for terabytes, are WeightsErrors naming the file."""
    (tmp_path / MANIFEST).write_bytes(content)
    with pytest.raises(WeightsError) as info:
        load_weights(0.5, tmp_path)
    assert str(info.value).startswith(str(tmp_path / MANIFEST))
    assert message in str(info.value)


@needs_weights
def test_a_rank_too_high_for_numpy_is_refused_when_parsed(weights_dir: Path, tmp_path: Path) -> None:
    """An extra tensor of rank 100 (with its 4 bytes in the shard) used to pass the checks and
    fail in numpy's reshape with a plain ValueError not naming the file."""
    folder = copy_dir(weights_dir / "posenet_mobilenet_050_partmap", tmp_path / "m")
    edit_manifest(folder, lambda d: d[0]["weights"].append({"name": "deep", "shape": [1] * 100, "dtype": "float32"}))
    with (folder / "group1-shard1of1").open("ab") as stream:
        stream.write(b"\0\0\0\0")
    with pytest.raises(WeightsError, match=re.escape(f"{folder / MANIFEST}: tensor 'deep' has an invalid shape")):
        load_weights(0.5, folder)


@needs_weights
def test_a_dequantisation_out_of_float32_range_is_refused(weights_dir: Path, tmp_path: Path) -> None:
    """A quantisation scale of 1e308 overflowed float32 with a RuntimeWarning (an error under
    warnings-as-errors) before the NaN/inf check; now only the WeightsError is left."""
    source = weights_dir / "bodypix/mobilenet/quant2/050"
    model = tmp_path / "model-stride16.json"
    document = json.loads((source / "model-stride16.json").read_text())
    quantised = next(e for e in document["weightsManifest"][0]["weights"] if "quantization" in e)
    quantised["quantization"]["scale"] = 1e308
    model.write_text(json.dumps(document))
    for path in document["weightsManifest"][0]["paths"]:
        shutil.copyfile(source / path, tmp_path / path)
    with pytest.raises(WeightsError, match=rf"tensor {re.escape(repr(quantised['name']))} holds NaN or infinite"):
        load_weights(0.5, model)


@needs_weights
def test_overlong_names_are_weights_errors(weights_dir: Path, tmp_path: Path) -> None:
    """A shard path or a location too long for the file system raised OSError (ENAMETOOLONG
    from ``is_file``/``exists``, which swallow only "not found" errors)."""
    folder = copy_dir(weights_dir / "posenet_mobilenet_050_partmap", tmp_path / "m")
    edit_manifest(folder, lambda d: d[0].update(paths=["x" * 10_000]))
    with pytest.raises(WeightsError, match=r"cannot read weight shard .*/m/xxxx.*File name too long"):
        load_weights(0.5, folder)
    with pytest.raises(WeightsError, match=r"cannot use the weights location .*/yyyy.*File name too long"):
        load_weights(0.5, tmp_path / ("y" * 10_000))


@needs_weights
def test_a_huge_local_shard_is_refused_unread(weights_dir: Path, tmp_path: Path) -> None:
    """A shard grown to 256 MB (sparse) used to be read whole before its size was compared;
    now its size is compared first and nothing of it is read."""
    import tracemalloc

    folder = copy_dir(weights_dir / "posenet_mobilenet_050_partmap", tmp_path / "m")
    shard = folder / "group1-shard1of1"
    size = shard.stat().st_size
    with shard.open("r+b") as stream:
        stream.truncate(256 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(WeightsError, match=rf"is too large: expected {size} bytes, found {256 << 20}"):
            load_weights(0.5, folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, f"peak of Python allocations: {peak / 1e6:.1f} MB"


@needs_weights
def test_missing_tensor(weights_dir: Path, tmp_path: Path) -> None:
    folder = copy_dir(weights_dir / "posenet_mobilenet_050_partmap", tmp_path / "m")

    def rename(document: Any) -> None:
        for entry in document[0]["weights"]:
            if entry["name"] == P + "segment_2/Conv2D_bias":
                entry["name"] = P + "segment_2/renamed"

    edit_manifest(folder, rename)
    pattern = r"m/weights_manifest\.json: required tensor 'MobilenetV1/segment_2/Conv2D_bias'"
    with pytest.raises(WeightsError, match=pattern):
        load_weights(0.5, folder)


@needs_weights
def test_inconsistent_shapes(weights_dir: Path, tmp_path: Path) -> None:
    folder = copy_dir(weights_dir / "posenet_mobilenet_050_partmap", tmp_path / "m")

    def transpose_part_head(document: Any) -> None:  # same byte count, wrong layout
        for entry in document[0]["weights"]:
            if entry["name"] == PART_W:
                entry["shape"] = [1, 1, 24, 256]

    edit_manifest(folder, transpose_part_head)
    pattern = re.escape(f"'{PART_W}' has shape [1, 1, 24, 256], expected [1, 1, 256, 24]")
    with pytest.raises(WeightsError, match=pattern):
        load_weights(0.5, folder)


@needs_weights
def test_non_finite_values(weights_dir: Path, tmp_path: Path) -> None:
    folder = copy_dir(weights_dir / "posenet_mobilenet_050_partmap", tmp_path / "m")
    with (folder / "group1-shard1of1").open("r+b") as stream:
        stream.seek(entry_offset(folder, P + "Conv2d_3_depthwise/depthwise_bias") + 4 * 5)
        stream.write(np.array([np.nan], dtype="<f4").tobytes())
    pattern = r"m/group1-shard1of1: tensor 'MobilenetV1/Conv2d_3_depthwise/depthwise_bias' holds NaN"
    with pytest.raises(WeightsError, match=pattern):
        load_weights(0.5, folder)


# --------------------------------------------------------------------------------------------
# Synthetic files: several shards, several groups, int32 / uint8 / uint16 / float16 entries


def split_into_shards(data: bytes, folder: Path, stem: str, size: int) -> list[str]:
    names = []
    for i, start in enumerate(range(0, len(data), size)):
        names.append(f"{stem}-shard{i + 1}")
        (folder / names[-1]).write_bytes(data[start : start + size])
    return names


@needs_weights
def test_1x_multi_shard_group_with_int32_entry(weights_dir: Path, tmp_path: Path) -> None:
    source = weights_dir / "posenet_mobilenet_025_partmap"
    reference = load_weights(0.25, source)
    entries = json.loads((source / MANIFEST).read_text())[0]["weights"]
    data = (source / "group1-shard1of1").read_bytes()
    extra = np.arange(7, dtype="<i4").tobytes()  # an int32 tensor, spliced in after the first
    first = 4 * math.prod(entries[0]["shape"])
    data = data[:first] + extra + data[first:]
    entries.insert(1, {"name": "step", "shape": [7], "dtype": "int32"})
    folder = tmp_path / "posenet_mobilenet_025_partmap"
    folder.mkdir()
    paths = split_into_shards(data, folder, "group1", 100_001)  # odd size: unaligned splits
    assert len(paths) > 3
    (folder / MANIFEST).write_text(json.dumps([{"paths": paths, "weights": entries}]))
    loaded = load_weights(0.25, tmp_path)
    assert "step" not in loaded.tensors
    assert_same_tensors(loaded, reference)


def quantise(values: np.ndarray, kind: str) -> tuple[bytes, dict[str, Any], np.ndarray]:
    """Encode like the TF.js converter; return (bytes, quantization entry, expected decode)."""
    if kind == "float16":
        half = values.astype("<f2")
        return half.tobytes(), {"dtype": "float16"}, half.astype(np.float32)
    dtype = np.dtype("u1" if kind == "uint8" else "<u2")
    low, high = float(values.min()), float(values.max())
    scale = (high - low) / np.iinfo(dtype).max or 1.0
    q = np.round((values.astype(np.float64) - low) / scale).astype(dtype)
    expected = (q.astype(np.float64) * scale + low).astype(np.float32)
    return q.tobytes(), {"dtype": kind, "min": low, "scale": scale}, expected


def write_synthetic_2x(weights_dir: Path, folder: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """A 2.x model JSON (two groups, several shards each, mixed quantization) built from the
    0.25 1.x tensors; returns it and the tensors the loader must produce (parts remapped)."""
    tensors = load_weights(0.25, weights_dir).tensors
    names = sorted(tensors)
    kinds = ("float32", "uint8", "uint16", "float16")
    expected: dict[str, np.ndarray] = {}
    groups = []
    folder.mkdir(parents=True)
    for g, members in enumerate((names[: len(names) // 2], names[len(names) // 2 :]), 1):
        chunks, entries = [], []
        for i, name in enumerate(members):
            value = tensors[name]
            entry: dict[str, Any] = {"name": name, "shape": list(value.shape), "dtype": "float32"}
            kind = kinds[i % len(kinds)]
            if kind == "float32":
                chunks.append(value.astype("<f4").tobytes())
                expected[name] = value
            else:
                data, entry["quantization"], expected[name] = quantise(value, kind)
                chunks.append(data)
            entries.append(entry)
            if i == 2:
                chunks.append(np.array([1, 2], dtype="<i4").tobytes())
                entries.append({"name": f"int{g}", "shape": [2], "dtype": "int32"})
        paths = split_into_shards(b"".join(chunks), folder, f"group{g}", 65_537)
        groups.append({"paths": paths, "weights": entries})
    model = folder / "model.json"
    model.write_text(json.dumps({"format": "graph-model", "weightsManifest": groups}))
    order = [PART_NAMES_2X.index(name) for name in PART_NAMES_1X]
    expected[PART_W] = expected[PART_W][..., order]
    expected[PART_B] = expected[PART_B][order]
    return model, expected


@needs_weights
def test_2x_synthetic_groups_shards_and_quantisations(weights_dir: Path, tmp_path: Path) -> None:
    model, expected = write_synthetic_2x(weights_dir, tmp_path / "model")
    loaded = load_weights(0.25, model)
    assert loaded.format == "2.x"
    assert loaded.tensors.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(loaded.tensors[name], value, err_msg=name)


# --------------------------------------------------------------------------------------------
# HTTP: download, cache, offline use, damaged cache and damaged transfers


@needs_weights
def test_http_base_and_model_json_then_offline(
    server: LocalHTTPServer, weights_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    json_url = server.url + "bodypix/mobilenet/float/050/model-stride16.json"
    by_base = load_weights(0.5, server.url, cache_dir=cache)  # (a)
    by_folder = load_weights(0.5, server.url + "posenet_mobilenet_050_partmap", cache_dir=cache)
    by_json = load_weights(0.5, json_url, cache_dir=cache)  # (c)
    assert by_base.source == server.url + "posenet_mobilenet_050_partmap/weights_manifest.json"
    assert by_json.source == json_url
    assert_same_tensors(by_base, load_weights(0.5, weights_dir))
    assert_same_tensors(by_folder, by_base)
    assert_same_tensors(by_json, load_weights(0.5, weights_dir / json_url[len(server.url) :]))
    shard = cached(cache, server, SHARD_050)
    assert shard.read_bytes() == (weights_dir / SHARD_050).read_bytes()
    assert cached(cache, server, "bodypix/mobilenet/float/050/group1-shard1of1.bin").is_file()
    assert server.requests.count("/" + SHARD_050) == 1  # the second load used the cache

    server.stop()
    monkeypatch.setattr(urllib.request, "urlopen", _refuse)
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", _refuse)
    assert_same_tensors(load_weights(0.5, server.url, cache_dir=cache), by_base)
    assert_same_tensors(load_weights(0.5, json_url, cache_dir=cache), by_json)


@needs_weights
def test_http_damaged_cache_is_refetched(server: LocalHTTPServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    reference = load_weights(0.5, server.url, cache_dir=cache)
    shard = cached(cache, server, SHARD_050)
    manifest = cached(cache, server, f"posenet_mobilenet_050_partmap/{MANIFEST}")
    size = shard.stat().st_size
    with shard.open("r+b") as stream:
        stream.truncate(size // 3)

    server.stop()  # offline: the damaged file is dropped and the failure names the URL
    with pytest.raises(WeightsError, match=re.escape(f"could not download weight shard from {server.url}")):
        load_weights(0.5, server.url, cache_dir=cache)
    assert not shard.exists()
    assert leftovers(shard.parent) == [MANIFEST]

    server.start()  # same port, so the same cache folder
    manifest.write_bytes(b"[{ truncated")
    assert_same_tensors(load_weights(0.5, server.url, cache_dir=cache), reference)
    assert shard.stat().st_size == size
    assert json.loads(manifest.read_text())[0]["paths"] == ["group1-shard1of1"]
    assert server.requests.count("/" + SHARD_050) == 2


@needs_weights
def test_http_pinned_official_file(server: LocalHTTPServer, weights_dir: Path, tmp_path: Path) -> None:
    relative = "bodypix/mobilenet/quant2/075/group1-shard1of1.bin"
    data = (weights_dir / relative).read_bytes()
    assert hashlib.sha256(data).hexdigest() == OFFICIAL_SHA256[relative]
    cache = tmp_path / "cache"
    url = server.url + "bodypix/mobilenet/quant2/075/model-stride8.json"
    reference = load_weights(0.75, url, cache_dir=cache)
    shard = cached(cache, server, relative)
    assert shard.read_bytes() == data
    damaged = bytearray(data)
    damaged[1234] ^= 0xFF  # same size: only the pinned hash can tell
    shard.write_bytes(bytes(damaged))
    assert_same_tensors(load_weights(0.75, url, cache_dir=cache), reference)
    assert shard.read_bytes() == data
    assert server.requests.count("/" + relative) == 2


@needs_weights
def test_http_pin_mismatch_is_rejected(
    server: LocalHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relative = "posenet_mobilenet_025_partmap/group1-shard1of1"
    monkeypatch.setattr(_weights, "OFFICIAL_SHA256", {relative: "0" * 64})
    cache = tmp_path / "cache"
    with pytest.raises(WeightsError, match=re.escape(f"{server.url}{relative} fails its sha256 pin")):
        load_weights(0.25, server.url, cache_dir=cache)
    assert leftovers(cached(cache, server, relative).parent) == [MANIFEST]


@needs_weights
@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("drop", r"cut short or overran: received 1134872 bytes, Content-Length said 2269744"),
        ("short", r"wrong size \(truncated: expected 2269744 bytes, found 2268744\)"),
    ],
    ids=["connection-dropped", "content-length-too-small"],
)
def test_http_broken_transfer(server: LocalHTTPServer, tmp_path: Path, fault: str, message: str) -> None:
    server.faults["/" + SHARD_050] = fault
    cache = tmp_path / "cache"
    with pytest.raises(WeightsError, match=message):
        load_weights(0.5, server.url, cache_dir=cache)
    assert leftovers(cached(cache, server, SHARD_050).parent) == [MANIFEST]  # no partial file
    del server.faults["/" + SHARD_050]
    assert load_weights(0.5, server.url, cache_dir=cache).multiplier == 0.5


@needs_weights
def test_http_multi_shard_group_stops_at_the_group_size(
    local_http_server: ServerFactory, weights_dir: Path, tmp_path: Path
) -> None:
    """The first of several shards sent with 50 MB of zeros after it (no Content-Length) is
    read no further than the group's size + 1: the manifest fixes the group's total."""
    model, _ = write_synthetic_2x(weights_dir, tmp_path / "site" / "model")
    srv = local_http_server(tmp_path / "site", _Handler)
    srv.faults["/model/group1-shard1"] = "long"
    group1 = sum(
        (model.parent / p).stat().st_size for p in json.loads(model.read_text())["weightsManifest"][0]["paths"]
    )
    with pytest.raises(WeightsError) as info:
        load_weights(0.25, srv.url + "model/model.json", cache_dir=tmp_path / "cache")
    assert (
        f"weight shard {srv.url}model/group1-shard1 is too large (its group holds {group1} bytes, {group1} after "
        f"the shards before it; the server sent more, and reading stopped after {group1 + 1} bytes)"
    ) in str(info.value)
    srv.wait_done("model/group1-shard1")
    assert srv.sent.get("/model/group1-shard1", 0) < group1 + (32 << 20)
    assert leftovers(cached(tmp_path / "cache", srv, "model")) == ["model.json"]


@needs_weights
def test_http_errors_name_the_url(server: LocalHTTPServer, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    missing = server.url + "bodypix/mobilenet/float/075/model-stride16.json"  # 0.75: no 1.x, no float
    with pytest.raises(WeightsError, match=re.escape(f"from {missing}: HTTP 404")):
        load_weights(0.75, missing, cache_dir=cache)
    folder_url = server.url + "posenet_mobilenet_050_partmap/"
    with pytest.raises(WeightsError, match=r"050_partmap/weights_manifest\.json are for multiplier 0\.5"):
        load_weights(0.25, folder_url, cache_dir=cache)
    assert "/" + SHARD_050 not in server.requests  # refused before fetching any shard
    server.stop()
    with pytest.raises(WeightsError, match=re.escape(f"could not download weights manifest from {server.url}")):
        load_weights(0.25, server.url, cache_dir=cache)


@needs_weights
def test_http_multi_shard_groups(local_http_server: ServerFactory, weights_dir: Path, tmp_path: Path) -> None:
    model, expected = write_synthetic_2x(weights_dir, tmp_path / "site" / "model")
    srv = local_http_server(tmp_path / "site")
    cache = tmp_path / "cache"
    loaded = load_weights(0.25, srv.url + "model/model.json", cache_dir=cache)
    assert_same_tensors(loaded, LoadedWeights(expected, "2.x", 0.25, ""))
    shards = sorted(p.name for p in model.parent.iterdir() if "shard" in p.name)
    assert sorted(leftovers(cached(cache, srv, "model"))) == sorted([*shards, "model.json"])
    # one shard of a group is lost: the group is fetched again
    cached(cache, srv, "model/group2-shard2").unlink()
    assert_same_tensors(load_weights(0.25, srv.url + "model/model.json", cache_dir=cache), loaded)
    assert srv.requests.count("/model/group2-shard1") == 2
    assert srv.requests.count("/model/group1-shard1") == 1


# --------------------------------------------------------------------------------------------
# The PERSON_SEGMENTATION_WEIGHTS variable and the default location


@needs_weights
def test_env_var_is_honoured(
    server: LocalHTTPServer, weights_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERSON_SEGMENTATION_WEIGHTS", str(weights_dir))
    assert load_weights(0.25).source == str(weights_dir / "posenet_mobilenet_025_partmap" / MANIFEST)
    monkeypatch.setenv("PERSON_SEGMENTATION_WEIGHTS", server.url)
    monkeypatch.setenv("PERSON_SEGMENTATION_CACHE", str(tmp_path / "cache"))
    assert load_weights(0.25).source.startswith(server.url)
    assert cached(tmp_path / "cache", server, "posenet_mobilenet_025_partmap/group1-shard1of1").is_file()
    monkeypatch.setenv("PERSON_SEGMENTATION_WEIGHTS", str(tmp_path / "missing"))
    with pytest.raises(WeightsError, match=r"missing does not exist.*PERSON_SEGMENTATION_WEIGHTS"):
        load_weights(0.25)
    # an explicit location wins over the variable
    assert load_weights(0.5, weights_dir).multiplier == 0.5


@needs_weights
def test_default_is_the_official_base_url_and_its_cache(
    weights_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None
) -> None:
    """With nothing set, the official URL is used; a filled cache needs no network."""
    monkeypatch.setenv("PERSON_SEGMENTATION_WEIGHTS", "")
    monkeypatch.setenv("PERSON_SEGMENTATION_CACHE", str(tmp_path / "cache"))
    official = tmp_path / "cache" / "storage.googleapis.com" / "tfjs-models" / "savedmodel"
    copy_dir(weights_dir / "posenet_mobilenet_050_partmap", official / "posenet_mobilenet_050_partmap")
    loaded = load_weights(0.5)
    assert loaded.source == OFFICIAL_BASE_URL + "posenet_mobilenet_050_partmap/weights_manifest.json"
    assert_same_tensors(loaded, load_weights(0.5, weights_dir))


# --------------------------------------------------------------------------------------------
# Base mirrors are searched for 2.x models too; first-run errors (issue 12)


def _mirror(weights_dir: Path, root: Path, *relatives: str) -> Path:
    """A base folder holding only the named model folders of the shared mirror."""
    for relative in relatives:
        copy_dir(weights_dir / relative, root / relative)
    return root


def test_base_search_order() -> None:
    assert _weights.base_candidates(0.75) == (
        "posenet_mobilenet_075_partmap/weights_manifest.json",
        "bodypix/mobilenet/float/075/model-stride16.json",
        "bodypix/mobilenet/quant2/075/model-stride16.json",
        "bodypix/mobilenet/quant1/075/model-stride16.json",
    )


@needs_weights
def test_local_base_finds_2x_models_in_order(weights_dir: Path, tmp_path: Path) -> None:
    base = _mirror(weights_dir, tmp_path / "b", "bodypix/mobilenet/quant1/075", "bodypix/mobilenet/quant2/075")
    loaded = load_weights(0.75, base)
    assert loaded.format == "2.x" and loaded.source == str(base / "bodypix/mobilenet/quant2/075/model-stride16.json")
    _mirror(weights_dir, base, "posenet_mobilenet_050_partmap", "bodypix/mobilenet/float/050")
    assert load_weights(0.5, base).format == "1.x"  # the 1.x folder comes first
    assert load_weights(0.75, weights_dir).source.endswith("quant2/075/model-stride16.json")
    assert load_weights(1.0, weights_dir).source.endswith("quant1/100/model-stride16.json")


@needs_weights
def test_http_base_finds_2x_models_in_order(
    local_http_server: ServerFactory, weights_dir: Path, tmp_path: Path
) -> None:
    # (quant1: the shared mirror's quant2/075 JSON is not Google's file, which the sha256 pin refuses)
    srv = local_http_server(_mirror(weights_dir, tmp_path / "site", "bodypix/mobilenet/quant1/075"))
    cache = tmp_path / "cache"
    loaded = load_weights(0.75, srv.url, cache_dir=cache)
    assert loaded.source == srv.url + "bodypix/mobilenet/quant1/075/model-stride16.json"
    assert srv.requests[:3] == [
        "/posenet_mobilenet_075_partmap/weights_manifest.json",
        "/bodypix/mobilenet/float/075/model-stride16.json",
        "/bodypix/mobilenet/quant2/075/model-stride16.json",
    ]
    # the tries that were not there left no folders behind
    host = cache / f"127.0.0.1_{srv.port}"
    assert sorted(p.name for p in host.iterdir()) == ["bodypix"]
    assert sorted(p.name for p in (host / "bodypix" / "mobilenet").iterdir()) == ["quant1"]
    with pytest.raises(WeightsError, match=r"no weights for multiplier 0\.5 at this mirror.*tried, in order") as info:
        load_weights(0.5, srv.url, cache_dir=cache)
    for relative in _weights.base_candidates(0.5):
        assert srv.url + relative in str(info.value)


@needs_weights
def test_a_missing_shard_is_not_a_missing_model(
    local_http_server: ServerFactory, weights_dir: Path, tmp_path: Path
) -> None:
    site = _mirror(weights_dir, tmp_path / "site", "bodypix/mobilenet/float/050", "bodypix/mobilenet/quant1/050")
    (site / "bodypix/mobilenet/float/050/group1-shard1of1.bin").unlink()
    srv = local_http_server(site)
    with pytest.raises(WeightsError, match=r"float/050/group1-shard1of1\.bin: HTTP 404"):
        load_weights(0.5, srv.url, cache_dir=tmp_path / "cache")  # not quietly quant1 instead


def test_failed_download_says_how_to_do_without(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    url = "http://127.0.0.1:9/"  # the discard port: connection refused
    with pytest.raises(WeightsError) as info:
        load_weights(0.75, url, cache_dir=cache)
    message = str(info.value)
    assert "could not download weights manifest from http://127.0.0.1:9/posenet_mobilenet_075_partmap" in message
    for needed in ("--weights", "$PERSON_SEGMENTATION_WEIGHTS", "bundled_model()", "mirroring the official layout"):
        assert needed in message
    assert not any(p.is_dir() for p in cache.rglob("*")), sorted(cache.rglob("*"))  # no empty folder left


def test_failed_download_from_the_environment_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSON_SEGMENTATION_WEIGHTS", "http://127.0.0.1:9/mirror/")
    with pytest.raises(WeightsError, match=r"taken from \$PERSON_SEGMENTATION_WEIGHTS\); to work without"):
        load_weights(0.5, cache_dir=tmp_path / "cache")
