#!/usr/bin/env bash
# Seldon MLServer on KServe: pick the MLServer runtime class from the model's
# pipeline tag, find the model directory, and start the server on it.
# InferenceService args are passed to `mlserver start`.
set -eu

if [ "${MODEL_TYPE}" = "text-to-image" ]; then
  MODEL_IMPL="mlserver_diffusers.StableDiffusionRuntime"
else
  MODEL_IMPL="mlserver_huggingface.HuggingFaceRuntime"
fi

# a. the git-lfs storage initializer puts the model in /mnt/models/<model_name>
# b. the Hugging Face storage initializer puts it in /mnt/models
MODEL_DIR="${MLSERVER_MODEL_URI}/${MLSERVER_MODEL_NAME}"
if [ ! -d "${MODEL_DIR}" ]; then
  echo "[WARNING] Model directory ${MODEL_DIR} not found, using ${MLSERVER_MODEL_URI} instead"
  MODEL_DIR="${MLSERVER_MODEL_URI}"
fi

export MLSERVER_MODEL_IMPLEMENTATION="${MODEL_IMPL}"
export MLSERVER_MODEL_EXTRA="{\"task\":\"${MODEL_TYPE}\",\"pretrained_model\":\"${MODEL_DIR}\"}"

exec mlserver start "${MLSERVER_MODEL_URI}" "$@"
