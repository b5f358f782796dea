#!/usr/bin/env python3
"""Regenerate the bundled model's LiteRT conversion (``heads.tflite.gz`` + ``heads.tflite.json``).

    python scripts/convert-bundled-model.py [--check]   (with the package installed: scripts/test.sh)

Loads the bundled BodyPix 2 weights (``src/python/person_segmentation/models/bodypix/mobilenet/
quant2/075/``), converts them with TensorFlow into one LiteRT flatbuffer holding the heads array
(the layout of `_constants.BODYPIX_HEADS`) for a dynamic ``[1, -1, -1, 3]`` input, one signature per output stride
(8 and 16), and writes it beside the model JSON files with a description naming the digest of
the weights it was made from (how the engine recognises it). The conversion is deterministic:
the same weights and TensorFlow version give the same bytes. ``--check`` writes nothing and
exits 1 when the shipped files differ from a fresh conversion.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

from person_segmentation import _convert, _engine_tflite, _weights
from person_segmentation._constants import BUNDLED_MULTIPLIER, BUNDLED_STRIDES
from person_segmentation._network import MobileNetV1


def build() -> tuple[bytes, bytes]:
    """(flatbuffer, description JSON) of a fresh conversion of the bundled weights."""
    loaded = _weights.load_weights(BUNDLED_MULTIPLIER, _weights.bundled_model(16))
    content = _convert.convert_heads(MobileNetV1(loaded.tensors, loaded.multiplier), BUNDLED_STRIDES)
    meta = {
        "conversion": "heads",
        "conversion_version": _engine_tflite._HEADS_CONVERSION_VERSION,
        "weights": f"{_weights.BUNDLED_RELATIVE}/model-stride16.json",
        "weights_sha256": _engine_tflite.weights_digest(loaded.tensors, loaded.multiplier),
        "output_strides": list(BUNDLED_STRIDES),
        "input_shape": [1, -1, -1, 3],
        "output": "heads (outH, outW, 174): see _constants.BODYPIX_HEADS",
        "tensorflow": _engine_tflite.tensorflow_version(),
        "sha256": hashlib.sha256(content).hexdigest(),
        "generated_by": "scripts/convert-bundled-model.py",
    }
    return content, (json.dumps(meta, indent=2) + "\n").encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped files, write nothing")
    args = parser.parse_args()
    folder = _weights.bundled_model(16).parent
    name = _engine_tflite.SHIPPED_NAME
    target = folder / (name + _engine_tflite.SHIPPED_COMPRESSED_SUFFIX)
    meta_target = folder / (name + _engine_tflite.SHIPPED_META_SUFFIX)
    content, meta = build()
    if args.check:
        same = target.is_file() and _engine_tflite.read_shipped(target) == content
        print(f"{target}: {'identical to' if same else 'DIFFERS from'} a fresh conversion")
        return 0 if same else 1
    _engine_tflite.write_shipped(target, content)
    meta_target.write_bytes(meta)
    print(f"wrote {target} ({len(content)} bytes, {target.stat().st_size} compressed) and {meta_target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
