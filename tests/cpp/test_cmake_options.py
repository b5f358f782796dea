"""PERSON_SEGMENTATION_CUDA: AUTO builds the CUDA kernels when a CUDA compiler is found, ON
without one is a configure error, OFF leaves them out, anything else is refused. Also what the
configure step derives for every build: the version (read from _version.py) and an exported
target that carries C++17 but never the sanitizer flags."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not on PATH")


def configure(tmp_path: Path, *defines: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("CUDACXX", None)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [
            shutil.which("cmake") or "cmake",
            "-S",
            str(REPO_ROOT),
            "-B",
            str(tmp_path / "build"),
            "-DBUILD_TESTING=OFF",
            *defines,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def path_without_nvcc() -> str:
    """PATH minus the folders holding nvcc (and the CUDA toolkit's bin folder)."""
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "nvcc").exists()]
    return os.pathsep.join(keep)


def test_on_without_a_cuda_compiler_is_a_configure_error(tmp_path: Path) -> None:
    result = configure(tmp_path, "-DPERSON_SEGMENTATION_CUDA=ON", path=path_without_nvcc())
    if "CUDA kernels ON" in result.stdout:
        pytest.skip("CMake still finds a CUDA compiler without nvcc on PATH (e.g. a default toolkit location)")
    assert result.returncode != 0
    assert "PERSON_SEGMENTATION_CUDA=ON but no CUDA compiler was found" in result.stderr


def test_auto_without_a_cuda_compiler_builds_the_cpu_core(tmp_path: Path) -> None:
    result = configure(tmp_path, path=path_without_nvcc())
    assert result.returncode == 0, result.stderr
    if "CUDA kernels ON" in result.stdout:
        pytest.skip("CMake still finds a CUDA compiler without nvcc on PATH")
    assert "person_segmentation: CUDA kernels OFF" in result.stdout


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
def test_auto_with_nvcc_builds_the_cuda_kernels(tmp_path: Path) -> None:
    result = configure(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "person_segmentation: CUDA kernels ON" in result.stdout


def test_off_leaves_cuda_out_even_with_nvcc(tmp_path: Path) -> None:
    result = configure(tmp_path, "-DPERSON_SEGMENTATION_CUDA=OFF")
    assert result.returncode == 0, result.stderr
    assert "person_segmentation: CUDA kernels OFF" in result.stdout


def test_other_values_are_refused(tmp_path: Path) -> None:
    result = configure(tmp_path, "-DPERSON_SEGMENTATION_CUDA=MAYBE")
    assert result.returncode != 0
    assert "PERSON_SEGMENTATION_CUDA must be AUTO, ON or OFF, got 'MAYBE'" in result.stderr


def exported_targets(build: Path) -> str:
    """The person_segmentationTargets.cmake that `cmake --install` would install (written at configure time)."""
    files = list((build / "CMakeFiles" / "Export").rglob("person_segmentationTargets.cmake"))
    assert len(files) == 1, files
    return files[0].read_text()


def test_version_comes_from_version_py(tmp_path: Path) -> None:
    text = (REPO_ROOT / "src" / "python" / "person_segmentation" / "_version.py").read_text()
    found = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    assert found, "no __version__ line in _version.py"
    result = configure(tmp_path, "-DPERSON_SEGMENTATION_CUDA=OFF")
    assert result.returncode == 0, result.stderr
    assert f"person_segmentation: version {found.group(1)}" in result.stdout
    header = tmp_path / "build" / "generated" / "include" / "person_segmentation" / "version.hpp"
    assert f'#define PERSON_SEGMENTATION_VERSION "{found.group(1)}"' in header.read_text()


def test_sanitized_build_exports_no_sanitizer_flags(tmp_path: Path) -> None:
    result = configure(tmp_path, "-DPERSON_SEGMENTATION_CUDA=OFF", "-DPERSON_SEGMENTATION_SANITIZE=ON")
    assert result.returncode == 0, result.stderr
    targets = exported_targets(tmp_path / "build")
    assert "sanitize" not in targets
    assert 'INTERFACE_COMPILE_FEATURES "cxx_std_17"' in targets
