"""Mutated weights manifests: whatever a manifest holds, loading it gives the weights or a
``WeightsError`` naming the file, within bounded time and memory (issue 16, item 11).

Each case takes a real manifest (the 1.x 0.25 ``weights_manifest.json``, or a 2.x quantised
``model-stride16.json``), replaces one value somewhere in it by a hostile one (deep nesting,
integers too large for a float, NaN, ranks numpy cannot hold, shard paths leaving the folder,
terabyte shapes, wrong types), sometimes also damages the serialised bytes, and loads it beside
the real shards. Seeds are fixed, so a failure names its case and can be replayed with
:func:`mutated` alone.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from person_segmentation._weights import LoadedWeights, WeightsError, load_weights

pytestmark = pytest.mark.weights

CASES = 600  # per source; about 10 s in all. Larger runs: see docs/reliability.md
SOURCES = {
    "1x": ("posenet_mobilenet_025_partmap", "weights_manifest.json", 0.25),
    "2x": ("bodypix/mobilenet/quant2/050", "model-stride16.json", 0.5),
}

_NESTED = "[" * 50_000 + "]" * 50_000
_HOSTILE: list[Any] = [
    None,
    True,
    -1,
    0,
    2**64,
    10**400,
    1e308,
    float("nan"),
    float("inf"),
    -float("inf"),
    "",
    "x" * 10_000,
    [],
    {},
    [1] * 100,
    [1 << 40],
    [-3, 2],
    [[1]],
    {"dtype": "uint8"},
    {"dtype": "uint8", "min": float("nan"), "scale": 1},
    {"dtype": "uint16", "min": 0, "scale": 10**400},
    {"dtype": "float16"},
    {"dtype": "int4"},
    "../../etc/passwd",
    "/etc/passwd",
    "http://127.0.0.1:9/x",
    "C:\\x",
    "float32",
    "int32",
    "bool",
    "string",
    "__NESTED__",
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indices) to a value in the JSON document ``node``."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node[:40]):  # the first entries are enough
            found.extend(_paths(value, (*prefix, index)))
    return found


def mutated(document: Any, seed: int) -> bytes:
    """The serialised ``document`` with case ``seed``'s mutation."""
    rng = random.Random(seed)
    doc = json.loads(json.dumps(document))
    targets = _paths(doc)[1:]
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        path = rng.choice(targets)
        action = rng.random()
        try:
            parent = doc
            for step in path[:-1]:
                parent = parent[step]
            if action < 0.7:
                parent[path[-1]] = copy.deepcopy(rng.choice(_HOSTILE))
            elif action < 0.8 and isinstance(parent, dict):
                del parent[path[-1]]
            elif action < 0.9 and isinstance(parent, list):
                parent.append(parent[path[-1]])  # a duplicate entry
            else:
                parent[path[-1]] = {"name": "extra", "shape": copy.deepcopy(rng.choice(_HOSTILE)), "dtype": "float32"}
        except (KeyError, IndexError, TypeError):
            pass  # the path went away with an earlier mutation of this case
    text = json.dumps(doc, allow_nan=True).replace('"__NESTED__"', _NESTED).encode()
    damage = rng.random()
    if damage < 0.15:
        text = text[: rng.randrange(len(text))]
    elif damage < 0.3:
        at = rng.randrange(len(text))
        text = text[:at] + bytes([rng.randrange(256)]) + text[at + 1 :]
    elif damage < 0.35:
        text = text.replace(b"[", b"[" * 2000, 1)
    return text


@pytest.fixture(scope="module", params=sorted(SOURCES))
def source(request: pytest.FixtureRequest, weights_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(folder with a copy of the real shards, the manifest's name, its document, multiplier)."""
    relative, name, multiplier = SOURCES[request.param]
    original = weights_dir / relative
    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}") / Path(relative).name
    folder.mkdir()
    document = json.loads((original / name).read_text())
    groups = document if isinstance(document, list) else document["weightsManifest"]
    for group in groups:
        for path in group["paths"]:
            shutil.copyfile(original / path, folder / path)
    return request.param, folder, name, document, multiplier


def test_mutated_manifests_load_or_raise_weights_error(source: Any) -> None:
    label, folder, name, document, multiplier = source
    manifest = folder / name
    outcomes = {"loaded": 0, "refused": 0}
    slowest = 0.0
    for case in range(CASES):
        seed = 2 * case + (label == "2x")
        manifest.write_bytes(mutated(document, seed))
        began = time.perf_counter()
        try:
            result = load_weights(multiplier, manifest)
        except WeightsError as exc:
            assert str(folder) in str(exc), (seed, str(exc)[:300])  # names the manifest or a shard
            outcomes["refused"] += 1
        except Exception as exc:  # the contract: nothing but WeightsError
            pytest.fail(f"case {label}/{seed}: {type(exc).__name__}: {str(exc)[:300]}")
        else:
            assert isinstance(result, LoadedWeights)
            outcomes["loaded"] += 1
        slowest = max(slowest, time.perf_counter() - began)
    assert outcomes["refused"] > CASES // 2, outcomes  # the mutations do bite
    assert slowest < 10.0, f"slowest case took {slowest:.1f} s"
