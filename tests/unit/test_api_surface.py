"""The public API surface, snapshotted (after kornia's ``api_surface`` test): the public names of
each public module. A change here must be on purpose: update the snapshot in the same commit
and say so in its message."""

from __future__ import annotations

import importlib
import inspect

import pytest

SURFACE: dict[str, list[str]] = {
    "person_segmentation": [
        "FailedImage",
        "Logits",
        "MAX_IMAGE_SIDE",
        "MODEL_INPUT_SIZE",
        "MULTIPLIERS",
        "NUM_PARTS",
        "OFFICIAL_BASE_URL",
        "OUTPUT_STRIDES",
        "PART_CHANNELS",
        "PersonSegmentation",
        "PersonSegmentationResult",
        "ResizePadGeometry",
        "WeightsError",
        "__version__",
        "build_info",
        "bundled_model",
        "compute_geometry",
        "default_cache_dir",
        "load",
        "part_name",
        "part_segmentation_from_logits",
        "person_mask_from_logits",
        "person_probability_from_logits",
        "swap_left_right",
    ],
    "person_segmentation.bodypix": [
        "BodyPix",
        "KEYPOINT_NAMES",
        "Keypoint",
        "PART_CHANNELS",
        "PartInstance",
        "PersonInstance",
        "Pose",
        "SemanticPartSegmentation",
        "SemanticPersonSegmentation",
        "load",
    ],
    "person_segmentation.cli": ["main"],
    "person_segmentation.encode": [
        "IMAGE_EXTENSIONS",
        "RAINBOW",
        "VIDEO_EXTENSIONS",
        "VIDEO_OUTPUT_EXTENSIONS",
        "mask_to_image",
        "palette_colors",
        "parts_to_image",
        "probability_to_image",
        "probability_to_uint8",
    ],
    "person_segmentation.metrics": [
        "BOUNDARY_TOLERANCE",
        "BoundaryScore",
        "GT_ENCODINGS",
        "GroundTruth",
        "MaskScore",
        "boundary_f_score",
        "boundary_tolerance_pixels",
        "ground_truth_from_array",
        "mask_boundary",
        "person_iou",
        "read_ground_truth",
        "score_mask",
    ],
    "person_segmentation.ray_data": [
        "CALLS_PER_ACTOR",
        "FORMATS",
        "SegmentResult",
        "Segmenter",
        "actor_pool",
        "segment_dataset",
    ],
    "person_segmentation.render": [
        "EFFECTS",
        "Effect",
        "MAX_BLUR_AMOUNT",
        "MAX_PEOPLE",
        "MAX_PIXEL_CELL_WIDTH",
        "PALETTES",
        "PERSON_COLORS",
        "POSE_SKELETON",
        "Renderer",
        "blur_body_part",
        "blur_radius",
        "cover",
        "draw_bokeh_effect",
        "draw_keypoints",
        "draw_mask",
        "draw_people",
        "draw_pixelated_mask",
        "draw_poses",
        "draw_skeleton",
        "person_colors",
        "replace_background",
        "soft_alpha",
        "to_colored_part_image",
        "to_colored_people_image",
        "to_mask_image",
    ],
    "person_segmentation.video": [
        "DEFAULT_SMOOTHING",
        "FOURCC_BY_EXTENSION",
        "FrameResult",
        "VideoError",
        "VideoFrames",
        "VideoInfo",
        "VideoNotFoundError",
        "VideoSegmenter",
        "VideoWriter",
        "flicker",
        "read_video",
        "video_info",
    ],
}

#: The public methods and properties of the model object.
MODEL_METHODS = [
    "estimate_logits",
    "estimate_part_segmentation",
    "estimate_part_segmentation_batch",
    "estimate_person_probability",
    "estimate_person_segmentation",
    "estimate_person_segmentation_batch",
    "preprocess",
    "run_network",
    "segment",
    "segment_stream",
    "threads_per_worker",
]


#: The public methods and attributes of the BodyPix 2 model object (issue 13).
BODYPIX_METHODS = [
    "segment_multi_person",
    "segment_multi_person_parts",
    "segment_person",
    "segment_person_parts",
    "segment_stream",
]


@pytest.mark.parametrize("module", sorted(SURFACE))
def test_public_names_of_each_module(module: str) -> None:
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == SURFACE[module]
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.__all__ names {name!r}, which does not exist"


@pytest.mark.parametrize("module", sorted(SURFACE))
def test_everything_public_defined_in_a_module_is_in_its_all(module: str) -> None:
    """A public function or class defined in a module (not imported into it) is listed."""
    mod = importlib.import_module(module)
    defined = {
        name
        for name, value in vars(mod).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and getattr(value, "__module__", None) == module
    }
    assert defined <= set(mod.__all__), sorted(defined - set(mod.__all__))


def test_model_methods() -> None:
    import person_segmentation as ps

    assert sorted(n for n in dir(ps.PersonSegmentation) if not n.startswith("_")) == MODEL_METHODS


def test_bodypix_model_methods() -> None:
    from person_segmentation import bodypix

    assert sorted(n for n in dir(bodypix.BodyPix) if not n.startswith("_")) == BODYPIX_METHODS
