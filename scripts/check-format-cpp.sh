#!/usr/bin/env bash
# Checks that the C++ and CUDA sources (src/cpp, examples) are formatted as .clang-format says:
# runs `clang-format --dry-run --Werror` on each and exits non-zero on any finding.
#
#   scripts/check-format-cpp.sh          check (exit 1 on findings, 2 without clang-format)
#   scripts/check-format-cpp.sh --fix    reformat the files in place
#
# clang-format comes from $CLANG_FORMAT, else `clang-format` on PATH. When it is missing and the
# script runs as root with apt-get, it installs Debian's package first:
#   apt-get update && apt-get install -y clang-format
# Different clang-format versions format differently: the files are formatted with Debian 12's
# clang-format 14, which is what this installs there.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0
case "${1:-}" in
  "") ;;
  --fix) fix=1 ;;
  -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--fix]" >&2; exit 2 ;;
esac

clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== $clang_format not found: installing Debian's clang-format (apt-get)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-format >/dev/null
  fi
  if ! command -v "$clang_format" >/dev/null 2>&1; then
    echo "error: $clang_format not found, so the C++ formatting was not checked." >&2
    echo "       Install it (Debian/Ubuntu: apt-get install -y clang-format) or set CLANG_FORMAT." >&2
    exit 2
  fi
fi

# The sources: in a git checkout the tracked and the untracked-but-not-ignored files (so no build
# folder's CMake-generated sources), else every such file outside CMakeFiles folders.
list_sources() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard -- src/cpp examples
  else
    find src/cpp examples -name CMakeFiles -prune -o -type f -print0
  fi
}
files=()
while IFS= read -r -d '' f; do
  case "$f" in *.cpp | *.hpp | *.h | *.cu | *.cuh) [ -f "$f" ] && files+=("$f") ;; esac
done < <(list_sources | sort -z -u)
if [ ${#files[@]} -eq 0 ]; then
  echo "error: no C++ sources found under src/cpp and examples" >&2
  exit 2
fi

if [ "$fix" = 1 ]; then
  "$clang_format" -i "${files[@]}"
  echo "reformatted ${#files[@]} files with $("$clang_format" --version)"
  exit 0
fi

if ! "$clang_format" --dry-run --Werror "${files[@]}"; then
  echo "error: C++ sources are not formatted as .clang-format says (above);" \
       "run scripts/check-format-cpp.sh --fix" >&2
  exit 1
fi
echo "${#files[@]} C++/CUDA files formatted as .clang-format says ($("$clang_format" --version))"
