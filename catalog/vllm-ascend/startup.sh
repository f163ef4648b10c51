# shellcheck shell=bash
# vLLM-ascend on Huawei Ascend NPUs: load the CANN toolkit environment, then
# serve the model through the OpenAI-compatible API on 8080 under the
# InferenceService's name. InferenceService args are passed to the server.
# resolve_model_path comes from catalog/lib/scripts/vllm-model-path.sh.
set -eu

resolve_model_path

if [ -f /usr/local/Ascend/ascend-toolkit/set_env.sh ]; then
  # The toolkit's script reads unset variables; it is not ours to fix.
  set +u
  # shellcheck disable=SC1091
  source /usr/local/Ascend/ascend-toolkit/set_env.sh
  set -u
else
  echo "ascend-toolkit package is incomplete, please check the image."
  exit 1
fi

exec python3 -m vllm.entrypoints.openai.api_server \
  --port 8080 \
  --served-model-name "{{.Name}}" "{{.Namespace}}/{{.Name}}" \
  --model "${MODEL_PATH}" \
  --gpu-memory-utilization "${GPU_MEMORY_UTILIZATION}" \
  "$@"
