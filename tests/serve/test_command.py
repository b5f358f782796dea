"""``person-segmentation serve`` as a user runs it: a real process on 127.0.0.1 (one process,
and ``--workers 2`` processes), answering, then stopped with SIGTERM (exit status 0)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .._localhttp import free_port


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_runs_answers_and_stops_on_sigterm(workers: int, data_dir: Path) -> None:
    port = free_port()
    env = dict(os.environ)  # the package under test: installed, or PYTHONPATH as set
    command = [sys.executable, "-m", "person_segmentation", "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                health = _get(f"http://127.0.0.1:{port}/api/health")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert health["status"] == "ok"
        assert _get(f"http://127.0.0.1:{port}/api/info")["server"] == {"threads": 2, "queue": 8, "workers": workers}
        photo = (data_dir / "coco2017_person_samples/images/000000009483.jpg").read_bytes()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/segment?output=json", data=photo, headers={"Content-Type": "image/jpeg"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert len(json.loads(response.read())["people"]) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"serving on http://127.0.0.1:{port}/" in output
