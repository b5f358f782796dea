"""Output files (issue 16): the command line's output-path rules as properties over random
trees of inputs, outputs and colliding files (no input is ever written, every output name is
unique, a re-run plans the same), and video files that hit a real file size limit."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from person_segmentation.cli._common import UsageError
from person_segmentation.cli._outputs import MARK, MP4_MARK
from person_segmentation.cli._plan import identity, plan

# Names chosen to collide: a.jpg's mask is a.mask.png, which may already be there as a user's
# photo (an input), as an earlier output (marked), as a link to another input, or as a FIFO.
STEMS = ["a", "a-2", "a.mask", "a.bokeh", "a-2.mask", "b"]
EXTENSIONS = [".jpg", ".png", ".mp4"]
FOLDERS = ["", "sub", "sub/deep"]
KINDS = ["user", "user", "user", "ours", "hardlink", "symlink", "fifo"]
OUTPUTS = ["in", "in/sub", "out", "in/new", "in/sub/new"]


def _marked_png() -> bytes:
    """Enough of a PNG for the mark to be read: the signature and a tEXt Software chunk."""
    import struct
    import zlib

    body = b"Software\x00" + MARK.encode("latin-1")
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I4s", len(body), b"tEXt") + body + struct.pack(">I", zlib.crc32(body))


def _write(path: Path, kind: str, made: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        return
    if kind == "fifo":
        os.mkfifo(path)
    elif kind in ("hardlink", "symlink") and made:
        (os.link if kind == "hardlink" else os.symlink)(made[0].resolve(), path)
    elif kind == "ours":
        path.write_bytes(_marked_png() if path.suffix == ".png" else b"not really a video" + MP4_MARK)
    else:
        path.write_bytes(f"the user's own file {path.name}".encode())
        made.append(path)


entries = st.lists(
    st.tuples(st.sampled_from(FOLDERS), st.sampled_from(STEMS), st.sampled_from(EXTENSIONS), st.sampled_from(KINDS)),
    max_size=14,
)


@given(
    inside=entries,
    beside=entries,  # files already in the output folder when it is outside the inputs
    output=st.sampled_from(OUTPUTS),
    label=st.sampled_from(["mask", "bokeh"]),
    explicit=st.lists(st.integers(0, 20), max_size=3),
)
def test_no_input_is_ever_an_output_and_every_output_name_is_unique(
    inside: list[tuple[str, str, str, str]],
    beside: list[tuple[str, str, str, str]],
    output: str,
    label: str,
    explicit: list[int],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        made: list[Path] = []
        for where, stem, extension, kind in inside:
            _write(root / "in" / where / f"{stem}{extension}", kind, made)
        (root / "in").mkdir(exist_ok=True)
        if output == "out":
            for where, stem, extension, kind in beside:
                _write(root / "out" / where / f"{stem}.{label}{'.mp4' if extension == '.mp4' else '.png'}", kind, made)
        files = sorted(p for p in (root / "in").rglob("*") if not p.is_dir() or p.is_symlink())
        inputs = [str(root / "in")] + [str(files[i % len(files)]) for i in explicit if files]

        try:
            first = plan(inputs, root / output, label)
        except UsageError as exc:  # pragma: no cover - every output here is usable
            pytest.fail(f"unexpected usage error: {exc}")
        sources = {identity(job.source) for job in first.jobs}
        skipped = {identity(Path(name)) for name, _ in first.skipped}
        targets = [os.path.normpath(job.target) for job in first.jobs]
        assert len(targets) == len(set(targets)), "two outputs with one name"
        for job in first.jobs:
            assert job.source.is_file() or not job.source.exists()
            existing = identity(job.target)
            assert existing is None or existing not in sources | skipped, f"{job.target} would overwrite an input"
            assert os.path.normpath(job.target) not in {os.path.normpath(j.source) for j in first.jobs}
        excluded = (root / output).resolve()

        def in_output(path: Path) -> bool:
            return path.parent.resolve().is_relative_to(excluded)

        fifos = {str(p) for p in files if p.is_fifo()}
        assert {f for f in fifos if not in_output(Path(f))} <= {name for name, _ in first.skipped}
        # Every regular file found is an input, except the command's own marked outputs in the
        # output folder, and the output folder itself when it is inside the inputs.
        found = {str(job.source) for job in first.jobs}
        for path in files:
            if str(path) not in found and str(path) not in fifos:
                assert in_output(path), f"{path} was neither an input nor an output of ours"

        # A re-run after the outputs were written plans the same (its outputs are not inputs).
        for job in first.jobs:
            job.target.parent.mkdir(parents=True, exist_ok=True)
            if job.target.is_symlink() or job.target.exists():
                job.target.unlink()
            job.target.write_bytes(_marked_png() if job.kind == "image" else b"video" + MP4_MARK)
        second = plan(inputs, root / output, label)
        assert [(j.source, j.target) for j in second.jobs] == [(j.source, j.target) for j in first.jobs]
        # ... and wrote no input: every user's file among the inputs is as it was.
        for path in made:
            if path.is_relative_to(root / "in") and not in_output(path):
                assert path.read_bytes() == f"the user's own file {path.name}".encode(), path


def test_a_real_file_size_limit_is_detected_by_the_video_writer(tmp_path: Path) -> None:
    """``ulimit -f`` in a child process (Python ignores SIGXFSZ, so writes fail with EFBIG):
    VideoWriter raises VideoError naming the file and leaves nothing, whatever OpenCV's
    version reports for each frame."""
    code = f"""
import numpy as np, os, resource
from person_segmentation.video import VideoError, VideoWriter
resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
rng = np.random.default_rng(0)
for name in ("noise.mp4", "noise.avi"):
    path = os.path.join({str(tmp_path)!r}, name)
    try:
        with VideoWriter(path, 30, (320, 240)) as writer:
            for _ in range(60):
                writer.write(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
    except VideoError as exc:
        print("VideoError", name in str(exc))
    else:
        print("written", writer.frames_written)
print(sorted(os.listdir({str(tmp_path)!r})))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[:3] == ["VideoError True", "VideoError True", "[]"], result.stdout
