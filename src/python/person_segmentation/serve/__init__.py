"""``person-segmentation serve``: segmentation over HTTP, and the live camera demo page.

    pip install "person-segmentation[serve]"
    person-segmentation serve                 # http://127.0.0.1:8000/ (demo), /docs (API)

    >>> from person_segmentation.serve import ServeConfig, create_app
    >>> app = create_app(ServeConfig(threads=2))    # doctest: +SKIP  an ASGI app (FastAPI)

Endpoints: ``POST /api/segment`` (an image in, a mask / part map / people / poses / effect
image or JSON out), ``GET /api/health``, ``GET /api/info``, ``GET /docs`` (OpenAPI), the demo
page ``/`` and its WebSocket ``/ws``. The model (BodyPix 2; by default the one bundled with the
package) is loaded once per process and runs on a small thread pool behind a bounded queue:
requests beyond it get 503 with ``Retry-After`` at once instead of piling up.

Why FastAPI (on Starlette, served by uvicorn): the OpenAPI document and the ``/docs`` page come
from the route and option declarations themselves, so they cannot drift from the code;
pydantic validates every option and names the bad one (the 422 answers); underneath is
Starlette, a small, well-kept ASGI toolkit (WebSockets, streaming bodies, CORS middleware,
``TestClient``), and uvicorn is its standard server (with ``--workers`` processes). These are
imported only here, never by the rest of the package (the ``[serve]`` extra installs them).

Safety: binds to 127.0.0.1 unless ``--host`` says otherwise; ``--max-pixels`` and
``--max-body`` bound every request (checked before decoding and while the body streams in);
a request never names a file (the demo's static files are read from the package at start and
served from memory, uploads are parsed in memory); CORS is off unless ``--cors-origin`` allows
origins; the demo's WebSocket refuses pages of other origins.
"""

from __future__ import annotations

from person_segmentation.serve._app import Inference, app_factory, create_app
from person_segmentation.serve._config import CONFIG_ENV, ServeConfig
from person_segmentation.serve._model import BodyPixModel, Model, ModelOptions, Person, Segmentation
from person_segmentation.serve._options import SegmentOptions

__all__ = [
    "CONFIG_ENV",
    "BodyPixModel",
    "Inference",
    "Model",
    "ModelOptions",
    "Person",
    "SegmentOptions",
    "Segmentation",
    "ServeConfig",
    "app_factory",
    "create_app",
    "run",
]


def run(config: ServeConfig, *, model: Model | None = None, log_level: str = "info") -> None:
    """Serve ``config`` with uvicorn until interrupted (Ctrl+C / SIGTERM stop it cleanly).

    One process (``workers == 1``): ``model`` (default: loaded here, before the port opens). Several:
    each uvicorn worker process builds the app (and loads the model) from ``config``, passed
    in the environment.
    """
    import os

    import uvicorn

    common: dict[str, object] = dict(
        host=config.host, port=config.port, log_level=log_level, ws_max_size=config.max_body + 1, server_header=False
    )
    if config.workers == 1:
        uvicorn.run(create_app(config, model), **common)  # type: ignore[arg-type]
        return
    os.environ[CONFIG_ENV] = config.to_json()
    uvicorn.run(
        "person_segmentation.serve:app_factory",
        factory=True,
        workers=config.workers,
        **common,  # type: ignore[arg-type]
    )
