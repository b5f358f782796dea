"""The HTTP API of ``person-segmentation serve`` through FastAPI's TestClient, with the real
bundled BodyPix 2 model: every output kind against the library's own results, every error
status, the 503 limit (made deterministic by blocking the model on an event), hostile uploads
and the server still answering after each of them."""

from __future__ import annotations

import io
import json
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from person_segmentation import bodypix
from person_segmentation.serve import BodyPixModel, ModelOptions, Segmentation, ServeConfig, create_app

PHOTO = "coco2017_person_samples/images/000000009483.jpg"  # 640 x 480, two people


@pytest.fixture(scope="module")
def model() -> BodyPixModel:
    return BodyPixModel(ServeConfig())


@pytest.fixture(scope="module")
def client(model: BodyPixModel) -> Iterator[TestClient]:
    with TestClient(create_app(ServeConfig(max_pixels=4_000_000, max_body=2_000_000), model)) as c:
        yield c


@pytest.fixture(scope="module")
def photo_bytes(data_dir: Path) -> bytes:
    return (data_dir / PHOTO).read_bytes()


@pytest.fixture(scope="module")
def photo(photo_bytes: bytes) -> np.ndarray:
    return np.asarray(PIL.Image.open(io.BytesIO(photo_bytes)).convert("RGB"))


@pytest.fixture(scope="module")
def net() -> bodypix.BodyPix:
    return bodypix.load()


def _post(client: TestClient, data: bytes, content_type: str = "image/jpeg", **params: Any) -> Any:
    return client.post("/api/segment", params=params, content=data, headers={"content-type": content_type})


def _image(response: Any) -> PIL.Image.Image:
    assert response.status_code == 200, response.text
    return PIL.Image.open(io.BytesIO(response.content))


def _erode(mask: np.ndarray, pixels: int) -> np.ndarray:
    import cv2

    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return cv2.erode(mask.astype(np.uint8), kernel).astype(bool)


def _still_serving(client: TestClient, photo_bytes: bytes) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    assert _post(client, photo_bytes, output="mask").status_code == 200


# -- every output kind ---------------------------------------------------------------------------
def test_mask_probability_and_parts_are_the_librarys(
    client: TestClient, photo_bytes: bytes, photo: np.ndarray, net: bodypix.BodyPix
) -> None:
    expected = net.segment_person_parts(photo)
    mask = _image(_post(client, photo_bytes, output="mask"))
    assert mask.mode == "L" and mask.size == (640, 480)
    np.testing.assert_array_equal(np.asarray(mask), expected.mask * 255)
    probability = np.asarray(_image(_post(client, photo_bytes, output="probability")))
    np.testing.assert_array_equal(probability, np.rint(np.clip(expected.probability, 0, 1) * 255))
    parts = _image(_post(client, photo_bytes, output="parts"))
    assert parts.mode == "P"
    np.testing.assert_array_equal(np.asarray(parts), np.where(expected.parts < 0, 24, expected.parts))
    assert 0.05 < expected.mask.mean() < 0.9  # a photo with people in it


def test_options_reach_the_model(
    client: TestClient, photo_bytes: bytes, photo: np.ndarray, net: bodypix.BodyPix
) -> None:
    expected = net.segment_person(photo, segmentation_threshold=0.3, internal_resolution=0.75, flip_horizontal=True)
    got = _image(_post(client, photo_bytes, output="mask", threshold=0.3, internal_resolution="0.75", flip="true"))
    np.testing.assert_array_equal(np.asarray(got), expected.mask * 255)
    stride8 = bodypix.load(output_stride=8).segment_person(photo)
    got8 = _image(_post(client, photo_bytes, output="mask", output_stride=8))
    np.testing.assert_array_equal(np.asarray(got8), stride8.mask * 255)


def test_people_labels_and_json(
    client: TestClient, photo_bytes: bytes, photo: np.ndarray, net: bodypix.BodyPix
) -> None:
    people = net.segment_multi_person(photo)
    assert len(people) == 2
    labels = _image(_post(client, photo_bytes, output="people"))
    assert labels.mode == "P"
    values = np.asarray(labels)
    for i, person in enumerate(people):
        np.testing.assert_array_equal(values == i, person.mask.astype(bool))
    assert set(np.unique(values)) <= {0, 1, 255}
    response = _post(client, photo_bytes, output="json")
    assert response.headers["content-type"] == "application/json"
    doc = response.json()
    assert (doc["width"], doc["height"]) == (640, 480)
    assert len(doc["people"]) == 2 and len(doc["poses"]) == 2
    for i, (entry, person) in enumerate(zip(doc["people"], people)):
        assert entry["id"] == i
        assert entry["pixels"] == int(person.mask.sum())
        assert entry["score"] == pytest.approx(person.pose.score, abs=1e-5)
        x0, y0, x1, y1 = entry["box"]
        rows, cols = np.nonzero(person.mask)
        assert (x0, y0, x1, y1) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
        assert [k["part"] for k in entry["pose"]["keypoints"]] == list(bodypix.KEYPOINT_NAMES)
        assert entry["pose"]["keypoints"][0]["x"] == pytest.approx(person.pose.keypoints[0].x, abs=0.01)
    assert set(doc["timings"]) == {"decode_ms", "inference_ms", "render_ms", "total_ms"}
    assert all(v >= 0 for v in doc["timings"].values())


def test_effects_change_what_they_should(
    client: TestClient, photo_bytes: bytes, photo: np.ndarray, net: bodypix.BodyPix
) -> None:
    seg = net.segment_person_parts(photo)
    inside, outside = _erode(seg.mask, 8), _erode(1 - seg.mask, 8)
    diff = {}
    for output in ("bokeh", "replace", "parts-overlay", "poses", "blur-faces"):
        image = np.asarray(_image(_post(client, photo_bytes, output=output, background="#ff0000")).convert("RGB"))
        assert image.shape == photo.shape
        diff[output] = np.abs(image.astype(int) - photo.astype(int)).sum(axis=2)
    # bokeh and replace keep the people and change the background
    for output in ("bokeh", "replace"):
        assert np.mean(diff[output][inside] == 0) > 0.99, output
        assert np.mean(diff[output][outside] > 0) > 0.5, output
    replaced = np.asarray(_image(_post(client, photo_bytes, output="replace", background="#ff0000", edge_blur=0)))
    assert np.all(replaced[outside] == (255, 0, 0))
    # parts-overlay colours the people only
    assert np.all(diff["parts-overlay"][outside] == 0)
    assert np.mean(diff["parts-overlay"][inside] > 0) > 0.99
    # blur-faces changes the faces (parts 0, 1) and nothing far from them
    faces = np.isin(seg.parts, (0, 1))
    assert faces.sum() > 100
    far = _erode(~faces, 60)  # more than 60 px from a face pixel
    assert np.all(diff["blur-faces"][far] == 0)
    assert diff["blur-faces"][faces].mean() > 1
    # poses draw a few lines: most pixels untouched, some changed
    changed = np.mean(diff["poses"] > 0)
    assert 0.001 < changed < 0.2


@pytest.mark.parametrize(
    ("image_format", "media_type"), [("png", "image/png"), ("jpeg", "image/jpeg"), ("webp", "image/webp")]
)
def test_formats(client: TestClient, photo_bytes: bytes, image_format: str, media_type: str) -> None:
    for output in ("mask", "parts", "people", "bokeh"):
        response = _post(client, photo_bytes, output=output, format=image_format, quality=70)
        assert response.headers["content-type"] == media_type
        image = _image(response)
        assert image.format == image_format.upper() and image.size == (640, 480)
        assert "inference;dur=" in response.headers["server-timing"]
        assert response.headers["x-image-size"] == "640x480"


def test_multipart_with_form_options_and_a_background_image(
    client: TestClient, photo_bytes: bytes, photo: np.ndarray, net: bodypix.BodyPix
) -> None:
    background = np.zeros((100, 200, 3), np.uint8)
    background[:, :, 2] = 255  # blue
    buffer = io.BytesIO()
    PIL.Image.fromarray(background).save(buffer, format="PNG")
    response = client.post(
        "/api/segment",
        files={"image": ("p.jpg", photo_bytes, "image/jpeg"), "background": ("b.png", buffer.getvalue(), "image/png")},
        data={"output": "replace", "edge_blur": "0"},
    )
    image = np.asarray(_image(response).convert("RGB"))
    seg = net.segment_person(photo)
    outside = _erode(1 - seg.mask, 2)
    assert np.all(image[outside] == (0, 0, 255))
    # query and form options combine; a form value wins
    both = client.post("/api/segment?output=bokeh", files={"image": ("p.jpg", photo_bytes)}, data={"output": "mask"})
    assert _image(both).mode == "L"


def test_raw_body_as_octet_stream(client: TestClient, photo_bytes: bytes) -> None:
    assert _image(_post(client, photo_bytes, "application/octet-stream")).size == (640, 480)


# -- errors ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "option"),
    [
        ({"colour": "red"}, "colour"),
        ({"output": "sepia"}, "output"),
        ({"format": "gif"}, "format"),
        ({"threshold": "2"}, "threshold"),
        ({"threshold": "nan"}, "threshold"),
        ({"threshold": "high"}, "threshold"),
        ({"internal_resolution": "huge"}, "internal_resolution"),
        ({"internal_resolution": "5"}, "internal_resolution"),
        ({"output_stride": "32"}, "output_stride"),
        ({"background": "red"}, "background"),
        ({"quality": "0"}, "quality"),
        ({"background_blur": "21"}, "background_blur"),
        ({"refine_steps": "1.5"}, "refine_steps"),
        ({"flip": "maybe"}, "flip"),
    ],
)
def test_unknown_options_and_bad_values_are_422_naming_them(
    client: TestClient, photo_bytes: bytes, params: dict[str, str], option: str
) -> None:
    response = _post(client, photo_bytes, **params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_options"
    assert [p["option"] for p in body["problems"]] == [option]
    assert option in body["message"]


def test_bad_form_options_are_422(client: TestClient, photo_bytes: bytes) -> None:
    files = {"image": ("p.jpg", photo_bytes, "image/jpeg")}
    response = client.post("/api/segment", files=files, data={"threshold": "-1", "wat": "1"})
    assert response.status_code == 422
    assert sorted(p["option"] for p in response.json()["problems"]) == ["threshold", "wat"]
    response = client.post("/api/segment", files={**files, "extra": ("x.png", b"123", "image/png")})
    assert response.status_code == 422 and response.json()["problems"][0]["option"] == "extra"


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (the pixel data is a stub): a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _zeros_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    PIL.Image.new("L", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_hostile_and_broken_uploads(client: TestClient, photo_bytes: bytes) -> None:
    cases: list[tuple[bytes, str, int, str]] = [
        (b"hello, not an image", "text/plain", 415, "unsupported_media_type"),
        (b'{"image": 1}', "application/json", 415, "unsupported_media_type"),
        (b"hello, not an image", "image/png", 415, "not_an_image"),
        (b"", "image/jpeg", 400, "empty_image"),
        (photo_bytes[: len(photo_bytes) // 2], "image/jpeg", 400, "bad_image"),  # truncated
        (photo_bytes[:300], "image/jpeg", 400, "bad_image"),  # truncated inside the header
        (_png_header(100_000, 100_000), "image/png", 413, "too_many_pixels"),  # Pillow's bomb limit
        (_png_header(3000, 3000), "image/png", 413, "too_many_pixels"),  # the server's --max-pixels
        (_zeros_png(2500, 2000), "image/png", 413, "too_many_pixels"),  # small file, 5 MP of zeros
        (b"\0" * 2_000_001, "image/png", 413, "body_too_large"),
    ]
    for data, content_type, status, code in cases:
        response = _post(client, data, content_type)
        assert response.status_code == status, (code, response.text)
        body = response.json()
        assert body["error"] == code and body["message"]
        _still_serving(client, photo_bytes)


def test_a_body_too_large_is_refused_while_it_streams(client: TestClient, photo_bytes: bytes) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(100):
            yield b"\xff" * 100_000

    response = client.post("/api/segment", content=chunks(), headers={"content-type": "image/jpeg"})
    assert response.status_code == 413 and response.json()["error"] == "body_too_large"
    response = client.post(
        "/api/segment", content=chunks(), headers={"content-type": "multipart/form-data; boundary=xyz"}
    )
    assert response.status_code == 413
    response = client.post("/api/segment", content=b"x", headers={"content-type": "image/png", "content-length": "1e9"})
    assert response.status_code == 400
    _still_serving(client, photo_bytes)


def test_broken_multipart(client: TestClient, photo_bytes: bytes) -> None:
    response = client.post("/api/segment", content=b"--x\r\n", headers={"content-type": "multipart/form-data"})
    assert response.status_code == 400 and "boundary" in response.json()["message"]
    response = client.post("/api/segment", data={"output": "mask"}, files={"other": ("a.txt", b"1", "text/plain")})
    assert response.status_code == 422  # an unknown file field
    response = client.post("/api/segment", data={"output": "mask"}, files={"background": ("b.jpg", photo_bytes)})
    assert response.status_code == 400 and response.json()["error"] == "missing_image"
    response = client.post("/api/segment", files={"image": ("a.txt", b"hello", "text/plain")})
    assert response.status_code == 415
    garbage = b"--xyz\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--xyz--\r\n"
    response = client.post(
        "/api/segment", content=garbage, headers={"content-type": "multipart/form-data; boundary=xyz"}
    )
    assert response.status_code == 400 and response.json()["error"] == "bad_multipart"
    _still_serving(client, photo_bytes)


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (1, 3000), (3000, 1)])
def test_tiny_and_thin_images_are_answered(client: TestClient, size: tuple[int, int]) -> None:
    for resolution in ("low", "full"):
        response = _post(client, _zeros_png(*size), "image/png", output="json", internal_resolution=resolution)
        assert response.status_code == 200
        doc = response.json()
        assert (doc["width"], doc["height"]) == size and doc["people"] == []


class _FailingModel:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def segment(self, image: np.ndarray, need: Any, options: ModelOptions) -> Segmentation:
        raise self.error

    def info(self) -> dict[str, Any]:
        return {}


def test_model_failures_are_json_answers(photo_bytes: bytes) -> None:
    with TestClient(create_app(ServeConfig(), _FailingModel(ValueError("image too small")))) as c:
        response = _post(c, photo_bytes)
        assert response.status_code == 422
        assert response.json() == {"error": "cannot_segment", "message": "image: image too small"}
    broken = create_app(ServeConfig(), _FailingModel(RuntimeError("engine exploded")))
    with TestClient(broken, raise_server_exceptions=False) as c:
        response = _post(c, photo_bytes)
        assert response.status_code == 500
        assert response.json()["error"] == "internal_error"
        assert c.get("/api/health").json()["in_flight"] == 0


# -- the 503 limit ---------------------------------------------------------------------------------
class _BlockingModel:
    """The real model, held at the start of each call until ``release`` is set."""

    def __init__(self, model: BodyPixModel) -> None:
        self.model = model
        self.entered = threading.Event()
        self.release = threading.Event()

    def segment(self, image: np.ndarray, need: Any, options: ModelOptions) -> Segmentation:
        self.entered.set()
        assert self.release.wait(60)
        return self.model.segment(image, need, options)

    def info(self) -> dict[str, Any]:
        return self.model.info()


def test_requests_beyond_the_queue_get_503_with_retry_after(model: BodyPixModel, photo_bytes: bytes) -> None:
    blocking = _BlockingModel(model)
    with TestClient(create_app(ServeConfig(threads=1, queue=1), blocking)) as c:
        results: list[int] = []

        def first() -> None:
            results.append(_post(c, photo_bytes, output="mask").status_code)

        running = [threading.Thread(target=first) for _ in range(2)]
        running[0].start()
        assert blocking.entered.wait(30)  # one in the model
        running[1].start()  # one in the queue
        for _ in range(600):
            if c.get("/api/health").json()["in_flight"] == 2:
                break
            threading.Event().wait(0.05)
        assert c.get("/api/health").json()["in_flight"] == 2
        busy = _post(c, photo_bytes, output="mask")
        assert busy.status_code == 503
        assert busy.json()["error"] == "busy"
        assert int(busy.headers["retry-after"]) >= 1
        blocking.release.set()
        for thread in running:
            thread.join(60)
        assert results == [200, 200]
        assert _post(c, photo_bytes, output="mask").status_code == 200
        assert c.get("/api/health").json()["in_flight"] == 0


# -- the other endpoints ---------------------------------------------------------------------------
def test_health_info_and_openapi(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "in_flight": 0, "capacity": 10}
    info = client.get("/api/info").json()
    assert info["model"]["name"] == "bodypix" and info["model"]["engine"] in ("tflite", "tf")
    assert info["model"]["part_names"] == list(bodypix.PART_CHANNELS)
    assert "cuda" in json.dumps(info["build_info"]).lower() or info["build_info"]
    assert info["limits"] == {"max_pixels": 4_000_000, "max_body": 2_000_000}
    assert "blur-faces" in info["outputs"]
    schema = client.get("/openapi.json").json()
    post = schema["paths"]["/api/segment"]["post"]
    names = {p["name"] for p in post["parameters"]}
    assert {"output", "format", "threshold", "internal_resolution", "output_stride", "flip"} <= names
    assert {"image/*", "multipart/form-data"} <= set(post["requestBody"]["content"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_static_files_come_from_memory_only(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/static/demo.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from elsewhere
    script = client.get("/static/demo.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "https://" not in script.text and "http://" not in script.text
    for name in ("..%2F_app.py", "%2E%2E%2F%2E%2E%2Fpyproject.toml", "_app.py", "index.htm"):
        assert client.get(f"/static/{name}").status_code == 404
    assert client.get("/static/../serve/_app.py").status_code == 404


def test_cors_is_off_unless_asked(model: BodyPixModel, client: TestClient) -> None:
    headers = {"origin": "https://example.org"}
    assert "access-control-allow-origin" not in client.get("/api/health", headers=headers).headers
    with TestClient(create_app(ServeConfig(cors_origins=("https://example.org",)), model)) as c:
        assert c.get("/api/health", headers=headers).headers["access-control-allow-origin"] == "https://example.org"
        other = c.get("/api/health", headers={"origin": "https://evil.example"}).headers
        assert "access-control-allow-origin" not in other


# -- the demo's WebSocket --------------------------------------------------------------------------
def _result(message: bytes) -> tuple[dict[str, Any], PIL.Image.Image]:
    (length,) = struct.unpack(">I", message[:4])
    header = json.loads(message[4 : 4 + length])
    return header, PIL.Image.open(io.BytesIO(message[4 + length :]))


def test_websocket_stream(client: TestClient, photo_bytes: bytes, photo: np.ndarray) -> None:
    with client.websocket_connect("/ws") as ws:
        ws.send_bytes(b"F" + photo_bytes)
        header, image = _result(ws.receive_bytes())
        assert header["type"] == "result" and image.format == "JPEG" and image.size == (640, 480)
        assert header["people"] == 2 and header["poses"] == 2  # bokeh: the one-mask call, its poses
        ws.send_text(json.dumps({"type": "options", "output": "people", "threshold": 0.6}))
        assert json.loads(ws.receive_text()) == {"type": "options", "ok": True}
        ws.send_bytes(b"F" + photo_bytes)
        header, image = _result(ws.receive_bytes())
        assert header["people"] == 2
        # errors answer and keep the connection
        ws.send_text(json.dumps({"type": "options", "threshold": 3}))
        error = json.loads(ws.receive_text())
        assert error["type"] == "error" and error["problems"][0]["option"] == "threshold"
        ws.send_bytes(b"F" + b"not a jpeg")
        assert json.loads(ws.receive_text())["error"] == "not_an_image"
        ws.send_bytes(b"X123")
        assert json.loads(ws.receive_text())["error"] == "bad_message"
        ws.send_text("{not json")
        assert json.loads(ws.receive_text())["error"] == "bad_message"
        # a background image for replace
        ws.send_bytes(b"B" + _zeros_png(50, 50))
        assert json.loads(ws.receive_text()) == {"type": "background", "ok": True}
        ws.send_text(json.dumps({"type": "options", "output": "replace", "edge_blur": 0}))
        ws.receive_text()
        ws.send_bytes(b"F" + photo_bytes)
        header, image = _result(ws.receive_bytes())
        dark = np.asarray(image.convert("L")) < 20
        assert dark.mean() > 0.3  # the black background replaced the scene


def test_websocket_refuses_other_origins(client: TestClient) -> None:
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws:
            ws.receive_text()
    assert info.value.code == 1008
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        ws.send_text(json.dumps({"type": "options", "output": "mask"}))
        assert json.loads(ws.receive_text())["ok"] is True


# -- settings and the command ----------------------------------------------------------------------
def test_config_round_trip_and_checks() -> None:
    config = ServeConfig(port=0, threads=3, cors_origins=("https://a.example",), model_url="x.json")
    assert ServeConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match="threads"):
        ServeConfig(threads=0)
    with pytest.raises(ValueError, match="output_stride"):
        ServeConfig(output_stride=32)


def test_serve_command_usage(capsys: pytest.CaptureFixture[str]) -> None:
    from person_segmentation.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", "70000"])
    assert exit_info.value.code == 2
    assert "--port" in capsys.readouterr().err
    code = main(["serve", "--weights", "/nonexistent/model-stride16.json"])
    assert code == 2
    assert "cannot start the server" in capsys.readouterr().err
