"""A persistent MediaPipe selfie-segmentation process, and its client.

``python mediapipe_worker.py`` runs in the MediaPipe environment (``bench/mediapipe_env.py``;
Python 3.9+, numpy<2) and serves requests on stdin/stdout. :class:`MediaPipeWorker` starts it
from the benchmark's environment and talks to it. Neither side pickles anything, so the two
numpy versions never meet.

Each message, both ways: two little-endian uint32 (header length, payload length), a UTF-8
JSON header, then the raw payload bytes (usually none). Requests (``cmd`` in the header):

- ``load`` (``shape``: [n, height, width, 3], payload: the uint8 RGB frames, C order): keep them;
- ``run`` (``frame``: index, ``model``: 0 or 1, ``return_mask``: bool): segment a loaded frame
  with ``mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=model)`` (created
  on first use, then reused), threshold its person probability at :data:`THRESHOLD`; reply
  ``shape`` and ``person_pixels``, plus the mask (uint8 0/1, height x width) as payload if asked;
- ``noop``: reply at once (the bare round trip);
- ``quit``: reply and exit.

Replies have ``ok``; a failed request replies ``ok: false`` with ``error`` (the traceback) and
the worker keeps serving. On start the worker replies once, unasked, with ``mediapipe`` (its
version). Anything else it or MediaPipe prints goes to its stderr, never into the channel.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import traceback
from pathlib import Path
from typing import IO, Any

import numpy as np

#: Person-probability threshold of the returned masks: the same as person_segmentation's default.
THRESHOLD = 0.5
#: ``model_selection`` values: 0 = general (256 x 256 input), 1 = landscape (144 x 256).
MODELS = {0: "general", 1: "landscape"}

_LENGTHS = struct.Struct("<II")
Header = dict[str, Any]


def send(stream: IO[bytes], header: Header, payload: bytes = b"") -> None:
    encoded = json.dumps(header).encode()
    stream.write(_LENGTHS.pack(len(encoded), len(payload)) + encoded)
    if payload:
        stream.write(payload)
    stream.flush()


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size) if size else b""
    if len(data) != size:
        raise EOFError("the other end closed the channel")
    return data


def receive(stream: IO[bytes]) -> tuple[Header, bytes]:
    header_size, payload_size = _LENGTHS.unpack(_read_exactly(stream, _LENGTHS.size))
    header: Header = json.loads(_read_exactly(stream, header_size))
    return header, _read_exactly(stream, payload_size)


# --- the worker (runs in the MediaPipe environment) ---------------------------------------------


def serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    import mediapipe as mp

    frames = np.zeros((0, 0, 0, 3), np.uint8)
    models: dict[int, Any] = {}
    send(replies, {"ok": True, "mediapipe": mp.__version__})
    while True:
        try:
            header, payload = receive(requests)
        except EOFError:  # the client is gone
            return
        command = header.get("cmd")
        reply: Header = {"ok": True}
        data = b""
        try:
            if command == "run":
                model = header.get("model", 0)
                if model not in models:
                    models[model] = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=model)
                mask = models[model].process(frames[header["frame"]]).segmentation_mask > THRESHOLD
                reply.update(shape=list(mask.shape), person_pixels=int(np.count_nonzero(mask)))
                if header.get("return_mask"):
                    data = mask.astype(np.uint8).tobytes()
            elif command == "load":
                frames = np.frombuffer(payload, np.uint8).reshape(header["shape"])
                reply["frames"] = len(frames)
            elif command == "quit":
                send(replies, reply)
                return
            elif command != "noop":
                raise ValueError(f"unknown command {command!r}")
        except Exception:
            reply, data = {"ok": False, "error": traceback.format_exc()}, b""
        send(replies, reply, data)


def main() -> None:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints (also from C++) go to stderr
    sys.stdout = sys.stderr
    with replies:
        serve(sys.stdin.buffer, replies)


# --- the client (runs in the benchmark's environment) -------------------------------------------


class WorkerError(RuntimeError):
    """The worker failed a request, or could not start or died (the message says why)."""


class MediaPipeWorker:
    """The worker run by ``python``; its stderr goes to the file ``log``."""

    def __init__(self, python: str | os.PathLike[str], log: Path) -> None:
        self.log = log
        with log.open("wb") as stderr:
            self._process = subprocess.Popen(
                [os.fspath(python), str(Path(__file__).resolve())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        try:
            self.version: str = self._receive()[0]["mediapipe"]
        except WorkerError:
            self.close()
            raise

    def _receive(self) -> tuple[Header, bytes]:
        assert self._process.stdout is not None
        try:
            header, payload = receive(self._process.stdout)
        except EOFError:
            code = self._process.wait(timeout=10)
            log = "\n".join(self.log.read_text(errors="replace").strip().splitlines()[-15:])
            raise WorkerError(f"the MediaPipe worker exited with code {code}; its stderr ends with:\n{log}") from None
        if not header["ok"]:
            raise WorkerError(f"the MediaPipe worker failed:\n{header['error']}")
        return header, payload

    def request(self, header: Header, payload: bytes = b"") -> tuple[Header, bytes]:
        assert self._process.stdin is not None
        send(self._process.stdin, header, payload)
        return self._receive()

    def load(self, frames: np.ndarray) -> None:
        """Send the frames: a uint8 (n, height, width, 3) RGB array."""
        self.request({"cmd": "load", "shape": list(frames.shape)}, frames.tobytes())

    def run(self, frame: int, model: int = 0) -> Header:
        """Segment loaded frame ``frame``; ``{"shape": [h, w], "person_pixels": count}``."""
        return self.request({"cmd": "run", "frame": frame, "model": model})[0]

    def mask(self, frame: int, model: int = 0) -> np.ndarray:
        """The same, returning the thresholded mask: uint8 (height, width), 0 or 1."""
        header, payload = self.request({"cmd": "run", "frame": frame, "model": model, "return_mask": True})
        return np.frombuffer(payload, np.uint8).reshape(header["shape"])

    def noop(self) -> None:
        self.request({"cmd": "noop"})

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self.request({"cmd": "quit"})
            except (WorkerError, OSError):
                pass
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()


if __name__ == "__main__":
    main()
