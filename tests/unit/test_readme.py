"""The README's snippets run and its command lines parse, so they cannot rot (issue 12).

* Its ```python blocks run in order in one namespace (see ``tests/_readme.py``), in a sandbox
  folder that holds what they name: ``docs/`` (the repository's, for ``docs/images/astronaut.png``),
  ``photo.jpg`` (a photo of the shared data), ``photos/`` (photos of the shared data and one
  corrupt file), ``in.mp4`` (a 6-frame clip of the shared DAVIS sequence) and ``beach.jpg``;
  ``PERSON_SEGMENTATION_WEIGHTS`` points at the shared weights (a mirror of the official
  layout). A block that needs something else is marked ``<!-- snippet: skip REASON -->``.
* Its command lines are parsed by the real parser (no model is loaded); a synopsis names only
  options its command has, and the fenced synopsis of a command names every one of them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from person_segmentation.cli import _parser

from .. import _readme
from ..conftest import REPO_ROOT

PHOTOS = (
    "voc2012_person/images/001408.jpg",
    "coco2017_person_samples/images/000000001296.jpg",
    "davis2016_person/images/hike_00024.jpg",
)
ROLLERBLADE = "video/davis2016_rollerblade_seq"
#: Skips must stay rare: at most this fraction of the Python blocks.
MAX_SKIPPED_FRACTION = 0.25


def _commands_of(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no sub-commands")


def _options(parser: argparse.ArgumentParser, *, skip_group: str | None = None) -> list[list[str]]:
    """The option strings of each option of ``parser`` but --help, optionally without those of
    the argument group titled ``skip_group``."""
    skipped = set()
    for group in parser._action_groups:
        if group.title == skip_group:
            skipped = {id(a) for a in group._group_actions}
    return [
        list(action.option_strings)
        for action in parser._actions
        if action.option_strings and "--help" not in action.option_strings and id(action) not in skipped
    ]


def _all_option_strings(parser: argparse.ArgumentParser) -> set[str]:
    return {o for action in parser._actions for o in action.option_strings}


def _named_options(synopsis: str) -> set[str]:
    """The options a synopsis names (``--opt`` and ``-x`` words, without brackets or values)."""
    cleaned = synopsis.replace("[", " ").replace("]", " ").replace("|", " ")
    return {word for word in cleaned.split() if word.startswith("-") and not word[1:2].isdigit()}


def test_the_readme_has_snippets_and_commands() -> None:
    python = [b for b in _readme.blocks() if b.language == "python"]
    assert len(python) >= 3
    assert any(c.fenced and not c.is_synopsis for c in _readme.commands())


def test_skips_are_justified_and_rare() -> None:
    python = [b for b in _readme.blocks() if b.language == "python"]
    skipped = [b for b in python if b.skip is not None]
    for block in skipped:
        assert len(block.skip or "") >= 10, f"README.md:{block.line}: a skipped snippet needs its reason"
    assert len(skipped) <= MAX_SKIPPED_FRACTION * len(python), [b.line for b in skipped]


def test_the_extraction_itself() -> None:
    text = (
        "x\n<!-- snippet: skip needs a camera attached -->\n```python\nimport os\n```\n"
        "```bash\npip install . && person-segmentation segment a.jpg \\\n    -o m.png\n"
        "person-segmentation webcam [--device 0]\n    [--mirror]\n```\n"
        "Inline: `python -m person_segmentation info` and `person-segmentation`.\n"
    )
    (block, bash) = _readme.blocks(text)
    assert block.language == "python" and block.skip == "needs a camera attached" and block.line == 4
    found = _readme.commands(text)
    assert [(c.text, c.is_synopsis, c.fenced) for c in found] == [
        ("person-segmentation segment a.jpg -o m.png", False, True),
        ("person-segmentation webcam [--device 0] [--mirror]", True, True),
        ("python -m person_segmentation info", False, False),
        ("person-segmentation", False, False),
    ]
    assert found[2].words == ["person-segmentation", "info"]


@pytest.mark.parametrize("command", [c for c in _readme.commands() if not c.is_synopsis], ids=lambda c: f"L{c.line}")
def test_every_command_of_the_readme_parses(
    command: _readme.Command, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    words = command.words[1:]
    if not words:
        return  # the program's name in the text, not a command
    monkeypatch.chdir(tmp_path)
    for word in words:  # effects that read a file when parsed: give them one
        if word.startswith("replace=") and not word.startswith("replace=#"):
            PIL.Image.new("RGB", (4, 4)).save(tmp_path / word.removeprefix("replace="))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            _parser().parse_args(words)
        except SystemExit as exc:  # --help exits with 0; a parse error with 2
            assert exc.code == 0, f"README.md:{command.line}: {command.text!r} does not parse: {err.getvalue()}"


@pytest.mark.parametrize("command", [c for c in _readme.commands() if c.is_synopsis], ids=lambda c: f"L{c.line}")
def test_every_synopsis_names_real_options_and_the_fenced_ones_all_of_them(command: _readme.Command) -> None:
    words = command.words
    subcommands = _commands_of(_parser())
    if len(words) < 2 or words[1] not in subcommands:
        return  # e.g. "person-segmentation COMMAND --help"
    parser = subcommands[words[1]]
    named = _named_options(command.text)
    unknown = named - _all_option_strings(parser)
    assert not unknown, f"README.md:{command.line}: the synopsis of {words[1]} names unknown options {unknown}"
    if command.fenced:
        shorthand = "rendering (with --effect)" if "[rendering options]" in command.text else None
        missing = [names[-1] for names in _options(parser, skip_group=shorthand) if not set(names) & named]
        assert not missing, f"README.md:{command.line}: the synopsis of {words[1]} omits {sorted(missing)}"


@pytest.fixture
def sandbox(tmp_path: Path, data_dir: Path, weights_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the snippets run in (see the module's docstring)."""
    from person_segmentation import video

    (tmp_path / "docs").symlink_to(REPO_ROOT / "docs", target_is_directory=True)
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in PHOTOS:
        shutil.copy(data_dir / name, photos / Path(name).name)
    (photos / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    shutil.copy(data_dir / PHOTOS[0], tmp_path / "photo.jpg")
    shutil.copy(data_dir / PHOTOS[1], tmp_path / "beach.jpg")
    frames = sorted((data_dir / ROLLERBLADE).rglob("*.jpg"))[:6]
    assert len(frames) == 6, f"no frames under {data_dir / ROLLERBLADE}"
    first = np.asarray(PIL.Image.open(frames[0]).convert("RGB"))
    with video.VideoWriter(tmp_path / "in.mp4", 24.0, size=(first.shape[1], first.shape[0])) as writer:
        for frame in frames:
            writer.write(np.asarray(PIL.Image.open(frame).convert("RGB")))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERSON_SEGMENTATION_WEIGHTS", str(weights_dir))
    return tmp_path


@pytest.mark.weights
def test_the_python_snippets_run_as_written(sandbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": "__readme__"}
    ran = 0
    for block in _readme.blocks():
        if block.language != "python" or block.skip is not None:
            continue
        code = compile(block.code, f"README.md:{block.line}", "exec")
        try:
            exec(code, namespace)
        except Exception as exc:
            raise AssertionError(f"the README's snippet at line {block.line} fails: {exc!r}") from exc
        ran += 1
    assert ran >= 3
    out = capsys.readouterr().out
    # the Python API snippet names a torso pixel and the background; the stream reports the corrupt file
    assert "torso_front\nNone\n" in out and "skipped photos/corrupt.jpg" in out
