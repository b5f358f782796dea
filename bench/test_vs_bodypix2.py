"""BodyPix 2's four calls against BodyPix 2.2.1 itself on tfjs-wasm (SIMD) in Node.

Goal (issue 13), on a 640 x 480 frame with two people, MobileNetV1 0.75 quant2, output stride 16,
``internal_resolution="medium"``: our ``segment_multi_person_parts`` >= 20x faster than BodyPix
2.2.1's ``segmentMultiPersonParts`` on tfjs-wasm and <= 1.5x our own ``segment_person_parts``;
``segment_person_parts`` >= 15x and ``segment_person`` >= 6x BodyPix 2.2.1's same call.

BodyPix 2.2.1 runs in ``bench/tfjs`` (``bench_bodypix2.js``; pinned npm packages, installed with
``npm ci`` on first use; weights served from ``<shared>/weights`` on 127.0.0.1, wasm binaries from
``node_modules``: nothing is fetched at run time but the npm packages). The harness times its calls
itself (warm-up, then repeats; ``process.hrtime``) and prints JSON; those medians are attached to
our rows as ``extra_info["bodypix2_wasm_ms"]`` with the speed-up, printed as a table at the end of
the module and checked by ``report.py``. Where Node or npm is missing (or ``npm ci`` cannot reach
the registry), the comparison is skipped saying so; our rows still run.

The ``stages`` group splits our calls on the same frame: pre-processing + network (the
model's ``_frame``), and each native decoder of ``_core`` on that frame's heads (computed once).
``bench/test_bodypix_decoders.py`` times the decoders on a golden case's stored heads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps
from pytest_benchmark.fixture import BenchmarkFixture

from .conftest import REPO_ROOT

GROUP = "vs-bodypix2 640x480 x0.75-quant2 os16 medium"
STAGE_GROUP = "vs-bodypix2 640x480 stages (ours)"
#: A 640 x 480 COCO photo with two people (used as is: it is already 640 x 480).
PHOTO = Path("data/coco2017_person_samples/images/000000009483.jpg")
FRAME_SIZE = (640, 480)
WEIGHTS = "bodypix/mobilenet/quant2/075/model-stride16.json"
TFJS_DIR = REPO_ROOT / "bench" / "tfjs"
HARNESS = TFJS_DIR / "bench_bodypix2.js"
#: Our fixed rounds and untimed first rounds (the first call at a new size builds the interpreter).
ROUNDS = 30
WARMUP_ROUNDS = 3
#: BodyPix 2.2.1's (inside the harness).
TFJS_REPEATS = 20
TFJS_WARMUP = 3
#: Our call -> BodyPix 2.2.1's name, with the issue's minimum speed-up (None: no target).
CALLS: dict[str, tuple[str, float | None]] = {
    "segment_person": ("segmentPerson", 6.0),
    "segment_person_parts": ("segmentPersonParts", 15.0),
    "segment_multi_person": ("segmentMultiPerson", None),
    "segment_multi_person_parts": ("segmentMultiPersonParts", 20.0),
}
STAGE_ROUNDS = 100

#: Filled by the tests, printed by the module fixture at the end: call -> row, stage -> median ms.
_TABLE: dict[str, dict[str, Any]] = {}
_STAGES: dict[str, float] = {}


@pytest.fixture(scope="module")
def bp_frame(shared_dir: Path) -> np.ndarray:
    """The photo as uint8 RGB (480, 640, 3), read-only."""
    photo = Image.open(shared_dir / PHOTO).convert("RGB")
    if photo.size != FRAME_SIZE:
        photo = ImageOps.fit(photo, FRAME_SIZE, Image.Resampling.BILINEAR)
    frame = np.ascontiguousarray(photo, dtype=np.uint8)
    frame.flags.writeable = False
    return frame


def _npm_ready() -> str | None:
    """Install bench/tfjs's pinned packages if needed; the reason it cannot, or None."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "Node.js and npm are needed for BodyPix 2.2.1 on tfjs-wasm (`node`/`npm` not on PATH)"
    installed = TFJS_DIR / "node_modules" / ".package-lock.json"
    lock = TFJS_DIR / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return None
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=TFJS_DIR, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        return f"`npm ci` in {TFJS_DIR} failed (no access to the npm registry?):\n{done.stderr[-2000:]}"
    return None


@pytest.fixture(scope="module")
def bodypix2_wasm(
    bp_frame: np.ndarray, weights_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any] | None:
    """BodyPix 2.2.1 on tfjs-wasm: the harness's JSON, or None where Node/npm cannot be had
    (``test_bodypix2_wasm`` then skips with the reason; our rows still run)."""
    if _npm_ready() is not None:
        return None
    rgb = tmp_path_factory.mktemp("bodypix2") / "frame.rgb"
    bp_frame.tofile(rgb)
    height, width = bp_frame.shape[:2]
    command = [
        "node",
        str(HARNESS),
        *("--weights", str(weights_dir), "--model", WEIGHTS, "--rgb", str(rgb)),
        *("--height", str(height), "--width", str(width), "--internal-resolution", "medium"),
        *("--warmup", str(TFJS_WARMUP), "--repeats", str(TFJS_REPEATS)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0:
        pytest.fail(f"the BodyPix 2.2.1 harness failed:\n{done.stderr[-4000:]}", pytrace=False)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def bodypix_net(weights_dir: Path) -> Any:
    """Our BodyPix 2 net: the package's defaults (the bundled 0.75 quant2 model) where the
    package bundles it, else the same official file from ``<shared>/weights``."""
    from person_segmentation import _weights, bodypix

    if hasattr(_weights, "bundled_model"):
        return bodypix.load()
    return bodypix.load(0.75, quant_bytes=2, model_url=str(weights_dir / WEIGHTS))


@pytest.fixture(scope="module", autouse=True)
def _print_table(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not _TABLE:
        return
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    write: Callable[[str], None] = (lambda line: reporter.write_line(line)) if reporter else print
    write("")
    write(f"BodyPix 2 calls, {FRAME_SIZE[0]}x{FRAME_SIZE[1]}, 0.75 quant2, stride 16, medium (medians):")
    for line in table_lines(_TABLE):
        write(line)
    if _STAGES:
        write("")
        write("Our stages on the same frame (medians, ms): " + ", ".join(f"{k} {v:.2f}" for k, v in _STAGES.items()))


def table_lines(table: dict[str, dict[str, Any]]) -> list[str]:
    """The side-by-side table as Markdown."""
    lines = ["| call | ours (ms) | BodyPix 2.2.1 tfjs-wasm (ms) | speed-up | target |", "|---|---:|---:|---:|---|"]
    for call, row in table.items():
        theirs = row.get("bodypix2_wasm_ms")
        speedup = row.get("speedup_vs_bodypix2_wasm")
        target = CALLS[call][1]
        goal = "" if target is None else f">= {target:g}x"
        if target is not None and speedup is not None:
            goal += " met" if speedup >= target else " NOT met"
        lines.append(
            f"| `{call}` | {row['ours_ms']:.1f} | {'n/a' if theirs is None else f'{theirs:.1f}'} "
            f"| {'n/a' if speedup is None else f'{speedup:.1f}x'} | {goal} |"
        )
    if "segment_multi_person_parts" in table and "segment_person_parts" in table:
        ratio = table["segment_multi_person_parts"]["ours_ms"] / table["segment_person_parts"]["ours_ms"]
        lines.append(
            f"\nours: segment_multi_person_parts / segment_person_parts = {ratio:.2f} "
            f"(target <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})"
        )
    return lines


def _found(call: str, result: Any) -> dict[str, Any]:
    """What a call found, in the harness's terms (for the record: both sides really segmented)."""
    if call == "segment_person":
        return {"mask_pixels": int(np.count_nonzero(result.mask)), "poses": len(result.all_poses)}
    if call == "segment_person_parts":
        return {"part_pixels": int(np.count_nonzero(result.parts >= 0)), "poses": len(result.all_poses)}
    if call == "segment_multi_person":
        return {"people": len(result), "mask_pixels": [int(np.count_nonzero(p.mask)) for p in result]}
    return {"people": len(result), "part_pixels": [int(np.count_nonzero(p.parts >= 0)) for p in result]}


@pytest.mark.parametrize("call", list(CALLS))
def test_ours(
    benchmark: BenchmarkFixture, bodypix_net: Any, bodypix2_wasm: dict[str, Any] | None, bp_frame: np.ndarray, call: str
) -> None:
    method = getattr(bodypix_net, call)
    benchmark.group = GROUP
    benchmark.extra_info.update(stage="vs-bodypix2", impl=f"person-segmentation {call}", case=call)
    result = benchmark.pedantic(method, args=(bp_frame,), rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS)
    found = _found(call, result)
    benchmark.extra_info["found"] = found
    benchmark.extra_info["engine"] = getattr(bodypix_net, "engine", None)
    row: dict[str, Any] = {"ours_ms": 1000.0 * benchmark.stats.stats.median, "found": found}
    if bodypix2_wasm is not None:
        theirs = bodypix2_wasm["calls"][CALLS[call][0]]
        row["bodypix2_wasm_ms"] = float(theirs["median_ms"])
        row["speedup_vs_bodypix2_wasm"] = row["bodypix2_wasm_ms"] / row["ours_ms"]
        benchmark.extra_info.update(
            bodypix2_wasm_ms=row["bodypix2_wasm_ms"],
            bodypix2_wasm_found=theirs["found"],
            speedup_vs_bodypix2_wasm=row["speedup_vs_bodypix2_wasm"],
            bodypix2_wasm_threads=bodypix2_wasm["threads"],
            bodypix2_wasm_simd=bodypix2_wasm["simd"],
        )
    _TABLE[call] = row


def test_bodypix2_wasm(bodypix2_wasm: dict[str, Any] | None) -> None:
    """Says why the comparison is missing (a skip with the reason) or what ran."""
    if bodypix2_wasm is None:
        pytest.skip(f"BodyPix 2.2.1 comparison skipped: {_npm_ready()}\nSee bench/README.md, 'Against BodyPix 2.2.1'.")
    assert bodypix2_wasm["backend"] == "wasm"
    assert bodypix2_wasm["versions"]["body-pix"] == "2.2.1"
    for name, _target in CALLS.values():
        assert bodypix2_wasm["calls"][name]["median_ms"] > 0


# -- the network and the decoders alone, on this frame ------------------------------------------
# (bench/test_bodypix_decoders.py times the decoders on a golden case's stored heads, also with
# one thread; these rows split our four calls on this frame into their stages.)
STAGES = ("network", "scale_back_mask", "scale_back_parts", "decode_poses", "decode_instances")


@pytest.fixture(scope="module")
def frame_stages(bodypix_net: Any, bp_frame: np.ndarray) -> dict[str, Callable[[], Any]]:
    """Each stage of the calls on the frame, as a function of nothing (its inputs computed
    once, untimed). Uses the model's private stages (``_frame``: pre-processing and network),
    as only a benchmark may."""
    from person_segmentation import _core

    fraction = 0.5  # internal_resolution "medium"
    frame = bodypix_net._frame(bp_frame, fraction)
    heads, geometry, stride = frame.heads, frame.geometry, bodypix_net.output_stride
    mask, _, _ = _core.bodypix_scale_back(heads, threshold=0.7, **geometry)
    keypoints, scores = _core.bodypix_decode_poses(
        heads, output_stride=stride, max_detections=10, score_threshold=0.4, nms_radius=20, **geometry
    )
    people = np.ascontiguousarray(keypoints[scores >= 0.4])
    return {
        "network": lambda: bodypix_net._frame(bp_frame, fraction),
        "scale_back_mask": lambda: _core.bodypix_scale_back(heads, threshold=0.7, **geometry),
        "scale_back_parts": lambda: _core.bodypix_scale_back(heads, threshold=0.7, parts=True, **geometry),
        "decode_poses": lambda: _core.bodypix_decode_poses(
            heads, output_stride=stride, max_detections=10, score_threshold=0.4, nms_radius=20, **geometry
        ),
        "decode_instances": lambda: _core.bodypix_decode_instances(
            heads, mask, people, output_stride=stride, refine_steps=10, **geometry
        ),
    }


@pytest.mark.parametrize("stage", STAGES)
def test_stage(benchmark: BenchmarkFixture, frame_stages: dict[str, Callable[[], Any]], stage: str) -> None:
    benchmark.group = STAGE_GROUP
    benchmark.extra_info.update(stage="vs-bodypix2-stages", impl=f"native {stage}", case=stage)
    benchmark.extra_info["threads"] = os.cpu_count()
    benchmark.pedantic(frame_stages[stage], rounds=ROUNDS if stage == "network" else STAGE_ROUNDS, warmup_rounds=3)
    _STAGES[stage] = 1000.0 * benchmark.stats.stats.median
