#!/usr/bin/env bash
# Every C and C++ file of the tree against .clang-format (LLVM style with
# InsertBraces), with clang-format 22 (scripts/install-deps.sh installs it;
# Debian 12's own clang-format 14 cannot read InsertBraces).
#
#   bash scripts/check-format.sh         # lists the files that differ, exit 1
#   bash scripts/check-format.sh --fix   # formats them in place
#
# While editing: git clang-format --binary clang-format-22
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-$(command -v clang-format-22 || true)}
if [[ -z $clang_format ]]; then
  echo "check-format: clang-format-22 not found (bash scripts/install-deps.sh)" >&2
  exit 1
fi
if [[ -d .git || -f .git ]]; then
  mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' '*.hpp')
else
  mapfile -t files < <(find include lib runtime tools unittests examples \
    -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' | sort)
fi
if [[ ${1:-} == --fix ]]; then
  "$clang_format" -i --style=file "${files[@]}"
  exit 0
fi
unformatted=()
for file in "${files[@]}"; do
  if ! "$clang_format" --style=file "$file" | cmp -s - "$file"; then
    unformatted+=("$file")
  fi
done
if ((${#unformatted[@]})); then
  printf 'check-format: %s differs from .clang-format\n' "${unformatted[@]}" >&2
  echo "check-format: ${#unformatted[@]} of ${#files[@]} files differ; bash scripts/check-format.sh --fix" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
