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
# The gates need rustfmt and clippy (rustup's minimal profile leaves them out).
if command -v rustup >/dev/null; then
  for c in rustfmt clippy; do
    rustup component list --installed | grep -q "^$c" || rustup component add "$c"
  done
fi

# Release profile everywhere: Burn's kernels are far too slow unoptimised.
export BERT_REQUIRE_WGPU="${BERT_REQUIRE_WGPU:-1}"
echo "== gates: formatting, then clippy with warnings as errors (lints: Cargo.toml)"
cargo fmt --all --check
cargo clippy --all-targets --locked -- -D warnings
echo "== native tests"
cargo test --release --locked
echo "== the browser crate's pure logic (token masking, model locations, size checks), natively"
cargo test --release --locked -p bert-web --lib

# The browser: wasm tests in headless Chromium on its WebGPU adapter (SwiftShader) and on
# the CPU fallback, then the built app end to end from a sub-path.
. scripts/setup-web.sh --test
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-900}"
# The tests' hooks into the page (crash the worker, lose the GPU, read its memory) are
# the `testing` feature: the wasm tests and the e2e build turn it on; the shipped app
# (scripts/serve.sh, a plain `trunk build`) has none of them.
echo "== clippy on the browser crate (wasm32)"
(cd www && cargo clippy --target wasm32-unknown-unknown --all-targets --features testing --locked -- -D warnings)
echo "== wasm tests in headless Chromium"
# From www/: the test runner reads www/webdriver.json (Chromium flags) from there.
(cd www && cargo test --locked --target wasm32-unknown-unknown --profile wasm-release --features testing --test web)
echo "== build dist/ (with the test hooks) and test it end to end"
trunk build --release --features testing
node tests/e2e/app.mjs dist target/e2e
echo "== soak: 1,000 predictions, 100 fill-alls, 30 fine-tuning runs in one page"
node tests/e2e/soak.mjs dist
