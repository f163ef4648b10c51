"""The real GitOps tools the tests drive: kustomize, kubeconform, Flux's substitution.

`make tools` installs them into .tools/bin (pinned versions); a missing tool
fails the test with that instruction, never skips it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

TOOLS_BIN = REPO / ".tools" / "bin"
CRD_DIR = REPO / "tests" / "fixtures" / "crds"
# kubeconform fills this template per object; {{.ResourceKind}} is the lower-case kind.
SCHEMA_LAYOUT = "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json"


def tool(name: str) -> str:
    for candidate in (TOOLS_BIN / name, shutil.which(name)):
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    raise AssertionError(f"{name} is not installed: run `make tools` (it installs into .tools/bin)")


def kustomize_build(folder: Path) -> str:
    proc = subprocess.run([tool("kustomize"), "build", str(folder)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"kustomize build {folder} failed:\n{proc.stderr}"
    return proc.stdout


def documents(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.load_all(text, Loader=yaml.CSafeLoader) if doc is not None]


def object_key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    metadata = obj.get("metadata", {})
    return (obj["apiVersion"], obj["kind"], metadata.get("namespace", ""), metadata["name"])


def _strict(schema: Any) -> Any:
    """Like kubeconform's -strict schemas: objects with declared properties allow no others."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _strict(value) for key, value in schema.items()}
    if (
        "properties" in result
        and "additionalProperties" not in result
        and not result.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


def crd_schemas(dest: Path) -> Path:
    """Every CRD in tests/fixtures/crds as strict JSON Schemas in kubeconform's layout."""
    for path in sorted(CRD_DIR.glob("*.yaml")):
        crd = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        group = crd["spec"]["group"]
        kind = crd["spec"]["names"]["kind"].lower()
        for version in crd["spec"]["versions"]:
            schema = _strict(version["schema"]["openAPIV3Schema"])
            target = dest / group / f"{kind}_{version['name']}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(schema), encoding="utf-8")
    return dest


def kubeconform(schemas: Path, manifests: str) -> subprocess.CompletedProcess[str]:
    """Validate a YAML stream strictly, against `schemas` only (no download, no skipping)."""
    return subprocess.run(
        [
            tool("kubeconform"),
            "-strict",
            "-summary",
            "-output",
            "text",
            "-schema-location",
            f"{schemas}/{SCHEMA_LAYOUT}",
            "-",
        ],
        input=manifests,
        capture_output=True,
        text=True,
        check=False,
    )


def flux_substitute(kustomization: dict[str, Any], manifests: str, workdir: Path) -> str:
    """Flux's own post-build substitution (fluxcd/pkg/kustomize) over a YAML stream."""
    spec = workdir / "flux-kustomization.yaml"
    spec.write_text(yaml.safe_dump(kustomization), encoding="utf-8")
    proc = subprocess.run(
        [tool("flux-substitute"), str(spec)], input=manifests, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"flux-substitute failed:\n{proc.stderr}"
    return proc.stdout
