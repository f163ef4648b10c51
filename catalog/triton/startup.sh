#!/usr/bin/env bash
# NVIDIA Triton on KServe: serve the model repository KServe mounted at
# /mnt/models over HTTP on 8080. InferenceService args are passed to tritonserver.
set -eu

exec tritonserver --log-verbose=1 --http-port=8080 --model-repository=/mnt/models "$@"
