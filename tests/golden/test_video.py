"""Video on real weights and the shared videos: temporal smoothing against DAVIS ground truth,
and reading the two mp4 files.

The smoothing numbers are printed in pytest's terminal summary (and with ``-s``). The absolute
IoU on the rollerblade sequence is low (about 0.13) because the original BodyPix 1.0 networks
take the large graffiti on the wall for a person; smoothing must not make that worse, and the
recall (the share of the true person found) shows the skater herself is found.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

import person_segmentation as ps
from person_segmentation.video import DEFAULT_SMOOTHING, VideoInfo, VideoSegmenter, flicker, read_video, video_info

SEQUENCE = "video/davis2016_rollerblade_seq"
SMOOTHINGS = (0.0, 0.3, DEFAULT_SMOOTHING, 0.7)
#: (multiplier, output stride) to measure; the first is the headline configuration.
CONFIGS = ((0.5, 16), (0.25, 8))


class _Report:
    """A plugin registered at run time that prints the measured numbers in the terminal summary."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.lines:
            terminalreporter.section("video smoothing")
            for line in self.lines:
                terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def report(request: pytest.FixtureRequest) -> list[str]:
    """Append lines here to show them at the end of the run."""
    manager = request.config.pluginmanager
    plugin = manager.get_plugin("person-segmentation-video-report")
    if plugin is None:
        plugin = _Report()
        manager.register(plugin, "person-segmentation-video-report")
    lines: list[str] = plugin.lines
    return lines


@pytest.fixture(scope="module")
def sequence(data_dir: Path) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The 30 RGB frames and their 0/1 ground-truth masks."""
    images = sorted((data_dir / SEQUENCE / "images").glob("*.jpg"))
    masks = sorted((data_dir / SEQUENCE / "masks").glob("*.png"))
    assert len(images) == len(masks) == 30
    assert [p.stem for p in images] == [p.stem for p in masks]
    frames = [np.asarray(PIL.Image.open(p).convert("RGB")) for p in images]
    truth = [(np.asarray(PIL.Image.open(p).convert("L")) > 127).astype(np.uint8) for p in masks]
    return frames, truth


def iou(mask: np.ndarray, truth: np.ndarray) -> float:
    union = np.count_nonzero(mask | truth)
    return 1.0 if union == 0 else np.count_nonzero(mask & truth) / union


def recall(mask: np.ndarray, truth: np.ndarray) -> float:
    positives = np.count_nonzero(truth)
    return 1.0 if positives == 0 else np.count_nonzero(mask & truth) / positives


@pytest.mark.weights
@pytest.mark.parametrize(("multiplier", "stride"), CONFIGS)
def test_smoothing_is_steadier_and_as_accurate(
    load_net: Callable[..., ps.PersonSegmentation],
    sequence: tuple[list[np.ndarray], list[np.ndarray]],
    report: list[str],
    multiplier: float,
    stride: int,
) -> None:
    frames, truth = sequence
    net = load_net(multiplier)
    results: dict[float, tuple[float, float, float, float]] = {}
    for smoothing in SMOOTHINGS:
        segmenter = VideoSegmenter(net, smoothing=smoothing, output_stride=stride)
        masks = [segmenter.process(frame).mask for frame in frames]
        ious = [iou(m, t) for m, t in zip(masks, truth)]
        recalls = [recall(m, t) for m, t in zip(masks, truth)]
        results[smoothing] = (flicker(masks), float(np.mean(ious)), float(np.min(ious)), float(np.mean(recalls)))
        if smoothing == 0.0:  # no smoothing = the single-image API, frame by frame
            for i in (0, 17):
                np.testing.assert_array_equal(
                    masks[i], net.estimate_person_segmentation(frames[i], output_stride=stride)
                )

    header = (
        f"video smoothing, DAVIS rollerblade (30 frames), {multiplier} net, stride {stride}; "
        f"ground-truth flicker {flicker(truth):.4f}"
    )
    lines = [header] + [
        f"  smoothing {s:.1f}: flicker {f:.4f} ({f / results[0.0][0] - 1:+.0%}), "
        f"mean IoU {m:.4f} ({m - results[0.0][1]:+.4f}), min IoU {lo:.4f}, mean recall {r:.4f}"
        for s, (f, m, lo, r) in results.items()
    ]
    report.extend(lines)
    print("\n" + "\n".join(lines))

    raw_flicker, raw_iou, _, _ = results[0.0]
    for smoothing in (0.3, DEFAULT_SMOOTHING):
        smoothed_flicker, smoothed_iou, _, _ = results[smoothing]
        assert smoothed_flicker < raw_flicker, f"smoothing {smoothing} should be steadier"
        assert smoothed_iou >= raw_iou - 0.01, f"smoothing {smoothing} should be as accurate"
    # The recommended default removes a good part of the flicker, and more smoothing is steadier.
    assert results[DEFAULT_SMOOTHING][0] < 0.7 * raw_flicker
    flickers = [results[s][0] for s in SMOOTHINGS]
    assert flickers == sorted(flickers, reverse=True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sam2_bedroom.mp4", VideoInfo(960, 540, 30.0, 200)),
        ("sam2_05_default_juggle.mp4", VideoInfo(1280, 720, 24.0, 247)),
    ],
)
def test_read_the_shared_videos(data_dir: Path, name: str, expected: VideoInfo) -> None:
    path = data_dir / "video" / name
    info = video_info(path)
    assert info == expected
    frames = read_video(path)
    first = list(islice(frames, 5))
    frames.close()
    assert len(first) == 5
    for frame in first:
        assert frame.shape == (info.height, info.width, 3) and frame.dtype == np.uint8 and frame.flags.c_contiguous
    assert not np.array_equal(first[0], first[4]), "the frames of a video should differ"
    # The container's frame count is exact for these files.
    assert sum(1 for _ in read_video(str(path))) == info.frame_count


@pytest.mark.weights
def test_segment_the_first_frames_of_a_shared_video(
    load_net: Callable[..., ps.PersonSegmentation], data_dir: Path
) -> None:
    net = load_net(0.5)
    path = data_dir / "video" / "sam2_bedroom.mp4"
    segmenter = VideoSegmenter(net, smoothing=DEFAULT_SMOOTHING, parts=True)
    frames = read_video(path)
    results = [segmenter.process(frame) for frame in islice(frames, 6)]
    frames.close()
    first = next(iter(read_video(path)))
    np.testing.assert_array_equal(results[0].parts, net.estimate_part_segmentation(first))
    for i, result in enumerate(results):
        assert result.index == i and result.mask.shape == (540, 960) and result.parts is not None
        np.testing.assert_array_equal(result.mask, result.parts >= 0)
    assert results[-1].mask.any(), "someone is in the bedroom"
