"""The Python interpreter that runs MediaPipe for ``bench/test_vs_mediapipe.py``.

``mediapipe==0.10.21`` (the last release that bundles the legacy selfie segmentation models)
needs ``numpy<2`` and ``protobuf<5``, which TensorFlow 2.21 in the main environment cannot
share. So MediaPipe gets its own virtual environment, ``bench/.mediapipe-venv``, built from the
current interpreter's ``venv`` module; ``bench/mediapipe_worker.py`` runs there.

``PERSON_SEGMENTATION_MEDIAPIPE_PYTHON`` names an existing interpreter that already has
MediaPipe instead (it is then used as it is: nothing is created or installed).

Run ``python bench/mediapipe_env.py`` to create (or check) the environment ahead of a benchmark
run and print its interpreter; creating it is idempotent.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ENV_VAR = "PERSON_SEGMENTATION_MEDIAPIPE_PYTHON"
VENV_DIR = Path(__file__).resolve().parent / ".mediapipe-venv"
MEDIAPIPE_VERSION = "0.10.21"
#: What goes into the virtual environment. The numpy and protobuf caps only restate
#: MediaPipe's own requirements, so pip never has to backtrack.
REQUIREMENTS = (f"mediapipe=={MEDIAPIPE_VERSION}", "numpy<2", "protobuf<5")


class MediaPipeEnvError(RuntimeError):
    """The MediaPipe interpreter cannot be found, created or installed (the message says why)."""


def _venv_python(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def installed_version(python: Path) -> str | None:
    """The MediaPipe version installed for ``python``, or ``None`` (also when it does not run)."""
    code = "import importlib.metadata as m; print(m.version('mediapipe'))"
    try:
        done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _create_venv(venv_dir: Path) -> None:
    python = _venv_python(venv_dir)
    if python.exists() and subprocess.run([str(python), "-c", "pass"], capture_output=True).returncode == 0:
        return
    try:
        # clear=True: a half-made environment (interrupted creation, moved interpreter) is rebuilt.
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    except (OSError, subprocess.CalledProcessError) as error:
        raise MediaPipeEnvError(
            f"cannot create the MediaPipe virtual environment {venv_dir} with {sys.executable}: {error}\n"
            "The interpreter's venv module needs ensurepip (on Debian/Ubuntu: apt-get install python3-venv)."
        ) from error


def _install(python: Path, verbose: bool) -> None:
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *REQUIREMENTS]
    if verbose:  # pip's progress on stderr; stdout stays for the interpreter path
        done = subprocess.run(command, stdout=sys.stderr, text=True)
        output = "(pip's output is above)"
    else:
        done = subprocess.run(command, capture_output=True, text=True)
        output = _tail(done.stderr or done.stdout)
    if done.returncode != 0:
        raise MediaPipeEnvError(
            f"cannot install {' '.join(REQUIREMENTS)} into {python.parent.parent}:\n{output}\n"
            f"MediaPipe {MEDIAPIPE_VERSION} needs network access to PyPI (or a local index) and has wheels for "
            "CPython 3.9 to 3.12 only. Or point "
            f"{ENV_VAR} at an interpreter that has mediapipe=={MEDIAPIPE_VERSION}."
        )


def ensure_venv(venv_dir: Path = VENV_DIR, verbose: bool = False) -> Path:
    """Create ``venv_dir`` with MediaPipe unless it is already there; return its interpreter.

    ``verbose`` shows pip's output (on stderr) instead of quoting its end in the error.
    """
    python = _venv_python(venv_dir)
    if installed_version(python) == MEDIAPIPE_VERSION:
        return python
    _create_venv(venv_dir)
    _install(python, verbose)
    version = installed_version(python)
    if version != MEDIAPIPE_VERSION:
        raise MediaPipeEnvError(f"{python}: expected mediapipe {MEDIAPIPE_VERSION} after installing, found {version}")
    return python


def mediapipe_python(verbose: bool = False) -> Path:
    """The interpreter to run the worker with: ``$PERSON_SEGMENTATION_MEDIAPIPE_PYTHON`` or the venv."""
    configured = os.environ.get(ENV_VAR)
    if not configured:
        return ensure_venv(verbose=verbose)
    python = Path(configured)
    version = installed_version(python)
    if version is None:
        raise MediaPipeEnvError(
            f"{ENV_VAR}={configured}: not a Python interpreter with mediapipe installed. "
            f"Unset it to have {VENV_DIR} created, or point it at an interpreter with mediapipe=={MEDIAPIPE_VERSION}."
        )
    if version != MEDIAPIPE_VERSION:
        print(f"warning: {python} has mediapipe {version}, the benchmark expects {MEDIAPIPE_VERSION}", file=sys.stderr)
    return python


def main() -> int:
    try:
        python = mediapipe_python(verbose=True)
    except MediaPipeEnvError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
