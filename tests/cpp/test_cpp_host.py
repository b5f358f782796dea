"""The C++ core as an installed CMake package, used by a C++ host (examples/cpp_host).

Once per module: configure, build and install the core with plain CMake into a temporary
prefix (PERSON_SEGMENTATION_CUDA left at its default AUTO, so with nvcc present this is the
CUDA-enabled package), then build examples/cpp_host against it with find_package. The host's
outputs must equal the Python package's post-processing of the same logits.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import person_segmentation as ps
from person_segmentation import _core

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST_SOURCE = REPO_ROOT / "examples" / "cpp_host"
PHOTO = "voc2012_person/images/001408.jpg"
BUILD_TIMEOUT = 1800  # seconds, per CMake step


@dataclass(frozen=True)
class Host:
    exe: Path
    prefix: Path
    cuda_configured: bool  # what the core's configure step reported (AUTO resolved)
    build_seconds: float


def _cxx_compiler() -> str | None:
    cxx = os.environ.get("CXX")
    if cxx:
        return shutil.which(cxx.split()[0])
    return next((p for p in map(shutil.which, ("c++", "g++", "clang++")) if p), None)


def _cmake(args: list[str], what: str, log: Path) -> str:
    proc = subprocess.run(
        ["cmake", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=BUILD_TIMEOUT
    )
    log.write_text(proc.stdout)
    if proc.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {proc.returncode}): cmake {' '.join(args)}\n{proc.stdout[-6000:]}", pytrace=False
        )
    return proc.stdout


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Host:
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not on PATH: the C++ package test needs CMake")
    if _cxx_compiler() is None:
        pytest.skip("no C++ compiler found ($CXX, c++, g++ or clang++): the C++ package test needs one")
    root = tmp_path_factory.mktemp("cpp_host")
    build, prefix, host_build = root / "build", root / "prefix", root / "host-build"
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    start = time.perf_counter()
    configure = _cmake(
        [
            "-S",
            str(REPO_ROOT),
            "-B",
            str(build),
            *generator,
            "-DCMAKE_BUILD_TYPE=Release",
            "-DBUILD_TESTING=OFF",
            f"-DCMAKE_INSTALL_PREFIX={prefix}",
        ],
        "configuring the core",
        root / "configure-core.log",
    )
    _cmake(["--build", str(build), "--parallel"], "building the core", root / "build-core.log")
    _cmake(["--install", str(build)], "installing the core", root / "install-core.log")
    _cmake(
        [
            "-S",
            str(HOST_SOURCE),
            "-B",
            str(host_build),
            *generator,
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DCMAKE_PREFIX_PATH={prefix}",
        ],
        "configuring examples/cpp_host against the installed package",
        root / "configure-host.log",
    )
    _cmake(["--build", str(host_build), "--parallel"], "building examples/cpp_host", root / "build-host.log")
    exe = host_build / ("person_segmentation_host" + (".exe" if os.name == "nt" else ""))
    assert exe.is_file(), f"{exe} was not built"
    found = re.search(r"person_segmentation: CUDA kernels (ON|OFF)", configure)
    assert found, "the core's configure step did not report whether it builds the CUDA kernels"
    return Host(exe, prefix, found.group(1) == "ON", time.perf_counter() - start)


# -- file formats (examples/cpp_host/README.md) ----------------------------------------------
def write_logits(path: Path, values: np.ndarray) -> Path:
    """'PSLG', int32 (h, w, channels), float32 row-major values; all little-endian."""
    assert values.ndim == 3
    path.write_bytes(b"PSLG" + np.array(values.shape, "<i4").tobytes() + np.ascontiguousarray(values, "<f4").tobytes())
    return path


def read_pgm(path: Path) -> np.ndarray:
    magic, size, maxval, pixels = path.read_bytes().split(b"\n", 3)
    assert magic == b"P5" and maxval == b"255"
    width, height = map(int, size.split())
    return np.frombuffer(pixels, np.uint8).reshape(height, width)


def run_host(host: Host, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(host.exe), *map(str, args)], capture_output=True, text=True, timeout=120)


def host_mask(host: Host, logits_file: Path, image_size: tuple[int, int], out: Path, *options: str) -> np.ndarray:
    proc = run_host(host, logits_file, *image_size, out, *options)
    assert proc.returncode == 0, proc.stderr
    pgm = read_pgm(out)
    assert pgm.shape == image_size and set(np.unique(pgm)) <= {0, 255}
    return (pgm == 255).astype(np.uint8)


def host_parts(host: Host, logits_file: Path, image_size: tuple[int, int], out: Path, *options: str) -> np.ndarray:
    proc = run_host(host, logits_file, *image_size, out, "--parts", *options)
    assert proc.returncode == 0, proc.stderr
    pgm = read_pgm(out)
    assert pgm.shape == image_size
    return np.where(pgm == 255, -1, pgm.astype(np.int32))


def host_info(host: Host) -> dict[str, str]:
    proc = run_host(host, "--info")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    return {"summary": lines[0], **dict(line.split(" ", 1) for line in lines[1:])}


# -- the package -----------------------------------------------------------------------------
def test_installed_package(host: Host) -> None:
    configs = list(host.prefix.glob("lib*/cmake/person_segmentation/person_segmentationConfig.cmake"))
    assert len(configs) == 1, f"expected one installed package config under {host.prefix}, got {configs}"
    cmake_dir = configs[0].parent
    assert (cmake_dir / "person_segmentationConfigVersion.cmake").is_file()
    assert (cmake_dir / "person_segmentationTargets.cmake").is_file()
    include = host.prefix / "include" / "person_segmentation"
    public = (
        "person_segmentation.hpp",
        "bodypix.hpp",
        "config.hpp",
        "constants.hpp",
        "geometry.hpp",
        "postprocess.hpp",
        "preprocess.hpp",
        "runtime.hpp",
        "version.hpp",
    )
    for header in public:
        assert (include / header).is_file(), header
    # Only the public API is installed: the per-pixel math (src/cpp/src/pixel/) stays private.
    assert sorted(p.name for p in include.iterdir()) == sorted(public)
    # The generated version.hpp tells the version of the one version source (_version.py).
    assert f'#define PERSON_SEGMENTATION_VERSION "{ps.__version__}"' in (include / "version.hpp").read_text()
    # The exported target asks its consumers for C++17 (examples/cpp_host sets no standard).
    targets = (cmake_dir / "person_segmentationTargets.cmake").read_text()
    assert 'INTERFACE_COMPILE_FEATURES "cxx_std_17"' in targets
    assert "CMAKE_CXX_STANDARD" not in (HOST_SOURCE / "CMakeLists.txt").read_text()
    assert list(host.prefix.glob("lib*/*person_segmentation*")), "the static core was not installed"
    # AUTO resolved consistently: configure log, installed config, and the linked library agree.
    flag = "ON" if host.cuda_configured else "OFF"
    assert f"set(person_segmentation_CUDA {flag})" in configs[0].read_text()
    info = host_info(host)
    assert info["cuda_compiled"] == ("1" if host.cuda_configured else "0"), info
    assert info["summary"].startswith(f"person_segmentation {ps.__version__}"), info
    if shutil.which("nvcc") and not host.cuda_configured:
        pytest.fail("nvcc is on PATH but PERSON_SEGMENTATION_CUDA=AUTO did not build the CUDA kernels")
    print(f"\ncore + host built in {host.build_seconds:.1f} s; {info['summary']}")


# -- random logits ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("grid", "image_size", "threshold", "flip"),
    [
        ((23, 17), (480, 640), 0.5, False),
        ((23, 17), (500, 333), 0.5, False),
        ((45, 33), (101, 37), 0.25, True),
        ((7, 5), (1, 300), 0.5, True),
        ((23, 17), (1000, 1), 0.75, False),
    ],
)
def test_random_logits(
    host: Host, tmp_path: Path, grid: tuple[int, int], image_size: tuple[int, int], threshold: float, flip: bool
) -> None:
    rng = np.random.default_rng(sum(grid) * 1000 + sum(image_size))
    values = np.concatenate([rng.normal(0, 3, (*grid, 1)), rng.normal(0, 2, (*grid, 24))], axis=2).astype(np.float32)
    logits_file = write_logits(tmp_path / "logits.pslg", values)
    logits = ps.Logits(values[:, :, :1], values[:, :, 1:], ps.compute_geometry(*image_size), flip)
    options = ["--threshold", str(threshold)] + (["--flip"] if flip else [])

    expected_mask = ps.person_mask_from_logits(logits, threshold)
    np.testing.assert_array_equal(
        host_mask(host, logits_file, image_size, tmp_path / "mask.pgm", *options), expected_mask
    )
    expected_parts = ps.part_segmentation_from_logits(logits, threshold)
    np.testing.assert_array_equal(
        host_parts(host, logits_file, image_size, tmp_path / "parts.pgm", *options), expected_parts
    )


def test_mask_only_logits_and_other_part_counts(host: Host, tmp_path: Path) -> None:
    """One channel is enough for a mask; the part count is whatever the file holds."""
    rng = np.random.default_rng(7)
    geometry = ps.compute_geometry(90, 120)
    segment = rng.normal(0, 3, (12, 9, 1)).astype(np.float32)
    expected = _core.person_mask(segment, geometry, segmentation_threshold=0.5, flip_horizontal=False)
    logits_file = write_logits(tmp_path / "segment.pslg", segment)
    np.testing.assert_array_equal(host_mask(host, logits_file, (90, 120), tmp_path / "mask.pgm"), expected)

    values = np.concatenate([segment, rng.normal(0, 2, (12, 9, 3)).astype(np.float32)], axis=2)
    expected_parts = _core.part_segmentation(
        values[:, :, :1], values[:, :, 1:], geometry, segmentation_threshold=0.3, flip_horizontal=True
    )
    logits_file = write_logits(tmp_path / "three_parts.pslg", values)
    got = host_parts(host, logits_file, (90, 120), tmp_path / "parts.pgm", "--threshold=0.3", "--flip")
    np.testing.assert_array_equal(got, expected_parts)


# -- the real logits of a photo --------------------------------------------------------------
@pytest.fixture(scope="module")
def net(weights_dir: Path) -> ps.PersonSegmentation:
    return ps.load(0.5, weights=weights_dir)


@pytest.mark.weights
@pytest.mark.parametrize(("flip", "threshold"), [(False, 0.5), (True, 0.7)])
def test_photo_logits(
    host: Host, net: ps.PersonSegmentation, data_dir: Path, tmp_path: Path, flip: bool, threshold: float
) -> None:
    logits = net.estimate_logits(data_dir / PHOTO, flip_horizontal=flip)
    assert logits.parts is not None
    g = logits.geometry
    image_size = (g.image_height, g.image_width)
    logits_file = write_logits(tmp_path / "photo.pslg", np.concatenate([logits.segment, logits.parts], axis=2))
    options = ["--threshold", str(threshold)] + (["--flip"] if flip else [])

    expected_mask = ps.person_mask_from_logits(logits, threshold)
    assert 0.02 < expected_mask.mean() < 0.98, (
        "the photo should give a non-trivial mask for this test to mean something"
    )
    np.testing.assert_array_equal(
        host_mask(host, logits_file, image_size, tmp_path / "mask.pgm", *options), expected_mask
    )
    expected_parts = ps.part_segmentation_from_logits(logits, threshold)
    assert len(np.unique(expected_parts)) > 3
    np.testing.assert_array_equal(
        host_parts(host, logits_file, image_size, tmp_path / "parts.pgm", *options), expected_parts
    )
    if not flip:  # and what the Python package's own estimate gives for the photo
        np.testing.assert_array_equal(expected_mask, net.estimate_person_segmentation(data_dir / PHOTO))


# -- CUDA through the host -------------------------------------------------------------------
def test_cuda_flag(host: Host, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(0, 3, (23, 17, 1)), rng.normal(0, 2, (23, 17, 24))], axis=2).astype(np.float32)
    logits_file = write_logits(tmp_path / "logits.pslg", values)
    info = host_info(host)
    if info["cuda_compiled"] == "1" and int(info["cuda_devices"]) > 0:
        logits = ps.Logits(values[:, :, :1], values[:, :, 1:], ps.compute_geometry(240, 320), False)
        got = host_parts(host, logits_file, (240, 320), tmp_path / "parts.pgm", "--cuda")
        np.testing.assert_array_equal(got, ps.part_segmentation_from_logits(logits))
    else:  # no kernels or no GPU: a clear error, exit code 2, nothing written
        proc = run_host(host, logits_file, 240, 320, tmp_path / "mask.pgm", "--cuda")
        assert proc.returncode == 2 and "CUDA" in proc.stderr, proc.stderr
        assert not (tmp_path / "mask.pgm").exists()


# -- errors ----------------------------------------------------------------------------------
def test_truncated_logits(host: Host, tmp_path: Path) -> None:
    good = write_logits(tmp_path / "good.pslg", np.zeros((23, 17, 25), np.float32)).read_bytes()
    for name, data in [("short.pslg", good[:-4]), ("header_only.pslg", good[:16]), ("tiny.pslg", good[:10])]:
        (tmp_path / name).write_bytes(data)
        out = tmp_path / (name + ".pgm")
        proc = run_host(host, tmp_path / name, 480, 640, out)
        assert proc.returncode == 2, (name, proc.returncode, proc.stderr)
        assert "truncated" in proc.stderr and name in proc.stderr, proc.stderr
        assert not out.exists()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"PSLX" + bytes(12), [], "magic"),
        (b"PSLG" + np.array([0, 17, 1], "<i4").tobytes(), [], "bad shape"),
        (None, ["--parts"], "--parts needs"),  # a one-channel file
        (b"big", [], "larger than the model input"),  # a 400 x 3 grid: more rows than 353
        (b"long", [], "too long"),
    ],
)
def test_bad_input(host: Host, tmp_path: Path, content: bytes | None, args: list[str], message: str) -> None:
    path = tmp_path / "in.pslg"
    if content is None:
        write_logits(path, np.zeros((23, 17, 1), np.float32))
    elif content == b"big":
        write_logits(path, np.zeros((400, 3, 1), np.float32))
    elif content == b"long":
        path.write_bytes(write_logits(path, np.zeros((2, 2, 1), np.float32)).read_bytes() + b"\0")
    else:
        path.write_bytes(content)
    proc = run_host(host, path, 480, 640, tmp_path / "out.pgm", *args)
    assert proc.returncode == 2 and message in proc.stderr, (proc.returncode, proc.stderr)
    assert not (tmp_path / "out.pgm").exists()


def test_missing_file_and_bad_usage(host: Host, tmp_path: Path) -> None:
    proc = run_host(host, tmp_path / "nope.pslg", 480, 640, tmp_path / "out.pgm")
    assert proc.returncode == 2 and "cannot open" in proc.stderr, proc.stderr
    for args in (
        [],
        ["a", "1", "2"],
        ["a", "0", "2", "o"],
        ["a", "1", "x", "o"],
        ["a", "1", "2", "o", "--threshold", "nan"],
        ["a", "1", "2", "o", "--threshold", "1.5"],
        ["a", "1", "2", "o", "--threshold"],
        ["a", "1", "2", "o", "--bogus"],
    ):
        proc = run_host(host, *args)
        assert proc.returncode == 1 and "usage:" in proc.stderr, (args, proc.returncode, proc.stderr)
