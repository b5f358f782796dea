"""``person-segmentation info``: build information, weights source and cache, as JSON."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any


def add_parser(commands: Any) -> None:
    """The ``info`` sub-command."""
    info = commands.add_parser(
        "info",
        help="print build information (native core, threads, CUDA, weights source, cache)",
        description="Print, as JSON, what the native core was built with and can use here, where weights come "
        "from and the download cache directory.",
    )
    info.set_defaults(run=run)


def run(_: argparse.Namespace) -> int:
    """The ``info`` command."""
    import person_segmentation as ps
    from person_segmentation._weights import redact_url

    info = dict(ps.build_info())
    info["weights"] = redact_url(os.environ.get("PERSON_SEGMENTATION_WEIGHTS") or ps.OFFICIAL_BASE_URL)
    info["cache_dir"] = str(ps.default_cache_dir())
    print(json.dumps(info, indent=2))
    return 0
