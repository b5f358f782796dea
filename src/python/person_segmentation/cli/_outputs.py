"""The command line's output files: never partial, never over an input, recognisable as ours.

Every output is written under a hidden temporary name in its own folder
(``.<name>.<random>.tmp<ext>``) and renamed into place (``os.replace``, atomic) only once it
is complete, so an output name holds either the complete new file or what it held before:
a full disk, a crash, Ctrl+C or SIGTERM leave no partial file and never remove an earlier
complete one. :class:`Outputs` keeps the temporary files of a run, so that an interruption
removes them (also those of worker threads still running).

PNG outputs carry a tEXt chunk ``Software: person-segmentation <version>`` and MP4 outputs
end with an ISO BMFF ``free`` box holding the same text (players skip such boxes): a re-run
into the input folder knows its own earlier outputs by these marks, and never mistakes a
user's photo that merely has an output's name for one.
"""

from __future__ import annotations

import os
import secrets
import struct
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from person_segmentation._constants import OUTPUT_MARKER
from person_segmentation._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    import PIL.Image

#: The text of the marks (the version is informative; any version's outputs are recognised).
MARK = f"{OUTPUT_MARKER} {__version__}"
#: What ends an MP4 output: a top-level ``free`` box (size, type, payload) holding the mark.
_MP4_PAYLOAD = OUTPUT_MARKER.encode("ascii") + b" output\n"
MP4_MARK = struct.pack(">I4s", 8 + len(_MP4_PAYLOAD), b"free") + _MP4_PAYLOAD
#: How far into a PNG the mark is looked for (it is written right after the header).
_PNG_SEARCH = 1 << 16
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Stopped(Exception):
    """The run was interrupted: no output is started or published any more."""


def temporary_name(target: Path) -> Path:
    """A hidden name next to ``target`` for writing it: ``.<name>.<random>.tmp<suffix>`` (the
    suffix kept, as encoders choose the format by it; a long name is shortened)."""
    name = target.name
    if len(os.fsencode(name)) > 150:
        name = name[:40]
    return target.with_name(f".{name}.{secrets.token_hex(4)}.tmp{target.suffix}")


class Outputs:
    """The outputs of one run: their temporary files and the ones published (thread-safe).

    :meth:`reserve` creates a temporary file for a target, :meth:`publish` renames it into
    place, :meth:`discard` removes it; :meth:`stop` (on Ctrl+C or SIGTERM) removes every
    temporary file still there and makes any later :meth:`reserve` or :meth:`publish` raise
    :class:`Stopped` (and remove its file), so a worker thread still running cannot leave one
    behind or publish after the summary.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: set[Path] = set()
        self._stopped = False
        self.published: list[Path] = []

    def reserve(self, target: Path) -> tuple[Path, int]:
        """Create a new temporary file for ``target`` (mode 0o666 less the umask, as a plain
        file); returns its name and an open descriptor for writing."""
        with self._lock:
            if self._stopped:
                raise Stopped(f"not writing {target}: interrupted")
            while True:
                temporary = temporary_name(target)
                try:
                    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                except FileExistsError:  # pragma: no cover - 32 random bits
                    continue
                self._pending.add(temporary)
                return temporary, fd

    def publish(self, temporary: Path, target: Path) -> None:
        """Rename the complete ``temporary`` to ``target`` (replacing what was there)."""
        with self._lock:
            if self._stopped:
                self._remove(temporary)
                raise Stopped(f"not writing {target}: interrupted")
            os.replace(temporary, target)
            self._pending.discard(temporary)
            self.published.append(target)

    def discard(self, temporary: Path) -> None:
        """Remove ``temporary`` (if it is still there)."""
        with self._lock:
            self._remove(temporary)

    def stop(self) -> None:
        """No more outputs: remove every temporary file (idempotent)."""
        with self._lock:
            self._stopped = True
            for temporary in list(self._pending):
                self._remove(temporary)

    def _remove(self, temporary: Path) -> None:
        self._pending.discard(temporary)
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass


def save_image(image: PIL.Image.Image, target: Path, outputs: Outputs) -> None:
    """Save ``image`` as ``target`` (format by its extension; a PNG gets the mark) through a
    temporary file: ``target`` appears only complete."""
    import PIL.Image
    from PIL.PngImagePlugin import PngInfo

    PIL.Image.init()
    file_format = PIL.Image.registered_extensions().get(target.suffix.lower())
    if file_format is None:  # pragma: no cover - the planning allows only image extensions
        raise ValueError(f"cannot write {target}: no image format for its extension")
    temporary, fd = outputs.reserve(target)
    try:
        with os.fdopen(fd, "wb") as file:
            if file_format == "PNG":
                info = PngInfo()
                info.add_text("Software", MARK)
                image.save(file, format="PNG", pnginfo=info)
            else:
                image.save(file, format=file_format)
        outputs.publish(temporary, target)
    except BaseException:
        outputs.discard(temporary)
        raise


def mark_mp4(path: Path) -> None:
    """Append the mark (a top-level ``free`` box) to the finished MP4 file ``path``."""
    with open(path, "ab") as file:
        file.write(MP4_MARK)


def png_is_marked(path: Path) -> bool:
    """Whether the PNG file ``path`` carries the mark (a tEXt "Software" chunk before its image
    data); any read or format problem is "no"."""
    try:
        with open(path, "rb") as file:
            data = file.read(_PNG_SEARCH)
    except OSError:
        return False
    if not data.startswith(_PNG_SIGNATURE):
        return False
    position = len(_PNG_SIGNATURE)
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"IDAT":
            return False
        body = data[position + 8 : position + 8 + length]
        if kind == b"tEXt" and len(body) == length:
            keyword, _, text = body.partition(b"\x00")
            if keyword == b"Software" and text.decode("latin-1").split(" ")[0] == OUTPUT_MARKER:
                return True
        position += 12 + length
    return False


def mp4_is_marked(path: Path) -> bool:
    """Whether the file ``path`` ends with the mark."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            if size < len(MP4_MARK):
                return False
            file.seek(size - len(MP4_MARK))
            return file.read() == MP4_MARK
    except OSError:
        return False


def is_own_output(path: Path, label: str) -> bool:
    """Whether the regular file ``path`` is an output of this command with this ``label``: named
    ``<stem>.<label>.png`` / ``<stem>.<label>.mp4`` and carrying the mark."""
    name = path.name
    if name.endswith(f".{label}.png"):
        return png_is_marked(path)
    if name.endswith(f".{label}.mp4"):
        return mp4_is_marked(path)
    return False
