"""One local HTTP server for the tests: serves a folder on 127.0.0.1 and can be told to misbehave.

``LocalHTTPServer`` owns the lifecycle (a free port on 127.0.0.1, a daemon thread polling every
20 ms, restart on the same port, shutdown/close/join on teardown) and the state that handlers
share: a thread-safe log of requested paths (and of their headers), ``faults`` (URL path ->
fault name), an optional ``throttle``, the body bytes each faulted path was sent, and the
``stalled``/``release`` events. ``FileHandler`` serves ``root`` like ``SimpleHTTPRequestHandler``
(quietly, honouring the throttle) and passes every faulted request to its ``fault`` hook, which
test modules override with the faults they need; the building blocks of hostile servers
(``redirect``, ``write_endless``, ``drip``) are here, each bounded in bytes or time.

Tests get servers through the ``local_http_server`` fixture (tests/conftest.py), which closes
every server it started. Only loopback addresses are used; every wait is bounded.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
POLL_S = 0.02  # serve_forever's poll interval: how soon a stop is noticed
JOIN_S = 30.0  # upper bound for the serving thread to end once shut down
STALL_S = 120.0  # upper bound for a stalled handler to wait for ``release``
ENDLESS_BYTES = 1 << 30  # what an "endless" body sends at most, should the client never hang up


class _Listener(ThreadingHTTPServer):
    """The socket server behind one ``LocalHTTPServer.start()``; lives until ``stop()``."""

    daemon_threads = True  # a handler still stalled never keeps the process alive

    def __init__(self, local: LocalHTTPServer) -> None:
        self.local = local
        super().__init__((HOST, local.port), local.handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that give up (timeouts, killed processes) are expected here


class FileHandler(SimpleHTTPRequestHandler):
    """Serves the server's ``root``. Each GET is logged; one whose path has a fault set is
    handed to ``fault()`` instead (subclasses define the faults; this one knows none)."""

    server: _Listener

    def __init__(self, request: Any, client_address: Any, server: _Listener) -> None:
        super().__init__(request, client_address, server, directory=str(server.local.root))

    @property
    def local(self) -> LocalHTTPServer:
        return self.server.local

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        self.local.record(path, dict(self.headers.items()))
        fault = self.local.faults.get(path)
        if fault is None:
            super().do_GET()
        else:
            self.fault(path, fault)

    def fault(self, path: str, fault: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} knows no fault {fault!r} (for {path})")

    def file_bytes(self, path: str) -> bytes | None:
        """The bytes of the file ``path`` names under ``root``, or None (no such file, or
        a path that would leave ``root``)."""
        file = self.local.root / path.lstrip("/")
        if ".." in path.split("/") or not file.is_file():
            return None
        return file.read_bytes()

    def write_body(self, data: bytes) -> None:
        """Send ``data`` in ``throttle``-sized chunks, pausing after each."""
        chunk, delay = self.local.throttle
        for start in range(0, len(data), chunk):
            self.wfile.write(data[start : start + chunk])
            if delay:
                time.sleep(delay)

    def copyfile(self, source: Any, outputfile: Any) -> None:
        chunk, delay = self.local.throttle
        while block := source.read(chunk):
            outputfile.write(block)
            if delay:
                time.sleep(delay)

    def send_bytes(self, path: str, data: bytes) -> None:
        """Write ``data`` and count it as sent for ``path`` (see ``LocalHTTPServer.sent``)."""
        self.wfile.write(data)
        self.local.add_sent(path, len(data))

    def redirect(self, location: str, code: int = 302, body: bytes = b"", endless: int = 0) -> None:
        """Answer with a redirect to ``location``; with ``endless`` (a byte count), follow it by
        a body without a Content-Length that goes on until the client hangs up or that many
        bytes have gone (``write_endless``)."""
        self.send_response(code)
        self.send_header("Location", location)
        if not endless:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        if endless:
            self.write_endless(urllib.parse.urlsplit(self.path).path, limit=endless)
        elif body:
            self.send_bytes(urllib.parse.urlsplit(self.path).path, body)

    def write_endless(
        self, path: str, block: bytes = b" " * 65536, head: bytes = b"", limit: int = ENDLESS_BYTES
    ) -> None:
        """Send ``head`` then ``block`` over and over until the client hangs up or ``limit``
        bytes have gone, counting what was sent for ``path``; then mark ``path`` done."""
        sent = 0
        try:
            if head:
                self.send_bytes(path, head)
                sent += len(head)
            while sent < limit:
                self.send_bytes(path, block[: limit - sent])
                sent += len(block[: limit - sent])
        except OSError:  # BrokenPipeError, ConnectionResetError: the client stopped reading
            pass
        finally:
            self.local.mark_done(path)

    def drip(self, path: str, data: bytes, delay: float, for_s: float) -> None:
        """Send ``data`` one byte every ``delay`` seconds for ``for_s`` seconds, then the rest
        at once (so that a client that waits it out still ends in bounded time)."""
        ends = time.monotonic() + for_s
        sent = 0
        try:
            while sent < len(data) and time.monotonic() < ends:
                self.send_bytes(path, data[sent : sent + 1])
                self.wfile.flush()
                sent += 1
                time.sleep(delay)
            self.send_bytes(path, data[sent:])
        except OSError:
            pass
        finally:
            self.local.mark_done(path)

    def stall(self) -> None:
        """Announce a stall (``stalled``), then wait for ``release`` (set at teardown)."""
        self.local.stalled.set()
        self.local.release.wait(STALL_S)


class LocalHTTPServer:
    """Serves ``root`` on 127.0.0.1 with ``handler``; ``stop()`` then ``start()`` reuses the
    port, and the request log, faults and events carry over. ``close()`` ends it for good."""

    def __init__(self, root: Path, handler: type[FileHandler] = FileHandler) -> None:
        self.root = Path(root)
        self.handler = handler
        self.port = 0  # 0 until the first start() picks a free one
        self.faults: dict[str, str] = {}  # URL path -> fault name, as the handler defines them
        self.throttle: tuple[int, float] = (1 << 20, 0.0)  # (chunk bytes, pause after each)
        self.stalled = threading.Event()  # a stalling fault has been reached
        self.release = threading.Event()  # ends every stall; set by close()
        self._mutex = threading.Lock()
        self._requests: list[str] = []
        self._headers: list[tuple[str, dict[str, str]]] = []
        self._sent: dict[str, int] = {}
        self._done = threading.Condition(self._mutex)
        self._finished: dict[str, int] = {}
        self._listener: _Listener | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    @property
    def requests(self) -> list[str]:
        """The URL paths of every GET so far, in order (a copy)."""
        with self._mutex:
            return list(self._requests)

    def record(self, path: str, headers: dict[str, str] | None = None) -> None:
        with self._mutex:
            self._requests.append(path)
            self._headers.append((path, dict(headers or {})))

    def headers_of(self, relative: str) -> list[dict[str, str]]:
        """The request headers of every GET of ``/<relative>`` so far, in order."""
        with self._mutex:
            return [dict(h) for p, h in self._headers if p == "/" + relative]

    def add_sent(self, path: str, count: int) -> None:
        with self._mutex:
            self._sent[path] = self._sent.get(path, 0) + count

    def mark_done(self, path: str) -> None:
        with self._done:
            self._finished[path] = self._finished.get(path, 0) + 1
            self._done.notify_all()

    def wait_done(self, relative: str, times: int = 1, timeout: float = STALL_S) -> None:
        """Wait (at most ``timeout`` s) until ``write_endless``/``drip`` for ``/<relative>`` has
        ended ``times`` times, so that ``sent`` is final; raise TimeoutError otherwise."""
        with self._done:
            if not self._done.wait_for(lambda: self._finished.get("/" + relative, 0) >= times, timeout):
                raise TimeoutError(f"the handler for /{relative} did not finish within {timeout} s")

    @property
    def sent(self) -> dict[str, int]:
        """Body bytes written by the fault helpers, by URL path (a copy)."""
        with self._mutex:
            return dict(self._sent)

    def count(self, relative: str) -> int:
        """How many times ``/<relative>`` was requested."""
        with self._mutex:
            return self._requests.count("/" + relative)

    @property
    def running(self) -> bool:
        return self._listener is not None

    def start(self) -> LocalHTTPServer:
        if self._listener is not None:
            raise RuntimeError(f"{self.url} is already serving")
        listener = _Listener(self)
        self.port = listener.server_address[1]
        thread = threading.Thread(target=listener.serve_forever, args=(POLL_S,), name=f"http-{self.port}", daemon=True)
        thread.start()
        self._listener, self._thread = listener, thread
        return self

    def stop(self) -> None:
        """Stop serving (connections are refused) but keep the port for ``start()``."""
        listener, thread = self._listener, self._thread
        if listener is None or thread is None:
            return
        self._listener = self._thread = None
        try:
            listener.shutdown()
        finally:
            listener.server_close()
            thread.join(JOIN_S)
        if thread.is_alive():
            raise RuntimeError(f"the server thread for {self.url} did not end within {JOIN_S} s")

    def close(self) -> None:
        """Release every stalled handler, then stop."""
        self.release.set()
        self.stop()


ServerFactory = Callable[..., LocalHTTPServer]
"""``local_http_server(root, handler=FileHandler) -> LocalHTTPServer`` (already serving)."""


PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server process a test starts itself)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def isolate_download_env(monkeypatch: Any) -> None:
    """No weights/cache/timeout/deadline setting or proxy leaks in from the environment, and
    loopback is never proxied (for the download tests' autouse fixtures)."""
    for name in (
        "PERSON_SEGMENTATION_WEIGHTS",
        "PERSON_SEGMENTATION_CACHE",
        "PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT",
        "PERSON_SEGMENTATION_DOWNLOAD_DEADLINE",
        "XDG_CACHE_HOME",
        *PROXY_VARS,
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
