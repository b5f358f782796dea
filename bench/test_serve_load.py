"""Load test of ``person-segmentation serve``: concurrent clients against 127.0.0.1 for a fixed
time, stopping by itself.

    python -m pytest bench/test_serve_load.py --benchmark-only -s
    PS_LOAD_CLIENTS=8 PS_LOAD_SECONDS=30 PS_LOAD_OUTPUT=mask python -m pytest bench/test_serve_load.py -s

The server is the real command (``python -m person_segmentation serve``, one process, the
bundled model, ``--threads 2 --queue 8``) in a subprocess on a free port. Each client is a
thread with one keep-alive HTTP connection that POSTs the benchmark photo (640 x 480 JPEG,
``bench/conftest.py``'s frame) to ``/api/segment?output=<PS_LOAD_OUTPUT>`` again and again.
Measured: requests/s, latency p50/p90/p99 (client side, ms), errors (any answer but 200: must be
0; with 8 clients and a capacity of 10 the queue never refuses), and the server's resident
memory (VmRSS) after a warm-up (every client, 3 s), every tenth of the run and at the end
(flat: it grows by less than 64 MiB over the run). The numbers
go to pytest-benchmark's ``extra_info`` (one round: the run is its own timing) and are printed.
"""

from __future__ import annotations

import http.client
import io
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

CLIENTS = int(os.environ.get("PS_LOAD_CLIENTS", "8"))
SECONDS = float(os.environ.get("PS_LOAD_SECONDS", "30"))
OUTPUT = os.environ.get("PS_LOAD_OUTPUT", "mask")
#: The most the server's memory may grow over the run (after the warm-up).
MAX_RSS_GROWTH_MB = 64


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def _client(port: int, body: bytes, stop: float, latencies: list[float], errors: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    path = f"/api/segment?output={OUTPUT}"
    while time.perf_counter() < stop:
        start = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers={"Content-Type": "image/jpeg"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(str(response.status))
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        latencies.append(time.perf_counter() - start)
    connection.close()


def _clients(port: int, body: bytes, stop: float, latencies: list[float], errors: list[str]) -> None:
    """``CLIENTS`` clients at once until ``stop``."""
    threads = [threading.Thread(target=_client, args=(port, body, stop, latencies, errors)) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SECONDS + 120)


def _sample(pid: int, stop: float, samples: list[float]) -> None:
    """The server's RSS every tenth of the run."""
    while time.perf_counter() < stop:
        samples.append(round(_rss_mb(pid), 1))
        time.sleep(SECONDS / 10)


def run_load(body: bytes) -> dict[str, Any]:
    port = _free_port()
    env = dict(os.environ)  # the package under test: installed, or PYTHONPATH as set
    command = [sys.executable, "-m", "person_segmentation", "serve", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        warm: list[float] = []
        warm_errors: list[str] = []
        _clients(port, body, time.perf_counter() + 3, warm, warm_errors)  # warm-up: 3 s, every client
        assert not warm_errors, warm_errors
        rss_before = _rss_mb(server.pid)
        latencies: list[float] = []
        errors: list[str] = []
        start = time.perf_counter()
        stop = start + SECONDS
        rss_samples: list[float] = []
        sampler = threading.Thread(target=_sample, args=(server.pid, stop, rss_samples))
        sampler.start()
        _clients(port, body, stop, latencies, errors)
        elapsed = time.perf_counter() - start
        sampler.join()
        rss_after = _rss_mb(server.pid)
    finally:
        server.terminate()
        server.communicate(timeout=60)
    ms = np.array(latencies) * 1000
    return {
        "clients": CLIENTS,
        "seconds": round(elapsed, 1),
        "output": OUTPUT,
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 2),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p90_ms": round(float(np.percentile(ms, 90)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "rss_before_mb": round(rss_before, 1),
        "rss_after_mb": round(rss_after, 1),
        "rss_samples_mb": rss_samples,
        "cpus": os.cpu_count(),
    }


@pytest.mark.benchmark(group="serve load")
def test_serve_under_load(benchmark: Any, frame: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="JPEG", quality=90)
    results: dict[str, Any] = {}
    run: Callable[[], None] = lambda: results.update(run_load(buffer.getvalue()))  # noqa: E731
    benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.extra_info.update(results)
    print("\nserve load:", results)
    assert results["requests"] > 0
    assert results["errors"] == 0, results["error_kinds"]
    assert results["rss_after_mb"] - results["rss_before_mb"] < MAX_RSS_GROWTH_MB, results
