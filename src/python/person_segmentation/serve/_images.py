"""Request images in, response images out, with the server's limits.

Decoding happens in memory only (never a temporary file): Pillow reads the header first, the
size is checked against ``max_pixels`` (413) before a pixel is decoded, then the pixels are
decoded as the library decodes files (:func:`person_segmentation._image.pil_pixels`, EXIF
orientation applied). Failures are :class:`ApiError` with the status a client can act on:
415 not an image (in a format read), 413 too many pixels, 400 a truncated or corrupt image.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import PIL.Image
import PIL.ImageOps

from person_segmentation._constants import IMAGE_FORMATS, SERVE_FORMATS
from person_segmentation._image import pil_pixels


class ApiError(Exception):
    """An error answered as JSON ``{"error": code, "message": ..., **extra}`` with ``status``."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.extra}


def allow_pixels(max_pixels: int) -> None:
    """Let Pillow open images up to ``max_pixels`` without its decompression-bomb warning (its
    own limit, 89.5 megapixels, stays where it is higher): the server's check is the limit."""
    current = PIL.Image.MAX_IMAGE_PIXELS
    if current is not None and current < max_pixels:
        PIL.Image.MAX_IMAGE_PIXELS = max_pixels


def decode(data: bytes, max_pixels: int, name: str = "image") -> np.ndarray:
    """uint8 RGB (H, W, 3) pixels of an encoded image.

    Raises:
        ApiError: 400 empty or truncated/corrupt, 413 more than ``max_pixels``, 415 not an image.
    """
    if not data:
        raise ApiError(400, "empty_image", f"{name}: the body is empty; send an image (JPEG, PNG, WebP, ...)")
    try:
        # Pillow warns between its limit and twice it (refused below, by size) and raises above;
        # where warnings are errors (as in the tests) the warning is that error.
        img = PIL.Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
    except (PIL.Image.DecompressionBombError, PIL.Image.DecompressionBombWarning) as exc:
        raise ApiError(413, "too_many_pixels", f"{name}: {exc}", max_pixels=max_pixels) from None
    except PIL.UnidentifiedImageError:
        raise ApiError(
            415, "not_an_image", f"{name}: not an image in one of the formats read ({', '.join(IMAGE_FORMATS)})"
        ) from None
    except Exception as exc:  # Pillow's plugins raise many types on malformed headers
        raise ApiError(400, "bad_image", f"{name}: cannot read the image header: {exc}") from None
    with img:
        width, height = img.size
        if width * height > max_pixels:
            raise ApiError(
                413,
                "too_many_pixels",
                f"{name}: {width} x {height} = {width * height} pixels, more than the server's limit of {max_pixels}",
                max_pixels=max_pixels,
                width=width,
                height=height,
            )
        try:
            return pil_pixels(PIL.ImageOps.exif_transpose(img))
        except MemoryError:
            raise
        except Exception as exc:
            raise ApiError(400, "bad_image", f"{name}: cannot decode the image (truncated or corrupt): {exc}") from None


def encode(image: np.ndarray | PIL.Image.Image, image_format: str, quality: int) -> tuple[bytes, str]:
    """``(bytes, media type)`` of an image (RGB/L/P array or PIL image) in ``png``/``jpeg``/``webp``.
    Palette and grayscale images become RGB where the format has no palette (JPEG, WebP)."""
    img = image if isinstance(image, PIL.Image.Image) else PIL.Image.fromarray(np.ascontiguousarray(image))
    out = io.BytesIO()
    if image_format == "png":
        img.save(out, format="PNG", compress_level=1)  # fast; size matters less than latency here
    elif image_format == "jpeg":
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.save(out, format="JPEG", quality=quality)
    else:
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGB")
        img.save(out, format="WEBP", quality=quality, method=0)
    return out.getvalue(), SERVE_FORMATS[image_format]
