"""Print a pytest-benchmark JSON file as a Markdown table.

    python bench/report.py bench-results.json

One row per benchmark, grouped as in the run: median and inter-quartile range in ms, the
spread (IQR / median, flagged "noisy" above 15 %) and the rounds. ``TF / native`` is set on each TF row: its median over
the median of the native benchmark (default threads) of the same group and case
(``extra_info["case"]``) -- in every post-processing group, and for the all-TF end-to-end
pipeline.

After the table, the targets of the speed-and-scale issue, each a ratio of two medians of the
same run (or a recorded value), with the limit and whether it is met; a target whose rows are
not in the file (e.g. MediaPipe skipped) is listed as "not measured".
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NO_GROUP = "(no group)"
#: Spread (IQR / median) above which a row is flagged as noisy.
NOISY_SPREAD = 0.15


@dataclass(frozen=True)
class Result:
    group: str
    name: str
    impl: str | None
    case: str | None
    median_ms: float
    iqr_ms: float
    rounds: int
    extra: dict[str, Any]

    @classmethod
    def from_json(cls, bench: dict[str, Any]) -> Result:
        stats = bench["stats"]
        extra = bench.get("extra_info") or {}
        return cls(
            group=bench.get("group") or NO_GROUP,
            name=bench["name"],
            impl=extra.get("impl"),
            case=extra.get("case"),
            median_ms=1000.0 * stats["median"],
            iqr_ms=1000.0 * stats["iqr"],
            rounds=int(stats["rounds"]),
            extra=dict(extra),
        )


def group_results(results: Iterable[Result]) -> dict[str, list[Result]]:
    """Results by group, groups and members in the order they ran."""
    groups: dict[str, list[Result]] = {}
    for result in results:
        groups.setdefault(result.group, []).append(result)
    return groups


def tf_over_native(result: Result, group: Sequence[Result]) -> float | None:
    """``result``'s median over its native counterpart's, if it is a TF run that has one."""
    if result.impl != "tf" or result.case is None:
        return None
    natives = [r for r in group if r.impl == "native" and r.case == result.case]
    return result.median_ms / natives[0].median_ms if len(natives) == 1 else None


@dataclass(frozen=True)
class Target:
    """``value = median(numerator) / median(denominator)`` (or ``extra[key]`` of the
    numerator when ``extra_key`` is set), met when it is ``<= limit`` (``at_most``) or ``>=``."""

    label: str
    group: str
    numerator: str  # impl of the row measured
    denominator: str | None
    limit: float
    at_most: bool
    case: str | None = None
    extra_key: str | None = None


TARGETS = (
    Target(
        "end-to-end parts 640x480 x0.50 os16: TFLite + native / all-TF",
        "end-to-end parts x0.50-1.x",
        "native-tflite",
        "tf",
        0.25,
        True,
        case="parts x0.50-1.x os16",
    ),
    Target(
        "person mask 640x480 x0.25 os16 / MediaPipe selfie (general)",
        "vs-mediapipe mask 640x480",
        "person-segmentation x0.25 os16",
        "mediapipe-selfie-general",
        2.0,
        True,
    ),
    Target(
        "100 photos, masks: per-image loop / segment_stream",
        "throughput 100 photos mask",
        "local loop",
        "local stream",
        1.3,
        False,
    ),
    Target(
        "100 photos, part maps: per-image loop / segment_stream",
        "throughput 100 photos parts",
        "local loop",
        "local stream",
        1.3,
        False,
    ),
    Target(
        "100 photos, masks: Ray (local, 2 CPUs) / segment_stream",
        "throughput 100 photos mask",
        "ray Segmenter map_batches",
        "local stream",
        1.25,
        True,
    ),
    Target(
        "1,000 video frames: peak RSS growth after warm-up (MB)",
        "memory 1000 video frames",
        "native-tflite",
        None,
        8.0,
        True,
        extra_key="peak_growth_after_warmup_mb",
    ),
    # Issue 13 (bench/test_vs_bodypix2.py): speed-ups over BodyPix 2.2.1 on tfjs-wasm, recorded
    # on our rows (the harness times BodyPix's calls in Node), and our multi-person overhead.
    *(
        Target(
            f"{call} 640x480 x0.75 quant2: BodyPix 2.2.1 tfjs-wasm / ours (speed-up)",
            "vs-bodypix2 640x480 x0.75-quant2 os16 medium",
            f"person-segmentation {call}",
            None,
            limit,
            False,
            extra_key="speedup_vs_bodypix2_wasm",
        )
        for call, limit in (
            ("segment_person", 6.0),
            ("segment_person_parts", 15.0),
            ("segment_multi_person_parts", 20.0),
        )
    ),
    Target(
        "ours 640x480 x0.75 quant2: segment_multi_person_parts / segment_person_parts",
        "vs-bodypix2 640x480 x0.75-quant2 os16 medium",
        "person-segmentation segment_multi_person_parts",
        "person-segmentation segment_person_parts",
        1.5,
        True,
    ),
)


def _find(results: Sequence[Result], group: str, impl: str, case: str | None) -> Result | None:
    found = [r for r in results if r.group == group and r.impl == impl and (case is None or r.case == case)]
    return found[0] if len(found) == 1 else None


def target_lines(results: Sequence[Result]) -> list[str]:
    """The targets as a Markdown table."""
    lines = ["| target | value | limit | met |", "|---|---:|---:|---|"]
    for t in TARGETS:
        num = _find(results, t.group, t.numerator, t.case)
        den = _find(results, t.group, t.denominator, t.case) if t.denominator else None
        value: float | None = None
        if num is not None and t.extra_key is not None:
            raw = num.extra.get(t.extra_key)
            value = float(raw) if isinstance(raw, (int, float)) else None
        elif num is not None and den is not None and den.median_ms > 0:
            value = num.median_ms / den.median_ms
        limit = f"{'<=' if t.at_most else '>='} {t.limit:g}"
        if value is None:
            lines.append(f"| {t.label} | not measured | {limit} | |")
            continue
        met = value <= t.limit if t.at_most else value >= t.limit
        lines.append(f"| {t.label} | {value:.3g} | {limit} | {'yes' if met else 'NO'} |")
    return lines


def machine_line(data: dict[str, Any]) -> str:
    machine = data.get("machine_info") or {}
    cpu = machine.get("cpu") or {}
    commit = data.get("commit_info") or {}
    parts = [
        str(cpu.get("brand_raw") or machine.get("processor") or "unknown CPU"),
        f"{cpu.get('count', '?')} logical CPUs",
        f"Python {machine.get('python_version', '?')}",
        str(data.get("datetime", "")),
    ]
    if commit.get("id"):
        parts.append(f"commit {commit['id'][:10]}{' (dirty)' if commit.get('dirty') else ''}")
    return "; ".join(p for p in parts if p)


def render(data: dict[str, Any]) -> str:
    results = [Result.from_json(b) for b in data.get("benchmarks", [])]
    groups = group_results(results)
    lines = [
        machine_line(data),
        "",
        "| group | benchmark | median (ms) | IQR (ms) | spread | rounds | TF / native |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for group, members in groups.items():
        for r in members:
            ratio = tf_over_native(r, members)
            spread = r.iqr_ms / r.median_ms if r.median_ms > 0 else float("inf")
            spread_cell = f"{100.0 * spread:.1f} %{' noisy' if spread > NOISY_SPREAD else ''}"
            lines.append(
                f"| {group} | {r.name} | {r.median_ms:.3f} | {r.iqr_ms:.3f} | {spread_cell} | {r.rounds} "
                f"| {'' if ratio is None else f'{ratio:.2f}x'} |"
            )
    lines += ["", *target_lines(results)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("json_file", type=Path, help="output of pytest --benchmark-json=FILE")
    args = parser.parse_args(argv)
    try:
        data = json.loads(args.json_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"report.py: cannot read {args.json_file}: {error}", file=sys.stderr)
        return 2
    if not data.get("benchmarks"):
        print(
            f"report.py: no benchmarks in {args.json_file} (was the run made with --benchmark-only?)", file=sys.stderr
        )
        return 1
    print(render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
