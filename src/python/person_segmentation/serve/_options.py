"""The options of ``POST /api/segment`` and of the demo's WebSocket, as one pydantic model.

Every option is a query parameter (or a multipart form field, or a key of the WebSocket's
options message); unknown names and bad values are refused (422) with the option's name. The
ranges are those of the library's checks (``bodypix`` and ``render``), so a value accepted here
never fails later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from person_segmentation import _checks
from person_segmentation._constants import (
    BODYPIX_MAX_INTERNAL_RESOLUTION,
    BODYPIX_MAX_REFINE_STEPS,
    BODYPIX_MIN_INTERNAL_RESOLUTION,
    BODYPIX_OUTPUT_STRIDES,
    DEFAULT_FACE_BLUR,
    MAX_CLI_FACE_BLUR,
    SERVE_FORMATS,
    SERVE_OUTPUTS,
)
from person_segmentation.serve._model import ModelOptions, Need

Output = Literal[
    "mask", "probability", "parts", "people", "poses", "json", "bokeh", "replace", "blur-faces", "parts-overlay"
]
Format = Literal["png", "jpeg", "webp"]
# the types spell out the constants (what /api/info lists); they must not drift apart
assert get_args(Output) == SERVE_OUTPUTS and get_args(Format) == tuple(SERVE_FORMATS)

#: The model call each output needs.
NEEDS: dict[str, Need] = {
    "mask": "person",
    "probability": "person",
    "parts": "parts",
    "people": "people",
    "poses": "person",
    "json": "people",
    "bokeh": "person",
    "replace": "person",
    "blur-faces": "parts",
    "parts-overlay": "parts",
}


class SegmentOptions(BaseModel):
    """Options of one segmentation (query parameters of ``POST /api/segment``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output: Output = Field(default="mask", description="what to return")
    format: Format = Field(default="png", description="image format of image outputs")
    quality: Annotated[int, Field(ge=1, le=100, description="JPEG/WebP quality")] = 90
    threshold: Annotated[float, Field(ge=0, le=1, description="person score threshold of the mask")] = 0.7
    internal_resolution: str = Field(
        default="medium",
        description="network input size as a fraction of the image: low (0.25), medium (0.5), high (0.75), full "
        f"(1.0) or a number in [{BODYPIX_MIN_INTERNAL_RESOLUTION}, {BODYPIX_MAX_INTERNAL_RESOLUTION}]",
    )
    output_stride: int | None = Field(default=None, description="8 or 16 (default: the server's)")
    flip: bool = Field(default=False, description="mirror the results left-right")
    max_detections: Annotated[int, Field(ge=1, le=50, description="the most poses decoded")] = 10
    score_threshold: Annotated[float, Field(ge=0, le=1, description="least pose score")] = 0.4
    nms_radius: Annotated[float, Field(gt=0, le=1000, description="pose NMS radius (input pixels)")] = 20.0
    refine_steps: Annotated[int, Field(ge=1, le=BODYPIX_MAX_REFINE_STEPS, description="instance refinement")] = 10
    background_blur: Annotated[float, Field(ge=0, le=20, description="bokeh: background blur (px)")] = 3.0
    edge_blur: Annotated[float, Field(ge=0, le=20, description="effects: mask edge blur (px)")] = 3.0
    face_blur: Annotated[float, Field(ge=0, le=MAX_CLI_FACE_BLUR, description="blur-faces: blur (px)")] = (
        DEFAULT_FACE_BLUR
    )
    opacity: Annotated[float, Field(ge=0, le=1, description="parts-overlay and people: colour opacity")] = 0.7
    background: str = Field(default="#00b140", description="replace: the background colour #RRGGBB")
    palette: Literal["rainbow", "warm"] = Field(default="rainbow", description="parts colours")

    @field_validator("internal_resolution")
    @classmethod
    def _resolution(cls, value: str) -> str:
        _checks.parse_internal_resolution(value)  # ValueError: pydantic's 422 names the field
        return value

    @field_validator("output_stride")
    @classmethod
    def _stride(cls, value: int | None) -> int | None:
        if value is not None and value not in BODYPIX_OUTPUT_STRIDES:
            raise ValueError("must be 8 or 16")
        return value

    @field_validator("background")
    @classmethod
    def _color(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError("must be a colour #RRGGBB")
        return value

    @property
    def background_rgb(self) -> tuple[int, int, int]:
        v = self.background
        return int(v[1:3], 16), int(v[3:5], 16), int(v[5:7], 16)

    @property
    def need(self) -> Need:
        return NEEDS[self.output]

    def model_options(self, default_stride: int) -> ModelOptions:
        resolution = _checks.parse_internal_resolution(self.internal_resolution)
        return ModelOptions(
            output_stride=int(self.output_stride) if self.output_stride is not None else default_stride,
            flip_horizontal=self.flip,
            internal_resolution=resolution,
            segmentation_threshold=self.threshold,
            max_detections=self.max_detections,
            score_threshold=self.score_threshold,
            nms_radius=self.nms_radius,
            refine_steps=self.refine_steps,
        )


class OptionsError(ValueError):
    """Options that failed validation: ``problems`` lists ``{"option", "message", "value"}``."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p['option']}: {p['message']}" for p in problems))


def problems_of(errors: Sequence[Mapping[str, Any]], skip_location: int = 0) -> list[dict[str, Any]]:
    """pydantic's errors (``ValidationError.errors()``) as ``{"option", "message", "value"}``
    (``value`` omitted when absent); ``skip_location`` leading parts of each location dropped
    (1 for FastAPI's ``("query", name)``)."""
    problems = []
    for item in errors:
        location = [str(part) for part in item.get("loc", ())[skip_location:]]
        problem: dict[str, Any] = {"option": ".".join(location) or "options", "message": item["msg"]}
        if item.get("type") == "extra_forbidden":
            problem["message"] = "unknown option; the options are " + ", ".join(SegmentOptions.model_fields)
        if "input" in item and isinstance(item["input"], (str, int, float, bool)):
            problem["value"] = item["input"]
        problems.append(problem)
    return problems


def parse_options(values: dict[str, Any]) -> SegmentOptions:
    """Validated options from raw values (strings from a query or a form, or JSON values).

    Raises:
        OptionsError: unknown options or bad values, all of them named.
    """
    try:
        return SegmentOptions.model_validate(values)
    except ValidationError as exc:
        raise OptionsError(problems_of(exc.errors())) from None
