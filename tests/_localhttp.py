"""One local HTTP server for the tests: serves a folder on 127.0.0.1 and can be told to misbehave.

``LocalHTTPServer`` owns the lifecycle (a free port on 127.0.0.1, a daemon thread polling every
20 ms, restart on the same port, shutdown/close/join on teardown) and the state that handlers
share: a thread-safe log of requested paths, ``faults`` (URL path -> fault name), an optional
``throttle``, and the ``stalled``/``release`` events. ``FileHandler`` serves ``root`` like
``SimpleHTTPRequestHandler`` (quietly, honouring the throttle) and passes every faulted request
to its ``fault`` hook, which test modules override with the faults they need.

Tests get servers through the ``local_http_server`` fixture (tests/conftest.py), which closes
every server it started. Only loopback addresses are used; every wait is bounded.
"""

from __future__ import annotations

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
        self.local.record(path)
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

    def record(self, path: str) -> None:
        with self._mutex:
            self._requests.append(path)

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
