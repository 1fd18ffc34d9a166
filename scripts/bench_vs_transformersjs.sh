#!/usr/bin/env bash
# Side-by-side benchmark (not a test): this page's JavaScript API against transformers.js
# (npm @huggingface/transformers, pinned below) on the same weights, in the same headless
# Chromium: the embedded model (CPU fallback vs its wasm, WebGPU vs its WebGPU) and a random
# bert-base-shaped model (CPU vs wasm), ~9 and exactly 128 tokens; prints both medians, the
# ratio, and the longest main-thread task. Needs the Python reference (scripts/requirements.txt
# + onnx) for the ONNX export.
#   scripts/bench_vs_transformersjs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup-web.sh --test
TJS_VERSION=4.3.2
if [ ! -f "$BERT_TOOLS/node_modules/@huggingface/transformers/package.json" ]; then
  # Its native Node runtime is not needed (the browser runs onnxruntime-web).
  ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$BERT_TOOLS" --no-audit --no-fund "@huggingface/transformers@$TJS_VERSION"
fi
[ -f dist/index.html ] || trunk build --release
PYTHON="${PYTHON:-python3}"
out=target/bench-tjs
[ -f $out/embedded/onnx/model.onnx ] || "$PYTHON" scripts/export_onnx.py assets $out/embedded
[ -f $out/base/onnx/model.onnx ] || "$PYTHON" scripts/export_onnx.py --random-base $out/base
node tests/e2e/bench_tjs.mjs dist "$BERT_TOOLS/node_modules" "embedded=$out/embedded:webgpu" "base=$out/base"
