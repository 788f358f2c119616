#!/usr/bin/env bash
# CUDA 11.8's nvdisasm (CUDA 13's toolkit here has none) from Debian 12's
# non-free archive, into build/nvdisasm-11.8/usr/bin/nvdisasm, for
# scripts/sass_loops.py. A developer tool: no build or test needs it. The
# system's apt sources are left as they are (a private sources list and
# cache under a temporary directory).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/build/nvdisasm-11.8
if [[ -x $dest/usr/bin/nvdisasm ]]; then
  echo "$dest/usr/bin/nvdisasm"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm non-free" \
  > "$tmp/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
             -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
             -o "APT::Sandbox::User=root" -qq)
apt-get "${apt_options[@]}" update >&2
(cd "$tmp" && apt-get "${apt_options[@]}" download nvidia-cuda-toolkit >&2)
mkdir -p "$tmp/extract"
dpkg -x "$tmp"/nvidia-cuda-toolkit_*.deb "$tmp/extract"
mkdir -p "$dest/usr/bin"
cp "$tmp/extract/usr/bin/nvdisasm" "$dest/usr/bin/nvdisasm"
echo "$dest/usr/bin/nvdisasm"
