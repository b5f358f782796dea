"""The package's constants, each written once.

The native limits (model input, largest image side, part count) come from the C++ core
(``_core``), so Python and C++ cannot disagree; the rest is defined here and imported from here
by every module that needs it.
"""

from __future__ import annotations

from typing import Final, Literal

from person_segmentation import _core

#: Fixed model input of the original, (height, width).
MODEL_INPUT_SIZE: Final[tuple[int, int]] = (_core.MODEL_HEIGHT, _core.MODEL_WIDTH)
#: The network input as the TFLite engine takes it, (1, height, width, 3).
MODEL_INPUT_SHAPE: Final[tuple[int, int, int, int]] = (1, _core.MODEL_HEIGHT, _core.MODEL_WIDTH, 3)
#: The largest image side the native core takes.
MAX_IMAGE_SIDE: Final[int] = _core.MAX_IMAGE_SIDE
#: Number of body parts (part ids 0..NUM_PARTS-1).
NUM_PARTS: Final[int] = _core.NUM_PARTS

#: MobileNetV1 depth multipliers for which pretrained weights exist.
MULTIPLIERS: Final[tuple[float, ...]] = (1.0, 0.75, 0.5, 0.25)
#: Output strides the network runs at.
OUTPUT_STRIDES: Final[tuple[int, ...]] = (8, 16, 32)
#: MobileNetV1 blocks: Conv2d_0 (a full convolution) and the separable Conv2d_1..13.
NUM_BLOCKS: Final[int] = 14

EngineName = Literal["auto", "tf", "tflite"]
#: Values of ``engine`` (where the network runs).
ENGINES: Final[tuple[EngineName, ...]] = ("auto", "tf", "tflite")
Postprocess = Literal["native", "tf"]
#: Values of ``postprocess`` (who post-processes the logits).
POSTPROCESSORS: Final[tuple[Postprocess, ...]] = ("native", "tf")
Device = Literal["cpu", "cuda"]
#: Values of ``device`` of the ``*_from_logits`` functions.
DEVICES: Final[tuple[Device, ...]] = ("cpu", "cuda")

#: DLPack device types (``__dlpack_device__()[0]``) the post-processing takes: host memory ...
DLPACK_CPU: Final[int] = 1
DLPACK_CUDA_HOST: Final[int] = 3
#: ... and CUDA device memory (the CUDA kernels run there).
DLPACK_CUDA: Final[int] = 2
DLPACK_CUDA_MANAGED: Final[int] = 13
DLPACK_DEVICE_TYPES: Final[tuple[int, ...]] = (DLPACK_CPU, DLPACK_CUDA, DLPACK_CUDA_HOST, DLPACK_CUDA_MANAGED)
#: The ``stream=`` a CUDA producer's ``__dlpack__`` is called with: 1, the legacy default
#: stream, which the CUDA kernels then run on (the producer orders its pending work before it).
DLPACK_CUDA_STREAM: Final[int] = 1

#: Images in flight at once in ``segment_stream`` by default, and the most allowed.
DEFAULT_WORKERS: Final[int] = 2
MAX_WORKERS: Final[int] = 64

#: The recommended temporal ``smoothing`` of video masks for 24-30 fps video (the command
#: line's default); see ``video.DEFAULT_SMOOTHING`` for how it was measured.
DEFAULT_SMOOTHING: Final[float] = 0.5

#: Files taken from directories (and recognised as images / videos) by their extension.
IMAGE_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}
)
VIDEO_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ogv", ".mts", ".m2ts"}
)
#: Video files an output may name (the extensions video.VideoWriter has a codec for).
VIDEO_OUTPUT_EXTENSIONS: Final[tuple[str, ...]] = (".mp4", ".m4v", ".mov", ".avi", ".mkv")

# -- image decoding (issue 16: what is parsed, and how high bit depths become 8 bits) ------------
#: The Pillow formats an image file is parsed as, whatever its name (Pillow identifies files by
#: their content): the formats of :data:`IMAGE_EXTENSIONS`. PPM covers PGM, PBM, PNM and PFM;
#: JPEG covers MPO (multi-picture JPEG from cameras). Any other format is refused with the
#: documented ValueError, so no other Pillow plugin ever parses user files.
IMAGE_FORMATS: Final[tuple[str, ...]] = ("JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP", "PPM")
#: Pillow modes holding 16-bit samples (``I`` is 32-bit signed; it is read as 16-bit data too).
SIXTEEN_BIT_MODES: Final[frozenset[str]] = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})


# -- Bounds on drawing arguments and on weight downloads (issue 16: nothing lost, nothing hung) --
#: The largest blur amount (a Gaussian's standard deviation, in pixels) the ``render`` functions
#: take: 5x the command line's largest (20, as BodyPix's demo). The blur's cost grows with the
#: amount (its kernel is 6-8 amounts wide); at this maximum a 1920x1080 frame takes seconds, not
#: minutes (figures in docs/reliability.md), and every larger amount is refused with a ValueError.
MAX_BLUR_AMOUNT: Final[float] = 100.0
#: The widest ``pixel_cell_width`` of ``render.draw_pixelated_mask``: the largest image side the
#: core takes (a cell at least as wide as the image is one cell for the whole image).
MAX_PIXEL_CELL_WIDTH: Final[int] = MAX_IMAGE_SIDE
#: The largest weights manifest or model JSON read or downloaded (the published ones are under
#: 60 KB); a longer file is refused, and a download stops reading one byte after this.
MAX_MANIFEST_BYTES: Final[int] = 4 << 20
#: The most weight data a manifest may describe, all groups together (MobileNetV1 1.0 in float32
#: with its PoseNet heads is about 14 MB); a manifest asking for more is refused before any download.
MAX_WEIGHTS_BYTES: Final[int] = 256 << 20
#: The longest one file's download may take in all, in seconds, by default
#: (``$PERSON_SEGMENTATION_DOWNLOAD_DEADLINE`` overrides it), however steadily data arrives.
DOWNLOAD_DEADLINE_S: Final[float] = 600.0
#: The most HTTP redirects followed for one file (each to an http or https URL).
MAX_REDIRECTS: Final[int] = 5


# -- video sizes and the command line's output files (issue 16) ---------------------------------
#: The largest width or height :class:`person_segmentation.video.VideoWriter` takes, whatever
#: the codec (OpenCV's FFmpeg MJPEG encoder takes 32768; larger sizes overflow OpenCV's checks).
MAX_VIDEO_SIDE: Final[int] = 16384
#: Codecs with a smaller limit: MPEG-4 Part 2 ("mp4v" and its other tags) stores the frame size
#: in 13-bit fields, so FFmpeg refuses sides above 8191 (8190 when even).
MAX_VIDEO_SIDE_BY_FOURCC: Final[dict[str, int]] = {"mp4v": 8190, "xvid": 8190, "divx": 8190, "dx50": 8190, "fmp4": 8190}
#: What the command line writes into its PNG outputs (a tEXt "Software" chunk) and appends to its
#: MP4 outputs (a top-level ISO BMFF "free" box), so that a re-run into the input folder knows its
#: own earlier outputs from a user's files of the same name.
OUTPUT_MARKER: Final[str] = "person-segmentation"


# -- issue 12 frictions: face blur, stream errors -----------------------------------------------
#: The default blur of ``--effect blur-faces`` (the command line's ``--face-blur``) and of
#: ``render.Renderer(face_blur=...)``: the standard deviation, in pixels, of the Gaussian that
#: blurs the face parts. BodyPix's own ``blurBodyPart`` default (3 px, kept by
#: ``render.blur_body_part``) leaves a face recognisable; at 15 px the eyes, mouth and outline of
#: a face 100-300 px tall are gone (tests/unit/test_render_faces.py measures the detail left).
DEFAULT_FACE_BLUR: Final[float] = 15.0
#: The largest ``--face-blur`` the command line takes (its other blurs stop at 20).
MAX_CLI_FACE_BLUR: Final[float] = 60.0
#: ``segment_stream(on_error=...)``: "raise" (the first unreadable image ends the stream) or
#: "skip" (it is yielded as a ``ps.FailedImage`` in its place and the stream goes on).
OnError = Literal["raise", "skip"]
ON_ERROR_CHOICES: Final[tuple[OnError, ...]] = ("raise", "skip")


# -- drawing poses and people (issue 13) -----------------------------------------------------------
#: Keypoints per BodyPix 2 / PoseNet pose (ids 0 nose ... 16 rightAnkle, BODYPIX2.md section 9).
POSE_NUM_KEYPOINTS: Final[int] = 17
#: The skeleton drawn between a pose's keypoints, as (keypoint id, keypoint id) pairs: PoseNet's
#: and BodyPix 2's ``connectedPartNames`` (``keypoints.js``), in their order: leftHip-leftShoulder,
#: leftElbow-leftShoulder, leftElbow-leftWrist, leftHip-leftKnee, leftKnee-leftAnkle,
#: rightHip-rightShoulder, rightElbow-rightShoulder, rightElbow-rightWrist, rightHip-rightKnee,
#: rightKnee-rightAnkle, leftShoulder-rightShoulder, leftHip-rightHip. (The face keypoints are
#: drawn as points only, as there.)
POSE_SKELETON: Final[tuple[tuple[int, int], ...]] = (
    (11, 5),
    (7, 5),
    (7, 9),
    (11, 13),
    (13, 15),
    (12, 6),
    (8, 6),
    (8, 10),
    (12, 14),
    (14, 16),
    (5, 6),
    (11, 12),
)
#: The default keypoint-score threshold of the pose drawings (BodyPix 2's ``minKeypointScore``
#: default): keypoints and bones with a lower score are not drawn.
DEFAULT_MIN_KEYPOINT_SCORE: Final[float] = 0.3
#: Distinct RGB colours for people, person i taking colour i (d3's category10 without its grey);
#: beyond these, colours continue along the hue circle by the golden angle (render.person_colors).
PERSON_COLORS: Final[tuple[tuple[int, int, int], ...]] = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (188, 189, 34),
    (23, 190, 207),
)
#: The most people one drawing takes (BodyPix 2's largest ``maxDetections`` is unbounded, but a
#: colour table and per-person loop must stay bounded).
MAX_PEOPLE: Final[int] = 1000
#: The largest keypoint radius and line thickness of the pose drawings, in pixels.
MAX_POSE_LINE_WIDTH: Final[int] = 256
#: BodyPix 2's four calls, as ``ray_data.Segmenter(call=...)`` names them.
BODYPIX_CALLS: Final[tuple[str, ...]] = (
    "segment_person",
    "segment_person_parts",
    "segment_multi_person",
    "segment_multi_person_parts",
)


# -- BodyPix 2 heads and the engines (issue 12) -----------------------------------------------
#: The 2.x heads of ``engine.heads()``, concatenated on the channel axis in this order:
#: (weights name under ``MobilenetV1/``, channels). Part heatmaps in the 2.x channel order.
BODYPIX_HEADS: Final[tuple[tuple[str, int], ...]] = (
    ("segment_2", 1),
    ("part_heatmap_2", 24),
    ("heatmap_2", 17),
    ("offset_2", 34),
    ("displacement_fwd_2", 32),
    ("displacement_bwd_2", 32),
    ("embedding_2", 34),
)
#: Channels of the heads array: 1 + 24 + 17 + 34 + 32 + 32 + 34 = 174.
BODYPIX_HEADS_CHANNELS: Final[int] = sum(channels for _, channels in BODYPIX_HEADS)
#: Input sizes of ``engine.heads()`` kept ready per engine (LiteRT interpreters resized to
#: them); the least recently used size beyond these is dropped.
HEADS_SIZE_CACHE: Final[int] = 4
#: The depth multiplier of the bundled model (BodyPix 2 MobileNetV1 0.75 quant2), also what the
#: command line's model options mean when ``--multiplier`` is not given.
BUNDLED_MULTIPLIER: Final[float] = 0.75
#: Output strides converted into the bundled model's LiteRT file (one signature each).
BUNDLED_STRIDES: Final[tuple[int, ...]] = (8, 16)


# -- BodyPix 2 API (issue 13: person_segmentation.bodypix; spec BODYPIX2.md) ----------------------
#: Depth multipliers Google publishes BodyPix 2 MobileNetV1 models for (spec section 1).
BODYPIX_MULTIPLIERS: Final[tuple[float, ...]] = (0.5, 0.75, 1.0)
#: Bytes per stored weight: 4 = ``float/``, 2 = ``quant2/`` (uint16), 1 = ``quant1/`` (uint8).
BODYPIX_QUANT_BYTES: Final[tuple[int, ...]] = (1, 2, 4)
#: The folder of each ``quant_bytes`` in the official layout.
BODYPIX_QUANT_FOLDERS: Final[dict[int, str]] = {4: "float", 2: "quant2", 1: "quant1"}
#: Output strides with a published MobileNet ``model-stride*.json`` (BodyPix 2 also validates
#: 32, for which no file exists).
BODYPIX_OUTPUT_STRIDES: Final[tuple[int, ...]] = (8, 16)
#: The official models' folder below :data:`person_segmentation.OFFICIAL_BASE_URL`.
BODYPIX_MODELS_PATH: Final[str] = "bodypix/mobilenet"
#: ``internal_resolution`` names and the fraction of the image size each means (spec section 4).
BODYPIX_INTERNAL_RESOLUTIONS: Final[dict[str, float]] = {"low": 0.25, "medium": 0.5, "high": 0.75, "full": 1.0}
#: The range of a numeric ``internal_resolution``.
BODYPIX_MIN_INTERNAL_RESOLUTION: Final[float] = 0.1
BODYPIX_MAX_INTERNAL_RESOLUTION: Final[float] = 2.0
#: The most long-offset refinement steps of the instance decoder (BodyPix 2 validates 0 < n <= 20).
BODYPIX_MAX_REFINE_STEPS: Final[int] = 20
#: The 17 pose keypoints, id = index (spec section 9; PoseNet's names).
BODYPIX_KEYPOINT_NAMES: Final[tuple[str, ...]] = (
    "nose",
    "leftEye",
    "rightEye",
    "leftEar",
    "rightEar",
    "leftShoulder",
    "rightShoulder",
    "leftElbow",
    "rightElbow",
    "leftWrist",
    "rightWrist",
    "leftHip",
    "rightHip",
    "leftKnee",
    "rightKnee",
    "leftAnkle",
    "rightAnkle",
)


# -- the HTTP server (issue 15: person-segmentation serve) ---------------------------------------
#: Inferences run at once per server process (threads sharing the one loaded model).
SERVE_DEFAULT_THREADS: Final[int] = 2
#: Requests that may wait for an inference thread; beyond threads + queue: 503 + Retry-After.
SERVE_DEFAULT_QUEUE: Final[int] = 8
#: The largest image accepted by the server, in pixels (width x height): 25 megapixels, as a
#: 6000 x 4000 photo; larger (and decompression bombs) get 413 before any pixel is decoded.
SERVE_DEFAULT_MAX_PIXELS: Final[int] = 25_000_000
#: The largest request body accepted, in bytes (20 MiB); checked while it streams in.
SERVE_DEFAULT_MAX_BODY: Final[int] = 20 * 1024 * 1024
#: What ``POST /api/segment?output=...`` returns.
SERVE_OUTPUTS: Final[tuple[str, ...]] = (
    "mask",
    "probability",
    "parts",
    "people",
    "poses",
    "json",
    "bokeh",
    "replace",
    "blur-faces",
    "parts-overlay",
)
#: Image formats of the server's responses (``format=``), with their media types.
SERVE_FORMATS: Final[dict[str, str]] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

# -- accuracy metrics, soft masks and the eval command (issue 12) -------------------------------
#: Ground-truth encodings :mod:`person_segmentation.metrics` reads (``golden2/index.json``'s
#: ``gt_encoding`` values, plus ``"auto"``: guessed from the file).
GT_ENCODINGS: Final[tuple[str, ...]] = ("auto", "binary255", "voc", "alpha", "parsing")
#: The VOC class id of a person, and VOC's void label (pixels ignored by every metric).
GT_VOC_PERSON: Final[int] = 15
GT_VOC_VOID: Final[int] = 255
#: A matte's alpha at or above this is a person.
GT_ALPHA_THRESHOLD: Final[int] = 128
#: The boundary F-score's matching distance as a fraction of the image diagonal (DAVIS' bound_th).
BOUNDARY_TOLERANCE: Final[float] = 0.008
#: The mask geometries of ``person-segmentation eval``: "v0" (the v0.0.x 353 x 257 resize-and-pad
#: pipeline of ``ps.load``) and "bodypix" (BodyPix 2's internal resolution and padding, issue 13).
EVAL_GEOMETRIES: Final[tuple[str, ...]] = ("v0", "bodypix")
#: Edge refinements of the soft masks (``refine=``): none, or the guided filter (He et al.).
REFINEMENTS: Final[tuple[str, ...]] = ("none", "guided")
#: The guided filter's window radius as a fraction of the image diagonal (rounded, at least 1
#: pixel: 24 px for 640 x 480; about the width of the probability's ramp after the scale-back),
#: and its regularisation epsilon (on 0..1 colour values). Chosen on the shared photos
#: (docs/accuracy.md): 8 or 16 fixed pixels help less; 32 fixed pixels hurt small crops.
GUIDED_RADIUS_FRACTION: Final[float] = 0.03
GUIDED_EPS: Final[float] = 1e-3
#: The fast guided filter's subsampling factor (coefficients fitted at 1/4 of the resolution).
GUIDED_SUBSAMPLE: Final[int] = 4
#: The ``refine=`` values, as a type.
Refinement = Literal["none", "guided"]


# -- Ray Data: the person probability column (issue 12) ---------------------------------------
#: The calls of ``ray_data.Segmenter(call=...)`` that give a person probability (None, the
#: v0.0.x estimates, gives one too); the multi-person calls have none per person.
RAY_PROBABILITY_CALLS: Final[tuple[str, ...]] = ("segment_person", "segment_person_parts")
#: ``ray_data.Segmenter``'s default probability column, and the kind in the names of
#: ``segment_dataset``'s probability files (``<name>.probability.png`` / ``.npy``).
RAY_PROBABILITY_COLUMN: Final[str] = "probability"
