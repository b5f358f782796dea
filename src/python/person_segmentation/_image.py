"""Turning whatever the user passes as an image into one (H, W, 3) array or tensor.

What pixel values mean (one rule per kind of input):

* numpy arrays and tf.Tensors: integer values are 8-bit pixel values 0..255 whatever the dtype
  (values outside are a ValueError that says how to pass 16-bit pixels); float values (float16,
  float32, float64, and ml_dtypes' bfloat16 and other extension floats, as TensorFlow's
  bfloat16 tensors give) are pixel values in 0..255, NaN counting as 0 and values outside
  clipped.
* Image files and ``PIL.Image`` objects: converted by the bit depth of their mode, the same way
  on every path (:func:`pil_pixels`, used by :func:`read_image`, :func:`decode_image_bytes`
  and :func:`as_image`): 16-bit modes to ``round(v / 257)``, mode ``I`` clipped to 0..65535
  first, mode ``F`` (float TIFF, PFM) taken as 0..1, every other mode through Pillow's
  ``convert("RGB")``.

Files are opened only if they are regular files (a FIFO would block forever) and parsed only as
one of :data:`IMAGE_FORMATS`; every failure to decode one is a ValueError naming it.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, Union

import numpy as np
import PIL.Image
import PIL.ImageOps

from person_segmentation import _checks
from person_segmentation._constants import IMAGE_FORMATS, SIXTEEN_BIT_MODES

if TYPE_CHECKING:
    import tensorflow as tf

#: Everything the estimates take as an image. A ``tf.Tensor`` is recognised without importing
#: TensorFlow: if TensorFlow was never imported, nothing can be one.
ImageLike = Union[np.ndarray, PIL.Image.Image, str, "os.PathLike[str]", "tf.Tensor"]

_ACCEPTED = (
    "a numpy array (H, W, 3) RGB, (H, W) grayscale or (H, W, 4) RGBA with uint8 values or "
    "integer/float values in 0..255, a PIL.Image.Image, a path to an image file, or a tf.Tensor"
)


def pil_pixels(img: PIL.Image.Image) -> np.ndarray:
    """uint8 RGB (H, W, 3) pixels of a PIL image, by the bit depth of its mode: the one
    conversion of decoded files and ``PIL.Image`` inputs.

    * ``I;16``, ``I;16B``, ``I;16L``, ``I;16N`` (16-bit PNG, TIFF and PGM): ``round(v / 257)``,
      so 65535 is 255 and 8-bit values stored as ``v * 257`` come back exactly.
    * ``I`` (32-bit signed; 16-bit PGM and int32 TIFF open in it): taken as 16-bit data, values
      clipped to 0..65535 first (negative ones are 0), then as above. Pillow itself clips ``I``
      when it converts it (to 0..255); clipping at the 16-bit range keeps the one 16-bit rule.
    * ``F`` (32-bit float TIFF, PFM): taken as 0..1, the convention of float TIFF images:
      ``round(v * 255)`` (half to even) clipped to 0..255, NaN is 0, +inf is 255. The
      convention is fixed (never chosen from the image's values), so one pixel value always
      means one thing.
    * every other mode (``1``, ``L``, ``P``, ``RGB``, ``RGBA``, ``LA``, ``CMYK``, ``YCbCr``, ...):
      Pillow's ``convert("RGB")``; alpha is dropped. (Pillow reads 16-bit RGB(A) files as 8-bit
      ``RGB``/``RGBA`` keeping the high byte, ``v >> 8``: at most 1 from ``round(v / 257)``.)

    Grayscale results are repeated to RGB. Raises whatever Pillow raises for an image it
    cannot load (callers turn it into a ValueError).
    """
    if img.mode in SIXTEEN_BIT_MODES or img.mode == "I":
        to_8_bits = _sixteen_to_8_bits
    elif img.mode == "F":
        to_8_bits = _unit_float_to_8_bits
    else:
        return np.asarray(img.convert("RGB"))
    values = np.asarray(img)
    gray = np.empty(values.shape, np.uint8)
    rows = max(1, (1 << 20) // max(1, values.shape[1]))  # about a million pixels at a time
    for top in range(0, values.shape[0], rows):
        gray[top : top + rows] = to_8_bits(values[top : top + rows])
    return np.repeat(gray[:, :, np.newaxis], 3, axis=2)


def _sixteen_to_8_bits(values: np.ndarray) -> np.ndarray:
    """uint16 (any byte order) or int32 samples: clipped to 0..65535, then round(v / 257)."""
    wide = np.clip(values.astype(np.int32), 0, 65535)
    result: np.ndarray = (wide + 128) // 257  # == round(v / 257) exactly (v / 257 is never a tie)
    return result


def _unit_float_to_8_bits(values: np.ndarray) -> np.ndarray:
    """float32 samples in 0..1: round(v * 255) (half to even), clipped, NaN as 0."""
    scaled = values.astype(np.float64) * 255.0  # exact for float32 values
    result: np.ndarray = np.rint(np.clip(np.nan_to_num(scaled, nan=0.0, posinf=255.0, neginf=0.0), 0, 255))
    return result


def _reason(exc: Exception) -> str:
    """An exception raised while decoding, for a message: Pillow's usual errors (OSError,
    SyntaxError, ValueError, the decompression-bomb error) by their text, others with their type."""
    if isinstance(exc, (OSError, SyntaxError, ValueError, PIL.Image.DecompressionBombError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _decode(source: IO[bytes], name: str) -> np.ndarray:
    """The one image decoder: uint8 RGB (H, W, 3) by :func:`pil_pixels`, the EXIF orientation
    applied, parsed only as one of :data:`IMAGE_FORMATS`. Every failure while decoding (any
    Exception: Pillow's plugins raise OSError, SyntaxError, but also RuntimeError, struct.error,
    ...; and Pillow's decompression-bomb limit) is a ValueError naming ``name``. MemoryError is
    not a property of the file and stays itself; KeyboardInterrupt and other BaseExceptions pass."""
    try:
        with PIL.Image.open(source, formats=IMAGE_FORMATS) as img:
            return pil_pixels(PIL.ImageOps.exif_transpose(img))
    except MemoryError:
        raise
    except PIL.UnidentifiedImageError as exc:
        raise ValueError(
            f"cannot read image file {name!r}: not an image in one of the formats read ({', '.join(IMAGE_FORMATS)})"
        ) from exc
    except Exception as exc:
        raise ValueError(f"cannot read image file {name!r}: {_reason(exc)}") from exc


#: Flags opening an image file: O_NONBLOCK so that opening a FIFO returns at once (it is then
#: refused by its type) instead of waiting for a writer.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def open_regular_file(path: str, name: str = "image") -> IO[bytes]:
    """``path`` opened for reading if it is a regular file (checked on the open descriptor, so
    it cannot be swapped in between).

    Raises:
        FileNotFoundError: nothing at ``path``.
        ValueError: a FIFO, device, socket or directory, or a file that cannot be opened
            (permissions, ...), naming it.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise FileNotFoundError(f"image file not found: {path!r}") from exc
    except OSError as exc:
        raise ValueError(f"cannot read image file {path!r}: {exc.strerror or exc}") from exc
    try:
        _checks.check_regular_file(os.fstat(fd).st_mode, path, name)
        if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file to uint8 RGB (H, W, 3), applying its EXIF orientation; high bit
    depths are scaled to 8 bits as :func:`pil_pixels` says.

    Only regular files are read, and only as one of :data:`IMAGE_FORMATS` (JPEG, PNG, BMP, GIF,
    TIFF, WebP, PPM/PGM/PBM/PFM), whatever the file's name.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file exists but is not a regular file (a FIFO, device, directory...),
            not a readable image in those formats, or larger than Pillow's decompression-bomb
            limit (names the file).
    """
    path = os.fspath(path)
    with open_regular_file(path) as file:
        return _decode(file, path)


def decode_image_bytes(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode an encoded image file's bytes exactly as :func:`read_image` decodes a file.

    Raises:
        ValueError: not a readable image, or over the decompression-bomb limit (names it).
    """
    return _decode(io.BytesIO(data), name)


def _pil_image(image: PIL.Image.Image) -> np.ndarray:
    """A PIL image's pixels by :func:`pil_pixels`; a lazily opened file that turns out to be
    truncated or corrupt when it is loaded here is the documented ValueError."""
    try:
        return pil_pixels(image)
    except MemoryError:
        raise
    except Exception as exc:
        source = getattr(image, "filename", "") or ""
        what = f"PIL.Image.Image of {source!r}" if source else "PIL.Image.Image"
        raise ValueError(f"cannot read image (a {what}): {_reason(exc)}") from exc


def _check_shape(shape: tuple[int, ...], kind: str) -> None:
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, 3, 4)):
        raise ValueError(
            f"image must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {kind} of shape {tuple(shape)}"
        )
    if shape[0] < 1 or shape[1] < 1:
        raise ValueError(f"image must not be empty, got {kind} of shape {tuple(shape)}")


def _to_rgb(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        array = array[:, :, np.newaxis]
    if array.shape[2] == 1:
        return np.repeat(array, 3, axis=2)
    if array.shape[2] == 4:
        return array[:, :, :3]
    return array


def _tensorflow() -> Any:
    """The TensorFlow module if it has been imported (by the user or an engine), else None."""
    return sys.modules.get("tensorflow")


def is_tf_tensor(value: object) -> bool:
    """Whether ``value`` is a TensorFlow tensor (without importing TensorFlow: if it was never
    imported, nothing can be one)."""
    tf = _tensorflow()
    return tf is not None and isinstance(value, tf.Tensor)


def native_pixels(pixels: Any) -> np.ndarray:
    """Checked pixels as the native pre-processing takes them: uint8 or float32 numpy (any
    strides). Tensors become numpy; other float types, ml_dtypes' bfloat16 and float8 included,
    become float32 (exactly what TF's resize reads them as: every engine sees the same values);
    integer tensors are range-checked by :func:`as_image` and become uint8."""
    array: np.ndarray = pixels if isinstance(pixels, np.ndarray) else pixels.numpy()
    if array.dtype == np.uint8 or array.dtype == np.float32:
        return array
    if array.dtype.kind == "f" or _checks.is_extension_float(array.dtype):  # bfloat16 tensors give kind 'V'
        return array.astype(np.float32)
    if array.dtype.kind in "iu":
        return array.astype(np.uint8)
    raise TypeError(f"image dtype must be uint8, another integer type or a float type, got {array.dtype}")


def as_image(image: object) -> Any:
    """Normalise ``image`` to an (H, W, 3) numpy array or a tf.Tensor.

    uint8 arrays pass through without a copy (any strides, read-only or not); other integer
    arrays must hold 0..255 (8-bit values whatever the dtype: pass 16-bit pixels as
    ``np.round(image / 257).astype(np.uint8)``, or as a file or a PIL image) and become uint8;
    float arrays (float16/32/64, and ml_dtypes' bfloat16 and other extension floats, which
    become float32 exactly) are pixel values in 0..255 used as they are (not rounded; NaN counts
    as 0 and values outside 0..255 are clipped, in the resize step). Alpha is dropped, grayscale
    is repeated to RGB. Shapes: (H, W), (H, W, 1), (H, W, 3), (H, W, 4); 2 or 5+ channels are
    refused. Files and PIL images are converted by their mode's bit depth (:func:`pil_pixels`).

    Raises:
        TypeError: an unsupported type or dtype (bool, complex, object, ...).
        ValueError: a wrong shape, an empty image, out-of-range integers, an unreadable file or
            PIL image (a lazily opened one that is truncated).
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    if isinstance(image, PIL.Image.Image):
        return _pil_image(image)
    tf = _tensorflow()
    if tf is not None and isinstance(image, tf.Tensor):
        tensor = image
        _check_shape(tuple(tensor.shape), "a tf.Tensor")
        if not (tensor.dtype.is_integer or tensor.dtype.is_floating) or tensor.dtype == tf.bool:
            raise TypeError(f"image tensor must have an integer or float dtype, got {tensor.dtype.name}")
        if tensor.dtype.is_integer and tf.size(tensor) > 0:
            low, high = int(tf.reduce_min(tensor)), int(tf.reduce_max(tensor))
            _checks.check_byte_range(low, high, f"a {tensor.dtype.name} tensor with values")
            tensor = tf.cast(tensor, tf.uint8)
        if tensor.shape.rank == 2:
            tensor = tensor[:, :, tf.newaxis]
        if tensor.shape[2] == 1:
            tensor = tf.repeat(tensor, 3, axis=2)
        elif tensor.shape[2] == 4:
            tensor = tensor[:, :, :3]
        return tensor
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be {_ACCEPTED}; got {type(image).__module__}.{type(image).__qualname__}")
    _check_shape(image.shape, f"a {image.dtype} array")
    if image.dtype == np.uint8:
        return _to_rgb(image)
    if image.dtype.kind in "iu":
        if image.size:
            _checks.check_byte_range(int(image.min()), int(image.max()), f"{image.dtype} values")
        return _to_rgb(image).astype(np.uint8)
    if image.dtype.kind == "f":
        return _to_rgb(image)
    if _checks.is_extension_float(image.dtype):
        return _to_rgb(image).astype(np.float32)
    raise TypeError(f"image dtype must be uint8, another integer type or a float type, got {image.dtype}")


def iter_images(images: object, single: str) -> Iterator[Any]:
    """An iterator over ``images`` for the streaming calls: a TypeError for one image given
    where many are expected (a path, a TF tensor, an array that is not 4-D (N, H, W, 3): its
    message names ``single``, the call for one image) or for anything that is not iterable."""
    what = "images must be an iterable of images (or a 4-D (N, H, W, 3) array)"
    if (
        isinstance(images, (str, os.PathLike))
        or is_tf_tensor(images)
        or (isinstance(images, np.ndarray) and images.ndim != 4)
    ):
        raise TypeError(f"{what}, got {type(images).__name__}; for one image use {single}")
    try:
        return iter(images)  # type: ignore[call-overload, no-any-return]
    except TypeError:
        raise TypeError(f"{what}, got {type(images).__name__}") from None
