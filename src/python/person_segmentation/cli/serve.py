"""``person-segmentation serve``: the HTTP API and the camera demo page (``pip install
"person-segmentation[serve]"``; FastAPI and uvicorn are imported only when the command runs)."""

from __future__ import annotations

import argparse
from typing import Any

from person_segmentation._constants import (
    BODYPIX_MULTIPLIERS,
    BODYPIX_OUTPUT_STRIDES,
    BODYPIX_QUANT_BYTES,
    BUNDLED_MULTIPLIER,
    ENGINES,
    SERVE_DEFAULT_MAX_BODY,
    SERVE_DEFAULT_MAX_PIXELS,
    SERVE_DEFAULT_QUEUE,
    SERVE_DEFAULT_THREADS,
)
from person_segmentation.cli._common import UsageError, nonnegative_int, positive_int, say


def _port(text: str) -> int:
    value = nonnegative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError("must be in 0..65535")
    return value


def add_parser(commands: Any) -> None:
    """The ``serve`` sub-command."""
    serve = commands.add_parser(
        "serve",
        help="serve segmentation over HTTP (POST /api/segment, OpenAPI at /docs) and the live camera demo page",
        description="Serve BodyPix 2 segmentation over HTTP: POST /api/segment (masks, part maps, people, poses, "
        "effects, JSON), GET /api/health, GET /api/info, the OpenAPI page /docs and the camera demo page /. "
        "Needs the serve extra: pip install 'person-segmentation[serve]'. Stop it with Ctrl+C.",
    )
    net = serve.add_argument_group("server")
    net.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    net.add_argument("--port", type=_port, default=8000, help="port (default 8000; 0 = any free port)")
    net.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="N",
        help="server processes, each with its own model (default 1)",
    )
    net.add_argument(
        "--threads",
        type=positive_int,
        default=SERVE_DEFAULT_THREADS,
        metavar="N",
        help=f"inferences at once per process (default {SERVE_DEFAULT_THREADS})",
    )
    net.add_argument(
        "--queue",
        type=nonnegative_int,
        default=SERVE_DEFAULT_QUEUE,
        metavar="N",
        help=f"requests that may wait for an inference; beyond that: 503 + Retry-After (default {SERVE_DEFAULT_QUEUE})",
    )
    net.add_argument(
        "--max-pixels",
        type=positive_int,
        default=SERVE_DEFAULT_MAX_PIXELS,
        metavar="N",
        help=f"largest image accepted, width x height (default {SERVE_DEFAULT_MAX_PIXELS}); larger: 413",
    )
    net.add_argument(
        "--max-body",
        type=positive_int,
        default=SERVE_DEFAULT_MAX_BODY,
        metavar="BYTES",
        help=f"largest request body (default {SERVE_DEFAULT_MAX_BODY}); larger: 413",
    )
    net.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow this origin (e.g. https://example.org; repeatable) by CORS; default: CORS off",
    )
    net.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    model = serve.add_argument_group("model (BodyPix 2; default: the 0.75 quant2 model bundled with the package)")
    model.add_argument(
        "--multiplier", type=float, default=BUNDLED_MULTIPLIER, choices=BODYPIX_MULTIPLIERS, help="depth multiplier"
    )
    model.add_argument(
        "--output-stride",
        type=int,
        default=16,
        choices=BODYPIX_OUTPUT_STRIDES,
        help="default stride of requests (default 16)",
    )
    model.add_argument(
        "--quant-bytes", type=int, default=2, choices=BODYPIX_QUANT_BYTES, help="weights' quantization (default 2)"
    )
    model.add_argument("--weights", default=None, metavar="W", help="a 2.x model-stride*.json (path or URL) or a base")
    model.add_argument("--engine", default="auto", choices=ENGINES, help="where the network runs")
    model.add_argument(
        "--num-threads", type=positive_int, default=None, metavar="N", help="CPU threads per inference (default: all)"
    )
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """The ``serve`` command."""
    try:
        from person_segmentation import serve
    except ImportError as exc:
        raise UsageError(
            f"serve needs FastAPI and uvicorn ({exc}); install them with: pip install 'person-segmentation[serve]'"
        ) from exc
    try:
        config = serve.ServeConfig(
            host=args.host,
            port=args.port,
            workers=args.workers,
            threads=args.threads,
            queue=args.queue,
            max_pixels=args.max_pixels,
            max_body=args.max_body,
            cors_origins=tuple(args.cors_origin),
            multiplier=args.multiplier,
            output_stride=args.output_stride,
            quant_bytes=args.quant_bytes,
            model_url=args.weights,
            engine=args.engine,
            num_threads=args.num_threads,
        )
        # one process: the model is loaded now, so that a bad one is a usage error before the port opens
        model = serve.BodyPixModel(config) if args.workers == 1 else None
    except (ValueError, OSError) as exc:
        raise UsageError(f"cannot start the server: {exc}") from exc
    say(f"serving on http://{args.host}:{args.port}/ (API docs: /docs); Ctrl+C stops")
    serve.run(config, model=model, log_level=args.log_level)
    return 0
