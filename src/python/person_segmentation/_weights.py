"""Locate, download, cache, decode and validate the pretrained MobileNetV1 weights.

Two on-disk formats published by Google for TensorFlow.js are understood:

* **1.x "partmap"** (what person-segmentation v0.0.x / BodyPix 1.0 load): a folder
  ``posenet_mobilenet_<100|075|050|025>_partmap/`` holding ``weights_manifest.json`` and its
  shard files. The manifest is a list of groups ``{"paths": [...], "weights": [{name, shape,
  dtype}, ...]}``; a group's shards, concatenated in order, hold its tensors back to back,
  little-endian.
* **2.x graph model** (BodyPix 2.0): a ``model-stride*.json`` whose inline ``weightsManifest``
  has the same structure (shard paths relative to the JSON's folder). Entries may carry
  ``quantization: {dtype: uint8|uint16, min, scale}``: the stored integers ``q`` decode as
  ``q * scale + min`` (computed in float64 and rounded once to float32, as TensorFlow.js does
  by writing the JavaScript double into a ``Float32Array``). The 24 part channels of the 2.x
  ``part_heatmap_2`` head are permuted on load so that channel ``i`` always means the 1.x part
  id ``i`` (:data:`PART_NAMES_1X`).

Only numpy and the standard library are used; nothing touches the network at import time,
nor ever when the weights are local files.

Downloads (http/https) are cached as ``<cache_dir>/<host[_port]>/<url path>``. Each file is
written to a uniquely named hidden temporary file beside its final name
(``.<name>.<random>.part``), checked (Content-Length, the size the manifest implies, the
sha256 pin of :data:`OFFICIAL_SHA256` where there is one, a parsable manifest) and only then
renamed into place atomically, so a final name only ever holds a complete, checked file. A
cached file is used only when those checks pass on the very bytes used; otherwise it is
discarded and fetched again. Processes and threads sharing a cache take an advisory lock per
cached file (``fcntl.flock`` on a hidden ``.<name>.lock``, removed after use) while checking
or fetching it: a second loader of the same weights waits for the first and reuses its
files. A lock holder also removes ``.part`` files of killed downloads (untouched for an
hour). Where flock is unavailable (Windows, some network file systems, a read-only cache)
loading goes on unlocked and stays correct, at worst downloading a file twice.

``$PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT`` (seconds, default 60) bounds how long a connection
attempt or any wait for more data may stall before the download fails with a
:class:`WeightsError` naming the URL. ``$PERSON_SEGMENTATION_DOWNLOAD_DEADLINE`` (seconds,
default 600) bounds how long one file's download may take in all, however steadily data
trickles in (it is checked whenever data arrives, so a transfer ends at most one timeout
after it). Nothing is read beyond what a file may hold: a shard stops one byte after the size
its manifest fixes (and is refused unread when its Content-Length is larger), a manifest one
byte after ``MAX_MANIFEST_BYTES`` (4 MiB), and a manifest describing more than
``MAX_WEIGHTS_BYTES`` (256 MiB) of weights is refused before any shard is fetched. At most
``MAX_REDIRECTS`` (5) redirects are followed per file, to http and https URLs only (never to
ftp:// or file://), and a redirect's body is never read.

Credentials in a URL (``https://user:password@host/...``) are sent as HTTP Basic
authentication to that URL and to the shard URLs beside it (never to a redirect's target), and
are never shown: messages, logs and :attr:`LoadedWeights.source` read ``user:***@host``.

Why one module (about 1370 lines): locating, downloading, caching, verifying and decoding are
one pipeline whose safety rules (atomic renames, locks, size and sha256 checks before use)
must hold together; its tests patch these internals directly. Splitting it is planned when
the BodyPix 2 loader lands beside it.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import logging
import math
import os
import pathlib
import re
import stat
import string
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import IO, Any, Final, TypeGuard

import numpy as np

from person_segmentation._checks import check_bundled_stride, check_multiplier
from person_segmentation._constants import (
    BODYPIX_MODELS_PATH,
    BODYPIX_QUANT_FOLDERS,
    DOWNLOAD_DEADLINE_S,
    MAX_MANIFEST_BYTES,
    MAX_REDIRECTS,
    MAX_WEIGHTS_BYTES,
    MULTIPLIERS,
    NUM_BLOCKS,
    NUM_PARTS,
)

try:  # POSIX advisory locks serialise processes sharing a cache; elsewhere there are none
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "MULTIPLIERS",
    "OFFICIAL_BASE_URL",
    "OFFICIAL_SHA256",
    "PART_NAMES_1X",
    "PART_NAMES_2X",
    "LoadedWeights",
    "WeightsError",
    "bundled_model",
    "default_cache_dir",
    "load_weights",
    "resolve_cache_dir",
]

_log = logging.getLogger(__name__)

OFFICIAL_BASE_URL: Final[str] = "https://storage.googleapis.com/tfjs-models/savedmodel/"
"""Base URL of Google's hosted TensorFlow.js models; the default weights location."""


PART_NAMES_1X: Final[tuple[str, ...]] = (
    "left_face",
    "right_face",
    "right_upper_leg_front",
    "right_lower_leg_back",
    "right_upper_leg_back",
    "left_lower_leg_front",
    "left_upper_leg_front",
    "left_upper_leg_back",
    "left_lower_leg_back",
    "right_feet",
    "right_lower_leg_front",
    "left_feet",
    "torso_front",
    "torso_back",
    "right_upper_arm_front",
    "right_upper_arm_back",
    "right_lower_arm_back",
    "left_lower_arm_front",
    "left_upper_arm_front",
    "left_upper_arm_back",
    "left_lower_arm_back",
    "right_hand",
    "right_lower_arm_front",
    "left_hand",
)
"""The 24 body parts in 1.x order: index = the API's part id = output channel after loading."""

PART_NAMES_2X: Final[tuple[str, ...]] = (
    "left_face",
    "right_face",
    "left_upper_arm_front",
    "left_upper_arm_back",
    "right_upper_arm_front",
    "right_upper_arm_back",
    "left_lower_arm_front",
    "left_lower_arm_back",
    "right_lower_arm_front",
    "right_lower_arm_back",
    "left_hand",
    "right_hand",
    "torso_front",
    "torso_back",
    "left_upper_leg_front",
    "left_upper_leg_back",
    "right_upper_leg_front",
    "right_upper_leg_back",
    "left_lower_leg_front",
    "left_lower_leg_back",
    "right_lower_leg_front",
    "right_lower_leg_back",
    "left_feet",
    "right_feet",
)
"""The order in which the published 2.x weights emit their 24 part channels."""

OFFICIAL_SHA256: Final[Mapping[str, str]] = MappingProxyType(
    {
        # Only hashes independently confirmed to be those of Google's hosted files (a public
        # project pins both while downloading them from OFFICIAL_BASE_URL). The other sha256
        # values in the shared PROVENANCE.md are of copies taken from GitHub mirrors, and at
        # least the mirrored JSON files are not byte-identical to Google's (the mirror's
        # quant2/075/model-stride16.json hashes to f7e26cc2...), so they are not pinned.
        "bodypix/mobilenet/quant2/075/group1-shard1of1.bin": (
            "e215c9546b9db0e1e06c23c759ed48ccaf2aad68c656d0130b5757bc0479ac77"
        ),
        "bodypix/mobilenet/quant2/075/model-stride16.json": (
            "7c9b3bd68f86004b75e739255b9b823c4d8f409fabe6dd753b76c0fdd90a357e"
        ),
    }
)
"""sha256 of official files, keyed by their path relative to :data:`OFFICIAL_BASE_URL`.

A file downloaded over http(s) whose URL path ends with one of these relative paths (on any
host, so a faithful mirror is checked too) must have this hash, and so must its cached copy.
"""

_WEIGHTS_ENV: Final = "PERSON_SEGMENTATION_WEIGHTS"


def weights_location_from_env() -> str | None:
    """``$PERSON_SEGMENTATION_WEIGHTS`` when it is set and not empty, else None."""
    return os.environ.get(_WEIGHTS_ENV) or None


def from_env_note(exc: WeightsError) -> WeightsError:
    """``exc`` saying that its location came from ``$PERSON_SEGMENTATION_WEIGHTS``."""
    return WeightsError(f"{exc} (weights location taken from ${_WEIGHTS_ENV})")


OFFLINE_HINT: Final[str] = (
    "to work without a download, use local weights (weights= in Python, --weights on the command line, "
    "or $PERSON_SEGMENTATION_WEIGHTS: a folder mirroring the official layout, one model folder, or a 2.x "
    "model-stride*.json), or the bundled BodyPix 2 0.75 model (weights=person_segmentation.bundled_model(); "
    "the command line's default when neither --weights nor --multiplier is given)"
)
"""What a failed download's message adds: how to do without the network."""
_CACHE_ENV: Final = "PERSON_SEGMENTATION_CACHE"
_MANIFEST_1X: Final = "weights_manifest.json"
_FOLDER_1X_RE: Final = re.compile(r"posenet_mobilenet_\d{3}_partmap")
_URL_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_TIMEOUT_ENV: Final = "PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT"
_DOWNLOAD_TIMEOUT_S: Final = 60.0  # default; $PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT overrides
_DEADLINE_ENV: Final = "PERSON_SEGMENTATION_DOWNLOAD_DEADLINE"  # default DOWNLOAD_DEADLINE_S
_MAX_RANK: Final = 32  # the most dimensions a tensor may have (numpy's limit; MobileNetV1 needs 4)
_MAX_SHARDS: Final = 1024  # the most shard files of one manifest (TF.js writes 4 MB shards: 64 for 256 MiB)
_TEMP_SUFFIX: Final = ".part"  # downloads in progress: hidden ".<name>.<random>.part"
_LOCK_SUFFIX: Final = ".lock"  # per-file lock: hidden ".<name>.lock", removed on release
_STALE_TEMP_AGE_S: Final = 3600.0  # a ".part" file untouched this long is a dead download's
_CHUNK_BYTES: Final = 1 << 20
_USER_AGENT: Final = "person-segmentation (weights loader; Python urllib)"

_PREFIX: Final = "MobilenetV1/"
_PART_WEIGHTS: Final = _PREFIX + "part_heatmap_2/weights"
_PART_BIAS: Final = _PREFIX + "part_heatmap_2/Conv2D_bias"
_WIDTH_TO_MULTIPLIER: Final[Mapping[int, float]] = MappingProxyType({1024: 1.0, 384: 0.75, 256: 0.5, 128: 0.25})

# Element type in the shards, by manifest "dtype" (unquantized) or by "quantization.dtype".
_STORED_DTYPES: Final[Mapping[str, np.dtype[Any]]] = MappingProxyType(
    {"float32": np.dtype("<f4"), "int32": np.dtype("<i4"), "bool": np.dtype("u1")}
)
_QUANT_DTYPES: Final[Mapping[str, np.dtype[Any]]] = MappingProxyType(
    {"uint8": np.dtype("u1"), "uint16": np.dtype("<u2"), "float16": np.dtype("<f2")}
)


def _part_permutation() -> np.ndarray:
    """Index array ``p`` such that ``raw_2x[..., p]`` puts the channels in 1.x order."""
    if sorted(PART_NAMES_1X) != sorted(PART_NAMES_2X) or len(set(PART_NAMES_1X)) != NUM_PARTS:
        raise RuntimeError("PART_NAMES_1X and PART_NAMES_2X must name the same 24 parts")
    permutation = np.array([PART_NAMES_2X.index(name) for name in PART_NAMES_1X], dtype=np.intp)
    permutation.setflags(write=False)
    return permutation


_PART_PERMUTATION_2X_TO_1X: Final[np.ndarray] = _part_permutation()


class WeightsError(ValueError):
    """The weights are missing, truncated, corrupt, unreachable or not the requested ones.

    The message names the file (local path or URL) concerned and says what is wrong.
    """


class _NotFound(WeightsError):
    """A download the server answered with "not there" (HTTP 403, 404 or 410)."""


class _Unreachable(WeightsError):
    """A download that got no answer: no such host, no route, refused, timed out."""


@dataclass(frozen=True, eq=False)
class LoadedWeights:
    """Decoded, validated MobileNetV1 weights.

    Attributes:
        tensors: float32, C-contiguous arrays keyed by their official names, e.g.
            ``"MobilenetV1/Conv2d_0/weights"`` (3, 3, 3, C0) HWIO,
            ``"MobilenetV1/Conv2d_N_depthwise/depthwise_weights"`` (3, 3, C, 1),
            ``"MobilenetV1/Conv2d_N_pointwise/weights"`` (1, 1, Cin, Cout), biases (C,),
            ``"MobilenetV1/segment_2/weights"`` (1, 1, C13, 1) and
            ``"MobilenetV1/part_heatmap_2/weights"`` (1, 1, C13, 24) whose output channel
            ``i`` is the 1.x part id ``i`` for either format (other 2.x per-part heads such
            as ``part_offset_2`` are kept as stored). Every float tensor of the file is
            included (e.g. the PoseNet heads); non-float ones (int32, bool) are left out.
            Each array is an independent, writable copy owned by this object.
        format: ``"1.x"`` (partmap manifest) or ``"2.x"`` (graph-model JSON).
        multiplier: the depth multiplier, inferred from the width of the last block.
        source: the manifest file path or URL the tensors were read from.
    """

    tensors: Mapping[str, np.ndarray]
    format: str
    multiplier: float
    source: str

    def __repr__(self) -> str:
        return (
            f"LoadedWeights(format={self.format!r}, multiplier={self.multiplier!r}, "
            f"source={self.source!r}, tensors=<{len(self.tensors)} arrays>)"
        )


# --------------------------------------------------------------------------------------------
# Manifest model


@dataclass(frozen=True)
class _Entry:
    """One tensor of a weights group, as described by the manifest."""

    name: str
    shape: tuple[int, ...]
    dtype: str  # logical dtype: "float32", "int32" or "bool"
    stored: np.dtype[Any]  # element type in the shard
    affine: tuple[float, float] | None = None  # (min, scale) of uint8 / uint16 quantization

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.size * self.stored.itemsize


@dataclass(frozen=True)
class _Group:
    paths: tuple[str, ...]
    entries: tuple[_Entry, ...]

    @property
    def nbytes(self) -> int:
        return sum(entry.nbytes for entry in self.entries)


@dataclass(frozen=True)
class _Manifest:
    format: str  # "1.x" or "2.x"
    groups: tuple[_Group, ...]

    def entries(self) -> dict[str, _Entry]:
        return {entry.name: entry for group in self.groups for entry in group.entries}


def _parse_manifest(data: bytes, where: str) -> _Manifest:
    """Parse a 1.x ``weights_manifest.json`` or a 2.x graph-model JSON.

    The format is told from the content: a JSON list is a 1.x manifest, an object with a
    ``weightsManifest`` list is a 2.x model. Every failure (a file over ``MAX_MANIFEST_BYTES``,
    invalid or too deeply nested JSON, a malformed entry, more than ``MAX_WEIGHTS_BYTES`` of
    weights) raises :class:`WeightsError` naming ``where``.
    """
    if len(data) > MAX_MANIFEST_BYTES:
        raise WeightsError(
            f"{where} is larger than {MAX_MANIFEST_BYTES} bytes, the most a weights manifest may be "
            "(the published ones are under 60 KB); it is not a weights manifest"
        )
    try:
        document = json.loads(data)
    except RecursionError:  # json's decoder recurses once per level of nesting
        raise WeightsError(f"{where} is not a weights manifest: its JSON is nested too deeply to parse") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an integer of too many digits
        raise WeightsError(f"{where} is not valid JSON ({exc}); the file is corrupt") from None
    try:
        manifest = _manifest_of(document, where)
    except RecursionError:  # a deeply nested value inside an entry, met while describing it
        raise WeightsError(f"{where} is not a weights manifest: an entry is nested too deeply") from None
    total = sum(group.nbytes for group in manifest.groups)
    if total > MAX_WEIGHTS_BYTES:
        raise WeightsError(
            f"{where} describes {total} bytes of weights, more than the {MAX_WEIGHTS_BYTES} bytes any "
            "MobileNetV1 model needs; the manifest is corrupt"
        )
    return manifest


def _manifest_of(document: object, where: str) -> _Manifest:
    """The manifest a parsed JSON document describes (see :func:`_parse_manifest`)."""
    if isinstance(document, list):
        fmt, raw_groups = "1.x", document
    elif isinstance(document, dict) and isinstance(document.get("weightsManifest"), list):
        fmt, raw_groups = "2.x", document["weightsManifest"]
    else:
        raise WeightsError(
            f"{where} is neither a 1.x weights manifest (a JSON list of weight groups) "
            "nor a 2.x model JSON with a 'weightsManifest' list"
        )
    groups = tuple(_parse_group(raw, index, where) for index, raw in enumerate(raw_groups, 1))
    shards = sum(len(group.paths) for group in groups)
    if shards > _MAX_SHARDS:
        raise WeightsError(f"{where} lists {shards} shard files, more than the {_MAX_SHARDS} a model may have")
    seen: set[str] = set()
    for group in groups:
        for entry in group.entries:
            if entry.name in seen:
                raise WeightsError(f"{where} lists tensor {entry.name!r} more than once")
            seen.add(entry.name)
    return _Manifest(fmt, groups)


def _parse_group(raw: object, index: int, where: str) -> _Group:
    if not isinstance(raw, dict):
        raise WeightsError(f"{where}: weight group {index} is not a JSON object")
    paths, weights = raw.get("paths"), raw.get("weights")
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p for p in paths):
        raise WeightsError(f"{where}: weight group {index} has no valid 'paths' list")
    for path in paths:
        _check_relative_path(path, where)
    if not isinstance(weights, list):
        raise WeightsError(f"{where}: weight group {index} has no 'weights' list")
    return _Group(tuple(paths), tuple(_parse_entry(w, where) for w in weights))


def _parse_entry(raw: object, where: str) -> _Entry:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise WeightsError(f"{where}: weight entry {raw!r:.80} has no 'name'")
    name: str = raw["name"]
    shape, dtype = raw.get("shape"), raw.get("dtype")
    if (
        not isinstance(shape, list)
        or len(shape) > _MAX_RANK
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise WeightsError(f"{where}: tensor {name!r} has an invalid shape {shape!r:.120}")
    if not isinstance(dtype, str) or dtype not in _STORED_DTYPES:
        raise WeightsError(
            f"{where}: tensor {name!r} has unsupported dtype {dtype!r} (supported: {', '.join(_STORED_DTYPES)})"
        )
    quantization = raw.get("quantization")
    if quantization is None:
        return _Entry(name, tuple(shape), dtype, _STORED_DTYPES[dtype])
    quant_dtype = quantization.get("dtype") if isinstance(quantization, dict) else None
    if not isinstance(quantization, dict) or not isinstance(quant_dtype, str) or (quant_dtype not in _QUANT_DTYPES):
        raise WeightsError(
            f"{where}: tensor {name!r} has unsupported quantization {quantization!r:.120} "
            f"(supported dtypes: {', '.join(_QUANT_DTYPES)})"
        )
    stored = _QUANT_DTYPES[quant_dtype]
    if quant_dtype == "float16":
        return _Entry(name, tuple(shape), dtype, stored)
    minimum, scale = quantization.get("min"), quantization.get("scale")
    if not (_is_finite_number(minimum) and _is_finite_number(scale)):
        raise WeightsError(
            f"{where}: tensor {name!r} needs finite quantization 'min' and 'scale', "
            f"got min={minimum!r:.80}, scale={scale!r:.80}"
        )
    return _Entry(name, tuple(shape), dtype, stored, (float(minimum), float(scale)))


def _is_finite_number(value: object) -> TypeGuard[float]:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float (JSON allows any number of digits)
        return False


def _check_relative_path(path: str, where: str) -> None:
    """Refuse shard paths that could leave the manifest's folder (absolute, URL, ``..``)."""
    parts = path.replace("\\", "/").split("/")
    if _URL_RE.match(path) or path.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
        raise WeightsError(f"{where}: shard path {path!r} must be relative to the manifest's folder")


# --------------------------------------------------------------------------------------------
# Network-level validation and decoding


def _check_network(manifest: _Manifest, where: str) -> float:
    """Check the tensors MobileNetV1 needs are present, float and consistently shaped.

    Returns the multiplier implied by the width of ``Conv2d_13_pointwise``.
    """
    entries = manifest.entries()

    def expect(name: str, pattern: tuple[int | None, ...]) -> tuple[int, ...]:
        full = _PREFIX + name
        entry = entries.get(full)
        if entry is None:
            raise WeightsError(f"{where}: required tensor {full!r} is missing")
        if entry.dtype != "float32":
            raise WeightsError(f"{where}: tensor {full!r} has dtype {entry.dtype}, not float32")
        if len(entry.shape) != len(pattern) or any(
            want is not None and got != want for got, want in zip(entry.shape, pattern, strict=True)
        ):
            wanted = "[" + ", ".join("?" if w is None else str(w) for w in pattern) + "]"
            raise WeightsError(f"{where}: tensor {full!r} has shape {list(entry.shape)}, expected {wanted}")
        return entry.shape

    width = expect("Conv2d_0/weights", (3, 3, 3, None))[3]
    expect("Conv2d_0/Conv2D_bias", (width,))
    for block in range(1, NUM_BLOCKS):  # the separable blocks Conv2d_1..13
        expect(f"Conv2d_{block}_depthwise/depthwise_weights", (3, 3, width, 1))
        expect(f"Conv2d_{block}_depthwise/depthwise_bias", (width,))
        width = expect(f"Conv2d_{block}_pointwise/weights", (1, 1, width, None))[3]
        expect(f"Conv2d_{block}_pointwise/Conv2D_bias", (width,))
    expect("segment_2/weights", (1, 1, width, 1))
    expect("segment_2/Conv2D_bias", (1,))
    expect("part_heatmap_2/weights", (1, 1, width, NUM_PARTS))
    expect("part_heatmap_2/Conv2D_bias", (NUM_PARTS,))
    multiplier = _WIDTH_TO_MULTIPLIER.get(width)
    if multiplier is None:
        raise WeightsError(
            f"{where}: the last block is {width} channels wide, which matches no known "
            f"multiplier (widths {dict(_WIDTH_TO_MULTIPLIER)})"
        )
    return multiplier


def _decode_group(buffer: bytes, group: _Group, where: str) -> dict[str, np.ndarray]:
    """Decode a group's concatenated shard bytes into float32 arrays (non-floats skipped).

    ``buffer`` must hold exactly ``group.nbytes`` bytes (checked by the caller).
    """
    tensors: dict[str, np.ndarray] = {}
    offset = 0
    for entry in group.entries:
        raw = np.frombuffer(buffer, dtype=entry.stored, count=entry.size, offset=offset)
        offset += entry.nbytes
        if entry.dtype != "float32":
            continue
        if entry.affine is not None:
            # float64 then one rounding to float32, like TF.js filling a Float32Array.
            minimum, scale = entry.affine
            with np.errstate(over="ignore", invalid="ignore"):  # out of float32's range: refused below
                values = (raw.astype(np.float64) * scale + minimum).astype(np.float32)
        else:
            values = raw.astype(np.float32)  # a native-endian, aligned copy
        values = np.ascontiguousarray(values.reshape(entry.shape))
        if not np.isfinite(values).all():
            raise WeightsError(f"{where}: tensor {entry.name!r} holds NaN or infinite values")
        tensors[entry.name] = values
    return tensors


def _remap_2x_parts(tensors: dict[str, np.ndarray]) -> None:
    """Permute the 2.x ``part_heatmap_2`` output channels into 1.x part-id order, in place."""
    for name in (_PART_WEIGHTS, _PART_BIAS):
        tensors[name] = np.ascontiguousarray(tensors[name][..., _PART_PERMUTATION_2X_TO_1X])


def _size_problem(found: int, expected: int) -> str:
    kind = "truncated" if found < expected else "too large"
    return f"{kind}: expected {expected} bytes, found {found}"


def _check_multiplier(found: float, requested: float, where: str) -> None:
    if found != requested:
        raise WeightsError(f"weights at {where} are for multiplier {found}, but multiplier={requested} was requested")


def _assemble(
    manifest: _Manifest, buffers: Sequence[tuple[bytes, str]], multiplier: float, source: str
) -> LoadedWeights:
    """Decode every group (``buffers[i]`` = group i's bytes and shard names) and finish."""
    tensors: dict[str, np.ndarray] = {}
    for group, (buffer, where) in zip(manifest.groups, buffers, strict=True):
        tensors.update(_decode_group(buffer, group, where))
    if manifest.format == "2.x":
        _remap_2x_parts(tensors)
    return LoadedWeights(tensors=tensors, format=manifest.format, multiplier=multiplier, source=source)


# --------------------------------------------------------------------------------------------
# Local files


def _open_regular(path: pathlib.Path) -> int:
    """A read-only descriptor of the regular file ``path``. Opened without blocking, so that a
    FIFO or a device in its place is refused with an ``OSError`` instead of waiting forever."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_manifest_file(path: pathlib.Path) -> bytes:
    """The manifest's bytes; one byte more than ``MAX_MANIFEST_BYTES`` at most, so that a huge
    (or endless) file is read no further than needed to refuse it."""
    try:
        with os.fdopen(_open_regular(path), "rb") as stream:
            return stream.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise WeightsError(f"weights manifest not found: {path} does not exist") from None
    except OSError as exc:
        raise WeightsError(f"cannot read weights manifest {path}: {exc}") from None


def _load_local(manifest_path: pathlib.Path, multiplier: float) -> LoadedWeights:
    where = str(manifest_path)
    manifest = _parse_manifest(_read_manifest_file(manifest_path), where)
    _check_multiplier(_check_network(manifest, where), multiplier, where)
    buffers: list[tuple[bytes, str]] = []
    for index, group in enumerate(manifest.groups, 1):
        shard_paths = [manifest_path.parent / p for p in group.paths]
        names = ", ".join(str(p) for p in shard_paths)
        with contextlib.ExitStack() as stack:
            streams: list[IO[bytes]] = []
            for shard in shard_paths:
                try:
                    streams.append(stack.enter_context(os.fdopen(_open_regular(shard), "rb")))
                except (FileNotFoundError, NotADirectoryError):
                    raise WeightsError(f"missing weight shard {shard} (listed in group {index} of {where})") from None
                except OSError as exc:  # not a regular file, unreadable, a name too long...
                    raise WeightsError(f"cannot read weight shard {shard}: {exc}") from None
            sizes = [os.fstat(stream.fileno()).st_size for stream in streams]
            if sum(sizes) != group.nbytes:  # said before reading: a huge file is never read
                raise WeightsError(
                    f"weight data of group {index} in {where} ({names}) is {_size_problem(sum(sizes), group.nbytes)}"
                )
            chunks = []
            for shard, stream, size in zip(shard_paths, streams, sizes, strict=True):
                try:
                    chunks.append(stream.read(size + 1))  # + 1: a file grown since is noticed
                except OSError as exc:
                    raise WeightsError(f"cannot read weight shard {shard}: {exc}") from None
        buffer = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if len(buffer) != group.nbytes:
            raise WeightsError(
                f"weight data of group {index} in {where} ({names}) is {_size_problem(len(buffer), group.nbytes)}"
            )
        buffers.append((buffer, names))
    return _assemble(manifest, buffers, multiplier, where)


def _local_manifest(path: pathlib.Path, multiplier: float) -> pathlib.Path:
    """Apply meanings (a)/(b)/(c) to a local path and return the manifest/model JSON path."""
    try:
        return _local_manifest_of(path, multiplier)
    except OSError as exc:  # e.g. a name too long, or a folder that cannot be searched
        raise WeightsError(f"cannot use the weights location {path}: {exc}") from None


def _local_manifest_of(path: pathlib.Path, multiplier: float) -> pathlib.Path:
    if not path.exists():
        raise WeightsError(f"weights not found: {path} does not exist")
    if path.is_file():
        if path.suffix.lower() != ".json":
            raise WeightsError(
                f"{path} is not a weights location: expected a folder, a weights_manifest.json or a 2.x model .json"
            )
        return path
    if (path / _MANIFEST_1X).is_file() or _FOLDER_1X_RE.fullmatch(path.name):
        return path / _MANIFEST_1X  # (b); a missing manifest is reported by the reader
    for relative in base_candidates(multiplier):  # (a): the first model present
        if (path / relative).is_file():
            return path / relative
    searched = ", ".join(base_candidates(multiplier))
    raise WeightsError(
        f"{path} holds no weights for multiplier {multiplier}: searched it as a mirror of the official "
        f"layout for {searched} (pass a weights_manifest.json folder, or a 2.x model-stride*.json file, to "
        "load other weights)"
    )


def _folder_1x(multiplier: float) -> str:
    return f"posenet_mobilenet_{round(multiplier * 100):03d}_partmap"


def base_candidates(multiplier: float) -> tuple[str, ...]:
    """What a base mirroring the official layout is searched for, in order, for
    ``multiplier`` (paths relative to the base; the first one present is loaded):

    1. ``posenet_mobilenet_<m>_partmap/weights_manifest.json``: the 1.x weights of v0.0.x;
    2. ``bodypix/mobilenet/float/<m>/model-stride16.json``: BodyPix 2, float32;
    3. ``bodypix/mobilenet/quant2/<m>/model-stride16.json``: BodyPix 2, 16-bit weights;
    4. ``bodypix/mobilenet/quant1/<m>/model-stride16.json``: BodyPix 2, 8-bit weights.

    (``<m>`` = 100, 075, 050 or 025; Google publishes no 2.x model for 0.25.) The stride-8 and
    stride-16 JSON files of a 2.x folder hold the same weights."""
    return (f"{_folder_1x(multiplier)}/{_MANIFEST_1X}",) + tuple(
        official_model_path(multiplier, quant_bytes, 16) for quant_bytes in (4, 2, 1)
    )


def official_model_path(multiplier: float, quant_bytes: int, output_stride: int) -> str:
    """A BodyPix 2 model JSON's path in the official layout (BODYPIX2.md section 1), relative to
    a base such as :data:`OFFICIAL_BASE_URL`: ``bodypix/mobilenet/<float|quant2|quant1>/<m>/
    model-stride<s>.json``."""
    return (
        f"{BODYPIX_MODELS_PATH}/{BODYPIX_QUANT_FOLDERS[quant_bytes]}/"
        f"{round(multiplier * 100):03d}/model-stride{output_stride}.json"
    )


# --------------------------------------------------------------------------------------------
# http(s): download and cache


def _cache_path(cache_dir: pathlib.Path, url: str) -> pathlib.Path:
    """``cache_dir / <host[_port]> / <url path>``, each component made filesystem-safe."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise WeightsError(f"URL {url} has an invalid port") from None
    host = (parts.hostname or "") + (f"_{port}" if port else "")
    components = [urllib.parse.unquote(c) for c in parts.path.split("/")]
    if ".." in components:
        raise WeightsError(f"refusing URL {url}: its path contains '..'")
    safe = [_safe_component(c) for c in components if c not in ("", ".")]
    if not safe:
        raise WeightsError(f"URL {url} names no file")
    return cache_dir.joinpath(_safe_component(host), *safe)


def _safe_component(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", text)
    return "_" if cleaned in ("", ".", "..") else cleaned


def _pinned_sha256(url: str) -> str | None:
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    for relative, digest in OFFICIAL_SHA256.items():
        if path == "/" + relative or path.endswith("/" + relative):
            return digest
    return None


def _download_timeout() -> float:
    """Seconds a connection attempt or a read may stall: ``$PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT``
    (a positive number) when set and non-empty, else :data:`_DOWNLOAD_TIMEOUT_S`."""
    return _env_seconds(_TIMEOUT_ENV, _DOWNLOAD_TIMEOUT_S)


def _download_deadline() -> float:
    """Seconds one file's download may take in all: ``$PERSON_SEGMENTATION_DOWNLOAD_DEADLINE``
    (a positive number) when set and non-empty, else :data:`DOWNLOAD_DEADLINE_S`."""
    return _env_seconds(_DEADLINE_ENV, DOWNLOAD_DEADLINE_S)


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise WeightsError(f"${name} must be a positive number of seconds, got {raw!r}")
    return value


# Credentials in URLs. ``https://user:secret@host/...`` is shown everywhere as
# ``https://user:***@host/...`` (a lone user name, often a token, as ``***@host``): the loader
# works on that shown form throughout (messages, logs, LoadedWeights.source, urljoin of the
# shard paths) and only _stream_to turns it into a request, without the user info, carrying
# the credentials as an ``Authorization`` header that urllib does not pass on to redirects.
_USERINFO_RE: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*)@")


def redact_url(url: str) -> str:
    """``url`` with the password of its user info replaced by ``***`` (a lone user name, often
    a token, too): how anything showing a weights location (the ``info`` command too) shows it."""

    def hide(match: re.Match[str]) -> str:
        user, colon, _ = match.group(2).partition(":")
        return f"{match.group(1)}{user}:***@" if colon else f"{match.group(1)}***@"

    return _USERINFO_RE.sub(hide, url, count=1)


def _split_credentials(url: str) -> tuple[str, str | None]:
    """(``url`` as shown, the ``Authorization`` header value of its credentials or None)."""
    match = _USERINFO_RE.match(url)
    if match is None:
        return url, None
    user, _, password = match.group(2).partition(":")
    pair = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
    return redact_url(url), "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def _without_userinfo(url: str) -> str:
    return _USERINFO_RE.sub(r"\1", url, count=1)


# Inter-process locking of cache entries. Each cached file ``dest`` has its own lock file
# ``.<name>.lock`` beside it, held (flock, exclusive) while the entry is checked, discarded,
# downloaded and read, so a second process (or thread) loading the same weights waits and
# then reuses the first one's files instead of racing it. The holder deletes the lock file
# before releasing it; a waiter that then wins the lock on the deleted file notices (the
# path no longer names the inode it locked) and tries again, so no lock file outlives its
# use and none can be held twice. A process killed while holding a lock leaves its lock
# file, whose lock the kernel has released; the next user takes it and removes it. Without
# fcntl (Windows) or where locks cannot be taken (read-only cache, file systems without
# flock), loading goes on unlocked: unique temporary names, atomic renames and checking the
# very bytes that are used still keep every process correct, at worst downloading twice.


@contextlib.contextmanager
def _locked(dests: Iterable[pathlib.Path]) -> Iterator[None]:
    """Hold the locks of the cache entries ``dests`` (taken in sorted order: no deadlock)."""
    with contextlib.ExitStack() as stack:
        for dest in sorted(set(dests)):
            stack.enter_context(_locked_entry(dest))
        yield


@contextlib.contextmanager
def _locked_entry(dest: pathlib.Path) -> Iterator[None]:
    lock_path = dest.parent / f".{dest.name}{_LOCK_SUFFIX}"
    fd = _acquire_lock(lock_path, dest)
    try:
        if fd is not None:
            _remove_stale_temps(dest.parent)
        yield
    finally:
        if fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(lock_path)  # while still holding it: see the comment above
            os.close(fd)


def _acquire_lock(lock_path: pathlib.Path, dest: pathlib.Path) -> int | None:
    """An open descriptor holding the lock on ``lock_path``, or None when locking is
    unavailable (no fcntl, the cache folder cannot be written, flock unsupported)."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a download, if one is needed, reports the unwritable cache
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            _log.debug("not locking %s (cannot create %s: %s)", dest, lock_path, exc)
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                _log.info("waiting for another process to finish with %s", dest)
                fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                current = os.stat(lock_path)
            except FileNotFoundError:
                current = None
        except OSError as exc:  # e.g. ENOLCK: this file system has no locks
            os.close(fd)
            _log.debug("not locking %s (flock on %s failed: %s)", dest, lock_path, exc)
            return None
        except BaseException:  # e.g. KeyboardInterrupt while waiting
            os.close(fd)
            raise
        if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            return fd
        os.close(fd)  # the previous holder removed this lock file meanwhile: start again


def _remove_stale_temps(folder: pathlib.Path) -> None:
    """Delete the hidden ``.part`` files in ``folder`` no download has written to for a long
    time: left by downloads that were killed. A live download writes as data arrives and
    gives up after the timeout without data, so its file is never that old."""
    try:
        limit = max(_STALE_TEMP_AGE_S, 2 * _download_timeout())
    except WeightsError:
        limit = _STALE_TEMP_AGE_S
    cutoff = time.time() - limit
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(".")]
    except OSError:
        return
    for path in candidates:
        if not path.name.endswith(_TEMP_SUFFIX):
            continue
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                _log.info("removed %s, left by an interrupted download", path)
        except OSError:
            pass  # gone meanwhile, or not ours to delete: harmless either way


class _Refused(Exception):
    """A redirect or a transfer the loader will not follow; raised inside urllib (which lets
    it through) and turned by :func:`_stream_to` into a WeightsError naming the URL."""


@functools.cache
def _redirect_handler_class() -> type[Any]:
    """The redirect handler class (made on first use: urllib.request, and the http.client and
    email modules it imports, are loaded only when something is downloaded)."""
    import urllib.request

    class _RedirectHandler(urllib.request.HTTPRedirectHandler):
        """urllib's redirect handling, narrowed: only to http and https URLs without user info, at
        most ``MAX_REDIRECTS`` for one file, none once the download's deadline has passed, and
        without reading a redirect's body (urllib reads it whole, however long)."""

        def __init__(self, deadline_at: float, deadline_s: float) -> None:
            super().__init__()
            self.deadline_at, self.deadline_s = deadline_at, deadline_s
            self.hops = 0

        def http_error_302(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Any) -> Any:
            location = headers.get("location") or headers.get("uri")
            if location is None:
                return None  # not a redirect after all: urllib reports the HTTP status
            fp.close()
            parts = urllib.parse.urlparse(location)
            if not parts.path and parts.netloc:
                parts = parts._replace(path="/")
            target = urllib.parse.quote(urllib.parse.urlunparse(parts), encoding="iso-8859-1", safe=string.punctuation)
            target = urllib.parse.urljoin(req.full_url, target)
            split = urllib.parse.urlsplit(target)
            if split.scheme.lower() not in ("http", "https"):
                raise _Refused(
                    f"HTTP {code} redirects to {redact_url(target)}; only http and https redirects are followed"
                )
            if "@" in split.netloc:
                raise _Refused(f"HTTP {code} redirects to {redact_url(target)}, a URL with user info; not followed")
            self.hops += 1
            if self.hops > MAX_REDIRECTS:
                raise _Refused(f"more than {MAX_REDIRECTS} redirects (the last to {redact_url(target)})")
            if time.monotonic() > self.deadline_at:
                raise _Refused(
                    f"not done after {self.deadline_s:g} s of redirects; set ${_DEADLINE_ENV} to allow longer"
                )
            new = self.redirect_request(req, fp, code, msg, headers, target)
            return None if new is None else self.parent.open(new, timeout=req.timeout)

        http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    return _RedirectHandler


def _stream_to(url: str, out: Any, what: str, *, limit: int, auth: str | None = None) -> tuple[bytes, int | None]:
    """Copy ``url``'s body into ``out``; return (the bytes received, Content-Length).

    At most ``limit + 1`` bytes are read, so a body longer than ``limit`` is noticed without
    reading the rest, and none when the Content-Length is already over ``limit``: the caller
    checks both. ``url`` is the shown form (see :func:`redact_url`); ``auth`` its credentials.
    """
    import http.client
    import urllib.error
    import urllib.request

    timeout = _download_timeout()
    deadline = _download_deadline()
    began = time.monotonic()
    request = urllib.request.Request(
        _without_userinfo(url), headers={"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    )
    if auth is not None:
        request.add_unredirected_header("Authorization", auth)  # never sent on to a redirect
    opener = urllib.request.build_opener(_redirect_handler_class()(began + deadline, deadline))
    chunks: list[bytes] = []
    received = 0

    def timed_out() -> WeightsError:
        return _Unreachable(
            f"could not download {what} from {url}: timed out (no response or data for "
            f"{timeout:g} s; set ${_TIMEOUT_ENV} to wait longer)"
        )

    try:
        with opener.open(request, timeout=min(timeout, deadline)) as response:
            header = response.headers.get("Content-Length")
            declared = int(header) if header is not None and header.strip().isdigit() else None
            if declared is not None and declared > limit:
                return b"", declared  # refused unread
            # read1: whatever has arrived, so the temporary file grows (and its mtime moves)
            # while data flows, however slowly; the timeout applies to each wait for data,
            # the deadline to the whole transfer.
            while received <= limit and (chunk := response.read1(min(_CHUNK_BYTES, limit + 1 - received))):
                try:
                    out.write(chunk)
                except OSError as exc:  # not a network problem: say so
                    raise WeightsError(f"cannot write the download of {url} to the weights cache: {exc}") from None
                chunks.append(chunk)
                received += len(chunk)
                if time.monotonic() - began > deadline:
                    raise WeightsError(
                        f"could not download {what} from {url}: not finished after {deadline:g} s "
                        f"({received} bytes received; set ${_DEADLINE_ENV} to allow longer)"
                    )
    except _Refused as exc:
        raise WeightsError(f"could not download {what} from {url}: {exc}") from None
    except urllib.error.HTTPError as exc:
        exc.close()
        kind = _NotFound if exc.code in (403, 404, 410) else WeightsError
        raise kind(f"could not download {what} from {url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise timed_out() from None
        raise _Unreachable(f"could not download {what} from {url}: {exc.reason}") from None
    except TimeoutError:
        raise timed_out() from None
    except (http.client.HTTPException, OSError) as exc:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise _Unreachable(f"could not download {what} from {url}: connection failed ({detail})") from None
    return b"".join(chunks), declared


def _download(
    url: str,
    dest: pathlib.Path,
    *,
    what: str,
    expected_size: int | None,
    max_size: int,
    size_rule: str,
    validate: Callable[[bytes], None] | None = None,
    auth: str | None = None,
) -> bytes:
    """Download ``url`` to ``dest`` atomically and return its bytes.

    The body goes to a uniquely named temporary file in ``dest``'s folder
    (``.<name>.<random>.part``), is checked (Content-Length, ``expected_size``, sha256 pin,
    ``validate``) and only then renamed to ``dest``; on any failure the temporary file is
    removed and nothing is left under ``dest``. No more than ``max_size + 1`` bytes are read
    (``size_rule`` says why, in the message when the file is longer). The caller should hold
    ``dest``'s lock.
    """
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=_TEMP_SUFFIX)
    except OSError as exc:
        raise WeightsError(f"cannot write to the weights cache at {dest.parent}: {exc}") from None
    tmp = pathlib.Path(tmp_name)
    try:
        _log.info("downloading %s to %s", url, dest)
        with os.fdopen(fd, "wb", buffering=0) as out:
            data, declared = _stream_to(url, out, what, limit=max_size, auth=auth)
        received = len(data)
        if declared is not None and declared > max_size:
            raise WeightsError(
                f"downloaded {what} {url} is too large ({size_rule}; its Content-Length says {declared}); not read"
            )
        if received > max_size:
            raise WeightsError(
                f"downloaded {what} {url} is too large ({size_rule}; the server sent more, and reading "
                f"stopped after {received} bytes)"
            )
        if declared is not None and received != declared:
            raise WeightsError(
                f"download of {url} was cut short or overran: received {received} bytes, Content-Length said {declared}"
            )
        if expected_size is not None and received != expected_size:
            raise WeightsError(f"downloaded {what} {url} is the wrong size ({_size_problem(received, expected_size)})")
        pin = _pinned_sha256(url)
        if pin is not None and (digest := hashlib.sha256(data).hexdigest()) != pin:
            raise WeightsError(f"downloaded {what} {url} fails its sha256 pin: expected {pin}, got {digest}")
        if validate is not None:
            validate(data)
        try:
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are public files
            os.replace(tmp, dest)
        except OSError as exc:  # e.g. Windows, while another process reads dest
            _log.warning("could not store %s in the weights cache as %s: %s", url, dest, exc)
        return data
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # no-op once replaced


def _read_cached(path: pathlib.Path, expected_size: int | None, pin: str | None, max_size: int) -> bytes | str:
    """The cached file's bytes when usable, else why not (``"missing"`` when absent).

    The checks are made on the very bytes returned, never on a file that might change
    between checking and reading it; no more than ``max_size + 1`` bytes are read.
    """
    try:
        with os.fdopen(_open_regular(path), "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if expected_size is not None and size != expected_size:
                return _size_problem(size, expected_size)
            if size > max_size:
                return f"too large: {size} bytes, more than the {max_size} it may have"
            data = stream.read(max_size + 1)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable ({exc})"
    if expected_size is not None and len(data) != expected_size:
        return _size_problem(len(data), expected_size)
    if len(data) > max_size:
        return f"too large: more than the {max_size} bytes it may have"
    if pin is not None and hashlib.sha256(data).hexdigest() != pin:
        return "sha256 mismatch"
    return data


def _discard(path: pathlib.Path, reason: str) -> None:
    _log.warning("discarding cached weights file %s (%s); fetching it again", path, reason)
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise WeightsError(f"cannot remove the damaged weights cache entry {path} ({reason}): {exc}") from None


def _fetch_manifest(url: str, cache_dir: pathlib.Path, what: str, auth: str | None = None) -> bytes:
    """The manifest/model JSON at ``url``, from the cache when valid, else downloaded."""
    dest = _cache_path(cache_dir, url)

    def validate(data: bytes) -> None:
        _parse_manifest(data, url)

    with _locked([dest]):
        cached = _read_cached(dest, None, _pinned_sha256(url), MAX_MANIFEST_BYTES)
        if isinstance(cached, bytes):
            try:
                validate(cached)
                return cached
            except WeightsError as exc:
                cached = f"unreadable: {exc}"
        if cached != "missing":
            _discard(dest, cached)
        return _download(
            url,
            dest,
            what=what,
            expected_size=None,
            max_size=MAX_MANIFEST_BYTES,
            size_rule=f"a weights manifest is at most {MAX_MANIFEST_BYTES} bytes",
            validate=validate,
            auth=auth,
        )


def _fetch_group(
    urls: Sequence[str], dests: Sequence[pathlib.Path], nbytes: int, where: str, auth: str | None = None
) -> bytes:
    """A group's concatenated shard bytes, from the cache when every shard is valid.

    A single shard must hold exactly ``nbytes``; several must add up to it. When any is
    missing or wrong, all the group's shards are fetched again, each read no further than
    the bytes the group still lacks (+ 1).
    """
    single = len(urls) == 1
    with _locked(dests):
        cached = [
            _read_cached(d, nbytes if single else None, _pinned_sha256(u), nbytes)
            for u, d in zip(urls, dests, strict=True)
        ]
        chunks = [c for c in cached if isinstance(c, bytes)]
        if len(chunks) == len(cached):
            buffer = chunks[0] if single else b"".join(chunks)
            if len(buffer) == nbytes:
                return buffer
            cached = [f"group {_size_problem(len(buffer), nbytes)}"] * len(dests)
        for dest, problem in zip(dests, cached, strict=True):
            if problem != "missing":
                _discard(dest, problem if isinstance(problem, str) else "its group is incomplete")
        chunks = []
        for url, dest in zip(urls, dests, strict=True):
            room = nbytes - sum(map(len, chunks))
            rule = (
                f"expected {nbytes} bytes"
                if single
                else f"its group holds {nbytes} bytes, {room} after the shards before it"
            )
            chunks.append(
                _download(
                    url,
                    dest,
                    what="weight shard",
                    expected_size=nbytes if single else None,
                    max_size=room,
                    size_rule=rule,
                    auth=auth,
                )
            )
        buffer = chunks[0] if single else b"".join(chunks)
        if len(buffer) != nbytes:
            for dest in dests:
                with contextlib.suppress(OSError):
                    dest.unlink(missing_ok=True)
            raise WeightsError(f"weight data of {where} ({', '.join(urls)}) is {_size_problem(len(buffer), nbytes)}")
        return buffer


def _load_http(manifest_url: str, multiplier: float, cache_dir: pathlib.Path, auth: str | None = None) -> LoadedWeights:
    data = _fetch_manifest(manifest_url, cache_dir, what="weights manifest", auth=auth)
    manifest = _parse_manifest(data, manifest_url)
    _check_multiplier(_check_network(manifest, manifest_url), multiplier, manifest_url)
    buffers: list[tuple[bytes, str]] = []
    for group in manifest.groups:
        urls = [urllib.parse.urljoin(manifest_url, p) for p in group.paths]
        dests = [_cache_path(cache_dir, u) for u in urls]
        try:
            buffer = _fetch_group(urls, dests, group.nbytes, manifest_url, auth)
        except _NotFound as exc:  # a missing shard of a model that is there: not "try the next"
            raise WeightsError(str(exc)) from None
        buffers.append((buffer, ", ".join(urls)))
    return _assemble(manifest, buffers, multiplier, manifest_url)


def _url_manifests(url: str, multiplier: float) -> list[str]:
    """Apply meanings (a)/(b)/(c) to an http(s) URL: the manifest/model JSON URL, or for a
    base (a) the :func:`base_candidates` URLs, to try in order."""
    path = urllib.parse.urlsplit(url).path
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if last.lower().endswith(".json"):
        return [url]  # (b) weights_manifest.json itself, or (c) a 2.x model JSON
    folder = url if path.endswith("/") else _with_path(url, path + "/")
    if _FOLDER_1X_RE.fullmatch(last):
        return [urllib.parse.urljoin(folder, _MANIFEST_1X)]  # (b) a 1.x model folder
    return [urllib.parse.urljoin(folder, relative) for relative in base_candidates(multiplier)]  # (a)


def _load_http_first(
    urls: Sequence[str], multiplier: float, cache_dir: pathlib.Path, auth: str | None
) -> LoadedWeights:
    """The weights of the first of ``urls`` the server has: one that is missing there (HTTP
    403, 404, 410) lets the next be tried; any other failure is reported at once. A failed
    load leaves no empty folder in the cache."""
    missing: list[str] = []
    for url in urls:
        try:
            return _load_http(url, multiplier, cache_dir, auth)
        except _NotFound as exc:
            missing.append(str(exc))
        finally:
            _prune_empty_folders(cache_dir, url)
    if len(missing) == 1:
        raise WeightsError(missing[0])
    raise WeightsError(
        f"no weights for multiplier {multiplier} at this mirror of the official layout; tried, in order: "
        + "; ".join(missing)
    )


def _prune_empty_folders(cache_dir: pathlib.Path, url: str) -> None:
    """Remove the folders of ``url``'s cache entry that are empty (left by a failed download),
    up to ``cache_dir`` itself (kept)."""
    try:
        folder = _cache_path(cache_dir, url).parent
    except WeightsError:
        return
    root = cache_dir.resolve() if cache_dir.exists() else cache_dir
    while True:
        try:
            current = folder.resolve()
            if current == root or root not in current.parents:
                return
            folder.rmdir()  # only succeeds when empty
        except OSError:
            return
        folder = folder.parent


def _with_path(url: str, path: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=path))


# --------------------------------------------------------------------------------------------
# Public API


#: Where the package keeps its bundled model (README, "Weights"): the official files of
#: ``bodypix/mobilenet/quant2/075/`` (BodyPix 2, MobileNetV1 0.75, uint16 weights) and their
#: pre-converted LiteRT model; licence in ``models/NOTICE``.
BUNDLED_RELATIVE: Final = "bodypix/mobilenet/quant2/075"
_MODELS_DIR: Final = pathlib.Path(__file__).resolve().parent / "models"


def bundled_model(output_stride: int = 16) -> pathlib.Path:
    """The model JSON of the bundled BodyPix 2 model (MobileNetV1 0.75, quant2) for
    ``output_stride`` 8 or 16: a local file, loadable with no network, e.g.
    ``load_weights(0.75, bundled_model())``.

    Raises:
        ValueError: ``output_stride`` is not 8 or 16.
        WeightsError: the package was installed without its bundled model.
    """
    stride = check_bundled_stride(output_stride)
    path = _MODELS_DIR / BUNDLED_RELATIVE / f"model-stride{stride}.json"
    if not path.is_file():
        raise WeightsError(f"the bundled model is missing from this installation: {path} does not exist")
    return path


def default_cache_dir() -> pathlib.Path:
    """Where downloaded weights are cached.

    ``$PERSON_SEGMENTATION_CACHE`` if set, else ``$XDG_CACHE_HOME/person-segmentation``
    (when that is an absolute path, as the XDG spec requires), else
    ``~/.cache/person-segmentation``.
    """
    explicit = os.environ.get(_CACHE_ENV)
    if explicit:
        return pathlib.Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return pathlib.Path(xdg) / "person-segmentation"
    return pathlib.Path.home() / ".cache" / "person-segmentation"


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None) -> pathlib.Path:
    """The cache folder for a ``cache_dir`` argument: ``~`` expanded, or
    :func:`default_cache_dir` for None. Downloads and TFLite conversions both use it."""
    if cache_dir is None:
        return default_cache_dir()
    return pathlib.Path(os.fspath(cache_dir)).expanduser()


def load_weights(
    multiplier: float, weights: str | os.PathLike[str] | None = None, *, cache_dir: str | os.PathLike[str] | None = None
) -> LoadedWeights:
    """Load, decode and validate the MobileNetV1 weights for ``multiplier``.

    Args:
        multiplier: one of :data:`MULTIPLIERS`; the weights must be for this multiplier.
        weights: where to find them; a local path, a ``file://`` URL or an ``http(s)://``
            URL, each meaning one of:

            (a) a base folder mirroring the official layout (like :data:`OFFICIAL_BASE_URL`):
                searched for the multiplier's 1.x folder
                ``posenet_mobilenet_<100|075|050|025>_partmap/``, then its 2.x
                ``bodypix/mobilenet/{float,quant2,quant1}/<m>/model-stride16.json``, in this
                order (:func:`base_candidates`); the first present is used (over http(s): the
                first the server does not answer with 403, 404 or 410);
            (b) a 1.x model folder, or its ``weights_manifest.json``;
            (c) a 2.x ``model-stride*.json`` (any graph-model JSON with ``weightsManifest``).

            A local folder is (b) when it holds ``weights_manifest.json`` (or is named like
            ``posenet_mobilenet_050_partmap``), else (a). A URL is (b) or (c) when it ends
            in ``.json``, (b) when its last component is such a folder name, else (a).
            ``None`` means ``$PERSON_SEGMENTATION_WEIGHTS`` when set and non-empty, else
            :data:`OFFICIAL_BASE_URL`.
        cache_dir: where http(s) downloads are cached (default :func:`default_cache_dir`),
            as ``cache_dir/<host>/<url path>``. Cached files whose sizes (and sha256 pins)
            check out are used without network access; others are fetched again. Several
            processes may share it: each file is fetched under a lock and renamed into
            place atomically. A download fails when the server stalls for more than
            ``$PERSON_SEGMENTATION_DOWNLOAD_TIMEOUT`` seconds (default 60), when one file
            takes more than ``$PERSON_SEGMENTATION_DOWNLOAD_DEADLINE`` seconds in all
            (default 600), when a file is longer than it may be, or when a redirect leads to
            another scheme than http(s) or past ``MAX_REDIRECTS`` (5). A password in the
            URL is sent as HTTP Basic authentication and shown as ``user:***@host``.

    Returns:
        The decoded float32 tensors, with the 2.x part channels put in 1.x order.

    Raises:
        ValueError: ``multiplier`` is not one of :data:`MULTIPLIERS`.
        WeightsError: the weights are missing, truncated, corrupt, unreachable,
            incomplete or for another multiplier, or their download failed or timed out;
            the message names the file or URL (and, when the server could not be reached,
            how to do without it: local weights or :func:`bundled_model`). A failed download
            leaves no empty folder in the cache.
    """
    requested = check_multiplier(multiplier)
    from_env = False
    if weights is None:
        env_value = weights_location_from_env()
        from_env = env_value is not None
        location: str = env_value or OFFICIAL_BASE_URL
    elif isinstance(weights, (str, os.PathLike)):
        location = os.fsdecode(os.fspath(weights))
        if not location:
            raise WeightsError("the weights location is an empty string")
    else:
        raise TypeError(f"weights must be a path, a URL string or None, not {type(weights).__name__}")
    try:
        return _load_from(location, is_path=isinstance(weights, os.PathLike), multiplier=requested, cache_dir=cache_dir)
    except WeightsError as exc:
        if not from_env and not isinstance(exc, _Unreachable):
            raise
        message = str(from_env_note(exc) if from_env else exc)
        if isinstance(exc, _Unreachable):
            message += f"; {OFFLINE_HINT}"
        raise WeightsError(message) from None


def _load_from(
    location: str, *, is_path: bool, multiplier: float, cache_dir: str | os.PathLike[str] | None
) -> LoadedWeights:
    if is_path or not _URL_RE.match(location):
        return _load_local(_local_manifest(pathlib.Path(location).expanduser(), multiplier), multiplier)
    shown, auth = _split_credentials(location)  # from here on only the shown form is used
    try:
        parts = urllib.parse.urlsplit(shown)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0..65535
    except ValueError as exc:
        raise WeightsError(f"invalid URL {shown}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise WeightsError(f"unsupported file URL {shown}: it names a remote host")
        from urllib.request import url2pathname

        local = pathlib.Path(url2pathname(parts.path))
        return _load_local(_local_manifest(local, multiplier), multiplier)
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise WeightsError(f"URL {shown} has no host")
        return _load_http_first(_url_manifests(shown, multiplier), multiplier, resolve_cache_dir(cache_dir), auth)
    raise WeightsError(f"unsupported URL scheme {parts.scheme!r} in {shown} (use http, https or file)")
