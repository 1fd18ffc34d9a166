#!/usr/bin/env bash
# Installs what is missing (first run: ~15 min of compiling), builds the app in release
# and serves it at http://127.0.0.1:8080 (extra arguments go to `trunk serve`).
#   scripts/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup-web.sh
exec trunk serve "$@"
