"""Request bodies read within ``max_body``, in memory: a raw image, or multipart/form-data
parsed by python-multipart's streaming parser into bytes (Starlette's own form parser spools
files over 1 MiB to a temporary file; the server never touches the file system for a request).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header

from person_segmentation.serve._images import ApiError

#: The most parts of a multipart body (the image, a background image and the options).
MAX_PARTS = 64


def too_large(max_body: int) -> ApiError:
    return ApiError(413, "body_too_large", f"the request body is larger than the server's limit of {max_body} bytes")


def check_content_length(value: str | None, max_body: int) -> None:
    """413 from the Content-Length header alone, before any byte is read."""
    if value is None:
        return
    try:
        length = int(value)
    except ValueError:
        raise ApiError(400, "bad_content_length", f"Content-Length is not a number: {value!r}") from None
    if length > max_body:
        raise too_large(max_body)


async def read_limited(stream: AsyncIterator[bytes], max_body: int) -> bytes:
    """The whole body; 413 as soon as more than ``max_body`` bytes have arrived."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > max_body:
            raise too_large(max_body)
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    content_type: str = ""
    data: bytearray = field(default_factory=bytearray)


@dataclass
class Form:
    """A parsed multipart body: ``fields`` (text values) and ``files`` (name -> (content type, bytes))."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


async def read_multipart(content_type: str, stream: AsyncIterator[bytes], max_body: int) -> Form:
    """A multipart/form-data body parsed while it streams in (413 past ``max_body``; 400 for a
    malformed body, a missing boundary, a part without a name or a field given twice)."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(400, "bad_multipart", "multipart/form-data needs a boundary in its Content-Type")
    parts: list[_Part] = []
    header_name = bytearray()
    header_value = bytearray()
    headers: dict[bytes, bytes] = {}

    def on_part_begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise ApiError(400, "bad_multipart", f"more than {MAX_PARTS} parts in the form")
        parts.append(_Part())
        headers.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].data += data[start:end]

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise ApiError(400, "bad_multipart", 'a form part has no Content-Disposition "name"')
        part = parts[-1]
        part.name = options[b"name"].decode("utf-8", "replace")
        if b"filename" in options:
            part.filename = options[b"filename"].decode("utf-8", "replace")
        part.content_type = headers.get(b"content-type", b"").decode("latin-1")

    callbacks: Any = {
        "on_part_begin": on_part_begin,
        "on_part_data": on_part_data,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished,
    }
    size = 0
    try:
        parser = MultipartParser(boundary, callbacks)
        async for chunk in stream:
            size += len(chunk)
            if size > max_body:
                raise too_large(max_body)
            parser.write(chunk)
        parser.finalize()
    except ApiError:
        raise
    except Exception as exc:  # python-multipart's parse errors
        raise ApiError(400, "bad_multipart", f"malformed multipart/form-data body: {exc}") from None
    form = Form()
    for part in parts:
        if part.name in form.fields or part.name in form.files:
            raise ApiError(400, "bad_multipart", f"the form field {part.name!r} is given more than once")
        if part.filename is not None or part.content_type.startswith("image/"):
            form.files[part.name] = (part.content_type, bytes(part.data))
        else:
            form.fields[part.name] = bytes(part.data).decode("utf-8", "replace")
    return form
