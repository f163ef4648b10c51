#!/usr/bin/env bash
# A runtime whose script holds what YAML and templates like to mangle.
set -eu
echo "model=${MODEL_NAME:-none} args=$*"
exec python3 -m http.server 8080
