"""The ASGI application: routes, the inference queue, the demo's WebSocket, error answers.

Why one module (about 400 lines): it is the server's whole surface, the routes and the one
queue they share, read in one place; the pieces that are not about HTTP live beside it
(``_model`` the model adapter, ``_options`` the validation, ``_body`` bounded body reading,
``_images`` decoding/encoding, ``_render`` the outputs).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import importlib.resources
import json
import logging
import math
import struct
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

import numpy as np
from fastapi import FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response

from person_segmentation._constants import SERVE_FORMATS, SERVE_OUTPUTS
from person_segmentation._version import __version__
from person_segmentation.serve._body import check_content_length, read_limited, read_multipart
from person_segmentation.serve._config import ServeConfig
from person_segmentation.serve._images import ApiError, allow_pixels, decode, encode
from person_segmentation.serve._model import BodyPixModel, Model
from person_segmentation.serve._options import OptionsError, SegmentOptions, parse_options, problems_of
from person_segmentation.serve._render import document, draw, replace_with_image

_log = logging.getLogger("person_segmentation.serve")
_T = TypeVar("_T")

#: The static files of the demo page, read once from the package (a request never names a file).
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css"}
#: WebSocket binary message tags (first byte) from the client.
_FRAME, _BACKGROUND = ord("F"), ord("B")


def _static_files() -> dict[str, tuple[bytes, str]]:
    root = importlib.resources.files("person_segmentation.serve") / "static"
    files = {}
    for entry in root.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in _STATIC_TYPES:
            files[entry.name] = (entry.read_bytes(), _STATIC_TYPES[suffix])
    return files


class Inference:
    """The bounded queue in front of the model: ``threads`` inferences at once on a thread pool,
    up to ``queue`` more waiting; beyond that :meth:`run` answers 503 with ``Retry-After`` at
    once. Counting happens on the event loop; a slot is released when its work has finished
    (not when a client gives up), so the pool is never oversubscribed."""

    def __init__(self, threads: int, queue: int) -> None:
        self.threads = threads
        self.capacity = threads + queue
        self.in_flight = 0
        self._pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="ps-serve")
        self._recent: collections.deque[float] = collections.deque(maxlen=32)

    def retry_after(self) -> int:
        """Seconds a client should wait: the queue ahead of it at the recent mean latency (>= 1)."""
        mean = sum(self._recent) / len(self._recent) if self._recent else 1.0
        return max(1, math.ceil(mean * self.in_flight / self.threads))

    def _release(self, _: object) -> None:
        self.in_flight -= 1

    def check(self) -> None:
        """503 now when the queue is full (before a request's body is read)."""
        if self.in_flight >= self.capacity:
            raise ApiError(
                503,
                "busy",
                f"the server is busy ({self.in_flight} requests in progress or queued, the limit is {self.capacity}); "
                "retry later",
                headers={"Retry-After": str(self.retry_after())},
            )

    async def run(self, work: Callable[[], _T]) -> _T:
        """``work()`` on the pool; 503 (:class:`ApiError`) when the queue is full."""
        self.check()
        self.in_flight += 1

        def timed() -> _T:
            start = time.perf_counter()
            try:
                return work()
            finally:
                self._recent.append(time.perf_counter() - start)

        future = asyncio.get_running_loop().run_in_executor(self._pool, timed)
        future.add_done_callback(self._release)
        return await asyncio.shield(future)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


class _Work:
    """One image through decode -> model -> output, on an inference thread."""

    def __init__(
        self, model: Model, config: ServeConfig, options: SegmentOptions, *, people_overlay: bool = False
    ) -> None:
        self.model = model
        self.config = config
        self.options = options
        self.people_overlay = people_overlay

    def __call__(self, data: bytes, background: bytes | np.ndarray | None) -> tuple[bytes, str, dict[str, Any]]:
        o = self.options
        timings: dict[str, float] = {}
        start = time.perf_counter()
        frame = decode(data, self.config.max_pixels)
        back = decode(background, self.config.max_pixels, "background") if isinstance(background, bytes) else background
        timings["decode_ms"] = _ms(time.perf_counter() - start)
        try:
            seg = self.model.segment(frame, o.need, o.model_options(self.config.output_stride))
        except ValueError as exc:  # an image the model cannot take (e.g. too small for the stride)
            raise ApiError(422, "cannot_segment", f"image: {exc}") from None
        timings["inference_ms"] = round(seg.inference_ms, 2)
        mark = time.perf_counter()
        height, width = frame.shape[:2]
        if o.output == "json":
            result = document(seg, height, width)
            timings["render_ms"] = _ms(time.perf_counter() - mark)
            timings["total_ms"] = _ms(time.perf_counter() - start)
            result["timings"] = timings
            return json.dumps(result).encode(), "application/json", result
        if o.output == "replace" and back is not None:
            image: Any = replace_with_image(frame, seg, back, o)
        else:
            image = draw(frame, seg, o, people_overlay=self.people_overlay)
        timings["render_ms"] = _ms(time.perf_counter() - mark)
        mark = time.perf_counter()
        body, media_type = encode(image, o.format, o.quality)
        timings["encode_ms"] = _ms(time.perf_counter() - mark)
        timings["total_ms"] = _ms(time.perf_counter() - start)
        # people: the per-person calls' people, else the poses scoring at least score_threshold (the same rule)
        people = len(seg.people) if seg.people is not None else sum(p.score >= o.score_threshold for p in seg.poses)
        meta = {"width": width, "height": height, "people": people, "poses": len(seg.poses)}
        return body, media_type, {"timings": timings, **meta}


def _server_timing(timings: dict[str, float]) -> str:
    return ", ".join(f"{name.removesuffix('_ms')};dur={value}" for name, value in timings.items())


def _origin_allowed(websocket: WebSocket, config: ServeConfig) -> bool:
    """A WebSocket from a page of this server (or of an allowed CORS origin), or from a client
    that sends no Origin (not a browser); browsers do not apply CORS to WebSockets."""
    origin = websocket.headers.get("origin")
    if origin is None or origin in config.cors_origins or "*" in config.cors_origins:
        return True
    host = websocket.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def create_app(config: ServeConfig | None = None, model: Model | None = None) -> FastAPI:
    """The server's ASGI app. ``model``: the model object (default: :class:`BodyPixModel`
    loaded from ``config`` here, once)."""
    config = config or ServeConfig()
    allow_pixels(config.max_pixels)
    net: Model = model if model is not None else BodyPixModel(config)
    inference = Inference(config.threads, config.queue)
    static = _static_files()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        inference.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="person-segmentation",
        version=__version__,
        description="Person, body-part and per-person segmentation and poses (BodyPix 2) over HTTP. "
        "POST an image to /api/segment; the demo page is at /.",
    )
    app.state.config = config
    app.state.model = net
    app.state.inference = inference
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=list(config.cors_origins), allow_methods=["GET", "POST"], allow_headers=["*"]
        )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        _log.error("internal error on %s", request.url.path, exc_info=exc)
        message = "the server failed on this request (the error is in its log)"
        return JSONResponse({"error": "internal_error", "message": message}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _options_response(OptionsError(problems_of(exc.errors(), skip_location=1)))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> Response:
        body, media_type = static["index.html"]
        return Response(body, media_type=media_type)

    @app.get("/static/{name}", include_in_schema=False)
    async def static_file(name: str) -> Response:
        if name not in static:  # the name is a key of a dict in memory, never a path
            return JSONResponse({"error": "not_found", "message": f"no static file {name!r}"}, status_code=404)
        body, media_type = static[name]
        return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})

    @app.get("/api/health", summary="Liveness and load")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "in_flight": inference.in_flight, "capacity": inference.capacity}

    @app.get("/api/info", summary="The model, the engine, the native build and the limits")
    async def info() -> dict[str, Any]:
        from person_segmentation._native import build_info

        return {
            "version": __version__,
            "model": net.info(),
            "build_info": build_info(),
            "limits": {"max_pixels": config.max_pixels, "max_body": config.max_body},
            "server": {"threads": config.threads, "queue": config.queue, "workers": config.workers},
            "outputs": list(SERVE_OUTPUTS),
            "formats": list(SERVE_FORMATS),
        }

    @app.post(
        "/api/segment",
        summary="Segment one image",
        description="Send the image as the raw body (Content-Type image/jpeg, image/png, image/webp, ... or "
        "application/octet-stream) or as multipart/form-data with a file field `image` (and, for "
        "output=replace, an optional file field `background`; option fields may be form fields too). "
        "Returns an image (format=png|jpeg|webp; Server-Timing header) or, for output=json, the poses, "
        "people (boxes, pixel counts, poses) and timings. Errors are JSON: 400 unreadable body or "
        "image, 413 too large (body or pixels), 415 not an image, 422 unknown option or bad value, "
        "503 busy (Retry-After).",
        responses={
            200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}, "application/json": {}}},
            400: {"description": "unreadable body or image"},
            413: {"description": "body or image too large"},
            415: {"description": "not an image"},
            422: {"description": "unknown option or bad value"},
            503: {"description": "busy; see Retry-After"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "image/*": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["image"],
                            "properties": {
                                "image": {"type": "string", "format": "binary"},
                                "background": {"type": "string", "format": "binary"},
                            },
                        }
                    },
                },
            }
        },
    )
    async def segment(request: Request, query: Annotated[SegmentOptions, Query()]) -> Response:
        inference.check()  # busy: say so before reading the body
        check_content_length(request.headers.get("content-length"), config.max_body)
        content_type = request.headers.get("content-type", "")
        media = content_type.split(";", 1)[0].strip().lower()
        background: bytes | None = None
        options = query
        if media == "multipart/form-data":
            form = await read_multipart(content_type, request.stream(), config.max_body)
            extra_files = sorted(set(form.files) - {"image", "background"})
            if extra_files:
                raise OptionsError([{"option": name, "message": "unknown file field"} for name in extra_files])
            if form.fields:
                options = parse_options({**query.model_dump(exclude_unset=True), **form.fields})
            if "image" not in form.files:
                raise ApiError(400, "missing_image", "the form has no file field 'image'")
            content, data = form.files["image"]
            if content and not (content.startswith("image/") or content == "application/octet-stream"):
                raise ApiError(415, "unsupported_media_type", f"the field 'image' is {content!r}, not an image")
            background = form.files.get("background", (None, None))[1]
        elif media.startswith("image/") or media == "application/octet-stream":
            data = await read_limited(request.stream(), config.max_body)
        else:
            raise ApiError(
                415,
                "unsupported_media_type",
                f"Content-Type {content_type or '(none)'!r} is not accepted: send an image (image/jpeg, image/png, "
                "..., or application/octet-stream) or multipart/form-data with a file field 'image'",
            )
        work = _Work(net, config, options)
        body, media_type, meta = await inference.run(functools.partial(work, data, background))
        if media_type == "application/json":
            return Response(body, media_type=media_type)
        headers = {
            "Server-Timing": _server_timing(meta["timings"]),
            "X-Image-Size": f"{meta['width']}x{meta['height']}",
            "X-People": str(meta["people"]),
        }
        return Response(body, media_type=media_type, headers=headers)

    @app.websocket("/ws")
    async def stream(websocket: WebSocket) -> None:
        """The demo's stream: text messages set options (JSON, the options of /api/segment plus
        ``"type": "options"``); binary messages are ``b"F" + JPEG`` (a frame: answered with one
        binary message ``[4-byte big-endian length][JSON header][JPEG]``) or ``b"B" + image`` (the
        background of ``replace``; empty: back to the colour). Errors and ``busy`` come back as
        JSON text messages; the connection stays open."""
        if not _origin_allowed(websocket, config):
            await websocket.close(code=1008)
            return
        await websocket.accept()
        options = SegmentOptions(output="bokeh", format="jpeg", quality=80)
        background: np.ndarray | None = None
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text, data = message.get("text"), message.get("bytes")
                try:
                    if text is not None:
                        values = json.loads(text)
                        if not isinstance(values, dict) or values.pop("type", None) != "options":
                            raise ApiError(400, "bad_message", 'a text message must be {"type": "options", ...}')
                        values["format"] = "jpeg"
                        options = parse_options(values)
                        await websocket.send_text(json.dumps({"type": "options", "ok": True}))
                        continue
                    if not data:
                        raise ApiError(400, "bad_message", "an empty binary message")
                    if len(data) > config.max_body:
                        raise ApiError(413, "body_too_large", f"a message larger than {config.max_body} bytes")
                    if data[0] == _BACKGROUND:
                        background = decode(data[1:], config.max_pixels, "background") if len(data) > 1 else None
                        await websocket.send_text(json.dumps({"type": "background", "ok": background is not None}))
                        continue
                    if data[0] != _FRAME:
                        raise ApiError(400, "bad_message", "a binary message must start with b'F' or b'B'")
                    if options.output == "json":
                        raise ApiError(
                            422, "invalid_options", "the stream draws images: output=json is for /api/segment"
                        )
                    work = _Work(net, config, options, people_overlay=True)
                    frame, back = data[1:], background
                    body, _, meta = await inference.run(functools.partial(work, frame, back))
                    header = json.dumps({"type": "result", **meta}).encode()
                    await websocket.send_bytes(struct.pack(">I", len(header)) + header + body)
                except OptionsError as exc:
                    await websocket.send_text(
                        json.dumps({"type": "error", "error": "invalid_options", **_problems(exc)})
                    )
                except ApiError as exc:
                    kind = "busy" if exc.status == 503 else "error"
                    extra = {"retry_after": int(exc.headers.get("Retry-After", "1"))} if kind == "busy" else {}
                    await websocket.send_text(json.dumps({"type": kind, **exc.body(), **extra}))
                except (ValueError, UnicodeDecodeError) as exc:
                    bad = {"type": "error", "error": "bad_message", "message": str(exc)}
                    await websocket.send_text(json.dumps(bad))
                except Exception as exc:  # the model or an effect failed: logged, the stream goes on
                    _log.error("internal error on the WebSocket", exc_info=exc)
                    failed = "the server failed on this frame (the error is in its log)"
                    await websocket.send_text(
                        json.dumps({"type": "error", "error": "internal_error", "message": failed})
                    )
        except WebSocketDisconnect:
            return

    @app.exception_handler(OptionsError)
    async def _bad_options(request: Request, exc: OptionsError) -> JSONResponse:
        return _options_response(exc)

    return app


def _problems(exc: OptionsError) -> dict[str, Any]:
    return {"message": str(exc), "problems": exc.problems}


def _options_response(exc: OptionsError) -> JSONResponse:
    return JSONResponse({"error": "invalid_options", **_problems(exc)}, status_code=422)


def app_factory() -> FastAPI:
    """The app of a uvicorn worker process (``--workers N``): settings from the environment."""
    return create_app(ServeConfig.from_environment())


__all__ = ["Inference", "app_factory", "create_app"]
