"""``segment --people`` and ``segment --primary-person``: the BodyPix 2 multi-person calls.

``--people`` writes, per image, one mask (or, with ``--parts``, one part map) per person and an
overlay with every person's mask in a colour of its own and their pose skeletons in the same
colour. ``--primary-person`` keeps only the person with the largest mask (ties: the first in
BodyPix 2's order) and then writes what ``segment`` writes for one mask: the mask, the part map
or the effect, for images and videos.

File names, for an input ``<stem>.jpg`` (``-o`` a directory): the overlay ``<stem>.people.png``
and the people ``<stem>.person-<k>.mask.png`` (``.parts.png`` with ``--parts``), ``k`` = 1, 2, ...
in BodyPix 2's order of people (``people[k - 1]``). Where ``-o`` names the overlay file, the
people are named after it: ``-o group.png`` gives ``group.person-1.mask.png``, ...

Imports nothing heavy at module level (the ``--help`` of the command stays fast).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from person_segmentation._constants import BODYPIX_QUANT_BYTES
from person_segmentation.cli._common import UsageError, multiplier_of
from person_segmentation.cli._outputs import Outputs, is_own_output, png_is_marked, save_image

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

#: The label (``<stem>.<label>.png``) of the overlay of ``--people``.
PEOPLE_LABEL = "people"
_PERSON_FILE = re.compile(r".+\.person-[1-9][0-9]*\.(mask|parts)\.png")


def add_options(parser: argparse.ArgumentParser) -> None:
    """The ``--people`` / ``--primary-person`` options (mutually exclusive)."""
    group = parser.add_argument_group(
        "many people (BodyPix 2 model)",
        "These use the BodyPix 2 model (default: the 0.75 quant2 model bundled with the package; "
        "--multiplier, --output-stride, --quant-bytes and --weights (a 2.x model-stride*.json) choose another). "
        "--threshold applies as the BodyPix 2 segmentation threshold (default 0.5 here, 0.7 in BodyPix 2).",
    )
    people = group.add_mutually_exclusive_group()
    people.add_argument(
        "--people",
        action="store_true",
        help="images: one mask (or --parts map) per person, <stem>.person-<k>.mask.png (k = 1, 2, ...), and an "
        "overlay <stem>.people.png with each person in a colour of its own and their pose skeletons (no --effect)",
    )
    people.add_argument(
        "--primary-person",
        action="store_true",
        help="keep only the person with the largest mask (e.g. the one in front of a video call); masks, "
        "--parts and every --effect then show that person only; images and videos",
    )
    group.add_argument(
        "--quant-bytes",
        type=int,
        choices=BODYPIX_QUANT_BYTES,
        default=2,
        help="quantization of the BodyPix 2 weights when they are downloaded (default 2, the bundled model's)",
    )


def is_own_people_output(path: Path, label: str) -> bool:
    """``_plan``'s test of this command's earlier outputs, extended to the people files."""
    return is_own_output(path, label) or (_PERSON_FILE.fullmatch(path.name) is not None and png_is_marked(path))


def person_path(target: Path, k: int, kind: str) -> Path:
    """Where person ``k`` (1-based) of the overlay ``target`` goes (see the module's names)."""
    name = target.name
    suffix = f".{PEOPLE_LABEL}.png"
    base = name[: -len(suffix)] if name.endswith(suffix) else target.stem
    return target.with_name(f"{base}.person-{k}.{kind}.png")


def load_bodypix(args: argparse.Namespace) -> Any:
    """The BodyPix 2 model the options ask for; a UsageError when it cannot be loaded."""
    from person_segmentation import bodypix

    try:
        return bodypix.load(
            multiplier_of(args),
            output_stride=args.output_stride,
            quant_bytes=args.quant_bytes,
            model_url=args.weights,
            engine=args.engine,
        )
    except (ValueError, OSError, RuntimeError) as exc:
        raise UsageError(f"cannot load the BodyPix 2 model: {exc}") from exc


@dataclass
class People:
    """What the multi-person call gave for one frame: the people (BodyPix 2's objects, each
    with ``.pose`` and ``.mask`` or ``.parts``)."""

    people: list[Any]
    parts: bool


class PeopleSegmenter:
    """BodyPix 2's multi-person calls on one frame, with the command's options. ``--flip``: the
    frame is mirrored before the network and the results mirrored back (BodyPix 2's
    ``flip_horizontal``), so they line up with the input as in the rest of the command."""

    def __init__(self, net: Any, args: argparse.Namespace) -> None:
        self._net = net
        self._flip = bool(args.flip)
        self._threshold = float(args.threshold)

    def __call__(self, pixels: np.ndarray, parts: bool) -> People:
        call = self._net.segment_multi_person_parts if parts else self._net.segment_multi_person
        frame = pixels[:, ::-1] if self._flip else pixels
        people = call(frame, flip_horizontal=self._flip, segmentation_threshold=self._threshold)
        return People(list(people), parts)


def person_mask(person: Any) -> np.ndarray:
    """A person's uint8 0/1 mask (from ``.mask``, or ``.parts >= 0``)."""
    import numpy as np

    mask = getattr(person, "mask", None)
    if mask is None:
        mask = person.parts >= 0
    return np.asarray(mask).astype(np.uint8)


def primary(found: People, height: int, width: int) -> tuple[np.ndarray, np.ndarray | None]:
    """The largest person's (mask, parts or None); nobody: an empty mask (and all -1 parts)."""
    import numpy as np

    masks = [person_mask(p) for p in found.people]
    if not masks:
        mask = np.zeros((height, width), dtype=np.uint8)
        return mask, (np.full((height, width), -1, dtype=np.int32) if found.parts else None)
    index = int(np.argmax([np.count_nonzero(m) for m in masks]))  # argmax: the first of equal areas
    parts = np.asarray(found.people[index].parts, dtype=np.int32) if found.parts else None
    return masks[index], parts


def write_people(
    pixels: np.ndarray,
    found: People,
    target: Path,
    args: argparse.Namespace,
    outputs: Outputs,
    protected: set[tuple[int, int]],
) -> list[Path]:
    """Write the people files and the overlay of one image; returns the people files written.
    A person file whose name is an input's (``protected``: their (device, inode)) is refused."""
    import PIL.Image

    from person_segmentation import render
    from person_segmentation.cli._plan import identity
    from person_segmentation.encode import mask_to_image, palette_colors, parts_to_image

    kind = "parts" if found.parts else "mask"
    masks = [person_mask(p) for p in found.people]
    written: list[Path] = []
    for k, (person, mask) in enumerate(zip(found.people, masks), start=1):
        path = person_path(target, k, kind)
        if identity(path) in protected:
            raise ValueError(f"not writing {path}: it is an input")
        if found.parts:
            image = parts_to_image(person.parts, palette_colors(args.palette))
        else:
            image = mask_to_image(mask)
        save_image(image, path, outputs)
        written.append(path)
    overlay = render.draw_people(pixels, masks, poses=[p.pose for p in found.people], opacity=args.opacity)
    save_image(PIL.Image.fromarray(overlay), target, outputs)
    return written
