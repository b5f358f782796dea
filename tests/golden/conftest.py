"""Fixtures of the golden tests: loaded networks (one per multiplier) and an agreement report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import person_segmentation as ps

_AGREEMENT: dict[str, list[tuple[str, float]]] = {}


@pytest.fixture(scope="session")
def load_net(weights_dir: Path) -> Callable[..., ps.PersonSegmentation]:
    """``load_net(multiplier, postprocess="native", engine="auto")``: a cached ``ps.load`` on
    the shared weights."""
    cache: dict[tuple[float, str, str], ps.PersonSegmentation] = {}

    def get(multiplier: float, postprocess: str = "native", engine: str = "auto") -> ps.PersonSegmentation:
        key = (multiplier, postprocess, engine)
        if key not in cache:
            cache[key] = ps.load(multiplier, weights=weights_dir, postprocess=postprocess, engine=engine)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def golden2_dir(shared_dir: Path) -> Path:
    """``<shared>/golden2`` (BodyPix 2.2.1's outputs); a missing ``index.json`` fails the test."""
    path = shared_dir / "golden2"
    assert (path / "index.json").is_file(), f"{path / 'index.json'} is missing"
    return path


@pytest.fixture(scope="session")
def record_agreement() -> Callable[[str, str, float], None]:
    def record(kind: str, case: str, value: float) -> None:
        _AGREEMENT.setdefault(kind, []).append((case, value))

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for kind, values in _AGREEMENT.items():
        if not values:
            continue
        worst = min(values, key=lambda v: v[1])
        mean = sum(v for _, v in values) / len(values)
        terminalreporter.write_line(
            f"golden {kind} agreement over {len(values)} cases: min {worst[1]:.6%} ({worst[0]}), mean {mean:.6%}"
        )
