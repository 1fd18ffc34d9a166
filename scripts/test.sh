#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine, installing what is missing.
#   scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
# Lavapipe (Mesa's CPU Vulkan driver) lets the wgpu backend run natively without a GPU.
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || need_apt+=(mesa-vulkan-drivers libvulkan1)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q && $SUDO apt-get install -y -q "${need_apt[@]}"
fi

command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first" >&2; exit 1; }

# Release profile everywhere: Burn's kernels are far too slow unoptimised.
export BERT_REQUIRE_WGPU="${BERT_REQUIRE_WGPU:-1}"
cargo test --release --locked
