"""The catalog's start-up scripts: shellcheck-clean, and MindIE's config writer does what sed did."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = sorted((REPO / "catalog").rglob("*.sh"))
SHELLCHECK = Path(sys.executable).with_name("shellcheck")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_script_is_shellcheck_clean(script: Path) -> None:
    proc = subprocess.run(
        [str(SHELLCHECK), "--shell=bash", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout


def test_no_template_braces_or_less_than_in_mindie_script() -> None:
    text = (REPO / "catalog/mindie/startup.sh").read_text()
    assert "<" not in text
    assert "{{" not in text


def mindie_config_writer() -> str:
    text = (REPO / "catalog/mindie/startup.sh").read_text()
    match = re.search(r"python3 -c '\n(.*?)\n' \"\$\{CONFIG_FILE\}\"", text, re.S)
    assert match, "the config writer is no longer a python3 -c block"
    return match.group(1)


def test_mindie_config_writer_sets_every_field_wherever_it_occurs(tmp_path: Path) -> None:
    config = {
        "ServerConfig": {"ipAddress": "127.0.0.1", "port": 1025, "managementPort": 1026, "httpsEnabled": True},
        "BackendConfig": {
            "npuDeviceIds": [[0, 1, 2, 3]],
            "multiNodesInferEnabled": True,
            "ModelDeployConfig": {
                "maxSeqLen": 1,
                "truncation": True,
                "ModelConfig": [{"modelName": "old", "worldSize": 4, "backendType": "x", "modelWeightPath": "/a"}],
            },
            "ScheduleConfig": {"templateType": "Mix", "maxPrefillTokens": 1, "untouched": "keep"},
        },
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    env = {
        **os.environ,
        "BACKEND_TYPE": "atb",
        "MODEL_NAME": "qwen",
        "MODEL_WEIGHT_PATH": "/mnt/models",
        "MAX_SEQ_LEN": "2560",
        "MAX_PREFILL_TOKENS": "8192",
        "MAX_ITER_TIMES": "512",
        "MAX_INPUT_TOKEN_LEN": "2048",
        "TRUNCATION": "false",
        "WORLD_SIZE": "2",
        "HTTPS_ENABLED": "false",
        "TEMPLATE_TYPE": "Standard",
        "MAX_PREEMPT_COUNT": "0",
        "SUPPORT_SELECT_BATCH": "false",
        "MULTI_NODES_INFER_ENABLED": "false",
        "MAX_PREFILL_BATCH_SIZE": "50",
        "IP_ADDRESS": "10.0.0.5",
        "PORT": "8080",
        "MANAGEMENT_IP_ADDRESS": "127.0.0.2",
        "MANAGEMENT_PORT": "1026",
        "METRICS_PORT": "1027",
        "NPU_MEM_SIZE": "8",
    }
    subprocess.run([sys.executable, "-c", mindie_config_writer(), str(path)], env=env, check=True)
    result = json.loads(path.read_text())
    assert result["ServerConfig"] == {
        "ipAddress": "10.0.0.5",
        "port": 8080,
        "managementPort": 1026,
        "httpsEnabled": False,
    }
    backend = result["BackendConfig"]
    assert backend["npuDeviceIds"] == [[0, 1]]
    assert backend["multiNodesInferEnabled"] is False
    assert backend["ModelDeployConfig"]["ModelConfig"] == [
        {"modelName": "qwen", "worldSize": 2, "backendType": "atb", "modelWeightPath": "/mnt/models"}
    ]
    assert backend["ModelDeployConfig"]["maxSeqLen"] == 2560
    assert backend["ScheduleConfig"] == {"templateType": "Standard", "maxPrefillTokens": 8192, "untouched": "keep"}
