# shellcheck shell=bash
# vLLM on NVIDIA GPUs: serve the model through the OpenAI-compatible API on
# 8080 under the InferenceService's name. InferenceService args are passed to
# the server. resolve_model_path comes from catalog/lib/scripts/vllm-model-path.sh.
set -eu

resolve_model_path

exec python3 -m vllm.entrypoints.openai.api_server \
  --port 8080 \
  --served-model-name "{{.Name}}" "{{.Namespace}}/{{.Name}}" \
  --model "${MODEL_PATH}" \
  --gpu-memory-utilization "${GPU_MEMORY_UTILIZATION}" \
  "$@"
