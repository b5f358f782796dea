"""Unit tests of the command line that need no weights or shared data: parsing, usage errors,
help texts, the progress line, entry points, small helpers."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import person_segmentation as ps
from person_segmentation import render
from person_segmentation.cli import main
from person_segmentation.cli import webcam as _webcam
from person_segmentation.cli._common import even_size as _even_size
from person_segmentation.cli._common import pad_to as _pad_to
from person_segmentation.cli._common import parse_effect
from person_segmentation.cli.progress import Progress
from person_segmentation.encode import RAINBOW


def test_rainbow_is_the_render_palette() -> None:
    np.testing.assert_array_equal(np.array(RAINBOW, dtype=np.uint8), render.PALETTES["rainbow"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["x.jpg", "--threshold", "1.5"], "--threshold must be in [0, 1]"),
        (["x.jpg", "--output-stride", "12"], "invalid choice"),
        (["x.jpg", "--effect", "sparkles"], "unknown effect 'sparkles'"),
        (["x.jpg", "--effect", "replace=#12345"], "six hex digits"),
        (["x.jpg", "--effect", "replace=/no/such/background.jpg"], "background image not found"),
        (["x.jpg", "--parts", "--effect", "bokeh"], "not allowed with argument"),
        (["x.jpg", "--smoothing", "1"], "--smoothing must be in [0, 1)"),
        (["x.jpg", "--opacity", "nan"], "--opacity must be in [0, 1]"),
        (["x.jpg", "--edge-blur", "-1"], "must be >= 0"),
        (["x.mp4", "--max-frames", "0"], "must be >= 1"),
        (["x.jpg", "--probability", "--parts"], "not allowed with argument"),
        (["x.jpg", "--probability", "--effect", "bokeh"], "not allowed with argument"),
        (["x.jpg", "--refine", "bilateral"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_with_usage_errors(
    arguments: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["segment", *arguments, "-o", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("inputs", "output", "message"),
    [
        (["a.jpg", "b.jpg"], "m.png", "is a file name, but the inputs are several"),
        (["."], "m.png", "is a file name, but the inputs are a directory"),
        (["a.jpg"], "m.mp4", "the output of an image must be a directory or a file ending in"),
        (["a.mp4"], "m.png", "the output of a video must be a directory or a file ending in .mp4"),
        (["a.mp4"], "m.webm", "the output of a video must be"),
    ],
)
def test_output_names_that_cannot_work_are_usage_errors(
    inputs: list[str], output: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["segment", *inputs, "-o", str(tmp_path / output), "--weights", str(tmp_path / "unused")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / output).exists()


def test_parse_effect() -> None:
    assert parse_effect("bokeh").name == "bokeh" and not parse_effect("bokeh").needs_parts
    assert parse_effect("blur-faces").needs_parts and parse_effect("parts").needs_parts
    assert parse_effect("replace=#ff8000").color == (255, 128, 0)
    assert parse_effect("replace=#ff8000").label == "replaced"


def test_progress_bar() -> None:
    """issue 12: the bar is tqdm's (not hand-written): files, frames of the total, rate, ETA and
    the current file's name, lines printed above it, erased at the end."""
    stream = io.StringIO()
    progress = Progress(total_frames=200, total_files=3, stream=stream, enabled=True, delay=0.0, interval=0.0)
    progress.begin_file("clip\n.mp4")  # shown escaped, on one line
    progress.advance(50)
    progress.print("a line", file=stream)
    progress.close()
    text = stream.getvalue()
    assert "\r[1/3]" in text and "50/200" in text and " 25%" in text and "frames/s" in text and "<" in text
    assert "clip\\n.mp4" in text and "a line\n" in text and text.endswith("\r")
    assert progress.frames == 50 and progress.files == 0 and progress.elapsed() > 0


def test_progress_bar_waits_and_stays_silent_when_disabled() -> None:
    late = io.StringIO()
    progress = Progress(total_frames=10, stream=late, enabled=True, delay=60.0, interval=0.0)
    progress.advance(5)
    progress.print("above", file=late)
    progress.close()
    assert late.getvalue() == "above\n"  # a quick job never shows a bar, and nothing to erase
    quiet = io.StringIO()
    disabled = Progress(total_frames=None, stream=quiet, enabled=False, delay=0.0, interval=0.0)
    disabled.advance(5)
    disabled.close()
    assert quiet.getvalue() == "" and disabled.frames == 5


def test_progress_is_shown_on_a_terminal_or_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from person_segmentation.cli import progress

    for tty in (False, True):
        monkeypatch.setattr(progress, "isatty", lambda stream, tty=tty: tty)
        assert progress.progress_enabled(False) is tty
        assert progress.progress_enabled(False, forced=True) is True
        assert progress.progress_enabled(True, forced=True) is False  # -q wins


def test_help_and_quiet_runs_do_not_import_tqdm(tmp_path: Path) -> None:
    code = (
        "import sys, contextlib, io\n"
        "from person_segmentation.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['segment', '--help'])\n"
        f"main(['segment', {str(tmp_path / 'missing.jpg')!r}, '-o', {str(tmp_path / 'out')!r}, '-q'])\n"
        "print('tqdm' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("command", ["segment", "webcam", "info"])
def test_help_of_every_command(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    wanted = {
        "segment": [
            "--parts",
            "--probability",
            "round(probability * 255)",
            "--refine",
            "--effect",
            "bokeh",
            "blur-faces",
            "replace=#RRGGBB",
            "--multiplier",
            "--output-stride",
            "--threshold",
            "--flip",
            "--weights",
            "--smoothing",
            "--max-frames",
            "--palette",
            "--face-blur",
            "--engine",
            "--workers",
            "--progress",
            "audio",
            "Exit status",
            "examples:",
        ],
        "webcam": [
            "--device",
            "--effect",
            "--v4l2",
            "pyfakewebcam",
            "--no-preview",
            "--output",
            "--max-frames",
            "--mirror",
            "--size",
            "opencv-python-headless",
            "examples:",
        ],
        "info": ["JSON"],
    }[command]
    for word in wanted:
        assert word in text, word


def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "person_segmentation", "info"], capture_output=True, text=True, check=True, timeout=120
    )
    info = json.loads(result.stdout)
    assert info["version"] == ps.__version__ and info["cpu_threads"] >= 1
    help_text = subprocess.run(
        [sys.executable, "-m", "person_segmentation", "--help"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    for command in ("segment", "webcam", "info"):
        assert command in help_text


def test_odd_frame_sizes_are_padded_for_the_encoder() -> None:
    # OpenCV's encoders need even sides (and OpenCV cannot write an odd-sized test video), so
    # the padding is checked on a frame: one row/column repeated at the bottom/right.
    frame = np.random.default_rng(0).integers(0, 256, (47, 63, 3), dtype=np.uint8)
    assert _even_size(63, 47) == (64, 48) and _even_size(64, 48) == (64, 48)
    padded = _pad_to(frame, 64, 48)
    assert padded.shape == (48, 64, 3)
    np.testing.assert_array_equal(padded[:47, :63], frame)
    np.testing.assert_array_equal(padded[47, :63], frame[46])
    np.testing.assert_array_equal(padded[:47, 63], frame[:, 62])
    assert _pad_to(padded, 64, 48) is padded


def test_preview_problem_messages() -> None:
    headless = "  Video I/O:\n  GUI:                           NONE\n"
    gui = "  GUI:                           GTK3\n"
    assert "without GUI support" in (_webcam.preview_problem(headless, {"DISPLAY": ":0"}, "linux") or "")
    assert "no display" in (_webcam.preview_problem(gui, {}, "linux") or "")
    assert _webcam.preview_problem(gui, {"DISPLAY": ":0"}, "linux") is None
    assert _webcam.preview_problem(gui, {"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert _webcam.preview_problem(gui, {}, "darwin") is None


# -- issue 16: names printed safely, -o checked before the model, no waiting on stuck workers ---
def test_display_escapes_what_would_break_a_line_or_the_encoding() -> None:
    from person_segmentation.cli._common import display

    name = "in/caf\udce9 new\nline\tx\x1b[31m\u202e 日本.jpg"  # \udce9: the byte 0xe9 of a Latin-1 name
    assert display(name, io.StringIO()) == "in/caf\\xe9 new\\nline\\tx\\x1b[31m\\u202e 日本.jpg"
    ascii_stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    shown = display(name, ascii_stream)
    print(shown, file=ascii_stream)  # never a UnicodeEncodeError
    assert "\\u65e5\\u672c" in shown and "\n" not in shown


@pytest.mark.parametrize(
    ("output", "several", "message"),
    [
        ("notes.txt", True, "notes.txt exists and is not a directory"),
        ("notes.txt/below", True, "notes.txt is a file, not a directory"),
        ("notes.txt/below.png", False, "notes.txt is a file, not a directory"),
        ("/proc/person-segmentation-test", True, "cannot create a directory in /proc"),
        ("/proc/person-segmentation-test.png", False, "cannot write into the directory /proc"),
        ("fifo.png", False, "fifo.png exists and is not a regular file"),
        ("/dev/null", True, "/dev/null exists and is not a directory"),
    ],
)
def test_unusable_outputs_are_usage_errors_before_the_model_loads(
    output: str, several: bool, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if output.startswith("/proc") and not Path("/proc/self").exists():  # pragma: no cover - not Linux
        pytest.skip("no /proc here")
    (tmp_path / "notes.txt").write_text("my notes")
    os.mkfifo(tmp_path / "fifo.png")
    inputs = [str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg")] if several else [str(tmp_path / "a.jpg")]
    target = output if output.startswith("/") else str(tmp_path / output)
    code = main(["segment", *inputs, "-o", target, "--weights", str(tmp_path / "no-weights")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "cannot load weights" not in err and "Traceback" not in err
    assert (tmp_path / "notes.txt").read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.png", "notes.txt"]  # the checks leave nothing


def test_the_worker_pool_is_left_at_once_when_interrupted() -> None:
    """A worker stuck in a system call never holds up Ctrl+C: the consumer is interrupted while
    waiting for the stuck item, and close() returns without waiting for it."""
    import threading
    import time

    from person_segmentation.cli._pool import OrderedPool

    release = threading.Event()
    done: list[int] = []

    def work(item: int) -> None:
        if item == 0:
            release.wait(30)  # stuck
        done.append(item)

    pool = OrderedPool(work, list(range(4)), workers=2, window=4)
    interrupter = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    interrupter.start()
    with pytest.raises(KeyboardInterrupt):
        for _ in pool:
            pass
    pool.close()
    elapsed = time.perf_counter() - start
    release.set()
    assert elapsed < 3 and sorted(done[:3]) == [1, 2, 3]


def test_outputs_stop_removes_temporaries_and_refuses_to_publish(tmp_path: Path) -> None:
    from person_segmentation.cli._outputs import Outputs, Stopped

    outputs = Outputs()
    first, fd = outputs.reserve(tmp_path / "a.mask.png")
    os.write(fd, b"complete")
    os.close(fd)
    outputs.publish(first, tmp_path / "a.mask.png")
    second, fd = outputs.reserve(tmp_path / "b.mask.png")
    os.close(fd)
    assert second.name.startswith(".b.mask.png.") and second.name.endswith(".tmp.png")
    outputs.stop()
    with pytest.raises(Stopped):
        outputs.publish(second, tmp_path / "b.mask.png")
    with pytest.raises(Stopped):
        outputs.reserve(tmp_path / "c.mask.png")
    assert [p.name for p in tmp_path.iterdir()] == ["a.mask.png"] and outputs.published == [tmp_path / "a.mask.png"]


def test_a_device_file_name_that_is_not_utf8_is_a_usage_error_not_a_crash(tmp_path: Path) -> None:
    """OpenCV crashes (SIGSEGV) on such a name; run in a child process so a regression fails."""
    device = os.path.join(os.fsencode(tmp_path), b"cam\xe9ra.mp4")
    with open(device, "wb") as file:
        file.write(b"not a video")
    command = [sys.executable, "-m", "person_segmentation", "webcam", "--device", os.fsdecode(device), "--no-preview"]
    result = subprocess.run(
        [*command, "--weights", str(tmp_path / "none")], capture_output=True, timeout=120, check=False
    )
    assert result.returncode == 2 and b"not valid UTF-8" in result.stderr


def test_a_worker_that_raises_a_base_exception_does_not_hang_the_pool() -> None:
    """A worker killed by a BaseException (SystemExit from a library, say) used to leave its
    item undone, and the consumer waited forever."""
    from person_segmentation.cli._pool import OrderedPool

    def work(item: int) -> None:
        if item == 1:
            raise SystemExit("a library gave up")

    pool = OrderedPool(work, [0, 1, 2], workers=2, window=3)
    try:
        outcomes = list(pool)
    finally:
        pool.close()
    assert [item for item, _ in outcomes] == [0, 1, 2]
    assert outcomes[0][1] is None and isinstance(outcomes[1][1], SystemExit) and outcomes[2][1] is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
def test_webcam_refuses_a_fifo_as_the_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A FIFO given as --device blocked inside OpenCV, where neither Ctrl+C nor SIGTERM could
    stop it; it is a usage error before anything is opened."""
    fifo = tmp_path / "cam"
    os.mkfifo(fifo)
    code = main(["webcam", "--device", str(fifo), "--no-preview", "--weights", str(tmp_path / "unused")])
    assert code == 2
    assert "not a video file or a camera device" in capsys.readouterr().err


def test_effect_parse_refuses_what_is_not_a_string() -> None:
    for bad in (None, 0, 1.5):
        with pytest.raises(TypeError, match="text must be a str"):
            render.Effect.parse(bad)  # type: ignore[arg-type]


# -- issue 12: the smaller frictions of the command line ----------------------------------------
@pytest.mark.parametrize(
    ("command", "arguments"),
    [
        ("segment", ["x.jpg", "-o", "out", "--threshold", "1.5"]),
        ("segment", ["x.jpg", "-o", "out", "--face-blur", "61"]),
        ("webcam", ["--smoothing", "1"]),
        ("webcam", ["--edge-blur", "21"]),
    ],
)
def test_range_errors_print_the_usage_of_their_command(
    command: str, arguments: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, *arguments])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith(f"usage: person-segmentation {command} ") and "must be in" in err
    assert f"person-segmentation {command}: error:" in err


@pytest.mark.parametrize(
    "arguments",
    [
        ["segment", "x.jpg", "-o", "out", "--palette", "warm"],
        ["segment", "x.jpg", "-o", "out", "--palette", "rainbow", "--effect", "bokeh"],
        ["webcam", "--palette", "warm"],  # its default effect is bokeh
        ["webcam", "--palette", "warm", "--effect", "blur-faces"],
    ],
)
def test_a_palette_without_parts_is_a_usage_error(
    arguments: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*arguments, "--weights", str(tmp_path / "unused")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--palette {arguments[arguments.index('--palette') + 1]} colours body parts" in err
    assert "use it with --parts or --effect parts" in err
    assert not (tmp_path / "out").exists()


def test_the_palette_is_accepted_with_parts(tmp_path: Path) -> None:
    from person_segmentation.cli import _parser
    from person_segmentation.cli._common import check_palette

    for extra, shown in (["--parts"], True), (["--effect", "parts"], True), ([], False):
        args = _parser().parse_args(["segment", "x.jpg", "-o", "out", *extra])
        assert check_palette(args, parts_shown=shown) == "rainbow"  # the default is never an error
    args = _parser().parse_args(["segment", "x.jpg", "-o", "out", "--parts", "--palette", "warm"])
    assert check_palette(args, parts_shown=True) == "warm"


def test_face_blur_has_its_own_option_and_a_strong_default() -> None:
    from person_segmentation._constants import DEFAULT_FACE_BLUR
    from person_segmentation.cli import _parser

    args = _parser().parse_args(["segment", "x.jpg", "-o", "out", "--effect", "blur-faces"])
    assert args.face_blur == DEFAULT_FACE_BLUR == 15 and args.background_blur == 3
    assert _parser().parse_args(["webcam", "--face-blur", "30"]).face_blur == 30
    assert render.Renderer(parse_effect("blur-faces")).face_blur == DEFAULT_FACE_BLUR
    # the face blur, not the background blur, is what blur-faces uses
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    parts = np.full((40, 40), -1, np.int32)
    parts[10:30, 10:30] = 0
    mask = (parts >= 0).astype(np.uint8)
    strong = render.Renderer(parse_effect("blur-faces"), background_blur=0, face_blur=15)(frame, mask, parts)
    expected = render.blur_body_part(frame, parts, (0, 1), background_blur_amount=15, edge_blur_amount=3)
    np.testing.assert_array_equal(strong, expected)
    with pytest.raises(ValueError, match="face_blur must be a number of pixels in 0..100"):
        render.Renderer(parse_effect("blur-faces"), face_blur=101)


def test_a_missing_input_folder_is_reported_as_such_and_no_output_folder_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new" / "out"
    code = main(["segment", str(tmp_path / "photos"), "-o", str(out), "--weights", str(tmp_path / "unused")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"skipped {tmp_path / 'photos'}: no such file or folder" in err and "image" not in err.split("\n")[0]
    assert "0 of 1 file done" in err and "1 failed" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither out/ nor new/
    (tmp_path / "broken.jpg").symlink_to(tmp_path / "nowhere.jpg")
    assert main(["segment", str(tmp_path / "broken.jpg"), "-o", str(tmp_path / "m.png"), "-q"]) == 1
    assert "no such file or folder (a broken symbolic link)" in capsys.readouterr().err


def test_a_run_that_writes_nothing_leaves_no_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every input unreadable: the model loads, nothing is written, and the output folders the
    run made (with the mirrored sub-folder) are removed again; an existing -o folder stays."""
    from person_segmentation.cli import segment

    from ._synthetic import synthetic_weights

    monkeypatch.setattr(segment, "load_net", lambda args: ps.PersonSegmentation(synthetic_weights(0.25)))
    photos = tmp_path / "photos" / "sub"
    photos.mkdir(parents=True)
    (photos / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "a" / "out"
    assert main(["segment", str(tmp_path / "photos"), "-o", str(out), "-q"]) == 1
    assert "corrupt.jpg" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    assert main(["segment", str(tmp_path / "photos"), "-o", str(existing), "-q"]) == 1
    assert existing.is_dir() and list(existing.iterdir()) == []


def test_the_summary_after_an_interruption_counts_what_was_done(capsys: pytest.CaptureFixture[str]) -> None:
    """issue 12 ("0 of 0 files done" after frames were processed): the files planned, the images
    written, the frames of finished videos and of the video stopped midway are all counted."""
    from person_segmentation.cli._plan import Job
    from person_segmentation.cli.segment import Summary, _print_summary

    jobs = [
        Job(Path("a.jpg"), "image", Path("out/a.mask.png")),
        Job(Path("b.jpg"), "image", Path("out/b.mask.png")),
        Job(Path("c.mp4"), "video", Path("out/c.mask.mp4"), frames=30),
        Job(Path("d.mp4"), "video", Path("out/d.mask.mp4"), frames=300),
    ]
    summary = Summary(video_frames={Path("out/c.mask.mp4"): 30}, partial_frames=146, partial="d.mp4")
    done = {Path("out/a.mask.png"), Path("out/b.mask.png"), Path("out/c.mask.mp4")}
    _print_summary(jobs, [("e.fifo", "not a regular file")], summary, done, 2.0, KeyboardInterrupt())
    line = capsys.readouterr().err
    assert line.startswith("interrupted: 3 of 5 files done (2 images, 1 video; 178 frames) in 2.0 s, 89.0 frames/s")
    assert "d.mp4 stopped after 146 frames (its output discarded)" in line


# -- issue 12: --probability (the soft mask) and --refine in segment
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--probability", "--people"], "--probability takes no --people"),
        (["--probability", "--primary-person"], "--probability takes no --primary-person"),
        (
            ["--refine", "guided", "--people"],
            "--refine guided refines the single-person soft mask; it takes no --people",
        ),
        (["--refine", "guided", "--primary-person"], "it takes no --primary-person"),
    ],
)
def test_probability_and_refine_refuse_the_bodypix2_people_before_loading(
    extra: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import PIL.Image

    image = tmp_path / "x.png"
    PIL.Image.new("RGB", (8, 8)).save(image)
    code = main(["segment", str(image), "-o", str(tmp_path / "out"), *extra, "--weights", str(tmp_path / "unused")])
    assert code == 2
    assert message in capsys.readouterr().err  # not "cannot load weights": refused before the model
    assert not (tmp_path / "out").exists()


def test_probability_to_uint8_rounds_half_to_even_and_clips() -> None:
    from person_segmentation.encode import probability_to_uint8

    p = np.array([[0.0, 1.0, -0.5, 1.5], [0.5 / 255, 1.5 / 255, 0.5, 254.5 / 255]], dtype=np.float32)
    out = probability_to_uint8(p)
    assert out.dtype == np.uint8 and out.shape == p.shape
    expected = np.rint(np.clip(p, 0, 1).astype(np.float64) * 255)  # float32 * 255 is exact in float64
    np.testing.assert_array_equal(out, expected)
    assert out[0].tolist() == [0, 255, 0, 255]
    assert out[1, 2] == 128  # 127.50000... (0.5 as float32 is exact: 127.5 rounds to even 128)


def test_probability_output_names_follow_the_labels(tmp_path: Path) -> None:
    from person_segmentation.cli._plan import plan

    (tmp_path / "in").mkdir()
    for name in ("a.jpg", "b.mp4"):
        (tmp_path / "in" / name).write_bytes(b"")
    planned = plan([str(tmp_path / "in")], tmp_path / "out", "probability")
    assert sorted(job.target.name for job in planned.jobs) == ["a.probability.png", "b.probability.mp4"]
