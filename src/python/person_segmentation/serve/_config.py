"""The server's settings: one frozen dataclass, JSON round-trippable so that every uvicorn
worker process (``--workers N``) rebuilds the same app from the environment."""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field

from person_segmentation import _checks
from person_segmentation._constants import (
    BUNDLED_MULTIPLIER,
    SERVE_DEFAULT_MAX_BODY,
    SERVE_DEFAULT_MAX_PIXELS,
    SERVE_DEFAULT_QUEUE,
    SERVE_DEFAULT_THREADS,
)

#: The environment variable that carries the settings (JSON) to uvicorn's worker processes.
CONFIG_ENV = "PERSON_SEGMENTATION_SERVE_CONFIG"


@dataclass(frozen=True)
class ServeConfig:
    """What ``person-segmentation serve`` was started with.

    Attributes:
        host, port: where uvicorn listens (127.0.0.1 unless told otherwise).
        workers: uvicorn worker processes; each loads the model once.
        threads: inferences run at once per process (threads sharing the one model).
        queue: requests that may wait for a free inference thread; beyond ``threads + queue``
            in flight a request gets 503 with ``Retry-After``.
        max_pixels: the largest image (width x height) accepted; larger ones get 413.
        max_body: the largest request body in bytes; larger ones get 413 (checked while
            the body streams in, and from Content-Length before).
        cors_origins: origins allowed by CORS; empty (the default) = CORS off.
        multiplier, output_stride, quant_bytes, model_url, engine, num_threads: the model, as
            :func:`person_segmentation.bodypix.load` takes them (None: the bundled model).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    threads: int = SERVE_DEFAULT_THREADS
    queue: int = SERVE_DEFAULT_QUEUE
    max_pixels: int = SERVE_DEFAULT_MAX_PIXELS
    max_body: int = SERVE_DEFAULT_MAX_BODY
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    multiplier: float = BUNDLED_MULTIPLIER
    output_stride: int = 16
    quant_bytes: int = 2
    model_url: str | None = None
    engine: str = "auto"
    num_threads: int | None = None

    def __post_init__(self) -> None:
        _checks.check_int(self.port, "port", 0, 65535)
        _checks.check_int(self.workers, "workers", 1, 64)
        _checks.check_int(self.threads, "threads", 1, 64)
        _checks.check_int(self.queue, "queue", 0, 10_000)
        _checks.check_int(self.max_pixels, "max_pixels", 1)
        _checks.check_int(self.max_body, "max_body", 1)
        _checks.check_bodypix_output_stride(self.output_stride)
        if not isinstance(self.cors_origins, tuple) or not all(isinstance(o, str) for o in self.cors_origins):
            raise TypeError(f"cors_origins must be a tuple of str, got {self.cors_origins!r}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        values = json.loads(text)
        values["cors_origins"] = tuple(values.get("cors_origins", ()))
        return cls(**values)

    @classmethod
    def from_environment(cls) -> ServeConfig:
        """The settings a worker process was started with (defaults when unset)."""
        text = os.environ.get(CONFIG_ENV)
        return cls.from_json(text) if text else cls()
