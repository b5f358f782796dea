"""Person mask at 640 x 480 against MediaPipe selfie segmentation, on the same frames.

Goal: the 0.25 net at output stride 16 within 2x of MediaPipe (``mediapipe==0.10.21``, the
last release that bundles the selfie models). MediaPipe cannot share this environment (it
needs numpy<2 and protobuf<5), so it runs in a persistent worker process in its own virtual
environment (``mediapipe_env.py``, ``mediapipe_worker.py``) and its benchmarks time a round
trip per frame; ``ipc-noop`` times the bare round trip, to be subtracted. Without MediaPipe
the MediaPipe benchmarks skip, saying why; ours still runs.

Every benchmark cycles through the same frames, sent to the worker once, untimed: the
640 x 480 frame of the other benchmarks, then :data:`OTHER_PHOTOS` made the same way.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageOps
from pytest_benchmark.fixture import BenchmarkFixture

import person_segmentation as ps

# The helpers beside this file: pytest's importlib import mode does not put bench/ on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from mediapipe_env import MediaPipeEnvError, mediapipe_python
from mediapipe_worker import MODELS, MediaPipeWorker, WorkerError

GROUP = "vs-mediapipe mask 640x480"
NET_ID = "x0.25-1.x"
STRIDE = 16
#: More photos (under ``<shared>``) besides the conftest frame, centre-cropped and resized alike.
OTHER_PHOTOS = (
    "data/davis2016_person/images/breakdance-flare_00032.jpg",
    "data/davis2016_person/images/rollerblade_00016.jpg",
    "data/coco2017_person_samples/images/000000006894.jpg",
)
#: Fixed rounds, a multiple of the frame count so every frame weighs the same.
ROUNDS = 200
#: Untimed rounds first, one per frame: they trace the network and create MediaPipe's graph.
WARMUP_ROUNDS = 4

Setup = Callable[[], tuple[tuple[Any, ...], dict[str, Any]]]


@pytest.fixture(scope="session")
def frames(frame: np.ndarray, shared_dir: Path) -> np.ndarray:
    """The frames, stacked: uint8 RGB (n, 480, 640, 3), read-only."""
    size = (frame.shape[1], frame.shape[0])
    others = [
        np.asarray(ImageOps.fit(Image.open(shared_dir / photo).convert("RGB"), size, Image.Resampling.BILINEAR))
        for photo in OTHER_PHOTOS
    ]
    stacked = np.stack([frame, *others])
    stacked.flags.writeable = False
    return stacked


@pytest.fixture(scope="session")
def mediapipe(frames: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaPipeWorker]:
    """The worker, frames loaded; creates ``bench/.mediapipe-venv`` on first use (about a minute)."""
    try:
        worker = MediaPipeWorker(mediapipe_python(), tmp_path_factory.mktemp("mediapipe") / "worker.log")
    except (MediaPipeEnvError, WorkerError, OSError) as error:
        pytest.skip(
            f"MediaPipe is not available, so the comparison with it is skipped: {error}\n"
            "To set it up, run `python bench/mediapipe_env.py` (see bench/README.md, section on MediaPipe)."
        )
    try:
        worker.load(frames)
        yield worker
    finally:
        worker.close()


def _cycle(frame_args: Callable[[int], tuple[Any, ...]], count: int) -> Setup:
    """A pedantic ``setup``: the arguments for frame 0, 1, ..., count - 1, 0, ... (untimed)."""
    indices = itertools.cycle(range(count))
    return lambda: (frame_args(next(indices)), {})


def _label(benchmark: BenchmarkFixture, impl: str, frames: np.ndarray) -> None:
    benchmark.group = GROUP
    benchmark.extra_info.update(stage="vs-mediapipe", impl=impl, case=f"mask 640x480, {len(frames)} frames")


@pytest.mark.parametrize("net_id", [NET_ID], ids=[f"{NET_ID}-os{STRIDE}"])
def test_person_segmentation(
    benchmark: BenchmarkFixture, load_net: Callable[..., ps.PersonSegmentation], net_id: str, frames: np.ndarray
) -> None:
    net = load_net(net_id)
    _label(benchmark, f"person-segmentation x0.25 os{STRIDE}", frames)
    mask: np.ndarray = benchmark.pedantic(
        net.estimate_person_segmentation,
        setup=_cycle(lambda i: (frames[i], False, STRIDE), len(frames)),
        rounds=ROUNDS,
        warmup_rounds=WARMUP_ROUNDS,
    )
    assert mask.shape == frames.shape[1:3]
    fractions = [np.count_nonzero(net.estimate_person_segmentation(f, False, STRIDE)) / f[..., 0].size for f in frames]
    benchmark.extra_info["person_fraction"] = [round(fraction, 3) for fraction in fractions]


@pytest.mark.parametrize("model", MODELS, ids=lambda model: f"selfie-{MODELS[model]}")
def test_mediapipe(benchmark: BenchmarkFixture, mediapipe: MediaPipeWorker, model: int, frames: np.ndarray) -> None:
    _label(benchmark, f"mediapipe-selfie-{MODELS[model]}", frames)
    benchmark.extra_info["mediapipe"] = mediapipe.version
    result: dict[str, Any] = benchmark.pedantic(
        mediapipe.run, setup=_cycle(lambda i: (i, model), len(frames)), rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS
    )
    assert result["shape"] == list(frames.shape[1:3])
    # Untimed: MediaPipe really segmented the frames (a person in each), for the record.
    fractions = [mediapipe.run(i, model)["person_pixels"] / frames[i, ..., 0].size for i in range(len(frames))]
    benchmark.extra_info["person_fraction"] = [round(fraction, 3) for fraction in fractions]
    assert min(fractions) > 0.01, f"MediaPipe found (almost) no person in a frame: {fractions}"


def test_ipc_noop(benchmark: BenchmarkFixture, mediapipe: MediaPipeWorker, frames: np.ndarray) -> None:
    _label(benchmark, "ipc-noop", frames)
    benchmark.pedantic(mediapipe.noop, rounds=ROUNDS, warmup_rounds=WARMUP_ROUNDS)
