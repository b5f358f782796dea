"""From a :class:`~person_segmentation.serve._model.Segmentation` to what an output returns:
an image (drawn with :mod:`person_segmentation.render`) or the JSON document."""

from __future__ import annotations

from typing import Any

import numpy as np
import PIL.Image

from person_segmentation import render
from person_segmentation.encode import mask_to_image, palette_colors, parts_to_image, probability_to_image
from person_segmentation.serve._model import Segmentation
from person_segmentation.serve._options import SegmentOptions

#: Value of "nobody" in the ``people`` label image.
NOBODY = 255


def _pose_json(pose: Any) -> dict[str, Any]:
    return {
        "score": round(float(pose.score), 5),
        "keypoints": [
            {"part": k.part, "score": round(float(k.score), 5), "x": round(float(k.x), 2), "y": round(float(k.y), 2)}
            for k in pose.keypoints
        ],
    }


def _box(mask: np.ndarray) -> list[int] | None:
    """``[x0, y0, x1, y1]`` (inclusive-exclusive) of a mask's pixels, None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return [int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1]


def document(seg: Segmentation, height: int, width: int) -> dict[str, Any]:
    """The ``output=json`` document (timings are added by the caller)."""
    people = []
    for i, person in enumerate(seg.people or []):
        people.append(
            {
                "id": i,
                "box": _box(person.mask),
                "pixels": int(np.count_nonzero(person.mask)),
                "score": round(float(person.pose.score), 5),
                "pose": _pose_json(person.pose),
            }
        )
    return {
        "width": width,
        "height": height,
        "person_pixels": int(np.count_nonzero(seg.mask)),
        "box": _box(seg.mask),
        "people": people,
        "poses": [_pose_json(p) for p in seg.poses],
    }


def people_labels(seg: Segmentation, height: int, width: int) -> PIL.Image.Image:
    """A palette image: pixel value = person index (``NOBODY`` = 255 where there is nobody),
    coloured with :func:`render.person_colors`."""
    people = seg.people or []
    labels = np.full((height, width), NOBODY, dtype=np.uint8)
    for i, person in enumerate(people[:NOBODY]):
        labels[person.mask.astype(bool)] = i
    image = PIL.Image.fromarray(labels, mode="P")
    colors = render.person_colors(min(len(people), NOBODY)).tolist()
    palette = [c for rgb in colors for c in rgb]
    palette += [0, 0, 0] * (256 - len(colors))
    image.putpalette(palette)
    return image


def draw(
    frame: np.ndarray, seg: Segmentation, o: SegmentOptions, *, people_overlay: bool = False
) -> np.ndarray | PIL.Image.Image:
    """The image of an image output (every output but ``json``). ``people`` is the label image
    (:func:`people_labels`), or with ``people_overlay`` (the demo) the people drawn over the
    frame in their colours with their skeletons (:func:`render.draw_people`)."""
    output = o.output
    if output == "mask":
        return mask_to_image(seg.mask)
    if output == "probability":
        assert seg.probability is not None
        return probability_to_image(seg.probability)
    if output == "parts":
        assert seg.parts is not None
        return parts_to_image(seg.parts, palette_colors(o.palette))
    if output == "people":
        if not people_overlay:
            return people_labels(seg, frame.shape[0], frame.shape[1])
        return render.draw_people(frame, seg.people, opacity=o.opacity) if seg.people else frame
    if output == "poses":
        return render.draw_poses(frame, seg.poses) if seg.poses else frame
    if output == "bokeh":
        return render.draw_bokeh_effect(
            frame, seg.mask, background_blur_amount=o.background_blur, edge_blur_amount=o.edge_blur
        )
    if output == "replace":
        return render.replace_background(frame, seg.mask, o.background_rgb, edge_blur_amount=o.edge_blur)
    if output == "blur-faces":
        assert seg.parts is not None
        return render.blur_body_part(
            frame, seg.parts, part_ids=(0, 1), background_blur_amount=o.face_blur, edge_blur_amount=o.edge_blur
        )
    if output == "parts-overlay":
        assert seg.parts is not None
        colored = render.to_colored_part_image(seg.parts, palette=o.palette, background_alpha=0)
        return render.draw_mask(frame, colored, opacity=o.opacity)
    raise AssertionError(output)  # pragma: no cover


def replace_with_image(frame: np.ndarray, seg: Segmentation, background: np.ndarray, o: SegmentOptions) -> np.ndarray:
    """``replace`` over an uploaded background image (scaled to cover the frame)."""
    covered = render.cover(background, frame.shape[0], frame.shape[1])
    return render.replace_background(frame, seg.mask, covered, edge_blur_amount=o.edge_blur)
