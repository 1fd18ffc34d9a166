#!/usr/bin/env bash
# Installs what the browser build and its tests need, from source or the registries
# only (nothing downloads prebuilt binaries): the wasm32 target, wasm-bindgen-cli
# (exactly the version in Cargo.lock), trunk, wasm-opt (npm binaryen@132: Debian's
# binaryen makes a wasm that fails at start-up), and with `--test` Chromium + chromedriver.
# Sourced by scripts/serve.sh and scripts/test.sh (`. scripts/setup-web.sh [--test]`), so
# PATH keeps the tools.

BERT_TOOLS="${BERT_TOOLS:-$HOME/.local/share/bert-burn-tools}"
WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132

apt_install() {
  local SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "installing (apt): $*"
  $SUDO apt-get update -q && $SUDO apt-get install -y -q "$@"
}

need=()
command -v node >/dev/null && command -v npm >/dev/null || need+=(nodejs npm)
if [ "${1:-}" = "--test" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  [ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
fi
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first (https://rustup.rs)" >&2; exit 1; }
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  # Not --locked: the CLI's lockfile names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
  cargo install trunk --version "$TRUNK_VERSION" --locked --force
fi
if [ ! -x "$BERT_TOOLS/node_modules/.bin/wasm-opt" ]; then
  mkdir -p "$BERT_TOOLS"
  npm install --prefix "$BERT_TOOLS" --no-audit --no-fund "binaryen@$BINARYEN_VERSION"
fi
export PATH="$BERT_TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"
