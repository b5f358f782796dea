"""Argument checks of every public entry point, in one place.

One rule for everyone: a value of the wrong *type* raises :class:`TypeError`, a value of the
right type but outside what is allowed raises :class:`ValueError`, and every message reads
``"NAME must be ..., got ..."`` (naming the argument, what is allowed and what was received).
Bools are never taken for numbers. numpy scalars are accepted wherever a Python number is.

Why one module (over 500 lines): the one place every check lives is the rule itself (one
message format, one TypeError/ValueError split, one module to read for what any public function
accepts); it is a flat list of small independent functions in headed sections.
"""

from __future__ import annotations

import math
import numbers
import os
import stat
from collections.abc import Iterable, Sequence
from typing import Any, TypeGuard, TypeVar

import numpy as np
import numpy.typing as npt

from person_segmentation import _core
from person_segmentation._constants import (
    BODYPIX_INTERNAL_RESOLUTIONS,
    BODYPIX_MAX_INTERNAL_RESOLUTION,
    BODYPIX_MAX_REFINE_STEPS,
    BODYPIX_MIN_INTERNAL_RESOLUTION,
    BODYPIX_MULTIPLIERS,
    BODYPIX_OUTPUT_STRIDES,
    BODYPIX_QUANT_BYTES,
    BUNDLED_STRIDES,
    DLPACK_DEVICE_TYPES,
    MAX_BLUR_AMOUNT,
    MAX_IMAGE_SIDE,
    MAX_PEOPLE,
    MAX_PIXEL_CELL_WIDTH,
    MAX_POSE_LINE_WIDTH,
    MAX_WORKERS,
    MULTIPLIERS,
    NUM_PARTS,
    ON_ERROR_CHOICES,
    OUTPUT_STRIDES,
    POSE_NUM_KEYPOINTS,
    RAY_PROBABILITY_CALLS,
    REFINEMENTS,
    OnError,
)

UInt8Array = npt.NDArray[np.uint8]
_T = TypeVar("_T")


def describe(value: object) -> str:
    """What was received, for messages: dtype and shape of an array, else the type's name."""
    if isinstance(value, np.ndarray):
        return f"dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__}"


def _is_int(value: object) -> TypeGuard[int | np.integer[Any]]:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value: object) -> TypeGuard[numbers.Real]:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


# -- scalars ------------------------------------------------------------------------------------
def check_bool(value: object, name: str) -> bool:
    """A bool (or numpy bool)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def check_int(value: object, name: str, low: int, high: int | None = None) -> int:
    """An int (or numpy integer) in ``low..high`` (``high`` None: no upper bound)."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    number = int(value)
    if number < low or (high is not None and number > high):
        bounds = f"in {low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return number


def check_optional_int(value: object, name: str, low: int, high: int | None = None) -> int | None:
    """None, or an int as :func:`check_int`."""
    if value is None:
        return None
    bounds = f"in {low}..{high}" if high is not None else f">= {low}"
    if not _is_int(value):
        raise TypeError(f"{name} must be None or an int {bounds}, got {type(value).__name__} {value!r}")
    number = int(value)
    if number < low or (high is not None and number > high):
        raise ValueError(f"{name} must be None or an int {bounds}, got {value!r}")
    return number


def check_real(value: object, name: str, low: float, high: float = math.inf) -> float:
    """A finite real number in ``[low, high]``."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not (low <= number <= high):  # also refuses NaN
        bounds = f"in {low:g}..{high:g}" if high != math.inf else f">= {low:g} (and finite)"
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    if number == math.inf:
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def check_interval(value: object, name: str, *, high_open: bool = False, note: str = "") -> float:
    """A number in [0, 1] (or [0, 1) with ``high_open``): thresholds, opacities, smoothing.
    ``note`` is added to the range message (e.g. "(0 = off)")."""
    interval = "[0, 1)" if high_open else "[0, 1]"
    if not _is_real(value):
        raise TypeError(f"{name} must be a number in {interval}, got {type(value).__name__} {value!r}")
    number = float(value)
    if not (0.0 <= number < 1.0 if high_open else 0.0 <= number <= 1.0):  # also refuses NaN
        raise ValueError(f"{name} must be a number in {interval}{' ' + note if note else ''}, got {value!r}")
    return number


def check_choice(value: object, name: str, choices: Sequence[_T]) -> _T:
    """One of ``choices`` (strings or ints); a value of another type is a TypeError."""
    kinds = {type(c) for c in choices}
    ok_type = _is_int(value) if kinds == {int} else isinstance(value, tuple(kinds))
    if not ok_type:
        raise TypeError(f"{name} must be one of {tuple(choices)}, got {type(value).__name__} {value!r}")
    for choice in choices:
        if value == choice:
            return choice
    raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def check_name(value: object, name: str) -> str:
    """A non-empty str."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a non-empty str, got {type(value).__name__} {value!r}")
    if not value:
        raise ValueError(f"{name} must be a non-empty str, got {value!r}")
    return value


# -- model options ------------------------------------------------------------------------------
def check_multiplier(value: object) -> float:
    """One of :data:`MULTIPLIERS` exactly (any real type: ``np.float32(0.5)`` is 0.5), returned
    as the canonical Python float. The one multiplier rule of the package."""
    if not _is_real(value):
        raise TypeError(f"multiplier must be one of {MULTIPLIERS}, got {type(value).__name__} {value!r}")
    number = float(value)
    if number not in MULTIPLIERS:
        raise ValueError(f"multiplier must be one of {MULTIPLIERS}, got {value!r}")
    return MULTIPLIERS[MULTIPLIERS.index(number)]


def check_output_stride(value: object) -> int:
    """8, 16 or 32."""
    return check_choice(value, "output_stride", OUTPUT_STRIDES)


def check_threshold(value: object, name: str = "segmentation_threshold") -> float:
    """A score threshold in [0, 1]."""
    return check_interval(value, name)


def check_num_threads(value: object) -> int | None:
    """None or an int >= 0 (0 and None: one thread per hardware thread)."""
    return check_optional_int(value, "num_threads", 0)


def check_workers(value: object) -> int | None:
    """None or an int in 1..MAX_WORKERS."""
    return check_optional_int(value, "workers", 1, MAX_WORKERS)


def check_file_path(value: object, name: str = "path") -> str:
    """A file system path: a str or an os.PathLike giving a str; returned as the str."""
    text = os.fspath(value) if isinstance(value, (str, os.PathLike)) else None
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str or os.PathLike[str], got {value!r}")
    return text


def check_positive(value: object, name: str) -> float:
    """A finite real number > 0 (a frame rate, a scale)."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a number > 0, got {value!r}")
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return number


def check_even_size(value: object, name: str = "size") -> tuple[int, int]:
    """A (width, height) pair of even ints >= 2 (what video encoders take)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(_is_int(v) for v in value):
        raise TypeError(f"{name} must be a (width, height) pair of ints, got {value!r}")
    width, height = int(value[0]), int(value[1])
    if width < 2 or height < 2 or width % 2 or height % 2:
        raise ValueError(
            f"{name} must be an even (width, height) >= (2, 2) (OpenCV's video encoders need even sides), got {value!r}"
        )
    return width, height


def check_path_or_url(value: object, name: str) -> str | None:
    """None, a URL string, or a path (str or os.PathLike); returned as a str."""
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be None, a path or a URL, got {type(value).__name__}")
    return os.fsdecode(os.fspath(value))


# -- arrays -------------------------------------------------------------------------------------
def check_array(value: object, name: str) -> np.ndarray[Any, Any]:
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {describe(value)}")
    return value


def check_image(value: object, name: str = "image") -> UInt8Array:
    """A uint8 RGB (H, W, 3) array."""
    array = check_array(value, name)
    if array.dtype != np.uint8:
        raise TypeError(f"{name} must be a uint8 RGB array of shape (H, W, 3), got {describe(array)}")
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a uint8 RGB array of shape (H, W, 3), got {describe(array)}")
    return array


def check_same_size(
    value: np.ndarray[Any, Any], name: str, image: np.ndarray[Any, Any], image_name: str = "image"
) -> None:
    if value.shape[:2] != image.shape[:2]:
        raise ValueError(
            f"{name} must have the size (H, W) of {image_name}, {tuple(image.shape[:2])}, got {describe(value)}"
        )


def check_mask(value: object, name: str = "mask", *, soft: bool = False) -> np.ndarray[Any, Any]:
    """A 0/1 mask (bool or integer) of shape (H, W); with ``soft``, floats in 0..1 too."""
    array = check_array(value, name)
    kinds = "bool or integer, values 0/1" + (", or float with values in 0..1" if soft else "")
    is_float = bool(np.issubdtype(array.dtype, np.floating))
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.integer) or (soft and is_float)):
        raise TypeError(f"{name} must be a (H, W) mask ({kinds}), got {describe(array)}")
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a (H, W) mask ({kinds}), got {describe(array)}")
    if is_float:
        if not np.isfinite(array).all() or array.min() < 0 or array.max() > 1:
            raise ValueError(
                f"{name} must hold values in 0..1, got {describe(array)} with values in "
                f"{array.min()}..{array.max()} (or non-finite values)"
            )
    elif array.dtype != np.bool_ and (array.min() < 0 or array.max() > 1):
        raise ValueError(
            f"{name} must hold only 0 and 1, got {describe(array)} with values in {array.min()}..{array.max()}"
        )
    return array


def check_parts(value: object, name: str = "parts") -> np.ndarray[Any, Any]:
    """An integer (H, W) array of part ids -1..NUM_PARTS-1."""
    array = check_array(value, name)
    if array.dtype.kind not in ("i", "u"):
        raise TypeError(
            f"{name} must be an integer (H, W) array of part ids -1..{NUM_PARTS - 1}, got {describe(array)}"
        )
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(
            f"{name} must be an integer (H, W) array of part ids -1..{NUM_PARTS - 1}, got {describe(array)}"
        )
    low, high = int(array.min()), int(array.max())
    if low < -1 or high > NUM_PARTS - 1:
        raise ValueError(
            f"{name} must hold part ids -1..{NUM_PARTS - 1} (-1 = no person), got {describe(array)} "
            f"with values in {low}..{high}"
        )
    return array


def check_part_id_array(value: object, name: str = "parts") -> np.ndarray[Any, Any]:
    """Any integer array of part ids -1..NUM_PARTS-1 (any shape, may be empty)."""
    parts = np.asarray(value)
    if parts.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array of part ids, got dtype {parts.dtype}")
    if parts.size and (parts.min() < -1 or parts.max() >= NUM_PARTS):
        raise ValueError(f"{name} must hold ids in -1..{NUM_PARTS - 1}, got {parts.min()}..{parts.max()}")
    return parts


def check_mask_image(value: object, image: np.ndarray[Any, Any], name: str = "mask_image") -> UInt8Array:
    """A uint8 RGBA (H, W, 4) array of the size of ``image``."""
    array = check_array(value, name)
    if array.dtype != np.uint8:
        raise TypeError(f"{name} must be a uint8 RGBA array of shape (H, W, 4), got {describe(array)}")
    if array.ndim != 3 or array.shape[2] != 4:
        raise ValueError(f"{name} must be a uint8 RGBA array of shape (H, W, 4), got {describe(array)}")
    check_same_size(array, name, image)
    return array


def check_color(value: object, name: str, channels: int) -> tuple[int, ...]:
    """An RGB (``channels`` 3) or RGBA (4) colour of ints 0..255."""
    what = "(r, g, b, a)" if channels == 4 else "(r, g, b)"
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a colour {what} of ints 0..255, got {type(value).__name__} {value!r}")
    items = list(np.asarray(value).ravel()) if isinstance(value, np.ndarray) else list(value)
    if len(items) != channels:
        raise ValueError(f"{name} must be a colour {what} of {channels} ints 0..255, got {len(items)} values {value!r}")
    for item in items:
        if not _is_int(item):
            raise TypeError(f"{name} must be a colour {what} of ints 0..255, got {value!r}")
        if not 0 <= int(item) <= 255:
            raise ValueError(f"{name} must be a colour {what} of ints 0..255, got {value!r}")
    return tuple(int(item) for item in items)


def check_byte(value: object, name: str) -> int:
    """An int in 0..255."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an int in 0..255, got {type(value).__name__} {value!r}")
    if not 0 <= int(value) <= 255:
        raise ValueError(f"{name} must be an int in 0..255, got {value!r}")
    return int(value)


def check_palette_array(palette: object) -> UInt8Array:
    """A (NUM_PARTS, 3) array of ints 0..255 (one RGB colour per part)."""
    if not isinstance(palette, (np.ndarray, Sequence)):
        raise TypeError(
            f"palette must be a palette name or a ({NUM_PARTS}, 3) array of ints 0..255, got {type(palette).__name__}"
        )
    array = np.asarray(palette)
    if array.dtype.kind not in ("i", "u"):
        raise TypeError(f"palette must be a ({NUM_PARTS}, 3) array of ints 0..255, got {describe(array)}")
    if array.shape != (NUM_PARTS, 3):
        raise ValueError(
            f"palette must be a ({NUM_PARTS}, 3) array of ints 0..255 (one RGB colour per part), got {describe(array)}"
        )
    if array.min() < 0 or array.max() > 255:
        raise ValueError(f"palette values must be in 0..255, got values in {array.min()}..{array.max()}")
    return array.astype(np.uint8)


def check_part_ids(part_ids: object) -> list[int]:
    """A sequence of part ids 0..NUM_PARTS-1."""
    if isinstance(part_ids, (str, bytes)) or not isinstance(part_ids, (Iterable, np.ndarray)):
        raise TypeError(f"part_ids must be a sequence of part ids 0..{NUM_PARTS - 1}, got {type(part_ids).__name__}")
    ids = list(np.asarray(part_ids).ravel()) if isinstance(part_ids, np.ndarray) else list(part_ids)
    for item in ids:
        if not _is_int(item):
            raise TypeError(f"part_ids must be a sequence of int part ids 0..{NUM_PARTS - 1}, got {part_ids!r}")
        if not 0 <= int(item) < NUM_PARTS:
            raise ValueError(f"part_ids must be part ids in 0..{NUM_PARTS - 1}, got {part_ids!r}")
    return [int(item) for item in ids]


# -- image decoding and the network input (issue 16) --------------------------------------------
#: How to pass 16-bit pixels, added to the message refusing integer arrays beyond 0..255.
_SIXTEEN_BIT_HINT = (
    "for 16-bit pixels pass np.round(image / 257).astype(np.uint8), or the image file or a PIL.Image "
    "(16-bit modes are scaled to 8 bits as round(v / 257))"
)


def check_byte_range(low: int, high: int, what: str) -> None:
    """Integer pixel values ``low..high`` (the extremes of an integer array or tensor; ``what``
    describes them, e.g. "int32 values") are 8-bit values 0..255 whatever the dtype; anything
    else is a ValueError that says how to pass a 16-bit image."""
    if low < 0 or high > 255:
        raise ValueError(f"integer image values must lie in 0..255, got {what} in {low}..{high}; {_SIXTEEN_BIT_HINT}")


def check_regular_file(st_mode: int, path: str, name: str = "image") -> None:
    """``path`` (whose ``stat().st_mode`` is ``st_mode``) must be a regular file: reading a FIFO
    blocks forever, a device never ends, a directory or socket cannot be read."""
    if stat.S_ISREG(st_mode):
        return
    kinds = {
        stat.S_ISDIR: "directory",
        stat.S_ISFIFO: "FIFO (named pipe)",
        stat.S_ISCHR: "character device",
        stat.S_ISBLK: "block device",
        stat.S_ISSOCK: "socket",
    }
    kind = next((label for test, label in kinds.items() if test(st_mode)), "special file")
    raise ValueError(f"cannot read image file {path!r}: {name} must be a regular file, got a {kind}")


def is_extension_float(dtype: np.dtype[Any]) -> bool:
    """Whether ``dtype`` is one of ml_dtypes' floats (bfloat16, float8_*, ...): numpy kind ``'V'``,
    so ``np.issubdtype(dtype, np.floating)`` is False although the values are real numbers.
    TensorFlow's ``bfloat16`` tensors give such arrays."""
    return (
        dtype.kind == "V"
        and dtype.names is None
        and dtype.type.__module__.split(".")[0] == "ml_dtypes"
        and dtype.name.startswith(("bfloat", "float"))
    )


_MODEL_INPUT = "a float32 numpy array or tf.Tensor of shape (H, W, 3) or (1, H, W, 3)"


def check_model_input(value: object) -> np.ndarray[Any, Any]:
    """``run_network``'s ``model_input`` (a numpy array; tensors are converted by the caller):
    real numbers of shape (H, W, 3) or (1, H, W, 3), 1 <= H, W <= MAX_IMAGE_SIDE, all finite.
    Returned as a C-contiguous float32 (1, H, W, 3) array."""
    if isinstance(value, tuple):
        raise TypeError(
            f"model_input must be {_MODEL_INPUT} or preprocess()'s (model_input, geometry) pair, got a tuple of "
            f"{len(value)} that is not that pair"
        )
    if not isinstance(value, np.ndarray):
        raise TypeError(f"model_input must be {_MODEL_INPUT}, got {type(value).__name__}")
    if not (value.dtype.kind in "fiu" or is_extension_float(value.dtype)):
        raise TypeError(f"model_input must be {_MODEL_INPUT} (real numbers), got {describe(value)}")
    shape = value.shape[1:] if value.ndim == 4 and value.shape[0] == 1 else value.shape
    if len(shape) != 3 or shape[2] != 3 or not all(1 <= side <= MAX_IMAGE_SIDE for side in shape[:2]):
        raise ValueError(
            f"model_input must be {_MODEL_INPUT} with 1 <= H, W <= {MAX_IMAGE_SIDE}, got {describe(value)}"
        )
    array = np.ascontiguousarray(value.reshape((1, *shape)), dtype=np.float32)
    if not np.isfinite(array).all():
        raise ValueError(
            f"model_input must hold finite values (pixel / 127.5 - 1, in -1..1), got {describe(value)} "
            "with NaN or infinite values"
        )
    return array


# -- drawing bounds (issue 16: no render call may run for minutes or fail inside OpenCV) --------
def check_blur_amount(value: object, name: str) -> float:
    """A blur amount: a finite real number of pixels in 0..MAX_BLUR_AMOUNT (0 = no blur)."""
    if not _is_real(value):
        raise TypeError(
            f"{name} must be a number of pixels in 0..{MAX_BLUR_AMOUNT:g}, got {type(value).__name__} {value!r}"
        )
    number = float(value)
    if not 0.0 <= number <= MAX_BLUR_AMOUNT:  # also refuses NaN and infinities
        raise ValueError(
            f"{name} must be a number of pixels in 0..{MAX_BLUR_AMOUNT:g} (a Gaussian's standard deviation; "
            f"0 = no blur), got {value!r}"
        )
    return number


def check_pixel_cell_width(value: object) -> int:
    """An int in 1..MAX_PIXEL_CELL_WIDTH (the side of a pixelation cell)."""
    return check_int(value, "pixel_cell_width", 1, MAX_PIXEL_CELL_WIDTH)


def check_size_side(value: object, name: str) -> int:
    """An image side: an int in 1..MAX_IMAGE_SIDE (what the native core takes)."""
    return check_int(value, name, 1, MAX_IMAGE_SIDE)


# -- DLPack logits (issue 14: any DLPack producer) ----------------------------------------------
def check_dlpack_producer(value: object, name: str = "logits") -> Any:
    """An object with ``__dlpack__`` and ``__dlpack_device__`` (numpy, PyTorch, CuPy, JAX, TensorFlow)."""
    if not (callable(getattr(value, "__dlpack__", None)) and callable(getattr(value, "__dlpack_device__", None))):
        raise TypeError(
            f"{name} must be a person_segmentation.Logits or a DLPack producer of float32 (h, w, 1 + parts) logits "
            f"(an object with __dlpack__ and __dlpack_device__: numpy, PyTorch, CuPy, JAX, TensorFlow), "
            f"got {type(value).__name__}"
        )
    return value


def check_dlpack_device(value: object, name: str = "logits") -> tuple[int, int]:
    """What ``__dlpack_device__()`` returned: (device type, device id), in CPU or CUDA memory."""
    if not (isinstance(value, tuple) and len(value) == 2 and all(_is_int(v) for v in value)):
        raise TypeError(f"{name}.__dlpack_device__() must return (device_type, device_id) ints, got {value!r}")
    kind, index = int(value[0]), int(value[1])
    if kind not in DLPACK_DEVICE_TYPES:
        raise ValueError(
            f"{name} must be in CPU or CUDA memory (DLPack device type 1, 2, 3 or 13), got DLPack device type {kind}"
        )
    return kind, index


def check_geometry(value: object, name: str = "geometry") -> Any:
    """A ResizePadGeometry (from compute_geometry), as DLPack logits need one."""
    if not isinstance(value, _core.ResizePadGeometry):
        raise TypeError(
            f"{name} must be a person_segmentation.ResizePadGeometry (compute_geometry(height, width)) when the logits "
            f"are not a Logits, got {type(value).__name__}"
        )
    return value


def check_optional_bool(value: object, name: str) -> bool | None:
    """None or a bool."""
    return None if value is None else check_bool(value, name)


# -- video frame sizes (issue 16) ---------------------------------------------------------------
def check_video_size(value: object, max_side: int, name: str = "size", codec: str | None = None) -> tuple[int, int]:
    """An even (width, height) pair as :func:`check_even_size`, each side at most ``max_side``
    (the limit of the ``codec``, when given)."""
    width, height = check_even_size(value, name)
    if width > max_side or height > max_side:
        what = f" for the {codec!r} codec" if codec else ""
        raise ValueError(
            f"{name} must be an even (width, height) with sides of at most {max_side}{what}, got {value!r}"
        )
    return width, height


# -- issue 12 frictions: part names, stream errors ----------------------------------------------
def check_part_id(value: object, name: str = "part_id") -> int:
    """One part id as :func:`person_segmentation.part_name` takes it: an int (or numpy integer,
    e.g. ``parts[y, x]``) in -1..NUM_PARTS - 1, where -1 means background."""
    if not _is_int(value):
        raise TypeError(
            f"{name} must be an int in -1..{NUM_PARTS - 1} (-1 = background), got {type(value).__name__} {value!r}"
        )
    number = int(value)
    if not -1 <= number < NUM_PARTS:
        raise ValueError(f"{name} must be in -1..{NUM_PARTS - 1} (-1 = background), got {value!r}")
    return number


def check_on_error(value: object) -> OnError:
    """``segment_stream``'s ``on_error``: "raise" or "skip"."""
    return check_choice(value, "on_error", ON_ERROR_CHOICES)


# -- drawing poses and people (issue 13) -----------------------------------------------------------
_POSES_WHAT = (
    f"a pose or a sequence of poses (bodypix.Pose objects, people of segment_multi_person*, or float "
    f"({POSE_NUM_KEYPOINTS}, 3) / (n, {POSE_NUM_KEYPOINTS}, 3) arrays of [y, x, score])"
)


def _pose_rows(pose: object, name: str) -> tuple[list[tuple[float, float, float]], float]:
    """One Pose-like object (``.keypoints`` of objects with real ``.y``, ``.x``, ``.score``, and
    a real ``.score``): its keypoints as (y, x, score) rows and its score."""
    keypoints = getattr(pose, "keypoints", None)
    if isinstance(keypoints, (str, bytes)) or not isinstance(keypoints, Sequence):
        raise TypeError(f"{name} must be {_POSES_WHAT}, got {type(pose).__name__}")
    if len(keypoints) != POSE_NUM_KEYPOINTS:
        raise ValueError(f"{name} must have {POSE_NUM_KEYPOINTS} keypoints per pose, got {len(keypoints)}")
    rows = []
    for keypoint in keypoints:
        values = tuple(getattr(keypoint, field, None) for field in ("y", "x", "score"))
        if not all(_is_real(v) for v in values):
            raise TypeError(
                f"{name}: every keypoint must have real y, x and score attributes, got {type(keypoint).__name__} "
                f"{keypoint!r}"
            )
        rows.append((float(values[0]), float(values[1]), float(values[2])))  # type: ignore[arg-type]
    score = getattr(pose, "score", None)
    if not _is_real(score):
        raise TypeError(f"{name}: a pose's score must be a real number, got {type(score).__name__} {score!r}")
    return rows, float(score)


def check_poses(value: object, name: str = "poses") -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Poses to draw: ``(keypoints, scores)``, float64 ``(n, 17, 3)`` rows of [y, x, score] in
    image pixels and ``(n,)`` pose scores (+inf for a pose given as an array, which carries none).

    Takes one pose or a sequence of them; a pose is a Pose-like object (``.score`` and 17
    ``.keypoints`` with ``.y``, ``.x``, ``.score``), an object with such a ``.pose`` (a person of
    ``segment_multi_person``), or a real ``(17, 3)`` array; or an ``(n, 17, 3)`` array. NaN
    coordinates and scores are allowed (such keypoints are not drawn)."""
    k = POSE_NUM_KEYPOINTS
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "fiu":
            raise TypeError(f"{name} must be {_POSES_WHAT}, got {describe(value)}")
        if value.shape == (k, 3):
            value = value[np.newaxis]
        if value.ndim != 3 or value.shape[1:] != (k, 3):
            raise ValueError(f"{name} must be {_POSES_WHAT}, got {describe(value)}")
        if value.shape[0] > MAX_PEOPLE:
            raise ValueError(f"{name} must hold at most {MAX_PEOPLE} poses, got {value.shape[0]}")
        return value.astype(np.float64), np.full(value.shape[0], np.inf)
    if getattr(value, "keypoints", None) is not None or getattr(value, "pose", None) is not None:
        value = [value]
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be {_POSES_WHAT}, got {type(value).__name__}")
    if len(value) > MAX_PEOPLE:
        raise ValueError(f"{name} must hold at most {MAX_PEOPLE} poses, got {len(value)}")
    keypoints = np.empty((len(value), k, 3), dtype=np.float64)
    scores = np.full(len(value), np.inf)
    for i, item in enumerate(value):
        pose = getattr(item, "pose", None) if getattr(item, "keypoints", None) is None else item
        if isinstance(item, np.ndarray):
            if item.shape != (k, 3):
                raise ValueError(f"{name}[{i}] must be a ({k}, 3) array of [y, x, score], got {describe(item)}")
            keypoints[i] = check_poses(item, f"{name}[{i}]")[0][0]
        elif pose is not None:
            rows, scores[i] = _pose_rows(pose, f"{name}[{i}]")
            keypoints[i] = rows
        else:
            raise TypeError(f"{name}[{i}] must be a pose (see {name}), got {type(item).__name__}")
    return keypoints, scores


def check_person_colors(value: object, count: int, name: str = "colors") -> UInt8Array:
    """At least ``count`` RGB colours (a sequence of (r, g, b) or an (m, 3) integer array, ints
    0..255): the first ``count``, as uint8 (count, 3)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of (r, g, b) colours of ints 0..255, got {type(value).__name__}")
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iu":
            raise TypeError(f"{name} must be an (n, 3) integer array of RGB colours 0..255, got {describe(value)}")
        if value.ndim != 2 or value.shape[1] != 3:
            raise ValueError(f"{name} must be an (n, 3) integer array of RGB colours 0..255, got {describe(value)}")
        rows = [tuple(row) for row in value.tolist()]
    else:
        rows = list(value)
    if len(rows) < count:
        raise ValueError(f"{name} must hold a colour for each of the {count} people, got {len(rows)}")
    colors = [check_color(row, f"{name}[{i}]", 3) for i, row in enumerate(rows[:count])]
    return np.array(colors, dtype=np.uint8).reshape(count, 3)


def check_people_masks(value: object, image: np.ndarray[Any, Any], name: str = "people") -> npt.NDArray[np.bool_]:
    """People's masks of the size of ``image``, as bool (n, H, W): an (n, H, W) bool/integer 0/1
    array, or a sequence whose items are (H, W) 0/1 masks or people of ``segment_multi_person``
    (their ``.mask``) or of ``segment_multi_person_parts`` (``.parts >= 0``)."""
    height, width = image.shape[:2]
    if isinstance(value, np.ndarray):
        if not (value.dtype == np.bool_ or value.dtype.kind in "iu"):
            raise TypeError(f"{name} must be an (n, H, W) array of 0/1 masks, got {describe(value)}")
        if value.ndim != 3 or value.shape[1:] != (height, width):
            raise ValueError(
                f"{name} must be an (n, H, W) array of 0/1 masks of the image's size {(height, width)}, "
                f"got {describe(value)}"
            )
        items: list[object] = list(value)
    elif isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{name} must be a sequence of (H, W) masks or of people of segment_multi_person*, got {describe(value)}"
        )
    else:
        items = list(value)
    if len(items) > MAX_PEOPLE:
        raise ValueError(f"{name} must hold at most {MAX_PEOPLE} people, got {len(items)}")
    masks = np.zeros((len(items), height, width), dtype=np.bool_)
    for i, item in enumerate(items):
        label = f"{name}[{i}]"
        if not isinstance(item, np.ndarray):
            mask, parts = getattr(item, "mask", None), getattr(item, "parts", None)
            if mask is not None:
                item = mask
            elif parts is not None:
                item = check_parts(parts, f"{label}.parts") >= 0
            else:
                raise TypeError(
                    f"{label} must be an (H, W) mask or a person with .mask or .parts, got {describe(item)}"
                )
        mask_array = check_mask(item, label)
        check_same_size(mask_array, label, image)
        masks[i] = mask_array.astype(bool)
    return masks


def check_line_width(value: object, name: str) -> int:
    """A keypoint radius or line thickness: an int in 1..MAX_POSE_LINE_WIDTH pixels."""
    return check_int(value, name, 1, MAX_POSE_LINE_WIDTH)


def check_call_options(value: object, name: str = "call_options") -> dict[str, Any]:
    """None or a dict of keyword arguments (str keys) for a BodyPix 2 call, as a new dict; the
    values are checked by the call itself. ``flip_horizontal`` and ``segmentation_threshold``
    have their own arguments and are refused here."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise TypeError(f"{name} must be None or a dict of keyword arguments, got {type(value).__name__}")
    for own in ("flip_horizontal", "segmentation_threshold"):
        if own in value:
            raise ValueError(f"{name} must not hold {own!r} (pass it as the argument {own}), got {sorted(value)}")
    return dict(value)


# -- the bundled model and the engines (issue 12) -------------------------------------------------
def check_bundled_stride(value: object) -> int:
    """An output stride of the bundled model: 8 or 16 (the strides Google publishes)."""
    return check_choice(value, "output_stride", BUNDLED_STRIDES)


# -- BodyPix 2 options (issue 13: person_segmentation.bodypix; spec BODYPIX2.md sections 1, 3, 4) --
def check_bodypix_multiplier(value: object) -> float:
    """One of :data:`BODYPIX_MULTIPLIERS` (0.5, 0.75, 1.0), as the canonical float."""
    if not _is_real(value):
        raise TypeError(f"multiplier must be one of {BODYPIX_MULTIPLIERS}, got {type(value).__name__} {value!r}")
    number = float(value)
    if number not in BODYPIX_MULTIPLIERS:
        raise ValueError(
            f"multiplier must be one of {BODYPIX_MULTIPLIERS} (the BodyPix 2 MobileNetV1 models), got {value!r}"
        )
    return BODYPIX_MULTIPLIERS[BODYPIX_MULTIPLIERS.index(number)]


def check_quant_bytes(value: object) -> int:
    """1, 2 or 4 (bytes per stored weight: quant1, quant2, float)."""
    return check_choice(value, "quant_bytes", BODYPIX_QUANT_BYTES)


def check_bodypix_output_stride(value: object) -> int:
    """8 or 16; 32 is refused with its reason (BodyPix 2 accepts it, but no file exists)."""
    if _is_int(value) and int(value) == 32:
        raise ValueError(
            f"output_stride must be one of {BODYPIX_OUTPUT_STRIDES}, got 32: BodyPix 2 accepts 32 but Google "
            "publishes no MobileNetV1 model-stride32.json"
        )
    return check_choice(value, "output_stride", BODYPIX_OUTPUT_STRIDES)


def _internal_resolutions() -> str:
    low, high = BODYPIX_MIN_INTERNAL_RESOLUTION, BODYPIX_MAX_INTERNAL_RESOLUTION
    return f"one of {tuple(BODYPIX_INTERNAL_RESOLUTIONS)} or a number in [{low}, {high}]"


def parse_internal_resolution(text: str) -> str | float:
    """``internal_resolution`` written as text (a command-line option, an HTTP query field): a
    name, returned as it is, or a number in [0.1, 2.0], returned as a float; else ValueError,
    with :func:`check_internal_resolution`'s message."""
    if text in BODYPIX_INTERNAL_RESOLUTIONS:
        return text
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"internal_resolution must be {_internal_resolutions()}, got {text!r}") from None
    check_internal_resolution(number)
    return number


def check_internal_resolution(value: object) -> float:
    """``"low"``, ``"medium"``, ``"high"``, ``"full"`` or a number in [0.1, 2.0]; returned as the
    fraction of the image size (0.25, 0.5, 0.75, 1.0 for the names)."""
    low, high = BODYPIX_MIN_INTERNAL_RESOLUTION, BODYPIX_MAX_INTERNAL_RESOLUTION
    allowed = _internal_resolutions()
    if isinstance(value, str):
        if value not in BODYPIX_INTERNAL_RESOLUTIONS:
            raise ValueError(f"internal_resolution must be {allowed}, got {value!r}")
        return BODYPIX_INTERNAL_RESOLUTIONS[value]
    if not _is_real(value):
        raise TypeError(f"internal_resolution must be {allowed}, got {type(value).__name__} {value!r}")
    number = float(value)
    if not (low <= number <= high):  # also refuses NaN
        raise ValueError(f"internal_resolution must be {allowed}, got {value!r}")
    return number


def check_max_detections(value: object) -> int:
    """An int >= 1 (the most poses decoded)."""
    return check_int(value, "max_detections", 1)


def check_nms_radius(value: object) -> float:
    """A finite number > 0 (pose NMS radius, in network-input pixels)."""
    return check_positive(value, "nms_radius")


def check_refine_steps(value: object) -> int:
    """An int in 1..20 (long-offset refinement steps of the instance decoder)."""
    return check_int(value, "refine_steps", 1, BODYPIX_MAX_REFINE_STEPS)


# -- accuracy metrics, soft masks and the eval command (issue 12) -------------------------------
def check_label_array(value: object, name: str) -> np.ndarray[Any, Any]:
    """An integer (or bool) array of 2 or 3 dimensions with both sides >= 1: ground-truth labels."""
    array = check_array(value, name)
    if not (array.dtype == np.bool_ or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must be an integer array of labels (H, W) or (H, W, C), got {describe(array)}")
    if array.ndim not in (2, 3) or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be an integer array of labels (H, W) or (H, W, C), got {describe(array)}")
    return array


def check_same_shape(value: np.ndarray[Any, Any], name: str, shape: tuple[int, ...], other: str) -> None:
    """``value`` has exactly ``shape`` (that of ``other``)."""
    if tuple(value.shape) != tuple(shape):
        raise ValueError(f"{name} must have the shape of {other}, {tuple(shape)}, got {describe(value)}")


def check_boundary_fraction(value: object, name: str = "fraction") -> float:
    """A fraction of the image diagonal in (0, 1)."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a number in (0, 1), got {type(value).__name__} {value!r}")
    number = float(value)
    if not 0.0 < number < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return number


def check_probability(value: object, name: str = "probability") -> npt.NDArray[np.float32]:
    """A float (H, W) array of values in [0, 1] (a person probability), as float32."""
    array = check_array(value, name)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"{name} must be a float (H, W) array of values in [0, 1], got {describe(array)}")
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(f"{name} must be a float (H, W) array of values in [0, 1], got {describe(array)}")
    values = np.asarray(array, dtype=np.float32)
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise ValueError(f"{name} must hold finite values in [0, 1], got {describe(array)}")
    return values


def check_softness(value: object, name: str = "softness") -> float:
    """The width of a soft edge in probability units: a number in [0, 1]."""
    return check_interval(value, name)


def check_refine(value: object) -> str:
    """``None`` / "none" or "guided"."""
    if value is None:
        return "none"
    return check_choice(value, "refine", REFINEMENTS)


# -- Ray Data: the person probability column (issue 12) ---------------------------------------
def check_ray_probability(value: object, call: str | None) -> bool:
    """``probability`` of ``ray_data.Segmenter`` / ``segment_dataset``: a bool, True only for
    the v0.0.x estimates (``call`` None) and BodyPix 2's single-person calls."""
    wanted = check_bool(value, "probability")
    if wanted and call is not None and call not in RAY_PROBABILITY_CALLS:
        raise ValueError(
            f"probability must be False with call={call!r} (a multi-person call gives no per-person probability; "
            f"call=None or one of {', '.join(map(repr, RAY_PROBABILITY_CALLS))} give the image's), got True"
        )
    return wanted


def check_distinct_column(value: object, name: str, others: dict[str, str | None]) -> str:
    """An output column name (non-empty str) that none of ``others`` (name -> column) uses."""
    column = check_name(value, name)
    for other, taken in others.items():
        if column == taken:
            raise ValueError(f"{name} must differ from {other}, got {column!r} for both")
    return column
