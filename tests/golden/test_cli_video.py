"""The command line on video files and the ``webcam`` command, end to end on real videos.

The webcam command is driven by a video file given as ``--device`` (it goes through the same
``cv2.VideoCapture`` code path as a camera) and runs without a display.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import person_segmentation as ps
from person_segmentation import render
from person_segmentation.cli import main
from person_segmentation.cli import webcam as _webcam
from person_segmentation.video import VideoWriter, read_video, video_info

BEDROOM = "video/sam2_bedroom.mp4"  # 960 x 540, 30 fps, 200 frames
JUGGLE = "video/sam2_05_default_juggle.mp4"  # 1280 x 720, 24 fps, 247 frames
FAST = ["--multiplier", "0.25"]


def _frames(path: Path) -> list[np.ndarray]:
    return list(read_video(path))


def _clip(source: Path, target: Path, frames: int, size: tuple[int, int] | None = None) -> Path:
    """The first ``frames`` frames of ``source`` as a new video (resized to ``size`` = (w, h))."""
    with VideoWriter(target, 30.0, size=size or (video_info(source).width, video_info(source).height)) as writer:
        for i, frame in enumerate(read_video(source)):
            if i == frames:
                break
            writer.write(frame if size is None else cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    return target


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """An 8-frame, 320 x 180 clip of the bedroom video (made in a temporary folder)."""
    return _clip(data_dir / BEDROOM, tmp_path_factory.mktemp("clip") / "clip.mp4", 8, (320, 180))


@pytest.mark.parametrize(
    ("video", "extra", "name", "size", "fps"),
    [
        (BEDROOM, [], "sam2_bedroom.mask.mp4", (960, 540), 30.0),
        (JUGGLE, ["--effect", "bokeh", "--smoothing", "0.5"], "sam2_05_default_juggle.bokeh.mp4", (1280, 720), 24.0),
    ],
)
def test_segment_the_shared_videos(
    video: str,
    extra: list[str],
    name: str,
    size: tuple[int, int],
    fps: float,
    tmp_path: Path,
    data_dir: Path,
    weights_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "segment",
            str(data_dir / video),
            "-o",
            str(out),
            "--max-frames",
            "6",
            *extra,
            *FAST,
            "--weights",
            str(weights_dir),
        ]
    )
    assert code == 0
    info = video_info(out / name)
    assert (info.width, info.height, info.fps, info.frame_count) == (*size, fps, 6)
    written = _frames(out / name)
    assert len(written) == 6 and written[0].shape == (size[1], size[0], 3)
    first = next(iter(read_video(data_dir / video)))
    mask = ps.load(0.25, weights=weights_dir).estimate_person_segmentation(first)
    expected = np.repeat(mask[:, :, None] * 255, 3, axis=2) if not extra else render.draw_bokeh_effect(first, mask)
    # mp4v is lossy: the first frame matches the library's result up to compression noise.
    assert np.abs(written[0].astype(int) - expected).mean() < 6
    err = capsys.readouterr().err
    assert "1 of 1 file done (1 video; 6 frames)" in err and "frames/s" in err


def test_a_folder_of_videos_and_photos_with_a_corrupt_video(
    tmp_path: Path, data_dir: Path, weights_dir: Path, short_clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(short_clip, folder / "clip.mp4")
    shutil.copy(data_dir / "voc2012_person/images/001408.jpg", folder / "sub" / "photo.jpg")
    (folder / "sub" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    out = tmp_path / "out"
    code = main(
        ["segment", str(folder), "-o", str(out), "--parts", "--max-frames", "100", *FAST, "--weights", str(weights_dir)]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.*")) == ["clip.parts.mp4", "sub/photo.parts.png"]
    info = video_info(out / "clip.parts.mp4")
    assert (info.width, info.height, info.frame_count) == (320, 180, 8)  # min(--max-frames 100, 8 frames)
    assert "broken.mp4" in captured.err and "skipped" in captured.err
    assert "2 of 3 files done (1 image, 1 video; 9 frames)" in captured.err
    # the coloured parts: only palette colours and black (up to compression noise)
    pixels = _frames(out / "clip.parts.mp4")[0].reshape(-1, 3).astype(int)
    colours = np.vstack([render.PALETTES["rainbow"], [[0, 0, 0]]]).astype(int)
    nearest = np.abs(pixels[:, None, :] - colours[None, :, :]).sum(axis=2).min(axis=1)
    assert np.median(nearest) < 12


def test_one_video_to_a_named_file(tmp_path: Path, data_dir: Path, weights_dir: Path, short_clip: Path) -> None:
    out = tmp_path / "green.mp4"
    code = main(
        [
            "segment",
            str(short_clip),
            "-o",
            str(out),
            "--effect",
            "replace=#00ff00",
            "--max-frames",
            "3",
            *FAST,
            "--weights",
            str(weights_dir),
            "-q",
        ]
    )
    assert code == 0
    info = video_info(out)
    assert (info.width, info.height, info.frame_count) == (320, 180, 3)


def test_a_failed_video_leaves_no_partial_output(
    tmp_path: Path, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "empty.mp4"
    broken.write_bytes(b"")
    code = main(["segment", str(broken), "-o", str(tmp_path / "out.mp4"), *FAST, "--weights", str(weights_dir)])
    assert code == 1
    assert "empty.mp4" in capsys.readouterr().err
    assert not (tmp_path / "out.mp4").exists()


def test_a_video_failing_midway_is_removed_and_the_batch_goes_on(
    tmp_path: Path,
    data_dir: Path,
    weights_dir: Path,
    short_clip: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls = {"n": 0}
    original = render.draw_bokeh_effect

    def failing(image: np.ndarray, mask: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 3:
            raise ValueError("simulated failure on frame 3")
        return original(image, mask, *args, **kwargs)

    monkeypatch.setattr(render, "draw_bokeh_effect", failing)
    out = tmp_path / "out"
    inputs = [str(short_clip), str(data_dir / "voc2012_person/images/001408.jpg")]
    assert main(["segment", *inputs, "-o", str(out), "--effect", "bokeh", *FAST, "--weights", str(weights_dir)]) == 1
    assert [p.name for p in out.iterdir()] == ["001408.bokeh.png"]  # no half-written clip.bokeh.mp4
    assert "simulated failure on frame 3" in capsys.readouterr().err


# -- webcam ----------------------------------------------------------------------------------
def test_webcam_with_a_video_file_as_the_camera_and_no_display(
    tmp_path: Path, data_dir: Path, weights_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.mp4"
    code = main(
        [
            "webcam",
            "--device",
            str(data_dir / BEDROOM),
            "--no-preview",
            "--output",
            str(out),
            "--max-frames",
            "10",
            *FAST,
            "--weights",
            str(weights_dir),
        ]
    )
    assert code == 0
    info = video_info(out)
    assert (info.width, info.height, info.fps, info.frame_count) == (960, 540, 30.0, 10)
    err = capsys.readouterr().err
    assert "10 frames (960x540)" in err and "frames/s" in err and "--max-frames 10" in err


def test_webcam_runs_to_the_end_of_the_stream_mirrored(
    tmp_path: Path, weights_dir: Path, short_clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.avi"
    code = main(
        [
            "webcam",
            "--device",
            str(short_clip),
            "--no-preview",
            "--output",
            str(out),
            "--effect",
            "parts",
            "--mirror",
            *FAST,
            "--weights",
            str(weights_dir),
        ]
    )
    assert code == 0
    assert video_info(out).frame_count == 8
    assert "(end of stream)" in capsys.readouterr().err


def test_webcam_preview_without_a_display_is_a_clear_usage_error(
    tmp_path: Path,
    data_dir: Path,
    weights_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if _webcam.preview_problem() is None:  # pragma: no cover - a GUI OpenCV on a desktop
        pytest.skip("this machine can show a preview window")
    code = main(["webcam", "--device", str(data_dir / BEDROOM), "--weights", str(weights_dir)])
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot show a preview window" in err and "--no-preview" in err


def test_webcam_preview_loop_quits_on_q(
    tmp_path: Path,
    weights_dir: Path,
    short_clip: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The preview path, with OpenCV's GUI calls replaced (this machine has no GUI)."""
    shown: list[np.ndarray] = []
    monkeypatch.setattr(_webcam, "preview_problem", lambda: None)
    monkeypatch.setattr(cv2, "namedWindow", lambda *a: None, raising=False)
    monkeypatch.setattr(cv2, "imshow", lambda name, image: shown.append(image), raising=False)
    monkeypatch.setattr(cv2, "waitKey", lambda delay: ord("q") if len(shown) == 3 else -1, raising=False)
    monkeypatch.setattr(cv2, "getWindowProperty", lambda *a: 1.0, raising=False)
    monkeypatch.setattr(cv2, "destroyAllWindows", lambda: None, raising=False)
    code = main(["webcam", "--device", str(short_clip), *FAST, "--weights", str(weights_dir)])
    assert code == 0
    assert len(shown) == 3 and shown[0].shape == (180, 320, 3)
    assert "3 frames (320x180)" in capsys.readouterr().err


def test_webcam_without_a_camera_or_with_an_unusable_output(
    tmp_path: Path, weights_dir: Path, short_clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["webcam", "--device", str(tmp_path / "no-such.mp4"), "--no-preview", "--weights", str(weights_dir)]) == 2
    )
    assert "cannot open camera" in capsys.readouterr().err
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_text("not a video")
    assert main(["webcam", "--device", str(not_a_video), "--no-preview", "--weights", str(weights_dir)]) == 2
    assert "cannot open" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    args = ["webcam", "--device", str(short_clip), "--no-preview", *FAST, "--weights", str(weights_dir)]
    assert main([*args, "--output", str(blocker / "out.mp4")]) == 2
    assert "cannot record to" in capsys.readouterr().err
    assert main([*args, "--output", str(tmp_path / "out.gif")]) == 2
    assert "give a video file name" in capsys.readouterr().err
    if sys.platform.startswith("linux") and not Path("/dev/video63").exists():
        assert main(["webcam", "--device", "63", "--no-preview", "--weights", str(weights_dir)]) == 2
        assert "cannot open camera 63" in capsys.readouterr().err


def test_webcam_virtual_camera(
    tmp_path: Path,
    weights_dir: Path,
    short_clip: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "pyfakewebcam", None)  # not installed
    device = tmp_path / "video10"
    args = [
        "webcam",
        "--device",
        str(short_clip),
        "--no-preview",
        "--v4l2",
        str(device),
        "--max-frames",
        "4",
        *FAST,
        "--weights",
        str(weights_dir),
    ]
    assert main(args) == 2
    assert "pip install pyfakewebcam" in capsys.readouterr().err

    received: list[Any] = []

    class FakeWebcam:
        def __init__(self, path: str, width: int, height: int) -> None:
            received.append((path, width, height))

        def schedule_frame(self, frame: np.ndarray) -> None:
            received.append(frame.shape)

    monkeypatch.setitem(sys.modules, "pyfakewebcam", types.SimpleNamespace(FakeWebcam=FakeWebcam))
    assert main(args) == 2  # the device does not exist (v4l2loopback not loaded)
    assert "no such device" in capsys.readouterr().err
    device.touch()
    assert main(args) == 0
    assert received == [(str(device), 320, 180)] + [(180, 320, 3)] * 4


# -- issue 16: failed writes detected, interrupted writes leave nothing, earlier files kept ----
def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "person_segmentation", *args]


def _limit_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child, before exec (ulimit -f)
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    return apply


def test_a_file_size_limit_mid_video_is_a_failure_not_a_broken_success(
    tmp_path: Path, data_dir: Path, weights_dir: Path
) -> None:
    """``ulimit -f``: OpenCV's writes fail silently; the video used to be reported done with 120
    frames and be unopenable. Now: exit 1, the file named, nothing left behind."""
    out = tmp_path / "b.mp4"
    command = _cli("segment", str(data_dir / BEDROOM), "-o", str(out), "--effect", "bokeh", "--max-frames", "60")
    result = subprocess.run(
        [*command, *FAST, "--weights", str(weights_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=_limit_file_size(200_000),
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert f"cannot write video {str(out)!r}" in result.stderr and "0 of 1 file done" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _wait_for_writing(output: Path, before: bytes, process: subprocess.Popen[str], seconds: float = 120) -> None:
    """Until frames of the video to ``output`` reach the disk: a hidden temporary file next to
    it holds more than its header and a 32 KiB write buffer (or, as before issue 16, ``output``
    itself changed)."""
    deadline = time.monotonic() + seconds

    def writing() -> bool:
        for path in output.parent.iterdir():
            try:
                if path.name.startswith(".") and ".tmp" in path.name and path.stat().st_size > 40_000:
                    return True
            except FileNotFoundError:  # renamed meanwhile
                continue
        return not output.exists() or output.read_bytes() != before

    while not writing():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no temporary output appeared"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("signum", "status", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_during_a_video_keeps_the_earlier_file_and_leaves_no_partial_one(
    signum: int, status: int, word: str, tmp_path: Path, data_dir: Path, weights_dir: Path, short_clip: Path
) -> None:
    """A re-run to -o keep.mp4 stopped by SIGTERM (kill, timeout, docker stop) or Ctrl+C: the
    earlier complete keep.mp4 stays as it was, no partial or temporary file is left, and the
    summary counts the frames that were processed."""
    keep = tmp_path / "keep.mp4"
    assert main(["segment", str(short_clip), "-o", str(keep), *FAST, "--weights", str(weights_dir), "-q"]) == 0
    before = keep.read_bytes()
    command = _cli("segment", str(data_dir / BEDROOM), "-o", str(keep), "--effect", "bokeh", *FAST)
    process = subprocess.Popen(
        [*command, "--weights", str(weights_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for_writing(keep, before, process)
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == status, err[-3000:]
    assert keep.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["keep.mp4"]
    summary = [line for line in err.splitlines() if line.startswith(f"{word}: ")]
    assert summary and "0 of 1 file done (nothing;" in summary[0] and "frames) in" in summary[0]
    assert "stopped after" in summary[0] and "(its output discarded)" in summary[0]


def test_videos_segmented_into_their_own_folder_rerun_cleanly(
    tmp_path: Path, weights_dir: Path, short_clip: Path
) -> None:
    """The mask video carries a mark, so a re-run into the input folder replaces it instead of
    taking it as an input (clip.mask.mask.mp4); a user's video named clip.mask.mp4 without
    the mark would be kept as an input."""
    folder = tmp_path / "v"
    folder.mkdir()
    shutil.copy(short_clip, folder / "clip.mp4")
    args = ["segment", str(folder), "-o", str(folder), "--max-frames", "3", *FAST, "--weights", str(weights_dir), "-q"]
    assert main(args) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["clip.mask.mp4", "clip.mp4"]
    assert video_info(folder / "clip.mask.mp4").frame_count == 3
    assert main(args) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["clip.mask.mp4", "clip.mp4"]
    shutil.copy(short_clip, folder / "clip.mask.mp4")  # now a user's video of that name
    assert main(args) == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "clip-2.mask.mp4",
        "clip.mask.mask.mp4",
        "clip.mask.mp4",
        "clip.mp4",
    ]
    assert (folder / "clip.mask.mp4").read_bytes() == short_clip.read_bytes()


def test_webcam_recording_killed_midway_leaves_the_earlier_recording(
    tmp_path: Path, data_dir: Path, weights_dir: Path, short_clip: Path
) -> None:
    """Even SIGKILL (no clean-up possible) leaves out.avi as it was: the new recording was
    written under a temporary name. SIGTERM stops the stream like Ctrl+C: the recording is
    finished and kept (exit 0), and holds every frame processed."""
    out = tmp_path / "out.avi"
    args = ["--no-preview", "--output", str(out), *FAST, "--weights", str(weights_dir)]
    assert main(["webcam", "--device", str(short_clip), *args]) == 0
    before = out.read_bytes()
    for signum in (signal.SIGKILL, signal.SIGTERM):
        process = subprocess.Popen(
            _cli("webcam", "--device", str(data_dir / BEDROOM), *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_for_writing(out, before, process)
            process.send_signal(signum)
            _, err = process.communicate(timeout=60)
        finally:
            process.kill()
        if signum == signal.SIGKILL:
            assert out.read_bytes() == before
            for leftover in tmp_path.glob(".out.avi.*.tmp.avi"):  # what SIGKILL leaves: hidden, removable
                leftover.unlink()
        else:
            assert process.returncode == 0, err[-3000:]
            summary = next(line for line in err.splitlines() if "(terminated)" in line)
            frames = int(summary.split("; ")[1].split()[0])  # "...(terminated); N frames recorded to ..."
            assert 0 < frames < 200 and video_info(out).frame_count == frames
            assert [p.name for p in tmp_path.iterdir()] == ["out.avi"]


def test_webcam_never_records_over_its_input_file(
    tmp_path: Path, weights_dir: Path, short_clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = tmp_path / "clip.mp4"
    shutil.copy(short_clip, clip)
    os.link(clip, tmp_path / "link.mp4")
    for output in (clip, tmp_path / "link.mp4"):
        args = ["webcam", "--device", str(clip), "--no-preview", "--output", str(output), *FAST]
        assert main([*args, "--weights", str(weights_dir)]) == 2
        assert "it is the --device file itself" in capsys.readouterr().err
    assert clip.read_bytes() == short_clip.read_bytes()
