#!/usr/bin/env bash
# Shared by the vLLM runtimes (prepended to their startup scripts): find the
# model KServe's storage initializer downloaded and set MODEL_PATH to it.
#   a. the git-lfs storage initializer puts the model in /mnt/models/<model_name>
#   b. the Hugging Face storage initializer puts it in /mnt/models
# vLLM loads a GGUF model only as a single file, so a directory holding exactly
# one .gguf file is served from that file, and one holding several is refused.

resolve_model_path() {
  local model_dir="/mnt/models/${MODEL_NAME}"
  if [ ! -d "${model_dir}" ]; then
    echo "[WARNING] Model directory ${model_dir} not found, using /mnt/models instead"
    model_dir="/mnt/models"
  fi

  local gguf_count
  gguf_count=$(find "${model_dir}" -maxdepth 1 -type f -name '*.gguf' | wc -l)
  echo "found ${gguf_count} gguf files"
  if [ "${gguf_count}" -gt 1 ]; then
    echo "[ERROR] More than one gguf file found in ${model_dir}"
    echo "vLLM only loads single-file GGUF models; merge a multi-file GGUF model with gguf-split first."
    exit 1
  elif [ "${gguf_count}" -eq 1 ]; then
    MODEL_PATH=$(find "${model_dir}" -maxdepth 1 -type f -name '*.gguf' -print)
    echo "[INFO] Using GGUF model file: ${MODEL_PATH}"
  else
    echo "[INFO] Using standard model directory"
    MODEL_PATH="${model_dir}"
  fi
}
