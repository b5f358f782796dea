"""What ``segment`` will read and write, decided before the model is loaded.

The rules (tested with random trees in tests/reliability/test_outputs.py):

* Only regular files (or links to them) are inputs; a FIFO, socket or device among them is
  reported and skipped (a FIFO would block the reader forever).
* No output is ever written over an input (nor over a FIFO or device skipped among them).
  Inputs are compared by identity (device and inode, as ``os.path.samefile``), so a hard link,
  a symbolic link or another spelling of an input is one too. In a directory ``-o``, an output
  whose name is taken by an input gets the next free name (``<stem>-2.<label>.png``, ``-3``,
  ...), the rule already used for two inputs of the same name, so the batch goes on and both
  files are kept; ``-o`` naming one file that is the input is refused (exit 2).
* Every output name is unique.
* Where the output folder is inside an input folder, the command's own earlier outputs there
  (named ``<stem>.<label>.png`` / ``.mp4`` and carrying the mark of :mod:`._outputs`) are not
  inputs (a re-run replaces them instead of segmenting them); a user's file of such a name
  without the mark is an input like any other.
* ``-o`` must be usable: a directory (or one that can be created) that can be written, or for
  one input a file name in such a directory; anything else is a usage error (exit 2).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from person_segmentation._constants import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, VIDEO_OUTPUT_EXTENSIONS
from person_segmentation.cli._common import UsageError
from person_segmentation.cli._outputs import is_own_output


@dataclass
class Job:
    """One input file and where its result goes."""

    source: Path
    kind: str  # "image" or "video"
    target: Path
    frames: int = 1  # expected frames (for the progress bar)
    info: Any = None  # video.VideoInfo for videos
    error: str | None = None  # found while probing
    note: str | None = None  # said after the output's name when done (--people: how many people)


@dataclass
class Plan:
    """The jobs, the inputs that give nothing (name, reason), and whether -o names one file."""

    jobs: list[Job] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    output_file: bool = False


def kind_of(path: Path) -> str:
    return "video" if path.suffix.lower() in VIDEO_EXTENSIONS else "image"


def target_name(relative: Path, kind: str, label: str) -> Path:
    return relative.with_name(f"{relative.stem}.{label}.{'mp4' if kind == 'video' else 'png'}")


def identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file ``path`` names (links followed), or None if there is none."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    return status.st_dev, status.st_ino


def resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # pragma: no cover - a link loop
        return path.absolute()


def not_a_file(path: Path) -> str | None:
    """Why ``path`` cannot be an input (not a regular file), or None (a regular file, or a
    missing one: that is reported when it is read)."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return f"cannot read it ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    what = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "a directory"
        if stat.S_ISDIR(mode)
        else "not a file"
    )
    return f"not a regular file ({what}); only files are read"


def missing(path: Path) -> str | None:
    """Why the input ``path`` cannot be read because nothing is there, or None. A missing input
    is neither a file nor a folder: it is reported as such (not as an unreadable image)."""
    if os.path.exists(path):
        return None
    return "no such file or folder (a broken symbolic link)" if os.path.lexists(path) else "no such file or folder"


def walk(directory: Path, exclude: Path | None) -> Iterator[Path]:
    """Image and video files under ``directory`` (recursively, sorted; hidden entries and the
    directory ``exclude`` skipped)."""
    for root, dirs, files in os.walk(directory):
        here = Path(root)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and (exclude is None or resolved(here / d) != exclude)
        )
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS:
                yield here / name


def _existing_ancestor(path: Path, what: str) -> tuple[Path, int]:
    """The nearest of ``path`` and its parents that exists, and its mode."""
    for candidate in (path, *path.parents):
        try:
            return candidate, os.stat(candidate).st_mode
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as exc:
            raise UsageError(f"{what}: cannot use {candidate} ({exc.strerror or exc})") from exc
    return Path(path.anchor or "."), stat.S_IFDIR  # pragma: no cover - the root exists


def check_output_directory(output: Path, what: str | None = None, *, parent: bool = False) -> None:
    """``output`` is a directory that can be written, or one that can be created; else a
    UsageError starting with ``what`` (default ``-o OUTPUT``; ``parent``: ``output`` is the
    folder of an output file). Found before the model is loaded; the check leaves nothing."""
    what = what or f"-o {output}"
    absolute = output.absolute()
    place, mode = _existing_ancestor(absolute, what)
    if place == absolute:
        if not stat.S_ISDIR(mode) and parent:
            raise UsageError(f"{what}: {output} is a file, not a directory")
        if not stat.S_ISDIR(mode):
            raise UsageError(
                f"{what}: {output} exists and is not a directory (with several inputs or a directory, "
                "-o names the output directory)"
            )
        try:
            fd, probe = tempfile.mkstemp(prefix=".person-segmentation-probe-", dir=absolute)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise UsageError(f"{what}: cannot write into the directory {output} ({exc.strerror or exc})") from exc
        return
    if not stat.S_ISDIR(mode):
        raise UsageError(f"{what}: {place} is a file, not a directory")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".person-segmentation-probe-", dir=place))
    except OSError as exc:
        raise UsageError(f"{what}: cannot create a directory in {place} ({exc.strerror or exc})") from exc


def check_output_file(output: Path, what: str | None = None) -> None:
    """``output`` can be written as one file: not an existing directory or non-regular file, in
    a directory that can be written or created; else a UsageError starting with ``what``."""
    what = what or f"-o {output}"
    try:
        mode: int | None = os.stat(output).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as exc:
        raise UsageError(f"{what}: cannot use it ({exc.strerror or exc})") from exc
    if mode is not None and not stat.S_ISREG(mode):
        raise UsageError(f"{what}: {output} exists and is not a regular file; it is not replaced")
    check_output_directory(output.parent, what, parent=True)


def _is_inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def plan(
    inputs: Sequence[str], output: Path, label: str, own_output: Callable[[Path, str], bool] = is_own_output
) -> Plan:
    """The jobs for ``inputs`` written to ``output`` (see the module's rules); UsageError for
    an ``-o`` that cannot work."""
    sources = [Path(p) for p in inputs]
    suffix = output.suffix.lower()
    if suffix in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS and not output.is_dir():
        return _plan_one_file(sources, output)
    check_output_directory(output)
    out = resolved(output)
    result = Plan()
    candidates: list[tuple[Path, Path]] = []  # (source, path relative to the output)
    for path in sources:
        if path.is_dir():
            found = False
            for file in walk(path, out):
                found = True
                reason = not_a_file(file)
                if reason is not None:
                    result.skipped.append((str(file), reason))
                elif not (_is_inside(resolved(file.parent), out) and own_output(file, label)):
                    candidates.append((file, file.relative_to(path)))
            if not found:
                result.skipped.append((str(path), "no image or video files in this directory"))
            continue
        reason = missing(path) or not_a_file(path)
        if reason is not None:
            result.skipped.append((str(path), reason))
        else:  # a file
            candidates.append((path, Path(path.name)))
    # Taken: the inputs, and the FIFOs, devices... skipped among them (the user's too).
    names = [source for source, _ in candidates] + [Path(name) for name, _ in result.skipped]
    inputs_found = {key for key in map(identity, names) if key is not None}
    taken: set[Path] = set()
    for source, relative in candidates:
        kind = kind_of(source)
        target = output / target_name(relative, kind, label)
        n = 2
        # Two inputs of the same name: both kept; a name taken by an input: never written over.
        while target in taken or identity(target) in inputs_found:
            target = output / target_name(relative.with_name(f"{relative.stem}-{n}{relative.suffix}"), kind, label)
            n += 1
        taken.add(target)
        result.jobs.append(Job(source, kind, target))
    return result


def _plan_one_file(sources: list[Path], output: Path) -> Plan:
    """-o names one output file: only for one input file of a matching kind."""
    suffix = output.suffix.lower()
    if len(sources) != 1 or sources[0].is_dir():
        raise UsageError(
            f"-o {output} is a file name, but the inputs are {'several' if len(sources) > 1 else 'a directory'}; "
            "give a directory with -o"
        )
    source = sources[0]
    kind = kind_of(source)
    wanted = VIDEO_OUTPUT_EXTENSIONS if kind == "video" else tuple(sorted(IMAGE_EXTENSIONS))
    if suffix not in wanted:
        raise UsageError(
            f"-o {output}: the output of {'a video' if kind == 'video' else 'an image'} must be a directory or "
            f"a file ending in {' '.join(wanted)}"
        )
    found = identity(source)
    if found is not None and identity(output) == found:
        raise UsageError(f"-o {output} is the input file itself; writing it would destroy the input")
    check_output_file(output)
    reason = missing(source) or not_a_file(source)
    if reason is not None:
        return Plan([], [(str(source), reason)], True)
    return Plan([Job(source, kind, output)], [], True)
