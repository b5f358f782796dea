"""Type stubs of the private native module (src/cpp/bindings/: module.cpp and register_*.cpp)."""

from typing import Final, Literal, TypedDict, overload

import numpy as np
import numpy.typing as npt

__version__: str

# The public limits of the C++ core (src/cpp/include/person_segmentation/constants.hpp).
MODEL_HEIGHT: Final[int]
"""Rows of the model input (353)."""
MODEL_WIDTH: Final[int]
"""Columns of the model input (257)."""
MAX_IMAGE_SIDE: Final[int]
"""The largest image side (and logit grid side) taken (65536)."""
NUM_PARTS: Final[int]
"""The body parts the BodyPix 1.0 model segments (24)."""
MAX_PART_CHANNELS: Final[int]
"""The most part channels the post-processing takes (1024; 32 on CUDA)."""

class ResizePadGeometry:
    """How an image is resized (keeping aspect) and zero-padded to the model input."""

    def __init__(
        self,
        *,
        image_height: int,
        image_width: int,
        model_height: int,
        model_width: int,
        resized_height: int,
        resized_width: int,
        pad_top: int,
        pad_bottom: int,
        pad_left: int,
        pad_right: int,
    ) -> None: ...
    @property
    def image_height(self) -> int: ...
    @property
    def image_width(self) -> int: ...
    @property
    def model_height(self) -> int: ...
    @property
    def model_width(self) -> int: ...
    @property
    def resized_height(self) -> int: ...
    @property
    def resized_width(self) -> int: ...
    @property
    def pad_top(self) -> int: ...
    @property
    def pad_bottom(self) -> int: ...
    @property
    def pad_left(self) -> int: ...
    @property
    def pad_right(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

def compute_geometry(
    image_height: int, image_width: int, model_height: int = 353, model_width: int = 257
) -> ResizePadGeometry: ...
def resize_pad_normalize(
    image: npt.NDArray[np.uint8] | npt.NDArray[np.float32],
    geometry: ResizePadGeometry,
    *,
    flip_horizontal: bool = False,
    out: npt.NDArray[np.float32] | None = None,
    num_threads: int = 1,
) -> npt.NDArray[np.float32]:
    """(H, W, 3) uint8/float32 pixels -> the float32 (353, 257, 3) model input (or ``out``,
    (353, 257, 3) or (1, 353, 257, 3), C-contiguous and writeable)."""

def person_mask(
    segment_logits: npt.NDArray[np.float32],
    geometry: ResizePadGeometry,
    *,
    segmentation_threshold: float = 0.5,
    flip_horizontal: bool = False,
    num_threads: int = 0,
    device: str = "cpu",
) -> npt.NDArray[np.uint8]: ...
def part_segmentation(
    segment_logits: npt.NDArray[np.float32],
    part_logits: npt.NDArray[np.float32],
    geometry: ResizePadGeometry,
    *,
    segmentation_threshold: float = 0.5,
    flip_horizontal: bool = False,
    num_threads: int = 0,
    device: str = "cpu",
) -> npt.NDArray[np.int32]: ...
def person_probability(
    segment_logits: npt.NDArray[np.float32],
    geometry: ResizePadGeometry,
    *,
    segmentation_threshold: float = 0.5,
    flip_horizontal: bool = False,
    num_threads: int = 0,
    device: str = "cpu",
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32]]:
    """(mask, probability) in one pass: the mask as person_mask and the float32 person
    probability in [0, 1] it thresholds."""

def part_segmentation_with_probability(
    segment_logits: npt.NDArray[np.float32],
    part_logits: npt.NDArray[np.float32],
    geometry: ResizePadGeometry,
    *,
    segmentation_threshold: float = 0.5,
    flip_horizontal: bool = False,
    num_threads: int = 0,
    device: str = "cpu",
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """(parts, probability): the part map as part_segmentation and the person probability."""

#: A result left where the kernels ran: (DLPack capsule, (device_type, device_id), (height, width)).
KeptResult = tuple[object, tuple[int, int], tuple[int, int]]

@overload
def person_mask_dlpack(
    logits: object,
    geometry: ResizePadGeometry,
    *,
    segmentation_threshold: float = 0.5,
    flip_horizontal: bool = False,
    num_threads: int = 0,
    device: str = "cpu",
    stream: int = 0,
    logits_ready_on_stream: bool = False,
    result_on_device: Literal[False] = False,
) -> npt.NDArray[np.uint8]: ...
@overload
def person_mask_dlpack(
    logits: object,
    geometry: ResizePadGeometry,
    *,
    segmentation_threshold: float = 0.5,
    flip_horizontal: bool = False,
    num_threads: int = 0,
    device: str = "cpu",
    stream: int = 0,
    logits_ready_on_stream: bool = False,
    result_on_device: bool,
) -> npt.NDArray[np.uint8] | KeptResult: ...
@overload
def part_segmentation_dlpack(
    logits: object,
    geometry: ResizePadGeometry,
    *,
    segmentation_threshold: float = 0.5,
    flip_horizontal: bool = False,
    num_threads: int = 0,
    device: str = "cpu",
    stream: int = 0,
    logits_ready_on_stream: bool = False,
    result_on_device: Literal[False] = False,
) -> npt.NDArray[np.int32]: ...
@overload
def part_segmentation_dlpack(
    logits: object,
    geometry: ResizePadGeometry,
    *,
    segmentation_threshold: float = 0.5,
    flip_horizontal: bool = False,
    num_threads: int = 0,
    device: str = "cpu",
    stream: int = 0,
    logits_ready_on_stream: bool = False,
    result_on_device: bool,
) -> npt.NDArray[np.int32] | KeptResult: ...
def cuda_compiled() -> bool: ...
def cuda_device_count() -> int: ...

class _CudaRuntimeInfo(TypedDict):
    runtime_version: int
    driver_version: int
    devices: int
    usable_devices: int
    unavailable_reason: str

def cuda_runtime_info() -> _CudaRuntimeInfo: ...
def default_num_threads() -> int: ...
def build_summary() -> str: ...

# ---- BodyPix 2 (src/cpp/bindings/register_bodypix.cpp; spec/BODYPIX2.md sections 4-12) ----
BODYPIX_HEADS_CHANNELS: Final[int]
"""Channels of the BodyPix 2 heads array (174): segments, part_heatmaps, heatmaps, short
offsets, displacement_fwd, displacement_bwd, long offsets."""

def bodypix_preprocess(
    pixels: npt.NDArray[np.uint8] | npt.NDArray[np.float32],
    *,
    input_height: int,
    input_width: int,
    padding: tuple[int, int, int, int],
    out: npt.NDArray[np.float32] | None = None,
    num_threads: int = 0,
) -> npt.NDArray[np.float32]:
    """(H, W, 3) pixels zero-padded by (top, bottom, left, right), resized (tfjs resizeBilinear,
    align_corners=False) to (input_height, input_width) and normalised: float32
    (input_height, input_width, 3), or ``out`` ((1,) + that shape allowed) filled."""

def bodypix_scale_back(
    heads: npt.NDArray[np.float32] | object,
    *,
    image_height: int,
    image_width: int,
    input_height: int,
    input_width: int,
    padding: tuple[int, int, int, int],
    threshold: float,
    parts: bool = False,
    probability: bool = False,
    num_threads: int = 0,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int32] | None, npt.NDArray[np.float32] | None]:
    """(mask uint8 (H, W) 0/1, parts int32 (H, W) 0..23 / -1 or None, person score float32
    (H, W) or None) of the (outH, outW, 174) heads (a numpy array or a DLPack tensor; on a
    CUDA device the CUDA kernels run)."""

def bodypix_decode_poses(
    heads: npt.NDArray[np.float32] | object,
    *,
    output_stride: int,
    max_detections: int,
    score_threshold: float,
    nms_radius: float,
    image_height: int,
    image_width: int,
    input_height: int,
    input_width: int,
    padding: tuple[int, int, int, int],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(keypoints float64 (n, 17, 3) [y, x, score] in image pixels, scores float64 (n,)), in
    decoding order (BodyPix 2's allPoses)."""

def bodypix_decode_instances(
    heads: npt.NDArray[np.float32] | object,
    mask: npt.NDArray[np.uint8],
    keypoints: npt.NDArray[np.float64],
    *,
    output_stride: int,
    image_height: int,
    image_width: int,
    input_height: int,
    input_width: int,
    padding: tuple[int, int, int, int],
    refine_steps: int,
    num_threads: int = 0,
) -> npt.NDArray[np.int32]:
    """int32 (H, W): for every pixel with mask == 1 the index of the nearest person of
    ``keypoints`` ((n, 17, 3) [y, x, score], the people only), -1 elsewhere or for nobody."""
