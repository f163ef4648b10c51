#!/usr/bin/env bash
# Xinference on KServe: start the local supervisor, wait for its API, launch
# the model into it, then wait on the server so the container lives as long
# as the server does. InferenceService args are passed to `xinference launch`.
set -u

# a. the git-lfs storage initializer puts the model in /mnt/models/<model_name>
# b. the Hugging Face storage initializer puts it in /mnt/models
if [ ! -d "${MODEL_PATH}" ]; then
  echo "[WARNING] Model directory ${MODEL_PATH} not found, using /mnt/models instead"
  MODEL_PATH=/mnt/models
fi

for var in MODEL_PATH MODEL_ENGINE MODEL_UID MODEL_FAMILY; do
  if [ -z "${!var:-}" ]; then
    echo "Need to set ${var}!" >&2
    exit 1
  fi
done

xinference-local --host 0.0.0.0 --port 8080 &
server_pid=$!

until curl -fsS -o /dev/null http://127.0.0.1:8080/docs; do
  if ! kill -0 "${server_pid}" 2>/dev/null; then
    echo "xinference-local exited before it became ready" >&2
    exit 1
  fi
  echo "waiting for xinference-local to become ready..."
  sleep 1
done

set -e
xinference launch --model_path "${MODEL_PATH}" --model-engine "${MODEL_ENGINE}" \
  -u "${MODEL_UID}" -n "${MODEL_FAMILY}" -e http://127.0.0.1:8080 "$@"
xinference list -e http://127.0.0.1:8080
echo "model load succeeded, waiting for server process ${server_pid}..."
wait "${server_pid}"
