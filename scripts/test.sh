#!/usr/bin/env bash
# The project's test command (README): installs the package with its test dependencies,
# runs the static checks (ruff lint + format, mypy --strict, clang-format), the Python test
# suite, then builds and runs the C++ unit tests (CTest), once plainly and once under
# AddressSanitizer + UndefinedBehaviorSanitizer, and runs scripts/gpu-check.sh in its dry mode
# (PS_GPU_CHECK_DRY=1: every step that needs no GPU), so that the GPU check cannot rot. Any finding fails the run.
#
# scripts/install-browser.sh installs headless Chromium for tests/browser where it is missing.
#
# Shared test material is read from $PERSON_SEGMENTATION_SHARED (default: ../shared).
# Extra arguments go to pytest, e.g.  scripts/test.sh -k golden
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}

echo "== installing person-segmentation[test]"
"$PYTHON" -m pip install --quiet --disable-pip-version-check ".[test]"

echo "== the browser of tests/browser (headless Chromium + chromedriver)"
bash scripts/install-browser.sh

echo "== static checks: ruff (lint + format), mypy --strict, clang-format"
"$PYTHON" -m ruff check src/python tests bench scripts
"$PYTHON" -m ruff format --check src/python tests bench scripts
"$PYTHON" -m mypy
bash scripts/check-format-cpp.sh

echo "== python tests"
"$PYTHON" -m pytest "$@"

if command -v cmake >/dev/null 2>&1; then
  generator=()
  command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  echo "== C++ tests"
  cmake -S . -B build/ctest "${generator[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build/ctest --parallel >/dev/null
  ctest --test-dir build/ctest --output-on-failure

  echo "== the GPU check script in dry mode (every step that needs no GPU; build/gpu-check)"
  PS_GPU_CHECK_DRY=1 bash scripts/gpu-check.sh >build/gpu-check-dry.log 2>&1 || {
    cat build/gpu-check-dry.log
    exit 1
  }
  sed -n '/==== summary ====/,$p' build/gpu-check-dry.log

  echo "== C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build/sanitize "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug -DPERSON_SEGMENTATION_SANITIZE=ON >/dev/null
  cmake --build build/sanitize --parallel >/dev/null
  ctest --test-dir build/sanitize --output-on-failure
else
  echo "cmake not found: C++ tests not run" >&2
  exit 1
fi
