"""The command line's out-of-the-box start (issue 12): the bundled model by default, no
TensorFlow imported, nothing from TensorFlow / absl / LiteRT on stderr unless ``-v``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

#: What native libraries print (absl's "I0000 00:00:..." prefix, LiteRT's INFO line, TF's names).
NATIVE_LINE = re.compile(r"^[IWEF]\d{4} |XNNPACK|tensorflow|TensorFlow|absl|cuInit|oneDNN", re.MULTILINE)

_SCRIPT = """
import sys
from person_segmentation.cli import main
rc = main(sys.argv[1:])
sys.stdout.write("\\nTENSORFLOW=%s RC=%d\\n" % ("tensorflow" in sys.modules, rc))
"""


def _cli(*args: str, cache: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("PERSON_SEGMENTATION_WEIGHTS", "TF_CPP_MIN_LOG_LEVEL")
    }
    environment.update(PERSON_SEGMENTATION_CACHE=str(cache), **env)
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT, *args], capture_output=True, text=True, env=environment, timeout=600
    )


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "photo.jpg"
    rng = np.random.default_rng(0)
    PIL.Image.fromarray(rng.integers(0, 256, (240, 180, 3), dtype=np.uint8)).save(path)
    return path


def test_default_segment_uses_the_bundled_model_without_tensorflow(photo: Path, tmp_path: Path) -> None:
    result = _cli("segment", str(photo), "-o", str(tmp_path / "mask.png"), "-q", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "TENSORFLOW=False RC=0" in result.stdout
    assert result.stderr == ""  # -q: nothing at all
    mask = np.asarray(PIL.Image.open(tmp_path / "mask.png"))
    assert mask.shape[:2] == (240, 180)
    assert not (tmp_path / "cache").exists()  # the shipped conversion: nothing downloaded or converted


def test_stderr_has_only_our_own_lines(photo: Path, tmp_path: Path) -> None:
    result = _cli("segment", str(photo), "-o", str(tmp_path / "mask.png"), cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert not NATIVE_LINE.search(result.stderr), result.stderr


def test_verbose_shows_the_native_lines(photo: Path, tmp_path: Path) -> None:
    result = _cli("segment", str(photo), "-o", str(tmp_path / "mask.png"), "-v", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "XNNPACK" in result.stderr  # LiteRT's own line, hidden without -v


def test_tensorflow_lines_are_hidden_when_it_is_needed(photo: Path, tmp_path: Path, weights_dir: Path) -> None:
    """1.x weights need a conversion (TensorFlow imported): still nothing of it on stderr."""
    args = ("segment", str(photo), "-o", str(tmp_path / "mask.png"), "-q", "--weights", str(weights_dir))
    result = _cli(*args, "--multiplier", "0.5", cache=tmp_path / "cache")
    assert result.returncode == 0, result.stderr
    assert "TENSORFLOW=True RC=0" in result.stdout
    assert result.stderr == ""


def test_a_users_tf_log_level_is_kept(photo: Path, tmp_path: Path, weights_dir: Path) -> None:
    code = (
        "import os, person_segmentation as ps; ps.load(0.5, weights=os.environ['W']); "
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    )
    env = {**os.environ, "W": str(weights_dir)}
    env.update(TF_CPP_MIN_LOG_LEVEL="1", PERSON_SEGMENTATION_CACHE=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"
    env.pop("TF_CPP_MIN_LOG_LEVEL")
    env["PERSON_SEGMENTATION_CACHE"] = str(tmp_path / "cache2")  # converted again: TensorFlow imported
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert result.stdout.strip() == "3"


def test_help_is_quiet_and_does_not_import_tensorflow(tmp_path: Path) -> None:
    result = _cli("--help", cache=tmp_path / "cache")
    assert result.returncode == 0 and result.stderr == ""
    result = _cli("segment", "--help", cache=tmp_path / "cache")
    assert result.returncode == 0 and result.stderr == ""
    assert "-v, --verbose" in result.stdout and "bundled" in result.stdout
