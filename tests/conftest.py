"""Shared pytest configuration.

All reference material (weights, photos, golden outputs) is read from one directory, set by
``PERSON_SEGMENTATION_SHARED`` (default: ``../shared`` beside the repository). Nothing from it
is ever copied into the repository.

When that directory is missing, tests that need it fail loudly under CI (``CI`` set) and are
skipped with an explicit reason elsewhere.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._localhttp import FileHandler, LocalHTTPServer, ServerFactory

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("PERSON_SEGMENTATION_SHARED", REPO_ROOT.parent / "shared")).resolve()


def _require(path: Path) -> Path:
    if path.exists():
        return path
    message = (
        f"shared test material not found at {path} "
        "(set PERSON_SEGMENTATION_SHARED to the folder holding weights/, data/ and golden/)"
    )
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
    raise AssertionError  # unreachable


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tests never write into the user's cache: downloads and TFLite conversions go to a
    temporary ``PERSON_SEGMENTATION_CACHE`` (tests of the cache itself set their own)."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PERSON_SEGMENTATION_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared folder holding ``weights/``, ``data/``, ``golden/`` and ``spec/``."""
    return _require(SHARED_DIR)


@pytest.fixture(scope="session")
def weights_dir(shared_dir: Path) -> Path:
    """``<shared>/weights``: a local mirror of the official weights base URL."""
    return _require(shared_dir / "weights")


@pytest.fixture(scope="session")
def data_dir(shared_dir: Path) -> Path:
    return _require(shared_dir / "data")


@pytest.fixture(scope="session")
def golden_dir(shared_dir: Path) -> Path:
    return _require(shared_dir / "golden")


@pytest.fixture
def local_http_server() -> Iterator[ServerFactory]:
    """``local_http_server(root, handler=FileHandler)``: a ``LocalHTTPServer`` serving ``root``
    on 127.0.0.1, already started; every server it made is closed (stalls released) at teardown."""
    with contextlib.ExitStack() as stack:

        def start(root: Path, handler: type[FileHandler] = FileHandler) -> LocalHTTPServer:
            server = LocalHTTPServer(root, handler)
            stack.callback(server.close)
            return server.start()

        yield start
