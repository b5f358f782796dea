"""Reliability of weight downloads against hostile servers: nothing is read beyond what a file
may hold, no download runs forever, redirects stay on http(s) and are bounded, and passwords in
URLs are never shown (issue 16, items 9, 11 and 12).

Servers listen on 127.0.0.1 only (port 0); each hostile body is bounded (in bytes or seconds) so
that even a loader that never gives up ends in bounded time. Limits are made small through the
environment where the defaults would make a test slow. Real weights come from the shared folder
(read only); everything written goes to ``tmp_path``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from person_segmentation import _weights
from person_segmentation._constants import MAX_MANIFEST_BYTES, MAX_REDIRECTS, MAX_WEIGHTS_BYTES
from person_segmentation._weights import LoadedWeights, WeightsError, load_weights

from .._localhttp import FileHandler, LocalHTTPServer, ServerFactory, isolate_download_env

pytestmark = pytest.mark.weights

FOLDER = "posenet_mobilenet_050_partmap"
MANIFEST = f"{FOLDER}/weights_manifest.json"
SHARD = f"{FOLDER}/group1-shard1of1"
SHARD_BYTES = 2269744
EXTRA = 100 << 20  # what an oversized answer adds: the 100 MB of the issue
SOCKET_SLACK = 32 << 20  # what loopback socket buffers may take in before the client hangs up
_T = TypeVar("_T")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_download_env(monkeypatch)


# --------------------------------------------------------------------------------------------
# The hostile server


class _Hostile(FileHandler):
    """Faults (URL path -> name):

    * ``oversize-declared``: the file plus EXTRA bytes, with that Content-Length;
    * ``oversize-undeclared``: the same without a Content-Length;
    * ``endless``: ``[`` then spaces without end (a manifest that never finishes);
    * ``drip``: the file with its Content-Length, one byte every 50 ms for 8 s, then the rest;
    * ``redirect:URL`` / ``redirect-endless:URL``: a 302 to URL (the second with a 64 MB body);
    * ``auth:USER:PASSWORD``: the file, only with that HTTP Basic authorization, else 401.
    """

    def fault(self, path: str, fault: str) -> None:
        kind, _, argument = fault.partition(":")
        if kind == "redirect":
            self.redirect(argument)
            return
        if kind == "redirect-endless":
            self.redirect(argument, endless=64 << 20)
            return
        if kind == "endless":
            self.send_response(200)
            self.end_headers()
            self.close_connection = True
            self.write_endless(path, head=b"[")
            return
        data = self.file_bytes(path)
        if data is None:
            self.send_error(404)
            return
        if kind == "auth":
            expected = "Basic " + base64.b64encode(argument.encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_error(401)
                return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if kind == "oversize-declared":
            self.send_header("Content-Length", str(len(data) + EXTRA))
        elif kind != "oversize-undeclared":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.close_connection = True
        if kind.startswith("oversize"):
            self.write_endless(path, head=data, block=b"\0" * 65536, limit=len(data) + EXTRA)
        elif kind == "drip":
            self.drip(path, data, delay=0.05, for_s=8.0)
        else:
            self.send_bytes(path, data)


@pytest.fixture
def server(local_http_server: ServerFactory, weights_dir: Path) -> LocalHTTPServer:
    return local_http_server(weights_dir, _Hostile)


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


def peak_memory(call: Callable[[], _T]) -> tuple[_T | BaseException, int]:
    """(what ``call`` returned or raised, the peak of Python allocations meanwhile, in bytes)."""
    tracemalloc.start()
    try:
        try:
            result: _T | BaseException = call()
        except Exception as exc:
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------------------------
# Sizes: a shard stops at the size its manifest fixes, a manifest at MAX_MANIFEST_BYTES


@pytest.mark.parametrize("fault", ["oversize-declared", "oversize-undeclared"])
def test_oversized_shard_is_not_read_past_its_size(server: LocalHTTPServer, tmp_path: Path, fault: str) -> None:
    """A server adding 100 MB to the 2.2 MB shard (announced or not) used to have all of it
    read into memory (200 MB of peak: the chunks and their join) and onto disk before the size
    check. Now an announced size is refused unread and an unannounced one is read to one byte
    past the 2.2 MB: the peak stays near the shard's size, the server gets to send no more
    than its socket buffers take, and the cache holds only the manifest."""
    server.faults["/" + SHARD] = fault
    cache = tmp_path / "cache"
    result, peak = peak_memory(lambda: load_weights(0.5, server.url, cache_dir=cache))
    assert isinstance(result, WeightsError), repr(result)
    message = str(result)
    assert f"weight shard {server.url}{SHARD} is too large (expected {SHARD_BYTES} bytes" in message
    if fault == "oversize-declared":
        assert f"its Content-Length says {SHARD_BYTES + EXTRA}); not read" in message
    else:
        assert f"reading stopped after {SHARD_BYTES + 1} bytes" in message
    assert peak < 4 * SHARD_BYTES + (8 << 20), f"peak of Python allocations: {peak / 1e6:.1f} MB"
    server.wait_done(SHARD)
    assert server.sent.get("/" + SHARD, 0) < SHARD_BYTES + SOCKET_SLACK
    assert set(tree(host_dir(cache, server))) == {MANIFEST}  # no partial or temporary file


def test_endless_manifest_stops_at_the_manifest_limit(server: LocalHTTPServer, tmp_path: Path) -> None:
    """A manifest that never ends used to be read until memory ran out; now reading stops one
    byte past MAX_MANIFEST_BYTES (4 MiB) and the error names the URL and the limit."""
    server.faults["/" + MANIFEST] = "endless"
    cache = tmp_path / "cache"
    began = time.monotonic()
    result, peak = peak_memory(lambda: load_weights(0.5, server.url, cache_dir=cache))
    elapsed = time.monotonic() - began
    assert isinstance(result, WeightsError), repr(result)
    assert (
        f"weights manifest {server.url}{MANIFEST} is too large (a weights manifest is at most "
        f"{MAX_MANIFEST_BYTES} bytes; the server sent more, and reading stopped after {MAX_MANIFEST_BYTES + 1} bytes)"
    ) in str(result)
    assert peak < 4 * MAX_MANIFEST_BYTES, f"peak of Python allocations: {peak / 1e6:.1f} MB"
    assert elapsed < 30
    server.wait_done(MANIFEST)
    assert server.sent.get("/" + MANIFEST, 0) < MAX_MANIFEST_BYTES + SOCKET_SLACK
    assert tree(host_dir(cache, server)) == {}


def test_manifest_describing_too_much_weight_data_is_refused_before_any_shard(
    local_http_server: ServerFactory, weights_dir: Path, tmp_path: Path
) -> None:
    """A manifest may fix any size for a shard: one asking for 4 TB is refused at once (more
    than MAX_WEIGHTS_BYTES), before a shard is requested."""
    site = tmp_path / "site" / FOLDER
    site.mkdir(parents=True)
    document = json.loads((weights_dir / MANIFEST).read_text())
    document[0]["weights"].append({"name": "huge", "shape": [1 << 40], "dtype": "float32"})
    (site / "weights_manifest.json").write_text(json.dumps(document))
    srv = local_http_server(tmp_path / "site")
    with pytest.raises(WeightsError, match=rf"describes \d+ bytes of weights, more than the {MAX_WEIGHTS_BYTES}"):
        load_weights(0.5, srv.url, cache_dir=tmp_path / "cache")
    assert srv.requests == ["/" + MANIFEST]


# --------------------------------------------------------------------------------------------
# Time: an overall deadline per file


@pytest.mark.parametrize("target", [MANIFEST, SHARD])
def test_drip_feed_ends_at_the_deadline(
    server: LocalHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    """One byte every 50 ms never trips the 2 s per-read timeout; it used to keep a download
    going for as long as the server liked (here 8 s, then the rest at once). The deadline
    ($PERSON_SEGMENTATION_DOWNLOAD_DEADLINE, here 1 s) ends it, naming the URL and the
    variable; nothing is left in the cache under the file's name."""
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT", "2")
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_DEADLINE", "1")
    server.faults["/" + target] = "drip"
    cache = tmp_path / "cache"
    began = time.monotonic()
    with pytest.raises(WeightsError) as info:
        load_weights(0.5, server.url, cache_dir=cache)
    elapsed = time.monotonic() - began
    message = str(info.value)
    assert f"from {server.url}{target}: not finished after 1 s (" in message
    assert "bytes received; set $PERSON_SEGMENTATION_DOWNLOAD_DEADLINE to allow longer" in message
    assert elapsed < 6.0  # the deadline, not the server's 8 s of dripping
    assert set(tree(host_dir(cache, server))) <= {MANIFEST} - {target}


def test_a_steady_download_within_the_deadline_succeeds(
    server: LocalHTTPServer, weights_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_DEADLINE", "60")
    server.throttle = (256 * 1024, 0.02)
    loaded = load_weights(0.5, server.url, cache_dir=tmp_path / "cache")
    assert loaded.multiplier == 0.5
    assert (host_dir(tmp_path / "cache", server) / SHARD).read_bytes() == (weights_dir / SHARD).read_bytes()


@pytest.mark.parametrize("value", ["abc", "0", "-1", "inf", "nan"])
def test_deadline_variable_is_checked(
    server: LocalHTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_DEADLINE", value)
    with pytest.raises(WeightsError, match=r"\$PERSON_SEGMENTATION_DOWNLOAD_DEADLINE must be a positive number"):
        load_weights(0.5, server.url, cache_dir=tmp_path / "cache")
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_DEADLINE", " 7.5 ")
    assert _weights._download_deadline() == 7.5
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_DEADLINE", "")
    assert _weights._download_deadline() == 600.0


# --------------------------------------------------------------------------------------------
# Redirects: http(s) only, at most MAX_REDIRECTS, bodies never read


@pytest.fixture
def silent_listener() -> Iterator[socket.socket]:
    """A TCP socket on 127.0.0.1 that accepts nothing: a connection attempt stays pending."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)
        yield listener


def _attempted(listener: socket.socket) -> bool:
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


@pytest.mark.parametrize("scheme", ["ftp", "file"])
def test_redirect_to_another_scheme_is_refused(
    server: LocalHTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    silent_listener: socket.socket,
    scheme: str,
) -> None:
    """An http -> ftp redirect used to be followed (urllib allows ftp), and http -> file gave a
    raw urllib message; both are now refused, naming the target, before any connection."""
    monkeypatch.setenv("PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT", "2")  # bounds what the old code waited
    port = silent_listener.getsockname()[1]
    target = f"ftp://127.0.0.1:{port}/weights_manifest.json" if scheme == "ftp" else "file:///etc/passwd"
    server.faults["/" + MANIFEST] = f"redirect:{target}"
    with pytest.raises(WeightsError) as info:
        load_weights(0.5, server.url, cache_dir=tmp_path / "cache")
    assert str(info.value) == (
        f"could not download weights manifest from {server.url}{MANIFEST}: HTTP 302 redirects to {target}; "
        "only http and https redirects are followed"
    )
    assert not _attempted(silent_listener)


def _chain(srv: LocalHTTPServer, redirects: int, prefix: str = "hop") -> str:
    """Faults making ``<prefix>0/X`` reach ``X`` (X: the manifest and the shard) through
    ``redirects`` relative redirects; returns the base URL to load."""
    for relative in (MANIFEST, SHARD):
        for hop in range(redirects):
            following = f"/{prefix}{hop + 1}/{relative}" if hop + 1 < redirects else f"/{relative}"
            srv.faults[f"/{prefix}{hop}/{relative}"] = f"redirect:{following}"
    return f"{srv.url}{prefix}0/"


def test_redirects_up_to_the_limit_are_followed(server: LocalHTTPServer, tmp_path: Path) -> None:
    url = _chain(server, MAX_REDIRECTS)
    loaded = load_weights(0.5, url, cache_dir=tmp_path / "cache")
    assert loaded.source == f"{url}{MANIFEST}"  # the URL asked for, cached under its name
    assert server.count(MANIFEST) == server.count(SHARD) == 1


def test_one_redirect_too_many_is_refused(server: LocalHTTPServer, tmp_path: Path) -> None:
    """urllib follows 10; the loader MAX_REDIRECTS (5) per file."""
    url = _chain(server, MAX_REDIRECTS + 1)
    with pytest.raises(WeightsError, match=re.escape(f"from {url}{MANIFEST}: more than 5 redirects (the last to ")):
        load_weights(0.5, url, cache_dir=tmp_path / "cache")
    assert server.count(MANIFEST) == 0


def test_redirect_loop_is_refused(server: LocalHTTPServer, tmp_path: Path) -> None:
    server.faults["/" + MANIFEST] = "redirect:/" + MANIFEST
    with pytest.raises(WeightsError, match=re.escape(f"{server.url}{MANIFEST}: more than 5 redirects")):
        load_weights(0.5, server.url, cache_dir=tmp_path / "cache")
    assert server.count(MANIFEST) == MAX_REDIRECTS + 1


def test_a_redirects_body_is_never_read(server: LocalHTTPServer, tmp_path: Path) -> None:
    """urllib reads a redirect's body whole before following it (here 64 MB; a hostile server
    need never stop); the loader hangs up at once."""
    server.faults["/long/" + MANIFEST] = "redirect-endless:/" + MANIFEST
    server.faults["/long/" + SHARD] = "redirect:/" + SHARD
    loaded = load_weights(0.5, server.url + "long/", cache_dir=tmp_path / "cache")
    assert loaded.multiplier == 0.5
    server.wait_done("long/" + MANIFEST)
    assert server.sent.get("/long/" + MANIFEST, 0) < SOCKET_SLACK


# --------------------------------------------------------------------------------------------
# Credentials in URLs: used, never shown


def test_password_in_the_url_is_used_and_never_shown(
    server: LocalHTTPServer, weights_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``http://user:s%40cret@host/`` used to fail (urllib took "s@cret@host" for a host) with
    the password in the message; now it is sent as HTTP Basic authorization and every message,
    log line and the source read ``user:***@host``."""
    for relative in (MANIFEST, SHARD):
        server.faults["/" + relative] = "auth:user:s@cret"
    url = f"http://user:s%40cret@127.0.0.1:{server.port}/"
    shown = f"http://user:***@127.0.0.1:{server.port}/"
    caplog.set_level(logging.DEBUG, logger="person_segmentation")
    loaded = load_weights(0.5, url, cache_dir=tmp_path / "cache")
    assert loaded.source == shown + MANIFEST
    assert "cret" not in repr(loaded)
    assert loaded.tensors.keys() == load_weights(0.5, weights_dir).tensors.keys()
    expected = "Basic " + base64.b64encode(b"user:s@cret").decode()
    assert [h.get("Authorization") for h in server.headers_of(SHARD)] == [expected]
    assert (host_dir(tmp_path / "cache", server) / SHARD).is_file()  # cached by host, not by user
    assert "downloading " + shown in caplog.text
    assert "cret" not in caplog.text


@pytest.mark.parametrize(("userinfo", "shown"), [("user:wr0ng", "user:***"), ("t0ken", "***"), ("user:", "user:***")])
def test_refused_credentials_are_redacted_in_the_error(
    server: LocalHTTPServer, tmp_path: Path, caplog: pytest.LogCaptureFixture, userinfo: str, shown: str
) -> None:
    server.faults["/" + MANIFEST] = "auth:user:s@cret"
    caplog.set_level(logging.DEBUG, logger="person_segmentation")
    with pytest.raises(WeightsError) as info:
        load_weights(0.5, f"http://{userinfo}@127.0.0.1:{server.port}/", cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert message == (
        f"could not download weights manifest from http://{shown}@127.0.0.1:{server.port}/{MANIFEST}: "
        "HTTP 401 Unauthorized"
    )
    secret = userinfo.split(":")[-1]
    if secret:
        assert secret not in message and secret not in caplog.text


def test_credentials_are_not_sent_on_to_a_redirect(
    server: LocalHTTPServer, local_http_server: ServerFactory, weights_dir: Path, tmp_path: Path
) -> None:
    """The Authorization header goes to the URL given only, not to another server it
    redirects to (nor into that URL)."""
    other = local_http_server(weights_dir)
    for relative in (MANIFEST, SHARD):
        server.faults["/" + relative] = f"redirect:{other.url}{relative}"
    loaded: LoadedWeights = load_weights(0.5, f"http://me:pa55@127.0.0.1:{server.port}/", cache_dir=tmp_path / "c")
    assert loaded.multiplier == 0.5
    assert server.headers_of(MANIFEST)[0]["Authorization"] == "Basic " + base64.b64encode(b"me:pa55").decode()
    assert [h.get("Authorization") for h in other.headers_of(MANIFEST) + other.headers_of(SHARD)] == [None, None]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("ftp://user:s3cr3t@example.org/w/", "unsupported URL scheme 'ftp' in ftp://user:***@example.org/w/"),
        ("file://user:s3cr3t@example.org/w", "unsupported file URL file://user:***@example.org/w"),
        ("http://user:s3cr3t@/w", "URL http://user:***@/w has no host"),
        ("http://user:s3cr3t@[::1/w", "invalid URL http://user:***@[::1/w"),
        ("http://user:s3cr3t@example.org:99999/w", "invalid URL http://user:***@example.org:99999/w"),
    ],
)
def test_every_message_naming_a_url_is_redacted(tmp_path: Path, location: str, message: str) -> None:
    with pytest.raises(WeightsError) as info:
        load_weights(0.5, location, cache_dir=tmp_path / "cache")
    assert message in str(info.value)
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@h/x", "https://u:***@h/x"),
        ("https://u:p@h:8080/x@y", "https://u:***@h:8080/x@y"),
        ("https://tok@h/", "https://***@h/"),
        ("https://u:p@ss@h/", "https://u:***@h/"),
        ("https://h/a@b", "https://h/a@b"),
        ("https://h?q=a@b", "https://h?q=a@b"),
        ("https://u:p@h?q=a@b", "https://u:***@h?q=a@b"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert _weights.redact_url(url) == shown


# --------------------------------------------------------------------------------------------
# Manifests that break parsers, over HTTP


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "is not a weights manifest: its JSON is nested too deeply to parse"),
        (b'{"weightsManifest": ' + b"[" * 100_000, "is not a weights manifest: its JSON is nested too deeply"),
        (b"[" + b"1" * 5000 + b"]", "is not valid JSON"),
    ],
    ids=["nested-100000", "nested-unclosed", "5000-digit-int"],
)
def test_unparsable_manifest_over_http(
    local_http_server: ServerFactory, tmp_path: Path, content: bytes, message: str
) -> None:
    """A manifest nested 100,000 deep used to raise RecursionError (not a WeightsError); now
    every parse failure is a WeightsError naming the URL, and nothing is cached."""
    site = tmp_path / "site" / FOLDER
    site.mkdir(parents=True)
    (site / "weights_manifest.json").write_bytes(content)
    srv = local_http_server(tmp_path / "site")
    with pytest.raises(WeightsError, match=re.escape(f"{srv.url}{MANIFEST} {message}")):
        load_weights(0.5, srv.url, cache_dir=tmp_path / "cache")
    assert tree(host_dir(tmp_path / "cache", srv)) == {}


def _fifo_writer(path: Path, after_s: float, stop: threading.Event) -> Callable[[], None]:
    """A function that, after ``after_s`` and until ``stop``, waits for a reader of the FIFO
    ``path`` and writes ``[]`` to it (what unblocks a reader stuck in open, as the old code was)."""

    def write() -> None:
        if stop.wait(after_s):
            return
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: no reader
                stop.wait(0.05)
                continue
            try:
                with os.fdopen(fd, "wb") as stream:
                    stream.write(b"[]")
            except OSError:  # the reader went away meanwhile
                pass
            return

    return write


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_place_of_the_manifest_is_refused_at_once(tmp_path: Path) -> None:
    """Reading a FIFO blocks until someone writes; the loader opens manifests without
    blocking and takes regular files only. (A helper thread writes after 3 s, so that the old
    code, stuck in open, ended too.)"""
    folder = tmp_path / FOLDER
    folder.mkdir()
    fifo = folder / "weights_manifest.json"
    os.mkfifo(fifo)
    stop = threading.Event()
    writer = threading.Thread(target=_fifo_writer(fifo, 3.0, stop), daemon=True)
    began = time.monotonic()
    writer.start()
    try:
        with pytest.raises(WeightsError, match=re.escape(f"cannot read weights manifest {fifo}: ") + ".*not a regular"):
            load_weights(0.5, folder)
        assert time.monotonic() - began < 1.0
    finally:
        stop.set()
        writer.join(10)


def test_info_command_redacts_the_weights_variable(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """``person-segmentation info`` printed $PERSON_SEGMENTATION_WEIGHTS verbatim."""
    from person_segmentation.cli import main

    monkeypatch.setenv("PERSON_SEGMENTATION_WEIGHTS", "https://me:hunter2@mirror.example/w/")
    assert main(["info"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["weights"] == "https://me:***@mirror.example/w/"
