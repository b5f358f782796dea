#!/usr/bin/env bash
# The prepared GPU check (issue 14): run from the repository root on the GPU machine (offline;
# one NVIDIA GPU, nvcc, CMake, ninja, Python with pytest, pybind11, scikit-build-core, PyTorch
# and/or CuPy; TensorFlow not needed), in under 8 minutes. Each step has its own time limit and
# ends with one line "STEP n ...: PASS | FAIL | SKIP (why)":
#   1. nvidia-smi, driver and runtime versions; the C++ core, its tests and the Python module
#      built with CUDA for this device's architecture; the SASS/PTX in the binary (cuobjdump).
#   2. CTest (CUDA vs CPU kernels bit for bit: test_cuda, test_bodypix_cuda; and the CPU tests),
#      then test_cuda and test_bodypix_cuda under compute-sanitizer --tool memcheck.
#   3. The Python extension built with pip install --no-deps --no-build-isolation into a
#      temporary target, then pytest tests/cuda with PyTorch/CuPy/JAX tensors as producers.
#   4. The score function over all 2^32 float32 logits, GPU vs CPU (sweep_score_cuda), and a
#      sample against glibc's exp and a long double reference (sweep_score).
#   5. Timings (scripts/gpu_bench.py): CUDA (result to host / left on the device) vs the CPU
#      kernels on all cores, one table, and the issue's targets.
# The report goes to stdout and, when $OUT is set, to $OUT/gpu-report.txt (step logs beside it
# in $OUT/gpu-check-logs/).
#
# PS_GPU_CHECK_DRY=1 (the test command, scripts/test.sh, runs this): every step that needs no
# GPU, on a machine without one; what needs a GPU or a missing tool is skipped with a note.
# There step 1 builds for one architecture (PS_GPU_CHECK_ARCH, default 90) and step 3 uses the
# module of step 1 instead of a pip build (PS_GPU_CHECK_PIP=1 does the pip build anyway).
# Other settings: PS_GPU_CHECK_BUILD (build folder, default build/gpu-check), PS_GPU_CHECK_JOBS,
# PYTHON.
set -uo pipefail
cd "$(dirname "$0")/.."

DRY=${PS_GPU_CHECK_DRY:-0}
PYTHON=${PYTHON:-python3}
JOBS=${PS_GPU_CHECK_JOBS:-$(nproc 2>/dev/null || echo 2)}
BUILD=${PS_GPU_CHECK_BUILD:-build/gpu-check}
SITE="$BUILD/site"  # the Python package used by steps 3 and 5
LOGS=${OUT:+$OUT/gpu-check-logs}
LOGS=${LOGS:-$BUILD/logs}
mkdir -p "$BUILD" "$LOGS"
REPORT="$BUILD/gpu-report.txt"

# ---- the steps (each run by `gpu-check.sh --step N` under its own timeout) ------------------
skip() { echo "SKIP: $*"; exit 77; }
have() { command -v "$1" >/dev/null 2>&1; }
has_gpu() { have nvidia-smi && nvidia-smi -L >/dev/null 2>&1; }
# The device's architecture as CMake wants it (9.0 -> 90), else PS_GPU_CHECK_ARCH (default 90).
device_arch() {
  if has_gpu; then
    nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .'
  else
    echo "${PS_GPU_CHECK_ARCH:-90}"
  fi
}

step1() {
  echo "date: $(date -u +%FT%TZ)  host: $(uname -srm)  cores: $(nproc)"
  local arch cuda=ON
  arch=$(device_arch)
  if has_gpu; then
    nvidia-smi
    nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv
  elif [ "$DRY" = 1 ]; then
    echo "note: no GPU (dry mode): nvidia-smi not run; building for sm_$arch"
  else
    echo "nvidia-smi finds no GPU"
    return 1
  fi
  if have nvcc; then
    nvcc --version | tail -2
  elif [ "$DRY" = 1 ]; then
    echo "note: nvcc is not installed: built without the CUDA kernels (the CUDA tests skip)"
    cuda=OFF
  fi
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPERSON_SEGMENTATION_CUDA=$cuda \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" -DPERSON_SEGMENTATION_BUILD_PYTHON=ON \
    -Dpybind11_DIR="$("$PYTHON" -m pybind11 --cmakedir)" >"$BUILD/configure.log" || { cat "$BUILD/configure.log"; return 1; }
  cmake --build "$BUILD" --parallel "$JOBS" || return 1
  # The package with this build's module, for steps 3 (dry mode) and 5.
  rm -rf "$SITE" && mkdir -p "$SITE" && cp -r src/python/person_segmentation "$SITE/" &&
    rm -f "$SITE"/person_segmentation/_core*.so && cp "$BUILD"/_core*.so "$SITE/person_segmentation/" || return 1
  PYTHONPATH="$SITE" "$PYTHON" -c "import json, person_segmentation as ps; print(json.dumps(ps.build_info(), indent=1))"
  if have cuobjdump; then
    echo "SASS and PTX in the module:"
    cuobjdump --list-elf "$BUILD"/_core*.so && cuobjdump --list-ptx "$BUILD"/_core*.so || return 1
  else
    echo "note: cuobjdump is not installed here: the SASS/PTX listing is skipped"
  fi
}

step2() {
  ctest --test-dir "$BUILD" --output-on-failure || return 1
  have compute-sanitizer || echo "note: compute-sanitizer is not installed here: memcheck skipped"
  if ! has_gpu || [ ! -x "$BUILD/test_cuda" ]; then
    echo "note: no GPU (or no CUDA build): test_cuda was skipped by CTest (exit code 77); no memcheck run"
    return 0
  fi
  have compute-sanitizer || return 0
  PS_TEST_CUDA_QUICK=1 compute-sanitizer --tool memcheck --error-exitcode 1 "$BUILD/test_cuda"
  local rc=$?
  # The BodyPix 2 kernels (scale-back, instance assignment) under memcheck too.
  if [ $rc -eq 0 ] && [ -x "$BUILD/test_bodypix_cuda" ]; then
    compute-sanitizer --tool memcheck --error-exitcode 1 "$BUILD/test_bodypix_cuda"
    rc=$?
  fi
  if [ $rc -ne 0 ] && compute-sanitizer --version 2>&1 | grep -qi "not supported"; then
    echo "note: compute-sanitizer does not support this runtime/driver: memcheck skipped"
    return 0
  fi
  return $rc
}

step3() {
  local site="$SITE"
  if [ "$DRY" != 1 ] || [ "${PS_GPU_CHECK_PIP:-0}" = 1 ]; then
    site="$BUILD/pip-site"
    rm -rf "$site"
    CUDAARCHS=$(device_arch) "$PYTHON" -m pip install --no-deps --no-build-isolation --no-index \
      --quiet --target "$site" . || return 1
  else
    echo "note: dry mode: pip install skipped (a second full build); the module of step 1 is used"
  fi
  PYTHONPATH="$site" "$PYTHON" -c "import person_segmentation as ps; print(ps.build_info())" || return 1
  # JAX would otherwise take 75% of the GPU's memory at its first array.
  XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONPATH="$site" "$PYTHON" -m pytest -q -p no:cacheprovider tests/cuda -rs
}

step4() {
  if has_gpu && [ -x "$BUILD/sweep_score_cuda" ]; then
    "$BUILD/sweep_score_cuda" --stride 1 --threads "$JOBS" || return 1
    "$BUILD/sweep_score" --stride 17 --threads "$JOBS"
  else
    echo "note: no GPU: the GPU vs CPU sweep of all 2^32 logits is skipped; the CPU sample against glibc:"
    "$BUILD/sweep_score" --stride 65537 --threads "$JOBS"
  fi
}

step5() {
  local repeats=30
  [ "$DRY" = 1 ] && repeats=3
  PYTHONPATH="$SITE" "$PYTHON" scripts/gpu_bench.py --repeats "$repeats" ${OUT:+--json "$OUT/gpu-bench.json"}
}

if [ "${1:-}" = "--step" ]; then
  "step$2"
  exit $?
fi

# ---- the driver -------------------------------------------------------------------------
: >"$REPORT"
say() { echo "$*" | tee -a "$REPORT"; }
NAMES=("" "build + versions + cuobjdump" "CTest CUDA vs CPU + memcheck" "pip build + pytest tests/cuda"
  "2^32 score sweep" "timings")
LIMITS=("" "${PS_GPU_CHECK_T1:-150}" "${PS_GPU_CHECK_T2:-110}" "${PS_GPU_CHECK_T3:-120}" "${PS_GPU_CHECK_T4:-60}"
  "${PS_GPU_CHECK_T5:-60}")
say "== scripts/gpu-check.sh$([ "$DRY" = 1 ] && echo ' (dry mode: no GPU needed)') at $(git rev-parse --short HEAD 2>/dev/null)"
failed=0
summary=()
for n in 1 2 3 4 5; do
  log="$LOGS/step$n.log"
  start=$(date +%s)
  timeout --kill-after=10 "${LIMITS[$n]}" bash "$0" --step "$n" >"$log" 2>&1
  rc=$?
  took=$(($(date +%s) - start))
  case $rc in
    0) verdict=PASS ;;
    77) verdict="SKIP ($(grep -m1 '^SKIP:' "$log" | cut -c7-))" ;;
    124 | 137) verdict="FAIL (timed out after ${LIMITS[$n]} s)" ;;
    *) verdict="FAIL (exit code $rc)" ;;
  esac
  case $verdict in FAIL*) failed=1 ;; esac
  say ""
  say "---- step $n: ${NAMES[$n]} (limit ${LIMITS[$n]} s) ----"
  # The step's output: notes, results and tables in full, long build output shortened.
  if [ "$(wc -l <"$log")" -gt 80 ]; then
    grep -E "note:|PASS|FAIL|SKIP|rror|differ|target|ms\)|^(kind|mask|parts) |CUDA runtime|tests passed|Skipped|NVIDIA|driver|sm_|compute_|build_info|\"cuda" "$log" | head -60 | tee -a "$REPORT"
    say "[... full log: $log]"
  else
    tee -a "$REPORT" <"$log"
  fi
  # In dry mode a PASS covers only the parts that need no GPU (the step's notes say which).
  [ "$DRY" = 1 ] && [ "$verdict" = PASS ] && verdict="PASS (dry: no-GPU parts only, $(grep -c '^note:' "$log") notes)"
  line="STEP $n ${NAMES[$n]}: $verdict [${took} s]"
  say "$line"
  summary+=("$line")
done
say ""
say "==== summary ===="
for line in "${summary[@]}"; do say "$line"; done
say "$([ $failed = 0 ] && echo "gpu-check: PASS$([ "$DRY" = 1 ] && echo ' (dry mode: nothing ran on a GPU)')" || echo 'gpu-check: FAIL')"
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT" && cp "$REPORT" "$OUT/gpu-report.txt"
fi
exit $failed
