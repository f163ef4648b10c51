#!/usr/bin/env python3
"""Regenerate compiler/schemas/kubernetes/<version>/ from the kubernetes-validate wheel.

kubernetes-validate (PyPI, Apache-2.0) ships the Kubernetes OpenAPI as JSON Schema
(draft 2020-12, "local-strict": unknown fields rejected). rtc vendors a small
subset: the built-in kinds a catalog repository may hold next to its runtimes,
each made standalone (only the definitions it needs, descriptions dropped).

    pip download --no-deps -d /tmp/kv kubernetes-validate==1.37.0
    unzip -q /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl -d /tmp/kv
    python scripts/vendor_kubernetes_schemas.py \
        /tmp/kv/kubernetes_validate/kubernetes-json-schema/v1.33.0-local-strict v1.33.0

The output is committed; rtc never needs kubernetes-validate at run time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Kinds a catalog repository may plausibly hold, and their scope (the schemas do not say).
KINDS: dict[str, bool] = {
    # file stem: namespaced?
    "namespace-v1": False,
    "configmap-v1": True,
    "secret-v1": True,
    "serviceaccount-v1": True,
    "service-v1": True,
    "pod-v1": True,
    "persistentvolumeclaim-v1": True,
    "limitrange-v1": True,
    "resourcequota-v1": True,
    "deployment-apps-v1": True,
    "statefulset-apps-v1": True,
    "daemonset-apps-v1": True,
    "job-batch-v1": True,
    "cronjob-batch-v1": True,
    "role-rbac-v1": True,
    "rolebinding-rbac-v1": True,
    "clusterrole-rbac-v1": False,
    "clusterrolebinding-rbac-v1": False,
    "networkpolicy-networking-v1": True,
    "ingress-networking-v1": True,
    "poddisruptionbudget-policy-v1": True,
    "priorityclass-scheduling-v1": False,
    "horizontalpodautoscaler-autoscaling-v2": True,
    "runtimeclass-node-v1": False,
    "customresourcedefinition-apiextensions-v1": False,
}

# The API server parses quantities with this grammar (k8s.io/apimachinery resource.Quantity);
# the upstream JSON Schema only says "string or number". Same pattern as the CRDs carry.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# Keywords whose value maps names to schemas (a "description" key there is a field, not a doc string).
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def strip(schema: Any) -> Any:
    """Drop documentation keywords and rewrite references to the local $defs."""
    if isinstance(schema, list):
        return [strip(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("description", "$id", "x-kubernetes-group-version-kind", "x-kubernetes-patch-strategy"):
            continue
        if key == "x-kubernetes-patch-merge-key":
            continue
        if key == "$ref" and isinstance(value, str):
            result[key] = "#/$defs/" + value.rsplit("/", 1)[-1]
        elif key in _SCHEMA_MAPS:
            result[key] = {name: strip(sub) for name, sub in value.items()}
        else:
            result[key] = strip(value)
    return result


def references(schema: Any, found: set[str]) -> None:
    if isinstance(schema, list):
        for item in schema:
            references(item, found)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[-1])
            elif key in _SCHEMA_MAPS:
                for sub in value.values():
                    references(sub, found)
            else:
                references(value, found)


def closure(root: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    needed: set[str] = set()
    references(root, needed)
    done: set[str] = set()
    while needed - done:
        name = sorted(needed - done)[0]
        done.add(name)
        references(definitions[name], needed)
    return {name: definitions[name] for name in sorted(done)}


def main(source: Path, version: str) -> None:
    dest = Path(__file__).resolve().parent.parent / "compiler" / "schemas" / "kubernetes" / version
    dest.mkdir(parents=True, exist_ok=True)
    definitions = json.loads((source / "_definitions.json").read_text())["$defs"]
    definitions[QUANTITY] = {
        "anyOf": [{"type": ["number", "null"]}, {"type": "string", "pattern": QUANTITY_PATTERN}],
        "x-kubernetes-int-or-string": True,
    }
    index = []
    for stem, namespaced in KINDS.items():
        document = json.loads((source / f"{stem}.json").read_text())
        gvk = document["x-kubernetes-group-version-kind"][0]
        api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
        body = {k: v for k, v in document.items() if k not in ("$schema", "$id")}
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **strip(body)}
        schema["$defs"] = {name: strip(d) for name, d in closure(body, definitions).items()}
        (dest / f"{stem}.json").write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
        index.append({"apiVersion": api_version, "kind": gvk["kind"], "namespaced": namespaced, "file": f"{stem}.json"})
    (dest / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {len(index)} schemas to {dest}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), sys.argv[2])
