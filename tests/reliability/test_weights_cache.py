"""Reliability of the weights download cache: concurrent loaders, interrupted and stalled
downloads, damaged cache entries, and no network use unless weights must be downloaded.

Servers listen on 127.0.0.1 only (port 0). Real weights come from the shared folder (read
only); everything written goes to ``tmp_path``. Processes are synchronised through files
(a child announces it is ready by creating one and starts when another appears), never by
sleeping; the only sleeps are the server's deliberate throttling and the polling of files.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import pickle
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from person_segmentation import _weights
from person_segmentation._weights import LoadedWeights, WeightsError, load_weights

from .._localhttp import PROXY_VARS, FileHandler, LocalHTTPServer, ServerFactory, isolate_download_env

pytestmark = pytest.mark.weights

FOLDER = "posenet_mobilenet_050_partmap"
MANIFEST = f"{FOLDER}/weights_manifest.json"
SHARD = f"{FOLDER}/group1-shard1of1"
SHARD_BYTES = 2269744
WAIT_S = 120.0  # upper bound for anything on a loaded machine; never reached when all is well
THROTTLE = (64 * 1024, 0.04)  # the 2.2 MB shard then takes ~1.4 s to send

HAVE_FLOCK = importlib.util.find_spec("fcntl") is not None  # _weights locks with flock


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_download_env(monkeypatch)


# --------------------------------------------------------------------------------------------
# The local HTTP server (tests/_localhttp.py), made slow, or to hang up, reset or stall


class _Handler(FileHandler):
    """Faults: "close-no-length" (half the file, no Content-Length, then close), "reset" (half,
    then a TCP reset), "stall-headers" (no response at all), "stall-body" (half, then silence).
    Stalls last until the server's ``release`` is set (at teardown at the latest)."""

    def fault(self, path: str, fault: str) -> None:
        if fault == "stall-headers":  # accept the request, never answer it
            self.stall()
            self.close_connection = True
            return
        data = self.file_bytes(path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if fault != "close-no-length":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.write_body(data[: len(data) // 2])
        self.close_connection = True
        if fault == "stall-body":  # half the file, then nothing
            self.stall()
        elif fault == "reset":  # half the file, then a TCP reset instead of a clean close
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


@pytest.fixture
def server(local_http_server: ServerFactory, weights_dir: Path) -> LocalHTTPServer:
    return local_http_server(weights_dir, _Handler)


# --------------------------------------------------------------------------------------------
# Helpers


def host_dir(cache: Path, srv: LocalHTTPServer) -> Path:
    return cache / f"127.0.0.1_{srv.port}"


def tree(root: Path) -> dict[str, int]:
    """Every file under ``root`` (hidden ones included): relative path -> size."""
    found: dict[str, int] = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            found[path.relative_to(root).as_posix()] = path.stat().st_size
    return found


def expected_tree(weights_dir: Path) -> dict[str, int]:
    return {rel: (weights_dir / rel).stat().st_size for rel in (MANIFEST, SHARD)}


def assert_same_tensors(a: LoadedWeights | dict[str, np.ndarray], b: LoadedWeights) -> None:
    tensors = a.tensors if isinstance(a, LoadedWeights) else a
    assert tensors.keys() == b.tensors.keys()
    for name, value in tensors.items():
        np.testing.assert_array_equal(value, b.tensors[name], err_msg=name)


def wait_until(condition: Callable[[], bool], what: str, proc: Any = None) -> None:
    """Poll ``condition`` (a file appearing...) up to WAIT_S; fail early if ``proc`` died."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if proc is not None and proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"child exited ({proc.returncode}) before {what}:\n{err[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


@pytest.fixture(scope="module")
def reference(weights_dir: Path) -> LoadedWeights:
    return load_weights(0.5, weights_dir)


# --------------------------------------------------------------------------------------------
# Concurrent loaders sharing one cache

_LOADER = r"""
import os, pickle, sys, time
from pathlib import Path
from person_segmentation import _weights
ready, go, out, url, cache = sys.argv[1:]
Path(ready).touch()
deadline = time.monotonic() + 120
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit("no start signal")
    time.sleep(0.002)
start = time.time()
loaded = _weights.load_weights(0.5, url, cache_dir=cache)
end = time.time()
with open(out, "wb") as stream:
    pickle.dump({"start": start, "end": end, "tensors": dict(loaded.tensors)}, stream)
"""


def test_two_processes_share_one_cache(
    server: LocalHTTPServer, weights_dir: Path, tmp_path: Path, reference: LoadedWeights
) -> None:
    """Two processes load the same weights at the same moment from a slow server into one
    cache: both get exactly the local weights, each file is downloaded once (the second
    loader waits for the first and reuses its files) and the cache holds exactly the two
    files, complete, with no temporary or lock file left."""
    server.throttle = THROTTLE
    cache, go = tmp_path / "cache", tmp_path / "go"
    procs = []
    for i in range(2):
        cmd = [
            sys.executable,
            "-c",
            _LOADER,
            str(tmp_path / f"ready{i}"),
            str(go),
            str(tmp_path / f"out{i}.pickle"),
            server.url,
            str(cache),
        ]
        procs.append(subprocess.Popen(cmd, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        for i, proc in enumerate(procs):
            wait_until((tmp_path / f"ready{i}").exists, f"child {i} to start", proc)
        go.touch()
        for proc in procs:
            _, err = proc.communicate(timeout=WAIT_S)
            assert proc.returncode == 0, err[-3000:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    results = [pickle.loads((tmp_path / f"out{i}.pickle").read_bytes()) for i in range(2)]
    # they really ran at the same time: each started before the other finished
    assert max(r["start"] for r in results) < min(r["end"] for r in results)
    for result in results:
        assert_same_tensors(result["tensors"], reference)
    if HAVE_FLOCK:  # with locks, the second loader reuses the first's files
        assert (server.count(MANIFEST), server.count(SHARD)) == (1, 1), server.requests
    host = host_dir(cache, server)
    assert tree(host) == expected_tree(weights_dir)
    assert (host / SHARD).read_bytes() == (weights_dir / SHARD).read_bytes()


def test_threads_repair_a_damaged_cache_once(
    server: LocalHTTPServer, weights_dir: Path, tmp_path: Path, reference: LoadedWeights
) -> None:
    """Four threads start together on a cache left damaged by a killed run (truncated shard,
    its old temporary file, a stale lock file): all get the right weights, the shard is
    fetched again exactly once and the debris is gone."""
    server.throttle = THROTTLE
    cache = tmp_path / "cache"
    load_weights(0.5, server.url, cache_dir=cache)
    shard = host_dir(cache, server) / SHARD
    with shard.open("r+b") as stream:
        stream.truncate(SHARD_BYTES // 2)
    stale = shard.parent / f".{shard.name}.k1ll3d_x.part"
    stale.write_bytes(b"\0" * 1000)
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    (shard.parent / f".{shard.name}.lock").touch()

    barrier = threading.Barrier(4)
    results: list[LoadedWeights | BaseException] = []

    def work() -> None:
        try:
            barrier.wait(WAIT_S)
            results.append(load_weights(0.5, server.url, cache_dir=cache))
        except BaseException as exc:  # reported below, in the test's thread
            results.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert len(results) == 4
    for result in results:
        assert isinstance(result, LoadedWeights), repr(result)
        assert_same_tensors(result, reference)
    if HAVE_FLOCK:
        assert server.count(SHARD) == 2  # the first load, then one repair for all four
        assert server.count(MANIFEST) == 1
    assert tree(host_dir(cache, server)) == expected_tree(weights_dir)


# --------------------------------------------------------------------------------------------
# Interrupted downloads

_KILLED_LOADER = r"""
import sys
from person_segmentation import _weights
_weights.load_weights(0.5, sys.argv[1], cache_dir=sys.argv[2])
"""


def test_killed_download_leaves_nothing_usable(
    server: LocalHTTPServer, weights_dir: Path, tmp_path: Path, reference: LoadedWeights
) -> None:
    """A process killed halfway through the shard leaves only hidden debris: no file under
    the final name. The next load ignores the partial file, fetches the shard again and, once
    the partial file is old, deletes it."""
    server.faults["/" + SHARD] = "stall-body"
    cache = tmp_path / "cache"
    folder = host_dir(cache, server) / FOLDER

    def partial_files() -> list[Path]:
        return list(folder.glob(".group1-shard1of1.*.part")) if folder.is_dir() else []

    with subprocess.Popen(
        [sys.executable, "-c", _KILLED_LOADER, server.url, str(cache)],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            wait_until(server.stalled.is_set, "the download to reach the stall", proc)
            wait_until(
                lambda: any(p.stat().st_size >= SHARD_BYTES // 2 for p in partial_files()),
                "half the shard to be written",
                proc,
            )
        finally:
            proc.kill()
            proc.communicate()
    (partial,) = partial_files()
    assert not (folder / "group1-shard1of1").exists()
    assert not {name for name in tree(folder) if not name.startswith(".")} - {"weights_manifest.json"}

    del server.faults["/" + SHARD]
    server.release.set()
    assert_same_tensors(load_weights(0.5, server.url, cache_dir=cache), reference)
    assert server.count(SHARD) == 2  # the partial file was not used
    assert partial.exists()  # too recent to be known dead: left alone
    assert tree(folder) == {
        "weights_manifest.json": (weights_dir / MANIFEST).stat().st_size,
        "group1-shard1of1": SHARD_BYTES,
        partial.name: partial.stat().st_size,
    }
    old = time.time() - 2 * _weights._STALE_TEMP_AGE_S
    os.utime(partial, (old, old))
    assert_same_tensors(load_weights(0.5, server.url, cache_dir=cache), reference)
    assert server.count(SHARD) == 2  # served from the cache
    assert tree(host_dir(cache, server)) == expected_tree(weights_dir)


@pytest.mark.parametrize("fault", ["close-no-length", "reset"])
@pytest.mark.parametrize("target", [MANIFEST, SHARD])
def test_connection_lost_mid_file(
    server: LocalHTTPServer, weights_dir: Path, tmp_path: Path, reference: LoadedWeights, target: str, fault: str
) -> None:
    """The server hangs up (without a Content-Length to compare with) or resets the
    connection halfway through a file: a WeightsError names the URL, the cache holds no
    file under that name and no partial file, and the next load fetches it afresh."""
    server.faults["/" + target] = fault
    cache = tmp_path / "cache"
    with pytest.raises(WeightsError, match=re.escape(server.url + target)):
        load_weights(0.5, server.url, cache_dir=cache)
    host = host_dir(cache, server)
    expected = {MANIFEST: expected_tree(weights_dir)[MANIFEST]} if target == SHARD else {}
    assert tree(host) == expected  # nothing partial, temporary or locked is left

    del server.faults["/" + target]
    assert_same_tensors(load_weights(0.5, server.url, cache_dir=cache), reference)
    assert server.count(target) == 2
    assert tree(host) == expected_tree(weights_dir)


@pytest.mark.parametrize("fault", ["stall-headers", "stall-body"])
def test_stalled_server_times_out(
    server: LocalHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    """A server that stops answering (before the headers, or mid-file) fails the load after
    $PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT seconds with an error naming the URL, the
    timeout and the variable; the cache is left clean."""
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT", "0.5")
    server.faults["/" + SHARD] = fault
    cache = tmp_path / "cache"
    began = time.monotonic()
    with pytest.raises(WeightsError) as info:
        load_weights(0.5, server.url, cache_dir=cache)
    elapsed = time.monotonic() - began
    message = str(info.value)
    assert f"from {server.url}{SHARD}: timed out" in message
    assert "0.5 s" in message and "PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT" in message
    assert elapsed < 30  # not the 60 s default
    assert server.stalled.is_set()
    assert set(tree(host_dir(cache, server))) == {MANIFEST}


@pytest.mark.parametrize("value", ["abc", "0", "-3", "inf", "nan"])
def test_timeout_variable_is_checked(
    server: LocalHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT", value)
    with pytest.raises(WeightsError, match=r"\$PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT must be a positive number"):
        load_weights(0.5, server.url, cache_dir=tmp_path / "cache")
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT", " 2.5 ")
    assert _weights._download_timeout() == 2.5
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT", "")
    assert _weights._download_timeout() == _weights._DOWNLOAD_TIMEOUT_S == 60.0


# --------------------------------------------------------------------------------------------
# Damaged cache entries not covered by tests/unit/test_weights.py


@pytest.mark.parametrize(
    "damage", ["shard-too-large", "shard-empty", "manifest-empty", "manifest-not-a-list", "shard-is-a-dir"]
)
def test_damaged_entry_is_refetched_never_used(
    server: LocalHTTPServer, weights_dir: Path, tmp_path: Path, reference: LoadedWeights, damage: str
) -> None:
    cache = tmp_path / "cache"
    load_weights(0.5, server.url, cache_dir=cache)
    host = host_dir(cache, server)
    shard, manifest = host / SHARD, host / MANIFEST
    if damage == "shard-too-large":
        with shard.open("ab") as stream:
            stream.write(b"\0" * 4)
    elif damage == "shard-empty":
        shard.write_bytes(b"")
    elif damage == "manifest-empty":
        manifest.write_bytes(b"")
    elif damage == "manifest-not-a-list":
        manifest.write_text('{"weights": []}')
    else:
        shard.unlink()
        shard.mkdir()
    target = MANIFEST if damage.startswith("manifest") else SHARD
    if damage == "shard-is-a-dir":  # cannot be repaired by us: say so, naming the entry
        with pytest.raises(WeightsError, match=r"cannot remove the damaged weights cache entry"):
            load_weights(0.5, server.url, cache_dir=cache)
        return
    assert_same_tensors(load_weights(0.5, server.url, cache_dir=cache), reference)
    assert server.count(target) == 2
    assert tree(host) == expected_tree(weights_dir)


def test_without_locks_loading_still_works(
    server: LocalHTTPServer,
    weights_dir: Path,
    tmp_path: Path,
    reference: LoadedWeights,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where flock is missing (Windows) or fails (ENOLCK), loading goes on unlocked."""

    class _NoLocks:
        LOCK_EX, LOCK_NB = 2, 4

        @staticmethod
        def flock(fd: int, operation: int) -> None:
            raise OSError(errno.ENOLCK, "No locks available")

    cache = tmp_path / "cache"
    monkeypatch.setattr(_weights, "fcntl", None)
    assert_same_tensors(load_weights(0.5, server.url, cache_dir=cache), reference)
    assert tree(host_dir(cache, server)) == expected_tree(weights_dir)
    monkeypatch.setattr(_weights, "fcntl", _NoLocks)
    (host_dir(cache, server) / SHARD).unlink()
    assert_same_tensors(load_weights(0.5, server.url, cache_dir=cache), reference)
    assert {k: v for k, v in tree(host_dir(cache, server)).items() if not k.endswith(".lock")} == (
        expected_tree(weights_dir)
    )


# --------------------------------------------------------------------------------------------
# No network unless weights must be downloaded

# Run first in a child: any attempt to reach the network (TCP/UDP connect or send, name
# resolution) is written to $NETLOG and fails. Local (AF_UNIX) sockets stay allowed.
_NO_NETWORK = r"""
import os, socket, traceback
_log_path = os.environ["NETLOG"]
def _refuse(what):
    with open(_log_path, "a") as log:
        log.write(f"{what}\n{''.join(traceback.format_stack(limit=8))}\n")
    raise OSError(f"network blocked by the test: {what}")
def _guard(name):
    real = getattr(socket.socket, name)
    def guarded(self, *args):
        if self.family != getattr(socket, "AF_UNIX", object()):
            _refuse(f"socket.{name}{args!r}")
        return real(self, *args)
    setattr(socket.socket, name, guarded)
for _name in ("connect", "connect_ex", "sendto", "sendmsg"):
    _guard(_name)
def _blocked(name):
    def blocked(*args, **kwargs):
        _refuse(f"socket.{name}{args!r}")
    return blocked
for _name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex",
              "gethostbyaddr", "getnameinfo"):
    setattr(socket, _name, _blocked(_name))
del _name
"""

_PROBE = r"""
import socket, urllib.request
try:
    urllib.request.urlopen("http://127.0.0.1:9/", timeout=5)
except OSError:
    pass
try:
    socket.getaddrinfo("example.org", 80)
except OSError:
    pass
"""

_OFFLINE_USE = r"""
import os, sys
import person_segmentation as ps
if os.path.exists(os.environ["NETLOG"]):
    sys.exit("the network was used while importing person_segmentation")
print("imported", flush=True)
import numpy as np
from person_segmentation import _weights
weights = sys.argv[1]
net = ps.load(0.5, weights=weights)
image = np.random.default_rng(0).integers(0, 256, (41, 29, 3), dtype=np.uint8)
mask = net.estimate_person_segmentation(image)
assert mask.shape == (41, 29) and mask.dtype == np.uint8, (mask.shape, mask.dtype)
from pathlib import Path
assert _weights.load_weights(0.5, Path(weights).as_uri()).multiplier == 0.5
assert _weights.load_weights(0.5).multiplier == 0.5  # via $PERSON_SEGMENTATION_WEIGHTS
print("segmented", flush=True)
"""


def run_offline(code: str, *args: str, netlog: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _NO_NETWORK + code, *args],
        env=child_env(NETLOG=str(netlog), **env),
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )


def test_blocker_catches_network_use(tmp_path: Path) -> None:
    """The guard used below does see (and stop) both a connection and a name lookup."""
    netlog = tmp_path / "net.log"
    done = run_offline(_PROBE, netlog=netlog)
    assert done.returncode == 0, done.stderr[-3000:]
    log = netlog.read_text()
    assert "socket.create_connection(('127.0.0.1', 9)" in log
    assert "socket.getaddrinfo('example.org', 80)" in log


def test_no_network_for_import_or_local_weights(weights_dir: Path, tmp_path: Path) -> None:
    """With every network call failing and logged, ``import person_segmentation`` works and
    so do loading local weights (path, file:// URL, $PERSON_SEGMENTATION_WEIGHTS) and
    segmenting an image; nothing is logged and nothing is downloaded into the cache (only
    the TFLite engine's converted models may be stored there)."""
    netlog = tmp_path / "net.log"
    cache = tmp_path / "cache"
    done = run_offline(
        _OFFLINE_USE,
        str(weights_dir),
        netlog=netlog,
        PERSON_SEGMENTATION_WEIGHTS=str(weights_dir),
        PERSON_SEGMENTATION_CACHE=str(cache),
    )
    log = netlog.read_text() if netlog.exists() else ""
    assert done.returncode == 0, f"{done.stderr[-3000:]}\nnetwork attempts:\n{log}"
    assert done.stdout.split() == ["imported", "segmented"]
    assert log == ""
    stored = sorted(p.relative_to(cache).parts[0] for p in cache.rglob("*") if p.is_file()) if cache.exists() else []
    assert set(stored) <= {"tflite"}, stored
