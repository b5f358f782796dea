"""Turning whatever the user passes as an image into one (H, W, 3) array or tensor."""

from __future__ import annotations

import io
import os
import sys
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import PIL.Image
import PIL.ImageOps

if TYPE_CHECKING:
    import tensorflow as tf

#: Everything the estimates take as an image. A ``tf.Tensor`` is recognised without importing
#: TensorFlow: if TensorFlow was never imported, nothing can be one.
ImageLike = Union[np.ndarray, PIL.Image.Image, str, "os.PathLike[str]", "tf.Tensor"]

_ACCEPTED = (
    "a numpy array (H, W, 3) RGB, (H, W) grayscale or (H, W, 4) RGBA with uint8 values or "
    "integer/float values in 0..255, a PIL.Image.Image, a path to an image file, or a tf.Tensor"
)


def _decode(source: str | io.BytesIO, name: str) -> np.ndarray:
    """The one image decoder: uint8 RGB (H, W, 3) with the EXIF orientation applied, every
    decode failure (including Pillow's decompression-bomb limit) a ValueError naming ``name``."""
    try:
        with PIL.Image.open(source) as img:
            upright = PIL.ImageOps.exif_transpose(img)
            return np.asarray(upright.convert("RGB"))
    except (PIL.UnidentifiedImageError, PIL.Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise ValueError(f"cannot read image file {name!r}: {exc}") from exc


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file to uint8 RGB (H, W, 3), applying its EXIF orientation.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file exists but is not a readable image, or is larger than Pillow's
            decompression-bomb limit (names the file).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"image file not found: {path!r}")
    return _decode(path, path)


def decode_image_bytes(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode an encoded image file's bytes exactly as :func:`read_image` decodes a file.

    Raises:
        ValueError: not a readable image, or over the decompression-bomb limit (names it).
    """
    return _decode(io.BytesIO(data), name)


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


def native_pixels(pixels: Any) -> np.ndarray:
    """Checked pixels as the native pre-processing takes them: uint8 or float32 numpy (any
    strides). Tensors become numpy; other float types become float32 (exactly what TF's resize
    reads them as); integer tensors are range-checked by :func:`as_image` and become uint8."""
    array: np.ndarray = pixels if isinstance(pixels, np.ndarray) else pixels.numpy()
    if array.dtype == np.uint8 or array.dtype == np.float32:
        return array
    if array.dtype.kind == "f":
        return array.astype(np.float32)
    return array.astype(np.uint8)


def as_image(image: object) -> Any:
    """Normalise ``image`` to an (H, W, 3) numpy array or a tf.Tensor.

    uint8 arrays pass through without a copy (any strides, read-only or not); other integer
    arrays must hold 0..255 and become uint8; float arrays (float16/32/64) are pixel values in
    0..255 used as they are (not rounded; NaN counts as 0 and values outside 0..255 are
    clipped, in the resize step). Alpha is dropped, grayscale is repeated to RGB. Shapes:
    (H, W), (H, W, 1), (H, W, 3), (H, W, 4); 2 or 5+ channels are refused.

    Raises:
        TypeError: an unsupported type or dtype (bool, complex, object, ...).
        ValueError: a wrong shape, an empty image, out-of-range integers, or an unreadable file.
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    if isinstance(image, PIL.Image.Image):
        return np.asarray(image.convert("RGB"))
    tf = _tensorflow()
    if tf is not None and isinstance(image, tf.Tensor):
        tensor = image
        _check_shape(tuple(tensor.shape), "a tf.Tensor")
        if not (tensor.dtype.is_integer or tensor.dtype.is_floating) or tensor.dtype == tf.bool:
            raise TypeError(f"image tensor must have an integer or float dtype, got {tensor.dtype.name}")
        if tensor.dtype.is_integer and tf.size(tensor) > 0:
            low, high = int(tf.reduce_min(tensor)), int(tf.reduce_max(tensor))
            if low < 0 or high > 255:
                raise ValueError(
                    f"integer image values must lie in 0..255, got a {tensor.dtype.name} tensor "
                    f"with values in {low}..{high}"
                )
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
        if image.size and (image.min() < 0 or image.max() > 255):
            raise ValueError(
                f"integer image values must lie in 0..255, got {image.dtype} values in {image.min()}..{image.max()}"
            )
        return _to_rgb(image).astype(np.uint8)
    if image.dtype.kind == "f":
        return _to_rgb(image)
    raise TypeError(f"image dtype must be uint8, another integer type or a float type, got {image.dtype}")
