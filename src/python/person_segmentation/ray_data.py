"""Scale-out with Ray Data (the optional extra ``pip install "person-segmentation[ray]"``).

Two entry points:

- :class:`Segmenter`, a callable class for ``Dataset.map_batches``: each Ray actor loads the
  network once, in its constructor, then adds a mask column to every batch it is given.
- :func:`segment_dataset`: reads images from local paths or URIs (anything ``pyarrow.fs``
  opens: ``s3://``, ``gs://``, ``hdfs://``, ``file://``), segments them on a pool of such
  actors and writes one PNG or ``.npy`` file per image.

and :func:`actor_pool`, the ``compute`` strategy that suits :class:`Segmenter`.

Results are exactly those of the local API: image files are decoded as
``person_segmentation``'s own reader does (PIL, EXIF orientation applied, RGB) and each image
goes through ``net.estimate_person_segmentation`` / ``net.estimate_part_segmentation`` with
the same arguments (with ``probability=True``, also the person probability of the same
pass, as ``net.segment`` gives it). See ``docs/ray.md`` for clusters and GPU workers.

Importing this module does not need Ray; :func:`segment_dataset` and :func:`actor_pool` raise
an ImportError that names the extra when Ray Data is missing. :class:`Segmenter` itself never imports Ray.

Why one module (about 830 lines): the optional Ray extra is one public entry point that
must stay importable without Ray; keeping the actor classes, the file planning and
:func:`segment_dataset` together keeps all Ray-specific code out of the rest of the package.
"""

from __future__ import annotations

import inspect
import io
import math
import os
import posixpath
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union, cast

import numpy as np

from person_segmentation import _checks, _pipeline
from person_segmentation._api import PersonSegmentation, load
from person_segmentation._constants import (
    BODYPIX_CALLS,
    DEFAULT_WORKERS,
    ENGINES,
    POSE_NUM_KEYPOINTS,
    RAY_PROBABILITY_COLUMN,
)
from person_segmentation._image import decode_image_bytes, read_image
from person_segmentation.encode import IMAGE_EXTENSIONS, mask_to_image, parts_to_image, probability_to_image

if TYPE_CHECKING:
    import pyarrow.fs

__all__ = ["CALLS_PER_ACTOR", "FORMATS", "SegmentResult", "Segmenter", "actor_pool", "segment_dataset"]

#: Output formats of :func:`segment_dataset`.
OutputFormat = Literal["png", "npy"]
FORMATS: tuple[OutputFormat, ...] = ("png", "npy")

PathLike = Union[str, "os.PathLike[str]"]
_INSTALL_HINT = 'pip install "person-segmentation[ray]"'
#: Per-row failures recorded (not raised) when an error column is set: unreadable or
#: invalid images, missing files.
_ROW_ERRORS = (ValueError, TypeError, OSError)


# -- argument checks (shared by Segmenter and segment_dataset) ---------------------------------
def _check_weights(value: object) -> str | None:
    """None, a URL (kept as it is) or a local path (made absolute: workers may run elsewhere)."""
    text = _checks.check_path_or_url(value, "weights")
    if text is None:
        return None
    return text if "://" in text else os.path.abspath(text)


def _check_amount(value: object, name: str) -> float:
    return _checks.check_real(value, name, 0.0)


class Segmenter:
    """Callable class for ``ray.data.Dataset.map_batches``: loads the network once per actor.

    Example (a fixed pool of two actors, 50 images per call)::

        ds = ray.data.read_binary_files("s3://bucket/photos", include_paths=True)
        ds = ds.map_batches(
            Segmenter,
            fn_constructor_kwargs={"multiplier": 0.5, "image_column": "bytes"},
            compute=actor_pool(2),  # or ray.data.ActorPoolStrategy(size=2, max_concurrent_calls_per_actor=2)
            batch_size=50,
        )

    :func:`actor_pool` sets ``max_concurrent_calls_per_actor=2`` (where your Ray has it), so
    Ray batches the next input while the actor segments; the segmentation still runs one call
    at a time (unless you also set ``enable_true_multi_threading``, which works too: the network
    is thread-safe, but the calls then share the cores).

    Each element of the image column may be a numpy image (anything
    ``estimate_person_segmentation`` takes: uint8 (H, W, 3) RGB, grayscale, RGBA, ...), the
    ``bytes`` of an encoded image file (e.g. from ``ray.data.read_binary_files``), or a local
    file path (``str``). Images go through ``net.segment_stream`` (decoding, network and
    post-processing overlapped; paths are decoded on its threads, bytes on ``decode_threads``
    threads ahead of it), both decoded like ``person_segmentation``'s reader (EXIF orientation
    applied). The column may be a (N, H, W, C) array, a 1-D object array or a list.

    The batch is returned with every input column plus ``mask_column``: a 1-D object array of
    N arrays, uint8 (H, W) 0/1 masks, or int32 (H, W) part ids -1..23 with ``parts=True``,
    each the size of its image and equal to what ``net.estimate_person_segmentation`` /
    ``net.estimate_part_segmentation`` return for it. With ``probability=True`` it also has
    ``probability_column``: float32 (H, W) person probabilities in [0, 1], from the same
    native pass as the mask (``net.segment(...).probability``; ``probability >
    segmentation_threshold`` is the mask).

    Args:
        multiplier, weights, engine, num_threads: passed to :func:`person_segmentation.load`
            in each actor. A local ``weights`` path is made absolute; on a cluster it must exist
            on every node (or give a URL). ``engine="auto"`` picks TensorFlow on GPU workers.
        parts: body parts instead of the person mask.
        flip_horizontal, output_stride, segmentation_threshold: as for the local estimates.
        image_column: the input column.
        mask_column: the output column (default ``"parts"`` if ``parts`` else ``"mask"``).
        error_column: None (default): a bad image fails the batch (and so the job). A name:
            failures (unreadable or invalid images) are recorded there instead, as a message
            per row ("" = fine), the mask being an empty (0, 0) array; rows arriving with a
            non-empty message in that column (e.g. from a reading step) are passed over.
        decode_threads: threads decoding ``bytes`` (or reading files) ahead of the stream.
        call: None (default): the v0.0.x estimates above. Or one of BodyPix 2's calls,
            ``"segment_person"``, ``"segment_person_parts"``, ``"segment_multi_person"``,
            ``"segment_multi_person_parts"``: each actor loads ``bodypix.load(multiplier,
            output_stride=..., quant_bytes=..., model_url=weights, engine=..., num_threads=...)``
            (no ``weights`` and the defaults: the bundled 0.75 quant2 model) and each row gets
            that call's result (``parts`` is then ignored: the call says what it returns):

            * ``mask_column`` (default ``"mask"``, ``"parts"``, ``"masks"``, ``"person_parts"``
              for the four calls): uint8 (H, W) 0/1 / int32 (H, W) -1..23 (BodyPix 2's part
              ids) for the single-person calls; for the multi-person calls one layer per person
              in BodyPix 2's order, uint8 (n, H, W) 0/1 / int32 (n, H, W) -1..23;
            * ``poses_column`` (``"poses"``): float64 (n, 17, 3) of [y, x, score] per keypoint in
              image pixels (``seg.all_poses`` for the single-person calls, each person's
              ``.pose`` for the multi-person ones), and ``"<poses_column>_scores"``: float64
              (n,) pose scores.

            An image that fails (with ``error_column``) gets (0, 0) / (0, 0, 0) arrays and
            (0, 17, 3) / (0,) poses.
        quant_bytes: BodyPix 2 weights to download (1, 2 or 4) when ``call`` is set.
        call_options: more keyword arguments of the BodyPix 2 call (``internal_resolution``,
            ``max_detections``, ``score_threshold``, ``nms_radius``, ``min_keypoint_score``,
            ``refine_steps``); checked at construction.
        poses_column: the poses' column with ``call`` (its scores: ``<poses_column>_scores``).
        probability: also add the person probability (float32 (H, W) in [0, 1]) of each row:
            ``net.segment(image, ...).probability`` for the v0.0.x estimates, the result's
            ``.probability`` for ``call="segment_person"`` / ``"segment_person_parts"``
            (exactly; a failed row gets a (0, 0) array). A ValueError for the multi-person
            calls, which have no probability per person.
        probability_column: its column (default ``"probability"``).
    Raises:
        TypeError, ValueError: for a bad argument (the message names it), at construction.
    """

    def __init__(
        self,
        multiplier: float = 0.75,
        *,
        weights: PathLike | None = None,
        engine: str = "auto",
        parts: bool = False,
        flip_horizontal: bool = False,
        output_stride: int = 16,
        segmentation_threshold: float | None = None,
        image_column: str = "image",
        mask_column: str | None = None,
        error_column: str | None = None,
        num_threads: int | None = None,
        decode_threads: int = 2,
        call: str | None = None,
        quant_bytes: int = 2,
        call_options: dict[str, Any] | None = None,
        poses_column: str = "poses",
        probability: bool = False,
        probability_column: str = RAY_PROBABILITY_COLUMN,
    ) -> None:
        self.call = None if call is None else _checks.check_choice(call, "call", BODYPIX_CALLS)
        self.probability = _checks.check_ray_probability(probability, self.call)
        self.parts = _checks.check_bool(parts, "parts")
        self.flip_horizontal = _checks.check_bool(flip_horizontal, "flip_horizontal")
        self.output_stride = _checks.check_output_stride(output_stride)
        # None: each model's own default (0.5 for the v0.0.x estimates, BodyPix 2's 0.7 for a call)
        self.segmentation_threshold = (
            None if segmentation_threshold is None else _checks.check_threshold(segmentation_threshold)
        )
        self.image_column = _checks.check_name(image_column, "image_column")
        self.poses_column = _checks.check_name(poses_column, "poses_column")
        self.error_column = None if error_column is None else _checks.check_name(error_column, "error_column")
        self._call_options = _checks.check_call_options(call_options)
        if self.call is not None:
            self.parts = self.call.endswith("_parts")
        multi = self.call is not None and "multi" in self.call
        default_column = _default_column(self.call, self.parts)
        self.mask_column = default_column if mask_column is None else _checks.check_name(mask_column, "mask_column")
        taken = {"mask_column": self.mask_column, "error_column": self.error_column}
        if self.call is not None:
            taken["poses_column"] = self.poses_column
        # a clash only matters when the column is made
        self.probability_column = _checks.check_distinct_column(
            probability_column, "probability_column", taken if self.probability else {}
        )
        self._empty = np.zeros((0, 0, 0) if multi else (0, 0), np.int32 if self.parts else np.uint8)
        self._pool = ThreadPoolExecutor(
            _checks.check_int(decode_threads, "decode_threads", 1), "person-segmentation-io"
        )
        multiplier = _checks.check_multiplier(multiplier)
        engine = _checks.check_choice(engine, "engine", ENGINES)
        self.bodypix: Any = None
        quant_bytes = _checks.check_quant_bytes(quant_bytes)
        if self.call is not None:
            from person_segmentation import bodypix

            self.bodypix = bodypix.load(
                multiplier,
                output_stride=self.output_stride,
                quant_bytes=quant_bytes,
                model_url=_check_weights(weights),
                engine=engine,
                num_threads=num_threads,
            )
            # The options are checked now, not at the first batch (an empty stream checks them all).
            self.bodypix.segment_stream([], call=self.call, **self._options())
            return
        self.net: PersonSegmentation = load(
            multiplier, weights=_check_weights(weights), engine=engine, num_threads=num_threads
        )

    def _options(self) -> dict[str, Any]:
        """The keyword options of the BodyPix 2 call."""
        options = dict(self._call_options, flip_horizontal=self.flip_horizontal)
        if self.segmentation_threshold is not None:
            options["segmentation_threshold"] = self.segmentation_threshold
        return options

    def _run_call(self, image: object) -> tuple[np.ndarray, ...]:
        """The BodyPix 2 call on one image -> (mask/parts array, poses (n, 17, 3), scores (n,)),
        and the probability (H, W) last with ``probability``."""
        assert self.call is not None
        if isinstance(image, (str, os.PathLike)):
            image = read_image(image)  # here, on the stream's thread, as segment_stream decodes paths
        result = getattr(self.bodypix, self.call)(image, **self._options())
        if "multi" in self.call:
            people = list(result)
            layers = [np.asarray(p.parts if self.parts else p.mask) for p in people]
            if layers:
                stacked = np.stack(layers)
            else:
                height, width = np.asarray(image).shape[:2]
                stacked = np.zeros((0, height, width), np.int32 if self.parts else np.uint8)
            poses = [p.pose for p in people]
            return stacked.astype(np.int32 if self.parts else np.uint8, copy=False), *_pose_arrays(poses)
        array = np.asarray(result.parts if self.parts else result.mask)
        if self.probability:
            return array, *_pose_arrays(result.all_poses), np.asarray(result.probability)
        return array, *_pose_arrays(result.all_poses)

    # -- one image ----------------------------------------------------------------------------
    def _source(self, item: object) -> object:
        """One element of the image column -> what ``segment_stream`` is given for it: arrays
        and local paths as they are (the stream decodes paths on its own threads), encoded
        bytes decoded here."""
        if isinstance(item, (bytes, bytearray, memoryview)):
            return decode_image_bytes(bytes(item))
        return item

    def _prepared(self, item: object) -> object:
        """:meth:`_source`, or (with an error column) the exception it raised."""
        try:
            return self._source(item)
        except _ROW_ERRORS as exc:
            if self.error_column is None:
                raise
            return exc

    # -- a batch ------------------------------------------------------------------------------
    def segment(
        self, items: Sequence[object], on_mask: Callable[[int, Any], None] | None = None
    ) -> tuple[list[Any], list[str]]:
        """Segment a sequence of images (column elements; None = pass over), pipelined with
        ``net.segment_stream``; ``on_mask(i, result)`` is called as each result arrives.

        Returns:
            ``(results, errors)``, both of ``len(items)``: a result per item and a message per
            item ("" = fine). A result is the mask, or (with ``call`` or ``probability``) a
            tuple whose first element is the mask and, with ``probability``, whose last is the
            probability; an empty (0, 0) array where there is none.
        """
        masks: list[Any] = [self._empty] * len(items)
        errors = [""] * len(items)
        todo = [i for i, item in enumerate(items) if item is not None]
        while todo:
            fed: list[int] = []  # rows given to the stream, in order

            def sources(rows: list[int] = todo, fed: list[int] = fed) -> Iterator[object]:
                for i, source in zip(rows, self._pool.map(self._prepared, [items[i] for i in rows])):
                    if isinstance(source, Exception):
                        errors[i] = str(source)
                    else:
                        fed.append(i)
                        yield source

            done = 0
            try:
                for mask in self._stream(sources()):
                    masks[fed[done]] = mask
                    if on_mask is not None:
                        on_mask(fed[done], mask)
                    done += 1
                break
            except _ROW_ERRORS as exc:
                if self.error_column is None or done >= len(fed):
                    raise
                # The stream stops at a bad image, after yielding the results before it:
                # record it and go on with the rows after it.
                bad = fed[done]
                errors[bad] = str(exc)
                todo = [i for i in todo if i > bad and not errors[i]]
        return masks, errors

    def _stream(self, sources: Iterator[object]) -> Iterator[Any]:
        """The results of ``sources`` in order, pipelined: ``net.segment_stream`` for the v0.0.x
        estimates; the BodyPix 2 call on ``DEFAULT_WORKERS`` threads (paths decoded there too)."""
        if self.call is not None:
            return _pipeline.ordered_map(self._run_call, sources, workers=DEFAULT_WORKERS, window=2 * DEFAULT_WORKERS)
        options: dict[str, Any] = {
            "parts": self.parts,
            "flip_horizontal": self.flip_horizontal,
            "output_stride": self.output_stride,
            "segmentation_threshold": 0.5 if self.segmentation_threshold is None else self.segmentation_threshold,
        }
        if not self.probability:
            return self.net.segment_stream(sources, **options)
        # The mask (or parts) and the probability of one native pass (PersonSegmentation.segment).
        # (on_error="raise": no FailedImage comes)
        results: Iterator[Any] = self.net.segment_stream(sources, results=True, **options)
        return ((r.parts if self.parts else r.mask, r.probability) for r in results)

    def _column_items(self, batch: dict[str, Any]) -> list[object]:
        if self.image_column not in batch:
            raise KeyError(f"the batch has no column {self.image_column!r} (image_column); columns: {sorted(batch)}")
        items: list[object] = list(batch[self.image_column])
        if self.error_column is not None and self.error_column in batch:
            previous = batch[self.error_column]
            items = [None if previous[i] else item for i, item in enumerate(items)]
        return items

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        """Add the mask column (and the others asked for) to ``batch`` (see the class docstring
        for columns and dtypes)."""
        items = self._column_items(batch)
        results, errors = self.segment(items)
        out = dict(batch)
        if self.call is None and not self.probability:
            out[self.mask_column] = _object_array(results)
        else:
            empty: tuple[np.ndarray, ...] = (self._empty,)
            if self.call is not None:
                empty += (np.zeros((0, POSE_NUM_KEYPOINTS, 3)), np.zeros(0))
            if self.probability:
                empty += (np.zeros((0, 0), np.float32),)
            rows = [r if isinstance(r, tuple) else empty for r in results]
            out[self.mask_column] = _object_array([r[0] for r in rows])
            if self.call is not None:
                out[self.poses_column] = _object_array([r[1] for r in rows])
                out[f"{self.poses_column}_scores"] = _object_array([r[2] for r in rows])
            if self.probability:
                out[self.probability_column] = _object_array([r[-1] for r in rows])
        if self.error_column is not None:
            previous = batch.get(self.error_column)
            out[self.error_column] = np.array(
                [str(previous[i]) if previous is not None and previous[i] else e for i, e in enumerate(errors)],
                dtype=object,
            )
        return out

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False)


def _default_column(call: str | None, parts: bool) -> str:
    if call is None or "multi" not in call:
        return "parts" if parts else "mask"
    return "person_parts" if parts else "masks"


def _pose_arrays(poses: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """BodyPix 2 poses -> float64 (n, 17, 3) [y, x, score] and float64 (n,) scores."""
    keypoints = np.zeros((len(poses), POSE_NUM_KEYPOINTS, 3))
    for i, pose in enumerate(poses):
        keypoints[i] = pose.to_array()
    return keypoints, np.array([float(p.score) for p in poses], dtype=np.float64)


def _object_array(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """A 1-D object array holding ``arrays`` (never stacked into one nd array)."""
    out = np.empty(len(arrays), dtype=object)
    for i, a in enumerate(arrays):
        out[i] = a
    return out


# -- segment_dataset ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentResult:
    """What :func:`segment_dataset` did, in input order.

    Attributes:
        sources: the images segmented, as local paths or URIs.
        outputs: the file written for each of ``sources`` (same order).
        failed: ``(source, message)`` for every image that could not be read or segmented
            (nothing is written for those; the others are).
        probabilities: with ``probability=True``, the probability file written for each of
            ``sources`` (same order); else empty.
    """

    sources: tuple[str, ...]
    outputs: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    probabilities: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        """How many files were written."""
        return len(self.outputs)


@dataclass(frozen=True)
class _Job:
    source: str  # as shown to the user
    filesystem: int  # index into the list of source filesystems
    path: str  # path within that filesystem
    target: str  # path within the output filesystem
    output: str  # as shown to the user
    probability_target: str = ""  # the probability file's, with probability=True
    probability_output: str = ""


class _FileSegmenter(Segmenter):
    """:class:`Segmenter` that reads each image from a filesystem and writes its mask file.

    Input columns: ``index``, ``filesystem``, ``path``, ``target`` (and ``probability_target``
    with ``probability``); output: ``index``, ``error``.
    """

    def __init__(
        self,
        *,
        filesystems: list[pyarrow.fs.FileSystem],
        output_filesystem: pyarrow.fs.FileSystem,
        format: str,
        **options: Any,
    ) -> None:
        super().__init__(image_column="path", error_column="error", **options)
        self._filesystems = filesystems
        self._output = output_filesystem
        self._format = format

    def _source(self, item: object) -> object:
        index, path = cast("tuple[int, str]", item)
        fs = self._filesystems[index]
        if fs.type_name == "local":
            return path  # decoded by the stream, exactly as the local API reads files
        with fs.open_input_stream(path, compression=None) as stream:
            return decode_image_bytes(stream.readall(), path)

    def _write(self, result: np.ndarray | tuple[np.ndarray, ...], target: str, probability_target: str) -> None:
        mask = result[0] if isinstance(result, tuple) else result  # a BodyPix 2 call's: its array
        self._save(mask, parts_to_image if self.parts else mask_to_image, target)
        if self.probability:
            assert isinstance(result, tuple)
            self._save(np.asarray(result[-1], dtype=np.float32), probability_to_image, probability_target)

    def _save(self, array: np.ndarray, to_image: Callable[[np.ndarray], Any], target: str) -> None:
        """``array`` written to ``target``: as it is (``.npy``) or as ``to_image`` makes it a PNG."""
        buffer = io.BytesIO()
        if self._format == "npy":
            np.save(buffer, array, allow_pickle=False)
        else:
            to_image(array).save(buffer, format="PNG")
        with self._output.open_output_stream(target, compression=None) as stream:
            stream.write(buffer.getvalue())

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        items: list[object] = [(int(f), str(p)) for f, p in zip(batch["filesystem"], batch["path"])]
        targets = [str(t) for t in batch["target"]]
        probability_targets = [str(t) for t in batch.get("probability_target", [""] * len(targets))]
        writes: dict[int, Future[None]] = {}

        def write(i: int, result: Any) -> None:  # while the stream goes on
            writes[i] = self._pool.submit(self._write, result, targets[i], probability_targets[i])

        _, errors = self.segment(items, write)
        for i, future in writes.items():
            try:
                future.result()
            except OSError as exc:
                errors[i] = f"cannot write {targets[i]!r}: {exc}"
        return {"index": np.asarray(batch["index"]), "error": np.array(errors, dtype=object)}


def _import_ray(caller: str = "segment_dataset") -> Any:
    try:
        import pyarrow.fs  # noqa: F401
        import ray
        import ray.data
    except ImportError as exc:
        raise ImportError(f"{caller} needs Ray Data, which is not installed: {_INSTALL_HINT}") from exc
    return ray


def _as_list(sources: object) -> list[str]:
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if not isinstance(sources, Iterable) or isinstance(sources, (bytes, bytearray)):
        raise TypeError(f"sources must be a path, a URI or a list of them, got {type(sources).__name__}")
    out: list[str] = []
    for source in sources:
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"sources must hold paths or URIs (str or os.PathLike), got {source!r}")
        out.append(os.fspath(source))
    if not out:
        raise ValueError("sources must name at least one image, directory or URI, got an empty list")
    return out


def _resolve(location: str, name: str) -> tuple[pyarrow.fs.FileSystem, str]:
    """``(filesystem, path)`` of a local path or a URI."""
    import pyarrow.fs

    if "://" not in location:
        return pyarrow.fs.LocalFileSystem(), os.path.abspath(location)
    try:
        fs, path = pyarrow.fs.FileSystem.from_uri(location)
    except (ValueError, OSError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        raise ValueError(f"{name}: cannot open {location!r}: {exc}") from exc
    return fs, str(path)


def _join(base: str, relative: str) -> str:
    if "://" in base:
        return base.rstrip("/") + "/" + relative
    return os.path.join(os.path.abspath(base), *relative.split("/"))


def _plan(
    sources: list[str], output: str, kind: str, format: str, probability: bool = False
) -> tuple[list[pyarrow.fs.FileSystem], pyarrow.fs.FileSystem, list[_Job]]:
    """List the images under ``sources`` and give each a unique output file (and, with
    ``probability``, a ``<name>.probability.<format>`` next to it)."""
    import pyarrow.fs

    out_fs, out_base = _resolve(output, "output")
    out_info = out_fs.get_file_info(out_base)
    if out_info.type == pyarrow.fs.FileType.File:
        raise ValueError(f"output must be a directory (or a URI prefix), but {output!r} is a file")
    out_prefix = out_base.rstrip("/") + "/"
    filesystems: list[pyarrow.fs.FileSystem] = []
    found: list[tuple[str, int, str, str]] = []  # (source shown, filesystem, path, relative name)
    for source in sources:
        fs, path = _resolve(source, "sources")
        index = next((i for i, f in enumerate(filesystems) if f.equals(fs)), None)
        if index is None:
            filesystems.append(fs)
            index = len(filesystems) - 1
        info = fs.get_file_info(path)
        if info.type == pyarrow.fs.FileType.NotFound:
            raise FileNotFoundError(f"sources: {source!r} does not exist")
        if info.type != pyarrow.fs.FileType.Directory:
            found.append((source if "://" in source else path, index, path, posixpath.basename(path)))
            continue
        base = path.rstrip("/") + "/"
        entries = []
        for entry in fs.get_file_info(pyarrow.fs.FileSelector(path, recursive=True)):
            relative = entry.path[len(base) :]
            if (
                entry.type == pyarrow.fs.FileType.File
                and posixpath.splitext(relative)[1].lower() in IMAGE_EXTENSIONS
                and not any(part.startswith(".") for part in relative.split("/"))
                and not (fs.equals(out_fs) and entry.path.startswith(out_prefix))  # earlier outputs
            ):
                entries.append((relative, entry.path))
        for relative, entry_path in sorted(entries):
            found.append((_join(source, relative), index, entry_path, relative))
    if not found:
        raise ValueError(
            f"sources: no image files found in {sources!r} (extensions: {' '.join(sorted(IMAGE_EXTENSIONS))})"
        )

    jobs: list[_Job] = []
    taken: set[str] = set()
    for shown, index, path, relative in found:
        stem = posixpath.splitext(relative)[0]
        name, n = f"{stem}.{kind}.{format}", 2
        while name in taken:  # two inputs with the same stem: keep both
            name, n = f"{stem}-{n}.{kind}.{format}", n + 1
        taken.add(name)
        extra = ("", "")
        if probability:  # the mask's name with the probability's kind: unique as the mask's
            other = name[: -len(f"{kind}.{format}")] + f"{RAY_PROBABILITY_COLUMN}.{format}"
            extra = (out_prefix + other, _join(output, other))
        jobs.append(_Job(shown, index, path, out_prefix + name, _join(output, name), *extra))
    if out_fs.type_name == "local":  # object stores have no directories to make
        for parent in sorted({posixpath.dirname(job.target) for job in jobs}):
            out_fs.create_dir(parent, recursive=True)
    return filesystems, out_fs, jobs


def _check_concurrency(value: object) -> int | tuple[int, int] | None:
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 2:
        low, high = (_checks.check_int(v, "concurrency", 1) for v in value)
        if low <= high:
            return low, high
    elif not isinstance(value, tuple):
        return _checks.check_int(value, "concurrency", 1)
    raise ValueError(f"concurrency must be None, an int >= 1 or a (min, max) pair with 1 <= min <= max, got {value!r}")


def _default_pool_size(ray: Any, gpus: float) -> int:
    """One actor per alive node, or per ``gpus`` GPUs of the cluster (1 before Ray starts)."""
    if not ray.is_initialized():
        return 1  # Ray Data starts a local instance: one node
    if gpus:
        return max(1, int(ray.cluster_resources().get("GPU", 0) // gpus))
    return max(1, sum(1 for node in ray.nodes() if node.get("Alive")))


#: Calls Ray Data may run at once on one actor (``ActorPoolStrategy.max_concurrent_calls_per_actor``).
#: With 2, Ray batches the next input and stores the last output while the actor segments
#: (the segmentation itself still runs one call at a time): the actor is not left idle between
#: calls, about 5 % of the time on 2 cores (bench/test_ray.py).
CALLS_PER_ACTOR = 2


def actor_pool(size: int | None = None, *, min_size: int | None = None, max_size: int | None = None) -> Any:
    """A ``ray.data.ActorPoolStrategy`` for :class:`Segmenter`: ``size`` actors (or an
    autoscaling pool of ``min_size`` to ``max_size``), each running up to
    :data:`CALLS_PER_ACTOR` calls at once where this Ray has
    ``max_concurrent_calls_per_actor`` (older Ray: a plain pool), so that Ray's batching of
    inputs and outputs overlaps the segmentation.

    Raises:
        ImportError: Ray Data is not installed.
        ValueError: (from Ray) for inconsistent sizes.
    """
    ray = _import_ray("actor_pool")
    sizes = {k: v for k, v in {"size": size, "min_size": min_size, "max_size": max_size}.items() if v is not None}
    strategy = ray.data.ActorPoolStrategy
    if "max_concurrent_calls_per_actor" in inspect.signature(strategy).parameters:
        return strategy(**sizes, max_concurrent_calls_per_actor=CALLS_PER_ACTOR)
    return strategy(**sizes)


def segment_dataset(
    sources: PathLike | Sequence[PathLike],
    output: PathLike,
    *,
    multiplier: float = 0.75,
    weights: PathLike | None = None,
    engine: str = "auto",
    parts: bool = False,
    format: OutputFormat = "png",
    flip_horizontal: bool = False,
    output_stride: int = 16,
    segmentation_threshold: float | None = None,
    concurrency: int | tuple[int, int] | None = None,
    num_cpus_per_worker: float | None = None,
    num_gpus_per_worker: float = 0,
    batch_size: int = 50,
    num_threads: int | None = None,
    call: str | None = None,
    quant_bytes: int = 2,
    call_options: dict[str, Any] | None = None,
    probability: bool = False,
) -> SegmentResult:
    """Segment every image under ``sources`` with Ray Data and write one file per image.

    Uses the current Ray connection (``ray.init(...)`` first to choose the cluster; Ray Data
    starts a local instance otherwise). Files are listed on the driver; a pool of
    :class:`Segmenter` actors reads, segments and writes them.

    Args:
        sources: an image file, a directory (searched recursively for image extensions,
            hidden entries skipped) or a URI of either (``s3://``, ``gs://``, ``file://``,
            anything ``pyarrow.fs.FileSystem.from_uri`` opens), or a list of them. Files in a
            directory are listed in sorted order.
        output: the output directory, a local path or a URI (made if missing; existing files
            of the same name are replaced).
        multiplier, weights, engine, num_threads: as for :func:`person_segmentation.load`,
            in every worker (``weights`` must be readable there).
        parts: body parts instead of the person mask.
        format: ``"png"``: ``<name>.mask.png``, 8-bit grayscale, 255 = person, 0 = background;
            or ``<name>.parts.png``, an 8-bit palette PNG whose pixel values are the part ids
            0..23 and 24 for the background (the command line's encoding). ``"npy"``:
            ``<name>.mask.npy`` / ``<name>.parts.npy``, the arrays exactly as the estimates
            return them (uint8 (H, W) 0/1, or int32 (H, W) -1..23).
        flip_horizontal, output_stride, segmentation_threshold: as for the local estimates
            (``segmentation_threshold`` None: 0.5, or BodyPix 2's default with ``call``).
        call, quant_bytes, call_options: a BodyPix 2 call instead of the v0.0.x estimates, as
            for :class:`Segmenter` (``parts`` is then ignored). The files hold the call's mask or
            part map: ``<name>.mask.png`` / ``<name>.parts.png`` (BodyPix 2's part ids) or
            ``.npy`` for the single-person calls; for the multi-person calls
            ``<name>.masks.npy`` / ``<name>.person_parts.npy``, the (n, H, W) stack of the
            people in BodyPix 2's order (``format="npy"`` only; the poses are not written: use
            :class:`Segmenter` for them).
        probability: also write each image's person probability (as :class:`Segmenter`'s
            ``probability``: the v0.0.x estimates or a single-person ``call``; a ValueError for
            the multi-person calls): ``<name>.probability.npy``, float32 (H, W) in [0, 1]
            exactly, with ``format="npy"``; ``<name>.probability.png``, 8-bit grayscale
            ``round(probability * 255)``, with ``"png"``. Listed in ``result.probabilities``.
        concurrency: actors: an int for a fixed pool, ``(min, max)`` for an autoscaling one.
            None: a fixed pool of one actor per node alive when the job starts (one per
            ``num_gpus_per_worker`` GPUs with GPUs), since each actor already keeps every core
            of its node busy (on a 2-core machine Ray Data's autoscaling default took 35 %
            longer for 600 photos, starting a second actor that only competes for the cores).
        num_cpus_per_worker: CPUs each actor reserves (None: 1, or Ray's default for GPU
            actors). The network and the post-processing use all the cores of the node
            whatever is reserved; set ``num_threads`` to match when packing actors.
        num_gpus_per_worker: GPUs each actor reserves; ``1`` gives each actor its own GPU
            (``engine="auto"`` then runs TensorFlow on it). Warns (RuntimeWarning) when the
            connected cluster has fewer GPUs: the job then waits for some to join.
        batch_size: images per actor call. Each call fills and drains the pipeline once, so
            small batches cost throughput (on 2 cores, 20 per call ran ~20 % slower than 100).
    Returns:
        :class:`SegmentResult`. A directory's tree is mirrored under ``output``
        (``a/b.jpg`` -> ``a/b.mask.png``); a file source gives ``<stem>.<kind>.<format>``;
        names that would collide (same stem) get ``-2``, ``-3``, ... in input order.
        Images that cannot be read are listed in ``failed``; the others are still written.
    Raises:
        ImportError: Ray Data is not installed.
        TypeError, ValueError: for a bad argument (the message names it) or no images found.
        FileNotFoundError: a source does not exist.
    """
    if not isinstance(output, (str, os.PathLike)):
        raise TypeError(f"output must be a directory path or a URI, got {type(output).__name__}")
    _checks.check_choice(format, "format", FORMATS)
    call = None if call is None else _checks.check_choice(call, "call", BODYPIX_CALLS)
    if call is not None and "multi" in call and format != "npy":
        raise ValueError(
            f"format must be 'npy' with call={call!r} (one (n, H, W) stack of people per image), got {format!r}"
        )
    options: dict[str, Any] = {
        "multiplier": _checks.check_multiplier(multiplier),
        "weights": _check_weights(weights),
        "engine": _checks.check_choice(engine, "engine", ENGINES),
        "parts": _checks.check_bool(parts, "parts"),
        "flip_horizontal": _checks.check_bool(flip_horizontal, "flip_horizontal"),
        "output_stride": _checks.check_output_stride(output_stride),
        "segmentation_threshold": None
        if segmentation_threshold is None
        else _checks.check_threshold(segmentation_threshold),
        "num_threads": num_threads,
        "call": call,
        "quant_bytes": _checks.check_quant_bytes(quant_bytes),
        "call_options": _checks.check_call_options(call_options),
        "probability": _checks.check_ray_probability(probability, call),
    }
    pool = _check_concurrency(concurrency)
    cpus = None if num_cpus_per_worker is None else _check_amount(num_cpus_per_worker, "num_cpus_per_worker")
    gpus = _check_amount(num_gpus_per_worker, "num_gpus_per_worker")
    batch_size = _checks.check_int(batch_size, "batch_size", 1)
    names = _as_list(sources)
    ray = _import_ray()

    kind = _default_column(call, call.endswith("_parts") if call is not None else options["parts"])
    filesystems, out_fs, jobs = _plan(names, os.fspath(output), kind, format, options["probability"])
    rows = [
        {
            "index": i,
            "filesystem": job.filesystem,
            "path": job.path,
            "target": job.target,
            "probability_target": job.probability_target,
        }
        for i, job in enumerate(jobs)
    ]
    resources: dict[str, float] = {}  # Ray warns when GPU actors are also given CPUs: only if asked
    if cpus is not None or not gpus:
        resources["num_cpus"] = 1.0 if cpus is None else cpus
    if gpus:
        resources["num_gpus"] = gpus
    if gpus and ray.is_initialized() and ray.cluster_resources().get("GPU", 0) < gpus:
        warnings.warn(
            f"num_gpus_per_worker={gpus:g} but the Ray cluster has {ray.cluster_resources().get('GPU', 0):g} GPUs: "
            "the job waits until GPU nodes join",
            RuntimeWarning,
            stacklevel=2,
        )
    if pool is None:
        compute = actor_pool(_default_pool_size(ray, gpus))
    elif isinstance(pool, tuple):
        compute = actor_pool(min_size=pool[0], max_size=pool[1])
    else:
        compute = actor_pool(pool)
    dataset = ray.data.from_items(rows, override_num_blocks=max(1, math.ceil(len(rows) / batch_size))).map_batches(
        _FileSegmenter,
        batch_size=batch_size,
        compute=compute,
        fn_constructor_kwargs={"filesystems": filesystems, "output_filesystem": out_fs, "format": format, **options},
        **resources,
    )
    errors = [""] * len(jobs)
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        for index, error in zip(batch["index"], batch["error"]):
            errors[int(index)] = str(error)
    done = [job for job, error in zip(jobs, errors) if not error]
    return SegmentResult(
        sources=tuple(job.source for job in done),
        outputs=tuple(job.output for job in done),
        failed=tuple((job.source, error) for job, error in zip(jobs, errors) if error),
        probabilities=tuple(job.probability_output for job in done) if options["probability"] else (),
    )
