#!/usr/bin/env bash
# Browser figures for a model: time to `ready`, first and warm inference, on headless
# Chromium's WebGPU adapter (SwiftShader here) and on the CPU fallback. Builds dist/ if
# it is missing. Prints figures; asserts only what the end-to-end test asserts.
#   scripts/bench_web.sh [MODEL_DIR]     (default: the fixture model)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup-web.sh --test
[ -f dist/index.html ] || trunk build --release
echo "dist/*.wasm: $(stat -c %s dist/*.wasm) bytes raw, $(gzip -9 -c dist/*.wasm | wc -c) bytes gzip -9"
E2E_MODEL_DIR="${1:-tests/fixtures/models/gelu-f32}" node tests/e2e/app.mjs dist target/bench-web
