"""Seed files in the image formats Pillow writes (and a few it only reads), and byte-level
mutations of them, for the decoding fuzz of ``test_decoding.py``.

Pillow identifies a file by its content, not its name, so a ``.jpg`` can be any format it
reads: the seeds cover the formats the package reads (``IMAGE_FORMATS``) in their common
variants and the rarer formats it refuses (which must be refused with the same ValueError).
"""

from __future__ import annotations

import functools
import io
import random
import struct
import warnings
from collections.abc import Callable

import numpy as np
import PIL.features
import PIL.Image


def _picture(width: int = 24, height: int = 17) -> PIL.Image.Image:
    """A small RGB picture: a gradient with noise (so encoders produce every kind of block)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // width, y * 255 // height, (x + y) * 255 // (width + height)], axis=2)
    return PIL.Image.fromarray(np.clip(base + rng.integers(-20, 21, base.shape), 0, 255).astype(np.uint8))


def _save(image: PIL.Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Pillow 12+ deprecates writing IM
        image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _fits(image: PIL.Image.Image) -> bytes:
    """A minimal 8-bit FITS file (Pillow reads FITS but does not write it)."""
    gray = image.convert("L")
    cards = [
        "SIMPLE  =                    T",
        "BITPIX  =                    8",
        "NAXIS   =                    2",
        f"NAXIS1  = {gray.width:>20}",
        f"NAXIS2  = {gray.height:>20}",
        "END",
    ]
    header = "".join(card.ljust(80) for card in cards).ljust(2880).encode("ascii")
    data = gray.tobytes()
    return header + data + b"\0" * (-len(data) % 2880)


def _sun(image: PIL.Image.Image) -> bytes:
    """A 24-bit Sun raster file (read-only in Pillow)."""
    rgb = image.convert("RGB")
    pad = (rgb.width * 3) % 2  # rows are padded to 16 bits
    bgr = np.asarray(rgb)[:, :, ::-1]  # Sun rasters store BGR
    rows = b"".join(bgr[i].tobytes() + b"\0" * pad for i in range(rgb.height))
    return struct.pack(">8I", 0x59A66A95, rgb.width, rgb.height, 24, len(rows), 1, 0, 0) + rows


def _xpm(image: PIL.Image.Image) -> bytes:
    """A 4-colour XPM file (read-only in Pillow)."""
    quantised = image.convert("L").point(lambda v: v // 64)
    chars = ".+@#"
    colours = [f'"{chars[i]} c #{i * 85:02x}{i * 85:02x}{i * 85:02x}",' for i in range(4)]
    pixels = np.asarray(quantised)
    rows = [f'"{"".join(chars[v] for v in row)}",' for row in pixels]
    text = "/* XPM */\nstatic char *x[] = {\n" + f'"{image.width} {image.height} 4 1",\n'
    return (text + "\n".join(colours + rows) + "\n};\n").encode("ascii")


def _gbr(image: PIL.Image.Image) -> bytes:
    """A GIMP brush, version 2 (read-only in Pillow)."""
    gray = image.convert("L")
    name = b"fuzz\0"
    header = struct.pack(">7I", 28 + len(name), 2, gray.width, gray.height, 1, 0x47494D50, 10)
    return header + name + gray.tobytes()


@functools.cache
def _common_seeds() -> dict[str, bytes]:
    """Files in the formats the package reads, in their usual variants (and high bit depths)."""
    rgb = _picture()
    gray = rgb.convert("L")
    rng = np.random.default_rng(1)
    sixteen = PIL.Image.fromarray(
        (np.asarray(gray).astype(np.uint16) * 256 + rng.integers(0, 256, gray.size[::-1])).astype(np.uint16)
    )
    exif = PIL.Image.Exif()
    exif[0x0112] = 6  # rotated: exif_transpose runs
    frames = [rgb, rgb.rotate(90), rgb.transpose(PIL.Image.Transpose.FLIP_LEFT_RIGHT)]
    seeds = {
        "JPEG": _save(rgb, "JPEG", quality=85),
        "JPEG-progressive": _save(rgb, "JPEG", progressive=True, quality=70),
        "JPEG-exif": _save(rgb, "JPEG", exif=exif),
        "JPEG-gray": _save(gray, "JPEG"),
        "JPEG-CMYK": _save(rgb.convert("CMYK"), "JPEG"),
        "MPO": _save(rgb, "MPO", save_all=True, append_images=[rgb.rotate(180)]),
        "PNG": _save(rgb, "PNG"),
        "PNG-RGBA": _save(rgb.convert("RGBA"), "PNG"),
        "PNG-P": _save(rgb.convert("P"), "PNG"),
        "PNG-L": _save(gray, "PNG", optimize=True),
        "PNG-1": _save(gray.convert("1"), "PNG"),
        "PNG-I;16": _save(sixteen, "PNG"),
        "PNG-interlaced": _save(rgb, "PNG", interlace=1),
        "APNG": _save(rgb, "PNG", save_all=True, append_images=frames[1:]),
        "BMP": _save(rgb, "BMP"),
        "BMP-P": _save(rgb.convert("P"), "BMP"),
        "BMP-RGBA": _save(rgb.convert("RGBA"), "BMP"),
        "GIF": _save(rgb.convert("P"), "GIF"),
        "GIF-animated": _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=40, loop=0),
        "TIFF": _save(rgb, "TIFF"),
        "TIFF-lzw": _save(rgb, "TIFF", compression="tiff_lzw"),
        "TIFF-deflate": _save(rgb, "TIFF", compression="tiff_adobe_deflate"),
        "TIFF-packbits": _save(rgb, "TIFF", compression="packbits"),
        "TIFF-jpeg": _save(rgb, "TIFF", compression="jpeg"),
        "TIFF-CMYK": _save(rgb.convert("CMYK"), "TIFF"),
        "TIFF-I;16": _save(sixteen, "TIFF"),
        "TIFF-I": _save(sixteen.convert("I"), "TIFF"),
        "TIFF-F": _save(PIL.Image.fromarray(np.asarray(sixteen).astype(np.float32) / 65535), "TIFF"),
        "WEBP": _save(rgb, "WEBP", quality=80),
        "WEBP-lossless": _save(rgb.convert("RGBA"), "WEBP", lossless=True),
        "WEBP-animated": _save(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=40),
        "PPM": _save(rgb, "PPM"),
        "PGM": _save(gray, "PPM"),
        "PGM-16": _save(sixteen, "PPM"),
        "PBM": _save(gray.convert("1"), "PPM"),
        "PFM": _save(PIL.Image.fromarray(np.asarray(gray).astype(np.float32) / 255), "PPM"),
    }
    return seeds


@functools.cache
def _rare_seeds() -> dict[str, bytes]:
    """Files in formats Pillow reads that the package does not (refused with the ValueError):
    those Pillow writes, and four small hand-made ones it only reads."""
    rgb = _picture()
    writers: dict[str, Callable[[], bytes]] = {
        "BLP": lambda: _save(rgb.convert("P"), "BLP"),
        "DDS": lambda: _save(rgb, "DDS"),
        "DDS-RGBA": lambda: _save(rgb.convert("RGBA"), "DDS"),
        "DIB": lambda: _save(rgb, "DIB"),
        "ICO": lambda: _save(rgb, "ICO"),
        "IM": lambda: _save(rgb, "IM"),
        "MSP": lambda: _save(rgb.convert("1"), "MSP"),
        "PCX": lambda: _save(rgb, "PCX"),
        "QOI": lambda: _save(rgb, "QOI"),
        "SGI": lambda: _save(rgb, "SGI"),
        "SPIDER": lambda: _save(rgb.convert("F"), "SPIDER"),
        "TGA": lambda: _save(rgb, "TGA"),
        "TGA-rle": lambda: _save(rgb, "TGA", compression="tga_rle"),
        "XBM": lambda: _save(rgb.convert("1"), "XBM"),
        "FITS": lambda: _fits(rgb),
        "SUN": lambda: _sun(rgb),
        "XPM": lambda: _xpm(rgb),
        "GBR": lambda: _gbr(rgb),
    }
    if PIL.features.check("avif"):
        writers["AVIF"] = lambda: _save(rgb, "AVIF", quality=60)
    if PIL.features.check("jpg_2000"):
        writers["JPEG2000"] = lambda: _save(rgb, "JPEG2000")
        writers["J2K"] = lambda: _save(rgb, "JPEG2000", no_jp2=True)
    return {name: write() for name, write in writers.items()}


def common_seeds() -> dict[str, bytes]:
    """Files in the formats the package reads, in their usual variants (and high bit depths)."""
    return dict(_common_seeds())


def rare_seeds() -> dict[str, bytes]:
    """Files in 18 formats Pillow reads that the package does not (refused with the ValueError)."""
    return dict(_rare_seeds())


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One random mutation (or a few stacked) of ``data``, and what it was."""
    out = bytearray(data)
    done: list[str] = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.choice(("flip", "byte", "int", "truncate", "insert", "delete", "duplicate", "zero-run"))
        if not out:
            out = bytearray(b"\0")
        at = rng.randrange(len(out))
        if kind == "flip":
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(out))
                out[i] ^= 1 << rng.randrange(8)
        elif kind == "byte":
            out[at] = rng.choice((0x00, 0xFF, 0x7F, 0x80, 0x01, rng.randrange(256)))
        elif kind == "int":  # a length, size or offset field made huge, zero or negative
            value = rng.choice((0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, rng.getrandbits(32)))
            out[at : at + 4] = struct.pack(rng.choice(("<I", ">I")), value)
        elif kind == "truncate":
            out = out[:at]
        elif kind == "insert":
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif kind == "delete":
            del out[at : at + rng.randint(1, 64)]
        elif kind == "duplicate":
            out[at:at] = out[at : at + rng.randint(1, 256)]
        else:
            out[at : at + rng.randint(1, 64)] = b"\0" * rng.randint(1, 64)
        done.append(f"{kind}@{at}")
    return bytes(out), "+".join(done)
