#!/usr/bin/env bash
# MindIE on KServe (Huawei Ascend): write the service's config.json from flags
# and environment, then start mindieservice_daemon.
#
# Defaults come from the InferenceService through the environment:
#   MODEL_NAME  model name served (the aml-model-repo annotation)
#   MODEL_PATH  model directory; /mnt/models when the per-model folder is absent
#   MY_POD_IP   the pod IP: MindIE binds its business API to one address, and
#               the kubelet's probe and the Service reach it only on the pod IP
# InferenceService args override them, with the flags of Huawei's run_mindie.sh:
#   --model-name --model-path --ip --port --management-ip --management-port
#   --metrics-port --max-seq-len --max-iter-times --max-input-token-len
#   --max-prefill-tokens --truncation --template-type --max-preempt-count
#   --support-select-batch --npu-mem-size --max-prefill-batch-size
#   --world-size (ignored: every visible NPU is used) --ms-sched-host --ms-sched-port
#
# No less-than sign anywhere in this file: the platform's placeholder substitution has
# mangled it before (the vendor's example worked around it with __LT__).
set -eu

MIES_INSTALL_PATH=/usr/local/Ascend/mindie/latest/mindie-service
CONFIG_FILE="${MIES_INSTALL_PATH}/conf/config.json"

MODEL_NAME="${MODEL_NAME:-}"
MODEL_WEIGHT_PATH="${MODEL_PATH:-}"
IP_ADDRESS="${MY_POD_IP:-127.0.0.1}"
BACKEND_TYPE="atb"
MAX_SEQ_LEN=2560
MAX_PREFILL_TOKENS=8192
MAX_ITER_TIMES=512
MAX_INPUT_TOKEN_LEN=2048
TRUNCATION=false
HTTPS_ENABLED=false
MULTI_NODES_INFER_ENABLED=false
NPU_MEM_SIZE=8
MAX_PREFILL_BATCH_SIZE=50
TEMPLATE_TYPE="Standard"
MAX_PREEMPT_COUNT=0
SUPPORT_SELECT_BATCH=false
# The business API listens on 8080, the port KServe and the probes use.
PORT=8080
# Management and metrics stay on a loopback address: the kubelet cannot reach
# them there, which is why the startup probe uses the business port.
MANAGEMENT_IP_ADDRESS="127.0.0.2"
MANAGEMENT_PORT=1026
METRICS_PORT=1027

while [ "$#" -gt 0 ]; do
  case "$1" in
    --model-path) MODEL_WEIGHT_PATH="$2"; shift ;;
    --model-name) MODEL_NAME="$2"; shift ;;
    --max-seq-len) MAX_SEQ_LEN="$2"; shift ;;
    --max-iter-times) MAX_ITER_TIMES="$2"; shift ;;
    --max-input-token-len) MAX_INPUT_TOKEN_LEN="$2"; shift ;;
    --max-prefill-tokens) MAX_PREFILL_TOKENS="$2"; shift ;;
    --truncation) TRUNCATION="$2"; shift ;;
    --world-size) shift ;;
    --template-type) TEMPLATE_TYPE="$2"; shift ;;
    --max-preempt-count) MAX_PREEMPT_COUNT="$2"; shift ;;
    --support-select-batch) SUPPORT_SELECT_BATCH="$2"; shift ;;
    --npu-mem-size) NPU_MEM_SIZE="$2"; shift ;;
    --max-prefill-batch-size) MAX_PREFILL_BATCH_SIZE="$2"; shift ;;
    --ip) IP_ADDRESS="$2"; shift ;;
    --port) PORT="$2"; shift ;;
    --management-ip) MANAGEMENT_IP_ADDRESS="$2"; shift ;;
    --management-port) MANAGEMENT_PORT="$2"; shift ;;
    --metrics-port) METRICS_PORT="$2"; shift ;;
    --ms-sched-host) export ENV_MS_SCHED_HOST="$2"; shift ;;
    --ms-sched-port) export ENV_MS_SCHED_PORT="$2"; shift ;;
    *)
      echo "Unknown parameter: $1" >&2
      exit 1
      ;;
  esac
  shift
done

# a. the git-lfs storage initializer puts the model in /mnt/models/MODEL_NAME
# b. the Hugging Face storage initializer puts it in /mnt/models
if [ ! -d "${MODEL_WEIGHT_PATH}" ]; then
  echo "[WARNING] Model directory ${MODEL_WEIGHT_PATH} not found, using /mnt/models instead"
  MODEL_WEIGHT_PATH=/mnt/models
fi
if [ -z "${MODEL_NAME}" ]; then
  MODEL_NAME=$(basename "${MODEL_WEIGHT_PATH}")
fi
echo "MODEL_NAME is set to: ${MODEL_NAME}"

ip_pattern='^([0-9]{1,3}\.){3}[0-9]{1,3}$'
if [[ ! "${IP_ADDRESS}" =~ ${ip_pattern} ]] || [[ ! "${MANAGEMENT_IP_ADDRESS}" =~ ${ip_pattern} ]]; then
  echo "Error: IP_ADDRESS and MANAGEMENT_IP_ADDRESS must be IPv4 addresses: ${IP_ADDRESS}, ${MANAGEMENT_IP_ADDRESS}" >&2
  exit 1
fi
for port in "${PORT}" "${MANAGEMENT_PORT}"; do
  if [[ ! "${port}" =~ ^[0-9]+$ ]] || [ "${port}" -lt 1025 ] || [ "${port}" -gt 65535 ]; then
    echo "Error: PORT and MANAGEMENT_PORT must be integers between 1025 and 65535: ${PORT}, ${MANAGEMENT_PORT}" >&2
    exit 1
  fi
done
if [ "${MAX_PREFILL_TOKENS}" -lt "${MAX_SEQ_LEN}" ]; then
  echo "MAX_PREFILL_TOKENS was less than MAX_SEQ_LEN. Setting MAX_PREFILL_TOKENS to ${MAX_SEQ_LEN}"
  MAX_PREFILL_TOKENS="${MAX_SEQ_LEN}"
fi

# MindIE checks the permissions of the model's config.json (Huawei's script
# sets 600), so the model volume must be writable
# (storage.kserve.io/readonly: "false" on the InferenceService).
if [ ! -f "${MODEL_WEIGHT_PATH}/config.json" ]; then
  echo "Error: config.json file not found in ${MODEL_WEIGHT_PATH}." >&2
  exit 1
fi
chmod -R 755 "${MODEL_WEIGHT_PATH}"
chmod 600 "${MODEL_WEIGHT_PATH}/config.json"

total_count=$(npu-smi info -l | grep "Total Count" | awk -F ':' '{print $2}' | xargs)
if [ -z "${total_count}" ]; then
  echo "Error: Unable to retrieve device info. Check that npu-smi works for this user and the device is not in use." >&2
  exit 1
fi
echo "${total_count} device(s) detected!"
WORLD_SIZE="${total_count}"

# The toolkit's scripts read unset variables; they are not ours to fix.
set +u
for env_script in /usr/local/Ascend/ascend-toolkit/set_env.sh /usr/local/Ascend/mindie/set_env.sh; do
  if [ ! -f "${env_script}" ]; then
    echo "${env_script} is missing: the image is incomplete." >&2
    exit 1
  fi
  # shellcheck disable=SC1090
  source "${env_script}"
done
set -u

# Set each field wherever it occurs in config.json, as Huawei's script did
# with one sed per field, but through a JSON parser so quoting and nesting
# cannot break the file.
chmod u+w "${MIES_INSTALL_PATH}/conf/"
export BACKEND_TYPE MODEL_NAME MODEL_WEIGHT_PATH MAX_SEQ_LEN MAX_PREFILL_TOKENS MAX_ITER_TIMES \
  MAX_INPUT_TOKEN_LEN TRUNCATION WORLD_SIZE HTTPS_ENABLED TEMPLATE_TYPE MAX_PREEMPT_COUNT \
  SUPPORT_SELECT_BATCH MULTI_NODES_INFER_ENABLED MAX_PREFILL_BATCH_SIZE IP_ADDRESS PORT \
  MANAGEMENT_IP_ADDRESS MANAGEMENT_PORT METRICS_PORT NPU_MEM_SIZE
python3 -c '
import json
import os
import sys

env = os.environ
world_size = int(env["WORLD_SIZE"])
fields = {
    "backendType": env["BACKEND_TYPE"],
    "modelName": env["MODEL_NAME"],
    "modelWeightPath": env["MODEL_WEIGHT_PATH"],
    "maxSeqLen": int(env["MAX_SEQ_LEN"]),
    "maxPrefillTokens": int(env["MAX_PREFILL_TOKENS"]),
    "maxIterTimes": int(env["MAX_ITER_TIMES"]),
    "maxInputTokenLen": int(env["MAX_INPUT_TOKEN_LEN"]),
    "truncation": env["TRUNCATION"] == "true",
    "npuDeviceIds": [list(range(world_size))],
    "worldSize": world_size,
    "httpsEnabled": env["HTTPS_ENABLED"] == "true",
    "templateType": env["TEMPLATE_TYPE"],
    "maxPreemptCount": int(env["MAX_PREEMPT_COUNT"]),
    "supportSelectBatch": env["SUPPORT_SELECT_BATCH"] == "true",
    "multiNodesInferEnabled": env["MULTI_NODES_INFER_ENABLED"] == "true",
    "maxPrefillBatchSize": int(env["MAX_PREFILL_BATCH_SIZE"]),
    "ipAddress": env["IP_ADDRESS"],
    "port": int(env["PORT"]),
    "managementIpAddress": env["MANAGEMENT_IP_ADDRESS"],
    "managementPort": int(env["MANAGEMENT_PORT"]),
    "metricsPort": int(env["METRICS_PORT"]),
    "npuMemSize": int(env["NPU_MEM_SIZE"]),
}


def update(node):
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = fields[key] if key in fields else update(value)
    elif isinstance(node, list):
        return [update(item) for item in node]
    return node


path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    config = update(json.load(f))
with open(path, "w", encoding="utf-8") as f:
    json.dump(config, f, indent=4)
' "${CONFIG_FILE}"

echo "Current configuration:"
cat "${CONFIG_FILE}"
npu-smi info -m > ~/device_info

exec "${MIES_INSTALL_PATH}/bin/mindieservice_daemon"
