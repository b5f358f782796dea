"""Print a pytest-benchmark JSON file as a Markdown table.

    python bench/report.py bench-results.json

One row per benchmark, grouped as in the run: median and inter-quartile range in ms, the
spread (IQR / median, flagged "noisy" above 15 %) and the rounds. ``TF / native`` is set on each TF row: its median over
the median of the native benchmark (default threads) of the same group and case
(``extra_info["case"]``) -- in every post-processing group, and for the all-TF end-to-end
pipeline.
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
    groups = group_results(Result.from_json(b) for b in data.get("benchmarks", []))
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
        print(f"report.py: no benchmarks in {args.json_file} (was the run made with --benchmark-only?)", file=sys.stderr)
        return 1
    print(render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
