"""The demo page in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``; ``scripts/install-browser.sh`` installs them), driven by Selenium, with
Chromium's fake camera playing a video of ``../shared/data/video/`` (converted to Y4M here),
against ``person-segmentation serve`` (uvicorn in a thread) on 127.0.0.1.

It checks what a user sees: processed frames arrive over the WebSocket (on the canvas the
background differs from the raw frame and the people do not), the controls change the output,
a photo upload works, the fps readout moves. It saves a screenshot to ``build/browser/demo.png``
(and, with ``PS_UPDATE_SCREENSHOT=1``, to ``docs/images/demo.png``, which the README shows).
Where Chromium is missing the test is skipped with the reason, except under CI (``CI`` set),
where it fails.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import PIL.Image
import pytest

from person_segmentation import bodypix
from person_segmentation.serve import BodyPixModel, ServeConfig, create_app

from .._localhttp import free_port
from ..conftest import REPO_ROOT

VIDEO = "video/sam2_05_default_juggle.mp4"
FRAMES = 48  # 2 s at 24 fps; Chromium loops the file
SIZE = (480, 360)  # the fake camera's frames


def _browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    message = "headless Chromium and chromedriver are needed (run scripts/install-browser.sh as root)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
    raise AssertionError  # unreachable


def write_y4m(video: Path, target: Path, frames: int = FRAMES, size: tuple[int, int] = SIZE) -> None:
    """The first ``frames`` frames of ``video`` as a YUV4MPEG2 file (4:2:0, what Chromium's
    fake camera reads), cropped to 4:3 around the people (found with BodyPix on a few frames)
    and scaled to ``size``."""
    capture = cv2.VideoCapture(str(video))
    images = []
    while len(images) < frames:
        ok, frame = capture.read()
        if not ok:
            break
        images.append(frame)
    capture.release()
    assert len(images) == frames, f"{video} has fewer than {frames} frames"
    net = bodypix.load()
    height, width = images[0].shape[:2]
    boxes = []
    for frame in images[:: frames // 4]:
        mask = net.segment_person(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)).mask
        rows, cols = np.nonzero(mask)
        boxes.append((rows.min(), rows.max(), cols.min(), cols.max()))
    top, bottom = min(b[0] for b in boxes), max(b[1] for b in boxes)
    left, right = min(b[2] for b in boxes), max(b[3] for b in boxes)
    crop_h = min(height, int((bottom - top) * 1.6))
    crop_w = min(width, crop_h * 4 // 3)
    crop_h = crop_w * 3 // 4
    y0 = int(np.clip((top + bottom) / 2 - crop_h / 2, 0, height - crop_h))
    x0 = int(np.clip((left + right) / 2 - crop_w / 2, 0, width - crop_w))
    fps = 24
    with target.open("wb") as out:
        out.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in images:
            scaled = cv2.resize(frame[y0 : y0 + crop_h, x0 : x0 + crop_w], size, interpolation=cv2.INTER_AREA)
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(scaled, cv2.COLOR_BGR2YUV_I420).tobytes())  # Y, then U, then V planes


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import uvicorn

    config = ServeConfig(port=free_port())
    app = create_app(config, BodyPixModel(config))
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=config.port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{config.port}"
    uv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def driver(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium, chromedriver = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    folder = tmp_path_factory.mktemp("browser")
    y4m = folder / "camera.y4m"
    write_y4m(data_dir / VIDEO, y4m)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={folder / 'profile'}",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    browser.set_script_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


_READ = """
const read = (id) => {
  const canvas = document.getElementById(id);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let text = "";
  for (let i = 0; i < data.length; i += 0x8000) text += String.fromCharCode.apply(null, data.subarray(i, i + 0x8000));
  return {width: canvas.width, height: canvas.height, data: btoa(text)};
};
return {output: read("output"), input: read("input"), received: window.demo.received,
        version: window.demo.optionsVersion, resultVersion: window.demo.resultOptionsVersion};
"""


def _pixels(entry: dict[str, Any]) -> np.ndarray:
    raw = np.frombuffer(base64.b64decode(entry["data"]), np.uint8)
    return raw.reshape(entry["height"], entry["width"], 4)[:, :, :3].astype(np.int16)


def _wait(browser: Any, condition: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not browser.execute_script(f"return Boolean({condition});"):
        errors = browser.execute_script("return window.demo ? window.demo.errors : [];")
        assert not errors, errors
        assert time.monotonic() < deadline, f"timed out waiting for: {condition}"
        time.sleep(0.1)


def _fresh(browser: Any, after: int, counter: str = "received") -> tuple[np.ndarray, np.ndarray]:
    """The canvas (output) and the frame it was made from (input), once a result newer than
    ``after`` (of ``window.demo[counter]``) drawn with the current controls is on the canvas."""
    _wait(
        browser, f"window.demo.{counter} > {after} && window.demo.resultOptionsVersion === window.demo.optionsVersion"
    )
    state = browser.execute_script(_READ)
    output, raw = _pixels(state["output"]), _pixels(state["input"])
    assert output.shape == raw.shape
    return output, raw


def _mask(server: str, raw: np.ndarray) -> np.ndarray:
    """The server's mask of the raw frame (the regions to compare), eroded by 4 px each way."""
    import urllib.request

    buffer = io.BytesIO()
    PIL.Image.fromarray(raw.astype(np.uint8)).save(buffer, format="PNG")
    request = urllib.request.Request(
        f"{server}/api/segment?output=mask", data=buffer.getvalue(), headers={"Content-Type": "image/png"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        mask = np.asarray(PIL.Image.open(io.BytesIO(response.read()))) > 0
    kernel = np.ones((9, 9), np.uint8)
    inside = cv2.erode(mask.astype(np.uint8), kernel).astype(bool)
    outside = cv2.erode((~mask).astype(np.uint8), kernel).astype(bool)
    assert inside.sum() > 500 and outside.sum() > 5000, "the fake camera shows no person"
    return np.stack([inside, outside])


def _set(browser: Any, element_id: str, value: str) -> None:
    browser.execute_script(
        "const e = document.getElementById(arguments[0]); e.value = arguments[1];"
        "e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change'));",
        element_id,
        value,
    )


def test_the_demo_page_live_and_with_a_photo(server: str, driver: Any, data_dir: Path) -> None:
    driver.get(server + "/")
    _wait(driver, "window.demo")
    driver.find_element("id", "camera").click()
    _wait(driver, "window.demo.received >= 3")

    # bokeh: the background is blurred, the people are the frame itself (up to JPEG noise)
    _set(driver, "background-blur", "12")
    output, raw = _fresh(driver, driver.execute_script("return window.demo.received;"))
    inside, outside = _mask(server, raw)
    diff = np.abs(output - raw).mean(axis=2)
    assert diff[inside].mean() < 6, diff[inside].mean()
    assert diff[outside].mean() > 2 * diff[inside].mean() + 3, (diff[outside].mean(), diff[inside].mean())

    # the controls change the output: replace with a colour, then a larger blur
    _set(driver, "edge-blur", "0")
    _set(driver, "effect", "replace")
    _set(driver, "color", "#ff00ff")
    output, raw = _fresh(driver, driver.execute_script("return window.demo.received;"))
    inside, outside = _mask(server, raw)
    magenta = np.abs(output - np.array([255, 0, 255])).mean(axis=2)
    assert np.median(magenta[outside]) < 12
    assert np.median(np.abs(output - raw).mean(axis=2)[inside]) < 6  # JPEG's chroma bleeds at the edges
    _set(driver, "effect", "bokeh")
    _set(driver, "background-blur", "0")
    output, raw = _fresh(driver, driver.execute_script("return window.demo.received;"))
    unblurred = np.abs(output - raw).mean(axis=2)[outside].mean()
    assert unblurred < 6  # no blur: the output is the frame everywhere
    fps = float(driver.find_element("id", "fps").text)
    assert fps > 0
    assert int(driver.find_element("id", "latency").text) > 0

    # the people effect for the screenshot the README shows
    _set(driver, "effect", "people")
    _fresh(driver, driver.execute_script("return window.demo.received;"))
    shot = REPO_ROOT / "build" / "browser" / "demo.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(shot))
    if os.environ.get("PS_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, REPO_ROOT / "docs" / "images" / "demo.png")

    # a photo: uploaded to /api/segment, drawn on the canvas
    _set(driver, "effect", "bokeh")
    _set(driver, "background-blur", "12")
    photo = data_dir / "coco2017_person_samples/images/000000009483.jpg"
    driver.find_element("id", "photo").send_keys(str(photo))
    _wait(driver, "window.demo.mode === 'photo'")
    output, raw = _fresh(driver, 0, "photos")
    assert output.shape == (480, 640, 3)
    expected = np.asarray(PIL.Image.open(photo).convert("RGB"), dtype=np.int16)
    assert np.abs(raw - expected).max() <= 2  # the input canvas holds the photo itself
    inside, outside = _mask(server, raw)
    diff = np.abs(output - raw).mean(axis=2)
    assert diff[inside].mean() < 1  # PNG: no loss at all in the people
    assert diff[outside].mean() > 3
    assert driver.find_element("id", "status").text.startswith("photo: 2 people")
