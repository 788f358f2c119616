#!/usr/bin/env bash
# Builds the attngen of an older commit in a git worktree and prints its
# path (the build log goes to stderr), for A/B runs of kernel changes:
#   ATTNGEN_BASELINE="6f1146d=$(bash scripts/build-attngen-at.sh 6f1146d)" \
#     bash scripts/gpu-check.sh prepare
# Usage: bash scripts/build-attngen-at.sh REV [WORKTREE_DIR]
#   (default WORKTREE_DIR: /tmp/attngen-REV; reused if it exists)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 1 ]] || { echo "usage: build-attngen-at.sh REV [WORKTREE_DIR]" >&2; exit 2; }
rev=$(git rev-parse --verify --quiet "$1^{commit}") ||
  { echo "build-attngen-at: no commit '$1' in $(pwd)" >&2; exit 1; }
dir=${2:-/tmp/attngen-$1}
if [[ ! -d $dir ]]; then
  git worktree add --detach "$dir" "$rev" >&2
elif [[ $(git -C "$dir" rev-parse HEAD) != "$rev" ]]; then
  echo "build-attngen-at: $dir holds $(git -C "$dir" rev-parse --short HEAD), not $1" >&2
  exit 1
fi
cmake -S "$dir" -B "$dir/build" -G Ninja >&2
cmake --build "$dir/build" --target attngen >&2
echo "$dir/build/bin/attngen"
