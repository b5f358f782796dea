"""Step 5 of scripts/gpu-check.sh: post-processing timings, CUDA vs the CPU kernels.

Masks and part maps at 640x480, 1920x1080 and 3840x2160 from float32 (23, 17, 25) logits (the
worst case: every pixel a person, so every pixel needs its part argmax), medians of --repeats
calls: the CUDA kernels on device-resident logits (a PyTorch CUDA tensor) with the result
copied to the host (part ids as int8, and as int32 for comparison) and left on the device
(timed with CUDA events around the call, which returns once the result is complete), against
the CPU kernels on all cores (numpy logits, wall clock) in the same run. Prints one summary
table with the ratios; --json writes the numbers. Without PyTorch or a CUDA device (the dry
mode) only the CPU column is measured.

    python scripts/gpu_bench.py [--repeats N] [--json PATH]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import time
from typing import Any

import numpy as np

import person_segmentation as ps
from person_segmentation import _core

SIZES = [(480, 640), (1080, 1920), (2160, 3840)]
#: The issue's targets at 1920x1080 (part map): CUDA / CPU speed-up with the result on the host and on the device.
TARGETS = {"host": 3.0, "device": 10.0}


def _logits() -> np.ndarray:
    values = np.random.default_rng(0).normal(0, 2, (23, 17, 25)).astype(np.float32)
    values[..., 0] = 5.0  # every pixel a person
    return values


def _median_wall(fn: Any, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _median_events(torch: Any, fn: Any, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return float(statistics.median(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    values = _logits()
    torch: Any = None
    why_no_gpu = ""
    if _core.cuda_device_count() == 0:
        why_no_gpu = f"no usable CUDA device ({ps.build_info()['cuda_unavailable_reason']})"
    else:
        try:
            import torch
        except ImportError:
            why_no_gpu = "PyTorch is not installed"
        else:
            if not torch.cuda.is_available():
                why_no_gpu, torch = "PyTorch sees no CUDA device", None
    on_gpu = torch.from_numpy(values).cuda() if torch is not None else None
    rows: list[dict[str, Any]] = []
    for height, width in SIZES:
        g = ps.compute_geometry(height, width)
        for kind, fn in (("mask", ps.person_mask_from_logits), ("parts", ps.part_segmentation_from_logits)):
            row: dict[str, Any] = {"kind": kind, "size": f"{width}x{height}"}
            row["cpu_ms"] = _median_wall(functools.partial(fn, values, geometry=g), args.repeats)
            if torch is not None:
                to_host = functools.partial(fn, on_gpu, geometry=g)
                kept = functools.partial(fn, on_gpu, geometry=g, result_on_device=True)
                row["cuda_host_ms"] = _median_events(torch, to_host, args.repeats)
                row["cuda_device_ms"] = _median_events(torch, kept, args.repeats)
                if kind == "parts":  # the part ids copied as int32 instead of int8
                    os.environ["PERSON_SEGMENTATION_CUDA_PART_WIRE"] = "int32"
                    row["cuda_host_int32_ms"] = _median_events(torch, to_host, args.repeats)
                    del os.environ["PERSON_SEGMENTATION_CUDA_PART_WIRE"]
                row["ratio_host"] = row["cpu_ms"] / row["cuda_host_ms"]
                row["ratio_device"] = row["cpu_ms"] / row["cuda_device_ms"]
            rows.append(row)
    threads = _core.default_num_threads()
    print(f"post-processing medians of {args.repeats} calls (ms); CPU kernels on {threads} threads")
    if why_no_gpu:
        print(f"CUDA columns not measured: {why_no_gpu}")
    header = f"{'kind':6} {'size':>10} {'cpu':>9} {'cuda->host':>11} {'cuda(dev)':>10} {'x host':>7} {'x dev':>7}"
    print(header + f" {'->host int32':>12}")
    for r in rows:
        cols = [f"{r['cpu_ms']:9.3f}"]
        if "cuda_host_ms" in r:
            cols += [f"{r['cuda_host_ms']:11.3f}", f"{r['cuda_device_ms']:10.3f}"]
            cols += [f"{r['ratio_host']:7.1f}", f"{r['ratio_device']:7.1f}"]
            if "cuda_host_int32_ms" in r:
                cols.append(f"{r['cuda_host_int32_ms']:12.3f}")
        print(f"{r['kind']:6} {r['size']:>10} " + " ".join(cols))
    failed = False
    target = next(r for r in rows if r["kind"] == "parts" and r["size"] == "1920x1080")
    if "ratio_host" in target:
        for where, goal in TARGETS.items():
            ratio = target[f"ratio_{where}"]
            verdict = "met" if ratio >= goal else "MISSED"
            failed |= ratio < goal
            print(f"target: part map 1920x1080, result on the {where}: {ratio:.1f}x >= {goal:.0f}x: {verdict}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": threads, "rows": rows, "no_gpu": why_no_gpu}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
